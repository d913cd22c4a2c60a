"""Tracing with OpenTelemetry: every request and every task becomes a tree of spans.

    HTTP request (server span, asgi instrumentation)
      ├─ auth          (the credential check, studypath.auth.dependencies)
      └─ handler       (the route function, `TracedRoute`)
           └─ service  (`@traced` service functions)
                └─ SQL (sqlalchemy instrumentation)
    task <type>        (the worker, a child of the request that created the task)

Finished spans are kept in memory (`SPANS`) so a notebook can draw them; when
`STUDYPATH_OTLP_ENDPOINT` is set they are also exported over OTLP/HTTP. Only requests start
traces: background chatter — the worker's polling SQL, heartbeats, tasks queued without a
request — is not recorded.

Tracing costs nothing when nobody looks. Which requests are recorded is the sampler's choice
(`RequestsStartTraces`): every one while a notebook collects (`wb.trace()`, `SPANS.collect`),
otherwise a configurable share (`STUDYPATH_TRACE_SAMPLE_RATIO`; by default none, or all when
an OTLP exporter is configured). SQL statements become spans only while a notebook collects:
statement spans are what makes a trace expensive, and what only a diagram needs.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, ParamSpec, TypeVar

from fastapi import APIRouter
from fastapi.routing import APIRoute
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Span, SpanKind
from starlette.types import ASGIApp, Receive, Scope, Send

from studypath.core.routing import API_PREFIX
from studypath.version import __version__

P = ParamSpec("P")
R = TypeVar("R")

# What each span is, for diagrams: set as attribute `studypath.layer`.
LAYER = "studypath.layer"

tracer = trace.get_tracer("studypath", __version__)


# What the store keeps: the last spans (for a look after the fact), and per collection at
# most what a notebook's diagram or table can show.
RECENT_SPANS = 1_000
COLLECTION_SPANS = 10_000


class Collection:
    """Spans collected by `SpanStore.collect()`: those started and ended meanwhile (at most
    `capacity`; later ones are dropped, counted in `dropped`)."""

    def __init__(self, capacity: int = COLLECTION_SPANS) -> None:
        self.capacity = capacity
        self.started: set[int] = set()
        self.spans: list[ReadableSpan] = []
        self.dropped = 0

    def add(self, span: ReadableSpan) -> None:
        if len(self.spans) < self.capacity:
            self.spans.append(span)
        else:
            self.dropped += 1

    @property
    def open_spans(self) -> int:
        ended = {span.context.span_id for span in self.spans if span.context is not None}
        return len(self.started - ended)


class SpanStore(SpanProcessor):
    """Keeps the last finished spans in memory, and hands them to open collections.

    `collecting` is true while any collection is open: the sampler then records every
    request, and SQL statements become spans."""

    def __init__(self, capacity: int = RECENT_SPANS) -> None:
        self.spans: deque[ReadableSpan] = deque(maxlen=capacity)
        self._collections: list[Collection] = []
        self._lock = threading.Lock()
        self.collecting = False

    def on_start(self, span: Any, parent_context: Context | None = None) -> None:
        if not self.collecting:
            return
        with self._lock:
            for collection in self._collections:
                collection.started.add(span.context.span_id)

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self.spans.append(span)
            for collection in self._collections:
                if span.context is not None and span.context.span_id in collection.started:
                    collection.add(span)  # not one that began before the block

    @contextmanager
    def collect(self, settle: float = 2.0) -> Iterator[Collection]:
        """Every span that starts inside the `with` block (from any thread of this process).

        On exit it waits up to `settle` seconds for spans that started inside the block to
        end (a request's span ends just after its response was sent)."""
        collection = Collection()
        with self._lock:
            self._collections.append(collection)
            self.collecting = True
        try:
            yield collection
            deadline = time.monotonic() + settle
            while collection.open_spans and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            with self._lock:
                self._collections.remove(collection)
                self.collecting = bool(self._collections)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


class RequestsStartTraces(Sampler):
    """Only a request (a server span) starts a trace. Everything else is recorded only as
    part of one — a task continues the trace of the request that created it — so the
    worker's own chatter (polling, heartbeats, tasks queued without a request) costs no
    spans.

    Which requests: all of them while `store` collects (a notebook's `wb.trace()` block),
    otherwise the share `ratio` (0: none, 1: all), chosen by trace id so every process that
    sees the trace makes the same choice."""

    def __init__(self, ratio: float = 0.0, store: SpanStore | None = None) -> None:
        self.ratio = ratio
        self.store = store
        self._by_ratio = TraceIdRatioBased(ratio)

    def should_sample(  # type: ignore[no-untyped-def]
        self,
        parent_context,
        trace_id,
        name,
        kind=None,
        attributes=None,
        links=None,
        trace_state=None,
    ) -> SamplingResult:
        if kind is not SpanKind.SERVER:
            return _DROP
        if self.store is not None and self.store.collecting:
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)
        return self._by_ratio.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"RequestsStartTraces(ratio={self.ratio:g})"


_DROP = SamplingResult(Decision.DROP)

SPANS = SpanStore()
_setup_lock = threading.Lock()
_configured = False
_sample_ratio = 0.0  # as set up: the share of requests recorded while nobody collects


def sample_ratio(configured: float | None, otlp_endpoint: str | None) -> float:
    """The share of requests traced when no notebook collects: as configured, else all of
    them when spans are exported (someone looks at them), none when they are not."""
    if configured is not None:
        return configured
    return 1.0 if otlp_endpoint else 0.0


def setup_tracing(otlp_endpoint: str | None = None, sample_ratio: float = 0.0) -> None:
    """Install the tracer provider and the SQLAlchemy instrumentation (once per process).

    `sample_ratio`: the share of requests recorded while no notebook collects."""
    global _configured, _sample_ratio
    with _setup_lock:
        if _configured:
            return
        _sample_ratio = sample_ratio
        provider = TracerProvider(
            resource=Resource.create({"service.name": "studypath", "service.version": __version__}),
            sampler=ParentBased(root=RequestsStartTraces(sample_ratio, SPANS)),
        )
        provider.add_span_processor(SPANS)
        if otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(
                BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint))
            )
        trace.set_tracer_provider(provider)
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        # Wraps create_async_engine: every engine made from now on traces its statements.
        # skip_dep_check: its version pin lags SQLAlchemy 2.1, whose event API it uses unchanged.
        SQLAlchemyInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
        _statement_spans_only_while_collecting()
        _configured = True


def _statement_spans_only_while_collecting() -> None:
    """Make the SQLAlchemy instrumentation start its spans (a `connect` per checkout, one per
    statement) only while a notebook collects: otherwise each would still pay for its
    attributes and a non-recording span. Patched on the instrumented classes, once."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from sqlalchemy.engine.base import Engine

    record: Callable[..., tuple[Any, Any]] = EngineTracer._before_cur_exec
    if getattr(record, "_studypath_gated", False):
        return

    def before_cursor_execute(
        self: Any, conn: Any, cursor: Any, statement: Any, params: Any, context: Any, many: bool
    ) -> tuple[Any, Any]:
        if not SPANS.collecting:
            return statement, params
        return record(self, conn, cursor, statement, params, context, many)

    before_cursor_execute._studypath_gated = True  # type: ignore[attr-defined]
    EngineTracer._before_cur_exec = before_cursor_execute  # type: ignore[method-assign]

    traced_connect: Any = Engine.connect  # the instrumentation's wrapper of the original
    plain_connect = getattr(traced_connect, "__wrapped__", traced_connect)

    def connect(self: Engine) -> Any:
        chosen = traced_connect if SPANS.collecting else plain_connect
        return chosen.__get__(self, Engine)()

    Engine.connect = connect  # type: ignore[method-assign]


def may_record(scope: Scope) -> bool:
    """Whether the sampler could record this request: a notebook collects, a share of
    requests is sampled, or the caller sent a trace context (whose sampled flag the
    parent-based sampler follows)."""
    if SPANS.collecting or _sample_ratio > 0:
        return True
    return any(name == b"traceparent" for name, _ in scope.get("headers", ()))


class SampledTracingMiddleware:
    """OpenTelemetry's ASGI middleware, skipped for a request the sampler would not record
    anyway: its span, attributes and wrapped `send` cost a quarter of a cheap request."""

    def __init__(self, app: ASGIApp, /, **options: Any) -> None:
        self.untraced = app
        # As `app`: FastAPI looks for OpenTelemetry's middleware along the `.app` chain and,
        # finding it, does not record a second, native span of each request.
        self.app = OpenTelemetryMiddleware(app, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not may_record(scope):
            await self.untraced(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def span_if_recording(
    name: str, attributes: dict[str, Any] | None = None
) -> AbstractContextManager[Span]:
    """A child span of the current one, or — when nothing is being recorded — a no-op span
    without starting one (the sampler would drop it: only requests start traces)."""
    if not trace.get_current_span().is_recording():
        return nullcontext(trace.INVALID_SPAN)
    return tracer.start_as_current_span(name, attributes=attributes)


def _domain(module: str) -> str:
    """`studypath.users.service` → `users`; a module outside the package keeps its own name."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "studypath" else parts[-1]


def traced(func: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Decorator for service functions: one span per call, named `domain.function`."""
    name = f"{_domain(func.__module__)}.{func.__name__}"

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with span_if_recording(name, {LAYER: "service"}):
            return await func(*args, **kwargs)

    return wrapper


class TracedRoute(APIRoute):
    """An APIRoute whose endpoint runs in a `handler` span (after its dependencies ran)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        name = f"handler {_domain(endpoint.__module__)}.{endpoint.__name__}"

        @functools.wraps(endpoint)
        async def traced_endpoint(*args: Any, **kw: Any) -> Any:
            with span_if_recording(name, {LAYER: "handler"}):
                return await endpoint(*args, **kw)

        super().__init__(path, traced_endpoint, **kwargs)


def traced_router(name: str) -> APIRouter:
    """The router of one part of the API: its routes under `/api/v1/<name>`, grouped under
    the tag `name` in the OpenAPI document, each endpoint run in a `handler` span."""
    return APIRouter(prefix=f"{API_PREFIX}/{name}", tags=[name], route_class=TracedRoute)


def current_context_carrier() -> dict[str, str]:
    """The current trace context as W3C headers (stored with a task, to continue its trace);
    empty when nothing is being recorded (no request started a sampled trace), so the task
    does not pay for spans that nobody keeps."""
    carrier: dict[str, str] = {}
    if trace.get_current_span().get_span_context().trace_flags.sampled:
        inject(carrier)
    return carrier


def context_from(carrier: dict[str, str] | None) -> Context | None:
    return extract(carrier) if carrier else None


__all__ = [
    "COLLECTION_SPANS",
    "LAYER",
    "RECENT_SPANS",
    "SPANS",
    "Collection",
    "RequestsStartTraces",
    "SampledTracingMiddleware",
    "SpanStore",
    "TracedRoute",
    "context_from",
    "current_context_carrier",
    "may_record",
    "sample_ratio",
    "setup_tracing",
    "span_if_recording",
    "traced",
    "traced_router",
    "tracer",
]
