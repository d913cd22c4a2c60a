"""The worker: a long-running loop that announces itself and keeps a heartbeat.

Any number of workers (in-process or `studypath worker` processes) may run against one
database; each row in `workers` says who is alive, so health can tell whether queued
tasks have anyone to run them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid

from studypath.core.db import Database
from studypath.tasks import service

log = logging.getLogger("studypath.worker")


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Worker:
    """One worker: registers, heartbeats until asked to stop, then signs off."""

    def __init__(
        self,
        db: Database,
        *,
        concurrency: int = 4,
        heartbeat_seconds: float = 5.0,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self.concurrency = concurrency
        self.heartbeat_seconds = heartbeat_seconds
        self.id = worker_id or new_worker_id()
        self.task_types: list[str] = []
        self._stop = asyncio.Event()

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        async with self.db.sessionmaker() as session:
            await service.register_worker(
                session,
                worker_id=self.id,
                hostname=socket.gethostname(),
                pid=os.getpid(),
                task_types=self.task_types,
                concurrency=self.concurrency,
            )
        log.info("worker %s started (concurrency %d)", self.id, self.concurrency)
        try:
            while not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=self.heartbeat_seconds)
                if not self._stop.is_set():
                    await self._heartbeat()
        finally:
            with contextlib.suppress(Exception):
                async with self.db.sessionmaker() as session:
                    await service.deregister_worker(session, self.id)
            log.info("worker %s stopped", self.id)

    async def _heartbeat(self) -> None:
        try:
            async with self.db.sessionmaker() as session:
                await service.heartbeat_worker(session, self.id)
        except Exception as exc:  # a database blip must not kill the worker
            log.warning("worker %s heartbeat failed: %s", self.id, exc)
