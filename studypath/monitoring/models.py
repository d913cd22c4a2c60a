"""The `events`, `metrics`, `alerts` and `incidents` tables."""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, select, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, column_property, mapped_column

from studypath.core.db import Base
from studypath.core.types import CreatedAt, JSONDict, Timestamp, UpdatedAt, UUIDPk, str_enum
from studypath.identity.models import User


class EventType(StrEnum):
    LOG = "log"
    METRIC = "metric"
    TRACE = "trace"
    ALERT = "alert"


class EventLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"
    CRITICAL = "critical"


class MetricType(StrEnum):
    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"
    SUMMARY = "summary"


class AlertStatus(StrEnum):
    OK = "ok"
    PENDING = "pending"  # condition true, waiting out the for-duration
    FIRING = "firing"
    RESOLVED = "resolved"


class IncidentSeverity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class IncidentStatus(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    RESOLVED = "resolved"
    CLOSED = "closed"


def _creator() -> Mapped[uuid.UUID | None]:
    return mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"))


class Recorded:
    """What an event and a stored metric both are: something a user (or the system) wrote,
    stamped with when it happened. Both are listed the same way (the writer's own, the time
    window on `recorded_at`, newest first: `service.list_recorded`)."""

    recorded_at: Mapped[CreatedAt]
    created_at: Mapped[CreatedAt]
    created_by: Mapped[uuid.UUID | None] = _creator()


class Event(Recorded, Base):
    """Something that happened, once: a log line, a trace, an alert transition."""

    __tablename__ = "events"
    __table_args__ = (
        Index(None, "recorded_at"),
        Index(None, "source", "recorded_at"),
        Index("ix_events_tags", "tags", postgresql_using="gin"),
    )

    id: Mapped[UUIDPk]
    event_type: Mapped[EventType] = mapped_column(str_enum(EventType, "event_type"))
    source: Mapped[str] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(Text)
    level: Mapped[EventLevel | None] = mapped_column(str_enum(EventLevel, "level"))
    tags: Mapped[JSONDict]
    payload: Mapped[JSONDict]


class Metric(Recorded, Base):
    """One sample of a named series (name + labels)."""

    __tablename__ = "metrics"
    __table_args__ = (Index(None, "name", "recorded_at"), Index(None, "recorded_at"))

    id: Mapped[UUIDPk]
    name: Mapped[str] = mapped_column(String(200))
    metric_type: Mapped[MetricType] = mapped_column(str_enum(MetricType, "metric_type"))
    value: Mapped[float] = mapped_column(Float)
    labels: Mapped[JSONDict]


class Alert(Base):
    """A rule over a metric: aggregate a window, compare with a threshold, hold for a while."""

    __tablename__ = "alerts"

    id: Mapped[UUIDPk]
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    metric_name: Mapped[str] = mapped_column(String(200))
    label_match: Mapped[JSONDict]
    aggregation: Mapped[str] = mapped_column(String(10), server_default="avg")
    window_seconds: Mapped[int] = mapped_column(Integer, server_default=text("300"))
    comparator: Mapped[str] = mapped_column(String(4), server_default=">")
    threshold: Mapped[float] = mapped_column(Float)
    for_seconds: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    severity: Mapped[IncidentSeverity] = mapped_column(
        str_enum(IncidentSeverity, "severity"), server_default=IncidentSeverity.MEDIUM.value
    )
    status: Mapped[AlertStatus] = mapped_column(
        str_enum(AlertStatus, "status"), server_default=AlertStatus.OK.value
    )
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    opens_incident: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    last_value: Mapped[float | None] = mapped_column(Float)
    last_evaluated_at: Mapped[Timestamp | None]
    pending_since: Mapped[Timestamp | None]
    triggered_at: Mapped[Timestamp | None]
    resolved_at: Mapped[Timestamp | None]
    created_by: Mapped[uuid.UUID | None] = _creator()
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class Incident(Base):
    """A problem people work on: opened by hand or by a firing alert."""

    __tablename__ = "incidents"
    __table_args__ = (Index(None, "status"),)

    id: Mapped[UUIDPk]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[IncidentSeverity] = mapped_column(
        str_enum(IncidentSeverity, "severity"), server_default=IncidentSeverity.MEDIUM.value
    )
    status: Mapped[IncidentStatus] = mapped_column(
        str_enum(IncidentStatus, "status"), server_default=IncidentStatus.OPEN.value
    )
    root_cause: Mapped[str | None] = mapped_column(Text)
    alert_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("alerts.id", ondelete="SET NULL")
    )
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    created_by: Mapped[uuid.UUID | None] = _creator()
    started_at: Mapped[CreatedAt]
    resolved_at: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]

    # Who, by name: read with the row (a correlated subquery of each SELECT and refresh), so
    # the API can say whom without a second query — a plain user cannot look ids up.
    assigned_to_username: Mapped[str | None] = column_property(
        select(User.username).where(User.id == assigned_to).scalar_subquery()
    )
    created_by_username: Mapped[str | None] = column_property(
        select(User.username).where(User.id == created_by).scalar_subquery()
    )


__all__ = [
    "Alert",
    "AlertStatus",
    "Event",
    "EventLevel",
    "EventType",
    "Incident",
    "IncidentSeverity",
    "IncidentStatus",
    "Metric",
    "MetricType",
    "Recorded",
]
