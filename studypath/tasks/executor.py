"""The executor: runs claimed tasks' handlers, each as one asyncio task, and says how each
one ended.

    start(task, spec)   the handler runs: payload parsed, under the type's timeout, in the
                        trace of the request that created the task
    stop(id, reason)    cancel a running handler (cancellation asked, shutdown, lease lost)
    ending(entry)       what the handler's end means: a result, a failed attempt, a
                        cancellation — the worker records it

It touches no database: the worker records what `ending` says.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from opentelemetry.trace import SpanKind

from studypath.config import Settings
from studypath.core.db import Database
from studypath.tasks.queue import ClaimedTask, result_json
from studypath.tasks.registry import PermanentError, TaskCancelled, TaskContext, TaskSpec
from studypath.telemetry import metrics
from studypath.telemetry.tracing import LAYER, context_from, tracer


class StopReason(StrEnum):
    """Why this worker stopped a handler itself."""

    CANCEL = "cancel"  # its cancellation was requested
    SHUTDOWN = "shutdown"  # the worker is stopping and the grace period is over
    LOST = "lost"  # its lease was lost: another worker owns the task now


@dataclass
class Running:
    """A task this worker is executing right now (or whose success it is writing)."""

    task: ClaimedTask
    handler: asyncio.Task[Any]
    ctx: TaskContext
    started: float  # time.perf_counter() when the handler started
    timeout_seconds: float
    stop_reason: StopReason | None = None  # set when we stop it


# --- how a handler ended ------------------------------------------------------------------
@dataclass(frozen=True)
class Succeeded:
    result_json: str  # the handler's result, as JSON text


@dataclass(frozen=True)
class AttemptFailed:
    error: str
    permanent: bool = False  # bad input: a dead letter at once, and not the service's fault


@dataclass(frozen=True)
class CancelHonoured:
    reason: str


@dataclass(frozen=True)
class StoppedByUs:
    reason: StopReason | None  # None: cancelled from outside, as good as lost


Ending = Succeeded | AttemptFailed | CancelHonoured | StoppedByUs


def ending(entry: Running) -> Ending:
    """What the (finished) handler's end means for the task."""
    handler = entry.handler
    if handler.cancelled():
        return StoppedByUs(entry.stop_reason)
    exc = handler.exception()
    if exc is None:
        try:
            return Succeeded(result_json(handler.result()))
        except (TypeError, ValueError) as bad:
            return AttemptFailed(f"result is not JSON: {bad}", permanent=True)
    if isinstance(exc, TaskCancelled):
        if entry.stop_reason:
            return StoppedByUs(entry.stop_reason)
        return CancelHonoured("cancelled by request")
    if isinstance(exc, PermanentError):
        return AttemptFailed(str(exc), permanent=True)
    if isinstance(exc, TimeoutError):
        return AttemptFailed(f"timed out after {entry.timeout_seconds:g} s")
    return AttemptFailed(f"{type(exc).__name__}: {exc}")


class Executor:
    """One state: `running`, the handlers of this worker that have not ended yet."""

    def __init__(
        self,
        *,
        worker_id: str,
        db: Database,
        settings: Settings,
        on_end: Callable[[Running], None],
    ) -> None:
        self.worker_id = worker_id
        self.db = db
        self.settings = settings
        self.on_end = on_end  # called (synchronously) as each handler ends
        self.running: dict[uuid.UUID, Running] = {}

    def __len__(self) -> int:
        return len(self.running)

    def start(self, task: ClaimedTask, spec: TaskSpec) -> Running:
        ctx = TaskContext.build(
            task_id=task.id,
            task_type=task.task_type,
            attempt=task.attempt,
            max_attempts=task.max_attempts,
            created_by=task.created_by,
            db=self.db,
            settings=self.settings,
            timeout_seconds=spec.timeout_seconds,  # the deadline `asyncio.timeout` enforces
        )

        async def call_handler() -> Any:
            payload = spec.parse_payload(task.payload)
            async with asyncio.timeout(spec.timeout_seconds):
                return await spec.handler(payload, ctx)

        async def call_handler_traced() -> Any:
            # The task's span continues the trace of the request that created it.
            with tracer.start_as_current_span(
                f"task {task.task_type}",
                context=context_from(task.trace_context),
                kind=SpanKind.CONSUMER,
                attributes={
                    LAYER: "task",
                    "studypath.task_id": str(task.id),
                    "studypath.attempt": task.attempt,
                    "studypath.worker": self.worker_id,
                },
            ):
                return await call_handler()

        # A task queued without a request (bulk inserts, the CLI) has no trace to continue.
        run = call_handler_traced if task.trace_context else call_handler
        handler = asyncio.create_task(run(), name=f"task {task.id}")
        entry = Running(task, handler, ctx, time.perf_counter(), spec.timeout_seconds)
        self.running[task.id] = entry
        metrics.TASKS_STARTED.labels(task_type=task.task_type).inc()
        handler.add_done_callback(lambda _: self.on_end(entry))
        return entry

    def finished(self, task_id: uuid.UUID) -> None:
        """The task's outcome is settled (or handed to the completion writer): slot free."""
        self.running.pop(task_id, None)

    def stop(self, task_id: uuid.UUID, reason: StopReason) -> None:
        """Cancel a running handler; the first reason given is the one recorded."""
        entry = self.running.get(task_id)
        if entry is None or entry.handler.done():
            return
        entry.stop_reason = entry.stop_reason or reason
        entry.ctx.cancel_event.set()
        entry.handler.cancel()

    def is_running(self, task_id: uuid.UUID) -> bool:
        """Is the handler still going (not just waiting for its outcome to be written)?"""
        entry = self.running.get(task_id)
        return entry is not None and not entry.handler.done()

    def handlers(self) -> list[asyncio.Task[Any]]:
        return [entry.handler for entry in self.running.values()]
