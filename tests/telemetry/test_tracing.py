"""Tracing: a request becomes a tree of spans (API → auth → handler → service → SQL), a task
continues the trace of the request that created it, and the diagrams are drawn from them."""

from __future__ import annotations

import asyncio
from typing import cast

import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.config import Settings
from studypath.core.clock import poll_until_async
from studypath.core.db import Database
from studypath.telemetry.tracing import (
    SPANS,
    Collection,
    RequestsStartTraces,
    SpanStore,
    may_record,
    sample_ratio,
)
from studypath.testing.server import running_system
from studypath.viz.traces import TraceView, layer_of
from tests.support.accounts import signed_in
from tests.support.tasking import make_registry, prepare, wait_status, work_env


def tree(view: TraceView, root: ReadableSpan) -> list[tuple[int, str, str]]:
    """(depth, layer, name) in visiting order, SQL statements reduced to their verb."""
    children: dict[int, list[ReadableSpan]] = {}
    for span in sorted(view.spans, key=lambda s: s.start_time or 0):
        if span.parent is not None:
            children.setdefault(span.parent.span_id, []).append(span)
    out: list[tuple[int, str, str]] = []

    def visit(span: ReadableSpan, depth: int) -> None:
        layer = layer_of(span)
        name = span.name.split()[0] if layer == "database" else span.name
        out.append((depth, layer, name))
        for child in children.get(span.context.span_id, []):
            visit(child, depth + 1)

    visit(root, 0)
    return out


async def collect(action: object) -> TraceView:
    view = TraceView()
    with SPANS.collect() as collection:
        await action  # type: ignore[misc]

        async def all_ended() -> bool:  # the server ends a request's span after the response
            return not collection.open_spans

        await poll_until_async(all_ended, within=5, every=0.01, what="the spans to end")
    view.spans = list(collection.spans)
    return view


async def test_a_request_is_a_tree_of_spans(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = await signed_in(client, session)
    view = await collect(client.get("/api/v1/users/me/profile", headers=headers))

    [root] = [span for span in view.roots() if span.kind is SpanKind.SERVER]
    assert root.name == "GET /api/v1/users/me/profile"  # the route, not the raw path
    shape = tree(view, root)
    layers = [layer for _, layer, _ in shape]
    assert layers[0] == "api"
    assert (1, "auth", "auth") in shape
    assert (1, "handler", "handler users.get_own_profile") in shape
    auth_sql = shape[shape.index((1, "auth", "auth")) + 1 :]
    assert any(depth == 2 and layer == "database" for depth, layer, _ in auth_sql)


async def test_route_templates_name_spans_not_ids(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = await signed_in(client, session)
    view = await collect(
        client.get("/api/v1/users/00000000-0000-4000-8000-000000000000", headers=headers)
    )
    names = [span.name for span in view.roots()]
    assert names == ["GET /api/v1/users/{user_id}"]
    assert view.roots()[0].attributes["http.route"] == "/api/v1/users/{user_id}"  # type: ignore[index]


async def test_service_calls_and_their_sql_are_spans(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = await signed_in(client, session)
    view = await collect(
        client.put("/api/v1/users/me/profile", json={"username": "alice2"}, headers=headers)
    )
    [root] = view.roots()
    shape = tree(view, root)
    service = (2, "service", "users.update_profile")
    assert service in shape
    after = shape[shape.index(service) + 1 :]
    assert after[0][0] == 3 and after[0][1] == "database"
    assert any(name == "UPDATE" for _, _, name in after)


async def test_the_session_lookup_on_psycopg_is_a_sql_span_like_the_engines(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = await signed_in(client, session)
    view = await collect(client.get("/api/v1/auth/me", headers=headers))
    statements = [
        str((span.attributes or {}).get("db.statement", ""))
        for span in view.spans
        if layer_of(span) == "database"
    ]
    assert any("FROM sessions JOIN users" in statement for statement in statements), statements


async def test_background_sql_starts_no_trace(settings: Settings, db: Database) -> None:
    await prepare(db)
    async with running_system(settings, workers=1, registry=make_registry()):
        view = await collect(asyncio.sleep(1.0))  # a second of polling and heartbeats
    assert view.spans == []


async def test_a_task_continues_the_trace_of_its_request(
    settings: Settings, db: Database, session: AsyncSession
) -> None:
    async with work_env(settings, db, session) as env:
        view = TraceView()
        with SPANS.collect() as collection:
            created = await env.create({"tag": "t"})
            await wait_status(db, created["id"], "completed")
        view.spans = list(collection.spans)

    request = next(s for s in view.spans if s.kind is SpanKind.SERVER)
    task = next(s for s in view.spans if s.kind is SpanKind.CONSUMER)
    assert task.name == "task work"
    assert task.context.trace_id == request.context.trace_id
    assert task.attributes["studypath.task_id"] == created["id"]  # type: ignore[index]
    task_sql = [s for s in view.spans if s.parent and s.parent.span_id == task.context.span_id]
    assert task_sql, "the handler's own SQL belongs to the task span"

    diagram = view.sequence_diagram().source
    participants = [line.split()[-1] for line in diagram.splitlines() if "participant" in line]
    assert participants == ["Client", "API", "Auth", "Handler", "Service", "Database", "Worker"]
    assert "Client->>API: POST /api/v1/tasks" in diagram
    assert "Handler->>Service: tasks.create_task" in diagram
    assert "Note over Worker: picks up task work" in diagram
    assert diagram.index("API-->>Client: 200") < diagram.index("picks up task work")

    table = view.table()
    assert table.rows[0]["span"] == "POST /api/v1/tasks"
    assert any(row["layer"] == "Worker" for row in table.rows)


def test_sample_ratio_defaults_to_none_unless_spans_are_exported() -> None:
    assert sample_ratio(None, None) == 0.0
    assert sample_ratio(None, "http://localhost:4318/v1/traces") == 1.0
    assert sample_ratio(0.25, None) == 0.25


def _decision(sampler: RequestsStartTraces, kind: SpanKind = SpanKind.SERVER) -> Decision:
    return sampler.should_sample(
        None, 0x1234_5678_9ABC_DEF0_1234_5678_9ABC_DEF0, "GET", kind
    ).decision


def test_requests_are_not_recorded_when_nobody_collects() -> None:
    store = SpanStore()
    assert _decision(RequestsStartTraces(0.0, store)) is Decision.DROP
    assert _decision(RequestsStartTraces(1.0, store)) is Decision.RECORD_AND_SAMPLE


def test_every_request_is_recorded_while_a_notebook_collects() -> None:
    store = SpanStore()
    sampler = RequestsStartTraces(0.0, store)
    with store.collect(settle=0):
        assert _decision(sampler) is Decision.RECORD_AND_SAMPLE
        assert _decision(sampler, SpanKind.CLIENT) is Decision.DROP, "only requests start traces"
    assert _decision(sampler) is Decision.DROP


def test_a_collection_keeps_at_most_its_capacity() -> None:
    collection = Collection(capacity=2)
    for _ in range(3):
        collection.add(cast(ReadableSpan, object()))
    assert len(collection.spans) == 2
    assert collection.dropped == 1


async def test_sql_is_not_traced_while_nobody_collects(settings: Settings) -> None:
    """A statement outside `collect()` starts no span, even inside a sampled trace (one an
    OTLP exporter would keep): statement spans are for notebooks' diagrams."""
    sampled_parent = NonRecordingSpan(
        SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    )
    async with running_system(settings) as system:
        assert system.db is not None
        recent = list(SPANS.spans)
        with trace.use_span(sampled_parent):
            async with system.db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        assert [span.name for span in SPANS.spans if span not in recent] == []


def test_only_requests_the_sampler_may_record_pay_for_the_tracing_middleware() -> None:
    scope: dict[str, object] = {"type": "http", "headers": [(b"accept", b"*/*")]}
    assert not may_record(scope)
    assert may_record({**scope, "headers": [(b"traceparent", b"00-" + b"1" * 32 + b"-01")]})
    with SPANS.collect(settle=0):
        assert may_record(scope)
