"""Alert evaluation: a rule over stored metrics, checked periodically inside the server.

    value = <aggregation>(metric samples matching the labels, within the window)
    condition = value <comparator> threshold

    ok / resolved ──condition──▶ pending ──held for `for_seconds`──▶ firing
         ▲                          │ (or straight to firing when for_seconds = 0)
         └──────── no condition ────┘            firing ──no condition──▶ resolved

Every state change records an event (source `alerts`); a firing alert with
`opens_incident` opens an incident unless one from it is still open. With several server
processes, an advisory lock lets one of them evaluate each round.

Each alert is evaluated in a savepoint of its own: one that fails (its query overflows, its
data is odd) is rolled back alone and records an `error` event — once, not every round —
while the others are evaluated as usual.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.config import Settings
from studypath.core.clock import utcnow
from studypath.core.db import Database
from studypath.core.periodic import PeriodicJob
from studypath.monitoring import service
from studypath.monitoring.models import (
    Alert,
    AlertStatus,
    Event,
    EventLevel,
    EventType,
)

EVALUATION_LOCK = 7_420_003
COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}

WINDOW_STATS = text(
    """
    SELECT count(*) AS count, avg(value) AS avg, min(value) AS min, max(value) AS max,
           sum(value) AS sum,
           (array_agg(value ORDER BY recorded_at))[1] AS first_value,
           (array_agg(value ORDER BY recorded_at DESC))[1] AS last_value,
           extract(epoch FROM max(recorded_at) - min(recorded_at)) AS span_seconds
    FROM metrics
    WHERE name = :name AND labels @> :labels
      AND recorded_at > now() - make_interval(secs => :window)
    """
).bindparams(bindparam("labels", type_=JSONB))


def aggregate(stats: Any, aggregation: str) -> float | None:
    """The rule's value from one window's statistics; None when there is no data."""
    if not stats.count:
        return None if aggregation != "count" else 0.0
    if aggregation == "rate":  # per second, for counters: (last - first) / elapsed
        if not stats.span_seconds:
            return None
        return float(stats.last_value - stats.first_value) / float(stats.span_seconds)
    return float(getattr(stats, aggregation))


@dataclass(frozen=True)
class Evaluation:
    alert_id: Any
    name: str
    value: float | None
    before: AlertStatus
    after: AlertStatus
    error: str | None = None


def next_status(alert: Alert, condition: bool, now: datetime) -> AlertStatus:
    """The state machine in the module docstring, as one function."""
    if condition:
        if alert.status is AlertStatus.FIRING:
            return AlertStatus.FIRING
        if alert.for_seconds == 0:
            return AlertStatus.FIRING
        if alert.status is AlertStatus.PENDING and alert.pending_since is not None:
            held = (now - alert.pending_since).total_seconds()
            return AlertStatus.FIRING if held >= alert.for_seconds else AlertStatus.PENDING
        return AlertStatus.PENDING
    if alert.status is AlertStatus.FIRING:
        return AlertStatus.RESOLVED
    if alert.status is AlertStatus.PENDING:
        return AlertStatus.OK
    return alert.status


async def evaluate_alert(session: AsyncSession, alert: Alert, now: datetime) -> Evaluation:
    stats = (
        await session.execute(
            WINDOW_STATS,
            {
                "name": alert.metric_name,
                "labels": alert.label_match,
                "window": alert.window_seconds,
            },
        )
    ).one()
    value = aggregate(stats, alert.aggregation)
    condition = value is not None and COMPARATORS[alert.comparator](value, alert.threshold)
    before = alert.status
    after = next_status(alert, condition, now)
    alert.last_value, alert.last_evaluated_at = value, now
    if after is not before:
        await _transition(session, alert, before, after, value, now)
    return Evaluation(alert.id, alert.name, value, before, after)


async def _transition(
    session: AsyncSession,
    alert: Alert,
    before: AlertStatus,
    after: AlertStatus,
    value: float | None,
    now: datetime,
) -> None:
    alert.status = after
    if after is AlertStatus.PENDING:
        alert.pending_since = now
    elif after is AlertStatus.FIRING:
        alert.triggered_at, alert.pending_since, alert.resolved_at = now, None, None
    elif after is AlertStatus.RESOLVED:
        alert.resolved_at = now
    else:
        alert.pending_since = None
    level = {AlertStatus.FIRING: EventLevel.ERROR, AlertStatus.PENDING: EventLevel.WARN}.get(
        after, EventLevel.INFO
    )
    await service.record_event(
        session,
        event_type=EventType.ALERT,
        source="alerts",
        level=level,
        message=f"alert {alert.name!r}: {before.value} → {after.value} ({_reading(alert, value)})",
        tags={"alert_id": str(alert.id), "alert_name": alert.name, "status": after.value},
        payload={"value": value, "threshold": alert.threshold, "before": before.value},
    )
    if after is AlertStatus.FIRING and alert.opens_incident:
        await service.open_incident_for(session, alert)


def _reading(alert: Alert, value: float | None) -> str:
    """What the evaluator saw, said plainly: `avg(x) = 0.03, rule > 0.0385 not met`."""
    measured = f"{alert.aggregation}({alert.metric_name})"
    rule = f"rule {alert.comparator} {alert.threshold:g}"
    if value is None:
        return f"{measured}: no data, {rule}"
    met = COMPARATORS[alert.comparator](value, alert.threshold)
    return f"{measured} = {value:g}, {rule} {'met' if met else 'not met'}"


async def evaluate_all(db: Database) -> list[Evaluation]:
    """One round over every active alert, by one process at a time; each alert in its own
    savepoint, so one that cannot be evaluated does not stop the others."""
    async with db.sessionmaker.begin() as session:  # the round's own transaction
        locked = await session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": EVALUATION_LOCK}
        )
        if not locked:
            return []  # another server process is evaluating this round
        now = utcnow()
        alerts = list(
            await session.scalars(select(Alert).where(Alert.is_active.is_(True)).with_for_update())
        )
        results = [await evaluate_isolated(session, alert, now) for alert in alerts]
    return results


async def evaluate_isolated(session: AsyncSession, alert: Alert, now: datetime) -> Evaluation:
    """Evaluate one alert inside a savepoint; on a database error, roll back just that and
    record the error as the alert's event."""
    alert_id, name, before = alert.id, alert.name, alert.status
    try:
        async with session.begin_nested():
            return await evaluate_alert(session, alert, now)
    except (DBAPIError, ArithmeticError) as exc:
        original = exc.orig if isinstance(exc, DBAPIError) else exc
        reason = (str(original).strip().splitlines() or [type(original).__name__])[0][:500]
    await session.refresh(alert)
    await _record_error(session, alert, reason)
    return Evaluation(alert_id, name, None, before, before, error=reason)


async def _record_error(session: AsyncSession, alert: Alert, reason: str) -> None:
    """An `error` event for the alert, unless its latest event already says the same."""
    latest = await session.scalar(
        select(Event.message)
        .where(Event.source == "alerts", Event.tags["alert_id"].astext == str(alert.id))
        .order_by(Event.recorded_at.desc(), Event.created_at.desc())
        .limit(1)
    )
    message = f"alert {alert.name!r} could not be evaluated: {reason}"
    if latest == message:
        return
    await service.record_event(
        session,
        event_type=EventType.ALERT,
        source="alerts",
        level=EventLevel.ERROR,
        message=message,
        tags={"alert_id": str(alert.id), "alert_name": alert.name, "status": "error"},
        payload={"error": reason},
    )


async def _run(db: Database, settings: Settings) -> str | None:
    results = await evaluate_all(db)
    changed = [
        f"{r.name}: {r.before.value}→{r.after.value}" for r in results if r.before is not r.after
    ]
    failed = [f"{r.name}: error ({r.error})" for r in results if r.error is not None]
    return ", ".join(changed + failed) or None


EVALUATE_ALERTS = PeriodicJob(
    name="evaluate-alerts",
    interval=lambda settings: settings.alert_evaluation_seconds,
    run=_run,
)


__all__ = [
    "COMPARATORS",
    "EVALUATE_ALERTS",
    "EVALUATION_LOCK",
    "WINDOW_STATS",
    "Evaluation",
    "aggregate",
    "evaluate_alert",
    "evaluate_all",
    "evaluate_isolated",
    "next_status",
]
