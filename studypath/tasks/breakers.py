"""The circuit breaker: one row per task type in `circuit_breakers`, shared by every worker.

    closed ──(failure_threshold failures in a row)──▶ open
    open ──(recovery timeout passed: one probe task is claimed)──▶ half_open
    half_open ──(the probe succeeded)──▶ closed
    half_open ──(the probe failed)──▶ open

Every statement that reads or moves a breaker is here. A failure is counted by
`record_failure`; a success resets the count (or ends a successful probe) inside
`queue.COMPLETE_MANY`, in the same statement that records the completions (`CLOSE_ON_SUCCESS`
below is that part of it). The probe's claim is in `queue.claim`, which calls
`probe_candidates` and `set_half_open`.
"""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import String

from studypath.tasks.sql import Executor, literal
from studypath.tasks.states import BreakerState, TaskStatus

CLOSED, OPEN, HALF_OPEN = (literal(state) for state in BreakerState)
_RUNNING = literal(TaskStatus.RUNNING)

# What "closed" means, column by column: no failures counted, no probe, not opened.
_CLOSE = f"""state = {CLOSED}, failure_count = 0, probe_task_id = NULL, opened_at = NULL,
            updated_at = now()"""

# Breakers ready to let one probe through: open long enough, or half-open with no probe
# running (it finished, was released, or its worker died). Locked, so one worker decides.
PROBE_CANDIDATES = text(
    f"""
    SELECT task_type FROM circuit_breakers
    WHERE task_type = ANY(:types)
      AND (
        (state = {OPEN}
         AND opened_at + make_interval(secs => recovery_timeout_seconds) <= now())
        OR (state = {HALF_OPEN}
            AND NOT EXISTS (SELECT 1 FROM tasks
                            WHERE id = circuit_breakers.probe_task_id AND status = {_RUNNING}))
      )
    FOR UPDATE SKIP LOCKED
    """
).bindparams(bindparam("types", type_=ARRAY(String)))

SET_HALF_OPEN = text(
    f"""
    UPDATE circuit_breakers
    SET state = {HALF_OPEN}, probe_task_id = :probe, updated_at = now()
    WHERE task_type = :task_type
    """
).bindparams(bindparam("probe", type_=UUID(as_uuid=True)))

ANY_NOT_CLOSED = text(
    f"""
    SELECT EXISTS (SELECT 1 FROM circuit_breakers
                   WHERE state <> {CLOSED} AND task_type = ANY(:types))
    """
).bindparams(bindparam("types", type_=ARRAY(String)))

# The part of COMPLETE_MANY that closes breakers: a CTE over its `completed` CTE (the tasks
# just completed, `id` and `task_type`). A success resets a closed breaker's failure count,
# and a half-open breaker whose probe just succeeded closes.
CLOSE_ON_SUCCESS = f"""
    closed AS (
        UPDATE circuit_breakers AS b
        SET {_CLOSE}
        WHERE b.task_type IN (SELECT task_type FROM completed)
          AND ((b.state = {CLOSED} AND b.failure_count > 0)
               OR (b.state = {HALF_OPEN} AND b.probe_task_id IN (SELECT id FROM completed)))
        RETURNING b.task_type
    )"""

# A failure: counted while closed (opening at the threshold); a failed probe re-opens.
RECORD_FAILURE = text(
    f"""
    UPDATE circuit_breakers
    SET failure_count = CASE WHEN state = {CLOSED} THEN failure_count + 1
                             ELSE failure_count END,
        state = CASE
            WHEN state = {HALF_OPEN} AND probe_task_id = :id THEN {OPEN}
            WHEN state = {CLOSED} AND failure_count + 1 >= failure_threshold THEN {OPEN}
            ELSE state END,
        opened_at = CASE
            WHEN state = {HALF_OPEN} AND probe_task_id = :id THEN now()
            WHEN state = {CLOSED} AND failure_count + 1 >= failure_threshold THEN now()
            ELSE opened_at END,
        probe_task_id = CASE WHEN state = {HALF_OPEN} AND probe_task_id = :id THEN NULL
                             ELSE probe_task_id END,
        updated_at = now()
    WHERE task_type = :task_type
    RETURNING state
    """
).bindparams(bindparam("id", type_=UUID(as_uuid=True)))

RESET = text(
    f"""
    UPDATE circuit_breakers
    SET {_CLOSE}
    WHERE task_type = ANY(:types)
    """
).bindparams(bindparam("types", type_=ARRAY(String)))

STATES = text("SELECT task_type, state FROM circuit_breakers ORDER BY task_type")


async def probe_candidates(conn: AsyncConnection, types: list[str]) -> list[str]:
    """The types whose breaker may let a probe through now (their rows locked until commit)."""
    return list((await conn.execute(PROBE_CANDIDATES, {"types": types})).scalars())


async def set_half_open(conn: AsyncConnection, task_type: str, probe: uuid.UUID | None) -> None:
    """The breaker lets `probe` through (None: no task was waiting, try again later)."""
    await conn.execute(SET_HALF_OPEN, {"task_type": task_type, "probe": probe})


async def any_not_closed(conn: AsyncConnection, types: list[str]) -> bool:
    """Is any breaker of these types open or half-open? (Then claims look for probes.)"""
    return bool((await conn.execute(ANY_NOT_CLOSED, {"types": types})).scalar_one())


async def record_failure(
    conn: AsyncConnection, task_type: str, task_id: uuid.UUID
) -> BreakerState | None:
    """Count a failed attempt of `task_id`; returns the breaker's state after it (None: the
    type has no breaker row)."""
    row = (await conn.execute(RECORD_FAILURE, {"task_type": task_type, "id": task_id})).first()
    return BreakerState(row.state) if row is not None else None


async def reset(conn: Executor, task_types: list[str]) -> None:
    """Close these types' breakers, forgetting their failures (an operator's or a lab's
    fresh start). `conn` is an AsyncConnection or an AsyncSession; the caller commits."""
    if task_types:
        await conn.execute(RESET, {"types": task_types})


async def states(conn: Executor) -> list[tuple[str, BreakerState]]:
    """Every breaker's state, by task type (the metrics gauge reads this)."""
    rows = (await conn.execute(STATES)).all()
    return [(row.task_type, BreakerState(row.state)) for row in rows]
