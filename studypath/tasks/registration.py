"""Registering task types: a `task_types` row and a `circuit_breakers` row per type.

A worker registers its registry's types when it starts (`register_types`): their
descriptions, the JSON Schema the API checks payloads against, and their breaker settings.
An admin may register a type by name only (`POST /tasks/types` → `register_name`): its
schema and breaker settings, if a worker declared them, are kept. Both run the same two
statements; what differs is whether the caller declares a schema and a breaker.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from studypath.tasks.registry import BreakerConfig, TaskSpec
from studypath.tasks.sql import Executor

UPSERT_TYPE = text(
    """
    INSERT INTO task_types (task_type, description, payload_schema, is_active)
    VALUES (:name, :description, :schema, true)
    ON CONFLICT (task_type) DO UPDATE
    SET description = excluded.description,
        payload_schema = CASE WHEN :declares_schema THEN excluded.payload_schema
                              ELSE task_types.payload_schema END,
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
    WHERE :declares_breaker
    """
)


async def _register(
    conn: Executor,
    name: str,
    description: str,
    *,
    schema: dict[str, Any] | None,
    breaker: BreakerConfig | None,
) -> None:
    """Upsert the type (active again) and its breaker; `None` keeps what is stored."""
    await conn.execute(
        UPSERT_TYPE,
        {
            "name": name,
            "description": description,
            "schema": schema,
            "declares_schema": breaker is not None,  # a handler declares both, or neither
        },
    )
    settings = breaker or BreakerConfig()  # a new row gets the defaults
    await conn.execute(
        UPSERT_BREAKER,
        {
            "name": name,
            "threshold": settings.failure_threshold,
            "recovery": settings.recovery_timeout_seconds,
            "declares_breaker": breaker is not None,
        },
    )


async def register_types(conn: Executor, specs: list[TaskSpec]) -> None:
    """Register the types a worker runs, as its handlers declare them. Caller commits."""
    for spec in specs:
        await _register(
            conn, spec.name, spec.description, schema=spec.payload_schema(), breaker=spec.breaker
        )


async def register_name(conn: Executor, name: str, description: str) -> None:
    """Register a type by name (active, with this description), keeping the schema and the
    breaker settings a worker may have declared. Caller commits."""
    await _register(conn, name, description, schema=None, breaker=None)
