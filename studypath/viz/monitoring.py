"""Pictures of monitoring, generated from the code and from the live system.

- `alert_transitions` asks `studypath.monitoring.alerts.next_status` what it does for every
  status and every kind of evaluation; `alert_state_diagram` draws the answers;
- `Scrape` is one Prometheus page, parsed: look values up, tabulate the families, read a
  histogram's buckets (`bucket_quantile` estimates a quantile from them, as PromQL does);
- `prometheus_architecture` draws where the page's families come from and who scrapes it;
- `data_flow_diagram` draws which requests (and background rounds) read and wrote which
  tables, from the spans of a `wb.trace()` block;
- `events_table` lays monitoring events (an alert's, an incident's timeline) on one time axis.
"""

from __future__ import annotations

import inspect
import math
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from studypath.monitoring import api as monitoring_api
from studypath.monitoring.alerts import next_status
from studypath.monitoring.models import Alert, AlertStatus
from studypath.viz.mermaid import Mermaid, escape
from studypath.viz.table import Table
from studypath.viz.traces import TraceView, layer_of


# --------------------------------------------------------------------------- alert states
@dataclass(frozen=True)
class AlertMove:
    """What `next_status` answered for one status and one kind of evaluation."""

    before: AlertStatus
    case: str
    after: AlertStatus


# The kinds of evaluation `next_status` tells apart: (words, condition, for_seconds, held).
# `held`: seconds a pending alert has been pending — those cases apply to `pending` alone,
# "for_seconds ≥ 1" to every other status (they have no `pending_since`); None: to all.
_CASES: tuple[tuple[str, bool, int, float | None], ...] = (
    ("condition false", False, 60, None),
    ("condition true, for_seconds = 0", True, 0, None),
    ("condition true, for_seconds ≥ 1", True, 60, math.nan),
    ("condition true, pending less than for_seconds", True, 60, 0.0),
    ("condition true, pending for for_seconds", True, 60, 60.0),
)


def _applies(held: float | None, status: AlertStatus) -> bool:
    if held is None:
        return True
    return math.isnan(held) is (status is not AlertStatus.PENDING)


def alert_transitions() -> list[AlertMove]:
    """Every status × every kind of evaluation, answered by `next_status` itself."""
    now = datetime(2000, 1, 1, tzinfo=UTC)  # any instant: only differences matter
    moves = []
    for status in AlertStatus:
        for words, condition, for_seconds, held in _CASES:
            if not _applies(held, status):
                continue
            since = None
            if status is AlertStatus.PENDING:  # a pending alert always has pending_since
                since = now - timedelta(seconds=held if held is not None else 0.0)
            alert = Alert(status=status, for_seconds=for_seconds, pending_since=since)
            moves.append(AlertMove(status, words, next_status(alert, condition, now)))
    return moves


_ALERT_NOTES = {
    AlertStatus.OK: "condition false (or no data)",
    AlertStatus.PENDING: "condition true, waiting out for_seconds",
    AlertStatus.FIRING: "records an error event, may open an incident",
    AlertStatus.RESOLVED: "fired before, condition false again",
}


def _joined(cases: list[str]) -> str:
    """Cases of one arrow in one label: "condition true, A or B" rather than repeating."""
    prefix = "condition true, "
    if len(cases) > 1 and all(case.startswith(prefix) for case in cases):
        return prefix + " or ".join(case.removeprefix(prefix) for case in cases)
    return " or ".join(cases)


def alert_state_diagram(current: str | None = None, *, self_loops: bool = False) -> Mermaid:
    """`stateDiagram-v2` of an alert rule, one arrow per (before, after) that `next_status`
    produces — its cases joined — and `[*] --> ok` for a new rule. The `current` status (an
    `alerts.status` value) is highlighted; `self_loops` also draws the "no change" arrows."""
    grouped: dict[tuple[AlertStatus, AlertStatus], list[str]] = defaultdict(list)
    for move in alert_transitions():
        if move.before is not move.after or self_loops:
            grouped[(move.before, move.after)].append(move.case)
    lines = ["stateDiagram-v2", "    [*] --> ok : rule created (or its condition changed)"]
    for status in AlertStatus:
        lines.append(f"    {status.value} : {status.value} - {_ALERT_NOTES[status]}")
    for (before, after), cases in grouped.items():
        lines.append(f"    {before.value} --> {after.value} : {escape(_joined(cases))}")
    lines.append("    classDef current fill:#ffe082,stroke:#e65100,stroke-width:3px")
    lines.append("    classDef alarm fill:#ffcdd2,stroke:#c62828")
    lines.append(f"    class {AlertStatus.FIRING.value} alarm")
    if current is not None:
        lines.append(f"    class {AlertStatus(current).value} current")
    return Mermaid("\n".join(lines))


# --------------------------------------------------------------------------- the Prometheus page
# Where a family comes from, by name: (group, what fills it). Stored ones are told by their
# help text; anything else is "other".
FAMILY_GROUPS: tuple[tuple[str, str, str], ...] = (
    ("studypath_http_", "HTTP", "the request middleware, per request"),
    ("studypath_task", "tasks", "the worker, per attempt"),
    ("studypath_queue_", "queue", "PostgreSQL (tasks), read at scrape time"),
    ("studypath_circuit_breaker_", "breakers", "PostgreSQL (breaker rows), read at scrape time"),
    ("studypath_db_pool_", "pool", "the connection pool, read at scrape time"),
    ("process_", "runtime", "prometheus_client: this process and its Python"),
    ("python_", "runtime", "prometheus_client: this process and its Python"),
)
STORED_GROUP = ("stored", "PostgreSQL (metrics table): POST /monitoring/metrics")


def family_group(family: Metric) -> tuple[str, str]:
    """(group, source) of a family: which part of the system fills it."""
    if family.documentation.startswith("stored "):
        return STORED_GROUP
    for prefix, group, source in FAMILY_GROUPS:
        if family.name.startswith(prefix):
            return group, source
    return "other", "another collector"


def _matches(sample_labels: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    return all(sample_labels.get(key) == value for key, value in wanted.items())


@dataclass
class Scrape:
    """One Prometheus page, parsed (what a Prometheus server reads on every scrape)."""

    text: str
    families: dict[str, Metric] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Scrape:
        return cls(text, {family.name: family for family in text_string_to_metric_families(text)})

    def value(self, sample: str, **labels: str) -> float:
        """Sum of the samples named `sample` whose labels include `labels` (0 if none)."""
        return sum(
            s.value
            for family in self.families.values()
            for s in family.samples
            if s.name == sample and _matches(s.labels, labels)
        )

    def series(self, family: str) -> list[dict[str, str]]:
        """The label sets of a family's series (a histogram's `le` buckets are one series)."""
        found: list[dict[str, str]] = []
        for s in self.families[family].samples if family in self.families else []:
            labels = {k: v for k, v in s.labels.items() if k not in ("le", "quantile")}
            if labels not in found:
                found.append(labels)
        return found

    def buckets(self, family: str, **labels: str) -> list[tuple[float, float]]:
        """A histogram's cumulative buckets (upper bound, count), summed over the series that
        match `labels`, in bound order; the last bound is +Inf."""
        counts: dict[float, float] = defaultdict(float)
        for s in self.families[family].samples if family in self.families else []:
            if s.name == f"{family}_bucket" and _matches(s.labels, labels):
                counts[float(s.labels["le"])] += s.value
        return sorted(counts.items())

    def table(self, keep: Callable[[Metric], bool] | None = None) -> Table:
        """One row per family: type, series, samples, group, source and help text."""
        rows = []
        for name, family in self.families.items():
            if keep is not None and not keep(family):
                continue
            group, source = family_group(family)
            rows.append(
                {
                    "family": name,
                    "type": family.type,
                    "series": len(self.series(name)),
                    "samples": len(family.samples),
                    "group": group,
                    "filled by": source,
                    "help": family.documentation,
                }
            )
        return Table(rows)


def bucket_quantile(buckets: Sequence[tuple[float, float]], q: float) -> float | None:
    """The q-quantile estimated from cumulative buckets, the way PromQL's
    `histogram_quantile` does: find the bucket holding rank q·count, interpolate linearly
    inside it (from 0 for the first bucket); in the +Inf bucket, answer the highest finite
    bound. None when there are no observations."""
    if not 0 <= q <= 1:
        raise ValueError("q must be between 0 and 1")
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] == 0:
        return None
    rank = q * ordered[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank:
            if math.isinf(bound):
                return lower
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower


def prometheus_route(app: FastAPI) -> str:
    """The path of the live app's Prometheus endpoint, found by its handler (not its name).

    FastAPI 0.165 keeps included routers nested in `app.routes`; `iter_route_contexts`
    expands them (older versions had a flat list)."""
    expand = getattr(fastapi.routing, "iter_route_contexts", None)
    routes: Iterable[Any] = expand(app.routes) if expand is not None else app.routes
    for route in routes:
        path, endpoint = getattr(route, "path", None), getattr(route, "endpoint", None)
        if endpoint is not None and inspect.unwrap(endpoint) is monitoring_api.prometheus_metrics:
            return str(path)
    raise LookupError("the app mounts no Prometheus endpoint")


def prometheus_architecture(
    scrape: Scrape,
    *,
    endpoint: str,
    targets: Sequence[str],
    evaluator_seconds: float | None = None,
    per_group: int = 4,
) -> Mermaid:
    """`graph LR` of the Prometheus integration, from one real scrape: the families the page
    holds, grouped by what fills them, the endpoint, the processes a Prometheus server must
    scrape (`targets`: one per server process), and — if given — the in-process alert
    evaluator over the stored metrics. At most `per_group` family names per group."""
    groups: dict[tuple[str, str], list[Metric]] = defaultdict(list)
    for family in scrape.families.values():
        groups[family_group(family)].append(family)
    lines = ["graph LR", '    subgraph server["one server process (each one exposes its own)"]']
    node_of: dict[str, str] = {}
    for index, ((group, source), families) in enumerate(sorted(groups.items())):
        node = f"g{index}"
        node_of[group] = node
        names = [f"{escape(f.name)} ({f.type})" for f in families[:per_group]]
        if len(families) > per_group:
            names.append(f"… {len(families) - per_group} more")
        label = f"<b>{escape(group)}</b>: {escape(source)}<br/>" + "<br/>".join(names)
        lines.append(f'        {node}["{label}"]')
    page = f"GET {escape(endpoint)}<br/>text format, {len(scrape.families)} families"
    lines.append(f'        page["{page}"]')
    lines.append("    end")
    for node in node_of.values():
        lines.append(f"    {node} --> page")
    lines.append('    db[("PostgreSQL")]')
    for group in ("stored", "queue", "breakers"):
        if group in node_of:
            lines.append(f"    db -.->|read per scrape| {node_of[group]}")
    lines.append('    prometheus["Prometheus server<br/>(not part of studypath)"]')
    for index, target in enumerate(targets):
        lines.append(f'    t{index}(["target: {escape(target)}"])')
        lines.append(f"    page --> t{index} -->|scrape| prometheus")
    lines.append('    grafana["Grafana dashboards"]')
    lines.append('    alertmanager["Alertmanager"]')
    lines.append("    prometheus -.-> grafana")
    lines.append("    prometheus -.-> alertmanager")
    if evaluator_seconds is not None:
        every = f"every {evaluator_seconds:g} s"
        lines.append(f'    evaluator["studypath alert evaluator<br/>(in-process, {every})"]')
        lines.append("    db -->|metrics table| evaluator")
        lines.append("    evaluator -->|alerts, events, incidents| db")
    lines.append("    classDef outside fill:#eceff1,stroke:#90a4ae,stroke-dasharray:4 3")
    lines.append("    class prometheus,grafana,alertmanager outside")
    return Mermaid("\n".join(lines))


# --------------------------------------------------------------------------- data flow
_WRITE = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)
_READ = re.compile(r"\b(?:FROM|JOIN)\s+\"?(\w+)", re.IGNORECASE)


def statement_tables(statement: str, tables: Collection[str]) -> list[tuple[str, str]]:
    """(verb, table) pairs of one SQL statement: the table it writes (insert, update,
    delete) and the tables it reads (select) — only names in `tables` count."""
    found: list[tuple[str, str]] = []
    written = None
    write = _WRITE.match(statement)
    if write is not None and write[2] in tables:
        written = write[2]
        found.append((write[1].split()[0].lower(), written))
    for name in _READ.findall(statement):
        if name in tables and name != written and ("select", name) not in found:
            found.append(("select", name))
    return found


def _statement(span: ReadableSpan) -> str | None:
    attributes = span.attributes or {}
    statement = attributes.get("db.statement") or attributes.get("db.query.text")
    return statement if isinstance(statement, str) else None


def data_flow_diagram(
    view: TraceView,
    *,
    tables: Collection[str] | None = None,
    skip_layers: Collection[str] = ("auth",),
) -> Mermaid:
    """`graph LR` of which requests and background work (consumer spans, or spans of layer
    `task`: drawn rounded) wrote and read which tables, from a trace's SQL spans:
    `table -.-> request` for reads only, `request --> table` for writes only, `<-->` for both
    (labelled with the verbs). Spans in `skip_layers` (by default the credential check, which
    every signed-in request makes) are left out with their SQL."""
    if tables is None:
        from studypath.models import metadata

        tables = set(metadata.tables)
    children: dict[int, list[ReadableSpan]] = defaultdict(list)
    for span in view.spans:
        if span.parent is not None:
            children[span.parent.span_id].append(span)
    flows: dict[str, dict[str, set[str]]] = {}
    background: set[str] = set()

    def visit(span: ReadableSpan, into: dict[str, set[str]]) -> None:
        if layer_of(span) in skip_layers:
            return
        statement = _statement(span)
        if statement is not None:
            for verb, table in statement_tables(statement, tables):
                into[table].add(verb)
        for child in children.get(span.context.span_id if span.context else -1, []):
            if child.kind is not SpanKind.CONSUMER:  # a task is a root of its own here
                visit(child, into)

    roots = [s for s in view.roots() if s.kind is not SpanKind.CONSUMER]
    roots += [s for s in view.spans if s.kind is SpanKind.CONSUMER]
    for root in sorted(roots, key=lambda s: s.start_time or 0):
        into = flows.setdefault(root.name, defaultdict(set))
        if root.kind is SpanKind.CONSUMER or layer_of(root) == "task":
            background.add(root.name)
        visit(root, into)
    lines = ["graph LR"]
    table_node: dict[str, str] = {}
    for name in sorted({table for flow in flows.values() for table in flow}):
        table_node[name] = f"t_{name}"
        lines.append(f"    t_{name}[({escape(name)})]")
    for index, (name, flow) in enumerate(flows.items()):
        node = f"r{index}"
        shape = '(["{}"])' if name in background else '["{}"]'
        lines.append(f"    {node}{shape.format(escape(name))}")
        for table, verbs in sorted(flow.items()):
            label = ", ".join(sorted(verbs))
            if verbs == {"select"}:
                lines.append(f"    {table_node[table]} -.->|{label}| {node}")
            elif "select" in verbs:
                lines.append(f"    {node} <-->|{label}| {table_node[table]}")
            else:
                lines.append(f"    {node} -->|{label}| {table_node[table]}")
    lines.append("    classDef tbl fill:#e3f2fd,stroke:#1565c0")
    if table_node:
        lines.append(f"    class {','.join(table_node.values())} tbl")
    return Mermaid("\n".join(lines))


# --------------------------------------------------------------------------- events on a time axis
def _instant(value: datetime | str) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def events_table(
    events: Iterable[Mapping[str, Any]], *, origin: datetime | str | None = None
) -> Table:
    """Events (the API's JSON or rows) oldest first, at seconds since `origin` (by default
    the first event): when, who wrote it, its level and message."""
    ordered = sorted(events, key=lambda e: _instant(e["recorded_at"]))
    if not ordered:
        return Table([])
    start = _instant(origin) if origin is not None else _instant(ordered[0]["recorded_at"])
    return Table(
        [
            {
                "at": f"+{(_instant(e['recorded_at']) - start).total_seconds():.2f} s",
                "source": e.get("source"),
                "level": e.get("level"),
                "message": e.get("message"),
            }
            for e in ordered
        ]
    )


__all__ = [
    "FAMILY_GROUPS",
    "STORED_GROUP",
    "AlertMove",
    "Scrape",
    "Table",
    "alert_state_diagram",
    "alert_transitions",
    "bucket_quantile",
    "data_flow_diagram",
    "events_table",
    "family_group",
    "prometheus_architecture",
    "prometheus_route",
    "statement_tables",
]
