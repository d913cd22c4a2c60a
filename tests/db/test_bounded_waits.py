"""Bounded waits: an API request cannot wait on the database forever, and the bounds meant
for API requests do not reach the workers' connections (a long task has its own timeout).

- PostgreSQL bounds the request pool's work (`statement_timeout`,
  `idle_in_transaction_session_timeout`, set when a connection opens);
- the request timeout stops an API request that waits on anything for too long (a database
  behind a black hole is in tests/chaos/test_primitives.py, through the real fault proxy).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest
import sqlalchemy.exc
from fastapi import APIRouter, FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from studypath.config import Settings
from studypath.core.db import Database, DbSession, server_bounds
from studypath.testing.server import client_for, running_system


async def show(engine: AsyncEngine, name: str) -> str:
    async with engine.connect() as conn:
        return str((await conn.execute(text(f"SHOW {name}"))).scalar_one())


@pytest.fixture
async def bounded(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url, pool_size=1, statement_timeout=0.2, idle_in_transaction_timeout=2)
    yield db
    await db.dispose()


async def test_request_connections_carry_the_bounds_and_the_others_do_not(
    bounded: Database,
) -> None:
    assert await show(bounded.request_engine, "statement_timeout") == "200ms"
    assert await show(bounded.request_engine, "idle_in_transaction_session_timeout") == "2s"
    for engine in (bounded.engine, bounded.health_engine):  # workers, jobs, tools; probes
        assert await show(engine, "statement_timeout") == "0"
        assert await show(engine, "idle_in_transaction_session_timeout") == "0"


async def test_a_long_statement_is_cancelled_on_a_request_connection_only(
    bounded: Database,
) -> None:
    with pytest.raises(sqlalchemy.exc.OperationalError) as cancelled:
        async with bounded.request_engine.connect() as conn:
            await conn.execute(text("SELECT pg_sleep(5)"))
    assert isinstance(cancelled.value.orig, psycopg.errors.QueryCanceled)
    async with bounded.engine.connect() as conn:  # a worker's statement may run longer
        await conn.execute(text("SELECT pg_sleep(0.5)"))


async def test_without_bounds_requests_share_the_one_pool(database_url: str) -> None:
    db = Database(database_url, pool_size=1)
    try:
        assert db.request_engine is db.engine
    finally:
        await db.dispose()


def test_server_bounds_are_libpq_options_in_milliseconds() -> None:
    assert server_bounds(20, 60) == (
        "-c statement_timeout=20000 -c idle_in_transaction_session_timeout=60000"
    )
    assert server_bounds(0, 1.5) == "-c idle_in_transaction_session_timeout=1500"
    assert server_bounds(0, 0) == ""


async def test_the_urls_own_options_are_kept(database_url: str) -> None:
    separator = "&" if "?" in database_url else "?"
    url = f"{database_url}{separator}options=-c%20work_mem%3D8MB"
    db = Database(url, pool_size=1, statement_timeout=3)
    try:
        assert await show(db.request_engine, "work_mem") == "8MB"
        assert await show(db.request_engine, "statement_timeout") == "3s"
    finally:
        await db.dispose()


UNWIND_SECONDS = 30.0  # longer than the client waits (CLIENT_TIMEOUT)
CLIENT_TIMEOUT = 15.0


def add_slow_routes(app: FastAPI) -> None:
    """Routes that wait too long: in the database, and outside it."""
    router = APIRouter(prefix="/api/v1/probe")

    @router.get("/slow-sql")
    async def slow_sql(session: DbSession) -> None:
        await session.execute(text("SELECT pg_sleep(30)"))

    @router.get("/hang")
    async def hang() -> None:
        await asyncio.sleep(3600)

    @router.get("/slow-to-stop")
    async def slow_to_stop() -> dict[str, str]:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:  # as a driver cancelling its query over a dead network
            await asyncio.sleep(UNWIND_SECONDS)
        return {"sent": "after the deadline"}  # never reaches the client

    app.include_router(router)


@pytest.fixture
async def slow_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    bounded = settings.model_copy(
        update={"db_statement_timeout_seconds": 0.2, "request_timeout_seconds": 1.0}
    )
    async with running_system(bounded, app_hooks=[add_slow_routes]) as system:
        async with client_for(system) as client:
            client.timeout = httpx.Timeout(CLIENT_TIMEOUT)  # the failure mode: it hangs
            yield client


async def test_a_request_whose_statement_runs_too_long_answers_503(
    slow_client: httpx.AsyncClient,
) -> None:
    response = await slow_client.get("/api/v1/probe/slow-sql")
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"


async def test_a_request_past_the_request_timeout_answers_503(
    slow_client: httpx.AsyncClient,
) -> None:
    response = await slow_client.get("/api/v1/probe/hang")
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert "did not finish within 1 s" in error["message"]
    assert response.headers["retry-after"] == "1"
    assert response.headers["x-request-id"]
    assert (await slow_client.get("/api/v1/health/live")).status_code == 200  # serving on


async def test_the_answer_does_not_wait_for_the_handler_to_stop(
    slow_client: httpx.AsyncClient,
) -> None:
    """The 503 goes out at the deadline; the cancelled handler unwinds on its own, and what
    it returns afterwards is not sent (the client would time out waiting otherwise)."""
    response = await slow_client.get("/api/v1/probe/slow-to-stop")
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
