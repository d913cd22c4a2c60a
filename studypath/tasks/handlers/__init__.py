"""Built-in task handlers. Importing this package registers them in the default registry.

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

__all__ = [
    "data_processing",
    "delay_task",
    "email",
    "file_cleanup",
    "notification",
    "report_generation",
    "webhook",
]
