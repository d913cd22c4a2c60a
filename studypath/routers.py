"""Every domain's routers and periodic jobs, mounted in one place."""

from __future__ import annotations

from fastapi import APIRouter

from studypath.auth.api import keys_router
from studypath.auth.api import router as auth_router
from studypath.auth.jobs import PURGE_SESSIONS
from studypath.core.periodic import PeriodicJob
from studypath.core.routing import API_PREFIX
from studypath.health.api import admin_router as admin_health_router
from studypath.health.api import router as health_router
from studypath.monitoring.alerts import EVALUATE_ALERTS
from studypath.monitoring.api import router as monitoring_router
from studypath.monitoring.retention import RETENTION
from studypath.notes.api import router as notes_router
from studypath.notifications.api import router as notifications_router
from studypath.tasks.api import router as tasks_router
from studypath.users.api import admin_router as users_admin_router
from studypath.users.api import router as users_router

ROUTERS: list[APIRouter] = [
    health_router,
    auth_router,
    users_router,
    keys_router,
    tasks_router,
    monitoring_router,
    notes_router,
    notifications_router,
    users_admin_router,
    admin_health_router,
]

__all__ = ["API_PREFIX", "PERIODIC_JOBS", "ROUTERS"]

# Jobs every server process runs in the background (see core/periodic.py).
PERIODIC_JOBS: list[PeriodicJob] = [PURGE_SESSIONS, EVALUATE_ALERTS, RETENTION]
