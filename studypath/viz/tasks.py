"""Pictures of the task queue, drawn from the code and the database.

- `lifecycle_diagram` draws the state machine from `studypath.tasks.lifecycle.TRANSITIONS`,
  the very table the queue's SQL follows — optionally with how many tasks are in each state;
- `breaker_diagram` draws a circuit breaker's three states, the current one highlighted;
- `retry_timeline` turns tasks' rows (their `error_history` and timestamps) into plain
  numbers a plot can use: when each attempt ended, and how long the queue waited between;
- `task_journey` follows one task from the API request that created it to its last attempt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from studypath.core.logging import LogEntry
from studypath.tasks.lifecycle import TERMINAL, TRANSITIONS
from studypath.tasks.registry import TaskSpec
from studypath.tasks.retry import RetryStrategy
from studypath.tasks.states import BreakerState, TaskStatus
from studypath.viz.diagrams import request_trace, short_sql
from studypath.viz.mermaid import Mermaid, escape

# What the guide calls each state, where its name differs (its InProgress, its DeadLetter).
_NOTES = {
    TaskStatus.RUNNING: "held by one worker under a lease (the guide's InProgress)",
    TaskStatus.RETRYING: "waits out its backoff (scheduled_at)",
    TaskStatus.DEAD_LETTER: "the dead-letter queue, kept with its error history",
}


# --------------------------------------------------------------------------- lifecycle
def lifecycle_diagram(counts: Mapping[str, Any] | None = None) -> Mermaid:
    """`stateDiagram-v2` of the task lifecycle: one arrow per row of `TRANSITIONS`, labelled
    with its event; `[*] --> pending`; every terminal state `--> [*]`.

    With `counts` (status -> number of tasks, e.g. `/tasks/stats` data), each state shows its
    count; keys that are not statuses are ignored, a missing status counts 0.
    """
    lines = ["stateDiagram-v2"]
    if counts is not None:
        for status in TaskStatus:
            lines.append(f"    {status.value} : {status.value} ({_count(counts, status)})")
    lines.append("    [*] --> pending : task created (POST /tasks)")
    for transition in TRANSITIONS:
        source, target = transition.source.value, transition.target.value
        lines.append(f"    {source} --> {target} : {escape(transition.event)}")
    for status in TaskStatus:  # enum order: the same text on every run
        if status in TERMINAL:
            lines.append(f"    {status.value} --> [*]")
    for status, note in _NOTES.items():
        # a colon would end the note's text early: mermaid refuses the diagram
        lines.append(f"    note right of {status.value} : {escape(note).replace(':', ' -')}")
    lines.append("    classDef terminal fill:#eceff1,stroke:#607d8b")
    lines.append("    classDef deadletter fill:#ffcdd2,stroke:#c62828")
    done = [s.value for s in TaskStatus if s in TERMINAL and s is not TaskStatus.DEAD_LETTER]
    lines.append(f"    class {', '.join(done)} terminal")
    lines.append(f"    class {TaskStatus.DEAD_LETTER.value} deadletter")
    return Mermaid("\n".join(lines))


def _count(counts: Mapping[str, Any], status: TaskStatus) -> int:
    value = counts.get(status.value, 0)
    return int(value) if isinstance(value, int | float) else 0


# --------------------------------------------------------------------------- breaker
@dataclass(frozen=True)
class BreakerMove:
    source: BreakerState
    target: BreakerState
    event: str


# The breaker's rules live in SQL (tasks/breakers.py: RECORD_FAILURE, CLOSE_ON_SUCCESS,
# PROBE_CANDIDATES); this names each move they make, in words.
BREAKER_TRANSITIONS: tuple[BreakerMove, ...] = (
    BreakerMove(BreakerState.CLOSED, BreakerState.CLOSED, "failure below the threshold: count + 1"),
    BreakerMove(BreakerState.CLOSED, BreakerState.OPEN, "failure_threshold failures in a row"),
    BreakerMove(BreakerState.OPEN, BreakerState.HALF_OPEN, "recovery timeout passed: one probe"),
    BreakerMove(BreakerState.HALF_OPEN, BreakerState.CLOSED, "the probe succeeded"),
    BreakerMove(BreakerState.HALF_OPEN, BreakerState.OPEN, "the probe failed: wait again"),
)

_BREAKER_NOTES = {
    BreakerState.CLOSED: "tasks run",
    BreakerState.OPEN: "tasks of this type wait, spending no attempt",
    BreakerState.HALF_OPEN: "exactly one probe task runs",
}


def breaker_diagram(
    state: str | None = None,
    *,
    failure_count: int | None = None,
    failure_threshold: int | None = None,
) -> Mermaid:
    """`stateDiagram-v2` of a circuit breaker; the current `state` (a `circuit_breakers.state`
    value, or None for none) is highlighted, and `closed` shows the failure count if given."""
    current = BreakerState(state) if state is not None else None
    lines = ["stateDiagram-v2", "    [*] --> closed"]
    for breaker_state in BreakerState:
        label = f"{breaker_state.value.replace('_', '-')}: {_BREAKER_NOTES[breaker_state]}"
        if breaker_state is BreakerState.CLOSED and failure_count is not None:
            of = f"/{failure_threshold}" if failure_threshold is not None else ""
            label += f" ({failure_count}{of} failures)"
        lines.append(f"    {breaker_state.value} : {escape(label)}")
    for move in BREAKER_TRANSITIONS:
        lines.append(f"    {move.source.value} --> {move.target.value} : {escape(move.event)}")
    lines.append("    classDef current fill:#ffe082,stroke:#e65100,stroke-width:3px")
    if current is not None:
        lines.append(f"    class {current.value} current")
    return Mermaid("\n".join(lines))


# --------------------------------------------------------------------------- retry timeline
@dataclass(frozen=True)
class AttemptMark:
    """One attempt that ended: when (seconds since the timeline's origin), and how."""

    attempt: int
    ended_at: float
    outcome: str  # "retrying" | "lease expired" | "dead letter" | "completed" | "cancelled"
    error: str | None = None
    worker: str | None = None


@dataclass(frozen=True)
class TaskTimeline:
    """A task's attempts on a time axis (seconds since the origin), ready to plot."""

    task_id: str
    task_type: str
    status: str
    created_at: float
    attempts: list[AttemptMark] = field(default_factory=list)
    last_started_at: float | None = None  # the row's started_at: when the latest attempt began
    next_attempt_at: float | None = None  # scheduled_at of a task still waiting to retry

    @property
    def gaps(self) -> list[float]:
        """Seconds between consecutive attempt ends: backoff + claim delay + run time."""
        ends = [mark.ended_at for mark in self.attempts]
        return [later - earlier for earlier, later in pairwise(ends)]


def retry_timeline(
    task_rows: Iterable[Mapping[str, Any]], *, origin: datetime | str | None = None
) -> list[TaskTimeline]:
    """Tasks' rows (from `wb.sql("SELECT * FROM tasks …")` or the tasks API) as timelines.

    Each failed attempt is an `error_history` entry (its `at` is when it ended); the last
    attempt of a finished task ended at `completed_at`. Times are seconds since `origin`,
    by default the earliest `created_at` among the rows, so several tasks share one axis.
    """
    rows = list(task_rows)
    if not rows:
        return []
    start = _time(origin) if origin is not None else min(_time(r["created_at"]) for r in rows)

    def since(value: Any) -> float | None:
        return None if value is None else (_time(value) - start).total_seconds()

    timelines = []
    for row in rows:
        status = str(row["status"])
        history = list(row.get("error_history") or [])
        marks = []
        for number, entry in enumerate(history):
            last = number == len(history) - 1
            error = str(entry.get("error", ""))
            if error == "lease expired":
                outcome = "lease expired"
            elif last and status == TaskStatus.DEAD_LETTER.value:
                outcome = "dead letter"
            else:
                outcome = "retrying"
            ended = since(entry.get("at"))
            marks.append(
                AttemptMark(
                    attempt=int(entry.get("attempt", number + 1)),
                    ended_at=ended if ended is not None else 0.0,
                    outcome=outcome,
                    error=error or None,
                    worker=entry.get("worker"),
                )
            )
        finished = since(row.get("completed_at"))
        if status in {TaskStatus.COMPLETED.value, TaskStatus.CANCELLED.value} and finished:
            marks.append(
                AttemptMark(
                    attempt=int(row.get("current_attempt") or len(marks) + 1),
                    ended_at=finished,
                    outcome=status,
                    error=row.get("last_error") if status == TaskStatus.CANCELLED.value else None,
                )
            )
        waiting = status in {TaskStatus.RETRYING.value, TaskStatus.PENDING.value}
        timelines.append(
            TaskTimeline(
                task_id=str(row["id"]),
                task_type=str(row.get("task_type", "")),
                status=status,
                created_at=since(row["created_at"]) or 0.0,
                attempts=sorted(marks, key=lambda mark: mark.ended_at),
                last_started_at=since(row.get("started_at")),
                next_attempt_at=since(row.get("scheduled_at")) if waiting else None,
            )
        )
    return timelines


def _time(value: datetime | str) -> datetime:
    """A timestamp from the database (datetime) or from JSON (ISO text), made aware (UTC)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- one task's journey
def _role(statement: str) -> str:
    """What a statement of the create-task request is for, in the guide's vocabulary."""
    flat = " ".join(statement.split()).lower()
    if "sessions" in flat or "api_keys" in flat or "from users" in flat:
        return "auth"
    if "task_types" in flat:
        return "validation"
    if flat.startswith("insert into tasks"):
        return "enqueue"
    if "pg_notify" in flat:
        return "notify"
    return "sql"


def _handler_name(spec: TaskSpec) -> str:
    """A handler function's name (a callable object's class name)."""
    return str(getattr(spec.handler, "__name__", type(spec.handler).__name__))


def task_journey(
    task: Mapping[str, Any],
    request_entries: Sequence[LogEntry] = (),
    spec: TaskSpec | None = None,
) -> Mermaid:
    """`sequenceDiagram` of one task: the API request that created it (its SQL, from the
    request's log entries), then each attempt as its row records it — claim, registry
    lookup, handler, and the outcome (retry with its backoff, dead letter, or done).

    `task` is the task's row or API JSON; `spec` (the registry's entry) names the handler.
    """
    created = _time(task["created_at"])

    def at(value: Any) -> str:
        return f"t+{(_time(value) - created).total_seconds():.2f}s"

    task_type = escape(str(task["task_type"]))
    handler = escape(_handler_name(spec)) if spec is not None else task_type
    lines = [
        "sequenceDiagram",
        "    participant Client",
        "    participant API as API (FastAPI)",
        "    participant Queue as PostgreSQL (tasks table)",
        "    participant Worker",
        "    participant Registry",
        f"    participant Handler as {handler}",
    ]
    trace = request_trace(request_entries) if request_entries else None
    line = f"{trace.method} {trace.path}".strip() if trace is not None else ""
    lines.append(f"    Client->>API: {escape(line or 'POST /api/v1/tasks')} ({task_type})")
    for statement in trace.statements if trace is not None else []:
        lines.append(f"    API->>Queue: {_role(statement)}: {short_sql(statement, 50)}")
    answer = f"{trace.status}" if trace is not None and trace.status is not None else "created"
    if trace is not None and trace.duration_ms is not None:
        answer += f" in {trace.duration_ms:.1f} ms"
    lines.append(f"    API-->>Client: {answer}, task {escape(str(task['id']))[:8]}…")
    lines.append("    Queue--)Worker: NOTIFY studypath_tasks (on commit)")
    strategy = RetryStrategy.model_validate(task.get("retry_strategy") or {})
    history = list(task.get("error_history") or [])
    status = str(task["status"])
    attempts = max(int(task.get("current_attempt") or 0), len(history))
    for number in range(1, attempts + 1):
        lines.append(f"    Worker->>Queue: claim (FOR UPDATE SKIP LOCKED): attempt {number}")
        lines.append(f"    Worker->>Registry: get({task_type})")
        lines.append(f"    Registry-->>Worker: {handler}")
        lines.append(f"    Worker->>Handler: {handler}(payload, ctx)")
        if number <= len(history):
            entry = history[number - 1]
            error = escape(str(entry.get("error", "")), 50)
            lines.append(f"    Handler--xWorker: {error}")
            dead = number == len(history) and status == TaskStatus.DEAD_LETTER.value
            if dead:
                lines.append(f"    Worker->>Queue: failed = dead letter ({at(entry['at'])})")
            else:
                wait = strategy.delay(number) if not strategy.jitter else None
                backoff = f"{wait:g}s" if wait is not None else "random (jitter)"
                lines.append(f"    Worker->>Queue: retrying, backoff {backoff} ({at(entry['at'])})")
            lines.append("    Note over Worker,Queue: circuit breaker: failure counted")
        elif status == TaskStatus.COMPLETED.value and task.get("completed_at") is not None:
            lines.append("    Handler-->>Worker: result")
            lines.append(f"    Worker->>Queue: completed ({at(task['completed_at'])})")
            lines.append("    Note over Worker,Queue: circuit breaker: success, count reset")
        else:
            lines.append(f"    Note over Worker,Handler: {escape(status)}")
    return Mermaid("\n".join(lines))
