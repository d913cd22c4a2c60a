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
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from fastapi.routing import APIRoute
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import SpanKind

from studypath import __version__

P = ParamSpec("P")
R = TypeVar("R")

# What each span is, for diagrams: set as attribute `studypath.layer`.
LAYER = "studypath.layer"

tracer = trace.get_tracer("studypath", __version__)


class Collection:
    """Spans collected by `SpanStore.collect()`: those started and ended meanwhile."""

    def __init__(self) -> None:
        self.started: set[int] = set()
        self.spans: list[ReadableSpan] = []

    @property
    def open_spans(self) -> int:
        ended = {span.context.span_id for span in self.spans if span.context is not None}
        return len(self.started - ended)


class SpanStore(SpanProcessor):
    """Keeps the last finished spans in memory, and hands them to open collections."""

    def __init__(self, capacity: int = 20_000) -> None:
        self.spans: deque[ReadableSpan] = deque(maxlen=capacity)
        self._collections: list[Collection] = []
        self._lock = threading.Lock()

    def on_start(self, span: Any, parent_context: Context | None = None) -> None:
        with self._lock:
            for collection in self._collections:
                collection.started.add(span.context.span_id)

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self.spans.append(span)
            for collection in self._collections:
                if span.context is not None and span.context.span_id in collection.started:
                    collection.spans.append(span)  # not one that began before the block

    @contextmanager
    def collect(self, settle: float = 2.0) -> Iterator[Collection]:
        """Every span that starts inside the `with` block (from any thread of this process).

        On exit it waits up to `settle` seconds for spans that started inside the block to
        end (a request's span ends just after its response was sent)."""
        collection = Collection()
        with self._lock:
            self._collections.append(collection)
        try:
            yield collection
            deadline = time.monotonic() + settle
            while collection.open_spans and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            with self._lock:
                self._collections.remove(collection)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


class RequestsStartTraces(Sampler):
    """Only a request (a server span) starts a trace. Everything else is recorded only as
    part of one — a task continues the trace of the request that created it — so the
    worker's own chatter (polling, heartbeats, tasks queued without a request) costs no
    spans."""

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
        if kind is SpanKind.SERVER:
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)
        return SamplingResult(Decision.DROP)

    def get_description(self) -> str:
        return "RequestsStartTraces"


SPANS = SpanStore()
_setup_lock = threading.Lock()
_configured = False


def setup_tracing(otlp_endpoint: str | None = None) -> None:
    """Install the tracer provider and the SQLAlchemy instrumentation (once per process)."""
    global _configured
    with _setup_lock:
        if _configured:
            return
        provider = TracerProvider(
            resource=Resource.create({"service.name": "studypath", "service.version": __version__}),
            sampler=ParentBased(root=RequestsStartTraces()),
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
        _configured = True


def _domain(module: str) -> str:
    """`studypath.users.service` → `users`; a module outside the package keeps its own name."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "studypath" else parts[-1]


def traced(func: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Decorator for service functions: one span per call, named `domain.function`."""
    name = f"{_domain(func.__module__)}.{func.__name__}"

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with tracer.start_as_current_span(name, attributes={LAYER: "service"}):
            return await func(*args, **kwargs)

    return wrapper


class TracedRoute(APIRoute):
    """An APIRoute whose endpoint runs in a `handler` span (after its dependencies ran)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        name = f"handler {_domain(endpoint.__module__)}.{endpoint.__name__}"

        @functools.wraps(endpoint)
        async def traced_endpoint(*args: Any, **kw: Any) -> Any:
            with tracer.start_as_current_span(name, attributes={LAYER: "handler"}):
                return await endpoint(*args, **kw)

        super().__init__(path, traced_endpoint, **kwargs)


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
