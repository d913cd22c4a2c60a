"""Pictures of monitoring: they must say what `next_status`, the Prometheus page and the
spans say — and `wb.trace()` must collect only what began inside its block."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from studypath.app import create_app
from studypath.config import Settings
from studypath.monitoring.alerts import next_status
from studypath.monitoring.models import Alert, AlertStatus
from studypath.monitoring.prometheus import StoredMetrics
from studypath.telemetry.tracing import LAYER, SpanStore
from studypath.viz.monitoring import (
    Scrape,
    Table,
    alert_state_diagram,
    alert_transitions,
    bucket_quantile,
    data_flow_diagram,
    events_table,
    prometheus_architecture,
    prometheus_route,
    statement_tables,
)
from studypath.viz.traces import TraceView
from tests.support.diagrams import UNSAFE, state_arrows

# ----------------------------------------------------------------------------- alert states


def test_every_move_is_what_next_status_answers() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    for move in alert_transitions():
        condition = move.case != "condition false"
        for_seconds = 0 if "for_seconds = 0" in move.case else 60
        held = 60.0 if move.case.endswith("pending for for_seconds") else 0.0
        since = now - timedelta(seconds=held) if move.before is AlertStatus.PENDING else None
        alert = Alert(status=move.before, for_seconds=for_seconds, pending_since=since)
        assert next_status(alert, condition, now) is move.after, move


def test_every_status_meets_every_kind_of_evaluation() -> None:
    cases: dict[AlertStatus, set[str]] = {}
    for move in alert_transitions():
        cases.setdefault(move.before, set()).add(move.case)
    assert set(cases) == set(AlertStatus)
    assert all(
        len(found) == 3 for status, found in cases.items() if status is not AlertStatus.PENDING
    )
    assert len(cases[AlertStatus.PENDING]) == 4  # held long enough, or not yet


def test_the_moves_that_matter() -> None:
    moves = {(m.before, m.case): m.after for m in alert_transitions()}
    assert moves[(AlertStatus.OK, "condition true, for_seconds ≥ 1")] is AlertStatus.PENDING
    assert moves[(AlertStatus.OK, "condition true, for_seconds = 0")] is AlertStatus.FIRING
    held = (AlertStatus.PENDING, "condition true, pending for for_seconds")
    not_yet = (AlertStatus.PENDING, "condition true, pending less than for_seconds")
    assert (moves[held], moves[not_yet]) == (AlertStatus.FIRING, AlertStatus.PENDING)
    assert moves[(AlertStatus.PENDING, "condition false")] is AlertStatus.OK
    assert moves[(AlertStatus.FIRING, "condition false")] is AlertStatus.RESOLVED
    assert moves[(AlertStatus.RESOLVED, "condition true, for_seconds ≥ 1")] is AlertStatus.PENDING


def test_diagram_has_one_arrow_per_change_of_state() -> None:
    diagram = alert_state_diagram()
    assert diagram.source.startswith("stateDiagram-v2\n")
    found = state_arrows(diagram)
    changes = {(m.before.value, m.after.value) for m in alert_transitions() if m.before != m.after}
    between = [(source, target) for source, target, _ in found if source != "[*]"]
    assert sorted(between) == sorted(changes)
    assert [target for source, target, _ in found if source == "[*]"] == ["ok"]
    pending_to_firing = next(label for s, t, label in found if (s, t) == ("pending", "firing"))
    assert pending_to_firing == "condition true, for_seconds = 0 or pending for for_seconds"


def test_self_loops_are_drawn_on_request_only() -> None:
    loops = [(s, t) for s, t, _ in state_arrows(alert_state_diagram(self_loops=True)) if s == t]
    assert sorted(set(loops)) == [(s.value, s.value) for s in sorted(AlertStatus)]
    assert not [s for s, t, _ in state_arrows(alert_state_diagram()) if s == t]


def test_current_status_is_highlighted_and_labels_are_safe() -> None:
    diagram = alert_state_diagram("pending")
    assert "    class pending current" in diagram.source.splitlines()
    assert not re.search(r"^    class \w+ current$", alert_state_diagram().source, re.MULTILINE)
    for _, _, label in state_arrows(diagram):
        assert label is None or not UNSAFE & set(label)
    with pytest.raises(ValueError, match="silenced"):
        alert_state_diagram("silenced")


# ----------------------------------------------------------------------------- the page


def sample_page() -> str:
    registry = CollectorRegistry()
    requests = Counter("demo_requests", "Requests", ["method", "route"], registry=registry)
    requests.labels(method="GET", route="/a/{id}").inc(3)
    requests.labels(method="POST", route="/a/{id}").inc(2)
    requests.labels(method="GET", route="/b").inc(5)
    latency = Histogram("demo_seconds", "Latency", ["route"], buckets=(0.1, 0.5), registry=registry)
    for seconds in (0.05, 0.2, 0.3, 2.0):
        latency.labels(route="/a/{id}").observe(seconds)
    latency.labels(route="/b").observe(0.01)
    Gauge("process_demo_bytes", "Memory", registry=registry).set(7)
    stored = CollectorRegistry()
    row = {"name": "shop_orders", "metric_type": "gauge", "labels": {}, "value": 4}
    rows = [type("Row", (), row)]
    stored.register(StoredMetrics(rows, []))
    return (generate_latest(registry) + generate_latest(stored)).decode()


def test_values_are_summed_over_the_matching_series() -> None:
    page = Scrape.parse(sample_page())
    assert page.value("demo_requests_total") == 10
    assert page.value("demo_requests_total", route="/a/{id}") == 5
    assert page.value("demo_requests_total", method="GET", route="/b") == 5
    assert page.value("demo_requests_total", route="/nope") == 0
    assert page.value("shop_orders") == 4


def test_series_and_buckets() -> None:
    page = Scrape.parse(sample_page())
    assert page.series("demo_seconds") == [{"route": "/a/{id}"}, {"route": "/b"}]
    assert page.buckets("demo_seconds", route="/a/{id}") == [(0.1, 1), (0.5, 3), (float("inf"), 4)]
    assert page.buckets("demo_seconds") == [(0.1, 2), (0.5, 4), (float("inf"), 5)]
    assert page.buckets("no_such_family") == [] and page.series("no_such_family") == []


def test_table_names_each_family_and_what_fills_it() -> None:
    table = Scrape.parse(sample_page()).table()
    rows = {row["family"]: row for row in table.rows}
    assert rows["demo_requests"]["type"] == "counter" and rows["demo_requests"]["series"] == 3
    assert rows["demo_seconds"]["samples"] == 2 * 5  # 3 buckets + count + sum, per series
    assert rows["process_demo_bytes"]["group"] == "runtime"
    assert rows["shop_orders"]["group"] == "stored"
    assert rows["demo_requests"]["group"] == "other"
    assert "demo_requests" in repr(table) and "<td" in table._repr_html_()
    assert len(Scrape.parse(sample_page()).table(keep=lambda f: f.type == "histogram")) == 1


@pytest.mark.parametrize(
    ("q", "expected"),
    [(0.0, 0.0), (0.25, 0.1), (0.5, 0.3), (0.75, 0.5), (0.9, 0.5), (1.0, 0.5)],
)
def test_bucket_quantile_interpolates_like_promql(q: float, expected: float) -> None:
    buckets = [(0.1, 10.0), (0.5, 30.0), (float("inf"), 40.0)]  # out of order on purpose below
    assert bucket_quantile(list(reversed(buckets)), q) == pytest.approx(expected)


def test_bucket_quantile_edges() -> None:
    assert bucket_quantile([], 0.5) is None
    assert bucket_quantile([(0.1, 0.0), (float("inf"), 0.0)], 0.5) is None
    assert bucket_quantile([(0.2, 4.0), (float("inf"), 4.0)], 0.5) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="between 0 and 1"):
        bucket_quantile([(0.1, 1.0)], 1.5)


def test_the_prometheus_route_is_found_by_its_handler(settings: Settings) -> None:
    assert prometheus_route(create_app(settings)) == "/api/v1/monitoring/metrics/prometheus"
    with pytest.raises(LookupError):
        prometheus_route(FastAPI())


def test_architecture_shows_every_group_and_each_target() -> None:
    page = Scrape.parse(sample_page())
    diagram = prometheus_architecture(
        page, endpoint="/metrics", targets=["http://a:1/metrics", "http://b:2/metrics"]
    ).source
    assert diagram.startswith("graph LR\n")
    for group in ("other", "runtime", "stored"):
        assert f"<b>{group}</b>" in diagram
    assert "demo_requests (counter)" in diagram
    assert "_created" not in diagram  # studypath turns those series off
    assert "target: http://a:1/metrics" in diagram and "target: http://b:2/metrics" in diagram
    assert "db -.->|read per scrape|" in diagram  # the stored family comes from the database
    assert "evaluator" not in diagram
    nodes = re.findall(r"^        (g\d+)\[", diagram, re.MULTILINE)
    assert all(f"    {node} --> page" in diagram for node in nodes)
    with_evaluator = prometheus_architecture(page, endpoint="/m", targets=[], evaluator_seconds=15)
    assert "every 15 s" in with_evaluator.source


async def test_the_live_page_parses(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/health/live")
    page = Scrape.parse((await client.get("/api/v1/monitoring/metrics/prometheus")).text)
    route = {"method": "GET", "route": "/api/v1/health/live"}
    assert page.value("studypath_http_requests_total", **route) >= 1
    assert page.buckets("studypath_http_request_duration_seconds", **route)[-1][1] >= 1
    groups = {row["family"]: row["group"] for row in page.table().rows}
    assert groups["studypath_http_requests"] == "HTTP"
    assert groups["studypath_queue_depth"] == "queue"
    assert groups["studypath_circuit_breaker_state"] == "breakers"


# ----------------------------------------------------------------------------- data flow

TABLES = {"events", "metrics", "alerts", "sessions", "users"}


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("INSERT INTO events (a) VALUES (1) RETURNING events.id", [("insert", "events")]),
        ("UPDATE alerts SET status = 'ok' WHERE id = 1", [("update", "alerts")]),
        ("DELETE FROM metrics WHERE recorded_at < now()", [("delete", "metrics")]),
        (
            "SELECT * FROM sessions JOIN users ON users.id = sessions.user_id",
            [("select", "sessions"), ("select", "users")],
        ),
        (
            "SELECT extract(epoch FROM max(recorded_at)) FROM metrics WHERE name = 'x'",
            [("select", "metrics")],
        ),
        ("SELECT count(*) FROM (SELECT events.id FROM events) AS anon_1", [("select", "events")]),
        ("SELECT pg_try_advisory_xact_lock(1)", []),
        ("SELECT * FROM not_ours", []),
    ],
)
def test_statement_tables(statement: str, expected: list[tuple[str, str]]) -> None:
    assert statement_tables(statement, TABLES) == expected


def make_spans() -> list[ReadableSpan]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")

    def sql(statement: str) -> None:
        attributes = {"db.system": "postgresql", "db.statement": statement}
        with tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT, attributes=attributes):
            pass

    with tracer.start_as_current_span("POST /events", kind=SpanKind.SERVER):
        with tracer.start_as_current_span("auth", attributes={LAYER: "auth"}):
            sql("SELECT * FROM sessions JOIN users ON users.id = sessions.user_id")
        with tracer.start_as_current_span("monitoring.create_event", attributes={LAYER: "service"}):
            sql("INSERT INTO events (source) VALUES ('client')")
            sql("SELECT events.id FROM events WHERE events.id = 1")
    with tracer.start_as_current_span("GET /events", kind=SpanKind.SERVER):
        sql("SELECT events.id FROM events")
    with tracer.start_as_current_span("evaluation round", kind=SpanKind.CONSUMER):
        sql("SELECT avg(value) FROM metrics WHERE name = 'latency'")
        sql("UPDATE alerts SET status = 'firing'")
    with tracer.start_as_current_span(
        "retention", kind=SpanKind.SERVER, attributes={LAYER: "task"}
    ):
        sql("DELETE FROM events WHERE recorded_at < now()")
    return list(exporter.get_finished_spans())


def test_data_flow_draws_writes_reads_and_both() -> None:
    diagram = data_flow_diagram(TraceView(make_spans()), tables=TABLES).source.splitlines()
    assert diagram[0] == "graph LR"
    assert '    r0["POST /events"]' in diagram
    assert "    r0 <-->|insert, select| t_events" in diagram
    assert "    t_events -.->|select| r1" in diagram
    assert '    r2(["evaluation round"])' in diagram  # a background round: its own shape
    assert "    t_metrics -.->|select| r2" in diagram
    assert "    r2 -->|update| t_alerts" in diagram
    assert '    r3(["retention"])' in diagram  # background work run as a traced unit
    assert "    r3 -->|delete| t_events" in diagram
    assert not [line for line in diagram if "sessions" in line or "users" in line]


def test_data_flow_can_keep_the_credential_check() -> None:
    diagram = data_flow_diagram(TraceView(make_spans()), tables=TABLES, skip_layers=()).source
    assert "t_sessions -.->|select| r0" in diagram and "t_users -.->|select| r0" in diagram


def test_data_flow_defaults_to_the_schema_tables() -> None:
    diagram = data_flow_diagram(TraceView(make_spans())).source
    assert "t_events" in diagram and "t_alerts" in diagram


# ----------------------------------------------------------------------------- timelines


def test_events_table_orders_events_on_one_axis() -> None:
    events: list[dict[str, Any]] = [
        {"recorded_at": "2030-01-01T00:00:02.5Z", "source": "incidents", "level": "info",
         "message": "updated"},
        {"recorded_at": "2030-01-01T00:00:00Z", "source": "alerts", "level": "warn",
         "message": "ok → pending"},
        {"recorded_at": datetime(2030, 1, 1, 0, 0, 1), "source": "alerts", "level": "error",
         "message": "pending → firing"},
    ]  # fmt: skip
    table = events_table(events)
    assert table.column("at") == ["+0.00 s", "+1.00 s", "+2.50 s"]
    assert table.column("message") == ["ok → pending", "pending → firing", "updated"]
    later = events_table(events, origin="2029-12-31T23:59:59Z")
    assert later.column("at")[0] == "+1.00 s"
    assert events_table([]).rows == [] and repr(Table([])) == "(no rows)"


# ----------------------------------------------------------------------------- wb.trace()


def test_a_collection_keeps_only_spans_that_began_inside_it() -> None:
    store = SpanStore()
    provider = TracerProvider()
    provider.add_span_processor(store)
    tracer = provider.get_tracer("test")

    earlier = tracer.start_span("began before", kind=SpanKind.SERVER)
    with store.collect(settle=0.5) as collection:
        earlier.end()  # e.g. the previous cell's request, ending its span just now
        with tracer.start_as_current_span("inside", kind=SpanKind.SERVER):
            pass
    assert [span.name for span in collection.spans] == ["inside"]
    assert [span.name for span in store.spans] == ["began before", "inside"]
