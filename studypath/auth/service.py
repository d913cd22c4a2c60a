"""Registration and login: the only places a password turns into a session.

Login answers the same way, in the same time, whether the account is unknown, inactive or
the password is wrong; failed attempts are throttled per account and per client address.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.auth import sessions, throttle
from studypath.auth.models import Session
from studypath.auth.sessions import SessionPolicy
from studypath.auth.throttle import ThrottlePolicy
from studypath.core.errors import AppError, ErrorCode
from studypath.core.security import hash_password_async, needs_rehash, verify_password_async
from studypath.observability.tracing import traced
from studypath.rbac.roles import Role
from studypath.users import service as users_service
from studypath.users.models import User

INVALID_LOGIN = "Invalid username/email or password"


@dataclass(frozen=True)
class LoginResult:
    token: str
    session: Session
    user: User


@traced
async def register(db: AsyncSession, *, username: str, email: str, password: str) -> User:
    return await users_service.create_user(
        db, username=username, email=email, password=password, role=Role.USER
    )


def rate_limited(seconds: int) -> AppError:
    return AppError(
        ErrorCode.RATE_LIMITED,
        f"Too many failed logins; try again in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )


@traced
async def login(
    db: AsyncSession,
    *,
    identifier: str,
    by_email: bool,
    password: str,
    client_address: str | None,
    user_agent: str | None,
    session_policy: SessionPolicy,
    account_policy: ThrottlePolicy,
    client_policy: ThrottlePolicy,
) -> LoginResult:
    account_key = throttle.account_key(identifier)
    client_key = throttle.client_key(client_address)
    locked = await throttle.seconds_locked(db, [account_key, client_key])
    if locked:
        raise rate_limited(locked)

    user = await users_service.find_by_login(db, identifier, by_email=by_email)
    # Verify even when there is no user (against a dummy hash): same cost, same answer.
    password_ok = await verify_password_async(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.is_active:
        await throttle.record_failure(db, account_key, account_policy)
        await throttle.record_failure(db, client_key, client_policy)
        await db.commit()
        raise AppError(ErrorCode.INVALID_CREDENTIALS, INVALID_LOGIN)

    await throttle.clear(db, account_key)
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_password_async(password)
    user.last_login_at = func.now()
    token, session = await sessions.create_session(
        db, user.id, session_policy, user_agent=user_agent, ip_address=client_address
    )
    await db.commit()
    await db.refresh(user)
    return LoginResult(token=token, session=session, user=user)


@traced
async def logout(db: AsyncSession, session_id: uuid.UUID) -> None:
    await sessions.end_session(db, session_id)
    await db.commit()


@traced
async def logout_all(db: AsyncSession, user_id: uuid.UUID) -> int:
    ended = await sessions.end_user_sessions(db, user_id)
    await db.commit()
    return ended
