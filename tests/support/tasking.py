"""Helpers for task-system tests: test handlers that leave evidence, and waiting loops."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.config import Settings
from studypath.core.clock import poll_until_async
from studypath.core.db import Database
from studypath.system import System
from studypath.tasks import registration
from studypath.tasks.registry import BreakerConfig, TaskContext, TaskRegistry
from studypath.testing.server import client_for, running_system
from tests.support.accounts import signed_in

EXECUTIONS_TABLE = """
CREATE TABLE IF NOT EXISTS test_executions (
    task_id uuid NOT NULL,
    task_type text NOT NULL,
    attempt int NOT NULL,
    worker text,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz
)
"""


class Work(BaseModel):
    """Payload of the test handlers: how long to take and whether to fail."""

    seconds: float = Field(default=0.0, ge=0, le=60)
    fail_times: int = Field(default=0, ge=0, description="fail the first N executions")
    tag: str = ""


async def record(ctx: TaskContext, *, finished: bool = False) -> int:
    """Write one row per execution into test_executions (the evidence tests count);
    returns how many times this task has run, this time included."""
    async with ctx.db.engine.begin() as conn:
        if finished:
            await conn.execute(
                text(
                    "UPDATE test_executions SET finished_at = clock_timestamp() "
                    "WHERE task_id = :id AND attempt = :attempt"
                ),
                {"id": ctx.task_id, "attempt": ctx.attempt},
            )
        else:
            await conn.execute(
                text(
                    "INSERT INTO test_executions (task_id, task_type, attempt) "
                    "VALUES (:id, :type, :attempt)"
                ),
                {"id": ctx.task_id, "type": ctx.task_type, "attempt": ctx.attempt},
            )
        runs = await conn.execute(
            text("SELECT count(*) FROM test_executions WHERE task_id = :id"), {"id": ctx.task_id}
        )
        return int(runs.scalar_one())


def make_registry(*, breaker: BreakerConfig | None = None, timeout: float = 30.0) -> TaskRegistry:
    """`work`: records itself, sleeps, fails its first `fail_times` attempts."""
    registry = TaskRegistry()

    @registry.register(
        "work", "a test task that leaves evidence", payload=Work, timeout=timeout, breaker=breaker
    )
    async def work(payload: Work, ctx: TaskContext) -> dict[str, Any]:
        run = await record(ctx)
        if payload.seconds:
            await asyncio.sleep(payload.seconds)
        if run <= payload.fail_times:
            raise RuntimeError(f"planned failure {run} of {payload.fail_times}")
        await record(ctx, finished=True)
        return {"attempt": ctx.attempt, "tag": payload.tag}

    return registry


async def prepare(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(text(EXECUTIONS_TABLE))


async def registered_work(db: Database, *, breaker: BreakerConfig | None = None) -> TaskRegistry:
    """`make_registry()`, its types registered as a starting worker would: tasks may be
    queued before any worker runs (and the evidence table is there)."""
    await prepare(db)
    registry = make_registry(breaker=breaker)
    async with db.engine.begin() as conn:
        await registration.register_types(conn, registry.specs())
    return registry


@dataclass
class WorkEnv:
    """A running system with a worker for `work` tasks, and a signed-in user's client."""

    system: System
    client: httpx.AsyncClient
    headers: dict[str, str]
    db: Database

    async def create(self, payload: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """`POST /tasks` of a `work` task; the task as the API answers it."""
        body = {"task_type": "work", "payload": payload or {}, **fields}
        response = await self.client.post("/api/v1/tasks", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data


@asynccontextmanager
async def work_env(
    settings: Settings, db: Database, session: AsyncSession, registry: TaskRegistry | None = None
) -> AsyncIterator[WorkEnv]:
    """`WorkEnv` for the length of the block: one worker (of `make_registry()` unless given),
    the user alice signed in."""
    await prepare(db)
    registry = registry or make_registry()
    async with running_system(settings, workers=1, registry=registry) as system:
        async with client_for(system) as client:
            yield WorkEnv(system, client, await signed_in(client, session), db)


async def task_row(db: Database, task_id: uuid.UUID | str) -> dict[str, Any]:
    async with db.engine.connect() as conn:
        row = (
            (await conn.execute(text("SELECT * FROM tasks WHERE id = :id"), {"id": task_id}))
            .mappings()
            .one()
        )
    return dict(row)


async def wait_for_status(
    read_task: Callable[[], Awaitable[dict[str, Any]]],
    task_id: uuid.UUID | str,
    statuses: tuple[str, ...],
    within: float,
) -> dict[str, Any]:
    """Read the task (a row, or the API's answer) until its status is one of `statuses`;
    return that last reading. The failure names the status it was stuck in."""
    seen: dict[str, Any] = {}

    async def reached() -> bool:
        seen.update(await read_task())
        return seen["status"] in statuses

    await poll_until_async(
        reached,
        within=within,
        what=f"task {task_id} to be {' or '.join(statuses)}",
        detail=lambda: f"last seen: {seen.get('status')}",
    )
    return seen


async def wait_status(
    db: Database, task_id: uuid.UUID | str, *statuses: str, within: float = 10.0
) -> dict[str, Any]:
    return await wait_for_status(lambda: task_row(db, task_id), task_id, statuses, within)


async def executions(db: Database) -> list[dict[str, Any]]:
    async with db.engine.connect() as conn:
        rows = (
            (await conn.execute(text("SELECT * FROM test_executions ORDER BY started_at")))
            .mappings()
            .all()
        )
    return [dict(row) for row in rows]
