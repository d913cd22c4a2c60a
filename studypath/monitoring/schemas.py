"""Request and response shapes of the monitoring API (API.md, Monitoring).

Each field's type is declared once (`Source`, `Labels`, `AlertName`, …) and used by both the
create and the update model of a resource, so a PUT checks a value exactly as a POST does.
Update models give their fields `absent()` as default: a field left out is not changed, a
field sent as `null` is refused like any other value of the wrong type.
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from studypath.core.responses import RowOut
from studypath.core.validation import (
    INTEGER_ONLY,
    FiniteFloat,
    InputModel,
    IsoDateTime,
    JSONObject,
    SchemaSays,
    StrictBool,
    Text,
    absent,
    bounded_json,
    check_text,
    non_null_schema,
)
from studypath.monitoring.models import (
    AlertStatus,
    EventLevel,
    EventType,
    IncidentSeverity,
    IncidentStatus,
    MetricType,
)

MAX_TAGS = 20
MAX_METRIC_VALUE = 1e15
"""Stored samples and thresholds stay within ±10^15: sums and averages of many of them (and
PostgreSQL's sum of squares inside `avg`) cannot overflow a double."""

# Series a Prometheus client derives from a family's name: a stored metric named like one of
# them would give the page two families for one name (an `x` counter is exposed as
# `x_total`; a histogram `x` as `x_bucket`, `x_count`, `x_sum`).
DERIVED_SUFFIXES = ("_total", "_count", "_sum", "_bucket", "_created", "_info")
# Label names the exposition itself uses (histogram buckets, summary quantiles).
RESERVED_LABELS = frozenset({"le", "quantile"})
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
TAG_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")

# The same rules as JSON Schema, for the OpenAPI document (tests/http/test_openapi.py checks they
# agree with the checks above). No look-around: "not starting with __" is spelled out.
LABEL_NAME_SCHEMA: dict[str, Any] = {
    "pattern": r"^(?:[a-zA-Z][a-zA-Z0-9_]*|_|_[a-zA-Z0-9][a-zA-Z0-9_]*)$",
    "maxLength": 100,
    "not": {"enum": sorted(RESERVED_LABELS)},
}
TAG_KEY_SCHEMA: dict[str, Any] = {"pattern": TAG_KEY.pattern}
DERIVED_SUFFIX_PATTERN = "(?:" + "|".join(DERIVED_SUFFIXES) + ")$"

# --- field types ------------------------------------------------------------------------------
# (The constraints come before the `Text` check, so the pattern stays in the JSON schema.)
Source = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:/-]+$"),
    AfterValidator(check_text),
]
Message = Annotated[Text, StringConstraints(max_length=10_000)]
# Prometheus metric names: the stored metrics are exposed in its text format.
MetricName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"),
    AfterValidator(check_text),
]
BoundedValue = Annotated[FiniteFloat, Field(ge=-MAX_METRIC_VALUE, le=MAX_METRIC_VALUE)]
TagValue = (
    Annotated[Text, StringConstraints(max_length=500)]
    | StrictBool
    | Annotated[int, Field(ge=-(2**53), le=2**53), INTEGER_ONLY]
    | FiniteFloat
)
LabelValue = Annotated[Text, StringConstraints(max_length=200)]


def check_stored_metric_name(name: str) -> str:
    """A stored metric's name must not be one the exposition derives from another family."""
    if name.endswith(DERIVED_SUFFIXES):
        raise ValueError(
            f"must not end with {', '.join(DERIVED_SUFFIXES)}: the Prometheus page derives "
            "those series from a family's name (a counter `x` is exposed as `x_total`)"
        )
    return name


def check_tags(tags: dict[str, Any]) -> dict[str, Any]:
    if len(tags) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    for key in tags:
        if not TAG_KEY.fullmatch(key):
            raise ValueError(f"tag key {key!r}: 1-100 of letters, digits, '_', '.', '-'")
    return tags


def check_label_name(key: str) -> None:
    """A label name Prometheus accepts and the exposition does not use itself."""
    if not LABEL_NAME.fullmatch(key) or key.startswith("__") or len(key) > 100:
        raise ValueError(
            f"label name {key!r} is not a valid Prometheus label name "
            "([a-zA-Z_][a-zA-Z0-9_]*, at most 100, not starting with __)"
        )
    if key in RESERVED_LABELS:
        raise ValueError(f"label name {key!r} is reserved for histogram and summary series")


def check_labels(labels: dict[str, str]) -> dict[str, str]:
    if len(labels) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} labels")
    for key in labels:
        check_label_name(key)
    return labels


StoredMetricName = Annotated[
    MetricName,
    AfterValidator(check_stored_metric_name),
    SchemaSays(**{"not": {"pattern": DERIVED_SUFFIX_PATTERN}}),
]
Tags = Annotated[
    dict[str, TagValue],
    AfterValidator(check_tags),
    bounded_json(16 * 1024),
    SchemaSays(maxProperties=MAX_TAGS, propertyNames=TAG_KEY_SCHEMA),
]
Labels = Annotated[
    dict[str, LabelValue],
    AfterValidator(check_labels),
    bounded_json(8 * 1024),
    SchemaSays(maxProperties=MAX_TAGS, propertyNames=LABEL_NAME_SCHEMA),
]


RECORDED_AT = (
    "When it happened (default: now), with a time zone; within the last 30 days and not "
    "more than 5 minutes ahead (else 400)."
)


# --- events -----------------------------------------------------------------------------------
class CreateEvent(InputModel):
    event_type: EventType
    source: Source
    message: Message | None = None
    level: EventLevel | None = None
    tags: Tags = Field(default_factory=dict, description="At most 20; values are scalars.")
    payload: JSONObject = Field(
        default_factory=dict, description="At most 64 KiB as JSON, 16 levels deep."
    )
    recorded_at: IsoDateTime | None = Field(default=None, description=RECORDED_AT)


class EventOut(RowOut):
    event_type: EventType
    source: str
    message: str | None
    level: EventLevel | None
    tags: dict[str, Any]
    payload: dict[str, Any]
    recorded_at: datetime
    created_at: datetime
    created_by: uuid.UUID | None


# --- stored metrics ---------------------------------------------------------------------------
class CreateMetric(InputModel):
    name: StoredMetricName = Field(
        description="A Prometheus name, not ending with _total, _count, _sum, _bucket, "
        "_created or _info."
    )
    metric_type: MetricType
    value: BoundedValue = Field(description="Finite, at most 10^15 in magnitude.")
    labels: Labels = Field(default_factory=dict, description="Prometheus labels: text values.")
    recorded_at: IsoDateTime | None = Field(default=None, description=RECORDED_AT)


class MetricOut(RowOut):
    name: str
    metric_type: MetricType
    value: float
    labels: dict[str, str]
    recorded_at: datetime
    created_by: uuid.UUID | None


# --- alerts -----------------------------------------------------------------------------------
Comparator = Literal[">", ">=", "<", "<=", "==", "!="]
Aggregation = Literal["avg", "max", "min", "sum", "count", "rate"]
AlertName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(check_text),
]
Description = Annotated[Text, StringConstraints(max_length=2000)]
WindowSeconds = Annotated[int, Field(ge=1, le=86_400), INTEGER_ONLY]
ForSeconds = Annotated[int, Field(ge=0, le=86_400), INTEGER_ONLY]
QUERY_FORM = "<metric_name> <op> <number>, op one of > >= < <= == != (e.g. 'error_rate > 0.05')"
QUERY = re.compile(
    r"^\s*(?P<metric>[a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?P<op>>=|<=|==|!=|>|<)\s*"
    r"(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)
# `QUERY` for the JSON schema: no named groups, and the metric name's 200-character limit.
QUERY_SCHEMA_PATTERN = (
    r"^\s*[a-zA-Z_:][a-zA-Z0-9_:]{0,199}\s*(?:>=|<=|==|!=|>|<)\s*"
    r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*$"
)
QUERY_RULES = (
    f"{QUERY_FORM}. The number must be finite and at most {MAX_METRIC_VALUE:g} in magnitude "
    "(else 400)."
)
RULE_FIELDS = ("metric_name", "comparator", "threshold")


def parse_query(query: str) -> tuple[str, str, float]:
    """`error_rate > 0.05` → ("error_rate", ">", 0.05); ValueError naming the form otherwise."""
    match = QUERY.match(query)
    if match is None or len(match["metric"]) > 200:
        raise ValueError(f"unsupported query {query[:100]!r}: the supported form is {QUERY_FORM}")
    threshold = float(match["number"])
    if not math.isfinite(threshold) or abs(threshold) > MAX_METRIC_VALUE:
        raise ValueError(f"the query's number must be finite and at most {MAX_METRIC_VALUE:g}")
    return match["metric"], match["op"], threshold


AlertQuery = Annotated[
    Text,
    StringConstraints(max_length=500),
    SchemaSays(pattern=QUERY_SCHEMA_PATTERN),
]


def _rule_from_query(model: Any, query: str | None) -> None:
    """Turn the guide's `query` into the rule's fields (in place); it cannot come with them."""
    if query is None:
        return
    given = [name for name in RULE_FIELDS if name in model.model_fields_set]
    if given:
        raise ValueError(f"give either query or {', '.join(given)}, not both")
    model.metric_name, model.comparator, model.threshold = parse_query(query)


def _two_shapes(schema: dict[str, Any]) -> None:
    """OpenAPI: an alert is created either with studypath's fields or with the guide's query."""
    properties: dict[str, Any] = schema.pop("properties")
    schema.pop("required", None)
    schema.pop("additionalProperties", None)
    shared = {k: v for k, v in properties.items() if k not in {*RULE_FIELDS, "query"}}
    shared.pop("threshold_value")
    schema["oneOf"] = [
        {
            "title": "Rule",
            "type": "object",
            "properties": {**shared, **{k: properties[k] for k in RULE_FIELDS}},
            "required": ["name", "metric_name", "threshold"],
            "additionalProperties": False,
        },
        {
            "title": "Query (the guide's form)",
            "type": "object",
            "properties": {
                **shared,
                "query": non_null_schema(properties["query"]),
                "threshold_value": properties["threshold_value"],
            },
            "required": ["name", "query"],
            "additionalProperties": False,
        },
    ]


class AlertRule(InputModel):
    """What an alert watches: aggregate a metric over a window, compare, hold for a while.

    Either studypath's fields (`metric_name`, `comparator`, `threshold`) or the guide's
    `query` (`"cpu_usage > 80"`, with an optional `threshold_value` that must agree)."""

    model_config = ConfigDict(json_schema_extra=_two_shapes)

    name: AlertName
    description: Description | None = None
    metric_name: MetricName = absent()
    label_match: Labels = Field(default_factory=dict)
    aggregation: Aggregation = "avg"
    window_seconds: WindowSeconds = 300
    comparator: Comparator = ">"
    threshold: BoundedValue = absent()
    for_seconds: ForSeconds = 0
    severity: IncidentSeverity = IncidentSeverity.MEDIUM
    is_active: StrictBool = True
    opens_incident: StrictBool = False
    query: AlertQuery | None = Field(default=None, description=f"The guide's form: {QUERY_RULES}")
    threshold_value: FiniteFloat | None = Field(
        default=None, description="With `query`: must equal the query's number (else 400)."
    )

    @field_validator("query")
    @classmethod
    def _query_form(cls, query: str | None) -> str | None:
        if query is not None:
            parse_query(query)
        return query

    @model_validator(mode="after")
    def _one_shape(self) -> Self:
        _rule_from_query(self, self.query)
        if self.query is None:
            if self.threshold_value is not None:
                raise ValueError("threshold_value goes with query; the rule's field is threshold")
            missing = [name for name in ("metric_name", "threshold") if getattr(self, name) is None]
            if missing:
                raise PydanticCustomError(
                    "missing",
                    "Field required: {fields} (or give the guide's query)",
                    {"fields": ", ".join(missing)},
                )
        elif self.threshold_value is not None and self.threshold_value != self.threshold:
            raise ValueError(
                f"threshold_value {self.threshold_value:g} differs from the query's "
                f"{self.threshold:g}"
            )
        return self

    def rule(self) -> dict[str, Any]:
        """The alert's columns."""
        return self.model_dump(exclude={"query", "threshold_value"})


def _query_or_rule_fields(schema: dict[str, Any]) -> None:
    """OpenAPI: an update gives the guide's `query` or the rule's fields, never both."""
    schema["not"] = {"anyOf": [{"required": ["query", name]} for name in RULE_FIELDS]}


class UpdateAlert(InputModel):
    """Change some of a rule's fields (or its condition with the guide's `query`, which
    cannot come with `metric_name`, `comparator` or `threshold`)."""

    model_config = ConfigDict(json_schema_extra=_query_or_rule_fields)

    name: AlertName = absent()
    description: Description | None = None
    metric_name: MetricName = absent()
    label_match: Labels = absent()
    aggregation: Aggregation = absent()
    window_seconds: WindowSeconds = absent()
    comparator: Comparator = absent()
    threshold: BoundedValue = absent()
    for_seconds: ForSeconds = absent()
    severity: IncidentSeverity = absent()
    is_active: StrictBool = absent()
    opens_incident: StrictBool = absent()
    query: AlertQuery = absent(description=f"Sets the condition: {QUERY_RULES}")

    @field_validator("query")
    @classmethod
    def _query_form(cls, query: str) -> str:
        parse_query(query)
        return query

    @model_validator(mode="after")
    def _condition(self) -> Self:
        _rule_from_query(self, self.query)
        return self

    def changes(self) -> dict[str, Any]:
        """The columns to change: the fields sent (a query becomes the three it sets)."""
        changes = self.model_dump(exclude_unset=True, exclude={"query"})
        if self.query is not None:
            changes.update({name: getattr(self, name) for name in RULE_FIELDS})
        return changes


class AlertOut(RowOut):
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
    query: str = Field(default="", description="The condition in the guide's form.")
    threshold_value: float | None = Field(default=None, description="The guide's name for it.")

    @model_validator(mode="after")
    def _guide_fields(self) -> Self:
        self.query = f"{self.metric_name} {self.comparator} {self.threshold:g}"
        self.threshold_value = self.threshold
        return self


# --- incidents --------------------------------------------------------------------------------
IncidentTitle = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(check_text),
]
IncidentText = Annotated[Text, StringConstraints(max_length=10_000)]


class CreateIncident(InputModel):
    title: IncidentTitle
    description: IncidentText | None = None
    severity: IncidentSeverity = IncidentSeverity.MEDIUM


class UpdateIncident(InputModel):
    title: IncidentTitle = absent()
    description: IncidentText | None = None
    severity: IncidentSeverity = absent()
    status: IncidentStatus = absent()
    root_cause: IncidentText | None = None
    assigned_to: uuid.UUID | None = Field(
        default=None,
        description="An active user's id (else 400; null: unassigned). Moderators and admins "
        "only (else 403).",
    )


class IncidentOut(RowOut):
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
    # Additive: the same people by name (null when nobody, or their account is gone).
    assigned_to_username: str | None = Field(default=None, description="The assignee's username.")
    created_by_username: str | None = Field(
        default=None, description="The username of who opened it (an alert's creator)."
    )


class CountWindow(BaseModel):
    total: int
    last_hour: int


class MonitoringStats(BaseModel):
    events: CountWindow
    events_by_level: dict[str, int]
    metrics: CountWindow
    alerts: dict[str, int]
    incidents: dict[str, int]
