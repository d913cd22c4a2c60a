"""Counting tasks: by status, overall and per type.

One query serves every reader: `GET /tasks/stats`, `studypath admin task-stats` and the
queue-depth gauge on the metrics page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from studypath.tasks.models import Task
from studypath.tasks.sql import Executor
from studypath.tasks.states import TaskStatus


@dataclass
class TaskCounts:
    """How many tasks are in each status, overall and per type (every status present)."""

    by_status: dict[TaskStatus, int] = field(default_factory=lambda: dict.fromkeys(TaskStatus, 0))
    by_type: dict[str, dict[TaskStatus, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


async def count_by_status(conn: Executor, *, tag: tuple[str, str] | None = None) -> TaskCounts:
    """Counts by type and status (types sorted by name); with `tag`, only tasks whose
    metadata has key = value.

    `metadata ->> key` is the value as text, so the tag `attempt:3` matches 3 and "3".
    """
    query = select(Task.task_type, Task.status, func.count()).group_by(Task.task_type, Task.status)
    if tag is not None:
        key, value = tag
        query = query.where(Task.metadata_[key].astext == value)
    counts = TaskCounts()
    for task_type, status, count in (await conn.execute(query)).all():
        counts.by_status[status] += count
        per_type = counts.by_type.setdefault(task_type, dict.fromkeys(TaskStatus, 0))
        per_type[status] = count
    counts.by_type = dict(sorted(counts.by_type.items()))
    return counts


FINISHED = (TaskStatus.COMPLETED, TaskStatus.DEAD_LETTER, TaskStatus.CANCELLED)


async def count_unfinished(conn: Executor, task_types: list[str]) -> int:
    """Tasks of `task_types` a worker could run now or is running: waiting (pending, or a
    retry whose backoff is over) and due, or running. (What `TestApp.run_tasks` drains.)"""
    waiting = Task.status.in_((TaskStatus.PENDING, TaskStatus.RETRYING))
    query = select(func.count()).where(
        Task.task_type.in_(task_types),
        (Task.status == TaskStatus.RUNNING) | (waiting & (Task.scheduled_at <= func.now())),
    )
    return int((await conn.execute(query)).scalar_one())
