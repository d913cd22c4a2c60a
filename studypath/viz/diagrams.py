"""Diagrams generated from the live system: its routes, its schema, one request's journey.

Nothing here is drawn by hand: change the app, the metadata or the code path, and the next
call draws the change. Output is sorted so a notebook re-run gives the same text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fastapi.routing
from fastapi import FastAPI
from sqlalchemy import Column, MetaData, Table, UniqueConstraint
from sqlalchemy.dialects.postgresql.base import PGDialect
from starlette.staticfiles import StaticFiles

from studypath.core.logging import LogEntry
from studypath.core.routing import API_PREFIX
from studypath.viz.mermaid import Mermaid, escape

if TYPE_CHECKING:
    from studypath.runtime import Workbench

PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent
_KIND_ORDER = {"api": 0, "docs": 1, "page": 2, "static": 3}
_GROUPS = {"static": "static SPA", "docs": "API docs", "page": "other pages"}
HIDDEN = "not in the OpenAPI document (include_in_schema=False)"


# --------------------------------------------------------------------------- routes
@dataclass(frozen=True)
class RouteInfo:
    """One route the live app answers: the request it matches and the code that answers."""

    method: str
    path: str
    endpoint: str  # qualified name of the function (or ASGI app) that answers
    module: str
    domain: str  # `health` for `studypath.health.api`; the kind for routes outside the API
    tags: tuple[str, ...] = ()
    summary: str = ""
    kind: str = "api"  # `api` (under /api/v1), `docs`, `page` or `static` (the SPA)


def _qualified(obj: Any) -> tuple[str, str]:
    """(module, module.qualname) of a function or of an ASGI app object's class."""
    target = obj if hasattr(obj, "__qualname__") else type(obj)
    module = str(getattr(target, "__module__", "?"))
    return module, f"{module}.{target.__qualname__}"


def _domain(module: str) -> str:
    """`studypath.health.api` -> `health`: the folder a router lives in names its domain."""
    parts = module.split(".")
    if len(parts) > 1 and parts[-1] in {"api", "router", "routes", "views"}:
        return parts[-2]
    return parts[-1]


def _mounted_endpoints(app: FastAPI) -> dict[tuple[str, str], Callable[..., Any]]:
    """(method, path) -> endpoint of every mounted route, included routers expanded.

    FastAPI 0.165 keeps `include_router` results as nested objects in `app.routes`;
    `fastapi.routing.iter_route_contexts` expands them (older versions had a flat list).
    """
    expand = getattr(fastapi.routing, "iter_route_contexts", None)
    routes: Iterable[Any] = expand(app.routes) if expand is not None else app.routes
    found: dict[tuple[str, str], Callable[..., Any]] = {}
    for route in routes:
        path = getattr(route, "path_format", getattr(route, "path", None))  # no `:uuid`
        endpoint = getattr(route, "endpoint", None)
        if path is None or endpoint is None:
            continue
        for method in getattr(route, "methods", None) or ():
            found.setdefault((method, path), endpoint)
    return found


def _static_routes(app: FastAPI) -> list[RouteInfo]:
    """The router's fallback app: the single-page app's files, `index.html` for the rest."""
    default = app.router.default
    if not isinstance(default, StaticFiles) or default.directory is None:
        return []
    directory = Path(default.directory).resolve()
    try:
        shown = directory.relative_to(PACKAGE_ROOT).as_posix()
    except ValueError:
        shown = directory.name
    module, endpoint = _qualified(default)
    return [
        RouteInfo("GET", "/", endpoint, module, "static", (), f"{shown}/index.html", "static"),
        RouteInfo(
            "GET",
            "/{path}",
            endpoint,
            module,
            "static",
            (),
            f"a file of {shown}/, else index.html (client-side routes, status 200)",
            "static",
        ),
    ]


def api_routes(app: FastAPI) -> list[RouteInfo]:
    """Every route the live app answers: the OpenAPI operations first, then the docs and the
    static single-page app (which OpenAPI does not describe)."""
    endpoints = _mounted_endpoints(app)
    routes: list[RouteInfo] = []
    for path, operations in app.openapi().get("paths", {}).items():
        for method, operation in operations.items():
            if method.startswith("x-") or method in {"parameters", "servers", "summary"}:
                continue
            found = endpoints.get((method.upper(), path))
            tags = tuple(str(tag) for tag in operation.get("tags", ()))
            module, endpoint = _qualified(found) if found is not None else ("?", "?")
            domain = _domain(module) if found is not None else (tags[0] if tags else "?")
            summary = str(operation.get("summary", ""))
            routes.append(RouteInfo(method.upper(), path, endpoint, module, domain, tags, summary))
    in_schema = {(route.method, route.path) for route in routes}
    docs = {app.openapi_url, app.docs_url, app.redoc_url}
    docs_folder = (app.openapi_url or "").rsplit("/", 1)[0]  # `/api-docs` holds the docs page
    for (method, path), found in endpoints.items():
        if (method, path) in in_schema or method == "HEAD":
            continue
        module, endpoint = _qualified(found)
        summary = (getattr(found, "__doc__", None) or "").strip().split("\n")[0] or HIDDEN
        if path == app.openapi_url:
            summary = "the OpenAPI document (JSON) of the API routes"
        if path.startswith(API_PREFIX + "/"):
            kind, domain = "api", _domain(module)
        else:
            in_docs = path in docs or bool(docs_folder and path.startswith(docs_folder))
            kind = "docs" if in_docs else "page"
            domain = kind
        routes.append(RouteInfo(method, path, endpoint, module, domain, (), summary, kind))
    routes.extend(_static_routes(app))
    return sorted(routes, key=lambda r: (_KIND_ORDER.get(r.kind, 9), r.path, r.method))


def routes_table(app: FastAPI) -> list[dict[str, str]]:
    """The routes as plain rows (one dict per route), ready for any table display."""
    rows = []
    for route in api_routes(app):
        row = {key: str(value) for key, value in asdict(route).items()}
        row["tags"] = ", ".join(route.tags)
        rows.append(row)
    return rows


def routes_markdown(app: FastAPI) -> str:
    """The routes as a markdown table (show it with `IPython.display.Markdown`)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| method | path | answered by | domain | summary |", "|---|---|---|---|---|"]
    for route in api_routes(app):
        lines.append(
            f"| {route.method} | `{cell(route.path)}` | `{cell(route.endpoint)}` "
            f"| {route.domain} | {cell(route.summary)} |"
        )
    return "\n".join(lines)


MAX_NODES = 30
"""A diagram with more boxes than this cannot be read at notebook width: split it."""


def node_count(diagram: Mermaid) -> int:
    """Boxes in a generated `graph`/`erDiagram` (node definitions and entities)."""
    source = diagram.source
    if source.startswith("erDiagram"):
        entities = set(re.findall(r"^    (\w+) \{", source, re.MULTILINE))
        for left, right in re.findall(r"^    (\w+) \S+ (\w+) :", source, re.MULTILINE):
            entities.update((left, right))
        return len(entities)
    return len(set(re.findall(r"(\w+)\s*(?:\[|\(\[|\[\()", source)))


def routes_diagram(app: FastAPI, module: str | None = None) -> Mermaid:
    """The routes, at a size one can read.

    Without `module`: the overview, top-down from the entry point — Browser, one server,
    the SPA and docs beside `/api/v1/*`, one box per domain with its number of routes, and
    the database behind them. With `module` (a domain such as `"tasks"`): that domain's
    routes, each box naming the function that answers it."""
    routes = api_routes(app)
    domains = sorted({route.domain for route in routes if route.kind == "api"})
    if module is not None:
        return _domain_routes_diagram(routes, module, domains)
    lines = [
        "graph TD",
        '    browser["Browser"] --> server["uvicorn + FastAPI<br/>one process, one port"]',
    ]
    for kind, label in _GROUPS.items():
        count = sum(route.kind == kind for route in routes)
        if count:
            lines.append(f'    server --> {kind}["{label}<br/>{count} route(s)"]')
    lines.append(f'    server --> api["{API_PREFIX}/*"]')
    for domain in domains:
        count = sum(r.kind == "api" and r.domain == domain for r in routes)
        lines.append(
            f'    api --> domain_{_node_id(domain)}["{escape(domain)}<br/>{count} routes"]'
        )
    lines.append('    db[("PostgreSQL")]')
    lines.extend(f"    domain_{_node_id(domain)} --> db" for domain in domains)
    lines += [
        "    style server fill:#e8f5e8",
        "    style api fill:#fff3e0",
        "    style db fill:#dbe4f0",
    ]
    if any(route.kind == "static" for route in routes):
        lines.append("    style static fill:#e3f2fd")
    return Mermaid("\n".join(lines))


def _domain_routes_diagram(routes: list[RouteInfo], module: str, domains: list[str]) -> Mermaid:
    chosen = [route for route in routes if route.kind == "api" and route.domain == module]
    if not chosen:
        raise ValueError(f"no API routes in {module!r}; domains: {', '.join(domains)}")
    modules = sorted({route.module for route in chosen})
    domain = f"domain_{_node_id(module)}"
    lines = ["graph LR", f'    {domain}["{escape(module)}<br/>{escape(", ".join(modules))}"]']
    for number, route in enumerate(chosen):
        function = route.endpoint.rsplit(".", 1)[-1]
        label = f"{escape(f'{route.method} {route.path}')}<br/>{escape(function)}()"
        lines.append(f'    {domain} --> route_{number}["{label}"]')
    lines.append(f"    style {domain} fill:#fff3e0")
    return Mermaid("\n".join(lines))


def _node_id(name: str) -> str:
    return re.sub(r"\W", "_", name)


# --------------------------------------------------------------------------- schema
_DIALECT = PGDialect()  # type: ignore[no-untyped-call]  # (SQLAlchemy leaves it untyped)
_TYPE_NAMES = {
    "uuid": "uuid",
    "varchar": "varchar",
    "character varying": "varchar",
    "char": "char",
    "text": "text",
    "integer": "int",
    "smallint": "smallint",
    "bigint": "bigint",
    "boolean": "bool",
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "timestamp": "timestamp",
    "date": "date",
    "jsonb": "jsonb",
    "json": "json",
    "float": "float",
    "real": "float",
    "double precision": "float",
    "numeric": "numeric",
    "bytea": "bytea",
}


def _type_name(column: Column[Any]) -> str:
    """The column's PostgreSQL type, as one mermaid-safe word (`varchar(50)` -> `varchar`)."""
    try:
        compiled = str(column.type.compile(dialect=_DIALECT)).lower()
    except Exception:  # a type the dialect cannot render: fall back to its class name
        compiled = type(column.type).__name__.lower()
    if compiled.endswith("]"):
        return "array"
    base = compiled.split("(")[0].strip()
    return _TYPE_NAMES.get(base, re.sub(r"\W+", "_", base))


def _unique_keys(table: Table) -> list[set[str]]:
    """Column sets that are unique together: unique columns, constraints and indexes (also
    `lower(email)`). A column of a composite key is not unique on its own."""
    keys = [{column.name} for column in table.columns if column.unique]
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            keys.append({column.name for column in constraint.columns})
    for index in table.indexes:
        if not index.unique:
            continue
        key = {column.name for column in index.columns}
        for expression in index.expressions:  # e.g. lower(username): find the column named
            words = set(re.findall(r"\w+", str(expression)))
            key.update(column.name for column in table.columns if column.name in words)
        keys.append(key)
    return keys


def _unique_columns(table: Table) -> set[str]:
    """Columns covered by a unique constraint or a unique index (also `lower(email)`)."""
    return set().union(*_unique_keys(table))


def _entity(table: Table) -> str:
    return _node_id(table.fullname)


def table_domains(metadata: MetaData) -> dict[str, str]:
    """Table name -> the domain whose models define it (`studypath.tasks.models` -> `tasks`),
    read from the `domain` each table records in its `info` (set by `studypath.models`)."""
    return {name: str(table.info.get("domain", "other")) for name, table in metadata.tables.items()}


def schema_overview(metadata: MetaData) -> Mermaid:
    """Every table as one box, grouped by the domain that owns it, one arrow per foreign key
    (parent --> child): the whole schema on one screen. `er_diagram(metadata, domain=...)`
    shows one domain's columns."""
    domains = table_domains(metadata)
    lines = ["graph LR"]
    for domain in sorted(set(domains.values())):
        lines.append(f'    subgraph {_node_id("d_" + domain)}["{escape(domain)}"]')
        lines.extend(
            f'        {_entity(metadata.tables[name])}["{escape(name)}"]'
            for name in sorted(n for n, d in domains.items() if d == domain)
        )
        lines.append("    end")
    edges = set()
    for table in metadata.tables.values():
        for fk in table.foreign_key_constraints:
            parent = fk.referred_table
            if parent is not table:
                edges.add(f"    {_entity(parent)} --> {_entity(table)}")
    return Mermaid("\n".join(lines + sorted(edges)))


def er_diagram(
    metadata: MetaData, tables: Iterable[str] | None = None, *, domain: str | None = None
) -> Mermaid:
    """`erDiagram` of the given `tables`, or of one `domain`'s tables (plus the tables they
    point to, drawn small), or of everything: columns with their PostgreSQL types and
    PK/FK/UK markers, one relationship per foreign key."""
    if domain is not None:
        owned = {name for name, d in table_domains(metadata).items() if d == domain}
        if not owned:
            known = ", ".join(sorted(set(table_domains(metadata).values())))
            raise ValueError(f"no tables in domain {domain!r}; domains: {known}")
        tables = owned
    chosen = sorted(metadata.tables if tables is None else set(tables))
    unknown = [name for name in chosen if name not in metadata.tables]
    if unknown:
        raise ValueError(f"not in the metadata: {', '.join(unknown)}")
    lines = ["erDiagram"]
    relationships: list[str] = []
    # A domain's diagram also shows the tables its foreign keys point to, as boxes without
    # columns (mermaid draws an entity named only in a relationship as a bare box).
    outside_parents = domain is not None
    for name in chosen:
        table = metadata.tables[name]
        unique = _unique_columns(table)
        lines.append(f"    {_entity(table)} {{")
        for column in table.columns:
            keys = [
                marker
                for marker, present in (
                    ("PK", column.primary_key),
                    ("FK", bool(column.foreign_keys)),
                    ("UK", column.name in unique and not column.primary_key),
                )
                if present
            ]
            attribute = f"        {_type_name(column)} {_node_id(column.name)}"
            lines.append(f"{attribute} {', '.join(keys)}" if keys else attribute)
        lines.append("    }")
        for fk in table.foreign_key_constraints:
            parent = fk.referred_table
            if parent.fullname not in chosen and not outside_parents:
                continue
            columns = list(fk.columns)
            optional = any(column.nullable for column in columns)
            names = {column.name for column in columns}
            one_to_one = any(key <= names for key in _unique_keys(table))
            cardinality = ("|o" if optional else "||") + "--" + ("o|" if one_to_one else "o{")
            label = ", ".join(column.name for column in columns)
            relationships.append(
                f'    {_entity(parent)} {cardinality} {_entity(table)} : "{escape(label)}"'
            )
    return Mermaid("\n".join(lines + sorted(relationships)))


# --------------------------------------------------------------------------- one request
@dataclass(frozen=True)
class RequestTrace:
    """What the logs say about one request: the line, the handler, the SQL, the answer."""

    request_id: str
    method: str = ""
    path: str = ""
    route: str = ""
    endpoint: str = ""
    status: int | None = None
    duration_ms: float | None = None
    statements: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # WARNING and worse, as logged

    @property
    def handler(self) -> str:
        """The endpoint's function name (`health_detailed`), or '' if no route matched."""
        return self.endpoint.rsplit(".", 1)[-1]


def request_trace(entries: Sequence[LogEntry]) -> RequestTrace:
    """Read one request's log entries (`wb.log_entries(request_id=...)`) into a trace."""
    ids = sorted({entry.request_id for entry in entries if entry.request_id != "-"})
    if len(ids) > 1:
        raise ValueError(f"log entries of one request expected, got {len(ids)}: {ids[:5]}")
    end: dict[str, Any] = {}
    statements, problems = [], []
    for entry in entries:
        if entry.logger == "studypath.http" and entry.fields.get("event") == "request.end":
            end = entry.fields
        elif entry.logger == "studypath.sql":
            statements.append(str(entry.fields.get("statement") or entry.message))
        elif entry.level in {"WARNING", "ERROR", "CRITICAL"}:
            problems.append(f"{entry.level} {entry.message}")
    status, duration = end.get("status"), end.get("duration_ms")
    return RequestTrace(
        request_id=ids[0] if ids else "-",
        method=str(end.get("method", "")),
        path=str(end.get("path", "")),
        route=str(end.get("route", "")),
        endpoint=str(end.get("endpoint", "")),
        status=int(status) if status is not None else None,
        duration_ms=float(duration) if duration is not None else None,
        statements=statements,
        problems=problems,
    )


def short_sql(statement: str, limit: int = 60) -> str:
    """One line of SQL, a long column list folded to `…`, shortened and mermaid-safe."""
    flat = " ".join(statement.split())
    flat = re.sub(r"^SELECT (.{25,}?) FROM ", "SELECT … FROM ", flat, flags=re.IGNORECASE)
    return escape(flat, limit)


def request_flow(entries: Sequence[LogEntry]) -> Mermaid:
    """`sequenceDiagram` of one request from its log entries: Client -> Middleware ->
    Handler -> one arrow per SQL statement -> the response with its status and duration."""
    trace = request_trace(entries)
    handler = escape(trace.handler or "Router (no route matched)")
    line = escape(f"{trace.method} {trace.path}".strip() or "request")
    lines = [
        "sequenceDiagram",
        "    participant Client",
        "    participant Middleware as Middleware (request id + security headers)",
        f"    participant Handler as {handler}",
        "    participant Database as PostgreSQL",
        f"    Client->>Middleware: {line}",
        f"    Note over Client,Middleware: X-Request-ID {escape(trace.request_id)}",
    ]
    if trace.endpoint:
        lines.append(f"    Middleware->>Handler: route {escape(trace.route or trace.path)}")
    else:
        lines.append(f"    Middleware->>Handler: {escape(trace.path or '?')} matches no route")
    for statement in trace.statements:
        lines.append(f"    Handler->>Database: {short_sql(statement)}")
        lines.append("    Database-->>Handler: result")
    lines.extend(f"    Note over Handler: {escape(problem, 60)}" for problem in trace.problems)
    answer = "not logged yet" if trace.status is None else str(trace.status)
    if trace.duration_ms is not None:
        answer += f" in {trace.duration_ms:.1f} ms"
    lines.append(f"    Handler-->>Middleware: {'response' if trace.handler else 'error'}")
    lines.append(f"    Middleware-->>Client: {answer} + X-Request-ID, nosniff, X-Frame-Options")
    return Mermaid("\n".join(lines))


def request_flow_for(wb: Workbench, request_id: str, wait: float = 2.0) -> Mermaid:
    """`request_flow` of the Workbench's request `request_id`.

    The access-log line is written just after the response leaves, so a caller that has its
    answer may be a moment early: wait up to `wait` seconds for that line.
    """
    deadline = time.monotonic() + wait
    while True:
        entries = wb.log_entries(request_id=request_id)
        if request_trace(entries).status is not None or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    if not entries:
        raise ValueError(f"no log entries for request id {request_id!r}")
    return request_flow(entries)
