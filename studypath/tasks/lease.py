"""Leases and heartbeats: how a worker keeps its tasks, and how a dead worker's come back.

Every `interval` seconds (or at once, when a cancellation NOTIFY asks for it) one
transaction extends the leases of the tasks this worker holds, learns which of them were
asked to stop and which it lost, puts back tasks whose worker stopped heartbeating (any
worker does it for all), and looks at the breakers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import KW_ONLY, dataclass, field

from studypath.core.db import Database
from studypath.tasks import queue
from studypath.tasks.breaker_client import BreakerClient
from studypath.tasks.states import TaskStatus


@dataclass(frozen=True)
class Beat:
    """What one heartbeat learnt."""

    ours: set[uuid.UUID]  # the held tasks whose lease we extended
    cancel_requested: set[uuid.UUID]  # ... and of those, the ones asked to stop
    reaped: list[tuple[uuid.UUID, str, TaskStatus]]  # abandoned tasks put back: id, type, status


@dataclass(eq=False)  # one per worker: compared by identity, like any other object
class Lease:
    """One state: whether the next heartbeat is due now (`beat_now`) or after `interval`."""

    db: Database
    breaker: BreakerClient
    _: KW_ONLY
    worker_id: str
    interval: float
    lease_seconds: float
    _due: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)

    def beat_now(self) -> None:
        self._due.set()

    async def wait(self) -> None:
        """Until the next heartbeat is due."""
        self._due.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._due.wait(), timeout=self.interval)

    async def beat(self, held: list[uuid.UUID], task_types: list[str]) -> Beat:
        async with self.db.engine.begin() as conn:
            ours, cancel = await queue.heartbeat(conn, held, self.worker_id, self.lease_seconds)
            reaped = await queue.reap_expired(conn)
            await self.breaker.refresh(conn, task_types)
        return Beat(ours, cancel, reaped)
