"""Tasks endpoints (`/api/v1/tasks/*`). Thin: the queue's rules live in the service."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Response

from studypath.auth.dependencies import CurrentUser, Principal, optional_principal
from studypath.core.db import DbSession
from studypath.core.errors import AppError, ErrorCode
from studypath.core.pagination import Page, paged
from studypath.core.responses import Envelope, ok
from studypath.core.state import State
from studypath.identity.roles import Role
from studypath.rbac.dependencies import Moderator, RoleRequirement
from studypath.tasks import service
from studypath.tasks.models import Task
from studypath.tasks.registry import Creator
from studypath.tasks.schemas import (
    CreateTask,
    RegisterTaskType,
    TaskFilter,
    TaskResponse,
    TaskStats,
    TasksWanted,
    TaskTypeInfo,
)
from studypath.tasks.states import TaskStatus
from studypath.telemetry.tracing import traced_router

router = traced_router("tasks")


def task_out(task: Task) -> TaskResponse:
    return TaskResponse.model_validate(task)


@dataclass(frozen=True)
class AdminOrWorker(RoleRequirement):
    """Admins, or a worker that shows the shared `X-Worker-Token`; returns who it was.

    A `RoleRequirement` with `minimum=ADMIN`, so the access matrix (studypath/viz/access.py)
    reads its rule; the worker token is a credential, not a role, so the matrix does not
    list it."""

    async def __call__(
        self,
        state: State,
        principal: Annotated[Principal | None, Depends(optional_principal)],
        x_worker_token: Annotated[str | None, Header()] = None,
    ) -> str:
        expected = state.settings.worker_token
        if x_worker_token is not None and expected is not None:
            if hmac.compare_digest(x_worker_token, expected.get_secret_value()):
                return "worker"
            raise AppError(ErrorCode.UNAUTHORIZED, "Invalid worker token")
        if principal is None:
            raise AppError(ErrorCode.UNAUTHORIZED, "Authentication required")
        if not principal.role.at_least(self.minimum):
            raise AppError(ErrorCode.FORBIDDEN, "Registering task types needs an admin or a worker")
        return "admin"

    @property
    def __name__(self) -> str:
        return "admin_or_worker"


admin_or_worker = AdminOrWorker(Role.ADMIN)


@router.get("/types", response_model=Envelope[list[TaskTypeInfo]])
async def list_task_types(state: State, db: DbSession) -> Envelope[list[TaskTypeInfo]]:
    """Registered, active task types: each one's payload schema (every accepted shape), the
    lowest role that may create it, how many live workers serve it, its breaker state.

    No sign-in needed, on purpose: type names and payload schemas are public documentation,
    as this OpenAPI document is, and clients (the reference's test script among them) read
    them before signing in. Nothing here names a machine: workers are only counted, never
    listed with their host or process id."""
    heartbeat = state.settings.worker_heartbeat_seconds
    types = await service.list_task_types(
        db, state.registry, stale_after=timedelta(seconds=heartbeat * 3)
    )
    return ok([TaskTypeInfo.model_validate(item) for item in types])


@router.post("/types", response_model=Envelope[TaskTypeInfo])
async def register_task_type(
    body: RegisterTaskType, db: DbSession, who: Annotated[str, Depends(admin_or_worker)]
) -> Envelope[TaskTypeInfo]:
    """Register (or update) a task type. Admins, or workers with the worker token."""
    task_type = await service.register_task_type(db, body.task_type, body.description)
    return ok(TaskTypeInfo.model_validate(task_type), f"Task type registered by {who}")


@router.post("", response_model=Envelope[TaskResponse])
async def create_task(
    body: CreateTask, principal: CurrentUser, db: DbSession, state: State
) -> Envelope[TaskResponse]:
    """Queue a task. 400 for an unknown type, a bad payload or limits exceeded; 403 when
    your role may not create this type (see `min_role` in GET /tasks/types) or send this
    payload (the email type's rules for users)."""
    task = await service.create_task(
        db,
        **dict(body),  # task_type, payload, priority, … as validated (not dumped to JSON)
        created_by=principal.user_id,
        creator=Creator(user_id=principal.user_id, role=principal.role, email=principal.email),
        registry=state.registry,
    )
    return ok(task_out(task), "Task created")


@router.get("", response_model=Envelope[list[TaskResponse]])
async def list_tasks(
    principal: CurrentUser, db: DbSession, page: Page, response: Response, wanted: TasksWanted
) -> Envelope[list[TaskResponse]]:
    """Your tasks (moderators and admins: everyone's), critical first, then oldest.
    Total in `X-Total-Count`."""
    tasks, total = await service.list_tasks(db, principal, page, wanted)
    return paged(response, [task_out(task) for task in tasks], total)


@router.get("/stats", response_model=Envelope[TaskStats])
async def task_stats(actor: Moderator, db: DbSession) -> Envelope[TaskStats]:
    """Counts by status, overall and per type."""
    return ok(TaskStats.model_validate(await service.task_stats(db)))


@router.get("/dead-letter", response_model=Envelope[list[TaskResponse]])
async def dead_letter(
    principal: CurrentUser, db: DbSession, page: Page, response: Response
) -> Envelope[list[TaskResponse]]:
    """Failed tasks (out of attempts), with their error history. Yours, or all for staff."""
    dead = TaskFilter(status=TaskStatus.DEAD_LETTER)
    tasks, total = await service.list_tasks(db, principal, page, dead)
    return paged(response, [task_out(task) for task in tasks], total)


@router.get("/{task_id:uuid}", response_model=Envelope[TaskResponse])
async def get_task(
    task_id: uuid.UUID, principal: CurrentUser, db: DbSession
) -> Envelope[TaskResponse]:
    return ok(task_out(await service.visible_task(db, principal, task_id)))


@router.post("/{task_id:uuid}/cancel", response_model=Envelope[TaskResponse])
async def cancel_task(
    task_id: uuid.UUID, principal: CurrentUser, db: DbSession
) -> Envelope[TaskResponse]:
    """Pending or retrying: cancelled now. Running: the worker is asked to stop it.
    Already finished: 409."""
    task, message = await service.cancel_task(db, principal, task_id)
    return ok(task_out(task), message)


@router.post("/{task_id:uuid}/retry", response_model=Envelope[TaskResponse])
async def retry_task(
    task_id: uuid.UUID, principal: CurrentUser, db: DbSession
) -> Envelope[TaskResponse]:
    """Send a failed (dead-lettered) task back to the queue, attempts reset."""
    return ok(task_out(await service.retry_task(db, principal, task_id)), "Task queued again")


@router.delete("/{task_id:uuid}", response_model=Envelope[None])
async def delete_task(task_id: uuid.UUID, principal: CurrentUser, db: DbSession) -> Envelope[None]:
    """Delete a finished task (completed, failed or cancelled)."""
    await service.delete_task(db, principal, task_id)
    return ok(None, "Task deleted")
