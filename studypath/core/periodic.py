"""Periodic jobs that run inside every server process (session purge, later retention).

Jobs must be idempotent: with several server processes, each runs them. A failing run is
logged and retried at the next tick; it never stops the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from studypath.config import Settings
from studypath.core.db import Database

log = logging.getLogger("studypath.periodic")

JobFunc = Callable[[Database, Settings], Awaitable[str | None]]


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval: Callable[[Settings], float]
    run: JobFunc


async def _loop(job: PeriodicJob, db: Database, settings: Settings, stop: asyncio.Event) -> None:
    interval = job.interval(settings)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        if stop.is_set():
            return
        try:
            outcome = await job.run(db, settings)
            if outcome:
                log.info("%s: %s", job.name, outcome)
        except Exception:
            log.exception("periodic job %s failed; retrying in %.0f s", job.name, interval)


class PeriodicRunner:
    """Starts every job's loop; `stop()` ends them all."""

    def __init__(self, jobs: list[PeriodicJob], db: Database, settings: Settings) -> None:
        self.jobs, self.db, self.settings = jobs, db, settings
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(_loop(job, self.db, self.settings, self._stop), name=job.name)
            for job in self.jobs
        ]

    async def stop(self) -> None:
        self._stop.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
