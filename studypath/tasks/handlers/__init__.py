"""Built-in task handlers. Importing this package fills the built-in catalogue
(`studypath.tasks.registry.BUILTINS`); a running system copies it into its own registry
with `register_builtins` (or starts from `builtin_registry()`).

Each module is one task type: what it does, what counts as a permanent failure and why,
is in its docstring. Files they write stay under the data directory (see `common`).
"""

from studypath.tasks.handlers import (
    data_processing,
    delay_task,
    email,
    file_cleanup,
    notification,
    report_generation,
    webhook,
)
from studypath.tasks.registry import BUILTINS, TaskRegistry


def register_builtins(registry: TaskRegistry) -> TaskRegistry:
    """Add every built-in task type to `registry` (a system's own); returns it."""
    for spec in BUILTINS.specs():
        registry.add(spec)
    return registry


def builtin_registry() -> TaskRegistry:
    """A new registry holding the built-in task types: what a system starts from."""
    return register_builtins(TaskRegistry())


__all__ = [
    "builtin_registry",
    "data_processing",
    "delay_task",
    "email",
    "file_cleanup",
    "notification",
    "register_builtins",
    "report_generation",
    "webhook",
]
