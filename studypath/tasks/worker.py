"""The worker: claim ready tasks, run their handlers, record what happened.

    while running:
        claim up to <free slots> tasks          (queue.claim_ready: FOR UPDATE SKIP LOCKED)
        start each one's handler                (the executor: bounded, timeout per type)
        sleep until NOTIFY says "new task", slots free up, or the poll interval passes

This module is the claim loop and what ties the parts together; each part holds one state:

    executor.Executor          the handlers running now
    completions.CompletionWriter  the successes not written yet (many per statement)
    lease.Lease                when the next heartbeat is due (leases, reaping abandoned tasks)
    breaker_client.BreakerClient  whether a breaker of our types may be open
    connections.DriverConnection  the psycopg connection of one hot path

Any number of workers, in any number of processes, may share one database.

What makes it fast (bench/queue.py) is doing less per task: a backlog is claimed in
batches (half the slots at a time), successes are written many per statement by the
completion writer while the next batch already runs, the hot path (claim, complete) goes
straight to psycopg, and a task costs one asyncio task — a failure, which is rare, gets a
second one to record it, through SQLAlchemy like every other statement off the hot path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Coroutine
from typing import Any

import psycopg

from studypath.config import Settings
from studypath.core.db import Database, libpq_url
from studypath.tasks import queue, registration, workers
from studypath.tasks.breaker_client import BreakerClient
from studypath.tasks.completions import CompletionWriter
from studypath.tasks.connections import DriverConnection
from studypath.tasks.executor import (
    AttemptFailed,
    CancelHonoured,
    Executor,
    Running,
    StoppedByUs,
    StopReason,
    Succeeded,
    ending,
)
from studypath.tasks.lease import Lease
from studypath.tasks.queue import ClaimedTask
from studypath.tasks.registry import TaskRegistry
from studypath.tasks.retry import RetryStrategy
from studypath.tasks.states import AttemptOutcome, TaskStatus
from studypath.telemetry import metrics

log = logging.getLogger("studypath.worker")


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Worker:
    """One worker: `run()` until `request_stop()`, then finish or hand back its tasks."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        registry: TaskRegistry,
        concurrency: int | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.registry = registry  # its system's: the types it runs
        self.concurrency = concurrency or settings.worker_concurrency
        self.id = worker_id or new_worker_id()
        heartbeat_seconds = settings.worker_heartbeat_seconds
        self.lease_seconds = max(settings.task_lease_seconds, heartbeat_seconds * 3)
        self.rng = random.Random()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._recorders: set[asyncio.Task[None]] = set()  # writing a failure, cancel, release
        # A backlog is claimed half the slots at a time (fewer, bigger claims); once a claim
        # comes back short the queue is drained, and any free slot claims at once again.
        self.batch = max(1, self.concurrency // 2)
        self._backlog = False
        self.registered = asyncio.Event()  # set once its types and its row are in the database
        self._registered_types: list[str] = []  # the types its `workers` row lists
        # The parts.
        timeout = settings.db_connect_timeout
        self.claim_connection = DriverConnection(
            db.url, purpose="claim", connect_timeout=timeout, setup=queue.PIN_CLAIM_PLAN
        )
        self.executor = Executor(worker_id=self.id, db=db, settings=settings, on_end=self._ended)
        self.completions = CompletionWriter(
            DriverConnection(
                db.url,
                purpose="complete",
                connect_timeout=timeout,
                setup=queue.PLAN_EACH_COMPLETION,
            ),
            worker_id=self.id,
            on_written=self._written,
            after_batch=self.wake,  # the write may have been what held the claims back
        )
        self.breaker = BreakerClient()
        self.lease = Lease(
            db,
            self.breaker,
            worker_id=self.id,
            interval=heartbeat_seconds,
            lease_seconds=self.lease_seconds,
        )

    @property
    def task_types(self) -> list[str]:
        return self.registry.names()

    def request_stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    # ------------------------------------------------------------------ the claim loop
    async def run(self) -> None:
        await self._register()
        self.registry.listen(self)
        self.registered.set()
        helpers = [
            asyncio.create_task(self._listen(), name=f"{self.id} listen"),
            asyncio.create_task(self._heartbeat_loop(), name=f"{self.id} heartbeat"),
            asyncio.create_task(self.completions.run(), name=f"{self.id} completions"),
        ]
        log.info(
            "worker %s started: %d slot(s), types %s",
            self.id,
            self.concurrency,
            ", ".join(self.task_types) or "(none)",
        )
        try:
            while not self._stop.is_set():
                # Cleared before looking, not before sleeping: a NOTIFY or a freed slot that
                # arrives while this round claims is not lost — the sleep returns at once.
                self._wake.clear()
                free = self._free_slots()
                if free > 0 and self.task_types and (free >= self.batch or not self._backlog):
                    claimed = await self._claim(free)
                    self._backlog = len(claimed) == free  # full: more are probably waiting
                    for task in claimed:
                        spec = self.registry.get(task.task_type)
                        if spec is None:  # its handler was unregistered since the claim
                            await self._hand_back(task)
                        else:
                            self.executor.start(task, spec)
                    if self._backlog and self._free_slots() >= self.batch:
                        continue
                await self._sleep()
        finally:
            self.registry.unlisten(self)
            await self._shutdown()
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            await self.claim_connection.drop()
            await self.completions.connection.drop()
            with contextlib.suppress(Exception):
                async with self.db.sessionmaker.begin() as session:
                    await workers.deregister_worker(session, self.id)
            log.info("worker %s stopped", self.id)

    async def registry_changed(self) -> None:
        """A handler was added or removed while we run: list our types again now."""
        if self.task_types != self._registered_types:
            await self._register()

    async def _register(self) -> None:
        self._registered_types = self.task_types
        async with self.db.engine.begin() as conn:
            await registration.register_types(conn, self.registry.specs())
            await self.breaker.refresh(conn, self.task_types)
        async with self.db.sessionmaker.begin() as session:
            await workers.register_worker(
                session,
                worker_id=self.id,
                hostname=socket.gethostname(),
                pid=os.getpid(),
                task_types=self.task_types,
                concurrency=self.concurrency,
            )

    def _free_slots(self) -> int:
        """Slots for new tasks. Successes waiting to be written do not hold a slot, unless
        more than a full round of them piles up (the database is behind: let it catch up)."""
        unwritten = self.completions.backlog()
        return self.concurrency - len(self.executor) - max(0, unwritten - self.concurrency)

    async def _sleep(self) -> None:
        """Until NOTIFY, a freed slot, a stop request — or the poll interval."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=self.settings.worker_poll_seconds)

    async def _claim(self, limit: int) -> list[ClaimedTask]:
        try:
            if self.breaker.may_be_open:  # a probe may be due: claim in a real transaction
                async with self.db.engine.begin() as conn:
                    return await queue.claim(
                        conn,
                        worker_id=self.id,
                        types=self.task_types,
                        limit=limit,
                        lease_seconds=self.lease_seconds,
                    )
            return await queue.claim_ready(
                await self.claim_connection.get(),
                worker_id=self.id,
                types=self.task_types,
                limit=limit,
                lease_seconds=self.lease_seconds,
            )
        except Exception as exc:  # the database blinked: try again next round
            await self.claim_connection.drop()
            log.warning("worker %s could not claim tasks: %s", self.id, exc)
            return []

    async def _hand_back(self, task: ClaimedTask) -> None:
        """Put a task whose handler went away back in the queue; the attempt does not count."""
        async with self.db.engine.begin() as conn:
            await queue.release(conn, [task.id], self.id)
        log.warning("task %s handed back: no handler for %s any more", task.id, task.task_type)

    # ------------------------------------------------------------------ recording outcomes
    def _ended(self, entry: Running) -> None:
        """A handler returned or raised. A success joins the next batch of completions
        (its slot is free at once); anything else is recorded by a task of its own."""
        end = ending(entry)
        if isinstance(end, Succeeded):
            self.executor.finished(entry.task.id)
            self.completions.add(entry, end.result_json)
            self._wake.set()
        else:
            self._record(entry, self._write_outcome(entry, end))

    def _record(self, entry: Running, outcome: Coroutine[Any, Any, AttemptOutcome]) -> None:
        """Write a non-success outcome; the slot stays taken until it is written."""

        async def record() -> None:
            result = AttemptOutcome.UNRECORDED
            try:
                result = await outcome
            except Exception:
                log.exception("worker %s lost track of task %s", self.id, entry.task.id)
            finally:
                self.executor.finished(entry.task.id)
                self._observe(entry, result)
                self._wake.set()

        recorder = asyncio.create_task(record())
        self._recorders.add(recorder)
        recorder.add_done_callback(self._recorders.discard)

    def _observe(self, entry: Running, outcome: AttemptOutcome) -> None:
        metrics.TASK_DURATION.labels(task_type=entry.task.task_type, outcome=outcome.value).observe(
            time.perf_counter() - entry.started
        )

    async def _write_outcome(
        self, entry: Running, end: AttemptFailed | CancelHonoured | StoppedByUs
    ) -> AttemptOutcome:
        if isinstance(end, AttemptFailed):
            return await self._failed(entry.task, end.error, permanent=end.permanent)
        if isinstance(end, CancelHonoured):
            return await self._cancelled(entry.task, end.reason)
        return await self._stopped(entry, end.reason)

    def _written(self, entry: Running, ours: bool) -> None:
        """The completion writer recorded a batch: `entry`'s success, if it was still ours."""
        task = entry.task
        if not ours:
            log.warning("task %s finished after its lease was lost; result dropped", task.id)
            self._observe(entry, AttemptOutcome.LOST)
            return
        if task.is_probe:
            log.info("breaker for %s closed: probe task %s succeeded", task.task_type, task.id)
        metrics.TASKS_SUCCEEDED.labels(task_type=task.task_type).inc()
        self._observe(entry, AttemptOutcome.COMPLETED)

    async def _failed(
        self, task: ClaimedTask, error: str, *, permanent: bool = False
    ) -> AttemptOutcome:
        """A failed attempt: retried after its backoff, or — last attempt, no retry policy,
        bad input — a dead letter. Counted against the breaker unless the input was bad."""
        strategy = RetryStrategy.model_validate(task.retry_strategy or {})
        dead = permanent or not strategy.retries() or task.attempt >= task.max_attempts
        delay = 0.0 if dead else strategy.delay(task.attempt, self.rng)
        breaker_opened = False
        async with self.db.engine.begin() as conn:
            outcome = await queue.fail(
                conn, task.id, self.id, error=error, dead=dead, delay_seconds=delay
            )
            if outcome is not None and not permanent:  # bad input is not the service's fault
                breaker_opened = await self.breaker.record_failure(conn, task.task_type, task.id)
        if outcome is None:
            return AttemptOutcome.LOST
        reason = "permanent" if permanent else "error"
        metrics.TASK_ATTEMPTS_FAILED.labels(task_type=task.task_type, reason=reason).inc()
        dead_lettered = outcome.status is TaskStatus.DEAD_LETTER
        if dead_lettered:
            metrics.TASKS_DEAD_LETTERED.labels(task_type=task.task_type).inc()
            log.info(
                "task %s (%s) dead-lettered after attempt %d: %s",
                task.id,
                task.task_type,
                task.attempt,
                error,
            )
        else:
            metrics.TASKS_RETRIED.labels(task_type=task.task_type).inc()
            log.info(
                "task %s (%s) attempt %d failed, retry in %.2f s: %s",
                task.id,
                task.task_type,
                task.attempt,
                delay,
                error,
            )
        if breaker_opened:
            log.warning("breaker for %s is open", task.task_type)
        return AttemptOutcome.DEAD_LETTERED if dead_lettered else AttemptOutcome.RETRYING

    async def _cancelled(self, task: ClaimedTask, reason: str) -> AttemptOutcome:
        async with self.db.engine.begin() as conn:
            await queue.mark_cancelled(conn, task.id, self.id, reason)
        log.info("task %s cancelled", task.id)
        return AttemptOutcome.CANCELLED

    async def _stopped(self, entry: Running, reason: StopReason | None) -> AttemptOutcome:
        """The handler was cancelled by us: say why in the database."""
        if reason is StopReason.CANCEL:
            return await self._cancelled(entry.task, "cancelled by request while running")
        if reason is StopReason.SHUTDOWN:
            async with self.db.engine.begin() as conn:
                await queue.release(conn, [entry.task.id], self.id)
            log.info("task %s handed back: worker %s is shutting down", entry.task.id, self.id)
            return AttemptOutcome.RELEASED
        return AttemptOutcome.LOST  # the lease was lost: another worker owns the task now

    # ------------------------------------------------------------------ heartbeat
    async def _heartbeat_loop(self) -> None:
        while True:
            await self.lease.wait()
            try:
                await self._heartbeat()
            except Exception as exc:  # a database blip must not kill the worker
                log.warning("worker %s heartbeat failed: %s", self.id, exc)

    async def _heartbeat(self) -> None:
        # Successes not written yet are still ours to keep: extend their leases too.
        unwritten = self.completions.unwritten()
        held = [*self.executor.running, *unwritten]
        beat = await self.lease.beat(held, self.task_types)
        for task_id in beat.cancel_requested:
            self.executor.stop(task_id, StopReason.CANCEL)
        for task_id in set(held) - beat.ours - unwritten:
            if self.executor.is_running(task_id):
                log.warning("worker %s lost the lease of task %s; stopping it", self.id, task_id)
                self.executor.stop(task_id, StopReason.LOST)
        for task_id, task_type, status in beat.reaped:
            log.warning(
                "task %s (%s) was abandoned by its worker: now %s", task_id, task_type, status.value
            )
        if beat.reaped:
            self._wake.set()
        if self.task_types != self._registered_types:  # a handler was added (as notebooks do):
            await self._register()  # list it, so /tasks/types counts this worker for it
        async with self.db.sessionmaker.begin() as session:
            await workers.heartbeat_worker(session, self.id)

    # ------------------------------------------------------------------ LISTEN / NOTIFY
    async def _listen(self) -> None:
        """Wake the claim loop the moment a task is created (NOTIFY), instead of polling."""
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    libpq_url(self.db.url),
                    autocommit=True,
                    connect_timeout=max(1, int(self.settings.db_connect_timeout)),
                )
                async with conn:
                    await conn.execute(f"LISTEN {queue.NOTIFY_CHANNEL}")
                    self._wake.set()  # tasks may have arrived while we were not listening
                    async for notice in conn.notifies():
                        if notice.payload.startswith("cancel:"):
                            self.lease.beat_now()
                        else:
                            self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "worker %s lost its LISTEN connection (%s); polling meanwhile", self.id, exc
                )
                await asyncio.sleep(min(5.0, self.settings.worker_poll_seconds * 5))

    # ------------------------------------------------------------------ shutdown
    async def _shutdown(self) -> None:
        """Stop claiming; let running tasks finish for a grace period; hand back the rest."""
        if not self.executor.running:
            await self.completions.flush()
            return
        grace = self.settings.worker_shutdown_grace_seconds
        log.info(
            "worker %s stopping: waiting up to %g s for %d task(s)",
            self.id,
            grace,
            len(self.executor),
        )
        with contextlib.suppress(Exception):
            await asyncio.wait(self.executor.handlers(), timeout=grace)
        for task_id in list(self.executor.running):
            self.executor.stop(task_id, StopReason.SHUTDOWN)
        # The stopped handlers end; their done callbacks (registered first, so run first)
        # start the recorders that write the hand-backs. Wait for both, briefly.
        stopping = self.executor.handlers()
        if stopping:
            await asyncio.wait(stopping, timeout=5.0)
        if self._recorders:
            await asyncio.wait(set(self._recorders), timeout=5.0)
        await self.completions.flush()


__all__ = [
    "Worker",
    "new_worker_id",
]
