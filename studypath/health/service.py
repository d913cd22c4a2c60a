"""The checks behind the health endpoints. Each returns a `Check`; none raises.

They run on the database's health connections (`Database.health_engine`), not the request
pool: a busy server answers its probes. `public_view` cuts a report down to what anonymous
callers may see; the full one (database target, pool, worker hosts and PIDs) is for admins.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy import text

from studypath.core.db import Database
from studypath.health.schemas import Check, CheckStatus
from studypath.migrations import head_revision
from studypath.tasks import workers as task_workers
from studypath.telemetry.tracing import traced

# A ping slower than this reports `degraded` (still 200): slowness alone is not a failure.
SLOW_PING_MS = 1000.0

# What anonymous callers see of each check's details; everything else is for admins.
PUBLIC_DETAILS: dict[str, frozenset[str]] = {
    "database": frozenset({"latency_ms"}),
    "schema": frozenset({"revision", "current", "expected"}),
    "worker": frozenset({"live_workers"}),
}


@traced
async def check_database(db: Database) -> Check:
    try:
        latency_ms = await db.ping()
    except TimeoutError:
        return Check(
            status="unhealthy",
            message=f"database did not answer within {db.connect_timeout:g} s",
            details={"target": db.description},
        )
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return Check(
            status="unhealthy",
            message=f"database unreachable: {reason[0] if reason else type(exc).__name__}",
            details={"target": db.description},
        )
    slow = latency_ms > SLOW_PING_MS
    return Check(
        status="degraded" if slow else "healthy",
        message=f"database slow ({latency_ms:.0f} ms)" if slow else "database reachable",
        details={
            "latency_ms": round(latency_ms, 2),
            "pool": db.pool_status(),
            "target": db.description,
        },
    )


@traced
async def check_schema(db: Database) -> Check:
    """The database is migrated to the revision this code expects."""
    try:
        async with db.health_engine.connect() as conn:
            current = (
                await conn.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one_or_none()
    except Exception as exc:
        return Check(status="unhealthy", message=f"cannot read schema revision: {exc}")
    head = head_revision()
    if current != head:
        return Check(
            status="unhealthy",
            message=f"schema at {current or 'nothing'}, code expects {head}",
            details={"current": current, "expected": head},
        )
    return Check(status="healthy", message="schema up to date", details={"revision": current})


@traced
async def check_workers(db: Database, *, heartbeat_seconds: float) -> Check:
    """Workers are optional for serving the API: none alive is `degraded`, not `unhealthy`."""
    try:
        async with db.health_sessionmaker() as session:
            workers = await task_workers.live_workers(
                session, stale_after=timedelta(seconds=heartbeat_seconds * 3)
            )
    except Exception as exc:
        return Check(status="unhealthy", message=f"cannot read workers: {exc}")
    if not workers:
        return Check(
            status="degraded",
            message="no live worker: tasks will wait in the queue",
            details={"live_workers": 0, "workers": []},
        )
    return Check(
        status="healthy",
        message=f"{len(workers)} live worker(s)",
        details={"live_workers": len(workers), "workers": workers},
    )


# How old a cached database check may be before a probe starts a fresh one behind it, and
# before a probe no longer trusts it and waits for a fresh one (see `CachedDatabaseCheck`).
REFRESH_AFTER_SECONDS = 1.0
MAX_STALE_SECONDS = 5.0


class CachedDatabaseCheck:
    """The database check, answered from memory: a load balancer polling `/health/ready`
    many times a second costs the database nothing.

    A check younger than `refresh_after` seconds is answered as is; an older one is answered
    too, while a fresh check runs in the background; one older than `max_stale` (nobody
    asked for a while) is not trusted: the caller waits for a fresh check. So an outage shows
    as 503 at most `refresh_after` seconds plus one check's time after it began, for a probe
    that polls, and at once for one that polls rarely.

    And at once after a request failed to reach the database: the 503 it answered marks the
    database suspect (`Database.mark_suspect`), and a check that began before that moment is
    not trusted either — the first failed request makes the system not ready, so a load
    balancer stops sending traffic without waiting for the cache to age."""

    def __init__(
        self,
        db: Database,
        *,
        refresh_after: float = REFRESH_AFTER_SECONDS,
        max_stale: float = MAX_STALE_SECONDS,
    ) -> None:
        self.db = db
        self.refresh_after = refresh_after
        self.max_stale = max_stale
        self.check: Check | None = None
        self.checked_at = 0.0  # when the cached check began
        self._refreshing: asyncio.Task[Check] | None = None
        self._public: tuple[Check, Check] | None = None  # (a check, its public view)

    def trusted(self) -> bool:
        """The cached check may be answered: there is one, it is not too old, and no request
        failed to reach the database since it began."""
        age = time.monotonic() - self.checked_at
        return (
            self.check is not None
            and age <= self.max_stale
            and self.db.suspected_at < self.checked_at
        )

    async def get(self) -> Check:
        if not self.trusted() or self.check is None:
            return await self._refresh()
        age = time.monotonic() - self.checked_at
        if age > self.refresh_after and (self._refreshing is None or self._refreshing.done()):
            self._refreshing = asyncio.ensure_future(self._refresh())
        return self.check

    async def get_public(self) -> Check:
        """`get()` as anonymous callers may see it (`public_check`): made once per check,
        not once per probe."""
        check = await self.get()
        if self._public is None or self._public[0] is not check:
            self._public = (check, public_check("database", check))
        return self._public[1]

    async def _refresh(self) -> Check:
        began = time.monotonic()
        check = await check_database(self.db)
        if began >= self.checked_at:  # a check that began earlier does not replace a newer one
            self.check, self.checked_at = check, began
        return check


def overall(checks: dict[str, Check]) -> CheckStatus:
    statuses = {check.status for check in checks.values()}
    if "unhealthy" in statuses:
        return "unhealthy"
    if "degraded" in statuses:
        return "degraded"
    return "healthy"


def public_check(name: str, check: Check) -> Check:
    """The check as anonymous callers see it: no database target or pool, no worker hosts
    or PIDs, and a failure's message without the error text (which may name a host)."""
    allowed = PUBLIC_DETAILS.get(name, frozenset())
    details = {key: value for key, value in check.details.items() if key in allowed}
    message = check.message
    if check.status == "unhealthy":
        message = f"{name} check failed (details: GET /api/v1/admin/health, admins only)"
    return Check(status=check.status, message=message, details=details)


def public_checks(checks: dict[str, Check]) -> dict[str, Check]:
    return {name: public_check(name, check) for name, check in checks.items()}
