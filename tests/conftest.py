"""Fixtures: a PostgreSQL server per session, a cloned database per test, the real app.

async def test_something(client):          # httpx.AsyncClient on a running server
    response = await client.get("/api/v1/health")
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner, Result

from studypath.cli import app
from studypath.config import Settings
from studypath.core.db import Database
from studypath.core.logging import OWNED_LOGGERS, QUIET_LOGGERS, detach
from studypath.core.security import HashingParameters, configure_hashing
from studypath.system import System
from tests.support.helpers import client_for, running_system
from tests.support.pg import TestPostgres, external_server_url

# Captured before the per-test environment is cleaned.
EXTERNAL_DATABASE_URL = external_server_url()

# Real argon2id, cheap parameters: tests hash hundreds of passwords. (Production cost is
# measured in bench/auth.py.) Settings below use the same numbers, so no rehash happens.
TEST_HASHING: dict[str, Any] = {
    "password_hash_time_cost": 1,
    "password_hash_memory_kib": 1024,
    "password_hash_parallelism": 1,
}
configure_hashing(HashingParameters(time_cost=1, memory_kib=1024, parallelism=1))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see no STUDYPATH_* variables unless they set them: results must not depend on
    the shell that runs them."""
    for key in list(os.environ):
        if key.startswith("STUDYPATH_"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestPostgres]:
    server = TestPostgres(tmp_path_factory.mktemp("postgres"), EXTERNAL_DATABASE_URL)
    server.create_template()
    yield server
    server.close()


@pytest.fixture
def database_url(postgres: TestPostgres) -> Iterator[str]:
    """A database of this test's own, cloned from the migrated template."""
    url = postgres.clone()
    yield url
    postgres.drop(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        port=0,
        db_pool_size=5,
        worker_heartbeat_seconds=0.2,
        worker_poll_seconds=0.1,
        task_lease_seconds=1.0,
        worker_shutdown_grace_seconds=1.0,
        cors_origins=["http://localhost:5173"],
        **TEST_HASHING,
    )


@pytest.fixture
async def system(settings: Settings) -> AsyncIterator[System]:
    """The API server (no worker) on a free port, on this test's database."""
    async with running_system(settings) as running:
        yield running


@pytest.fixture
async def client(system: System) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(system) as http:
        yield http


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """Direct database access for arranging rows and asserting on them."""
    database = Database(database_url, pool_size=2)
    yield database
    await database.dispose()


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.sessionmaker() as db_session:
        yield db_session


@pytest.fixture
def admin(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Awaitable[Result]]]:
    """`await admin("list-tasks", "--limit", "5")`: run `studypath admin ...` in-process
    (typer's CliRunner) on this test's database. The command calls `asyncio.run` itself, so
    it runs in a thread, off the test's loop."""
    env = {"STUDYPATH_DATABASE_URL": database_url, "STUDYPATH_DATA_DIR": str(tmp_path)}

    async def run(*args: str, input: str | None = None) -> Result:
        runner = CliRunner()
        return await asyncio.to_thread(
            lambda: runner.invoke(app, ["admin", *args], input=input, env=env)
        )

    yield run
    # The CLI routed our loggers to the runner's (now closed) stderr: undo that.
    for name in (*OWNED_LOGGERS, *QUIET_LOGGERS):
        for handler in logging.getLogger(name).handlers:
            if getattr(handler, "_studypath", False):
                detach(handler)
