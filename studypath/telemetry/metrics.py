"""Prometheus metrics of this process, in prometheus_client's default registry.

Counters and histograms are updated where things happen (the HTTP middleware, the worker,
task creation); the gauges read from the database (queue depth, breaker states) are
refreshed when the API answers a scrape, by `tasks.gauges.refresh_queue_gauges`: the queue
reads its own tables, this module only declares the metrics.

Several processes: each one exposes its own numbers (per-process scrape, the way
Prometheus scrapes every instance of a service); the database-derived gauges are the same
everywhere because they come from the one database.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from studypath.core.db import Database

# No `*_created` timestamp series next to every counter and histogram: noise on the page.
disable_created_metrics()  # type: ignore[no-untyped-call]

# --- HTTP: labels are bounded (route templates, not paths; status classes, not codes) ------
HTTP_REQUESTS = Counter(
    "studypath_http_requests", "HTTP requests served", ["method", "route", "status_class"]
)
HTTP_LATENCY = Histogram(
    "studypath_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HTTP_IN_FLIGHT = Gauge("studypath_http_requests_in_flight", "HTTP requests being served")
DB_POOL = Gauge("studypath_db_pool_connections", "Database pool connections", ["state"])

# --- tasks -----------------------------------------------------------------------------------
TASKS_CREATED = Counter("studypath_tasks_created", "Tasks created", ["task_type"])
TASKS_STARTED = Counter("studypath_tasks_started", "Task attempts started", ["task_type"])
TASKS_SUCCEEDED = Counter("studypath_tasks_succeeded", "Tasks completed", ["task_type"])
# A failed *attempt* and a *dead letter* are different events, with different names: every
# failed attempt counts in TASK_ATTEMPTS_FAILED; the last one, or bad input, also in
# TASKS_DEAD_LETTERED.
TASK_ATTEMPTS_FAILED = Counter(
    "studypath_task_attempts_failed", "Task attempts that failed", ["task_type", "reason"]
)
TASKS_RETRIED = Counter("studypath_tasks_retried", "Failed attempts scheduled again", ["task_type"])
TASKS_DEAD_LETTERED = Counter(
    "studypath_tasks_dead_lettered", "Tasks that ran out of attempts", ["task_type"]
)
TASK_DURATION = Histogram(
    "studypath_task_duration_seconds",
    "Time a handler ran, by outcome",
    ["task_type", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
QUEUE_DEPTH = Gauge("studypath_queue_depth", "Tasks by status", ["status"])
BREAKER_STATE = Gauge(
    "studypath_circuit_breaker_state",
    "Circuit breaker state per task type (0 closed, 1 half-open, 2 open)",
    ["task_type"],
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    counter, latency = _request_series(method, route, status // 100)
    counter.inc()
    latency.observe(seconds)


@lru_cache(maxsize=4096)
def _request_series(method: str, route: str, status_class: int) -> tuple[Counter, Histogram]:
    """The labelled series one kind of request updates, looked up once: `labels()` checks and
    joins its labels and takes a lock on every call, a tenth of a cheap request's work.
    (prometheus_client keeps each labelled series for good, so holding on to it is safe.)"""
    return (
        HTTP_REQUESTS.labels(method=method, route=route, status_class=f"{status_class}xx"),
        HTTP_LATENCY.labels(method=method, route=route),
    )


def refresh_pool_gauges(db: Database) -> None:
    status = db.pool_status()
    DB_POOL.labels(state="checked_out").set(status["checked_out"])
    DB_POOL.labels(state="idle").set(status["idle"])
    DB_POOL.labels(state="size").set(status["size"])


# A worker process without the API serves its own page (`studypath worker --metrics-port`):
# what happens in that process — task counters, durations, the process itself. The gauges
# read from the database are left to the API's page (one reading of one database).
WORKER_FAMILIES = ("studypath_task", "process_", "python_")


class _WorkerFamilies(Collector):
    def collect(self) -> Iterator[Metric]:
        for family in REGISTRY.collect():
            if family.name.startswith(WORKER_FAMILIES):
                yield family


def worker_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_WorkerFamilies())
    return registry
