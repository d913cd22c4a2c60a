"""The queue's SQL: every statement that moves a task, written out so you can read it.

Correctness rests on three ideas, each visible below:

1. **Atomic claims.** `FOR UPDATE SKIP LOCKED` lets any number of workers take ready tasks
   at once; a row one worker locked is invisible to the others, so no task is taken twice.
2. **Fencing.** A worker may only finish a task it still holds: every outcome statement says
   `WHERE status = 'running' AND locked_by = :worker`. A worker whose lease expired (it
   stalled, or died and came back) changes nothing — another worker owns the task now.
3. **Leases.** A running task belongs to its worker until `lease_expires_at`; heartbeats
   extend it. A task whose lease ran out was abandoned (its worker crashed) and is put back.

The circuit breaker lives here too: one row per task type in `circuit_breakers`, locked
with the tasks it guards, so every worker sees the same state.
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
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import String

from studypath.tasks.registry import TaskSpec
from studypath.tasks.states import TaskStatus

NOTIFY_CHANNEL = "studypath_tasks"


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

# The claim: pick the best ready tasks (highest priority first, then oldest schedule),
# skipping rows other workers hold, and mark them ours — in one statement.
CLAIM = text(
    f"""
    WITH ready AS (
        SELECT id FROM tasks
        WHERE status IN ('pending', 'retrying')
          AND scheduled_at <= now()
          AND task_type = ANY(:types)
          AND NOT EXISTS (                       -- a breaker that is not closed holds its type
              SELECT 1 FROM circuit_breakers b
              WHERE b.task_type = tasks.task_type AND b.state <> 'closed')
        ORDER BY priority_rank DESC, scheduled_at, created_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE tasks AS t
    SET status = 'running',
        current_attempt = t.current_attempt + 1,
        started_at = now(),
        locked_by = :worker,
        lease_expires_at = now() + make_interval(secs => :lease),
        heartbeat_at = now(),
        updated_at = now()
    FROM ready
    WHERE t.id = ready.id
    RETURNING {_CLAIM_COLUMNS}
    """
).bindparams(bindparam("types", type_=ARRAY(String)))

# The claim must walk ix_tasks_ready in order and stop after `limit` rows. On a table that
# PostgreSQL has not analysed yet (a fresh queue hit by a burst), its guess of "a few rows"
# makes reading every ready task and sorting them look cheaper — 10,000 rows read per claim.
# Forbidding the sort on the claiming connection pins the plan to the index.
PIN_CLAIM_PLAN = "SET enable_sort = off"  # for a connection that only claims
PIN_CLAIM_PLAN_LOCAL = "SET LOCAL enable_sort = off"  # for one transaction

# Breakers ready to let one probe through: open long enough, or half-open with no probe
# running (it finished, was released, or its worker died). Locked, so one worker decides.
PROBE_CANDIDATES = text(
    """
    SELECT task_type FROM circuit_breakers
    WHERE task_type = ANY(:types)
      AND (
        (state = 'open'
         AND opened_at + make_interval(secs => recovery_timeout_seconds) <= now())
        OR (state = 'half_open'
            AND NOT EXISTS (SELECT 1 FROM tasks
                            WHERE id = circuit_breakers.probe_task_id AND status = 'running'))
      )
    FOR UPDATE SKIP LOCKED
    """
).bindparams(bindparam("types", type_=ARRAY(String)))

CLAIM_PROBE = text(
    f"""
    WITH ready AS (
        SELECT id FROM tasks
        WHERE status IN ('pending', 'retrying') AND scheduled_at <= now()
          AND task_type = :task_type
        ORDER BY priority_rank DESC, scheduled_at, created_at
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    UPDATE tasks AS t
    SET status = 'running', current_attempt = t.current_attempt + 1, started_at = now(),
        locked_by = :worker, lease_expires_at = now() + make_interval(secs => :lease),
        heartbeat_at = now(), updated_at = now()
    FROM ready
    WHERE t.id = ready.id
    RETURNING {_CLAIM_COLUMNS}
    """
)

SET_HALF_OPEN = text(
    """
    UPDATE circuit_breakers
    SET state = 'half_open', probe_task_id = :probe, updated_at = now()
    WHERE task_type = :task_type
    """
).bindparams(bindparam("probe", type_=UUID(as_uuid=True)))


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


def driver_sql(statement: TextClause) -> str:
    """A statement as psycopg takes it (`%(name)s` placeholders), for the worker's hot path."""
    return str(statement.compile(dialect=PGDialect_psycopg()))  # type: ignore[no-untyped-call]


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
    ready_to_probe = (
        (await conn.execute(PROBE_CANDIDATES, {"types": types})).scalars().all() if probes else []
    )
    for task_type in ready_to_probe:
        if len(claimed) >= limit:
            break
        row = (
            await conn.execute(
                CLAIM_PROBE, {"task_type": task_type, "worker": worker_id, "lease": lease_seconds}
            )
        ).first()
        probe = _claimed(row, is_probe=True) if row is not None else None
        await conn.execute(
            SET_HALF_OPEN, {"task_type": task_type, "probe": probe.id if probe else None}
        )
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
# Many completions in one statement: the worker collects finished tasks while the previous
# write is under way and writes them together. The breaker is reset in the same statement for
# the types that had failures counted (or whose half-open probe just succeeded).
COMPLETE_MANY = text(
    """
    WITH done AS (
        SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:results AS text[])) AS d(id, result)
    ), completed AS (
        UPDATE tasks AS t
        SET status = 'completed', result = CAST(d.result AS jsonb), completed_at = now(),
            locked_by = NULL, lease_expires_at = NULL, updated_at = now()
        FROM done AS d
        WHERE t.id = d.id AND t.status = 'running' AND t.locked_by = :worker
        RETURNING t.id, t.task_type
    ), closed AS (
        UPDATE circuit_breakers AS b
        SET state = 'closed', failure_count = 0, probe_task_id = NULL, opened_at = NULL,
            updated_at = now()
        WHERE b.task_type IN (SELECT task_type FROM completed)
          AND ((b.state = 'closed' AND b.failure_count > 0)
               OR (b.state = 'half_open' AND b.probe_task_id IN (SELECT id FROM completed)))
        RETURNING b.task_type
    )
    SELECT id, (SELECT count(*) FROM closed) AS breakers_closed FROM completed
    """
)

BREAKERS_NOT_CLOSED = text(
    """
    SELECT EXISTS (SELECT 1 FROM circuit_breakers
                   WHERE state <> 'closed' AND task_type = ANY(:types))
    """
).bindparams(bindparam("types", type_=ARRAY(String)))

FAIL = text(
    """
    UPDATE tasks
    SET status = CASE WHEN :dead THEN 'failed' ELSE 'retrying' END,
        scheduled_at = CASE WHEN :dead THEN scheduled_at
                            ELSE now() + make_interval(secs => :delay) END,
        completed_at = CASE WHEN :dead THEN now() END,
        last_error = :error,
        error_history = error_history || jsonb_build_array(jsonb_build_object(
            'attempt', current_attempt, 'error', CAST(:error AS text), 'at', now(),
            'worker', CAST(:worker AS text))),
        locked_by = NULL, lease_expires_at = NULL, updated_at = now()
    WHERE id = :id AND status = 'running' AND locked_by = :worker
    RETURNING status, scheduled_at, current_attempt
    """
)

CANCELLED = text(
    """
    UPDATE tasks
    SET status = 'cancelled', completed_at = now(), last_error = :reason,
        locked_by = NULL, lease_expires_at = NULL, updated_at = now()
    WHERE id = :id AND status = 'running' AND locked_by = :worker
    RETURNING id
    """
)

# A worker shutting down gives back what it could not finish; the attempt does not count.
RELEASE = text(
    """
    UPDATE tasks
    SET status = 'pending', current_attempt = greatest(current_attempt - 1, 0),
        started_at = NULL, locked_by = NULL, lease_expires_at = NULL, updated_at = now()
    WHERE id = ANY(:ids) AND status = 'running' AND locked_by = :worker
    RETURNING id
    """
).bindparams(bindparam("ids", type_=ARRAY(UUID(as_uuid=True))))

HEARTBEAT = text(
    """
    UPDATE tasks
    SET lease_expires_at = now() + make_interval(secs => :lease), heartbeat_at = now()
    WHERE id = ANY(:ids) AND status = 'running' AND locked_by = :worker
    RETURNING id, cancel_requested_at IS NOT NULL AS cancel_requested
    """
).bindparams(bindparam("ids", type_=ARRAY(UUID(as_uuid=True))))

# Abandoned tasks (their worker stopped heartbeating): back to the queue, the attempt
# counted; out of attempts → dead letter; cancellation requested → cancelled.
REAP_EXPIRED = text(
    """
    UPDATE tasks
    SET status = CASE WHEN cancel_requested_at IS NOT NULL THEN 'cancelled'
                      WHEN current_attempt >= max_attempts THEN 'failed'
                      ELSE 'retrying' END,
        completed_at = CASE WHEN cancel_requested_at IS NOT NULL
                              OR current_attempt >= max_attempts THEN now() END,
        scheduled_at = now(),
        last_error = 'lease expired: worker ' || coalesce(locked_by, '?')
                     || ' stopped heartbeating',
        error_history = error_history || jsonb_build_array(jsonb_build_object(
            'attempt', current_attempt, 'error', 'lease expired', 'at', now(),
            'worker', locked_by)),
        locked_by = NULL, lease_expires_at = NULL, updated_at = now()
    WHERE status = 'running' AND lease_expires_at < now()
    RETURNING id, task_type, status
    """
)


_COMPLETE_MANY_SQL = driver_sql(COMPLETE_MANY)


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


async def breakers_not_closed(conn: AsyncConnection, types: list[str]) -> bool:
    """Is any breaker of these types open or half-open? (Then claims look for probes.)"""
    return bool((await conn.execute(BREAKERS_NOT_CLOSED, {"types": types})).scalar_one())


@dataclass(frozen=True)
class FailOutcome:
    status: TaskStatus
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
    row = (
        await conn.execute(CANCELLED, {"id": task_id, "worker": worker_id, "reason": reason})
    ).first()
    return row is not None


async def release(
    conn: AsyncConnection, task_ids: list[uuid.UUID], worker_id: str
) -> list[uuid.UUID]:
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
    rows = (await conn.execute(REAP_EXPIRED)).all()
    return [(row.id, row.task_type, TaskStatus(row.status)) for row in rows]


# --- the circuit breaker's bookkeeping --------------------------------------------------------
# A failure is counted here; a success resets the count (or ends a successful probe) inside
# COMPLETE_MANY, in the same statement that records the completions.
BREAKER_FAILURE = text(
    """
    UPDATE circuit_breakers
    SET failure_count = CASE WHEN state = 'closed' THEN failure_count + 1 ELSE failure_count END,
        state = CASE
            WHEN state = 'half_open' AND probe_task_id = :id THEN 'open'
            WHEN state = 'closed' AND failure_count + 1 >= failure_threshold THEN 'open'
            ELSE state END,
        opened_at = CASE
            WHEN state = 'half_open' AND probe_task_id = :id THEN now()
            WHEN state = 'closed' AND failure_count + 1 >= failure_threshold THEN now()
            ELSE opened_at END,
        probe_task_id = CASE WHEN state = 'half_open' AND probe_task_id = :id THEN NULL
                             ELSE probe_task_id END,
        updated_at = now()
    WHERE task_type = :task_type
    RETURNING state
    """
).bindparams(bindparam("id", type_=UUID(as_uuid=True)))


async def breaker_failure(conn: AsyncConnection, task_type: str, task_id: uuid.UUID) -> str | None:
    row = (await conn.execute(BREAKER_FAILURE, {"task_type": task_type, "id": task_id})).first()
    return row.state if row is not None else None


# --- registration ---------------------------------------------------------------------------
UPSERT_TYPE = text(
    """
    INSERT INTO task_types (task_type, description, payload_schema, is_active)
    VALUES (:name, :description, :schema, true)
    ON CONFLICT (task_type) DO UPDATE
    SET description = excluded.description, payload_schema = excluded.payload_schema,
        is_active = true, updated_at = now()
    """
).bindparams(bindparam("schema", type_=JSONB))

UPSERT_BREAKER = text(
    """
    INSERT INTO circuit_breakers (task_type, failure_threshold, recovery_timeout_seconds)
    VALUES (:name, :threshold, :recovery)
    ON CONFLICT (task_type) DO UPDATE
    SET failure_threshold = excluded.failure_threshold,
        recovery_timeout_seconds = excluded.recovery_timeout_seconds, updated_at = now()
    """
)


async def upsert_types(conn: AsyncConnection, specs: list[TaskSpec]) -> None:
    for spec in specs:
        await conn.execute(
            UPSERT_TYPE,
            {"name": spec.name, "description": spec.description, "schema": spec.payload_schema()},
        )
        await conn.execute(
            UPSERT_BREAKER,
            {
                "name": spec.name,
                "threshold": spec.breaker.failure_threshold,
                "recovery": spec.breaker.recovery_timeout_seconds,
            },
        )


def result_json(value: Any) -> str:
    """A handler's result as JSON text (pydantic models, dates, UUIDs and paths included);
    raises TypeError/ValueError here, not in the database, if it cannot be JSON."""
    return json.dumps(to_jsonable_python(value, fallback=str))
