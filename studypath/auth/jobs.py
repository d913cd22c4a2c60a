"""The auth domain's periodic job: delete sessions past their expiry or idle timeout."""

from __future__ import annotations

from studypath.auth import sessions
from studypath.auth.policies import session_policy
from studypath.config import Settings
from studypath.core.db import Database
from studypath.core.periodic import PeriodicJob


async def purge_sessions(db: Database, settings: Settings) -> str | None:
    async with db.sessionmaker.begin() as session:  # the job's own transaction
        purged = await sessions.purge_expired(session, session_policy(settings))
    return f"purged {purged} expired session(s)" if purged else None


PURGE_SESSIONS = PeriodicJob(
    name="purge-expired-sessions",
    interval=lambda settings: settings.session_purge_interval_seconds,
    run=purge_sessions,
)
