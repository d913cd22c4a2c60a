"""`spawn_app()`: the TestApp pattern — a real server on a free port over a database of its
own, and a client that speaks to it over real HTTP.

    async with spawn_app(postgres) as app:           # or the `app` fixture
        response = await app.post_json("/api/v1/notes", {"title": "t"}, token=token)
        assert response.status_code == 201

What happens, in order (`app.trace` records it, with times): the test's database is cloned
from the migrated template, the system starts on it (port 0: any free port), the test sends
its requests, the system stops, the database is dropped. Nothing is shared with another
test but the PostgreSQL server itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx
from fastapi import FastAPI

from studypath.core.clock import poll_until_async
from studypath.core.db import Database
from studypath.system import System
from studypath.tasks import stats
from studypath.tasks.registry import TaskRegistry
from studypath.tasks.worker import Worker
from studypath.testing.database import TestPostgres
from studypath.testing.server import client_for, running_system, settings_for_tests

JSON = dict[str, Any] | list[Any]


class TestApp:
    """A running system under test, and how a test talks to it.

    `address` is the server's base URL; `db` reaches its database directly (for the
    factories, and for asserting on rows); every request method takes `token=` to send
    `Authorization: Bearer <token>`, and returns the `httpx.Response` unchanged."""

    __test__ = False  # not a test class, despite the name

    def __init__(
        self, system: System, client: httpx.AsyncClient, database_url: str, trace: list[Any]
    ) -> None:
        assert system.db is not None, "the system is not running"
        self.system = system
        self.settings = system.settings
        self.client = client
        self.database_url = database_url
        self.db: Database = system.db
        self.trace: list[tuple[str, float]] = trace

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def port(self) -> int:
        return self.system.port

    @property
    def fastapi(self) -> FastAPI:
        """The application being served (to add a probe route in a test, say)."""
        assert self.system.server is not None
        application = self.system.server.config.app
        assert isinstance(application, FastAPI)
        return application

    # ------------------------------------------------------------------ requests
    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: JSON | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        return await self.client.request(method, path, json=json, params=params, headers=sent)

    async def get(
        self, path: str, *, token: str | None = None, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.request("GET", path, token=token, params=params)

    async def get_with_auth(
        self, path: str, token: str, *, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        """The guide's name for a signed-in GET."""
        return await self.get(path, token=token, params=params)

    async def post_json(self, path: str, body: JSON, *, token: str | None = None) -> httpx.Response:
        return await self.request("POST", path, token=token, json=body)

    async def put_json(self, path: str, body: JSON, *, token: str | None = None) -> httpx.Response:
        return await self.request("PUT", path, token=token, json=body)

    async def delete(self, path: str, *, token: str | None = None) -> httpx.Response:
        return await self.request("DELETE", path, token=token)

    async def login(self, username: str, password: str) -> str:
        """Sign in through `POST /api/v1/auth/login`; returns the session token."""
        response = await self.post_json(
            "/api/v1/auth/login", {"username": username, "password": password}
        )
        if response.status_code != 200:
            raise AssertionError(f"login as {username!r} answered {response.status_code}")
        token: str = response.json()["data"]["session_token"]
        return token

    # ------------------------------------------------------------------ the queue
    async def run_tasks(self, *, within: float = 10.0) -> int:
        """Drain the queue: a real worker (the system's task types, this app's database)
        runs every task that is due until none is waiting or running; returns how many
        tasks finished meanwhile. A task still unfinished after `within` seconds fails
        the test, naming how many were left."""
        types = self.system.registry.names()
        finished_before = await self._finished()
        worker = Worker(self.db, self.settings, registry=self.system.registry)
        running = asyncio.create_task(worker.run(), name="run_tasks worker")
        left = -1

        async def drained() -> bool:
            nonlocal left
            if running.done():
                running.result()  # the worker died: raise its error
            async with self.db.engine.connect() as conn:
                left = await stats.count_unfinished(conn, types)
            return left == 0

        try:
            await worker.registered.wait()
            await poll_until_async(
                drained, within=within, what="the queue to drain", detail=lambda: f"{left} left"
            )
        finally:
            worker.request_stop()
            await asyncio.wait_for(running, timeout=10)
        return await self._finished() - finished_before

    async def _finished(self) -> int:
        async with self.db.engine.connect() as conn:
            counts = await stats.count_by_status(conn)
        return sum(counts.by_status[status] for status in stats.FINISHED)


@asynccontextmanager
async def spawn_app(
    postgres: TestPostgres,
    *,
    data_dir: Path | None = None,
    workers: int = 0,
    app_hooks: Sequence[Callable[[FastAPI], None]] = (),
    registry: TaskRegistry | None = None,
    **settings: Any,
) -> AsyncIterator[TestApp]:
    """A fresh database cloned from `postgres`'s template, the system serving it on a free
    port (with `workers` background workers; 0: tasks run when the test calls
    `app.run_tasks()`), and a client — all taken down, database dropped, on the way out.
    `settings` override the test defaults (`settings_for_tests`)."""
    started = time.perf_counter()
    trace: list[tuple[str, float]] = []

    def mark(step: str) -> None:
        trace.append((step, time.perf_counter() - started))

    with TemporaryDirectory(prefix="studypath-app-") as scratch:
        url = postgres.clone()
        mark("database cloned")
        try:
            config = settings_for_tests(url, data_dir or Path(scratch), **settings)
            async with running_system(
                config, workers=workers, app_hooks=app_hooks, registry=registry
            ) as system:
                mark("server listening")
                async with client_for(system) as client:
                    yield TestApp(system, client, url, trace)
                mark("test done")
            mark("server stopped")
        finally:
            postgres.drop(url)
            mark("database dropped")
