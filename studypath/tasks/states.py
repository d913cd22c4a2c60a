"""The task vocabulary: statuses, priorities (with the numeric rank the queue sorts by),
breaker states, and how an attempt ended.

Two words are easy to mix up, so they have different names here:

- a **failed attempt** is one run of a handler that raised; the task waits out a backoff as
  `RETRYING` and runs again (`AttemptOutcome.RETRYING`);
- a **dead letter** is a task that will not run again on its own: out of attempts, or its
  input was bad. Its status is `TaskStatus.DEAD_LETTER`, stored and shown as `"failed"` (the
  word the API shares with the reference system).
"""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    DEAD_LETTER = "failed"  # out of attempts (or bad input), kept with its error history
    CANCELLED = "cancelled"
    RETRYING = "retrying"  # an attempt failed; waiting out its backoff before the next one


class TaskPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class BreakerState(StrEnum):
    CLOSED = "closed"  # tasks run
    OPEN = "open"  # too many failures: tasks of this type wait, spending no attempt
    HALF_OPEN = "half_open"  # recovery timeout passed: exactly one probe task may run


class AttemptOutcome(StrEnum):
    """How one attempt ended, as the worker records it (the `outcome` label of
    `studypath_task_duration_seconds`)."""

    COMPLETED = "completed"  # the handler returned; the task is done
    RETRYING = "retrying"  # a failed attempt: it runs again after its backoff
    DEAD_LETTERED = "dead"  # a failed attempt that was the last one (or bad input)
    CANCELLED = "cancelled"  # cancellation honoured
    RELEASED = "released"  # handed back by a worker shutting down; the attempt does not count
    LOST = "lost"  # the lease was lost: another worker owns the task now
    UNRECORDED = "failed"  # the outcome could not be written (the database failed us)


# Higher runs first. The database derives `tasks.priority_rank` from the same numbers, so the
# queue sorts by a number, never by the priority's name ("critical" < "high" alphabetically).
PRIORITY_RANK: dict[TaskPriority, int] = {
    TaskPriority.LOW: 0,
    TaskPriority.NORMAL: 1,
    TaskPriority.HIGH: 2,
    TaskPriority.CRITICAL: 3,
}


def priority_rank_sql(column: str = "priority") -> str:
    """The SQL expression behind the generated `priority_rank` column."""
    cases = " ".join(f"WHEN '{p.value}' THEN {rank}" for p, rank in PRIORITY_RANK.items())
    return f"CASE {column} {cases} END"
