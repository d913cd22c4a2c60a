"""Background tasks: a PostgreSQL queue, its workers, retries, dead letters and breakers.

The teaching surface, importable from here: a task's lifecycle (`TaskStatus`,
`TRANSITIONS`, `READY`, `TERMINAL`, `check_transition`, `sources_of`), writing a handler
(`Handler`, `TaskContext`, `TaskRegistry`, `PermanentError`, `BreakerConfig`) and retries
(`RetryStrategy`, `DEFAULT_STRATEGY`). The modules (`service`, `queue`, …) are the system's
own; notebooks read them, and labs queue work with `service.create_task`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Where each name lives. They are imported on first use (PEP 562), so importing one small
# module of the package (`studypath.tasks.states` for the CLI's `--status` choices) does not
# import the registry, and with it SQLAlchemy and FastAPI.
_HOMES = {
    "studypath.tasks.lifecycle": (
        "READY",
        "TERMINAL",
        "TRANSITIONS",
        "InvalidTransition",
        "check_transition",
        "sources_of",
    ),
    "studypath.tasks.registry": (
        "BreakerConfig",
        "Handler",
        "PermanentError",
        "TaskCancelled",
        "TaskContext",
        "TaskRegistry",
    ),
    "studypath.tasks.retry": ("DEFAULT_STRATEGY", "RetryStrategy"),
    "studypath.tasks.states": ("TaskPriority", "TaskStatus"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    home = _HOME_OF.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # the next lookup is an ordinary one
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME_OF})


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
