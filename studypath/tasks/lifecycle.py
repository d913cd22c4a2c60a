"""The task lifecycle: one table of transitions, and the function that checks a move.

Every status change the queue makes is one of these rows; the SQL only moves tasks along
them (its WHERE clauses name the allowed source states), `tests/tasks/test_tasks_lifecycle.py`
reads every statement's `SET status` and `WHERE status` and checks each move against this
table, and the week-3 notebook draws its state diagram from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from studypath.tasks.states import TaskStatus


@dataclass(frozen=True)
class Transition:
    source: TaskStatus
    target: TaskStatus
    event: str  # what makes it happen, in words for diagrams


TRANSITIONS: tuple[Transition, ...] = (
    Transition(TaskStatus.PENDING, TaskStatus.RUNNING, "worker claims it"),
    Transition(TaskStatus.RETRYING, TaskStatus.RUNNING, "worker claims it (backoff elapsed)"),
    Transition(TaskStatus.PENDING, TaskStatus.CANCELLED, "cancelled before it ran"),
    Transition(TaskStatus.RETRYING, TaskStatus.CANCELLED, "cancelled while waiting to retry"),
    Transition(TaskStatus.RUNNING, TaskStatus.COMPLETED, "handler returned"),
    Transition(TaskStatus.RUNNING, TaskStatus.RETRYING, "handler failed, attempts left"),
    Transition(TaskStatus.RUNNING, TaskStatus.RETRYING, "lease expired (worker died)"),
    Transition(TaskStatus.RUNNING, TaskStatus.DEAD_LETTER, "failed on the last attempt"),
    Transition(TaskStatus.RUNNING, TaskStatus.DEAD_LETTER, "bad payload (never retried)"),
    Transition(TaskStatus.RUNNING, TaskStatus.CANCELLED, "cancellation honoured"),
    Transition(TaskStatus.RUNNING, TaskStatus.PENDING, "released by a worker shutting down"),
    Transition(
        TaskStatus.DEAD_LETTER, TaskStatus.PENDING, "manual retry from the dead-letter queue"
    ),
)

TERMINAL: frozenset[TaskStatus] = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.DEAD_LETTER, TaskStatus.CANCELLED}
)
READY: frozenset[TaskStatus] = frozenset(
    {TaskStatus.PENDING, TaskStatus.RETRYING}
)  # what a worker may claim


class InvalidTransition(ValueError):
    def __init__(self, source: TaskStatus, target: TaskStatus) -> None:
        super().__init__(f"a {source.value} task cannot become {target.value}")
        self.source, self.target = source, target


def sources_of(target: TaskStatus) -> frozenset[TaskStatus]:
    """Every status a task may be in to move to `target` (used in WHERE clauses)."""
    return frozenset(t.source for t in TRANSITIONS if t.target is target)


def check_transition(source: TaskStatus, target: TaskStatus) -> None:
    """Raise InvalidTransition unless the table allows `source` → `target`."""
    if source not in sources_of(target):
        raise InvalidTransition(source, target)
