"""Traces drawn from real spans: a sequence diagram and a timing table.

    with wb.trace() as t:
        wb.admin().get("/api/v1/tasks")
    t.sequence_diagram()     # Client → API → Auth → Handler → Service → Database and back
    t.table()                # every span with its start offset and duration

Participants come from each span's `studypath.layer` attribute (SQL spans from the
SQLAlchemy instrumentation are the Database). A task's span belongs to the trace of the
request that created it; it is drawn after that request, as the Worker picking it up.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, ClassVar

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from studypath.telemetry.tracing import LAYER
from studypath.viz.mermaid import Mermaid, escape, mermaid
from studypath.viz.table import Table

PARTICIPANTS = {
    "client": "Client",
    "api": "API",
    "auth": "Auth",
    "handler": "Handler",
    "service": "Service",
    "database": "Database",
    "task": "Worker",
}
ORDER = list(PARTICIPANTS)


def layer_of(span: ReadableSpan) -> str:
    attributes = span.attributes or {}
    layer = attributes.get(LAYER)
    if isinstance(layer, str):
        return layer
    if "db.system" in attributes or "db.system.name" in attributes:
        return "database"
    return "api" if span.kind is SpanKind.SERVER else "service"


def _label(span: ReadableSpan) -> str:
    attributes = span.attributes or {}
    statement = attributes.get("db.statement") or attributes.get("db.query.text")
    if isinstance(statement, str):
        return " ".join(statement.split())
    return span.name


def _ms(nanoseconds: int) -> float:
    return nanoseconds / 1_000_000


@dataclass
class TraceView:
    """The spans one `wb.trace()` block collected."""

    spans: list[ReadableSpan] = field(default_factory=list)

    def _children(self) -> dict[int | None, list[ReadableSpan]]:
        ids = {span.context.span_id for span in self.spans if span.context}
        children: dict[int | None, list[ReadableSpan]] = defaultdict(list)
        for span in sorted(self.spans, key=lambda s: s.start_time or 0):
            parent = span.parent.span_id if span.parent is not None else None
            children[parent if parent in ids else None].append(span)
        return children

    def roots(self) -> list[ReadableSpan]:
        """Requests and tasks: spans whose parent is not among the collected ones."""
        return self._children()[None]

    def table(self) -> TraceTable:
        """Every span: where it sits in its tree, when it started, how long it took."""
        if not self.spans:
            return TraceTable([])
        start = min(span.start_time or 0 for span in self.spans)
        children = self._children()
        rows: list[dict[str, Any]] = []

        def visit(span: ReadableSpan, depth: int) -> None:
            rows.append(
                {
                    "span": "  " * depth + _label(span)[:90],
                    "layer": PARTICIPANTS.get(layer_of(span), layer_of(span)),
                    "start_ms": round(_ms((span.start_time or 0) - start), 2),
                    "duration_ms": round(_ms((span.end_time or 0) - (span.start_time or 0)), 2),
                    "trace": format(span.context.trace_id, "032x")[:8] if span.context else "",
                }
            )
            for child in children.get(span.context.span_id if span.context else None, []):
                visit(child, depth + 1)

        for root in children[None]:
            visit(root, 0)
        return TraceTable(rows)

    def sequence_diagram(self, *, max_sql: int = 60) -> Mermaid:
        """A mermaid sequence diagram of what really happened, call by call."""
        children = self._children()
        used: set[str] = set()
        lines: list[str] = []

        def arrow(source: str, target: str, text: str, reply: bool = False) -> None:
            used.update((source, target))
            kind = "-->>" if reply else "->>"
            lines.append(f"    {PARTICIPANTS[source]}{kind}{PARTICIPANTS[target]}: {text}")

        def visit(span: ReadableSpan, caller: str) -> None:
            layer = layer_of(span)
            arrow(caller, layer, escape(_label(span), max_sql))
            for child in children.get(span.context.span_id if span.context else None, []):
                if child.kind is SpanKind.CONSUMER:
                    continue  # the task runs later, on a worker: drawn after the request
                visit(child, layer)
            duration = _ms((span.end_time or 0) - (span.start_time or 0))
            reply = f"{duration:.1f} ms"
            status = (span.attributes or {}).get("http.response.status_code") or (
                span.attributes or {}
            ).get("http.status_code")
            if status is not None:
                reply = f"{status} ({duration:.1f} ms)"
            arrow(layer, caller, reply, reply=True)

        tasks = [span for span in self.spans if span.kind is SpanKind.CONSUMER]
        for root in children[None]:
            if root.kind is not SpanKind.CONSUMER:
                visit(root, "client")
        for task in sorted(tasks, key=lambda s: s.start_time or 0):
            lines.append(f"    Note over Worker: picks up {escape(task.name, 60)}")
            used.add("task")
            for child in children.get(task.context.span_id if task.context else None, []):
                visit(child, "task")
            duration = _ms((task.end_time or 0) - (task.start_time or 0))
            lines.append(f"    Note over Worker: done in {duration:.1f} ms")
        header = ["sequenceDiagram"] + [
            f"    participant {PARTICIPANTS[name]}" for name in ORDER if name in used
        ]
        return mermaid("\n".join(header + lines))


@dataclass(repr=False)
class TraceTable(Table):
    """Rows of span timings; shows as an HTML table in a notebook (cells as they are, white
    space kept: the span column is indented by depth)."""

    EMPTY: ClassVar[str] = "(no spans)"
    CELL_STYLE: ClassVar[str] = "text-align:left;white-space:pre"

    def cell(self, value: Any) -> str:
        return str(value)

    def __repr__(self) -> str:
        lines = [
            f"{r['start_ms']:>9.2f} ms {r['duration_ms']:>8.2f} ms  {r['layer']:<8} {r['span']}"
            for r in self.rows
        ]
        return "\n".join(lines) or self.EMPTY
