"""What keeps the queue fast under a backlog, each with a test that fails if it is lost:
batch creation, a claim that reads the ready index instead of sorting the backlog, and
workers that claim a backlog in batches."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.config import Settings
from studypath.core.clock import poll_until_async
from studypath.core.db import Database, libpq_url
from studypath.core.errors import AppError
from studypath.tasks import queue, registration, service
from studypath.tasks.retry import RetryStrategy
from studypath.tasks.sql import driver_sql
from studypath.tasks.states import TaskPriority
from studypath.tasks.worker import Worker
from studypath.testing.factories import make_user
from studypath.testing.server import running_system
from tests.support.tasking import make_registry, prepare


async def _register(db: Database) -> None:
    async with db.engine.begin() as conn:
        await registration.register_types(conn, make_registry().specs())


async def _backlog(db: Database, count: int, payload: str = "'{}'::jsonb") -> None:
    """`count` ready `work` tasks in one INSERT, the types registered first; `payload` is a
    SQL expression of `g`, the task's number from 1."""
    await _register(db)
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO tasks (task_type, payload, retry_strategy) "
                f"SELECT 'work', {payload}, '{{}}'::jsonb FROM generate_series(1, :count) g"
            ),
            {"count": count},
        )


async def _count(db: Database, where: str = "true") -> int:
    async with db.engine.connect() as conn:
        result = await conn.execute(text(f"SELECT count(*) FROM tasks WHERE {where}"))
        count: int = result.scalar_one()
        return count


# --- enqueue_many ---------------------------------------------------------------------------------
async def test_enqueue_many_inserts_every_task_in_order_and_wakes_the_worker(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    """One INSERT and one NOTIFY: with polling every 30 s, only the NOTIFY explains the
    worker finishing 60 tasks within seconds."""
    await prepare(db)
    user = await make_user(session, username="alice")
    slow_poll = settings.model_copy(update={"worker_poll_seconds": 30.0})
    async with running_system(slow_poll, workers=1, registry=make_registry()) as system:
        await system.workers[0].registered.wait()
        ids = await service.enqueue_many(
            session,
            task_type="work",
            payloads=[{"tag": f"t{n}"} for n in range(60)],
            created_by=user.id,
            priority=TaskPriority.HIGH,
            metadata={"batch": "b1"},
            max_attempts=3,
            retry_strategy=RetryStrategy.model_validate({"type": "none"}),
        )
        await session.commit()  # the caller's commit delivers the NOTIFY
        assert len(ids) == 60 and len(set(ids)) == 60
        await poll_until_async(lambda: _all_completed(db, 60), within=15, what="60 completed tasks")
    async with db.engine.connect() as conn:
        rows = {
            row.id: row
            for row in await conn.execute(
                text(
                    "SELECT id, payload, result, priority, metadata, max_attempts, "
                    "retry_strategy, created_by, trace_context FROM tasks"
                )
            )
        }
    for n, task_id in enumerate(ids):  # the ids come back in the payloads' order
        row = rows[task_id]
        assert row.payload == {"tag": f"t{n}"}
        assert row.result == {"attempt": 1, "tag": f"t{n}"}
        assert row.priority == "high" and row.metadata == {"batch": "b1"}
        assert row.max_attempts == 3 and row.retry_strategy["type"] == "none"
        assert row.created_by == user.id
        assert row.trace_context is None  # no request, no trace to continue


async def _all_completed(db: Database, expected: int) -> bool:
    return await _count(db, "status = 'completed'") == expected


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"task_type": "ghost"}, "task_type"),
        ({"payloads": [{"seconds": 0}, {"seconds": 0}, {"seconds": -1}]}, "payloads[2]"),
        ({"payloads": [{}, [1, 2]]}, "payloads[1]"),
        ({"payloads": [{}, {"tag": "x" * (1024 * 1024)}]}, "payloads[1]"),
        ({"metadata": {"m": "x" * 70_000}}, "metadata"),
        ({"max_attempts": 0}, "max_attempts"),
    ],
    ids=["unregistered", "schema", "not-an-object", "payload-size", "metadata-size", "attempts"],
)
async def test_enqueue_many_refuses_the_whole_batch_naming_the_bad_field(
    db: Database, session: AsyncSession, arguments: dict[str, Any], field: str
) -> None:
    await _register(db)
    call: dict[str, Any] = {"task_type": "work", "payloads": [{}, {}], "created_by": None}
    with pytest.raises(AppError) as raised:
        await service.enqueue_many(session, **(call | arguments))
    assert raised.value.status == 400
    assert raised.value.details[0]["field"] == field, raised.value.details
    assert field.split("[")[0] in raised.value.message or "task type" in raised.value.message
    await session.rollback()
    assert await _count(db) == 0  # nothing of the batch went in


async def test_enqueue_many_of_nothing_writes_nothing(db: Database, session: AsyncSession) -> None:
    await _register(db)
    assert await service.enqueue_many(session, task_type="work", payloads=[], created_by=None) == []
    assert await _count(db) == 0


# --- the claim's plan --------------------------------------------------------------------------
def _plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes.extend(_plan_nodes(child))
    return nodes


async def _claim_plan(db: Database) -> list[dict[str, Any]]:
    """EXPLAIN ANALYZE of the worker's claim for 5 tasks, on a connection set up as the
    worker sets up its claiming connection; rolled back, so nothing is claimed."""
    sql = driver_sql(queue.CLAIM)
    params = {"types": ["work"], "limit": 5, "worker": "explain", "lease": 30.0}
    async with await psycopg.AsyncConnection.connect(libpq_url(db.url)) as pg:
        await pg.execute(queue.PIN_CLAIM_PLAN)
        cursor = await pg.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        (document,) = (await cursor.fetchone()) or (None,)
        await pg.rollback()
    plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    return _plan_nodes(plan)


async def test_claim_reads_a_few_index_entries_however_long_the_backlog(db: Database) -> None:
    """A claim must not read (and sort) every ready task to pick five: it walks ix_tasks_ready
    in the claim's own order and stops. Checked on a fresh table PostgreSQL has no
    statistics for yet (a queue hit by its first burst), then after ANALYZE."""
    await _backlog(db, 3000)
    for moment in ("before ANALYZE", "after ANALYZE"):
        nodes = await _claim_plan(db)
        types = [node["Node Type"] for node in nodes]
        scans = [node for node in nodes if node.get("Relation Name") == "tasks"]
        ready_scan = next(node for node in scans if node.get("Index Name") == "ix_tasks_ready")
        assert "Sort" not in types, (moment, types)
        assert ready_scan["Node Type"] == "Index Scan", (moment, ready_scan["Node Type"])
        assert ready_scan["Actual Rows"] <= 5, (moment, ready_scan["Actual Rows"])
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE tasks"))


async def test_each_completion_is_planned_for_its_own_ids(settings: Settings, db: Database) -> None:
    """A completion finds its tasks by id. Left to itself, PostgreSQL keeps one generic plan
    for a statement psycopg prepared, made without the ids; made on a new queue's table (no
    statistics yet) it read every 'running' entry of ix_tasks_lease — one per task ever
    claimed, until VACUUM — on every batch (bench/queue_next.py growth). The worker's
    completion connection plans each batch for its ids."""
    await _register(db)
    async with db.engine.begin() as conn:  # tasks a worker "w" holds; the table never analysed
        await conn.execute(
            text(
                "INSERT INTO tasks (task_type, payload, retry_strategy, status, locked_by) "
                "SELECT 'work', '{}', '{}', 'running', 'w' FROM generate_series(1, 300)"
            )
        )
        ids = list((await conn.execute(text("SELECT id FROM tasks ORDER BY id"))).scalars())
    worker = Worker(db, settings, registry=make_registry())
    pg = await worker.completions.connection.get()  # set up as the worker sets it up
    try:
        completed: set[Any] = set()
        for start in range(0, len(ids), 10):  # 30 batches: psycopg prepares from the 5th run
            batch = dict.fromkeys(ids[start : start + 10], "null")
            completed |= await queue.complete_many(pg, "w", batch)
        cursor = await pg.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE '%%WITH done AS%%'"
        )
        plans = await cursor.fetchone()
    finally:
        await worker.completions.connection.drop()
    assert completed == set(ids)
    assert plans is not None, "the completion was not prepared: nothing to check"
    generic, custom = plans
    assert generic == 0, f"{generic} batches ran a generic plan ({custom} custom)"


# --- batched claims ----------------------------------------------------------------------------
async def test_a_backlog_is_claimed_half_the_slots_at_a_time(
    settings: Settings, db: Database
) -> None:
    """Tasks of different lengths free their slots one at a time. A worker that claimed on
    every freed slot would claim one task per statement; this one waits until half its
    slots are free. Each claim stamps its tasks with one `started_at` (the statement's
    now()), so the groups show the claims: all of at least 2 tasks (the batch for 4 slots),
    except a last short one once the backlog ran dry."""
    await prepare(db)
    await _backlog(db, 40, payload="jsonb_build_object('seconds', 0.02 * (g % 5))")
    four_slots = settings.model_copy(update={"worker_concurrency": 4})
    async with running_system(four_slots, workers=1, registry=make_registry()) as system:
        assert system.workers[0].batch == 2
        await poll_until_async(lambda: _all_completed(db, 40), within=30, what="40 completed tasks")
    async with db.engine.connect() as conn:
        starts = (await conn.execute(text("SELECT started_at FROM tasks"))).scalars().all()
    claims = sorted(Counter(starts).values())
    assert len(claims) < 30, claims  # one claim per task would make 40
    assert sum(1 for size in claims if size < 2) <= 1, claims
