"""Running the real system inside a test: real HTTP on a free port, real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from studypath.auth.cookies import cookieless_jar
from studypath.config import Settings
from studypath.system import System, bind_socket
from studypath.tasks.registry import TaskRegistry


@asynccontextmanager
async def running_system(
    settings: Settings,
    *,
    workers: int = 0,
    app_hooks: Sequence[Callable[[FastAPI], None]] = (),
    registry: TaskRegistry | None = None,
) -> AsyncIterator[System]:
    """Start `System` (API server + `workers` workers) on this test's loop; stop it after."""
    system = System(
        settings,
        workers=workers,
        sock=bind_socket("127.0.0.1", 0),
        app_hooks=app_hooks,
        registry=registry,
    )
    ready = asyncio.Event()
    task = asyncio.create_task(system.run(on_ready=ready.set))
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()
    try:
        yield system
    finally:
        system.request_stop()
        await asyncio.wait_for(task, timeout=10)


def base_url(system: System) -> str:
    return f"http://127.0.0.1:{system.port}"


@asynccontextmanager
async def client_for(system: System) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=base_url(system), timeout=10, cookies=cookieless_jar()
    ) as client:
        yield client


def app_of(system: System) -> FastAPI:
    assert system.server is not None
    app = system.server.config.app
    assert isinstance(app, FastAPI)
    return app
