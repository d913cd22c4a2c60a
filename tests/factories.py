"""Factories: rows with sensible defaults, so a test states only what matters to it."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from studypath.core.security import hash_password
from studypath.rbac.roles import Role
from studypath.tasks.models import Task, TaskType
from studypath.users.models import User

_counter = itertools.count(1)
DEFAULT_PASSWORD = "Correct-Horse-9"


async def create_user(
    session: AsyncSession,
    *,
    username: str | None = None,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    role: Role = Role.USER,
    **fields: Any,
) -> User:
    number = next(_counter)
    user = User(
        username=username or f"user{number}",
        email=email or f"user{number}@example.com",
        password_hash=hash_password(password),
        role=role,
        **fields,
    )
    session.add(user)
    await session.commit()
    return user


async def create_task_type(
    session: AsyncSession, name: str | None = None, description: str = "test type"
) -> TaskType:
    task_type = TaskType(task_type=name or f"type_{next(_counter)}", description=description)
    session.add(task_type)
    await session.commit()
    return task_type


async def create_task(session: AsyncSession, task_type: str, **fields: Any) -> Task:
    task = Task(task_type=task_type, **fields)
    session.add(task)
    await session.commit()
    return task
