"""Both views of a running system's detailed health, for the tests that compare them."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.config import Settings
from studypath.identity.roles import Role
from studypath.system import System
from studypath.testing.factories import make_user, start_session
from studypath.testing.server import client_for, running_system


@dataclass(frozen=True)
class HealthViews:
    """What anyone reads at `/health/detailed` and what an admin reads at `/admin/health`,
    asked of the same system (kept for its workers' ids: it has stopped by now)."""

    system: System
    anonymous: httpx.Response
    admin: httpx.Response


async def health_views_with_one_worker(settings: Settings, session: AsyncSession) -> HealthViews:
    """Start a system with one live worker and ask it for its health both ways: a worker
    only counts as live while it runs, so the fixtures' worker-less app would not show one."""
    admin = await make_user(session, role=Role.ADMIN)
    token = await start_session(session, admin, settings)
    async with running_system(settings, workers=1) as system, client_for(system) as client:
        anonymous = await client.get("/api/v1/health/detailed")
        full = await client.get(
            "/api/v1/admin/health", headers={"Authorization": f"Bearer {token}"}
        )
    return HealthViews(system, anonymous, full)
