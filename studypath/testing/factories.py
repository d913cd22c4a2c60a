"""Factories: rows with sensible defaults and unique data per call, so a test states only
what matters to it (`make_user(app, role=Role.ADMIN)`) and two calls never collide.

Each factory takes where to write: a `TestApp` (it opens a session on the app's database
and commits) or an `AsyncSession` of the test's own (it commits that session).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from studypath.auth import sessions as auth_sessions
from studypath.auth.policies import session_policy
from studypath.config import Settings
from studypath.core.security import hash_password
from studypath.identity.models import User
from studypath.identity.roles import Role
from studypath.notes.models import Note
from studypath.tasks.models import Task, TaskType
from studypath.testing.app import TestApp

Target = TestApp | AsyncSession

DEFAULT_PASSWORD = "Correct-Horse-9"
TEST_TASK_TYPE = "test_task"  # the type `make_task` uses when none is given
_numbers = itertools.count(1)


def unique(prefix: str) -> str:
    """`prefix` and a number no other call in this process got: `user7`, `note8`."""
    return f"{prefix}{next(_numbers)}"


@asynccontextmanager
async def _session(target: Target) -> AsyncIterator[AsyncSession]:
    if isinstance(target, AsyncSession):
        yield target
    else:
        async with target.db.sessionmaker() as session:
            yield session


async def make_user(
    target: Target,
    *,
    username: str | None = None,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    role: Role = Role.USER,
    **fields: Any,
) -> User:
    """A user (signed in nowhere yet); the password is `DEFAULT_PASSWORD` unless given."""
    name = username or unique("user")
    user = User(
        username=name,
        email=email or f"{name}@example.com",
        password_hash=hash_password(password),
        role=role,
        **fields,
    )
    async with _session(target) as session:
        session.add(user)
        await session.commit()
    return user


async def start_session(session: AsyncSession, user: User, settings: Settings) -> str:
    """A real session for `user` (as login would create); returns its bearer token."""
    token, _row = await auth_sessions.create_session(session, user.id, session_policy(settings))
    await session.commit()
    return token


async def authenticated_user(
    app: TestApp, *, role: Role = Role.USER, **fields: Any
) -> tuple[User, str]:
    """A new user, signed in through the real `POST /api/v1/auth/login`: (user, token)."""
    user = await make_user(app, role=role, **fields)
    token = await app.login(user.username, fields.get("password", DEFAULT_PASSWORD))
    return user, token


async def make_note(
    target: Target,
    owner: User | uuid.UUID,
    *,
    title: str | None = None,
    content: str | None = None,
    is_public: bool = False,
) -> Note:
    """A note of `owner`'s, private unless `is_public`."""
    owner_id = owner.id if isinstance(owner, User) else owner
    note = Note(
        owner_id=owner_id,
        title=title or unique("note "),
        content="some text" if content is None else content,
        is_public=is_public,
    )
    async with _session(target) as session:
        session.add(note)
        await session.commit()
        await session.refresh(note)
    return note


async def make_task_type(
    target: Target, name: str | None = None, description: str = "test type"
) -> TaskType:
    """A task type row (no handler: nothing runs it unless a test registers one)."""
    task_type = TaskType(task_type=name or unique("type_"), description=description)
    async with _session(target) as session:
        session.add(task_type)
        await session.commit()
    return task_type


async def make_task(target: Target, task_type: str | None = None, **fields: Any) -> Task:
    """A task row, pending unless `status=` says otherwise; its type (`TEST_TASK_TYPE`
    unless given) is created if the database does not know it yet."""
    name = task_type or TEST_TASK_TYPE
    async with _session(target) as session:
        if await session.get(TaskType, name) is None:
            session.add(TaskType(task_type=name, description="test type"))
            await session.flush()
        task = Task(task_type=name, **fields)
        session.add(task)
        await session.commit()
    return task
