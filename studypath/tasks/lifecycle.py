"""The task lifecycle: one table of transitions, and the function that checks a move.

Every status change the queue makes is one of these rows; the worker's SQL only moves
tasks along them (its WHERE clauses name the allowed source states), and the week-3
notebook draws its state diagram from this very table.
"""

from __future__ import annotations

from dataclasses import dataclass

from studypath.tasks.states import TaskStatus

P, RUN, OK, DEAD, X, RETRY = (
    TaskStatus.PENDING,
    TaskStatus.RUNNING,
    TaskStatus.COMPLETED,
    TaskStatus.FAILED,
    TaskStatus.CANCELLED,
    TaskStatus.RETRYING,
)


@dataclass(frozen=True)
class Transition:
    source: TaskStatus
    target: TaskStatus
    event: str  # what makes it happen, in words for diagrams


TRANSITIONS: tuple[Transition, ...] = (
    Transition(P, RUN, "worker claims it"),
    Transition(RETRY, RUN, "worker claims it (backoff elapsed)"),
    Transition(P, X, "cancelled before it ran"),
    Transition(RETRY, X, "cancelled while waiting to retry"),
    Transition(RUN, OK, "handler returned"),
    Transition(RUN, RETRY, "handler failed, attempts left"),
    Transition(RUN, RETRY, "lease expired (worker died)"),
    Transition(RUN, DEAD, "failed on the last attempt"),
    Transition(RUN, DEAD, "bad payload (never retried)"),
    Transition(RUN, X, "cancellation honoured"),
    Transition(RUN, P, "released by a worker shutting down"),
    Transition(DEAD, P, "manual retry from the dead-letter queue"),
)

TERMINAL: frozenset[TaskStatus] = frozenset({OK, DEAD, X})
READY: frozenset[TaskStatus] = frozenset({P, RETRY})  # what a worker may claim


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
