"""Sessions: create, resolve, refresh and end them. Only the token's SHA-256 is stored.

Other domains end sessions through this module (a password change, a deactivation),
never by touching the `sessions` table themselves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.auth.models import Session
from studypath.core.clock import utcnow
from studypath.core.security import new_token, token_hash
from studypath.users.models import User

REFRESH_COOLDOWN = timedelta(minutes=5)


@dataclass(frozen=True)
class SessionPolicy:
    lifetime: timedelta
    idle_timeout: timedelta | None  # None: no idle timeout
    activity_resolution: timedelta  # write last_activity_at at most this often


async def create_session(
    db: AsyncSession,
    user_id: uuid.UUID,
    policy: SessionPolicy,
    *,
    user_agent: str | None = None,
    ip_address: str | None = None,
) -> tuple[str, Session]:
    """Start a session; returns the plaintext token (shown once) and the stored row."""
    token = new_token()
    now = utcnow()
    row = Session(
        user_id=user_id,
        token_hash=token_hash(token),
        expires_at=now + policy.lifetime,
        last_activity_at=now,
        user_agent=user_agent[:512] if user_agent else None,
        ip_address=ip_address,
    )
    db.add(row)
    await db.flush()
    return token, row


def _is_live(row: Session, policy: SessionPolicy, now: datetime) -> bool:
    if row.expires_at <= now:
        return False
    return policy.idle_timeout is None or row.last_activity_at + policy.idle_timeout > now


async def resolve_session(
    db: AsyncSession, token: str, policy: SessionPolicy
) -> tuple[Session, User] | None:
    """The live session behind `token` and its active user, or None.

    Marks activity, but writes `last_activity_at` only when it is older than the policy's
    resolution: a busy client does not turn every read into a database write.
    """
    found = (
        await db.execute(
            select(Session, User)
            .join(User, User.id == Session.user_id)
            .where(Session.token_hash == token_hash(token))
        )
    ).one_or_none()
    if found is None:
        return None
    row, user = found
    now = utcnow()
    if not _is_live(row, policy, now) or not user.is_active or user.deleted_at is not None:
        return None
    if now - row.last_activity_at >= policy.activity_resolution:
        await db.execute(
            update(Session)
            .where(
                Session.id == row.id,
                Session.last_activity_at < now - policy.activity_resolution,
            )
            .values(last_activity_at=now)
        )
        await db.commit()
    return row, user


async def refresh_session(
    db: AsyncSession, session_id: uuid.UUID, policy: SessionPolicy
) -> Session:
    """Extend a session to a full lifetime from now. Raises `RefreshTooSoon`.

    As in the guide's system, a session that was never refreshed may refresh at once (even
    right after login); after that, refreshes are at least `REFRESH_COOLDOWN` apart.
    """
    row = await db.get(Session, session_id, with_for_update=True)
    if row is None:
        raise LookupError("session ended")
    now = utcnow()
    last = row.refreshed_at
    if last is not None and now - last < REFRESH_COOLDOWN:
        raise RefreshTooSoon(last + REFRESH_COOLDOWN - now)
    row.expires_at = now + policy.lifetime
    row.refreshed_at = now
    row.last_activity_at = now
    await db.flush()
    return row


class RefreshTooSoon(Exception):
    def __init__(self, wait: timedelta) -> None:
        super().__init__(f"refresh again in {int(wait.total_seconds()) + 1} s")
        self.wait = wait


async def end_session(db: AsyncSession, session_id: uuid.UUID) -> None:
    await db.execute(delete(Session).where(Session.id == session_id))


async def end_user_sessions(
    db: AsyncSession, user_id: uuid.UUID, *, keep: uuid.UUID | None = None
) -> int:
    """End every session of a user (but `keep`); returns how many ended. Caller commits."""
    stmt = delete(Session).where(Session.user_id == user_id)
    if keep is not None:
        stmt = stmt.where(Session.id != keep)
    result = await db.execute(stmt.returning(Session.id))
    return len(result.all())


async def purge_expired(db: AsyncSession, policy: SessionPolicy) -> int:
    """Delete sessions past their expiry or idle timeout; returns how many."""
    now = utcnow()
    condition = Session.expires_at <= now
    if policy.idle_timeout is not None:
        condition = or_(condition, Session.last_activity_at <= now - policy.idle_timeout)
    result = await db.execute(delete(Session).where(condition).returning(Session.id))
    return len(result.all())


async def count_sessions(db: AsyncSession, user_id: uuid.UUID) -> int:
    return int(
        await db.scalar(select(func.count()).select_from(Session).where(Session.user_id == user_id))
        or 0
    )
