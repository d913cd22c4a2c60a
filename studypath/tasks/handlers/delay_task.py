"""The `delay_task` task: sleep for a while — the stand-in for slow work in the notebooks.

It waits on the task's cancel event rather than in a blind `sleep`, so a cancellation
stops it at once instead of at the end of the delay (`ctx.check_cancelled()` then raises).

A `deadline` is a promise about *when* the work is useful. If sleeping would end after it,
the task fails before sleeping, with a PermanentError: time only moves forward, so a retry
would miss the deadline by even more.

The payload is the reference system's too: `delay_seconds` (an integer or a fraction),
`deadline`, and its chaos tests' labels `task_id` and `test_scenario`, returned in the
result so a test can tell its tasks apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta
from typing import Annotated, NotRequired, TypedDict

from pydantic import Field, StringConstraints

from studypath.core.clock import utcnow
from studypath.core.validation import InputModel
from studypath.tasks.handlers.common import Instant, as_utc
from studypath.tasks.registry import PermanentError, TaskContext, builtin_task

MAX_DELAY_SECONDS = 3600.0
Label = Annotated[str, StringConstraints(max_length=200)]


class DelayPayload(InputModel):
    delay_seconds: float = Field(
        ge=0,
        le=MAX_DELAY_SECONDS,
        strict=True,
        allow_inf_nan=False,
        description="Seconds to sleep, an integer or a fraction (0-3600).",
    )
    deadline: Instant | None = Field(
        default=None, description="ISO datetime; fail if the delay would end after it."
    )
    task_id: Label | None = Field(default=None, description="A label, returned in the result.")
    test_scenario: Label | None = Field(
        default=None, description="A label, returned in the result."
    )


class DelayResult(TypedDict):
    slept_seconds: float
    task_id: NotRequired[str]
    test_scenario: NotRequired[str]


@builtin_task(
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
    result: DelayResult = {"slept_seconds": round(time.monotonic() - started, 3)}
    if payload.task_id is not None:
        result["task_id"] = payload.task_id
    if payload.test_scenario is not None:
        result["test_scenario"] = payload.test_scenario
    return result
