"""API keys: long-lived credentials (`sk_…`) for scripts. Shown once, stored as SHA-256.

A key acts with its owner's current role, so demoting a user demotes their keys too.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.auth.models import ApiKey
from studypath.core.clock import utcnow
from studypath.core.errors import AppError, ErrorCode
from studypath.core.security import token_hash
from studypath.identity.models import User
from studypath.telemetry.tracing import traced

KEY_PREFIX = "sk_"
SHOWN_PREFIX_LENGTH = 10  # "sk_" + 7 characters: enough to tell keys apart in a list
MAX_ACTIVE_KEYS = 25
LAST_USED_RESOLUTION = timedelta(minutes=1)


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def looks_like_key(candidate: str) -> bool:
    return candidate.startswith(KEY_PREFIX) and 20 <= len(candidate) <= 200


def _active(now: datetime) -> list[object]:
    return [ApiKey.revoked_at.is_(None), (ApiKey.expires_at.is_(None)) | (ApiKey.expires_at > now)]


@traced
async def create_key(
    db: AsyncSession, user_id: uuid.UUID, name: str, expires_at: datetime | None
) -> tuple[str, ApiKey]:
    """Returns the plaintext key (the only time anyone sees it) and the stored row."""
    now = utcnow()
    active = await db.scalar(
        select(func.count()).select_from(ApiKey).where(ApiKey.user_id == user_id, *_active(now))  # type: ignore[arg-type]
    )
    if (active or 0) >= MAX_ACTIVE_KEYS:
        raise AppError(ErrorCode.CONFLICT, f"At most {MAX_ACTIVE_KEYS} active API keys per user")
    key = new_key()
    row = ApiKey(
        user_id=user_id,
        name=name,
        key_prefix=key[:SHOWN_PREFIX_LENGTH],
        key_hash=token_hash(key),
        expires_at=expires_at,
    )
    db.add(row)
    await db.flush()
    await db.refresh(row)  # the server's id and created_at
    return key, row


@traced
async def list_keys(db: AsyncSession, user_id: uuid.UUID) -> list[ApiKey]:
    """The user's keys that still work (revoked and expired ones are not listed)."""
    rows = await db.scalars(
        select(ApiKey)
        .where(ApiKey.user_id == user_id, *_active(utcnow()))  # type: ignore[arg-type]
        .order_by(ApiKey.created_at)
    )
    return list(rows)


@traced
async def revoke_key(db: AsyncSession, user_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    """Revoke one of the user's own keys; False if there is no such live key."""
    result = await db.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(ApiKey.id)
    )
    return result.first() is not None


async def revoke_all(db: AsyncSession, user_id: uuid.UUID) -> int:
    """Revoke every key of a user (account deleted, password changed or reset, logout
    everywhere); returns how many were live. Caller commits."""
    result = await db.execute(
        update(ApiKey)
        .where(ApiKey.user_id == user_id, *_active(utcnow()))  # type: ignore[arg-type]
        .values(revoked_at=func.now())
        .returning(ApiKey.id)
    )
    return len(result.all())


async def resolve_key(db: AsyncSession, key: str) -> tuple[ApiKey, User] | None:
    """The live key and its active owner, or None. Records use (at most once a minute).

    Like a session's activity mark (`sessions.resolve_session`), the use is committed at
    once, before the handler runs: it must neither hold the key's row lock for the whole
    request nor vanish when the request fails."""
    now = utcnow()
    found = (
        await db.execute(
            select(ApiKey, User)
            .join(User, User.id == ApiKey.user_id)
            .where(ApiKey.key_hash == token_hash(key), *_active(now))  # type: ignore[arg-type]
        )
    ).one_or_none()
    if found is None:
        return None
    row, user = found
    if not user.is_active or user.deleted_at is not None:
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        await db.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
        await db.commit()
    return row, user
