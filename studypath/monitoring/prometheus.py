"""The Prometheus page: this process's own metrics, plus (for admins and the scrape token)
the stored metrics as families.

Stored samples become valid exposition: counters and gauges expose the latest value of
each series (name + labels); histograms turn their retained samples into cumulative
buckets with `_sum` and `_count`; summaries expose `_count` and `_sum`.

The page must stay valid whatever users stored: the API refuses names and labels that
would break it (`monitoring.schemas`), and this module skips any stored row that breaks the
same rules anyway (written before those rules, or straight into the table) — one family
per name, no name of the process's own, no `le`/`quantile` label.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector
from sqlalchemy import text

from studypath.core.db import Database
from studypath.monitoring.schemas import check_label_name, check_stored_metric_name
from studypath.monitoring.service import RESERVED_METRIC_PREFIXES
from studypath.tasks.gauges import refresh_queue_gauges
from studypath.telemetry.metrics import refresh_pool_gauges

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
HISTOGRAM_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

# Latest sample per series for counters, gauges and summaries' latest; all samples of
# histogram and summary series (they are aggregated here).
LATEST = text(
    """
    SELECT DISTINCT ON (name, labels) name, metric_type, labels, value
    FROM metrics WHERE metric_type IN ('counter', 'gauge')
    ORDER BY name, labels, recorded_at DESC
    """
)
DISTRIBUTIONS = text(
    """
    SELECT name, metric_type, labels, array_agg(value) AS samples
    FROM metrics WHERE metric_type IN ('histogram', 'summary')
    GROUP BY name, metric_type, labels
    """
)


def exposable(name: str, labels: dict[str, Any]) -> bool:
    """Whether a stored series can join the page without breaking it."""
    try:
        check_stored_metric_name(name)
        for key, value in labels.items():
            check_label_name(key)
            if not isinstance(value, str):
                return False
    except ValueError:
        return False
    return not name.startswith(RESERVED_METRIC_PREFIXES)


class StoredMetrics(Collector):
    """A collector over rows already read from the database (collect() must not do I/O)."""

    def __init__(self, latest: list[Any], distributions: list[Any]) -> None:
        self.latest, self.distributions = latest, distributions

    def collect(self) -> Iterator[Metric]:
        series: dict[tuple[str, str], list[tuple[dict[str, str], Any]]] = defaultdict(list)
        for row in self.latest:
            if exposable(row.name, row.labels):
                series[(row.name, row.metric_type)].append((row.labels, row.value))
        for row in self.distributions:
            if exposable(row.name, row.labels):
                series[(row.name, row.metric_type)].append((row.labels, row.samples))
        seen: set[str] = set()
        for (name, metric_type), items in sorted(series.items()):
            if name in seen:  # one name, two types: the first (alphabetical) type wins
                continue
            seen.add(name)
            label_names = sorted({key for labels, _ in items for key in labels})
            family = _family(name, metric_type, label_names)
            for labels, value in items:
                values = [labels.get(key, "") for key in label_names]
                _add(family, metric_type, values, value)
            yield family


def _family(name: str, metric_type: str, labels: list[str]) -> Metric:
    doc = f"stored {metric_type} (POST /api/v1/monitoring/metrics)"
    if metric_type == "counter":
        return CounterMetricFamily(name, doc, labels=labels)
    if metric_type == "histogram":
        return HistogramMetricFamily(name, doc, labels=labels)
    if metric_type == "summary":
        return SummaryMetricFamily(name, doc, labels=labels)
    return GaugeMetricFamily(name, doc, labels=labels)


def _add(family: Metric, metric_type: str, values: list[str], value: Any) -> None:
    if metric_type == "histogram":
        samples = sorted(float(v) for v in value)
        buckets = [
            (str(bound), sum(1 for s in samples if s <= bound)) for bound in HISTOGRAM_BUCKETS
        ]
        buckets.append(("+Inf", len(samples)))
        family.add_metric(values, buckets=buckets, sum_value=sum(samples))  # type: ignore[attr-defined]
    elif metric_type == "summary":
        samples = [float(v) for v in value]
        family.add_metric(values, count_value=len(samples), sum_value=sum(samples))  # type: ignore[attr-defined]
    else:
        family.add_metric(values, float(value))  # type: ignore[attr-defined]


async def exposition(db: Database, *, with_stored: bool) -> bytes:
    """The page: process metrics (refreshed from the database first), + stored ones if asked."""
    await refresh_queue_gauges(db)
    refresh_pool_gauges(db)
    if not with_stored:
        return generate_latest(REGISTRY)
    async with db.engine.connect() as conn:
        latest = list(await conn.execute(LATEST))
        distributions = list(await conn.execute(DISTRIBUTIONS))
    stored = CollectorRegistry()
    stored.register(StoredMetrics(latest, distributions))
    return generate_latest(REGISTRY) + generate_latest(stored)
