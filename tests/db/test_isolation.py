"""The harness promise: every test has a database of its own."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.identity.models import User
from studypath.testing.factories import make_user


@pytest.mark.parametrize("run", ["first", "second"])
async def test_tests_cannot_see_each_others_rows(session: AsyncSession, run: str) -> None:
    # Arrange: both runs create the same user; if databases were shared, the second run
    # would find the first one's row (or fail on the unique username).
    assert await session.scalar(select(func.count()).select_from(User)) == 0

    # Act
    await make_user(session, username="isolation-probe")

    # Assert
    assert await session.scalar(select(func.count()).select_from(User)) == 1


async def test_each_test_database_is_migrated(session: AsyncSession) -> None:
    from sqlalchemy import text

    from studypath.migrations import head_revision

    revision = await session.scalar(text("SELECT version_num FROM alembic_version"))
    assert revision == head_revision()
