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
from studypath.core.state import state_of
from studypath.health.service import REFRESH_AFTER_SECONDS, CachedDatabaseCheck
from studypath.migrations import head_revision
from studypath.system import System
from studypath.testing.database import TestPostgres
from studypath.testing.server import app_of
from tests.support.health import health_views_with_one_worker


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
    views = await health_views_with_one_worker(settings, session)
    data, full = views.anonymous.json()["data"], views.admin.json()["data"]
    assert data["status"] == "healthy"
    assert data["checks"]["worker"]["details"] == {"live_workers": 1}
    assert full["checks"]["worker"]["details"]["workers"][0]["id"] == views.system.workers[0].id


async def status_within_staleness(
    client: httpx.AsyncClient, path: str, status: int
) -> httpx.Response:
    """The first answer with `status`, polling for as long as the cached database check may
    stay stale (its refresh interval plus one check)."""

    async def answer_with_status() -> httpx.Response | None:
        response = await client.get(path)
        return response if response.status_code == status else None

    return await poll_until_async(
        answer_with_status, within=REFRESH_AFTER_SECONDS + 10.0, what=f"{path} to answer {status}"
    )


def database_check(system: System) -> CachedDatabaseCheck:
    """The app's cached database check (made by its first health request)."""
    cached = state_of(app_of(system)).database_check
    assert cached is not None
    return cached


class DatabaseSwitch:
    """Makes one database refuse new connections and ends the open ones (`off`), then lets
    them in again (`on`): the database goes away under a running app."""

    def __init__(self, postgres: TestPostgres, name: str) -> None:
        self.postgres, self.name = postgres, name

    def off(self) -> None:
        self.postgres.execute(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS false')
        self.postgres.execute(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.name}'"
        )

    def on(self) -> None:
        self.postgres.execute(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS true')


@pytest.fixture
async def cut_off(postgres: TestPostgres, database_url: str) -> AsyncIterator[DatabaseSwitch]:
    """The switch for this test's database, switched on again after the test."""
    name = make_url(database_url).database
    assert name is not None
    switch = DatabaseSwitch(postgres, name)
    yield switch
    switch.on()


async def healthy_check_then_cut_off(
    system: System, client: httpx.AsyncClient, cut_off: DatabaseSwitch
) -> CachedDatabaseCheck:
    """A readiness probe caches a healthy database check, then the database goes away: the
    cached check, for the test to age."""
    assert (await client.get("/api/v1/health/ready")).status_code == 200
    cut_off.off()
    return database_check(system)


async def test_readiness_is_answered_from_the_cached_check(
    system: System, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/api/v1/health/ready")).status_code == 200
    cached = database_check(system)
    cached.refresh_after = 3600.0  # nothing is old enough to refresh during this test
    checked_at = cached.checked_at

    answers = [(await client.get(path)).status_code for path in ["/api/v1/health/ready"] * 5]
    answers.append((await client.get("/api/v1/health")).status_code)

    assert answers == [200] * 6
    assert cached.checked_at == checked_at, "no probe pinged the database again"


async def test_readiness_refreshes_in_the_background_and_turns_503(
    system: System, client: httpx.AsyncClient, cut_off: DatabaseSwitch
) -> None:
    cached = await healthy_check_then_cut_off(system, client, cut_off)
    cached.refresh_after = 0.0  # every probe finds the check old: one refresh runs behind it

    response = await status_within_staleness(client, "/api/v1/health/ready", 503)

    assert response.status_code == 503
    assert cached.check is not None and cached.check.status == "unhealthy"


async def test_a_check_older_than_max_stale_is_not_trusted(
    system: System, client: httpx.AsyncClient, cut_off: DatabaseSwitch
) -> None:
    cached = await healthy_check_then_cut_off(system, client, cut_off)
    cached.checked_at -= cached.max_stale + 1  # nobody asked for longer than the bound

    response = await client.get("/api/v1/health/ready")

    assert response.status_code == 503, "the first probe after the bound checks again"


@pytest.mark.parametrize(
    "path",
    ["/api/v1/health", "/api/v1/health/ready", "/api/v1/health/startup", "/api/v1/health/detailed"],
)
async def test_database_down_answers_503_envelope(
    system: System, client: httpx.AsyncClient, cut_off: DatabaseSwitch, path: str
) -> None:
    assert (await client.get(path)).status_code in (200,)
    cut_off.off()

    response = await status_within_staleness(client, path, 503)

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "SERVICE_UNHEALTHY"
    assert "database" in error["details"]["checks"]
    assert error["details"]["checks"]["database"]["status"] == "unhealthy"


async def test_liveness_stays_up_when_database_is_down(
    client: httpx.AsyncClient, cut_off: DatabaseSwitch
) -> None:
    cut_off.off()
    assert (await client.get("/api/v1/health/live")).status_code == 200


async def test_health_recovers_when_database_returns(
    client: httpx.AsyncClient, cut_off: DatabaseSwitch
) -> None:
    cut_off.off()
    assert (await status_within_staleness(client, "/api/v1/health/ready", 503)).status_code == 503
    cut_off.on()

    async def ready() -> bool:
        return (await client.get("/api/v1/health/ready")).status_code == 200

    await poll_until_async(ready, within=5, what="readiness after the database came back")
