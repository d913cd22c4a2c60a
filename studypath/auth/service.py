"""Registration and login: the only places a password turns into a session.

Login answers the same way, in the same time, whether the account is unknown, inactive or
the password is wrong; failed attempts are throttled per client address, per account at an
address (hard limits) and per account (a progressive delay): see `auth.throttle`.
Registration is throttled per client address and for the whole server, and costs one
argon2 hash whether or not the name is taken.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.auth import keys, sessions, throttle
from studypath.auth.errors import AuthErrorCode
from studypath.auth.models import Session
from studypath.auth.sessions import SessionPolicy
from studypath.auth.throttle import LoginThrottles, RegistrationThrottles
from studypath.core.errors import AppError, ErrorCode
from studypath.core.security import hash_password_async, needs_rehash, verify_password_async
from studypath.identity import service as identity_service
from studypath.identity.models import User
from studypath.identity.roles import Role
from studypath.telemetry.tracing import traced

INVALID_LOGIN = "Invalid username/email or password"
pause = asyncio.sleep  # the account delay's wait (a test may swap it to record the delays)


@dataclass(frozen=True)
class LoginResult:
    token: str
    session: Session
    user: User


def rate_limited(seconds: int, what: str = "failed logins") -> AppError:
    return AppError(
        ErrorCode.RATE_LIMITED,
        f"Too many {what}; try again in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )


@traced
async def register(
    db: AsyncSession,
    *,
    username: str,
    email: str,
    password: str,
    client_address: str | None,
    throttles: RegistrationThrottles,
) -> User:
    """Create a `user` account. Every attempt counts against the client's and the server's
    registration limits (a refused one too: probing for taken names costs the same)."""
    client_key = throttle.registration_client_key(client_address)
    locked = await throttle.seconds_locked(db, [client_key, throttle.REGISTRATION_TOTAL_KEY])
    if locked:
        raise rate_limited(locked, "registrations")
    await throttle.record_failure(db, client_key, throttles.client)
    await throttle.record_failure(db, throttle.REGISTRATION_TOTAL_KEY, throttles.total)
    await throttle.commit_now(db)  # counted even if the name is taken (409)
    return await identity_service.create_user(
        db, username=username, email=email, password=password, role=Role.USER
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
    throttles: LoginThrottles,
) -> LoginResult:
    user = await identity_service.find_by_login(db, identifier, by_email=by_email)
    client_key = throttle.client_key(client_address)
    account_key = throttle.account_key(user.id if user else None, identifier)
    here_key = throttle.account_client_key(account_key, client_address)
    locked = await throttle.seconds_locked(db, [client_key, here_key])
    if locked:
        raise rate_limited(locked)
    await _wait_if_account_is_under_attack(db, account_key, throttles)

    # Verify even when there is no user (against a dummy hash): same cost, same answer.
    password_ok = await verify_password_async(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.is_active:
        await throttle.record_failure(db, client_key, throttles.client)
        await throttle.record_failure(db, here_key, throttles.account_at_client)
        await throttle.count_failure(db, account_key, throttles.account.window)
        await throttle.commit_now(db)  # the 401 rolls the request back; the count stays
        raise AppError(AuthErrorCode.INVALID_CREDENTIALS, INVALID_LOGIN)

    await throttle.clear(db, account_key, here_key)
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_password_async(password)
    user.last_login_at = func.now()
    token, session = await sessions.create_session(
        db, user.id, session_policy, user_agent=user_agent, ip_address=client_address
    )
    await db.flush()
    await db.refresh(user)  # last_login_at as the server set it
    return LoginResult(token=token, session=session, user=user)


async def _wait_if_account_is_under_attack(
    db: AsyncSession, account_key: str, throttles: LoginThrottles
) -> None:
    """The account bucket's progressive delay: wait before checking the password."""
    failures = await throttle.failures_in_window(db, account_key, throttles.account.window)
    delay = throttles.account.delay_after(failures)
    if delay:
        await throttle.commit_now(db)  # give the connection back to the pool while waiting
        await pause(delay)


@traced
async def logout(db: AsyncSession, session_id: uuid.UUID) -> None:
    await sessions.end_session(db, session_id)


@traced
async def logout_all(db: AsyncSession, user_id: uuid.UUID) -> tuple[int, int]:
    """End every session and revoke every API key of the user: "sign me out everywhere"
    includes the scripts. Returns (sessions ended, keys revoked)."""
    ended = await sessions.end_user_sessions(db, user_id)
    revoked = await keys.revoke_all(db, user_id)
    return ended, revoked
