"""Retention: events and stored metrics older than the configured age are deleted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from studypath.config import Settings
from studypath.core.clock import utcnow
from studypath.core.db import Database
from studypath.core.periodic import PeriodicJob
from studypath.monitoring.models import Event, Metric


async def delete_old_rows(db: Database, max_age: timedelta) -> dict[str, int]:
    """Delete events and metrics recorded before now − max_age; returns counts by table."""
    cutoff = utcnow() - max_age
    async with db.engine.begin() as conn:
        events = await conn.execute(delete(Event).where(Event.recorded_at < cutoff))
        metrics = await conn.execute(delete(Metric).where(Metric.recorded_at < cutoff))
    return {"events": events.rowcount, "metrics": metrics.rowcount}


async def _run(db: Database, settings: Settings) -> str | None:
    deleted = await delete_old_rows(db, timedelta(days=settings.monitoring_retention_days))
    if not any(deleted.values()):
        return None
    return f"deleted {deleted['events']} event(s), {deleted['metrics']} metric sample(s)"


RETENTION = PeriodicJob(
    name="monitoring-retention",
    interval=lambda settings: settings.retention_interval_seconds,
    run=_run,
)
