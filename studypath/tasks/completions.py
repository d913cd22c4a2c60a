"""The completion writer: successes are recorded many per statement, off the claim loop.

A handler that returns does not wait for its row to be written: its result joins `waiting`,
its slot is free at once, and the writer records whatever finished while its previous write
was under way in one `queue.COMPLETE_MANY` (on its own psycopg connection). A quiet queue
gets one-task batches, with no added delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable

from studypath.tasks import queue
from studypath.tasks.connections import DriverConnection
from studypath.tasks.executor import Running

log = logging.getLogger("studypath.worker")

FLUSH_SECONDS = 5.0  # how long a stopping worker waits for its last successes to be written


class CompletionWriter:
    """One state: the successes not written yet (`waiting`, then the batch `writing`)."""

    def __init__(
        self,
        connection: DriverConnection,
        *,
        worker_id: str,
        on_written: Callable[[Running, bool], None],
        after_batch: Callable[[], None],
    ) -> None:
        self.connection = connection
        self.worker_id = worker_id
        self.on_written = on_written  # (entry, still ours?) for each task of a written batch
        self.after_batch = after_batch  # a batch is written (its slots may hold claims back)
        self.waiting: dict[uuid.UUID, tuple[Running, str]] = {}  # entry, result as JSON text
        self.writing: dict[uuid.UUID, tuple[Running, str]] = {}
        self._ready = asyncio.Event()
        self._empty = asyncio.Event()  # set whenever nothing is left to write
        self._empty.set()

    def add(self, entry: Running, result_json: str) -> None:
        self.waiting[entry.task.id] = (entry, result_json)
        self._empty.clear()
        self._ready.set()

    def unwritten(self) -> set[uuid.UUID]:
        """Tasks whose success is not recorded yet: still ours, their leases still count."""
        return set(self.waiting) | set(self.writing)

    def backlog(self) -> int:
        return len(self.waiting) + len(self.writing)

    async def run(self) -> None:
        """Write batch after batch, until cancelled."""
        while True:
            await self._ready.wait()
            self._ready.clear()
            await self._write_batch()

    async def _write_batch(self) -> None:
        self.writing, self.waiting = self.waiting, {}
        batch = self.writing
        try:
            ours = await queue.complete_many(
                await self.connection.get(),
                self.worker_id,
                {task_id: value for task_id, (_, value) in batch.items()},
            )
        except Exception as exc:
            # Not recorded: the tasks' leases run out and they are retried (at least once).
            await self.connection.drop()
            log.warning(
                "worker %s could not record %d completion(s): %s", self.worker_id, len(batch), exc
            )
            ours = set()
        self.writing = {}
        for task_id, (entry, _) in batch.items():
            self.on_written(entry, task_id in ours)
        if not self.waiting:
            self._empty.set()
        self.after_batch()

    async def flush(self) -> None:
        """Wait (at most FLUSH_SECONDS) until every success is written."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._empty.wait(), timeout=FLUSH_SECONDS)
