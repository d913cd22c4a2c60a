"""The error code of the task queue's API: no such task (or not yours to see)."""

from __future__ import annotations

from studypath.core.errors import ErrorCodeEnum


class TaskErrorCode(ErrorCodeEnum):
    TASK_NOT_FOUND = "TASK_NOT_FOUND", 404
