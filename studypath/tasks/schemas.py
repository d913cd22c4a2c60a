"""Request and response shapes of the tasks API (API.md, Tasks)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from studypath.core.responses import RowOut
from studypath.core.validation import (
    InputModel,
    IsoDateTime,
    JsonInt,
    Text,
    bounded_json,
    check_text,
)
from studypath.tasks.retry import RetryStrategy
from studypath.tasks.states import TaskPriority, TaskStatus

# (The constraints come before the `Text` check, so the pattern stays in the JSON schema.)
TaskTypeName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$"),
    AfterValidator(check_text),
]
TaskTypeFilter = Annotated[Text, StringConstraints(min_length=1, max_length=128)]

MAX_PAYLOAD_BYTES = 1024 * 1024
MAX_METADATA_BYTES = 64 * 1024

# Free-form JSON that is stored and later served back: bounded in size and depth (16), text
# PostgreSQL can hold, finite numbers — so no stored task can break a later listing.
Payload = Annotated[dict[str, Any], bounded_json(MAX_PAYLOAD_BYTES)]
Metadata = Annotated[dict[str, Any], bounded_json(MAX_METADATA_BYTES)]


class CreateTask(InputModel):
    task_type: TaskTypeName
    payload: Payload = Field(
        default_factory=dict,
        description="At most 1 MiB as JSON, 16 levels deep; checked against the type's "
        "payload_schema (GET /tasks/types).",
    )
    priority: TaskPriority = TaskPriority.NORMAL
    scheduled_at: IsoDateTime | None = Field(
        default=None,
        description="Run no earlier than this (from 1 h ago to 365 days ahead, else 400).",
    )
    metadata: Metadata = Field(
        default_factory=dict, description="At most 64 KiB as JSON, 16 levels deep."
    )
    max_attempts: JsonInt = Field(default=5, ge=1, le=100)
    retry_strategy: RetryStrategy | None = Field(
        default=None,
        description='"exponential" (default: 1 s ×2 up to 300 s, full jitter), "linear", '
        '"fixed" or "none" — or an object with type, base_delay_seconds, multiplier, '
        "max_delay_seconds, jitter.",
    )


@dataclass(frozen=True)
class TaskFilter:
    """Which tasks a listing shows (`GET /tasks`'s query parameters); None: any."""

    task_type: TaskTypeFilter | None = None
    status: TaskStatus | None = None
    priority: TaskPriority | None = None


# The filter as `GET /tasks` takes it: its query parameters, read into one `TaskFilter`.
TasksWanted = Annotated[TaskFilter, Depends()]


class TaskResponse(RowOut):
    task_type: str
    status: TaskStatus
    priority: TaskPriority
    payload: dict[str, Any]
    result: Any | None
    max_attempts: int
    current_attempt: int
    last_error: str | None
    error_history: list[dict[str, Any]]
    retry_strategy: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    scheduled_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    cancel_requested_at: datetime | None
    created_by: uuid.UUID | None
    metadata: dict[str, Any] = Field(validation_alias="metadata_")


class TaskTypeInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    task_type: str
    description: str
    is_active: bool
    payload_schema: dict[str, Any] | None = None
    min_role: str = Field(
        default="user", description="The lowest role that may create tasks of this type."
    )
    live_workers: int = 0
    breaker_state: str | None = None


class RegisterTaskType(InputModel):
    task_type: TaskTypeName
    description: Text = Field(default="", max_length=1000)


class TaskStats(BaseModel):
    total: int
    pending: int
    running: int
    completed: int
    failed: int
    cancelled: int
    retrying: int
    by_type: dict[str, dict[str, int]]
