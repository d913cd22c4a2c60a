"""Running the real system inside a test: real HTTP on a free port, real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from studypath.auth.cookies import cookieless_jar
from studypath.config import Settings
from studypath.core.security import HashingParameters, configure_hashing
from studypath.system import System, bind_socket
from studypath.tasks.registry import TaskRegistry

# Real argon2id, cheap parameters: a test suite hashes hundreds of passwords. (Production
# cost is measured in bench/auth.py.) `settings_for_tests` uses the same numbers, so no rehash
# happens on login.
TEST_HASHING = HashingParameters(time_cost=1, memory_kib=1024, parallelism=1)
TEST_HASHING_SETTINGS: dict[str, Any] = {
    "password_hash_time_cost": TEST_HASHING.time_cost,
    "password_hash_memory_kib": TEST_HASHING.memory_kib,
    "password_hash_parallelism": TEST_HASHING.parallelism,
}


def use_test_hashing() -> None:
    """Hash passwords in this process (factories, the in-process server) cheaply."""
    configure_hashing(TEST_HASHING)


def settings_for_tests(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a system under test: a free port, quick workers, cheap hashing."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "port": 0,
        "db_pool_size": 5,
        "worker_heartbeat_seconds": 0.2,
        "worker_poll_seconds": 0.1,
        "task_lease_seconds": 1.0,
        "worker_shutdown_grace_seconds": 1.0,
        "cors_origins": ["http://localhost:5173"],
        **TEST_HASHING_SETTINGS,
        **overrides,
    }
    return Settings(**values)


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
    """An HTTP client for the running system that keeps no cookies: each request says who
    it is by its own headers."""
    async with httpx.AsyncClient(
        base_url=base_url(system), timeout=10, cookies=cookieless_jar()
    ) as client:
        yield client


def app_of(system: System) -> FastAPI:
    """The FastAPI application the system serves (to add a probe route, say)."""
    assert system.server is not None
    app = system.server.config.app
    assert isinstance(app, FastAPI)
    return app
