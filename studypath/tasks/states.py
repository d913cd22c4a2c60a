"""The task vocabulary: statuses and priorities (with the numeric rank the queue sorts by)."""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"  # the dead letter: out of attempts, kept with its error history
    CANCELLED = "cancelled"
    RETRYING = "retrying"


class TaskPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


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
