"""Sessions: create, resolve, refresh and end them. Only the token's SHA-256 is stored.

Other domains end sessions through this module (a password change, a deactivation),
never by touching the `sessions` table themselves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg
from sqlalchemy import ClauseElement, bindparam, delete, or_, select, update
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from studypath.auth.models import Session
from studypath.core.clock import utcnow
from studypath.core.db import log_statement
from studypath.core.security import new_token, token_hash
from studypath.identity.models import User
from studypath.identity.roles import Role
from studypath.telemetry.tracing import span_if_recording

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


@dataclass(frozen=True)
class LiveSession:
    """What a request needs to know about the session behind its token and its user."""

    session_id: uuid.UUID
    user_id: uuid.UUID
    username: str
    email: str
    role: Role
    password_change_required: bool


def _psycopg_sql(statement: ClauseElement) -> str:
    """A statement as psycopg takes it (`%(name)s` placeholders)."""
    return str(statement.compile(dialect=PGDialect_psycopg()))  # type: ignore[no-untyped-call]


# One statement, compiled once: the session row joined with its active user. Sent by psycopg
# itself (prepared after a few uses) on a pooled connection switched to autocommit: no ORM
# objects or SQLAlchemy result to build, no BEGIN/ROLLBACK around it.
_LOOKUP = (
    select(
        Session.id,
        Session.expires_at,
        Session.last_activity_at,
        User.id,
        User.username,
        User.email,
        User.role,
        User.password_change_required,
    )
    .join(User, User.id == Session.user_id)
    .where(
        Session.token_hash == bindparam("token_hash"),
        User.is_active.is_(True),
        User.deleted_at.is_(None),
    )
)
_MARK_ACTIVE = (
    update(Session)
    .where(Session.id == bindparam("session_id"), Session.last_activity_at < bindparam("before"))
    .values(last_activity_at=bindparam("now"))
)
_LOOKUP_SQL = _psycopg_sql(_LOOKUP)
_MARK_ACTIVE_SQL = _psycopg_sql(_MARK_ACTIVE)
# A pooled connection the server closed (a database restart) fails its first statement; the
# pool then replaces it, and every older one. One more try gets a fresh connection.
DEAD_CONNECTION_RETRIES = 1


async def resolve_session(
    engine: AsyncEngine, token: str, policy: SessionPolicy
) -> LiveSession | None:
    """The live session behind `token` and its active user, or None.

    Marks activity, but writes `last_activity_at` only when it is older than the policy's
    resolution: a busy client does not turn every read into a database write.
    """
    for attempt in range(DEAD_CONNECTION_RETRIES + 1):
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            raw: psycopg.AsyncConnection[Any] = (await conn.get_raw_connection()).driver_connection  # type: ignore[assignment]
            try:
                return await _resolve_on(raw, token, policy)
            except psycopg.OperationalError:
                if not raw.broken or attempt == DEAD_CONNECTION_RETRIES:
                    raise
                await conn.invalidate()  # the pool opens a new one for the next try
    raise AssertionError("unreachable")


async def _execute(
    pg: psycopg.AsyncConnection[Any], statement: str, parameters: dict[str, Any]
) -> psycopg.AsyncCursor[Any]:
    """One statement on psycopg, seen like the engine's: a SQL span while a trace is being
    recorded, and the request's SQL log line (the notebooks read both)."""
    attributes = {"db.system": "postgresql", "db.statement": statement}
    with span_if_recording(statement.split(None, 1)[0], attributes):
        log_statement(statement)
        return await pg.execute(statement, parameters, prepare=True)


async def _resolve_on(
    pg: psycopg.AsyncConnection[Any], token: str, policy: SessionPolicy
) -> LiveSession | None:
    cursor = await _execute(pg, _LOOKUP_SQL, {"token_hash": token_hash(token)})
    found = await cursor.fetchone()
    if found is None:
        return None
    session_id, expires_at, last_activity_at, user_id, username, email, role, must_change = found
    now = utcnow()
    if expires_at <= now or (
        policy.idle_timeout is not None and last_activity_at + policy.idle_timeout <= now
    ):
        return None
    if now - last_activity_at >= policy.activity_resolution:
        await _execute(
            pg,
            _MARK_ACTIVE_SQL,
            {"session_id": session_id, "before": now - policy.activity_resolution, "now": now},
        )
    return LiveSession(session_id, user_id, username, email, Role(role), must_change)


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
