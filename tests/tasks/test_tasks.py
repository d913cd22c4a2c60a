"""The task queue, end to end on real PostgreSQL with real worker loops."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.config import Settings
from studypath.core.clock import poll_until_async, utcnow
from studypath.core.db import Database
from studypath.identity.models import User
from studypath.identity.roles import Role
from studypath.system import System
from studypath.tasks import service
from studypath.tasks.lifecycle import TRANSITIONS, InvalidTransition, check_transition
from studypath.tasks.models import Task
from studypath.tasks.registry import BreakerConfig, TaskRegistry
from studypath.tasks.retry import Backoff, RetryStrategy
from studypath.tasks.states import TaskPriority, TaskStatus
from studypath.testing.factories import make_user
from studypath.testing.server import client_for, running_system
from tests.support.accounts import signed_in
from tests.support.tasking import (
    WorkEnv,
    executions,
    make_registry,
    prepare,
    registered_work,
    task_row,
    wait_status,
    work_env,
)

NO_JITTER_FAST = {
    "type": "exponential",
    "base_delay_seconds": 0.1,
    "multiplier": 2,
    "jitter": False,
}


@pytest.fixture
async def env(settings: Settings, db: Database, session: AsyncSession) -> AsyncIterator[WorkEnv]:
    async with work_env(settings, db, session) as running:
        yield running


# --- the lifecycle -----------------------------------------------------------------------------
def test_transition_table_allows_only_listed_moves() -> None:
    check_transition(TaskStatus.PENDING, TaskStatus.RUNNING)
    check_transition(TaskStatus.DEAD_LETTER, TaskStatus.PENDING)
    with pytest.raises(InvalidTransition):
        check_transition(TaskStatus.COMPLETED, TaskStatus.RUNNING)
    with pytest.raises(InvalidTransition):
        check_transition(TaskStatus.CANCELLED, TaskStatus.PENDING)
    targets_of_terminal = {t.target for t in TRANSITIONS if t.source is TaskStatus.COMPLETED}
    assert targets_of_terminal == set()


async def test_task_runs_and_returns_its_payload_and_result(env: WorkEnv) -> None:
    created = await env.create({"tag": "hello"}, metadata={"source": "test"})
    assert created["status"] == "pending"
    assert created["payload"] == {"tag": "hello"}
    await wait_status(env.db, created["id"], "completed")
    task = (await env.client.get(f"/api/v1/tasks/{created['id']}", headers=env.headers)).json()[
        "data"
    ]
    assert task["status"] == "completed"
    assert task["result"] == {"attempt": 1, "tag": "hello"}
    assert task["payload"] == {"tag": "hello"}
    assert task["metadata"] == {"source": "test"}
    assert task["current_attempt"] == 1
    assert task["started_at"] is not None and task["completed_at"] is not None


async def test_notify_wakes_an_idle_worker_at_once(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    """With polling every 30 s, only NOTIFY can explain a task finishing well before that."""
    slow_poll = settings.model_copy(update={"worker_poll_seconds": 30.0})
    async with work_env(slow_poll, db, session) as env:
        await asyncio.sleep(0.5)  # the worker is asleep now
        created = await env.create()
        # Fails (AssertionError) unless done long before the worker's next 30 s poll.
        await wait_status(db, created["id"], "completed", within=10)


async def test_priority_order_is_by_rank_critical_first(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    registry = await registered_work(db)
    user = await make_user(session, username="alice")
    for priority in ("low", "normal", "high", "critical", "normal", "low"):
        await service.create_task(
            session,
            task_type="work",
            payload={"tag": priority},
            created_by=user.id,
            priority=TaskPriority(priority),
        )
    await session.commit()  # the caller owns the transaction: workers see them now
    one_at_a_time = settings.model_copy(update={"worker_concurrency": 1})
    async with running_system(one_at_a_time, workers=1, registry=registry):
        await poll_until_async(lambda: _count_done(db, 6), within=10, what="6 tasks done")
    async with db.engine.connect() as conn:
        order = (
            (
                await conn.execute(
                    text(
                        "SELECT t.priority FROM test_executions e JOIN tasks t ON t.id = e.task_id "
                        "ORDER BY e.started_at"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert order == ["critical", "high", "normal", "normal", "low", "low"]


async def _count_done(db: Database, expected: int) -> bool:
    async with db.engine.connect() as conn:
        done = (
            await conn.execute(text("SELECT count(*) FROM tasks WHERE status = 'completed'"))
        ).scalar_one()
    return bool(done >= expected)


async def test_list_orders_by_priority_rank(env: WorkEnv) -> None:
    for priority in ("low", "critical", "normal", "high"):
        await env.create(
            {"seconds": 0},
            priority=priority,
            scheduled_at=(utcnow() + timedelta(days=1)).isoformat(),
        )
    listed = (await env.client.get("/api/v1/tasks", headers=env.headers)).json()["data"]
    assert [task["priority"] for task in listed] == ["critical", "high", "normal", "low"]


async def test_scheduled_task_waits_for_its_time(env: WorkEnv) -> None:
    when = utcnow() + timedelta(seconds=1.2)
    created = await env.create(scheduled_at=when.isoformat())
    await asyncio.sleep(0.6)
    assert (await task_row(env.db, created["id"]))["status"] == "pending"
    done = await wait_status(env.db, created["id"], "completed", within=5)
    assert done["started_at"] >= when


# --- retries and the dead-letter queue -----------------------------------------------------------
async def test_retries_rerun_with_growing_delays_then_dead_letter(env: WorkEnv) -> None:
    created = await env.create({"fail_times": 10}, max_attempts=4, retry_strategy=NO_JITTER_FAST)
    dead = await wait_status(env.db, created["id"], "failed", within=10)

    assert dead["current_attempt"] == 4
    history = dead["error_history"]
    assert [entry["attempt"] for entry in history] == [1, 2, 3, 4]
    assert all("planned failure" in entry["error"] for entry in history)
    runs = [row["started_at"] for row in await executions(env.db)]
    assert len(runs) == 4
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(runs)]
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2 and gaps[2] >= 0.4, gaps
    assert gaps[0] < gaps[1] < gaps[2], gaps

    letters = (await env.client.get("/api/v1/tasks/dead-letter", headers=env.headers)).json()[
        "data"
    ]
    assert [task["id"] for task in letters] == [created["id"]]
    assert letters[0]["last_error"].startswith("RuntimeError: planned failure 4")


async def test_a_task_that_fails_twice_then_succeeds(env: WorkEnv) -> None:
    created = await env.create({"fail_times": 2}, retry_strategy=NO_JITTER_FAST)
    done = await wait_status(env.db, created["id"], "completed", within=10)
    assert done["current_attempt"] == 3
    assert len(done["error_history"]) == 2
    assert done["result"] == {"attempt": 3, "tag": ""}


async def test_no_retry_strategy_dead_letters_at_once(env: WorkEnv) -> None:
    created = await env.create({"fail_times": 1}, retry_strategy="none")
    dead = await wait_status(env.db, created["id"], "failed")
    assert dead["current_attempt"] == 1


async def test_bad_payload_is_rejected_at_creation_naming_the_field(env: WorkEnv) -> None:
    response = await env.client.post(
        "/api/v1/tasks",
        headers=env.headers,
        json={"task_type": "work", "payload": {"seconds": "soon"}},
    )
    assert response.status_code == 400
    assert "payload.seconds" in response.json()["error"]["message"]


async def test_bad_payload_at_run_time_fails_once_without_retry(
    env: WorkEnv, session: AsyncSession
) -> None:
    # A task inserted behind the API's back (or by an older client) still fails cleanly.
    task = Task(task_type="work", payload={"seconds": -5}, retry_strategy=NO_JITTER_FAST)
    session.add(task)
    await session.commit()
    env.system.workers[0].wake()
    dead = await wait_status(env.db, task.id, "failed")
    assert dead["current_attempt"] == 1
    assert "seconds" in dead["last_error"]


async def test_manual_retry_from_the_dead_letter_queue(env: WorkEnv) -> None:
    created = await env.create({"fail_times": 1}, retry_strategy="none")
    await wait_status(env.db, created["id"], "failed")

    response = await env.client.post(f"/api/v1/tasks/{created['id']}/retry", headers=env.headers)

    assert response.status_code == 200
    assert response.json()["data"]["current_attempt"] == 0
    done = await wait_status(env.db, created["id"], "completed")
    assert done["result"]["attempt"] == 1  # attempts were reset
    again = await env.client.post(f"/api/v1/tasks/{created['id']}/retry", headers=env.headers)
    assert again.status_code == 404  # only failed tasks can be retried


async def test_timeout_counts_as_a_retriable_failure(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    async with work_env(settings, db, session, make_registry(timeout=0.2)) as env:
        created = await env.create({"seconds": 5}, max_attempts=2, retry_strategy=NO_JITTER_FAST)
        dead = await wait_status(db, created["id"], "failed", within=10)
    assert dead["current_attempt"] == 2
    assert "timed out after 0.2 s" in dead["last_error"]


# --- cancellation -----------------------------------------------------------------------------
async def test_cancel_pending_task(env: WorkEnv) -> None:
    created = await env.create(scheduled_at=(utcnow() + timedelta(hours=1)).isoformat())
    response = await env.client.post(f"/api/v1/tasks/{created['id']}/cancel", headers=env.headers)
    assert response.json()["data"]["status"] == "cancelled"
    assert response.json()["message"] == "Task cancelled"
    again = await env.client.post(f"/api/v1/tasks/{created['id']}/cancel", headers=env.headers)
    assert again.status_code == 409


async def test_cancel_running_task_is_honoured_by_the_worker(env: WorkEnv) -> None:
    created = await env.create({"seconds": 30})
    await wait_status(env.db, created["id"], "running")

    response = await env.client.post(f"/api/v1/tasks/{created['id']}/cancel", headers=env.headers)

    assert response.status_code == 200
    assert response.json()["data"]["cancel_requested_at"] is not None
    cancelled = await wait_status(env.db, created["id"], "cancelled", within=3)
    assert cancelled["completed_at"] is not None
    assert [row["finished_at"] for row in await executions(env.db)] == [None]  # stopped mid-way


async def test_delete_only_finished_tasks(env: WorkEnv) -> None:
    created = await env.create(scheduled_at=(utcnow() + timedelta(hours=1)).isoformat())
    refused = await env.client.delete(f"/api/v1/tasks/{created['id']}", headers=env.headers)
    assert refused.status_code == 409
    await env.client.post(f"/api/v1/tasks/{created['id']}/cancel", headers=env.headers)
    deleted = await env.client.delete(f"/api/v1/tasks/{created['id']}", headers=env.headers)
    assert deleted.status_code == 200
    gone = await env.client.get(f"/api/v1/tasks/{created['id']}", headers=env.headers)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "TASK_NOT_FOUND"


# --- the circuit breaker ------------------------------------------------------------------------
async def breaker_state(db: Database) -> str:
    async with db.engine.connect() as conn:
        return str(
            (
                await conn.execute(
                    text("SELECT state FROM circuit_breakers WHERE task_type = 'work'")
                )
            ).scalar_one()
        )


async def wait_for_breaker(db: Database, state: str) -> None:
    async def reached() -> bool:
        return await breaker_state(db) == state

    await poll_until_async(reached, within=5, every=0.01, what=f"the breaker to be {state}")


async def running_count(db: Database) -> int:
    async with db.engine.connect() as conn:
        running: int = (
            await conn.execute(text("SELECT count(*) FROM tasks WHERE status = 'running'"))
        ).scalar_one()
    return running


@dataclass
class Tripped:
    """A running system whose breaker is open, and the user who queued the failing tasks."""

    system: System
    user: User


@asynccontextmanager
async def tripped_breaker(
    settings: Settings,
    db: Database,
    session: AsyncSession,
    *,
    failures: int,
    recovery_seconds: float,
    workers: int = 1,
) -> AsyncIterator[Tripped]:
    """A running system whose `work` breaker opens after `failures` failures, and as many
    failing tasks (no retries) queued by a user: inside the block the breaker is open."""
    await prepare(db)
    breaker = BreakerConfig(failure_threshold=failures, recovery_timeout_seconds=recovery_seconds)
    user = await make_user(session, username="alice")
    async with running_system(
        settings, workers=workers, registry=make_registry(breaker=breaker)
    ) as system:
        for _ in range(failures):
            await queue_failing_task(session, user.id)
        await wait_for_breaker(db, "open")
        yield Tripped(system, user)


async def test_breaker_opens_defers_probes_once_and_closes(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    # Three failing tasks (no retries) open the breaker.
    async with tripped_breaker(settings, db, session, failures=3, recovery_seconds=1.0) as tripped:
        # While open, new tasks wait: not run, not failed, no attempt spent.
        waiting = [
            await queue_work(session, tripped.user.id, {"seconds": 0.3, "tag": str(index)})
            for index in range(4)
        ]
        await asyncio.sleep(0.5)
        rows = [await task_row(db, task.id) for task in waiting]
        assert {row["status"] for row in rows} == {"pending"}
        assert {row["current_attempt"] for row in rows} == {0}

        # After the recovery timeout: half-open, and exactly one probe runs.
        await wait_for_breaker(db, "half_open")
        assert await running_count(db) == 1

        # The probe succeeds: closed, and the rest run.
        await poll_until_async(lambda: _count_done(db, 4), within=10, what="4 tasks done")
        assert await breaker_state(db) == "closed"
        assert (
            tripped.system.workers[0].concurrency > 1
        )  # so "one at a time" was the breaker's doing
    starts = [row for row in await executions(db) if row["task_type"] == "work"][3:]
    assert starts[0]["finished_at"] <= min(row["started_at"] for row in starts[1:])


async def queue_work(
    session: AsyncSession, user_id: uuid.UUID, payload: dict[str, Any], **fields: Any
) -> Task:
    """A `work` task, committed: the workers see it at once."""
    task = await service.create_task(
        session, task_type="work", payload=payload, created_by=user_id, **fields
    )
    await session.commit()
    return task


async def queue_failing_task(session: AsyncSession, user_id: uuid.UUID) -> Task:
    """A `work` task that fails on its one and only attempt (a breaker failure)."""
    no_retries = RetryStrategy(type=Backoff.NONE)
    return await queue_work(session, user_id, {"fail_times": 1}, retry_strategy=no_retries)


async def test_failed_probe_opens_the_breaker_again(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    async with tripped_breaker(settings, db, session, failures=1, recovery_seconds=0.5) as tripped:
        probe = await queue_failing_task(session, tripped.user.id)
        await wait_status(db, probe.id, "failed", within=5)
        assert await breaker_state(db) == "open"
        async with db.engine.connect() as conn:
            opened_at = (
                await conn.execute(
                    text("SELECT opened_at FROM circuit_breakers WHERE task_type = 'work'")
                )
            ).scalar_one()
        assert opened_at >= (await task_row(db, probe.id))["started_at"]


async def test_breaker_state_is_shared_by_workers(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    """Two worker processes' worth of workers, one breaker: still exactly one probe."""
    async with tripped_breaker(
        settings, db, session, failures=2, recovery_seconds=0.6, workers=2
    ) as tripped:
        for _ in range(6):
            await queue_work(session, tripped.user.id, {"seconds": 0.4})
        await wait_for_breaker(db, "half_open")
        peak = 0

        async def probe_decided() -> bool:  # until then, count the running tasks
            nonlocal peak
            running = await running_count(db)
            if await breaker_state(db) != "half_open":
                return True
            peak = max(peak, running)
            return False

        await poll_until_async(
            probe_decided, within=10, every=0.02, what="the probe to close the breaker"
        )
        assert peak == 1
        await poll_until_async(lambda: _count_done(db, 6), within=10, what="6 tasks done")


# --- crashes, fencing, shutdown and many workers -------------------------------------------------
async def test_lost_lease_fences_the_old_worker(env: WorkEnv, session: AsyncSession) -> None:
    """If another worker took the task over, the first one's result must not count."""
    created = await env.create({"seconds": 0.6})
    await wait_status(env.db, created["id"], "running")
    await session.execute(
        update(Task).where(Task.id == uuid.UUID(created["id"])).values(locked_by="someone-else")
    )
    await session.commit()
    await asyncio.sleep(1.0)
    row = await task_row(env.db, created["id"])
    assert row["status"] == "running" and row["locked_by"] == "someone-else"
    assert row["result"] is None


async def test_graceful_shutdown_hands_back_unfinished_tasks(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    async with work_env(settings, db, session) as env:
        quick = await env.create({"seconds": 0.3})
        slow = await env.create({"seconds": 30})
        await wait_status(db, slow["id"], "running")
        await wait_status(db, quick["id"], "running", "completed")
    # Stopped (grace 1 s): the quick task finished, the slow one is back in the queue.
    assert (await task_row(db, quick["id"]))["status"] == "completed"
    released = await task_row(db, slow["id"])
    assert released["status"] == "pending"
    assert released["current_attempt"] == 0  # the interrupted attempt does not count
    assert released["locked_by"] is None


async def test_many_workers_run_every_task_exactly_once(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    """The hammer: 3 workers × 4 slots racing for 300 tasks."""
    registry = await registered_work(db)
    user = await make_user(session, username="alice")
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO tasks (task_type, payload, created_by, retry_strategy) "
                "SELECT 'work', jsonb_build_object('tag', g::text), :user, '{}'::jsonb "
                "FROM generate_series(1, 300) g"
            ),
            {"user": user.id},
        )
    async with running_system(settings, workers=3, registry=registry):
        await poll_until_async(lambda: _count_done(db, 300), within=60, what="300 tasks done")
    runs = await executions(db)
    per_task: dict[Any, int] = {}
    for row in runs:
        per_task[row["task_id"]] = per_task.get(row["task_id"], 0) + 1
    assert len(per_task) == 300
    assert set(per_task.values()) == {1}
    async with db.engine.connect() as conn:
        statuses: dict[str, int] = dict(
            (await conn.execute(text("SELECT status, count(*) FROM tasks GROUP BY status"))).all()
        )
        workers = (
            await conn.execute(
                text("SELECT count(*) FROM tasks, jsonb_array_elements(error_history)")
            )
        ).scalar_one()
    assert statuses == {"completed": 300}
    assert workers == 0  # nothing failed on the way


# --- validation, listing and stats -------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"task_type": "no such type", "payload": {}}, 400, "task_type"),
        ({"task_type": "x" * 129, "payload": {}}, 400, "task_type"),
        ({"task_type": "ghost", "payload": {}}, 400, "task_type"),
        ({"task_type": "work", "payload": {"tag": "x" * (1024 * 1024)}}, 400, "payload"),
        ({"task_type": "work", "payload": {}, "metadata": {"m": "x" * 70000}}, 400, "metadata"),
        (
            {"task_type": "work", "payload": {}, "scheduled_at": "2020-01-01T00:00:00Z"},
            400,
            "scheduled_at",
        ),
        (
            {"task_type": "work", "payload": {}, "scheduled_at": "2099-01-01T00:00:00Z"},
            400,
            "scheduled_at",
        ),
        ({"task_type": "work", "payload": {}, "max_attempts": 0}, 400, "max_attempts"),
        ({"task_type": "work", "payload": {}, "priority": "urgent"}, 400, "priority"),
        (
            {"task_type": "work", "payload": {}, "retry_strategy": "sometimes"},
            400,
            "retry_strategy",
        ),
        ({"task_type": "work", "payload": [1, 2]}, 422, "payload"),
    ],
    ids=[
        "type-chars",
        "type-length",
        "unregistered",
        "payload-size",
        "metadata-size",
        "too-early",
        "too-late",
        "attempts",
        "priority",
        "strategy",
        "payload-not-object",
    ],
)
async def test_create_task_validation(
    env: WorkEnv, body: dict[str, Any], status: int, field: str
) -> None:
    response = await env.client.post("/api/v1/tasks", json=body, headers=env.headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert field in str(error), error
    async with env.db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM tasks"))).scalar_one() == 0


async def test_users_see_their_own_tasks_staff_see_all(env: WorkEnv, session: AsyncSession) -> None:
    await env.create(scheduled_at=(utcnow() + timedelta(hours=1)).isoformat())
    bob = await signed_in(env.client, session, username="bob")
    mod = await signed_in(env.client, session, role=Role.MODERATOR, username="mod")
    await env.client.post(
        "/api/v1/tasks",
        headers=bob,
        json={
            "task_type": "work",
            "payload": {},
            "scheduled_at": (utcnow() + timedelta(hours=1)).isoformat(),
        },
    )
    mine = await env.client.get("/api/v1/tasks", headers=env.headers)
    everyone = await env.client.get("/api/v1/tasks", headers=mod)
    assert mine.headers["x-total-count"] == "1"
    assert everyone.headers["x-total-count"] == "2"


async def test_dead_letter_pagination_and_stats(env: WorkEnv, session: AsyncSession) -> None:
    for _ in range(3):
        await env.create({"fail_times": 1}, retry_strategy="none")
    await poll_until_async(
        lambda: _count_status(env.db, "failed", 3), within=10, what="3 failed tasks"
    )
    page = await env.client.get("/api/v1/tasks/dead-letter?limit=2&offset=2", headers=env.headers)
    assert page.headers["x-total-count"] == "3"
    assert len(page.json()["data"]) == 1

    mod = await signed_in(env.client, session, role=Role.MODERATOR, username="mod")
    stats = (await env.client.get("/api/v1/tasks/stats", headers=mod)).json()["data"]
    assert stats["failed"] == 3 and stats["total"] == 3
    assert stats["by_type"] == {"work": {"failed": 3}}


async def _count_status(db: Database, status: str, expected: int) -> bool:
    async with db.engine.connect() as conn:
        count = (
            await conn.execute(text("SELECT count(*) FROM tasks WHERE status = :s"), {"s": status})
        ).scalar_one()
    return bool(count >= expected)


async def test_task_types_show_live_workers_and_breaker(env: WorkEnv) -> None:
    listed = (await env.client.get("/api/v1/tasks/types")).json()["data"]
    types = [t for t in listed if t["task_type"] == "work"]
    builtin = {t["task_type"]: t["live_workers"] for t in listed if t["task_type"] != "work"}
    assert "notification" in builtin  # the API registers the built-in types itself...
    assert set(builtin.values()) == {0}  # ...but this test's worker does not serve them
    assert types == [
        {
            "task_type": "work",
            "description": "a test task that leaves evidence",
            "is_active": True,
            "payload_schema": types[0]["payload_schema"],
            "min_role": "user",
            "live_workers": 1,
            "breaker_state": "closed",
        }
    ]
    assert "seconds" in types[0]["payload_schema"]["properties"]


async def test_worker_token_registers_task_types(settings: Settings, session: AsyncSession) -> None:
    from pydantic import SecretStr

    with_token = settings.model_copy(update={"worker_token": SecretStr("w0rker-s3cret")})
    async with running_system(with_token) as system, client_for(system) as client:
        body = {"task_type": "thumbnails", "description": "resize images"}
        ok = await client.post(
            "/api/v1/tasks/types", json=body, headers={"X-Worker-Token": "w0rker-s3cret"}
        )
        wrong = await client.post(
            "/api/v1/tasks/types", json=body, headers={"X-Worker-Token": "guess"}
        )
        anonymous = await client.post("/api/v1/tasks/types", json=body)
        assert (ok.status_code, wrong.status_code, anonymous.status_code) == (200, 401, 401)
        names = [t["task_type"] for t in (await client.get("/api/v1/tasks/types")).json()["data"]]
        assert "thumbnails" in names


# --- retry strategies, in isolation ---------------------------------------------------------
def test_retry_delays() -> None:
    exponential = RetryStrategy(jitter=False)
    assert [exponential.delay(n) for n in range(1, 11)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    linear = RetryStrategy(type=Backoff.LINEAR, base_delay_seconds=5, jitter=False)
    assert [linear.delay(n) for n in (1, 2, 3)] == [5, 10, 15]
    fixed = RetryStrategy.model_validate(
        {"type": "fixed", "base_delay_seconds": 7, "jitter": False}
    )
    assert {fixed.delay(n) for n in (1, 5, 9)} == {7}
    assert RetryStrategy.model_validate("none").retries() is False


def test_full_jitter_spreads_delays_within_the_cap() -> None:
    import random

    strategy = RetryStrategy()  # exponential, full jitter
    rng = random.Random(7)
    samples = [strategy.delay(4, rng) for _ in range(2000)]
    assert all(0 <= s <= 8 for s in samples)
    assert 3.5 < sum(samples) / len(samples) < 4.5  # uniform on [0, 8]: mean 4
    assert len({round(s, 3) for s in samples}) > 1000


def test_task_type_names_follow_the_api_rule() -> None:
    registry = TaskRegistry()
    with pytest.raises(ValueError, match="letters, digits"):
        registry.register("week7.flaky")
    registry.register("week7-flaky")  # fine
