"""Every domain's router, mounted in one place (each already carries `/api/v1/...`)."""

from __future__ import annotations

from fastapi import APIRouter

from studypath.core.routing import API_PREFIX
from studypath.health.api import router as health_router

ROUTERS: list[APIRouter] = [health_router]

__all__ = ["API_PREFIX", "ROUTERS"]
