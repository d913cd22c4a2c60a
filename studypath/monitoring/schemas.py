"""Request and response shapes of the monitoring API (API.md, Monitoring)."""

from __future__ import annotations

import json
import math
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from studypath.monitoring.models import (
    AlertStatus,
    EventLevel,
    EventType,
    IncidentSeverity,
    IncidentStatus,
    MetricType,
)

MAX_TAGS = 20
MAX_PAYLOAD_BYTES = 64 * 1024

Source = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:/-]+$")
]
# Prometheus names: the stored metrics are exposed in its text format.
MetricName = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
]
TagValue = Annotated[str, StringConstraints(max_length=500)] | int | float | bool
Comparator = Literal[">", ">=", "<", "<=", "==", "!="]
Aggregation = Literal["avg", "max", "min", "sum", "count", "rate"]


def _check_tags(tags: dict[str, Any]) -> dict[str, Any]:
    if len(tags) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    for key in tags:
        if not key or len(key) > 100 or not all(c.isalnum() or c in "_.-" for c in key):
            raise ValueError(f"tag key {key!r}: 1-100 of letters, digits, '_', '.', '-'")
    return tags


def _check_labels(labels: dict[str, str]) -> dict[str, str]:
    if len(labels) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} labels")
    for key, value in labels.items():
        valid = key and (key[0].isalpha() or key[0] == "_") and key.replace("_", "a").isalnum()
        if not valid or key.startswith("__") or len(key) > 100 or not key.isascii():
            raise ValueError(f"label name {key!r} is not a valid Prometheus label name")
        if len(value) > 200:
            raise ValueError(f"label {key!r}: value longer than 200 characters")
    return labels


class CreateEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_type: EventType
    source: Source
    message: str | None = Field(default=None, max_length=10_000)
    level: EventLevel | None = None
    tags: dict[str, TagValue] = Field(default_factory=dict)
    payload: dict[str, Any] = Field(default_factory=dict, description="At most 64 KiB as JSON.")
    recorded_at: datetime | None = None

    _tags = field_validator("tags")(_check_tags)

    @field_validator("payload")
    @classmethod
    def _payload_size(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, default=str).encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError("payload is larger than 64 KiB")
        return value


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_type: EventType
    source: str
    message: str | None
    level: EventLevel | None
    tags: dict[str, Any]
    payload: dict[str, Any]
    recorded_at: datetime
    created_at: datetime
    created_by: uuid.UUID | None


class CreateMetric(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: MetricName
    metric_type: MetricType
    value: float
    labels: dict[str, str] = Field(default_factory=dict)
    recorded_at: datetime | None = None

    _labels = field_validator("labels")(_check_labels)

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


class MetricOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    metric_type: MetricType
    value: float
    labels: dict[str, str]
    recorded_at: datetime
    created_by: uuid.UUID | None


class AlertRule(BaseModel):
    """What an alert watches: aggregate a metric over a window, compare, hold for a while."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: str | None = Field(default=None, max_length=2000)
    metric_name: MetricName
    label_match: dict[str, str] = Field(default_factory=dict)
    aggregation: Aggregation = "avg"
    window_seconds: int = Field(default=300, ge=1, le=86_400)
    comparator: Comparator = ">"
    threshold: float
    for_seconds: int = Field(default=0, ge=0, le=86_400)
    severity: IncidentSeverity = IncidentSeverity.MEDIUM
    is_active: bool = True
    opens_incident: bool = False

    _labels = field_validator("label_match")(_check_labels)


class UpdateAlert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    description: str | None = Field(default=None, max_length=2000)
    metric_name: MetricName | None = None
    label_match: dict[str, str] | None = None
    aggregation: Aggregation | None = None
    window_seconds: int | None = Field(default=None, ge=1, le=86_400)
    comparator: Comparator | None = None
    threshold: float | None = None
    for_seconds: int | None = Field(default=None, ge=0, le=86_400)
    severity: IncidentSeverity | None = None
    is_active: bool | None = None
    opens_incident: bool | None = None


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str | None
    metric_name: str
    label_match: dict[str, str]
    aggregation: str
    window_seconds: int
    comparator: str
    threshold: float
    for_seconds: int
    severity: IncidentSeverity
    status: AlertStatus
    is_active: bool
    opens_incident: bool
    last_value: float | None
    last_evaluated_at: datetime | None
    pending_since: datetime | None
    triggered_at: datetime | None
    resolved_at: datetime | None
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class CreateIncident(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: str | None = Field(default=None, max_length=10_000)
    severity: IncidentSeverity = IncidentSeverity.MEDIUM


class UpdateIncident(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    description: str | None = Field(default=None, max_length=10_000)
    severity: IncidentSeverity | None = None
    status: IncidentStatus | None = None
    root_cause: str | None = Field(default=None, max_length=10_000)
    assigned_to: uuid.UUID | None = Field(default=None, description="Moderators and admins only.")


class IncidentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    description: str | None
    severity: IncidentSeverity
    status: IncidentStatus
    root_cause: str | None
    alert_id: uuid.UUID | None
    assigned_to: uuid.UUID | None
    created_by: uuid.UUID | None
    started_at: datetime
    resolved_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CountWindow(BaseModel):
    total: int
    last_hour: int


class MonitoringStats(BaseModel):
    events: CountWindow
    events_by_level: dict[str, int]
    metrics: CountWindow
    alerts: dict[str, int]
    incidents: dict[str, int]
