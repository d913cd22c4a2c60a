"""Operator queries behind `studypath admin …` task commands: list and clear (counting is
`stats.count_by_status`, which the API's stats share).

The API's versions (in `service.py`) answer one user at a time, scoped and paginated; these
look at the whole queue, as someone running the system from a terminal needs to.
"""

from __future__ import annotations

import re
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
