"""The `task_types`, `tasks` and `workers` tables: the queue lives in PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    Computed,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from studypath.core.db import Base
from studypath.core.types import CreatedAt, JSONDict, Timestamp, UpdatedAt, UUIDPk, str_enum
from studypath.tasks.states import BreakerState, TaskPriority, TaskStatus, priority_rank_sql


class TaskType(Base):
    """A registered kind of task. Creating a task of an unknown or inactive type is refused."""

    __tablename__ = "task_types"

    task_type: Mapped[str] = mapped_column(String(128), primary_key=True)
    description: Mapped[str] = mapped_column(Text, server_default="")
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    payload_schema: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class Task(Base):
    """One unit of background work and everything needed to run, retry or explain it."""

    __tablename__ = "tasks"
    # A queue table pays for each of its indexes twice per task (claim, then outcome: both
    # change `status`, so PostgreSQL writes a new entry in every index). Only what the hot
    # path and the common lists need is here; migration 0006 explains the choice.
    __table_args__ = (
        # The claim's index, in exactly the claim's order (priority, schedule, age): the claim
        # walks it and stops after N rows, however long the backlog is.
        Index(
            "ix_tasks_ready",
            text("priority_rank DESC"),
            "scheduled_at",
            "created_at",
            postgresql_where=text("status IN ('pending', 'retrying')"),
        ),
        # Running tasks by lease end: the reaper finds abandoned tasks here.
        Index(
            "ix_tasks_lease",
            "lease_expires_at",
            postgresql_where=text("status = 'running'"),
        ),
        # The dead-letter queue in its listing order; a row enters it only when it fails.
        Index(
            "ix_tasks_dead_letter",
            text("priority_rank DESC"),
            "created_at",
            "id",
            postgresql_where=text("status = 'failed'"),
        ),
        Index(None, "created_by"),  # "my tasks"
    )

    id: Mapped[UUIDPk]
    task_type: Mapped[str] = mapped_column(
        String(128), ForeignKey("task_types.task_type", onupdate="CASCADE")
    )
    status: Mapped[TaskStatus] = mapped_column(
        str_enum(TaskStatus, "status"), server_default=TaskStatus.PENDING.value
    )
    priority: Mapped[TaskPriority] = mapped_column(
        str_enum(TaskPriority, "priority"), server_default=TaskPriority.NORMAL.value
    )
    priority_rank: Mapped[int] = mapped_column(
        SmallInteger, Computed(priority_rank_sql(), persisted=True)
    )
    payload: Mapped[JSONDict]
    result: Mapped[Any | None] = mapped_column(JSONB)
    metadata_: Mapped[JSONDict] = mapped_column("metadata")
    retry_strategy: Mapped[JSONDict]
    max_attempts: Mapped[int] = mapped_column(Integer, server_default=text("5"))
    current_attempt: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    error_history: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]
    scheduled_at: Mapped[Timestamp] = mapped_column(server_default=func.now())
    started_at: Mapped[Timestamp | None]
    completed_at: Mapped[Timestamp | None]
    # Lease: a running task belongs to `locked_by` until `lease_expires_at`; heartbeats extend
    # it. An expired lease means the worker died, and the task goes back to the queue.
    locked_by: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[Timestamp | None]
    heartbeat_at: Mapped[Timestamp | None]
    cancel_requested_at: Mapped[Timestamp | None]
    # W3C trace context of the request that created the task: its execution continues that
    # trace, so a request and the work it caused show up as one tree of spans.
    trace_context: Mapped[dict[str, str] | None] = mapped_column(JSONB)


class WorkerRecord(Base):
    """A worker process that is (or was) alive; health reads its heartbeat."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    task_types: Mapped[list[str]] = mapped_column(
        ARRAY(String(128)), server_default=text("'{}'::varchar[]")
    )
    concurrency: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[CreatedAt]
    heartbeat_at: Mapped[Timestamp] = mapped_column(server_default=func.now())
    stopped_at: Mapped[Timestamp | None]


class CircuitBreaker(Base):
    """One breaker per task type, shared by every worker through this row."""

    __tablename__ = "circuit_breakers"

    task_type: Mapped[str] = mapped_column(
        String(128),
        ForeignKey("task_types.task_type", ondelete="CASCADE", onupdate="CASCADE"),
        primary_key=True,
    )
    state: Mapped[BreakerState] = mapped_column(
        str_enum(BreakerState, "state"), server_default=BreakerState.CLOSED.value
    )
    failure_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    failure_threshold: Mapped[int] = mapped_column(Integer, server_default=text("5"))
    recovery_timeout_seconds: Mapped[float] = mapped_column(Float, server_default=text("30"))
    opened_at: Mapped[Timestamp | None]
    probe_task_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    updated_at: Mapped[UpdatedAt]
