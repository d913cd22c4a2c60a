"""Time in one place: timezone-aware UTC, always; and waiting for something to happen."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

T = TypeVar("T")

POLL_EVERY = 0.05


def utcnow() -> datetime:
    return datetime.now(UTC)


def _waited_in_vain(within: float, what: str, detail: Callable[[], str] | None) -> AssertionError:
    message = f"waited {within:g} s for {what}, in vain"
    return AssertionError(f"{message}\n{detail()}" if detail is not None else message)


def poll_until(
    condition: Callable[[], T | None],
    *,
    within: float,
    what: str,
    every: float = POLL_EVERY,
    detail: Callable[[], str] | None = None,
) -> T:
    """Call `condition()` every `every` seconds until it returns something truthy; return that.

    After `within` seconds (and one last try) raise AssertionError naming `what`, with
    `detail()` appended when given (a log, the last state seen). For code that can only ask
    "is it done yet?": a process starting, a row changing in another process."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise _waited_in_vain(within, what, detail)
        time.sleep(every)


async def poll_until_async(
    condition: Callable[[], Awaitable[T | None]],
    *,
    within: float,
    what: str,
    every: float = POLL_EVERY,
    detail: Callable[[], str] | None = None,
) -> T:
    """`poll_until` for a coroutine `condition`: sleeps with `asyncio.sleep`, so the event
    loop (and a server running on it) goes on while it waits."""
    deadline = time.monotonic() + within
    while True:
        value = await condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise _waited_in_vain(within, what, detail)
        await asyncio.sleep(every)


__all__ = [
    "POLL_EVERY",
    "poll_until",
    "poll_until_async",
    "utcnow",
]
