"""Health endpoints: shapes from API.md, 503 with the envelope when the database is gone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from studypath import __version__
from studypath.config import Settings
from studypath.core.clock import poll_until_async
from studypath.migrations import head_revision
from studypath.rbac.roles import Role
from studypath.system import System
from tests.factories import create_user, start_session
from tests.helpers import client_for, running_system
from tests.pg import TestPostgres


async def test_health_summary(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["message"] is None
    data = body["data"]
    assert data["status"] == "healthy"
    assert data["version"] == __version__
    assert data["uptime"] >= 0
    assert data["documentation"] == {
        "openapi_json": "/api-docs/openapi.json",
        "api_docs": "/api-docs",
    }


async def test_liveness(client: httpx.AsyncClient) -> None:
    data = (await client.get("/api/v1/health/live")).json()["data"]
    assert data["status"] == "alive" and data["probe"] == "liveness" and data["timestamp"]


async def test_readiness(client: httpx.AsyncClient) -> None:
    data = (await client.get("/api/v1/health/ready")).json()["data"]
    assert data["status"] == "ready" and data["probe"] == "readiness"
    assert data["checks"]["database"]["status"] == "healthy"


async def test_startup_checks_schema_revision(client: httpx.AsyncClient) -> None:
    data = (await client.get("/api/v1/health/startup")).json()["data"]
    assert data["status"] == "started" and data["probe"] == "startup"
    assert data["checks"]["schema"]["details"]["revision"] == head_revision()


async def test_detailed_without_worker_is_degraded_but_200(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/health/detailed")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "degraded"
    assert data["checks"]["database"]["status"] == "healthy"
    assert data["checks"]["database"]["details"]["latency_ms"] >= 0
    assert data["checks"]["worker"]["status"] == "degraded"


async def test_detailed_with_a_live_worker_is_healthy(
    settings: Settings, session: AsyncSession
) -> None:
    admin = await create_user(session, role=Role.ADMIN)
    token = await start_session(session, admin, settings)
    async with running_system(settings, workers=1) as system, client_for(system) as client:
        data = (await client.get("/api/v1/health/detailed")).json()["data"]
        full = (
            await client.get("/api/v1/admin/health", headers={"Authorization": f"Bearer {token}"})
        ).json()["data"]
    assert data["status"] == "healthy"
    assert data["checks"]["worker"]["details"] == {"live_workers": 1}
    assert full["checks"]["worker"]["details"]["workers"][0]["id"] == system.workers[0].id


@pytest.fixture
async def cut_off(postgres: TestPostgres, database_url: str) -> AsyncIterator[object]:
    """A switch that makes this test's database refuse connections, then restores it."""
    name = make_url(database_url).database

    class Switch:
        def off(self) -> None:
            postgres.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            postgres.execute(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            )

        def on(self) -> None:
            postgres.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')

    switch = Switch()
    yield switch
    switch.on()


@pytest.mark.parametrize(
    "path",
    ["/api/v1/health", "/api/v1/health/ready", "/api/v1/health/startup", "/api/v1/health/detailed"],
)
async def test_database_down_answers_503_envelope(
    system: System, client: httpx.AsyncClient, cut_off: object, path: str
) -> None:
    assert (await client.get(path)).status_code in (200,)
    cut_off.off()  # type: ignore[attr-defined]

    response = await client.get(path)

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "SERVICE_UNHEALTHY"
    assert "database" in error["details"]["checks"]
    assert error["details"]["checks"]["database"]["status"] == "unhealthy"


async def test_liveness_stays_up_when_database_is_down(
    client: httpx.AsyncClient, cut_off: object
) -> None:
    cut_off.off()  # type: ignore[attr-defined]
    assert (await client.get("/api/v1/health/live")).status_code == 200


async def test_health_recovers_when_database_returns(
    client: httpx.AsyncClient, cut_off: object
) -> None:
    cut_off.off()  # type: ignore[attr-defined]
    assert (await client.get("/api/v1/health/ready")).status_code == 503
    cut_off.on()  # type: ignore[attr-defined]

    async def ready() -> bool:
        return (await client.get("/api/v1/health/ready")).status_code == 200

    await poll_until_async(ready, within=5, what="readiness after the database came back")
