"""What the event and metric listings accept: the tag filter `k:v,k2:v2`, the time window,
and one filter per listing (`GET /monitoring/events`, `GET /monitoring/metrics`).

Each filter is a frozen dataclass whose fields are the listing's query parameters: the
endpoint takes it as `Depends()` (`EventsWanted`, `MetricsWanted`), the service reads it.
Both listings share the window (`start_time`, `end_time`) and the tag filter's grammar; each
names its own columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from studypath.core.errors import AppError, ErrorCode
from studypath.core.validation import Text, ZonedDateTime
from studypath.monitoring.models import EventLevel, EventType, MetricType

MAX_TAG_FILTERS = 20
# The filter's form as a JSON Schema pattern (the OpenAPI document states it; the parser
# below is what checks it, and says what is wrong). An item is `key:value`: the key has no
# `:` or `,`, the value no `,`, and each has a character that is not white space; an empty
# filter is no filter. It cannot say "each key at most once", so a repeated key is a 400 the
# schema does not show.
_TAG_KEY_TEXT = r"[^,:\x00]*[^,:\s\x00][^,:\x00]*"
_TAG_VALUE_TEXT = r"[^,\x00]*[^,\s\x00][^,\x00]*"
_TAG_ITEM = f"{_TAG_KEY_TEXT}:{_TAG_VALUE_TEXT}"
TAG_FILTER_PATTERN = f"^(?:{_TAG_ITEM}(?:,{_TAG_ITEM}){{0,{MAX_TAG_FILTERS - 1}}})?$"

TagFilter = Annotated[
    Text | None,
    Query(
        max_length=2000,
        description=f"`key:value,key2:value2` — all must match; at most "
        f"{MAX_TAG_FILTERS} keys, each at most once (else 400). Empty: no filter.",
        json_schema_extra={"pattern": TAG_FILTER_PATTERN},
    ),
]
TimeBound = Annotated[
    ZonedDateTime | None,
    Query(description="RFC 3339, with `Z` or an offset (e.g. 2024-05-01T12:00:00Z)."),
]
SourceOrName = Annotated[Text | None, Query(max_length=200)]


def parse_tag_filter(text_filter: str) -> dict[str, str]:
    """`env:prod,team:search` → {"env": "prod", "team": "search"}; a clear 400 otherwise."""
    tags: dict[str, str] = {}
    for part in text_filter.split(","):
        key, colon, value = part.strip().partition(":")
        key, value = key.strip(), value.strip()
        if not colon or not key or not value:
            raise AppError(
                ErrorCode.VALIDATION_FAILED,
                f"tags filter {text_filter!r}: each item must be key:value, "
                "separated by commas (e.g. env:prod,team:search)",
                details=[{"field": "tags", "message": f"bad item {part!r}"}],
            )
        if key in tags:
            raise AppError(ErrorCode.VALIDATION_FAILED, f"tags filter: key {key!r} given twice")
        tags[key] = value
    if len(tags) > MAX_TAG_FILTERS:
        raise AppError(ErrorCode.VALIDATION_FAILED, f"tags filter: at most {MAX_TAG_FILTERS} keys")
    return tags


@dataclass(frozen=True)
class RecordedFilter:
    """The time window both listings share, on `recorded_at` (both ends included)."""

    start_time: TimeBound = None
    end_time: TimeBound = None


@dataclass(frozen=True)
class EventFilter(RecordedFilter):
    """`GET /monitoring/events`: None (or an empty tag filter) means any."""

    event_type: EventType | None = None
    source: SourceOrName = None
    level: EventLevel | None = None
    tags: TagFilter = None


@dataclass(frozen=True)
class MetricFilter(RecordedFilter):
    """`GET /monitoring/metrics`: None (or an empty label filter) means any."""

    name: SourceOrName = None
    metric_type: MetricType | None = None
    labels: TagFilter = None


# Each filter as its endpoint takes it: the query parameters, read into one filter.
EventsWanted = Annotated[EventFilter, Depends()]
MetricsWanted = Annotated[MetricFilter, Depends()]


__all__ = [
    "MAX_TAG_FILTERS",
    "TAG_FILTER_PATTERN",
    "EventFilter",
    "EventsWanted",
    "MetricFilter",
    "MetricsWanted",
    "RecordedFilter",
    "TagFilter",
    "TimeBound",
    "parse_tag_filter",
]
