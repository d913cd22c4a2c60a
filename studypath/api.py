"""The `/api/v1` router: every domain's routes, mounted in one place."""

from __future__ import annotations

from fastapi import APIRouter

from studypath.health.api import router as health_router

API_PREFIX = "/api/v1"


def build_api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    router.include_router(health_router)
    return router
