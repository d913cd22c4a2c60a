"""The report of one chaos run: what was submitted and what became of it, what the API's
users saw before, during and after each fault, how long recovery took, and whether the run
passed — beside the reference system's thresholds.

`ChaosReport` is the Python object; `to_json()` and `to_markdown()` are the two renderings.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from studypath.chaos.load import Sample
from studypath.chaos.timeline import FaultRecord

RECOVERY_BOUND_SECONDS = 10.0
LEVEL_6_COMPLETION = 0.99


@dataclass
class ApiStats:
    requests: int
    success_rate: float | None
    p50_ms: float | None
    p95_ms: float | None

    @classmethod
    def of(cls, samples: list[Sample]) -> ApiStats:
        if not samples:
            return cls(0, None, None, None)
        latencies = sorted(sample.latency_ms for sample in samples)
        p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
        return cls(
            len(samples),
            round(sum(sample.ok for sample in samples) / len(samples), 4),
            round(statistics.median(latencies), 1),
            round(p95, 1),
        )


@dataclass
class FaultOutcome:
    """One fault, and what the API's users saw around it."""

    fault: FaultRecord
    during: ApiStats
    after: ApiStats  # the 5 s after it ended
    recovery_seconds: float | None  # fault end → the first successful request after it


@dataclass
class Criterion:
    name: str
    required: str
    actual: str
    passed: bool


@dataclass
class ChaosReport:
    name: str
    description: str
    level: int | None
    duration: float
    started_at: float  # wall clock (epoch seconds)
    # tasks
    submitted: int = 0
    accepted: int = 0
    refused: int = 0
    completed: int = 0
    dead_lettered: int = 0
    pending: int = 0
    cancelled: int = 0
    lost: int = 0
    duplicate_effects: int = 0
    redeliveries: int = 0
    duplicate_submissions: int = 0
    webhook_duplicates: int = 0
    completion_rate: float = 0.0
    drained_seconds: float | None = None  # last fault end → every task finished
    # the API
    api_before: ApiStats = field(default_factory=lambda: ApiStats.of([]))
    api_during: ApiStats = field(default_factory=lambda: ApiStats.of([]))
    api_after: ApiStats = field(default_factory=lambda: ApiStats.of([]))
    faults: list[FaultOutcome] = field(default_factory=list)
    breaker_transitions: list[tuple[float, str, str, str]] = field(default_factory=list)
    alerts_fired: int = 0
    incidents_opened: int = 0
    # series, for plots: (t, tasks not finished | None), (t, open breakers), API samples
    queue_depth: list[tuple[float, int | None]] = field(default_factory=list)
    api_samples: list[Sample] = field(default_factory=list)
    reference_threshold: float | None = None
    criteria: list[Criterion] = field(default_factory=list)
    interrupted: str | None = None  # why the run stopped early (Ctrl-C, an error)

    # ------------------------------------------------------------------ judging
    @property
    def max_recovery_seconds(self) -> float | None:
        times = [f.recovery_seconds for f in self.faults]
        if any(t is None for t in times):
            return None
        return max((t for t in times if t is not None), default=0.0)

    @property
    def passed(self) -> bool:
        return bool(self.criteria) and all(c.passed for c in self.criteria)

    def judge(self) -> None:
        """Fill `criteria`: the issue's bar (stricter than the reference's)."""
        need = LEVEL_6_COMPLETION if self.level == 6 else 1.0
        recovery = self.max_recovery_seconds
        self.criteria = [
            Criterion(
                "tasks completed",
                f">= {need:.0%}",
                f"{self.completion_rate:.1%} ({self.completed}/{self.accepted})",
                self.accepted > 0 and self.completion_rate >= need,
            ),
            Criterion("lost tasks", "0", str(self.lost), self.lost == 0),
            Criterion(
                "duplicate effects", "0", str(self.duplicate_effects), self.duplicate_effects == 0
            ),
            Criterion(
                "recovery after each fault",
                f"< {RECOVERY_BOUND_SECONDS:g} s",
                "never" if recovery is None else f"{recovery:.1f} s",
                recovery is not None and recovery < RECOVERY_BOUND_SECONDS,
            ),
        ]

    # ------------------------------------------------------------------ renderings
    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        data["max_recovery_seconds"] = self.max_recovery_seconds
        return data

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.as_dict(), indent=indent)

    def to_markdown(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [
            f"# Chaos run: {self.name} — {verdict}",
            "",
            f"{self.description}. Window {self.duration:g} s.",
        ]
        if self.interrupted:
            lines += ["", f"**Interrupted:** {self.interrupted}"]
        lines += [
            "",
            "## Tasks",
            "",
            "| submitted | accepted | completed | dead-lettered | pending | lost "
            "| duplicate effects | redeliveries | duplicate submissions |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {self.submitted} | {self.accepted} | {self.completed} | {self.dead_lettered} "
            f"| {self.pending} | {self.lost} | {self.duplicate_effects} | {self.redeliveries} "
            f"| {self.duplicate_submissions} |",
            "",
            "## Pass criteria",
            "",
            "| criterion | required | actual | |",
            "|---|---|---|---|",
            *(
                f"| {c.name} | {c.required} | {c.actual} | {'pass' if c.passed else 'FAIL'} |"
                for c in self.criteria
            ),
        ]
        if self.reference_threshold is not None:
            reference = (
                "designed to fail"
                if self.reference_threshold == 0
                else f">= {self.reference_threshold:.0%}"
            )
            lines += [
                "",
                f"The reference system's threshold for this level: success {reference}; "
                f"this run: {self.completion_rate:.1%}.",
            ]
        lines += ["", "## The API", "", "| phase | requests | success | p50 ms | p95 ms |"]
        lines.append("|---|---|---|---|---|")
        for phase, stats in (
            ("before faults", self.api_before),
            ("during faults", self.api_during),
            ("after faults", self.api_after),
        ):
            lines.append(_stats_row(phase, stats))
        if self.faults:
            lines += [
                "",
                "## Faults",
                "",
                "| start s | end s | fault | target | success during | success after "
                "| recovery s |",
                "|---|---|---|---|---|---|---|",
            ]
            for outcome in self.faults:
                record = outcome.fault
                lines.append(
                    f"| {record.started:.1f} | {_num(record.ended)} | {record.kind} "
                    f"| {record.target} | {_rate(outcome.during.success_rate)} "
                    f"| {_rate(outcome.after.success_rate)} | {_num(outcome.recovery_seconds)} |"
                )
        if self.breaker_transitions:
            lines += ["", "## Breaker transitions", ""]
            lines += [
                f"- {t:.1f} s: {task_type} {a} → {b}"
                for t, task_type, a, b in self.breaker_transitions
            ]
        lines += [
            "",
            f"Backlog drained {_num(self.drained_seconds)} s after the last fault ended. "
            f"Alerts fired: {self.alerts_fired}; incidents opened: {self.incidents_opened}.",
        ]
        return "\n".join(lines) + "\n"

    def gantt(self) -> str:
        """The fault schedule as a mermaid gantt chart (seconds since the run started)."""
        lines = ["gantt", f"    title {self.name}: faults", "    dateFormat X", "    axisFormat %S"]
        for index, record in enumerate(self.faults):
            fault = record.fault
            end = fault.ended if fault.ended is not None else self.duration
            length = max(1, round(end - fault.started))
            lines.append(f"    section {fault.kind}")
            lines.append(
                f"    {fault.target.replace(':', ' ')} : f{index}, "
                f"{round(fault.started)}, {length}s"
            )
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def _stats_row(phase: str, stats: ApiStats) -> str:
    return (
        f"| {phase} | {stats.requests} | {_rate(stats.success_rate)} | {_num(stats.p50_ms)} "
        f"| {_num(stats.p95_ms)} |"
    )


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"
