"""Monitoring: events, stored metrics, alert rules, incidents — and who may write what.

Writers' rules — the guide's, plus studypath's own forms:

- events, a user's own sources: `<username>-…`, `user-<user id>-…`, `user:<username>` and
  `user:<username>/…`; generic sources: any without a `-` (`client`, `payments`, except
  another user's `user:<name>`) and those starting `app-`, `web-`, `api-`, `test-`, `db-`;
- metrics, a user's own names: `<username>_…`, `user_<username>_…`, `user_<user id>_…`;
  generic names: the guide's list (`http_requests…`, `cpu_usage…`, …) and `client_…`;
- for moderators and admins only: sources starting `system-`, `health-`, `monitoring-` and
  metric names starting `system_`, `health_`, `monitoring_` — and anything else not reserved;
- reserved for the system itself, for everyone: event sources `alerts`, `incidents` and
  `system` (alone or followed by `/`, `:` or `.`) and metric names starting `studypath_`,
  `process_` or `python_` (the process's own metrics on the Prometheus page).

Writes flush and leave the commit to the caller (the request's unit of work commits once
the response is serialized, so a row it could not return is never stored).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.core.clock import utcnow
from studypath.core.errors import AppError, ErrorCode, not_found
from studypath.core.pagination import PageParams, one_page
from studypath.identity.models import User
from studypath.identity.roles import Role
from studypath.monitoring.filters import (
    EventFilter,
    MetricFilter,
    RecordedFilter,
    parse_tag_filter,
)
from studypath.monitoring.models import (
    Alert,
    AlertStatus,
    Event,
    EventLevel,
    EventType,
    Incident,
    IncidentStatus,
    Metric,
    MetricType,
    Recorded,
)
from studypath.rbac.policy import Actor, can_access_owned
from studypath.telemetry.tracing import traced

RESERVED_SOURCES = frozenset({"alerts", "incidents", "system"})
STAFF_SOURCE_PREFIXES = ("system-", "health-", "monitoring-")
GENERIC_SOURCE_PREFIXES = ("app-", "web-", "api-", "test-", "db-")
# The process's own families (studypath_*, and prometheus_client's process_* and python_*):
# a stored metric of the same name would make the Prometheus page invalid.
RESERVED_METRIC_PREFIXES = ("studypath_", "process_", "python_")
STAFF_METRIC_PREFIXES = ("system_", "health_", "monitoring_")
# The guide's generic metric names (any name starting with one of them), plus studypath's.
GENERIC_METRIC_PREFIXES = (
    "http_requests",
    "http_requests_total",
    "response_time",
    "response_time_seconds",
    "cpu_usage",
    "memory_usage",
    "disk_usage",
    "network_bytes",
    "error_rate",
    "latency",
    "throughput",
    "requests_per_second",
    "active_connections",
    "queue_size",
    "client_",
)


# --- the tag filter `k:v,k2:v2` (its grammar: `filters.py`) -------------------------------
def _tags_match(column: Any, tags: dict[str, str]) -> Any:
    """Tag values are compared as text, so `count:3` matches 3 and "3"."""
    return [column[key].astext == value for key, value in tags.items()]


def _is_staff(actor: Actor) -> bool:
    return actor.role.at_least(Role.MODERATOR)


def _forbidden(message: str) -> AppError:
    return AppError(ErrorCode.FORBIDDEN, message)


RowT = TypeVar("RowT", Event, Metric, Alert, Incident)


async def _insert(session: AsyncSession, row: RowT) -> RowT:
    """Store a new row in the caller's transaction; it comes back as stored (its id, status
    and times set by the database)."""
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


# --- events -----------------------------------------------------------------------------------
LEADING_WORD = re.compile(r"^([A-Za-z0-9_]+)(?:$|[/:.])")


def _is_reserved_source(source: str) -> bool:
    """`alerts`, `incidents`, `system` — alone or as the first part of a path (`system/db`)."""
    match = LEADING_WORD.match(source)
    return match is not None and match[1] in RESERVED_SOURCES


def is_own_source(actor: Actor, username: str, source: str) -> bool:
    own = f"user:{username}"
    return source == own or source.startswith((own + "/", f"{username}-", f"user-{actor.user_id}-"))


def is_generic_source(source: str) -> bool:
    """No owner in it: no `-` (and not someone's `user:<name>`), or a generic prefix."""
    if source.startswith("user:"):
        return False
    return "-" not in source or source.startswith(GENERIC_SOURCE_PREFIXES)


def check_event_source(actor: Actor, username: str, source: str) -> None:
    if _is_reserved_source(source):
        raise _forbidden(f"source {source!r} is reserved for the system itself")
    if _is_staff(actor):
        return
    if source.startswith(STAFF_SOURCE_PREFIXES):
        raise _forbidden(
            f"sources starting with {', '.join(STAFF_SOURCE_PREFIXES)} are for moderators "
            "and admins"
        )
    if is_own_source(actor, username, source) or is_generic_source(source):
        return
    raise _forbidden(
        f"users may write events only under their own source ({username}-…, "
        f"user-{actor.user_id}-…, user:{username}) or a generic one (without '-', or "
        f"starting with {', '.join(GENERIC_SOURCE_PREFIXES)})"
    )


def _check_time(recorded_at: datetime | None) -> datetime | None:
    if recorded_at is None:
        return None
    now = utcnow()
    if recorded_at.tzinfo is None:
        raise AppError(ErrorCode.VALIDATION_FAILED, "recorded_at needs a time zone (e.g. Z)")
    if not now - timedelta(days=30) <= recorded_at <= now + timedelta(minutes=5):
        raise AppError(
            ErrorCode.VALIDATION_FAILED, "recorded_at must be within the last 30 days (not ahead)"
        )
    return recorded_at


async def record_event(
    session: AsyncSession,
    *,
    event_type: EventType,
    source: str,
    message: str | None = None,
    level: EventLevel | None = None,
    tags: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
    recorded_at: datetime | None = None,
    created_by: uuid.UUID | None = None,
) -> Event:
    """Add an event to the session's transaction (the system's own callers skip the
    ownership check); the caller commits."""
    event = Event(
        event_type=event_type,
        source=source,
        message=message,
        level=level,
        tags=tags or {},
        payload=payload or {},
        created_by=created_by,
    )
    if recorded_at is not None:
        event.recorded_at = recorded_at
    return await _insert(session, event)


@traced
async def create_event(session: AsyncSession, actor: Actor, username: str, **fields: Any) -> Event:
    check_event_source(actor, username, fields["source"])
    fields["recorded_at"] = _check_time(fields.get("recorded_at"))
    return await record_event(session, created_by=actor.user_id, **fields)


RecordedT = TypeVar("RecordedT", bound=Recorded)


async def _list_recorded(
    session: AsyncSession,
    actor: Actor,
    page: PageParams,
    model: type[RecordedT],
    wanted: RecordedFilter,
    *,
    equal: Sequence[tuple[Any, object]],
    tags: tuple[Any, str | None],
) -> tuple[list[RecordedT], int]:
    """Events and stored metrics are listed alike: the writer's own rows (staff: all), each
    `(column, value)` in `equal` whose value was given, every `key:value` of the tag filter
    `(column, text)` on that column, `wanted`'s time window on `recorded_at`; newest first,
    one page and the total."""
    query = select(model)
    if not _is_staff(actor):
        query = query.where(model.created_by == actor.user_id)
    query = query.where(*(column == value for column, value in equal if value is not None))
    tags_column, tag_filter = tags
    if tag_filter:
        query = query.where(*_tags_match(tags_column, parse_tag_filter(tag_filter)))
    if wanted.start_time is not None:
        query = query.where(model.recorded_at >= wanted.start_time)
    if wanted.end_time is not None:
        query = query.where(model.recorded_at <= wanted.end_time)
    return await one_page(session, query, page, model.recorded_at.desc())


@traced
async def list_events(
    session: AsyncSession, actor: Actor, page: PageParams, wanted: EventFilter
) -> tuple[list[Event], int]:
    """Newest first. Users see the events they wrote; moderators and admins see all."""
    equal = [
        (Event.event_type, wanted.event_type),
        (Event.source, wanted.source),
        (Event.level, wanted.level),
    ]
    return await _list_recorded(
        session, actor, page, Event, wanted, equal=equal, tags=(Event.tags, wanted.tags)
    )


@traced
async def get_event(session: AsyncSession, actor: Actor, event_id: uuid.UUID) -> Event:
    event = await session.get(Event, event_id)
    if event is None or not can_access_owned(actor, event.created_by):
        raise not_found("Event")
    return event


# --- stored metrics ---------------------------------------------------------------------------
def own_metric_prefixes(actor: Actor, username: str) -> tuple[str, ...]:
    """`<username>_`, `user_<username>_`, `user_<id>_` (a name holds no `-`: it becomes `_`)."""
    name = username.replace("-", "_")
    user_id = str(actor.user_id)
    return (
        f"{name}_",
        f"user_{name}_",
        f"user_{user_id.replace('-', '_')}_",
        f"user_{user_id.replace('-', '')}_",
    )


def check_metric_name(actor: Actor, username: str, name: str) -> None:
    if name.startswith(RESERVED_METRIC_PREFIXES):
        raise _forbidden(
            f"metric names starting with {', '.join(RESERVED_METRIC_PREFIXES)} are the system's"
        )
    if _is_staff(actor):
        return
    if name.startswith(STAFF_METRIC_PREFIXES):
        raise _forbidden(
            f"metric names starting with {', '.join(STAFF_METRIC_PREFIXES)} are for "
            "moderators and admins"
        )
    own = own_metric_prefixes(actor, username)
    if not name.startswith((*own, *GENERIC_METRIC_PREFIXES)):
        raise _forbidden(
            f"users may write metrics named {own[0]}… or {own[1]}…, or a generic name "
            f"({', '.join(GENERIC_METRIC_PREFIXES)}…)"
        )


@traced
async def create_metric(
    session: AsyncSession,
    actor: Actor,
    username: str,
    *,
    name: str,
    metric_type: MetricType,
    value: float,
    labels: dict[str, str],
    recorded_at: datetime | None = None,
) -> Metric:
    check_metric_name(actor, username, name)
    metric = Metric(
        name=name, metric_type=metric_type, value=value, labels=labels, created_by=actor.user_id
    )
    checked = _check_time(recorded_at)
    if checked is not None:
        metric.recorded_at = checked
    return await _insert(session, metric)


@traced
async def list_metrics(
    session: AsyncSession, actor: Actor, page: PageParams, wanted: MetricFilter
) -> tuple[list[Metric], int]:
    """Newest first. Users see the samples they stored; moderators and admins see all."""
    equal = [(Metric.name, wanted.name), (Metric.metric_type, wanted.metric_type)]
    return await _list_recorded(
        session, actor, page, Metric, wanted, equal=equal, tags=(Metric.labels, wanted.labels)
    )


# --- alerts and incidents: every signed-in user reads them all ------------------------------
SharedT = TypeVar("SharedT", Alert, Incident)


async def _shared_row(session: AsyncSession, model: type[SharedT], row_id: uuid.UUID) -> SharedT:
    """The alert or incident with this id, as stored now; 404 naming the kind otherwise."""
    row = await session.get(model, row_id, populate_existing=True)
    if row is None:
        raise not_found(model.__name__)
    return row


async def _list_shared(
    session: AsyncSession, page: PageParams, model: type[SharedT], status: Any, order: Any
) -> tuple[list[SharedT], int]:
    """One page of alerts or incidents, those in `status` only when it is given."""
    query = select(model)
    if status is not None:
        query = query.where(model.status == status)
    return await one_page(session, query, page, order)


# --- alerts -----------------------------------------------------------------------------------
@traced
async def create_alert(session: AsyncSession, actor: Actor, **rule: Any) -> Alert:
    alert = Alert(**rule, created_by=actor.user_id)
    return await _insert(session, alert)


@traced
async def get_alert(session: AsyncSession, alert_id: uuid.UUID) -> Alert:
    return await _shared_row(session, Alert, alert_id)


@traced
async def list_alerts(
    session: AsyncSession, page: PageParams, *, status: AlertStatus | None = None
) -> tuple[list[Alert], int]:
    """Oldest first."""
    return await _list_shared(session, page, Alert, status, Alert.created_at)


@traced
async def update_alert(
    session: AsyncSession, alert_id: uuid.UUID, changes: dict[str, Any]
) -> Alert:
    alert = await get_alert(session, alert_id)
    rule_changed = any(key not in {"name", "description", "severity"} for key in changes)
    for key, value in changes.items():
        setattr(alert, key, value)
    if rule_changed:  # a new rule starts from a clean slate
        alert.status, alert.pending_since = AlertStatus.OK, None
    await session.flush()
    await session.refresh(alert)
    return alert


@traced
async def delete_alert(session: AsyncSession, alert_id: uuid.UUID) -> None:
    await session.delete(await get_alert(session, alert_id))
    await session.flush()


# --- incidents --------------------------------------------------------------------------------
async def incident_event(
    session: AsyncSession, incident: Incident, message: str, actor_id: uuid.UUID | None
) -> None:
    """Every change to an incident is an event tagged with its id: that is its timeline."""
    tags: dict[str, Any] = {"incident_id": str(incident.id)}
    if incident.alert_id is not None:
        tags["alert_id"] = str(incident.alert_id)
    await record_event(
        session,
        event_type=EventType.LOG,
        source="incidents",
        level=EventLevel.INFO,
        message=message,
        tags=tags,
        payload={"status": incident.status.value, "severity": incident.severity.value},
        created_by=actor_id,
    )


@traced
async def create_incident(
    session: AsyncSession,
    *,
    title: str,
    description: str | None,
    severity: Any,
    created_by: uuid.UUID | None,
    alert_id: uuid.UUID | None = None,
) -> Incident:
    """An incident someone opened (`created_by`), its first timeline event saying so."""
    incident = await _insert(
        session,
        Incident(
            title=title,
            description=description,
            severity=severity,
            created_by=created_by,
            alert_id=alert_id,
        ),
    )
    await incident_event(session, incident, f"incident opened: {title}", created_by)
    await session.refresh(incident)
    return incident


async def open_incident_for(session: AsyncSession, alert: Alert) -> Incident | None:
    """The incident a firing alert opens (owned by the alert's creator) — unless one it
    opened is still open or investigated: then None."""
    still_open = await session.scalar(
        select(Incident.id).where(
            Incident.alert_id == alert.id,
            Incident.status.in_([IncidentStatus.OPEN, IncidentStatus.INVESTIGATING]),
        )
    )
    if still_open is not None:
        return None
    incident = await _insert(
        session,
        Incident(
            title=f"Alert firing: {alert.name}",
            severity=alert.severity,
            description=alert.description,
            alert_id=alert.id,
            created_by=alert.created_by,
        ),
    )
    await incident_event(session, incident, f"opened by alert {alert.name!r}", None)
    return incident


@traced
async def get_incident(session: AsyncSession, incident_id: uuid.UUID) -> Incident:
    return await _shared_row(session, Incident, incident_id)


@traced
async def list_incidents(
    session: AsyncSession, page: PageParams, *, status: IncidentStatus | None = None
) -> tuple[list[Incident], int]:
    """Newest first."""
    return await _list_shared(session, page, Incident, status, Incident.started_at.desc())


@traced
async def update_incident(
    session: AsyncSession, actor: Actor, incident_id: uuid.UUID, changes: dict[str, Any]
) -> Incident:
    incident = await get_incident(session, incident_id)
    if not can_access_owned(actor, incident.created_by):
        raise _forbidden("only the incident's creator, moderators and admins may update it")
    if "assigned_to" in changes and not _is_staff(actor):
        raise _forbidden("only moderators and admins assign incidents")
    if changes.get("assigned_to") is not None:
        await _check_assignee(session, changes["assigned_to"])
    described = []
    for key, value in changes.items():
        if getattr(incident, key) != value:
            setattr(incident, key, value)
            described.append(f"{key} → {getattr(value, 'value', value)}")
    if "status" in changes:
        resolved = incident.status in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)
        incident.resolved_at = incident.resolved_at or utcnow() if resolved else None
    if described:
        await incident_event(session, incident, "updated: " + "; ".join(described), actor.user_id)
    await session.flush()
    await session.refresh(incident)
    return incident


async def _check_assignee(session: AsyncSession, user_id: uuid.UUID) -> None:
    """An incident is assigned to a user who exists and is active: a 400 naming the field."""
    active = await session.scalar(select(User.is_active).where(User.id == user_id))
    if not active:
        raise AppError(
            ErrorCode.VALIDATION_FAILED,
            f"assigned_to: no active user has the id {user_id}",
            details=[{"field": "assigned_to", "message": "no active user has this id"}],
        )


@traced
async def incident_timeline(session: AsyncSession, incident_id: uuid.UUID) -> list[Event]:
    """Its own events and, if an alert opened it, that alert's events — oldest first."""
    incident = await get_incident(session, incident_id)
    related = [Event.tags["incident_id"].astext == str(incident.id)]
    if incident.alert_id is not None:
        related.append(Event.tags["alert_id"].astext == str(incident.alert_id))
    rows = await session.scalars(
        select(Event).where(or_(*related)).order_by(Event.recorded_at).limit(500)
    )
    return list(rows)


# --- stats ------------------------------------------------------------------------------------
@traced
async def stats(session: AsyncSession) -> dict[str, Any]:
    hour_ago = utcnow() - timedelta(hours=1)

    async def counts(model: Any, column: Any) -> dict[str, int]:
        row = (
            await session.execute(
                select(func.count(), func.count().filter(column >= hour_ago)).select_from(model)
            )
        ).one()
        return {"total": int(row[0]), "last_hour": int(row[1])}

    levels = dict(
        (
            await session.execute(
                select(Event.level, func.count())
                .where(Event.level.is_not(None))
                .group_by(Event.level)
            )
        ).all()
    )
    alerts = dict(
        (await session.execute(select(Alert.status, func.count()).group_by(Alert.status))).all()
    )
    incidents = dict(
        (
            await session.execute(select(Incident.status, func.count()).group_by(Incident.status))
        ).all()
    )
    return {
        "events": await counts(Event, Event.recorded_at),
        "events_by_level": {level.value: int(levels.get(level, 0)) for level in EventLevel},
        "metrics": await counts(Metric, Metric.recorded_at),
        "alerts": {
            "total": sum(alerts.values()),
            **{status.value: int(alerts.get(status, 0)) for status in AlertStatus},
        },
        "incidents": {
            "total": sum(incidents.values()),
            **{status.value: int(incidents.get(status, 0)) for status in IncidentStatus},
        },
    }


__all__ = [
    "GENERIC_METRIC_PREFIXES",
    "GENERIC_SOURCE_PREFIXES",
    "LEADING_WORD",
    "RESERVED_METRIC_PREFIXES",
    "RESERVED_SOURCES",
    "STAFF_METRIC_PREFIXES",
    "STAFF_SOURCE_PREFIXES",
    "check_event_source",
    "check_metric_name",
    "create_alert",
    "create_event",
    "create_incident",
    "create_metric",
    "delete_alert",
    "get_alert",
    "get_event",
    "get_incident",
    "incident_event",
    "incident_timeline",
    "is_generic_source",
    "is_own_source",
    "list_alerts",
    "list_events",
    "list_incidents",
    "list_metrics",
    "open_incident_for",
    "own_metric_prefixes",
    "record_event",
    "stats",
    "update_alert",
    "update_incident",
]
