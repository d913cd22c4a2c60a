"""Login throttling with its state in PostgreSQL, so it holds across server processes.

Every failed login counts against two keys: the account name that was tried and the client
address. A key that reaches its limit within the window is locked; each further lockout
of the same key lasts twice as long (up to a cap). A successful login clears the account
key, so a user who mistypes a few times and then gets it right is not punished.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.auth.models import LoginThrottle
from studypath.core.clock import utcnow


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int
    window: timedelta
    lockout: timedelta
    max_lockout: timedelta


def account_key(identifier: str) -> str:
    return f"account:{identifier.strip().lower()}"


def client_key(address: str | None) -> str:
    return f"client:{address or 'unknown'}"


async def seconds_locked(db: AsyncSession, keys: list[str]) -> int:
    """How long the longest lock among `keys` still holds (0: not locked)."""
    until = await db.scalar(
        select(func.max(LoginThrottle.locked_until)).where(
            LoginThrottle.key.in_(keys), LoginThrottle.locked_until > func.now()
        )
    )
    if until is None:
        return 0
    return max(1, math.ceil((until - utcnow()).total_seconds()))


# One statement per failure: count it (restarting the window if it expired) and, when the
# limit is reached, lock the key and reset the count. Concurrent failures from other
# processes serialize on the row, so none is lost.
_RECORD_FAILURE = text(
    """
    INSERT INTO login_throttle AS t (key, failures, window_started_at)
    VALUES (:key, 1, now())
    ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN t.window_started_at < now() - make_interval(secs => :window)
                        THEN 1 ELSE t.failures + 1 END,
        window_started_at = CASE WHEN t.window_started_at < now() - make_interval(secs => :window)
                                 THEN now() ELSE t.window_started_at END,
        updated_at = now()
    RETURNING failures, lockouts
    """
)
_LOCK = text(
    """
    UPDATE login_throttle
    SET locked_until = now() + make_interval(secs => least(:base * power(2, lockouts), :cap)),
        lockouts = lockouts + 1,
        failures = 0,
        window_started_at = now(),
        updated_at = now()
    WHERE key = :key
    """
)


async def record_failure(db: AsyncSession, key: str, policy: ThrottlePolicy) -> bool:
    """Count a failed login for `key`; returns True if this failure locked it. Caller commits."""
    failures, _lockouts = (
        await db.execute(_RECORD_FAILURE, {"key": key, "window": policy.window.total_seconds()})
    ).one()
    if failures < policy.max_failures:
        return False
    await db.execute(
        _LOCK,
        {
            "key": key,
            "base": policy.lockout.total_seconds(),
            "cap": policy.max_lockout.total_seconds(),
        },
    )
    return True


async def clear(db: AsyncSession, key: str) -> None:
    await db.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
