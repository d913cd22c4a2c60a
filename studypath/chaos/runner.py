"""Running a plan against a cluster, and turning what was observed into a `ChaosReport`.

    window ────────────────────────────────┐ drain ──────────────┐
    submit tasks (spread, or all at once)   │ every fault undone  │ report
    faults at their times, each undone      │ wait until every    │
    API traffic + observer, all along       │ task has finished   │

Whatever ends the run — its end, Ctrl-C, an exception, the overall timeout — the `finally`
restores the cluster: database up, proxies healed, processes continued or replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import text

from studypath.auth.cookies import cookieless_jar
from studypath.chaos import effects
from studypath.chaos.cluster import Cluster
from studypath.chaos.faults import OBSERVER_APP, restore
from studypath.chaos.load import Submissions, Traffic, login, new_run_id, submit, task_body
from studypath.chaos.report import ApiStats, ChaosReport, FaultOutcome
from studypath.chaos.scenarios import Plan, Planned
from studypath.chaos.timeline import FaultRecord, Timeline
from studypath.core.db import Database
from studypath.tasks import breakers, stats
from studypath.tasks.lifecycle import TERMINAL
from studypath.tasks.states import TaskStatus

log = logging.getLogger("studypath.chaos")

OBSERVE_EVERY = 0.25
AFTER_WINDOW = 5.0  # "after a fault": its next 5 s
SUBMIT_CONCURRENCY = 16


@dataclass
class Live:
    """What the run sees right now (the dashboard reads it while the run goes on)."""

    now: float = 0.0
    phase: str = "starting"
    unfinished: int | None = None
    breakers_open: list[str] = field(default_factory=list)
    open_faults: list[str] = field(default_factory=list)
    accepted: int = 0
    completed_effects: int = 0
    api_ok: int = 0
    api_failed: int = 0


class ChaosRun:
    """One run of `plan` on `cluster`. `await run()` returns the report."""

    def __init__(
        self,
        plan: Plan,
        cluster: Cluster,
        *,
        level: int | None = None,
        reference_threshold: float | None = None,
        on_update: Callable[[Live], None] | None = None,
        seed: int = 0,
    ) -> None:
        self.plan = plan
        self.cluster = cluster
        self.level = level
        self.reference_threshold = reference_threshold
        self.on_update = on_update
        self.rng = random.Random(seed or 1)
        self.run_id = new_run_id()
        self.timeline = Timeline()
        self.submissions = Submissions()
        self.live = Live()
        self.depth: list[tuple[float, int | None]] = []
        self.transitions: list[tuple[float, str, str, str]] = []
        self._breakers: dict[str, str] = {}
        self.observer = Database(cluster.direct_url, pool_size=2, application_name=OBSERVER_APP)
        self.traffic: Traffic | None = None

    # ------------------------------------------------------------------ the run
    async def run(self) -> ChaosReport:
        plan = self.plan
        overall = plan.duration + plan.drain_seconds + 60.0
        interrupted: str | None = None
        background: list[asyncio.Task[Any]] = []
        client = httpx.AsyncClient(
            base_url=self.cluster.api_url, timeout=5.0, cookies=cookieless_jar()
        )
        try:
            async with asyncio.timeout(overall):
                async with self.observer.engine.begin() as conn:
                    await effects.ensure_ledger(conn)
                await asyncio.to_thread(self.cluster.scale, plan.workers)
                token = await login(client, self.cluster.admin_password)
                client.headers["Authorization"] = f"Bearer {token}"
                self.timeline = Timeline()  # the run's clock starts now
                self.traffic = Traffic(client, self.timeline.now, rate=plan.api_rate)
                background = [
                    asyncio.create_task(self._observe()),
                    asyncio.create_task(self.traffic.run()),
                ]
                self.live.phase = "faults"
                faults = [asyncio.create_task(self._fault(p)) for p in plan.faults]
                submitting = asyncio.create_task(self._submit(client))
                await asyncio.sleep(plan.duration)
                self.live.phase = "draining"
                await asyncio.gather(*faults)
                # Heal now, not after the submitter gives up: a fault whose undo failed (a
                # server that could not start while the database was down) must not keep
                # the system broken while tasks are still being submitted.
                await self._restore()
                await submitting
                await self._drain()
                await asyncio.sleep(min(2.0, AFTER_WINDOW))  # the API after the last fault
        except (asyncio.CancelledError, KeyboardInterrupt):
            interrupted = "interrupted (Ctrl-C or cancelled); everything was restored"
            raise
        except TimeoutError:
            interrupted = f"the run did not finish within {overall:g} s"
        except Exception as exc:
            interrupted = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await asyncio.shield(self._restore())
            self.live.phase = "done"
        try:
            report = await self._report(interrupted)
        finally:
            await client.aclose()
            await self.observer.dispose()
        return report

    async def _restore(self) -> None:
        for record in self.timeline.open_faults():
            self.timeline.end(record, error="ended by the restore step")
        await restore(self.cluster, self.plan.workers)

    async def _fault(self, planned: Planned) -> None:
        """Wait for its time; inject; hold; undo. Undone even if the run is cancelled."""
        await asyncio.sleep(planned.at)
        fault = planned.fault
        record = self.timeline.begin(fault.kind, "…")
        try:
            await fault.inject(self.cluster, self.rng)
            record.target = fault.target()
            await asyncio.sleep(planned.duration)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            record.error = f"{type(exc).__name__}: {exc}"
            log.warning("chaos fault %s failed: %s", fault.kind, exc)
        finally:
            try:
                await asyncio.shield(fault.undo(self.cluster))
            except Exception as exc:
                record.error = f"undo failed: {type(exc).__name__}: {exc}"
            if record.target == "…":
                record.target = fault.target()
            self.timeline.end(record)

    async def _submit(self, client: httpx.AsyncClient) -> None:
        plan = self.plan
        give_up_at = time.monotonic() + plan.duration + plan.drain_seconds / 2
        calls = round(plan.tasks * plan.call_share)
        gate = asyncio.Semaphore(SUBMIT_CONCURRENCY)
        spread = 0.0 if plan.flood else plan.duration * 0.6 / max(1, plan.tasks)
        call_url = (
            f"http://{self.cluster.hook_proxy.address}/hook" if self.cluster.hook_proxy else None
        )

        async def one(index: int) -> None:
            await asyncio.sleep(index * spread)
            key = f"{self.run_id}:{index}"
            url = call_url if index < calls else None
            body = task_body(self.run_id, key, call_url=url, work_ms=plan.work_ms)
            async with gate:
                await submit(client, self.submissions, key, body, give_up_at=give_up_at)
            self.live.accepted = len(self.submissions.accepted)

        await asyncio.gather(*(one(i) for i in range(plan.tasks)))

    async def _drain(self) -> None:
        """Until every accepted task has finished (or the drain time is up)."""
        deadline = time.monotonic() + self.plan.drain_seconds
        while time.monotonic() < deadline:
            unfinished = self.live.unfinished
            if unfinished == 0 and self.depth and self.depth[-1][1] == 0:
                return
            await asyncio.sleep(OBSERVE_EVERY)

    # ------------------------------------------------------------------ observing
    async def _observe(self) -> None:
        while True:
            now = self.timeline.now()
            unfinished: int | None = None
            try:
                async with asyncio.timeout(2.0), self.observer.engine.connect() as conn:
                    counts = await stats.count_by_status(conn, tag=("chaos_run", self.run_id))
                    unfinished = sum(
                        n for status, n in counts.by_status.items() if status not in TERMINAL
                    )
                    states = await breakers.states(conn)
                    self._breaker_states(now, {name: state.value for name, state in states})
                    effect_count = await conn.execute(
                        text("SELECT count(*) FROM chaos.effects WHERE run_id = :r"),
                        {"r": self.run_id},
                    )
                    self.live.completed_effects = int(effect_count.scalar_one())
            except Exception:  # the database is down: so is our view of it
                unfinished = None
            self.depth.append((round(now, 2), unfinished))
            self.live.now = now
            self.live.unfinished = unfinished
            self.live.open_faults = [f"{r.kind} {r.target}" for r in self.timeline.open_faults()]
            if self.traffic is not None:
                samples = self.traffic.samples
                self.live.api_ok = sum(s.ok for s in samples)
                self.live.api_failed = len(samples) - self.live.api_ok
            if self.on_update is not None:
                with contextlib.suppress(Exception):
                    self.on_update(self.live)
            await asyncio.sleep(OBSERVE_EVERY)

    def _breaker_states(self, now: float, states: dict[str, str]) -> None:
        for name, state in states.items():
            before = self._breakers.get(name, "closed")
            if state != before:
                self.transitions.append((round(now, 2), name, before, state))
            self._breakers[name] = state
        self.live.breakers_open = [n for n, s in states.items() if s != "closed"]

    # ------------------------------------------------------------------ the report
    async def _report(self, interrupted: str | None) -> ChaosReport:
        plan = self.plan
        report = ChaosReport(
            name=plan.name,
            description=plan.description,
            level=self.level,
            duration=plan.duration,
            started_at=self.timeline.wall_origin,
            reference_threshold=self.reference_threshold,
            interrupted=interrupted,
        )
        subs = self.submissions
        report.submitted = len(subs.keys)
        report.accepted = len(subs.accepted)
        report.refused = len(set(subs.refused) - set(subs.accepted))
        async with self.observer.engine.connect() as conn:
            counts = await stats.count_by_status(conn, tag=("chaos_run", self.run_id))
            summary = (await conn.execute(effects.LEDGER_SUMMARY, {"run_id": self.run_id})).one()
            keys = {
                row[0] for row in await conn.execute(effects.LEDGER_KEYS, {"run_id": self.run_id})
            }
            since = {"since": _timestamp(self.timeline.wall_origin)}
            alerts = await conn.execute(
                text("SELECT count(*) FROM alerts WHERE triggered_at >= to_timestamp(:since)"),
                since,
            )
            incidents = await conn.execute(
                text("SELECT count(*) FROM incidents WHERE started_at >= to_timestamp(:since)"),
                since,
            )
            report.alerts_fired = int(alerts.scalar_one())
            report.incidents_opened = int(incidents.scalar_one())
        by_status = counts.by_status
        report.completed = min(by_status[TaskStatus.COMPLETED], report.accepted)
        report.dead_lettered = by_status[TaskStatus.DEAD_LETTER]
        report.cancelled = by_status[TaskStatus.CANCELLED]
        report.pending = sum(n for s, n in by_status.items() if s not in TERMINAL)
        report.duplicate_effects = int(summary.effects) - int(summary.distinct_keys)
        report.redeliveries = int(summary.redeliveries)
        report.duplicate_submissions = max(0, counts.total - report.accepted)
        missing_effects = len(set(subs.accepted) - keys)
        accounted = report.dead_lettered + report.cancelled + report.pending
        report.lost = max(0, missing_effects - accounted) + max(0, report.accepted - counts.total)
        report.completion_rate = (
            round(len(set(subs.accepted) & keys) / report.accepted, 4) if report.accepted else 0.0
        )
        report.completed = len(set(subs.accepted) & keys)
        if self.cluster.target is not None:
            report.webhook_duplicates = self.cluster.target.duplicates()
        self._api(report)
        report.queue_depth = list(self.depth)
        report.breaker_transitions = list(self.transitions)
        report.judge()
        return report

    def _api(self, report: ChaosReport) -> None:
        samples = list(self.traffic.samples) if self.traffic is not None else []
        report.api_samples = samples  # every request, for plots (the error rate over time)
        records = self.timeline.faults
        first = min((r.started for r in records), default=None)
        last = max((r.ended or r.started for r in records), default=None)
        if first is None or last is None:
            report.api_before = ApiStats.of(samples)
        else:
            report.api_before = ApiStats.of([s for s in samples if s.at < first])
            report.api_during = ApiStats.of([s for s in samples if first <= s.at <= last])
            report.api_after = ApiStats.of([s for s in samples if s.at > last])
        for record in records:
            end = record.ended if record.ended is not None else record.started
            during = [s for s in samples if record.started <= s.at <= end]
            after = [s for s in samples if end < s.at <= end + AFTER_WINDOW]
            # Recovery counts from when the system is left alone: a fault that ends while
            # another one still holds it down (a server restart inside a database outage)
            # cannot recover before that one ends too.
            quiet = quiet_from(end, records)
            recovered = next((s.at for s in samples if s.at >= quiet and s.ok), None)
            report.faults.append(
                FaultOutcome(
                    record,
                    ApiStats.of(during),
                    ApiStats.of(after),
                    None if recovered is None else round(max(0.0, recovered - quiet), 2),
                )
            )
        if last is not None and self.depth:
            drained = next((t for t, n in self.depth if t >= last and n == 0), None)
            report.drained_seconds = None if drained is None else round(drained - last, 2)


def quiet_from(end: float, records: Sequence[FaultRecord]) -> float:
    """The first moment from `end` on when no fault is active: a fault still running at
    `end` pushes it to that fault's own end, and so on."""
    moved = True
    while moved:
        moved = False
        for other in records:
            other_end = other.ended if other.ended is not None else other.started
            if other.started <= end < other_end:
                end, moved = other_end, True
    return end


def _timestamp(epoch: float) -> float:
    return float(epoch)
