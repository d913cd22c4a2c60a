"""Tasks: create, read, cancel, retry and delete them; list and register types.

The API and the CLI call this. The statements that move tasks are in `queue.py`, the
breaker's in `breakers.py`, registration in `registration.py`, the worker registry in
`workers.py`, counting in `stats.py`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, TypedDict, Unpack

import fastjsonschema
from sqlalchemy import Select, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.core.clock import utcnow
from studypath.core.db import after_commit
from studypath.core.errors import AppError, ErrorCode, not_found
from studypath.core.pagination import PageParams, one_page
from studypath.identity.roles import Role
from studypath.rbac.policy import Actor, can_access_owned
from studypath.tasks.errors import TaskErrorCode
from studypath.tasks.lifecycle import TERMINAL
from studypath.tasks.models import CircuitBreaker, Task, TaskType
from studypath.tasks.queue import NOTIFY_CHANNEL, REQUEUE_DEAD_LETTERS, cancel_waiting
from studypath.tasks.registration import register_name
from studypath.tasks.registry import (
    CreationRefused,
    Creator,
    TaskRegistry,
    TaskSpec,
    required_role,
)
from studypath.tasks.retry import DEFAULT_STRATEGY, RetryStrategy
from studypath.tasks.schemas import MAX_METADATA_BYTES, MAX_PAYLOAD_BYTES, TaskFilter
from studypath.tasks.states import TaskPriority, TaskStatus
from studypath.tasks.stats import count_by_status
from studypath.tasks.workers import live_workers
from studypath.telemetry.metrics import TASKS_CREATED
from studypath.telemetry.tracing import current_context_carrier, traced


# --- task types -------------------------------------------------------------------------------
@traced
async def list_task_types(
    session: AsyncSession, registry: TaskRegistry, *, stale_after: timedelta
) -> list[dict[str, Any]]:
    """Active types, with how many live workers serve each and its breaker's state; each
    type's minimum role is the stricter of its stored schema's and `registry`'s (the
    running system's) registration."""
    workers = await live_workers(session, stale_after=stale_after)
    rows = (
        await session.execute(
            select(TaskType, CircuitBreaker.state)
            .outerjoin(CircuitBreaker, CircuitBreaker.task_type == TaskType.task_type)
            .where(TaskType.is_active.is_(True))
            .order_by(TaskType.task_type)
        )
    ).all()
    return [
        {
            "task_type": task_type.task_type,
            "description": task_type.description,
            "is_active": task_type.is_active,
            "payload_schema": task_type.payload_schema,
            "min_role": required_role(
                registry.get(task_type.task_type), task_type.payload_schema
            ).value,
            "live_workers": sum(task_type.task_type in w["task_types"] for w in workers),
            "breaker_state": state.value if state is not None else None,
        }
        for task_type, state in rows
    ]


@traced
async def register_task_type(session: AsyncSession, name: str, description: str) -> TaskType:
    """Register (or reactivate) a type by name; a worker's schema and breaker are kept."""
    await register_name(session, name, description)
    task_type = await session.get(TaskType, name, populate_existing=True)
    assert task_type is not None
    return task_type


# --- creating tasks -----------------------------------------------------------------------------
def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), default=str).encode())


@lru_cache(maxsize=256)
def _compiled(schema_json: str) -> Callable[[Any], Any]:
    validate: Callable[[Any], Any] = fastjsonschema.compile(
        json.loads(schema_json),
        use_default=False,  # check only: never fill in defaults
    )
    return validate


def check_payload(task_type: str, schema: dict[str, Any], payload: dict[str, Any]) -> None:
    """Validate a payload against its type's JSON Schema (the one its worker registered);
    400 naming the bad field. The compiled validator is cached per schema."""
    try:
        _compiled(json.dumps(schema, sort_keys=True))(payload)
    except fastjsonschema.JsonSchemaValueException as exc:
        field = "payload" + (exc.name or "data").removeprefix("data")
        message = f"invalid payload for {task_type}: {exc.message.replace('data', 'payload', 1)}"
        raise AppError(
            ErrorCode.VALIDATION_FAILED, message, details=[{"field": field, "message": message}]
        ) from None


def _invalid(message: str, field: str) -> AppError:
    return AppError(
        ErrorCode.VALIDATION_FAILED, message, details=[{"field": field, "message": message}]
    )


class TaskOptions(TypedDict, total=False):
    """How new tasks run: the keyword options `create_task` and `enqueue_many` share, each
    one optional. `_columns` fills in the defaults — priority normal, scheduled_at now,
    metadata {}, max_attempts 5, retry_strategy DEFAULT_STRATEGY — and checks the limits."""

    priority: TaskPriority
    scheduled_at: datetime | None  # from 1 hour ago to 365 days ahead
    metadata: dict[str, Any]  # at most 64 KiB as JSON
    max_attempts: int  # 1 to 100
    retry_strategy: RetryStrategy | None


def _columns(options: TaskOptions, created_by: uuid.UUID | None) -> dict[str, Any]:
    """The columns every task of one call shares (by `Task` attribute), from the options:
    the defaults filled in, the limits checked (400 naming the option)."""
    metadata = options.get("metadata") or {}
    if _json_size(metadata) > MAX_METADATA_BYTES:
        raise _invalid("metadata is larger than 64 KiB", "metadata")
    max_attempts = options.get("max_attempts", 5)
    if not 1 <= max_attempts <= 100:
        raise _invalid("max_attempts must be between 1 and 100", "max_attempts")
    retry_strategy = options.get("retry_strategy") or DEFAULT_STRATEGY
    return {
        "priority": options.get("priority", TaskPriority.NORMAL),
        "scheduled_at": _checked_schedule(options.get("scheduled_at"), utcnow()),
        "metadata_": metadata,
        "max_attempts": max_attempts,
        "retry_strategy": retry_strategy.model_dump(mode="json"),
        "created_by": created_by,
        "trace_context": current_context_carrier() or None,  # the request's trace, continued
    }


def _checked_payload(task_type: str, schema: dict[str, Any] | None, payload: Any) -> str:
    """The payload as JSON text, once it is an object within 1 MiB that fits the schema
    the type's worker registered; 400 naming the bad field otherwise."""
    if not isinstance(payload, dict):
        raise _invalid("a payload must be a JSON object", "payload")
    encoded = json.dumps(payload, separators=(",", ":"), default=str)
    if len(encoded.encode()) > MAX_PAYLOAD_BYTES:
        raise _invalid("payload is larger than 1 MiB", "payload")
    if schema:
        check_payload(task_type, schema, payload)
    return encoded


@traced
async def create_task(
    session: AsyncSession,
    *,
    task_type: str,
    payload: dict[str, Any],
    created_by: uuid.UUID | None,
    creator: Creator | None = None,
    registry: TaskRegistry | None = None,
    **options: Unpack[TaskOptions],
) -> Task:
    """Validate and enqueue a task in the caller's transaction; workers hear about it when
    the caller commits (NOTIFY is transactional), and nothing is queued if it rolls back.

    `creator` is the signed-in user when the task comes through the API: the type's
    minimum role (403) and creation rule (403) are checked for them, as `registry` (the
    running system's) registered the type. Code that queues work of its own (a note
    share's notification, the CLI) passes neither."""
    if creator is not None and registry is None:
        raise TypeError("create_task: a creator's task is checked against a registry; pass one")
    registered = await _registered_type(session, task_type)
    spec = registry.get(task_type) if registry is not None else None
    if creator is not None:
        _check_role(task_type, spec, registered.payload_schema, creator)
    _checked_payload(task_type, registered.payload_schema, payload)
    if creator is not None:
        _check_creation_rule(spec, payload, creator)
    task = Task(task_type=task_type, payload=payload, **_columns(options, created_by))
    session.add(task)
    # The INSERT returns the id and the server defaults (status, timestamps, …) with it
    # (SQLAlchemy's eager defaults on PostgreSQL): the task is complete without a re-read.
    await session.flush()
    await notify_workers(session, task_type)
    after_commit(session, TASKS_CREATED.labels(task_type=task_type).inc)
    return task


async def _registered_type(session: AsyncSession, task_type: str) -> Any:
    """The type's row (is_active, payload_schema); 400 listing the types if it is unknown."""
    registered = (
        await session.execute(
            select(TaskType.is_active, TaskType.payload_schema).where(
                TaskType.task_type == task_type
            )
        )
    ).first()
    if registered is None or not registered.is_active:
        names = list(
            await session.scalars(
                select(TaskType.task_type)
                .where(TaskType.is_active.is_(True))
                .order_by(TaskType.task_type)
            )
        )
        listed = ", ".join(names) or "none"
        raise _invalid(
            f"Unknown or inactive task type {task_type!r}; registered: {listed}", "task_type"
        )
    return registered


def _check_role(
    task_type: str, spec: TaskSpec | None, schema: dict[str, Any] | None, creator: Creator
) -> None:
    """403 unless the creator's role reaches the type's minimum role."""
    needed = required_role(spec, schema)
    if not creator.role.at_least(needed):
        raise AppError(
            ErrorCode.FORBIDDEN,
            f"Creating {task_type} tasks needs the {needed.value} role",
            details=[{"field": "task_type", "message": f"minimum role: {needed.value}"}],
        )


def _check_creation_rule(spec: TaskSpec | None, payload: dict[str, Any], creator: Creator) -> None:
    """The type's own rule about who may queue which payload (e.g. email's sender rules)."""
    if spec is None or spec.creation_rule is None:
        return
    try:
        spec.creation_rule(payload, creator)
    except CreationRefused as refused:
        raise AppError(
            ErrorCode.FORBIDDEN,
            refused.message,
            details=[{"field": refused.field, "message": refused.message}],
        ) from None


def _checked_schedule(scheduled_at: datetime | None, now: datetime) -> datetime:
    if scheduled_at is None:
        return now
    if scheduled_at.tzinfo is None:
        scheduled_at = scheduled_at.replace(tzinfo=UTC)
    if not now - timedelta(hours=1) <= scheduled_at <= now + timedelta(days=365):
        raise _invalid("scheduled_at must be between 1 hour ago and 365 days ahead", "scheduled_at")
    return scheduled_at


MAX_BATCH = 100_000

# Many tasks of one type in one statement: the payloads travel as one array of JSON texts,
# the columns they share (`_columns`) once. The database generates the ids (in a CTE,
# materialized because it is used twice), and the statement returns them in the payloads'
# order.
ENQUEUE_MANY = text(
    """
    WITH new AS MATERIALIZED (
        SELECT gen_random_uuid() AS id, p.payload, p.n
        FROM unnest(CAST(:payloads AS text[])) WITH ORDINALITY AS p(payload, n)
    ), inserted AS (
        INSERT INTO tasks (id, task_type, payload, priority, scheduled_at, metadata,
                           max_attempts, retry_strategy, created_by, trace_context)
        SELECT new.id, :task_type, CAST(new.payload AS jsonb), :priority, :scheduled_at,
               :metadata_, :max_attempts, :retry_strategy, :created_by, :trace_context
        FROM new
    )
    SELECT id FROM new ORDER BY n
    """
).bindparams(  # typed as the columns are, so the same Python values go in as `Task(...)`'s
    bindparam("priority", type_=Task.__table__.c.priority.type),
    bindparam("metadata_", type_=JSONB),
    bindparam("retry_strategy", type_=JSONB),
    bindparam("trace_context", type_=JSONB(none_as_null=True)),
)


@traced
async def enqueue_many(
    session: AsyncSession,
    *,
    task_type: str,
    payloads: list[dict[str, Any]],
    created_by: uuid.UUID | None,
    **options: Unpack[TaskOptions],
) -> list[uuid.UUID]:
    """Enqueue many tasks of one type at once: each payload is checked as `create_task`
    checks it (a bad one refuses the whole batch, naming its index), then one INSERT and one
    NOTIFY, in the caller's transaction. Returns the new ids, in the payloads' order."""
    if not payloads:
        return []
    if len(payloads) > MAX_BATCH:
        raise _invalid(f"at most {MAX_BATCH} tasks per batch", "payloads")
    columns = _columns(options, created_by)
    schema = (await _registered_type(session, task_type)).payload_schema
    texts = []
    for index, payload in enumerate(payloads):
        try:
            texts.append(_checked_payload(task_type, schema, payload))
        except AppError as exc:
            field = f"payloads[{index}]"
            raise _invalid(f"{field}: {exc.message}", field) from None
    new_ids = await session.scalars(
        ENQUEUE_MANY, {"task_type": task_type, "payloads": texts, **columns}
    )
    ids: list[uuid.UUID] = list(new_ids)
    await notify_workers(session, task_type)
    after_commit(session, lambda: TASKS_CREATED.labels(task_type=task_type).inc(len(ids)))
    return ids


async def notify_workers(session: AsyncSession, message: str) -> None:
    """NOTIFY is transactional: workers hear it when (and only if) the caller commits."""
    await session.execute(
        text("SELECT pg_notify(:channel, :message)"),
        {"channel": NOTIFY_CHANNEL, "message": message},
    )


# --- reading tasks --------------------------------------------------------------------------------
@traced
async def visible_task(session: AsyncSession, actor: Actor, task_id: uuid.UUID) -> Task:
    """The task if the actor owns it or is a moderator or admin; otherwise 404."""
    task = await session.get(Task, task_id, populate_existing=True)
    if task is None or not can_access_owned(actor, task.created_by):
        raise not_found("Task", TaskErrorCode.TASK_NOT_FOUND)
    return task


def _scoped(actor: Actor) -> Select[Task]:
    query = select(Task)
    if not actor.role.at_least(Role.MODERATOR):
        query = query.where(Task.created_by == actor.user_id)
    return query


@traced
async def list_tasks(
    session: AsyncSession, actor: Actor, page: PageParams, wanted: TaskFilter
) -> tuple[list[Task], int]:
    """The actor's tasks (staff: everyone's) that match `wanted`: critical first, then oldest."""
    query = _scoped(actor)
    if wanted.task_type is not None:
        query = query.where(Task.task_type == wanted.task_type)
    if wanted.status is not None:
        query = query.where(Task.status == wanted.status)
    if wanted.priority is not None:
        query = query.where(Task.priority == wanted.priority)
    return await one_page(session, query, page, Task.priority_rank.desc(), Task.created_at, Task.id)


@traced
async def task_stats(session: AsyncSession) -> dict[str, Any]:
    """Counts by status (every status, and the total) and, per type, the non-zero ones."""
    counts = await count_by_status(session)
    stats: dict[str, Any] = {status.value: n for status, n in counts.by_status.items()}
    stats["total"] = counts.total
    stats["by_type"] = {
        task_type: {status.value: n for status, n in per_status.items() if n}
        for task_type, per_status in counts.by_type.items()
    }
    return stats


# --- acting on tasks ------------------------------------------------------------------------------
@traced
async def cancel_task(session: AsyncSession, actor: Actor, task_id: uuid.UUID) -> tuple[Task, str]:
    """Waiting tasks are cancelled at once; a running one is asked to stop (its worker
    honours it within a heartbeat). Finished tasks: 409."""
    task = await visible_task(session, actor, task_id)
    if task.status in TERMINAL:
        raise AppError(ErrorCode.CONFLICT, f"Task is already {task.status.value}")
    if await cancel_waiting(session, task_ids=[task_id]):
        message = "Task cancelled"
    else:
        await session.execute(
            update(Task)
            .where(
                Task.id == task_id,
                Task.status == TaskStatus.RUNNING,
                Task.cancel_requested_at.is_(None),
            )
            .values(cancel_requested_at=func.now(), updated_at=func.now())
        )
        await notify_workers(session, f"cancel:{task_id}")
        message = "Cancellation requested; the worker will stop the task"
    return await visible_task(session, actor, task_id), message


@traced
async def retry_task(session: AsyncSession, actor: Actor, task_id: uuid.UUID) -> Task:
    """A dead-lettered task goes back to the queue with its attempts reset."""
    task = await visible_task(session, actor, task_id)
    moved = (
        await session.execute(
            REQUEUE_DEAD_LETTERS.where(Task.id == task.id)
            .returning(Task)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if moved is None:
        raise not_found("Failed task", TaskErrorCode.TASK_NOT_FOUND)
    await notify_workers(session, task.task_type)
    return moved  # as requeued (a worker may take it the moment the caller commits)


@traced
async def delete_task(session: AsyncSession, actor: Actor, task_id: uuid.UUID) -> None:
    task = await visible_task(session, actor, task_id)
    if task.status not in TERMINAL:
        raise AppError(
            ErrorCode.CONFLICT,
            f"Only completed, failed or cancelled tasks can be deleted (this one is "
            f"{task.status.value}); cancel it first",
        )
    await session.delete(task)
    await session.flush()


async def requeue_dead_letters(session: AsyncSession, task_type: str | None = None) -> int:
    """Every failed task (of a type) back to the queue with attempts reset; returns how many."""
    query = REQUEUE_DEAD_LETTERS.returning(Task.task_type)
    if task_type is not None:
        query = query.where(Task.task_type == task_type)
    requeued = list((await session.execute(query)).scalars())
    for name in set(requeued):
        await notify_workers(session, name)
    return len(requeued)
