"""Operator queries behind `studypath admin …` task commands: list, count, clear.

The API's versions (in `service.py`) answer one user at a time, scoped and paginated; these
look at the whole queue, as someone running the system from a terminal needs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.tasks.models import Task
from studypath.tasks.states import TaskStatus

TAG_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def parse_tag(text: str) -> tuple[str, str]:
    """`team:search` → ("team", "search"). The value may itself contain colons."""
    key, colon, value = text.partition(":")
    if not colon or not value:
        raise ValueError(f"malformed tag {text!r}: write key:value, e.g. team:search")
    if not TAG_KEY.fullmatch(key):
        raise ValueError(
            f"malformed tag {text!r}: the key must be 1–64 letters, digits, '_', '.' or '-'"
        )
    return key, value


async def recent_tasks(
    session: AsyncSession,
    *,
    status: TaskStatus | None = None,
    task_type: str | None = None,
    limit: int = 50,
) -> list[Task]:
    """The newest tasks first, optionally of one status and/or type."""
    query = select(Task).order_by(Task.created_at.desc(), Task.id).limit(limit)
    if status is not None:
        query = query.where(Task.status == status)
    if task_type is not None:
        query = query.where(Task.task_type == task_type)
    return list(await session.scalars(query))


@dataclass
class TaskCounts:
    """How many tasks are in each status, overall and per type."""

    by_status: dict[TaskStatus, int] = field(default_factory=lambda: dict.fromkeys(TaskStatus, 0))
    by_type: dict[str, dict[TaskStatus, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


async def count_tasks(session: AsyncSession, *, tag: tuple[str, str] | None = None) -> TaskCounts:
    """Counts by type and status; with `tag`, only tasks whose metadata has key = value.

    `metadata ->> key` is the value as text, so the tag `attempt:3` matches 3 and "3".
    """
    query = select(Task.task_type, Task.status, func.count()).group_by(Task.task_type, Task.status)
    if tag is not None:
        key, value = tag
        query = query.where(Task.metadata_[key].astext == value)
    counts = TaskCounts()
    for task_type, status, count in (await session.execute(query)).all():
        counts.by_status[status] += count
        per_type = counts.by_type.setdefault(task_type, dict.fromkeys(TaskStatus, 0))
        per_type[status] = count
    counts.by_type = dict(sorted(counts.by_type.items()))
    return counts


async def clear_completed(session: AsyncSession, *, older_than: timedelta) -> int:
    """Delete completed tasks that finished more than `older_than` ago; returns how many."""
    deleted = await session.execute(
        delete(Task)
        .where(
            Task.status == TaskStatus.COMPLETED,
            func.coalesce(Task.completed_at, Task.updated_at) < func.now() - older_than,
        )
        .returning(Task.id)
    )
    return len(deleted.all())
