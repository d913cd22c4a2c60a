"""Throttling with its state in PostgreSQL, so it holds across server processes.

Login counts every failed attempt in three buckets:

* **client** (`client:<address>`): a hard limit. An address that fails too often within the
  window is locked out of every account (429 with `Retry-After`); each further lockout of
  the same key lasts twice as long, up to a cap. It stops one address spraying many accounts.
* **account at a client** (`account:<who>@<address>`): a hard limit per account *and*
  address. Someone guessing one account from one address is locked out of it — but only
  from that address, so a guesser elsewhere can never lock a username for its owner.
* **account** (`account:<who>`, every address together): a progressive delay, never a
  lock. Once an account has collected `free_failures` failures in the window, every login
  attempt on it (right password or wrong) waits first: 1 s, 2 s, 4 s… up to a cap. Guessing
  one account from many addresses gets slow; its owner still gets in, a little later.

`<who>` is the account's user id when the name or e-mail belongs to a user, so a username
and its e-mail share one bucket; an identifier that matches nobody keeps a bucket of its
own (`name:<identifier>`), so unknown names are throttled the same way as known ones.

A successful login clears both account buckets: a user who mistypes a few times and then
gets it right is not punished. Registration uses the same counters (see
`auth.service.register`): each attempt counts, per address and for the whole server.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.auth.models import LoginThrottle
from studypath.core.clock import utcnow


@dataclass(frozen=True)
class ThrottlePolicy:
    """A hard limit: `max_failures` within `window` lock the key for `lockout` (doubling)."""

    max_failures: int
    window: timedelta
    lockout: timedelta
    max_lockout: timedelta


@dataclass(frozen=True)
class DelayPolicy:
    """A soft limit: after `free_failures` within `window`, each attempt waits first."""

    free_failures: int
    window: timedelta
    first_delay: timedelta
    max_delay: timedelta

    def delay_after(self, failures: int) -> float:
        """Seconds to wait given the failures so far: 0 below the limit, then doubling."""
        if failures < self.free_failures:
            return 0.0
        doublings = min(failures - self.free_failures, 30)  # 2**30 s is past any cap
        delay = self.first_delay.total_seconds() * 2**doublings
        return float(min(delay, self.max_delay.total_seconds()))


@dataclass(frozen=True)
class LoginThrottles:
    """The three login buckets' policies (see the module docstring)."""

    client: ThrottlePolicy
    account_at_client: ThrottlePolicy
    account: DelayPolicy


@dataclass(frozen=True)
class RegistrationThrottles:
    """Registration attempts: per client address and for the whole server."""

    client: ThrottlePolicy
    total: ThrottlePolicy


REGISTRATION_TOTAL_KEY = "register:all"


def registration_client_key(address: str | None) -> str:
    return f"register:client:{address or 'unknown'}"


def account_key(user_id: uuid.UUID | None, identifier: str) -> str:
    """The account bucket: the user's id if the identifier is someone's, else the name."""
    who = f"user:{user_id}" if user_id is not None else f"name:{identifier.strip().lower()}"
    return f"account:{who}"


def account_client_key(account: str, address: str | None) -> str:
    return f"{account}@{address or 'unknown'}"


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


async def failures_in_window(db: AsyncSession, key: str, window: timedelta) -> int:
    """Failures counted for `key` in its current window (0 if the window has passed)."""
    failures = await db.scalar(
        select(LoginThrottle.failures).where(
            LoginThrottle.key == key,
            LoginThrottle.window_started_at > func.now() - window,
        )
    )
    return int(failures or 0)


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


async def count_failure(db: AsyncSession, key: str, window: timedelta) -> int:
    """Count one failure for `key` (never locks); returns the count in the window."""
    failures, _lockouts = (
        await db.execute(_RECORD_FAILURE, {"key": key, "window": window.total_seconds()})
    ).one()
    return int(failures)


async def record_failure(db: AsyncSession, key: str, policy: ThrottlePolicy) -> bool:
    """Count a failure (or, for registration, an attempt) for `key`; returns True if this
    one reached the limit and locked the key. Caller commits."""
    failures = await count_failure(db, key, policy.window)
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


async def commit_now(db: AsyncSession) -> None:
    """Commit the counts written so far at once, ahead of the request's unit of work.

    The deliberate exception to "the caller owns the transaction" (docs/architecture.md):
    a refused login or registration answers 401/409/429 and the request's transaction rolls
    back, but the count of that attempt must survive it, or every guess would be forgotten.
    Called only where nothing but counts has been written in the request yet. Also used
    before the account delay's wait, to give the connection back to the pool meanwhile."""
    await db.commit()


async def clear(db: AsyncSession, *keys: str) -> None:
    await db.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))
