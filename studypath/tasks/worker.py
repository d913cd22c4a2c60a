"""The worker: claim ready tasks, run their handlers, record what happened.

    while running:
        claim up to <free slots> tasks          (queue.claim: FOR UPDATE SKIP LOCKED)
        start each one's handler                (bounded by concurrency, timeout per type)
        sleep until NOTIFY says "new task", slots free up, or the poll interval passes

Beside that loop, a heartbeat keeps this worker's row alive, extends the leases of its
running tasks, notices cancellation requests, and puts back tasks whose worker died.
Any number of workers, in any number of processes, may share one database.

What makes it fast (bench/queue.py) is doing less per task: a backlog is claimed in
batches (half the slots at a time), successes are written many per statement by a
separate writer while the next batch already runs, the two hot statements go straight to
psycopg, and a task costs one asyncio task — a failure, which is rare, gets a second one
to record it.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from opentelemetry.trace import SpanKind

from studypath.config import Settings
from studypath.core.db import Database, libpq_url
from studypath.observability import metrics
from studypath.observability.tracing import LAYER, context_from, tracer
from studypath.tasks import queue, service
from studypath.tasks.queue import ClaimedTask
from studypath.tasks.registry import (
    PermanentError,
    TaskCancelled,
    TaskContext,
    TaskRegistry,
    TaskSpec,
)
from studypath.tasks.registry import registry as default_registry
from studypath.tasks.retry import RetryStrategy
from studypath.tasks.states import TaskStatus

log = logging.getLogger("studypath.worker")


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class Running:
    """A task this worker is executing right now (or whose success it is writing)."""

    task: ClaimedTask
    handler: asyncio.Task[Any]
    ctx: TaskContext
    started: float  # time.perf_counter() when the handler started
    stop_reason: str | None = None  # "cancel" | "shutdown" | "lost" when we stop it


class Worker:
    """One worker: `run()` until `request_stop()`, then finish or hand back its tasks."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        registry: TaskRegistry | None = None,
        concurrency: int | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.registry = registry or default_registry
        self.concurrency = concurrency or settings.worker_concurrency
        self.id = worker_id or new_worker_id()
        self.heartbeat_seconds = settings.worker_heartbeat_seconds
        self.lease_seconds = max(settings.task_lease_seconds, self.heartbeat_seconds * 3)
        self.running: dict[uuid.UUID, Running] = {}
        self.rng = random.Random()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._beat_now = asyncio.Event()
        self._recorders: set[asyncio.Task[None]] = set()  # writing a failure, cancel, release
        # Successes waiting to be written (one statement for many) and the batch being
        # written; the hot path's own autocommit psycopg connections (no pool, no BEGIN).
        self._done: dict[uuid.UUID, tuple[Running, str]] = {}  # entry, result as JSON text
        self._writing: dict[uuid.UUID, tuple[Running, str]] = {}
        self._done_ready = asyncio.Event()
        self._written = asyncio.Event()  # set whenever nothing is left to write
        self._written.set()
        self._connections: dict[str, psycopg.AsyncConnection[Any]] = {}
        # A backlog is claimed half the slots at a time (fewer, bigger claims); once a claim
        # comes back short the queue is drained, and any free slot claims at once again.
        self.batch = max(1, self.concurrency // 2)
        self._backlog = False
        self._breakers_open = True  # until the first heartbeat says otherwise
        self.registered = asyncio.Event()  # set once its types and its row are in the database
        self._registered_types: list[str] = []  # the types its `workers` row lists
        self.data_dir = Path(settings.data_dir)

    @property
    def task_types(self) -> list[str]:
        return self.registry.names()

    def request_stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    # ------------------------------------------------------------------ the main loop
    async def run(self) -> None:
        await self._register()
        self.registry.listen(self)
        self.registered.set()
        helpers = [
            asyncio.create_task(self._listen(), name=f"{self.id} listen"),
            asyncio.create_task(self._heartbeat_loop(), name=f"{self.id} heartbeat"),
            asyncio.create_task(self._write_completions(), name=f"{self.id} completions"),
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
                            self._start(task, spec)
                    if self._backlog and self._free_slots() >= self.batch:
                        continue
                await self._sleep()
        finally:
            self.registry.unlisten(self)
            await self._shutdown()
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            for connection in self._connections.values():
                with contextlib.suppress(Exception):
                    await connection.close()
            with contextlib.suppress(Exception):
                async with self.db.sessionmaker.begin() as session:
                    await service.deregister_worker(session, self.id)
            log.info("worker %s stopped", self.id)

    async def registry_changed(self) -> None:
        """A handler was added or removed while we run: list our types again now."""
        if self.task_types != self._registered_types:
            await self._register()

    async def _register(self) -> None:
        self._registered_types = self.task_types
        async with self.db.engine.begin() as conn:
            await queue.upsert_types(conn, self.registry.specs())
            self._breakers_open = await queue.breakers_not_closed(conn, self.task_types)
        async with self.db.sessionmaker.begin() as session:
            await service.register_worker(
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
        unwritten = len(self._done) + len(self._writing)
        return self.concurrency - len(self.running) - max(0, unwritten - self.concurrency)

    async def _sleep(self) -> None:
        """Until NOTIFY, a freed slot, a stop request — or the poll interval."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=self.settings.worker_poll_seconds)

    async def _connection(self, purpose: str) -> psycopg.AsyncConnection[Any]:
        """A long-lived autocommit connection for one hot path (reopened after an error)."""
        connection = self._connections.get(purpose)
        if connection is None or connection.closed or connection.broken:
            connection = await psycopg.AsyncConnection.connect(
                libpq_url(self.db.url),
                autocommit=True,
                connect_timeout=max(1, int(self.settings.db_connect_timeout)),
                application_name=f"studypath worker {purpose}",
            )
            if purpose == "claim":
                await connection.execute(queue.PIN_CLAIM_PLAN)
            self._connections[purpose] = connection
        return connection

    async def _drop_connection(self, purpose: str) -> None:
        connection = self._connections.pop(purpose, None)
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    async def _claim(self, limit: int) -> list[ClaimedTask]:
        try:
            if self._breakers_open:  # a probe may be due: claim in a real transaction
                async with self.db.engine.begin() as conn:
                    return await queue.claim(
                        conn,
                        worker_id=self.id,
                        types=self.task_types,
                        limit=limit,
                        lease_seconds=self.lease_seconds,
                    )
            return await queue.claim_ready(
                await self._connection("claim"),
                worker_id=self.id,
                types=self.task_types,
                limit=limit,
                lease_seconds=self.lease_seconds,
            )
        except Exception as exc:  # the database blinked: try again next round
            await self._drop_connection("claim")
            log.warning("worker %s could not claim tasks: %s", self.id, exc)
            return []

    # ------------------------------------------------------------------ running one task
    async def _hand_back(self, task: ClaimedTask) -> None:
        """Put a task whose handler went away back in the queue; the attempt does not count."""
        async with self.db.engine.begin() as conn:
            await queue.release(conn, [task.id], self.id)
        log.warning("task %s handed back: no handler for %s any more", task.id, task.task_type)

    def _start(self, task: ClaimedTask, spec: TaskSpec) -> None:
        ctx = TaskContext(
            task_id=task.id,
            task_type=task.task_type,
            attempt=task.attempt,
            max_attempts=task.max_attempts,
            created_by=task.created_by,
            data_dir=self.data_dir,
            db=self.db,
            settings=self.settings,
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
                    "studypath.worker": self.id,
                },
            ):
                return await call_handler()

        # A task queued without a request (bulk inserts, the CLI) has no trace to continue.
        run = call_handler_traced if task.trace_context else call_handler
        handler = asyncio.create_task(run(), name=f"task {task.id}")
        entry = Running(task, handler, ctx, time.perf_counter())
        self.running[task.id] = entry
        metrics.TASKS_STARTED.labels(task_type=task.task_type).inc()
        handler.add_done_callback(lambda _: self._handler_done(entry, spec.timeout_seconds))

    def _handler_done(self, entry: Running, limit_seconds: float) -> None:
        """The handler returned or raised. A success joins the next batch of completions
        (its slot is free at once); anything else is recorded by a task of its own."""
        handler = entry.handler
        if not handler.cancelled() and handler.exception() is None:
            try:
                value = queue.result_json(handler.result())
            except (TypeError, ValueError) as exc:
                error = f"result is not JSON: {exc}"
                self._record(entry, self._failed(entry.task, error, permanent=True))
                return
            self.running.pop(entry.task.id, None)
            self._done[entry.task.id] = (entry, value)
            self._written.clear()
            self._done_ready.set()
            self._wake.set()
            return
        self._record(entry, self._outcome(entry, limit_seconds))

    def _record(self, entry: Running, outcome: Coroutine[Any, Any, str]) -> None:
        """Write a non-success outcome; the slot stays taken until it is written."""

        async def record() -> None:
            result = "failed"
            try:
                result = await outcome
            except Exception:
                log.exception("worker %s lost track of task %s", self.id, entry.task.id)
            finally:
                self.running.pop(entry.task.id, None)
                self._observe(entry, result)
                self._wake.set()

        recorder = asyncio.create_task(record())
        self._recorders.add(recorder)
        recorder.add_done_callback(self._recorders.discard)

    def _observe(self, entry: Running, outcome: str) -> None:
        metrics.TASK_DURATION.labels(task_type=entry.task.task_type, outcome=outcome).observe(
            time.perf_counter() - entry.started
        )

    async def _outcome(self, entry: Running, limit_seconds: float) -> str:
        task, handler = entry.task, entry.handler
        if handler.cancelled():
            return await self._stopped(entry)
        exc = handler.exception()
        if isinstance(exc, TaskCancelled):
            return await (
                self._stopped(entry)
                if entry.stop_reason
                else self._cancelled(task, "cancelled by request")
            )
        if isinstance(exc, PermanentError):
            return await self._failed(task, str(exc), permanent=True)
        if isinstance(exc, TimeoutError):
            return await self._failed(task, f"timed out after {limit_seconds:g} s")
        return await self._failed(task, f"{type(exc).__name__}: {exc}")

    async def _write_completions(self) -> None:
        """Write finished tasks in batches: whatever finished while the last write ran goes
        in the next one. A quiet queue gets one-task batches, with no added delay."""
        while True:
            await self._done_ready.wait()
            self._done_ready.clear()
            self._writing, self._done = self._done, {}
            batch = self._writing
            try:
                connection = await self._connection("complete")
                ours = await queue.complete_many(
                    connection, self.id, {task_id: value for task_id, (_, value) in batch.items()}
                )
            except Exception as exc:
                # Not recorded: the tasks' leases run out and they are retried (at least once).
                await self._drop_connection("complete")
                log.warning(
                    "worker %s could not record %d completion(s): %s", self.id, len(batch), exc
                )
                ours = set()
            self._writing = {}
            for task_id, (entry, _) in batch.items():
                if task_id not in ours:
                    log.warning(
                        "task %s finished after its lease was lost; result dropped", task_id
                    )
                    self._observe(entry, "lost")
                    continue
                if entry.task.is_probe:
                    log.info(
                        "breaker for %s closed: probe task %s succeeded",
                        entry.task.task_type,
                        task_id,
                    )
                metrics.TASKS_SUCCEEDED.labels(task_type=entry.task.task_type).inc()
                self._observe(entry, "completed")
            if not self._done:
                self._written.set()
            self._wake.set()  # the write may have been what held the claims back

    async def _failed(self, task: ClaimedTask, error: str, *, permanent: bool = False) -> str:
        strategy = RetryStrategy.model_validate(task.retry_strategy or {})
        dead = permanent or not strategy.retries() or task.attempt >= task.max_attempts
        delay = 0.0 if dead else strategy.delay(task.attempt, self.rng)
        async with self.db.engine.begin() as conn:
            outcome = await queue.fail(
                conn, task.id, self.id, error=error, dead=dead, delay_seconds=delay
            )
            state = None
            if outcome is not None and not permanent:  # bad input is not the service's fault
                state = await queue.breaker_failure(conn, task.task_type, task.id)
        if outcome is None:
            return "lost"
        reason = "permanent" if permanent else "error"
        metrics.TASKS_FAILED.labels(task_type=task.task_type, reason=reason).inc()
        if outcome.status is TaskStatus.FAILED:
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
        if state == "open":
            self._breakers_open = True
            log.warning("breaker for %s is open", task.task_type)
        return "dead" if outcome.status is TaskStatus.FAILED else "retrying"

    async def _cancelled(self, task: ClaimedTask, reason: str) -> str:
        async with self.db.engine.begin() as conn:
            await queue.mark_cancelled(conn, task.id, self.id, reason)
        log.info("task %s cancelled", task.id)
        return "cancelled"

    async def _stopped(self, entry: Running) -> str:
        """The handler was cancelled by us: say why in the database."""
        if entry.stop_reason == "cancel":
            return await self._cancelled(entry.task, "cancelled by request while running")
        if entry.stop_reason == "shutdown":
            async with self.db.engine.begin() as conn:
                await queue.release(conn, [entry.task.id], self.id)
            log.info("task %s handed back: worker %s is shutting down", entry.task.id, self.id)
            return "released"
        return "lost"  # the lease was lost: another worker owns the task now

    def _stop_task(self, task_id: uuid.UUID, reason: str) -> None:
        entry = self.running.get(task_id)
        if entry is None or entry.handler.done():
            return
        entry.stop_reason = entry.stop_reason or reason
        entry.ctx.cancel_event.set()
        entry.handler.cancel()

    # ------------------------------------------------------------------ heartbeat
    async def _heartbeat_loop(self) -> None:
        while True:
            self._beat_now.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._beat_now.wait(), timeout=self.heartbeat_seconds)
            try:
                await self._heartbeat()
            except Exception as exc:  # a database blip must not kill the worker
                log.warning("worker %s heartbeat failed: %s", self.id, exc)

    async def _heartbeat(self) -> None:
        # Successes not written yet are still ours to keep: extend their leases too.
        unwritten = set(self._done) | set(self._writing)
        ids = [*self.running, *unwritten]
        async with self.db.engine.begin() as conn:
            ours, cancel = await queue.heartbeat(conn, ids, self.id, self.lease_seconds)
            reaped = await queue.reap_expired(conn)
            self._breakers_open = await queue.breakers_not_closed(conn, self.task_types)
        for task_id in cancel:
            self._stop_task(task_id, "cancel")
        for task_id in set(ids) - ours - unwritten:
            if task_id in self.running and not self.running[task_id].handler.done():
                log.warning("worker %s lost the lease of task %s; stopping it", self.id, task_id)
                self._stop_task(task_id, "lost")
        for task_id, task_type, status in reaped:
            log.warning(
                "task %s (%s) was abandoned by its worker: now %s", task_id, task_type, status.value
            )
        if reaped:
            self._wake.set()
        if self.task_types != self._registered_types:  # a handler was added (as notebooks do):
            await self._register()  # list it, so /tasks/types counts this worker for it
        async with self.db.sessionmaker.begin() as session:
            await service.heartbeat_worker(session, self.id)

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
                            self._beat_now.set()
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
        if not self.running:
            await self._flush()
            return
        grace = self.settings.worker_shutdown_grace_seconds
        log.info(
            "worker %s stopping: waiting up to %g s for %d task(s)",
            self.id,
            grace,
            len(self.running),
        )
        handlers = [entry.handler for entry in self.running.values()]
        with contextlib.suppress(Exception):
            await asyncio.wait(handlers, timeout=grace)
        for task_id in list(self.running):
            self._stop_task(task_id, "shutdown")
        # The stopped handlers end; their done callbacks (registered first, so run first)
        # start the recorders that write the hand-backs. Wait for both, briefly.
        stopping = [entry.handler for entry in self.running.values()]
        if stopping:
            await asyncio.wait(stopping, timeout=5.0)
        if self._recorders:
            await asyncio.wait(set(self._recorders), timeout=5.0)
        await self._flush()

    async def _flush(self) -> None:
        """Wait (briefly) for the successes still to be written."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._written.wait(), timeout=5.0)
