"""The queue's SQL: every statement that claims a task or records how its attempt ended,
written out so you can read it.

Correctness rests on three ideas, each visible below:

1. **Atomic claims.** `FOR UPDATE SKIP LOCKED` lets any number of workers take ready tasks
   at once; a row one worker locked is invisible to the others, so no task is taken twice.
2. **Fencing.** A worker may only finish a task it still holds: every outcome statement says
   `WHERE status = 'running' AND locked_by = :worker`. A worker whose lease expired (it
   stalled, or died and came back) changes nothing — another worker owns the task now.
3. **Leases.** A running task belongs to its worker until `lease_expires_at`; heartbeats
   extend it. A task whose lease ran out was abandoned (its worker crashed) and is put back.

Every status a statement sets or requires comes from `TaskStatus` and the transition table
(`lifecycle.py`); `tests/tasks/test_tasks_lifecycle.py` checks each move against that table. The
circuit breaker's statements are in `breakers.py`, registration in `registration.py`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from pydantic_core import to_jsonable_python
from sqlalchemy import bindparam, func, text, update
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Update
from sqlalchemy.types import String

from studypath.tasks import breakers
from studypath.tasks.lifecycle import READY, sources_of
from studypath.tasks.models import Task
from studypath.tasks.sql import Executor, driver_sql, literal, literals
from studypath.tasks.states import BreakerState, TaskStatus

NOTIFY_CHANNEL = "studypath_tasks"

# The statuses the statements below name, as SQL text.
_CLAIMABLE = literals(sources_of(TaskStatus.RUNNING))  # ('pending', 'retrying')
_RUNNING = literal(TaskStatus.RUNNING)
_COMPLETED = literal(TaskStatus.COMPLETED)
_RETRYING = literal(TaskStatus.RETRYING)
_DEAD_LETTER = literal(TaskStatus.DEAD_LETTER)
_CANCELLED = literal(TaskStatus.CANCELLED)
_PENDING = literal(TaskStatus.PENDING)
_BREAKER_CLOSED = literal(BreakerState.CLOSED)


@dataclass(frozen=True)
class ClaimedTask:
    id: uuid.UUID
    task_type: str
    payload: Any
    attempt: int
    max_attempts: int
    retry_strategy: dict[str, Any]
    created_by: uuid.UUID | None
    priority_rank: int
    scheduled_at: datetime
    trace_context: dict[str, str] | None = None
    is_probe: bool = False


_CLAIM_COLUMNS = """
    t.id, t.task_type, t.payload, t.current_attempt, t.max_attempts, t.retry_strategy,
    t.created_by, t.priority_rank, t.scheduled_at, t.trace_context
"""

# What a claim writes: the task is ours, for one lease, as its next attempt.
_MARK_RUNNING = f"""status = {_RUNNING},
        current_attempt = t.current_attempt + 1,
        started_at = now(),
        locked_by = :worker,
        lease_expires_at = now() + make_interval(secs => :lease),
        heartbeat_at = now(),
        updated_at = now()"""


def _claim_sql(which: str, limit: str) -> str:
    """A claim: pick the best ready tasks that `which` admits (highest priority first, then
    oldest schedule), at most `limit`, skipping rows other workers hold, and mark them ours —
    in one statement. The batch claim and the breaker probe differ only in `which` and
    `limit`."""
    return f"""
    WITH ready AS (
        SELECT id FROM tasks
        WHERE status IN {_CLAIMABLE}
          AND scheduled_at <= now()
          AND {which}
        ORDER BY priority_rank DESC, scheduled_at, created_at
        LIMIT {limit}
        FOR UPDATE SKIP LOCKED
    )
    UPDATE tasks AS t
    SET {_MARK_RUNNING}
    FROM ready
    WHERE t.id = ready.id
    RETURNING {_CLAIM_COLUMNS}
    """


# Up to `limit` tasks of the worker's types whose breaker is closed.
CLAIM = text(
    _claim_sql(
        f"""task_type = ANY(:types)
          AND NOT EXISTS (                       -- a breaker that is not closed holds its type
              SELECT 1 FROM circuit_breakers b
              WHERE b.task_type = tasks.task_type AND b.state <> {_BREAKER_CLOSED})""",
        limit=":limit",
    )
).bindparams(bindparam("types", type_=ARRAY(String)))

# The claim must walk ix_tasks_ready in order and stop after `limit` rows. On a table that
# PostgreSQL has not analysed yet (a fresh queue hit by a burst), its guess of "a few rows"
# makes reading every ready task and sorting them look cheaper — 10,000 rows read per claim.
# Forbidding the sort on the claiming connection pins the plan to the index.
PIN_CLAIM_PLAN = "SET enable_sort = off"  # for a connection that only claims
PIN_CLAIM_PLAN_LOCAL = "SET LOCAL enable_sort = off"  # for one transaction

# One task of a type whose breaker lets a probe through (breakers.probe_candidates).
CLAIM_PROBE = text(_claim_sql("task_type = :task_type", limit="1"))


def _claimed(row: Any, *, is_probe: bool = False) -> ClaimedTask:
    return ClaimedTask(
        id=row.id,
        task_type=row.task_type,
        payload=row.payload,
        attempt=row.current_attempt,
        max_attempts=row.max_attempts,
        retry_strategy=row.retry_strategy or {},
        created_by=row.created_by,
        priority_rank=row.priority_rank,
        scheduled_at=row.scheduled_at,
        trace_context=row.trace_context,
        is_probe=is_probe,
    )


# The worker's hot path — claim a batch, record a batch of completions — runs these two on
# its own psycopg connections, without SQLAlchemy in between: at thousands of tasks per
# second, a layer's ~0.4 ms per statement is most of a worker's CPU (bench/queue.py).
_CLAIM_SQL = driver_sql(CLAIM)


async def claim_ready(
    pg: psycopg.AsyncConnection[Any],
    *,
    worker_id: str,
    types: list[str],
    limit: int,
    lease_seconds: float,
) -> list[ClaimedTask]:
    """The CLAIM statement alone (no breaker is open, so there is no probe to take), on an
    autocommit psycopg connection: one statement, one transaction, one round trip."""
    cursor = pg.cursor(row_factory=namedtuple_row)
    await cursor.execute(
        _CLAIM_SQL,
        {"types": types, "limit": limit, "worker": worker_id, "lease": lease_seconds},
    )
    return _in_claim_order([_claimed(row) for row in await cursor.fetchall()])


def _in_claim_order(claimed: list[ClaimedTask]) -> list[ClaimedTask]:
    # UPDATE … RETURNING gives rows in no particular order: start the best first.
    return sorted(claimed, key=lambda task: (-task.priority_rank, task.scheduled_at))


async def claim(
    conn: AsyncConnection,
    *,
    worker_id: str,
    types: list[str],
    limit: int,
    lease_seconds: float,
    probes: bool = True,
) -> list[ClaimedTask]:
    """Claim up to `limit` tasks: first one probe for each breaker ready to half-open,
    then ready tasks of closed-breaker types. Caller commits.

    Runs in the caller's transaction, with the claim's plan pinned for that transaction."""
    await conn.exec_driver_sql(PIN_CLAIM_PLAN_LOCAL)
    claimed: list[ClaimedTask] = []
    ready_to_probe = await breakers.probe_candidates(conn, types) if probes else []
    for task_type in ready_to_probe:
        if len(claimed) >= limit:
            break
        row = (
            await conn.execute(
                CLAIM_PROBE, {"task_type": task_type, "worker": worker_id, "lease": lease_seconds}
            )
        ).first()
        probe = _claimed(row, is_probe=True) if row is not None else None
        await breakers.set_half_open(conn, task_type, probe.id if probe else None)
        if probe is not None:
            claimed.append(probe)
    if len(claimed) < limit:
        rows = await conn.execute(
            CLAIM,
            {
                "types": types,
                "limit": limit - len(claimed),
                "worker": worker_id,
                "lease": lease_seconds,
            },
        )
        claimed.extend(_claimed(row) for row in rows)
    return _in_claim_order(claimed)


# --- outcomes (all fenced on status = 'running' AND locked_by = :worker) ---------------------
# What every outcome writes: the task is nobody's any more.
_UNLOCK = "locked_by = NULL, lease_expires_at = NULL, updated_at = now()"

# Many completions in one statement: the worker collects finished tasks while the previous
# write is under way and writes them together. The breaker is reset in the same statement for
# the types that had failures counted (or whose half-open probe just succeeded).
COMPLETE_MANY = text(
    f"""
    WITH done AS (
        SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:results AS text[])) AS d(id, result)
    ), completed AS (
        UPDATE tasks AS t
        SET status = {_COMPLETED}, result = CAST(d.result AS jsonb), completed_at = now(),
            {_UNLOCK}
        FROM done AS d
        WHERE t.id = d.id AND t.status = {_RUNNING} AND t.locked_by = :worker
        RETURNING t.id, t.task_type
    ), {breakers.CLOSE_ON_SUCCESS.strip()}
    SELECT id, (SELECT count(*) FROM closed) AS breakers_closed FROM completed
    """
)

# A failed attempt: back to the queue after its backoff, or — the last attempt, or bad
# input — into the dead letters.
FAIL = text(
    f"""
    UPDATE tasks
    SET status = CASE WHEN :dead THEN {_DEAD_LETTER} ELSE {_RETRYING} END,
        scheduled_at = CASE WHEN :dead THEN scheduled_at
                            ELSE now() + make_interval(secs => :delay) END,
        completed_at = CASE WHEN :dead THEN now() END,
        last_error = :error,
        error_history = error_history || jsonb_build_array(jsonb_build_object(
            'attempt', current_attempt, 'error', CAST(:error AS text), 'at', now(),
            'worker', CAST(:worker AS text))),
        {_UNLOCK}
    WHERE id = :id AND status = {_RUNNING} AND locked_by = :worker
    RETURNING status, scheduled_at, current_attempt
    """
)

CANCELLED = text(
    f"""
    UPDATE tasks
    SET status = {_CANCELLED}, completed_at = now(), last_error = :reason,
        {_UNLOCK}
    WHERE id = :id AND status = {_RUNNING} AND locked_by = :worker
    RETURNING id
    """
)

# A worker shutting down gives back what it could not finish; the attempt does not count.
RELEASE = text(
    f"""
    UPDATE tasks
    SET status = {_PENDING}, current_attempt = greatest(current_attempt - 1, 0),
        started_at = NULL, {_UNLOCK}
    WHERE id = ANY(:ids) AND status = {_RUNNING} AND locked_by = :worker
    RETURNING id
    """
).bindparams(bindparam("ids", type_=ARRAY(UUID(as_uuid=True))))

HEARTBEAT = text(
    f"""
    UPDATE tasks
    SET lease_expires_at = now() + make_interval(secs => :lease), heartbeat_at = now()
    WHERE id = ANY(:ids) AND status = {_RUNNING} AND locked_by = :worker
    RETURNING id, cancel_requested_at IS NOT NULL AS cancel_requested
    """
).bindparams(bindparam("ids", type_=ARRAY(UUID(as_uuid=True))))

# Abandoned tasks (their worker stopped heartbeating): back to the queue, the attempt
# counted; out of attempts → dead letter; cancellation requested → cancelled.
REAP_EXPIRED = text(
    f"""
    UPDATE tasks
    SET status = CASE WHEN cancel_requested_at IS NOT NULL THEN {_CANCELLED}
                      WHEN current_attempt >= max_attempts THEN {_DEAD_LETTER}
                      ELSE {_RETRYING} END,
        completed_at = CASE WHEN cancel_requested_at IS NOT NULL
                              OR current_attempt >= max_attempts THEN now() END,
        scheduled_at = now(),
        last_error = 'lease expired: worker ' || coalesce(locked_by, '?')
                     || ' stopped heartbeating',
        error_history = error_history || jsonb_build_array(jsonb_build_object(
            'attempt', current_attempt, 'error', 'lease expired', 'at', now(),
            'worker', locked_by)),
        locked_by = NULL, lease_expires_at = NULL, updated_at = now()
    WHERE status = {_RUNNING} AND lease_expires_at < now()
    RETURNING id, task_type, status
    """
)


_COMPLETE_MANY_SQL = driver_sql(COMPLETE_MANY)

# The completion must find its tasks by id (the primary key), a few index probes per batch.
# psycopg prepares a statement it runs often, and after five runs PostgreSQL may keep one
# *generic* plan for it, made without the ids. Made while `tasks` had no statistics yet (a
# new queue), that plan reads every task with status 'running' through ix_tasks_lease,
# which keeps an entry for each task ever claimed until VACUUM: a cost per batch that grows
# with the jobs done (bench/queue_next.py growth: 0.09 → 0.69 ms of PostgreSQL CPU per job
# over 80,000 jobs). Planned for its own ids each time, it probes the primary key. Planning
# each batch costs about 0.015 ms of PostgreSQL CPU per job (bench/queue.py): the price of a
# cost that does not grow with the table.
PLAN_EACH_COMPLETION = "SET plan_cache_mode = force_custom_plan"  # the completion connection


async def complete_many(
    pg: psycopg.AsyncConnection[Any], worker_id: str, results: dict[uuid.UUID, str]
) -> set[uuid.UUID]:
    """Complete several tasks at once (results as JSON text, see `result_json`) on an
    autocommit psycopg connection; returns the ids that were still ours — the others were
    fenced off (their lease was lost)."""
    if not results:
        return set()
    ids = list(results)
    cursor = await pg.execute(
        _COMPLETE_MANY_SQL,
        {"ids": ids, "results": [results[i] for i in ids], "worker": worker_id},
    )
    return {row[0] for row in await cursor.fetchall()}


@dataclass(frozen=True)
class FailOutcome:
    status: TaskStatus  # RETRYING, or DEAD_LETTER
    next_run_at: datetime
    attempt: int


async def fail(
    conn: AsyncConnection,
    task_id: uuid.UUID,
    worker_id: str,
    *,
    error: str,
    dead: bool,
    delay_seconds: float,
) -> FailOutcome | None:
    """Record a failed attempt (`dead`: as a dead letter); None if the task was not ours."""
    row = (
        await conn.execute(
            FAIL,
            {
                "id": task_id,
                "worker": worker_id,
                "error": error[:4000],
                "dead": dead,
                "delay": delay_seconds,
            },
        )
    ).first()
    if row is None:
        return None
    return FailOutcome(TaskStatus(row.status), row.scheduled_at, row.current_attempt)


async def mark_cancelled(
    conn: AsyncConnection, task_id: uuid.UUID, worker_id: str, reason: str
) -> bool:
    """A running task of ours honoured its cancellation."""
    row = (
        await conn.execute(CANCELLED, {"id": task_id, "worker": worker_id, "reason": reason})
    ).first()
    return row is not None


async def release(
    conn: AsyncConnection, task_ids: list[uuid.UUID], worker_id: str
) -> list[uuid.UUID]:
    """Give running tasks of ours back to the queue, their attempt not counted."""
    if not task_ids:
        return []
    rows = await conn.execute(RELEASE, {"ids": task_ids, "worker": worker_id})
    return [row.id for row in rows]


async def heartbeat(
    conn: AsyncConnection, task_ids: list[uuid.UUID], worker_id: str, lease_seconds: float
) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """Extend leases; returns (still ours, cancellation requested). Missing ids were lost."""
    if not task_ids:
        return set(), set()
    rows = (
        await conn.execute(
            HEARTBEAT, {"ids": task_ids, "worker": worker_id, "lease": lease_seconds}
        )
    ).all()
    return {row.id for row in rows}, {row.id for row in rows if row.cancel_requested}


async def reap_expired(conn: AsyncConnection) -> list[tuple[uuid.UUID, str, TaskStatus]]:
    """Put back the tasks whose worker stopped heartbeating (any worker may do it)."""
    rows = (await conn.execute(REAP_EXPIRED)).all()
    return [(row.id, row.task_type, TaskStatus(row.status)) for row in rows]


def result_json(value: Any) -> str:
    """A handler's result as JSON text (pydantic models, dates, UUIDs and paths included);
    raises TypeError/ValueError here, not in the database, if it cannot be JSON."""
    return json.dumps(to_jsonable_python(value, fallback=str))


# --- moves asked for from outside a worker (the API, the CLI, a lab run) ----------------------
# Waiting tasks (ready, not running) → cancelled at once. Callers narrow it (`.where`).
CANCEL_WAITING: Update = (
    update(Task)
    .where(Task.status.in_(sorted(sources_of(TaskStatus.CANCELLED) & READY)))
    .values(status=TaskStatus.CANCELLED, completed_at=func.now(), updated_at=func.now())
)

# A dead letter back to `pending` as if new: attempts reset, its error history kept. An old
# cancellation request is cleared, else the worker would cancel the new run.
REQUEUE_DEAD_LETTERS: Update = (
    update(Task)
    .where(Task.status == TaskStatus.DEAD_LETTER)
    .values(
        status=TaskStatus.PENDING,
        current_attempt=0,
        scheduled_at=func.now(),
        completed_at=None,
        started_at=None,
        result=None,
        cancel_requested_at=None,
        updated_at=func.now(),
    )
)


async def cancel_waiting(
    conn: Executor,
    *,
    task_ids: list[uuid.UUID] | None = None,
    task_types: list[str] | None = None,
    reason: str | None = None,
) -> list[uuid.UUID]:
    """Cancel the waiting tasks among these ids and/or of these types (`reason` becomes
    their `last_error`); returns the ids cancelled. Caller commits."""
    statement = CANCEL_WAITING.returning(Task.id)
    if task_ids is not None:
        statement = statement.where(Task.id.in_(task_ids))
    if task_types is not None:
        statement = statement.where(Task.task_type.in_(task_types))
    if reason is not None:
        statement = statement.values(last_error=reason)
    return list((await conn.execute(statement)).scalars())
