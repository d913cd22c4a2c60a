"""Accounts: create one, find one. What every account package needs (registration and login
in `auth`, user management in `users`, sharing in `notes`), and nothing that ends sessions
or checks a role.

Duplicates are found case-insensitively, and a race past that check is still a 409: the
unique indexes decide.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.core.errors import AppError, ErrorCode
from studypath.core.security import hash_password_async
from studypath.identity.errors import UserErrorCode
from studypath.identity.models import User
from studypath.identity.passwords import policy_violations
from studypath.identity.roles import Role
from studypath.telemetry.tracing import traced


def check_password_policy(password: str, *, field: str = "password") -> None:
    """400 listing every rule `password` breaks, each detail naming `field`: the request's
    own name for it (`password` at registration, `new_password` when it is changed)."""
    problems = policy_violations(password)
    if problems:
        raise AppError(
            ErrorCode.VALIDATION_FAILED,
            "Password " + "; ".join(problems),
            details=[{"field": field, "message": problem} for problem in problems],
        )


async def find_by_login(db: AsyncSession, identifier: str, *, by_email: bool) -> User | None:
    """A not-deleted user by username or email, case-insensitively."""
    column = User.email if by_email else User.username
    return await db.scalar(
        select(User).where(
            func.lower(column) == identifier.strip().lower(), User.deleted_at.is_(None)
        )
    )


async def get_user(db: AsyncSession, user_id: uuid.UUID) -> User | None:
    user = await db.get(User, user_id)
    return None if user is None or user.deleted_at is not None else user


async def ensure_unique(
    db: AsyncSession, *, username: str | None, email: str | None, exclude: uuid.UUID | None = None
) -> None:
    for value, column, code, what in (
        (username, User.username, UserErrorCode.USERNAME_ALREADY_EXISTS, "Username"),
        (email, User.email, UserErrorCode.EMAIL_ALREADY_EXISTS, "Email"),
    ):
        if value is None:
            continue
        query = select(User.id).where(func.lower(column) == value.lower())
        if exclude is not None:
            query = query.where(User.id != exclude)
        if await db.scalar(query) is not None:
            raise AppError(code, f"{what} is already taken")


async def flush_or_duplicate(db: AsyncSession) -> None:
    """Write the pending changes now, so a duplicate is a 409 here and not a failed commit.
    The caller's transaction is unusable after it: the caller rolls back (the 409 does)."""
    try:
        await db.flush()
    except IntegrityError as exc:
        raise _duplicate_error(exc) from None


def _duplicate_error(exc: IntegrityError) -> AppError:
    """Two requests raced past `ensure_unique`: the unique index decides."""
    message = str(exc.orig)
    if "email" in message:
        return AppError(UserErrorCode.EMAIL_ALREADY_EXISTS, "Email is already taken")
    if "username" in message:
        return AppError(UserErrorCode.USERNAME_ALREADY_EXISTS, "Username is already taken")
    return AppError(UserErrorCode.USER_ALREADY_EXISTS, "User already exists")


@traced
async def create_user(
    db: AsyncSession,
    *,
    username: str,
    email: str,
    password: str,
    role: Role = Role.USER,
    email_verified: bool = False,
) -> User:
    check_password_policy(password)
    # Hash before looking for duplicates: a taken name costs the same argon2 work as a free
    # one, so the time of the answer does not tell which names exist.
    password_hash = await hash_password_async(password)
    await ensure_unique(db, username=username, email=email)
    user = User(
        username=username,
        email=email,
        password_hash=password_hash,
        role=role,
        email_verified=email_verified,
    )
    db.add(user)
    await flush_or_duplicate(db)
    await db.refresh(user)  # the server's id and timestamps
    return user


__all__ = [
    "check_password_policy",
    "create_user",
    "ensure_unique",
    "find_by_login",
    "flush_or_duplicate",
    "get_user",
]
