"""`studypath admin` account commands, in-process on this test's database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from click.testing import Result
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.auth import keys as auth_keys
from studypath.auth.models import ApiKey, Session
from studypath.config import Settings
from studypath.core.security import verify_password
from studypath.identity.models import User
from studypath.identity.roles import Role
from studypath.testing.factories import make_user, start_session

pytestmark = pytest.mark.timeout(60)
Admin = Callable[..., Awaitable[Result]]


async def user_row(session: AsyncSession, username: str) -> User:
    session.expire_all()
    user = await session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


async def test_create_admin_with_a_password_option(admin: Admin, session: AsyncSession) -> None:
    result = await admin(
        "create-admin",
        "--username",
        "boss",
        "--email",
        "boss@example.org",
        "--password",
        "Boss-Pass-123",
    )
    assert result.exit_code == 0, result.output
    assert "created admin boss (boss@example.org)" in result.output
    boss = await user_row(session, "boss")
    assert boss.role is Role.ADMIN
    assert verify_password(boss.password_hash, "Boss-Pass-123")


async def test_create_admin_prompts_for_the_password(admin: Admin, session: AsyncSession) -> None:
    result = await admin("create-admin", input="Typed-Pass-456\nTyped-Pass-456\n")
    assert result.exit_code == 0, result.output
    assert "Typed-Pass-456" not in result.output  # hidden input
    assert verify_password((await user_row(session, "admin")).password_hash, "Typed-Pass-456")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--password", "weak"], "at least 8 characters"),
        (["--username", "taken", "--password", "Boss-Pass-123"], "Username is already taken"),
    ],
    ids=["policy", "duplicate"],
)
async def test_create_admin_refusals(
    admin: Admin, session: AsyncSession, args: list[str], message: str
) -> None:
    await make_user(session, username="taken")
    result = await admin("create-admin", *args)
    assert result.exit_code == 1
    assert message in result.output


async def test_reset_password_ends_sessions_and_reactivates(
    admin: Admin, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session, username="locked", is_active=False)
    await start_session(session, user, settings)
    result = await admin("reset-password", "locked", "--password", "Back-In-789")
    assert result.exit_code == 0, result.output
    assert "ended 1 session(s)" in result.output
    row = await user_row(session, "locked")
    assert row.is_active
    assert verify_password(row.password_hash, "Back-In-789")
    assert not row.password_change_required
    assert await session.scalar(select(func.count()).select_from(Session)) == 0


async def test_reset_password_revokes_api_keys_and_can_require_a_change(
    admin: Admin, session: AsyncSession
) -> None:
    user = await make_user(session, username="keyholder")
    await auth_keys.create_key(session, user.id, "laptop", None)
    await session.commit()
    result = await admin(
        "reset-password", "keyholder", "--password", "Back-In-789", "--require-change"
    )
    assert result.exit_code == 0, result.output
    assert "revoked 1 API key(s)" in result.output
    assert (await user_row(session, "keyholder")).password_change_required
    live = await session.scalar(
        select(func.count()).select_from(ApiKey).where(ApiKey.revoked_at.is_(None))
    )
    assert live == 0


async def test_set_role_and_the_last_admin_rule(admin: Admin, session: AsyncSession) -> None:
    await make_user(session, username="root", role=Role.ADMIN)
    await make_user(session, username="bob")

    promoted = await admin("set-role", "bob", "moderator")
    refused = await admin("set-role", "root", "user")
    unknown = await admin("set-role", "bob", "emperor")
    nobody = await admin("set-role", "ghost", "user")

    assert promoted.exit_code == 0 and "bob is now moderator" in promoted.output
    assert refused.exit_code == 1 and "last active admin" in refused.output
    assert unknown.exit_code == 1 and "unknown role" in unknown.output
    assert nobody.exit_code == 1 and "no user 'ghost'" in nobody.output
    assert (await user_row(session, "root")).role is Role.ADMIN


async def test_list_users(admin: Admin, session: AsyncSession) -> None:
    await make_user(session, username="root", role=Role.ADMIN)
    await make_user(session, username="carol")
    everyone = await admin("list-users")
    admins = await admin("list-users", "--role", "admin")
    assert everyone.exit_code == 0, everyone.output
    assert "root" in everyone.output and "carol" in everyone.output
    assert "2 user(s)" in everyone.output
    assert "carol" not in admins.output and "1 user(s)" in admins.output
