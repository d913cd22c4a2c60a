"""The chaos tasks and their ledger: what a run's tasks *do*, written so it can be counted.

Each task carries an effect key (`<run>:<n>`). Its handler applies the effect by writing the
key into `chaos.effects`, whose primary key is (run, key): applying an effect is idempotent,
and a second delivery of the same key — the queue delivers *at least* once, so a worker that
dies between doing the work and recording the task's completion gets its task run again —
is absorbed and counted (`deliveries`), not applied twice. After a run the ledger answers,
by counting rather than guessing: which submitted keys have no effect (lost), which were
delivered more than once (redelivered), and whether any effect exists twice (duplicates).

The table lives in a schema of its own (`chaos`), created by the chaos run when it starts
(`ensure_ledger`, idempotent) rather than by an Alembic migration: it is an experiment's
instrument, not part of the application's data model. A migration would put it into every
deployment's database (and its backups) whether or not anyone ever runs an experiment there,
and the application's models would have to describe a table the application never touches.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
from pydantic import Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from studypath.core.validation import InputModel
from studypath.identity.roles import Role
from studypath.tasks.registry import BreakerConfig, TaskContext, TaskRegistry

EFFECT_TYPE = "chaos_effect"  # local work, then the effect
CALL_TYPE = "chaos_call"  # an HTTP call to a (flaky) dependency, then the effect
# The breaker of the calling type opens after a few failures and probes again soon, so a
# short run sees it open, half-open and close.
CALL_BREAKER = BreakerConfig(failure_threshold=3, recovery_timeout_seconds=1.0)

SCHEMA_SQL = """
CREATE SCHEMA IF NOT EXISTS chaos;
CREATE TABLE IF NOT EXISTS chaos.effects (
    run_id      text        NOT NULL,
    effect_key  text        NOT NULL,
    task_id     uuid        NOT NULL,
    deliveries  integer     NOT NULL DEFAULT 1,
    applied_by  text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    last_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_chaos_effects PRIMARY KEY (run_id, effect_key)
);
"""

APPLY = text(
    """
    INSERT INTO chaos.effects (run_id, effect_key, task_id, applied_by)
    VALUES (:run_id, :key, :task_id, :worker)
    ON CONFLICT (run_id, effect_key)
    DO UPDATE SET deliveries = chaos.effects.deliveries + 1, last_at = now()
    RETURNING deliveries
    """
)

LEDGER_SUMMARY = text(
    """
    SELECT count(*) AS effects,
           count(DISTINCT effect_key) AS distinct_keys,
           coalesce(sum(deliveries - 1), 0) AS redeliveries
    FROM chaos.effects WHERE run_id = :run_id
    """
)

LEDGER_KEYS = text("SELECT effect_key FROM chaos.effects WHERE run_id = :run_id")


class EffectPayload(InputModel):
    run_id: str = Field(min_length=1, max_length=64)
    key: str = Field(min_length=1, max_length=128)
    work_ms: float = Field(default=20.0, ge=0, le=60_000)


class CallPayload(EffectPayload):
    url: str = Field(min_length=1, max_length=2048)
    timeout_seconds: float = Field(default=2.0, gt=0, le=60)


async def ensure_ledger(conn: AsyncConnection) -> None:
    """Create the ledger if this database has none yet (idempotent)."""
    await conn.exec_driver_sql(SCHEMA_SQL)


async def apply_effect(ctx: TaskContext, payload: EffectPayload) -> int:
    """Write the effect (once per key); returns how many times the key was delivered."""
    assert ctx.db is not None, "a chaos task needs the worker's database"
    async with ctx.db.engine.begin() as conn:
        result = await conn.execute(
            APPLY,
            {
                "run_id": payload.run_id,
                "key": payload.key,
                "task_id": ctx.task_id,
                "worker": f"pid {os.getpid()}",
            },
        )
        return int(result.scalar_one())


async def chaos_effect(payload: EffectPayload, ctx: TaskContext) -> dict[str, Any]:
    """Do `work_ms` of work, then apply the effect."""
    await asyncio.sleep(payload.work_ms / 1000)
    ctx.check_cancelled()
    deliveries = await apply_effect(ctx, payload)
    return {"key": payload.key, "deliveries": deliveries}


async def chaos_call(payload: CallPayload, ctx: TaskContext) -> dict[str, Any]:
    """Call the dependency; only its 2xx answer lets the effect happen. Anything else (a
    500, a timeout, a refused connection) fails the attempt: retried, and counted against
    the breaker."""
    await asyncio.sleep(payload.work_ms / 1000)
    async with httpx.AsyncClient(timeout=payload.timeout_seconds) as client:
        response = await client.post(
            payload.url, json={"key": payload.key}, headers={"Idempotency-Key": payload.key}
        )
    if response.status_code >= 300:
        raise RuntimeError(f"the dependency answered {response.status_code}")
    deliveries = await apply_effect(ctx, payload)
    return {"key": payload.key, "deliveries": deliveries, "status": response.status_code}


def register(registry: TaskRegistry) -> TaskRegistry:
    """Add the chaos task types to `registry` (a chaos worker's); returns it."""
    registry.register(
        EFFECT_TYPE,
        "Chaos experiment: work, then an idempotent effect",
        payload=EffectPayload,
        min_role=Role.ADMIN,
    )(chaos_effect)
    registry.register(
        CALL_TYPE,
        "Chaos experiment: call a flaky dependency, then an idempotent effect",
        payload=CallPayload,
        timeout=10.0,
        breaker=CALL_BREAKER,
        min_role=Role.ADMIN,
    )(chaos_call)
    return registry
