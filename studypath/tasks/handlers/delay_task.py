"""The `delay_task` task: sleep for a while — the stand-in for slow work in the notebooks.

It waits on the task's cancel event rather than in a blind `sleep`, so a cancellation
stops it at once instead of at the end of the delay (`ctx.check_cancelled()` then raises).

A `deadline` is a promise about *when* the work is useful. If sleeping would end after it,
the task fails before sleeping, with a PermanentError: time only moves forward, so a retry
would miss the deadline by even more.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta
from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field

from studypath.core.clock import utcnow
from studypath.tasks.handlers.common import Instant, as_utc
from studypath.tasks.registry import PermanentError, TaskContext, task_handler

MAX_DELAY_SECONDS = 3600.0


class DelayPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delay_seconds: float = Field(ge=0, le=MAX_DELAY_SECONDS, strict=True, allow_inf_nan=False)
    deadline: Instant | None = Field(
        default=None, description="ISO datetime; fail if the delay would end after it."
    )


class DelayResult(TypedDict):
    slept_seconds: float


@task_handler(
    "delay_task",
    "Sleep for delay_seconds (cancellable), failing if that would pass the deadline",
    payload=DelayPayload,
    timeout=MAX_DELAY_SECONDS + 60,
)
async def delay(payload: DelayPayload, ctx: TaskContext) -> DelayResult:
    """Check the deadline first, then wait for the delay or a cancellation, whichever is first."""
    deadlines = [d for d in (payload.deadline, ctx.deadline) if d is not None]
    if deadlines:
        deadline = min(as_utc(d) for d in deadlines)
        finish = utcnow() + timedelta(seconds=payload.delay_seconds)
        if finish > deadline:
            raise PermanentError(
                f"deadline {deadline.isoformat()} would be passed: sleeping "
                f"{payload.delay_seconds:g} s ends at {finish.isoformat()}"
            )
    started = time.monotonic()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(ctx.cancel_event.wait(), timeout=payload.delay_seconds)
    ctx.check_cancelled()
    return {"slept_seconds": round(time.monotonic() - started, 3)}
