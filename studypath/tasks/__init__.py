"""Background tasks: a PostgreSQL queue, its workers, retries, dead letters and breakers.

The teaching surface, importable from here: a task's lifecycle (`TaskStatus`,
`TRANSITIONS`, `READY`, `TERMINAL`, `check_transition`, `sources_of`), writing a handler
(`Handler`, `TaskContext`, `TaskRegistry`, `PermanentError`, `BreakerConfig`) and retries
(`RetryStrategy`, `DEFAULT_STRATEGY`). The modules (`service`, `queue`, …) are the system's
own; notebooks read them, and labs queue work with `service.create_task`.
"""

from studypath.tasks.lifecycle import (
    READY,
    TERMINAL,
    TRANSITIONS,
    InvalidTransition,
    check_transition,
    sources_of,
)
from studypath.tasks.registry import (
    BreakerConfig,
    Handler,
    PermanentError,
    TaskCancelled,
    TaskContext,
    TaskRegistry,
)
from studypath.tasks.retry import DEFAULT_STRATEGY, RetryStrategy
from studypath.tasks.states import TaskPriority, TaskStatus

__all__ = [
    "DEFAULT_STRATEGY",
    "READY",
    "TERMINAL",
    "TRANSITIONS",
    "BreakerConfig",
    "Handler",
    "InvalidTransition",
    "PermanentError",
    "RetryStrategy",
    "TaskCancelled",
    "TaskContext",
    "TaskPriority",
    "TaskRegistry",
    "TaskStatus",
    "check_transition",
    "sources_of",
]
