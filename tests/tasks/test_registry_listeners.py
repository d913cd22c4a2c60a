"""A handler registered while workers run is listed by them before `announce()` returns."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from studypath.config import Settings
from studypath.core.db import Database
from studypath.tasks.registry import TaskContext, TaskRegistry
from studypath.testing.server import client_for, running_system


async def noop(payload: Any, ctx: TaskContext) -> dict[str, Any]:
    return {}


async def listed_types(db: Database) -> list[list[str]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT task_types FROM workers WHERE stopped_at IS NULL"))
        return [list(row[0]) for row in rows]


async def test_a_handler_added_later_is_listed_by_running_workers_at_once(
    settings: Settings, db: Database
) -> None:
    # Heartbeats a minute apart: only the announcement can update the rows in time.
    slow = settings.model_copy(update={"worker_heartbeat_seconds": 60.0})
    tasks = TaskRegistry()
    tasks.register("first")(noop)
    async with running_system(slow, workers=2, registry=tasks) as system:
        assert await listed_types(db) == [["first"], ["first"]]
        tasks.register("added_later")(noop)
        await tasks.announce()
        assert await listed_types(db) == [["added_later", "first"]] * 2
        async with client_for(system) as client:
            await _assert_counted(client, "added_later", 2)


async def _assert_counted(client: httpx.AsyncClient, task_type: str, workers: int) -> None:
    types = (await client.get("/api/v1/tasks/types")).json()["data"]
    assert {t["task_type"]: t["live_workers"] for t in types}[task_type] == workers


async def test_a_stopped_worker_stops_listening(settings: Settings) -> None:
    tasks = TaskRegistry()
    tasks.register("only")(noop)
    async with running_system(settings, workers=1, registry=tasks):
        assert len(tasks._listeners) == 1
    assert len(tasks._listeners) == 0
