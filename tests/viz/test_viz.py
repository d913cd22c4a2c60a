"""Diagrams generated from the live system: they must show what the app and schema really hold."""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI

import studypath
from studypath import viz
from studypath.config import Settings
from studypath.core.logging import OWNED_LOGGERS, QUIET_LOGGERS
from studypath.models import metadata
from studypath.system import System
from studypath.testing.server import app_of, client_for, running_system
from studypath.viz.diagrams import HIDDEN, MAX_NODES, short_sql
from studypath.viz.mermaid import escape
from tests.support.diagrams import log_entry, request_end, sql_entry

# ----------------------------------------------------------------------------- mermaid


def test_mermaid_renders_as_mermaid_and_plain_text() -> None:
    diagram = viz.mermaid(
        """
        graph LR
            A --> B
        """
    )
    assert isinstance(diagram, viz.Mermaid)
    assert diagram.source == "graph LR\n    A --> B"
    assert diagram._repr_mimebundle_() == {
        "text/vnd.mermaid": diagram.source,
        "text/plain": diagram.source,
    }


def test_escape_leaves_nothing_mermaid_would_parse() -> None:
    text = escape('SELECT "a"; -- #1\n  WHERE b >= 2 AND c < 3 %%x', limit=40)
    assert not set(text) & set(';#"<>\n')
    assert "%%" not in text
    assert len(text) <= 40 and text.endswith("…")
    assert "≥" in text


# ----------------------------------------------------------------------------- schema


def _foreign_keys() -> set[tuple[str, str, str]]:
    """(parent, child, column) for every foreign key of the metadata."""
    return {
        (fk.referred_table.name, table.name, ", ".join(c.name for c in fk.columns))
        for table in metadata.tables.values()
        for fk in table.foreign_key_constraints
    }


def _relationships(source: str) -> set[tuple[str, str, str, str]]:
    pattern = re.compile(r'^    (\w+) (\S+) (\w+) : "([^"]+)"$', re.MULTILINE)
    return {(m[1], m[3], m[4], m[2]) for m in pattern.finditer(source)}


def test_er_diagram_draws_every_table_column_and_foreign_key() -> None:
    source = viz.er_diagram(metadata).source
    assert source.startswith("erDiagram\n")
    drawn_tables = set(re.findall(r"^    (\w+) \{$", source, re.MULTILINE))
    assert drawn_tables == set(metadata.tables)
    for table in metadata.tables.values():
        block = source.split(f"    {table.name} {{\n", 1)[1].split("\n    }", 1)[0]
        drawn_columns = [line.split()[1] for line in block.splitlines()]
        assert drawn_columns == [column.name for column in table.columns], table.name
        for column in table.primary_key.columns:
            assert re.search(rf"^        \w+ {column.name} PK", block, re.MULTILINE)
    drawn = {(parent, child, label) for parent, child, label, _ in _relationships(source)}
    assert drawn == _foreign_keys()


def test_er_diagram_cardinality_follows_nullability() -> None:
    relationships = {
        (p, c, label): card for p, c, label, card in _relationships(viz.er_diagram(metadata).source)
    }
    for table in metadata.tables.values():
        for fk in table.foreign_key_constraints:
            label = ", ".join(c.name for c in fk.columns)
            optional = any(c.nullable for c in fk.columns)
            card = relationships[(fk.referred_table.name, table.name, label)]
            assert card.startswith("|o" if optional else "||"), (table.name, label, card)
    assert relationships[("users", "sessions", "user_id")] == "||--o{"
    assert relationships[("users", "tasks", "created_by")] == "|o--o{"


def test_er_diagram_marks_keys_and_postgres_types() -> None:
    source = viz.er_diagram(metadata, tables=["users", "sessions", "workers"]).source
    assert "        varchar token_hash UK" in source  # a unique column
    assert "        varchar email UK" in source  # a unique index on lower(email)
    assert "        uuid user_id FK" in source
    assert "        timestamptz expires_at" in source
    assert "        array task_types" in source
    allowed = re.compile(r"^[a-z_]+$")
    for line in source.splitlines():
        if line.startswith("        "):
            assert allowed.match(line.split()[0]), line


def test_er_diagram_of_some_tables_is_stable_and_closed() -> None:
    first = viz.er_diagram(metadata, tables=["sessions", "users"])
    assert first == viz.er_diagram(metadata, tables=["users", "sessions"])
    assert {(p, c) for p, c, _, _ in _relationships(first.source)} == {("users", "sessions")}
    assert "tasks" not in first.source
    with pytest.raises(ValueError, match="no_such_table"):
        viz.er_diagram(metadata, tables=["users", "no_such_table"])


# ----------------------------------------------------------------------------- routes


async def test_routes_cover_every_openapi_operation(system: System) -> None:
    app = app_of(system)
    operations = {
        (method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops
    }
    routes = viz.api_routes(app)
    listed = {(r.method, r.path) for r in routes if r.kind == "api" and r.summary != HIDDEN}
    assert listed == operations
    for route in routes:
        if route.kind != "api":
            continue
        module = importlib.import_module(route.module)
        assert callable(getattr(module, route.endpoint.rsplit(".", 1)[1])), route
        assert route.domain == route.module.split(".")[-2]
    paths = {r.path for r in routes}
    assert {"/api-docs", "/api-docs/openapi.json", "/"} <= paths
    spa = next(r for r in routes if r.path == "/")
    assert spa.kind == "static" and spa.summary == "studypath/static/index.html"
    assert spa.endpoint == "studypath.app.SinglePageApp"


async def test_routes_table_markdown_and_diagram_agree(system: System) -> None:
    app = app_of(system)
    routes = viz.api_routes(app)
    table = viz.routes_table(app)
    assert [(row["method"], row["path"]) for row in table] == [(r.method, r.path) for r in routes]
    markdown = viz.routes_markdown(app).splitlines()
    assert len(markdown) == 2 + len(routes)
    overview = viz.routes_diagram(app).source
    assert overview.startswith("graph TD\n") and 'db[("PostgreSQL")]' in overview
    assert overview.splitlines()[1].startswith('    browser["Browser"]')  # entry point on top
    for route in routes:
        assert any(f"`{route.path}`" in line for line in markdown)
    for domain in {r.domain for r in routes if r.kind == "api"}:
        count = sum(r.kind == "api" and r.domain == domain for r in routes)
        assert f'domain_{domain}["{domain}<br/>{count} routes"]' in overview
        assert f"    domain_{domain} --> db" in overview
        detail = viz.routes_diagram(app, domain).source
        for route in (r for r in routes if r.kind == "api" and r.domain == domain):
            assert f'["{route.method} {route.path}<br/>' in detail


async def test_no_route_diagram_grows_unreadable(system: System) -> None:
    app = app_of(system)
    assert viz.node_count(viz.routes_diagram(app)) <= MAX_NODES
    for domain in {r.domain for r in viz.api_routes(app) if r.kind == "api"}:
        assert viz.node_count(viz.routes_diagram(app, domain)) <= MAX_NODES
    with pytest.raises(ValueError, match="domains"):
        viz.routes_diagram(app, "no_such_domain")


def test_schema_overview_shows_every_table_and_foreign_key_grouped_by_domain() -> None:
    source = viz.schema_overview(metadata).source
    domains = viz.table_domains(metadata)
    assert domains["tasks"] == "tasks" and domains["sessions"] == "auth"
    for name in metadata.tables:
        assert f'{name}["{name}"]' in source
    for table in metadata.tables.values():
        for fk in table.foreign_key_constraints:
            assert f"    {fk.referred_table.name} --> {table.name}" in source
    assert viz.node_count(viz.schema_overview(metadata)) <= MAX_NODES


def test_each_domain_er_diagram_is_small_and_shows_its_foreign_keys_targets() -> None:
    for domain in set(viz.table_domains(metadata).values()):
        diagram = viz.er_diagram(metadata, domain=domain)
        assert viz.node_count(diagram) <= 8, domain
        attribute_lines = sum(line.startswith("        ") for line in diagram.source.splitlines())
        assert attribute_lines <= 60, domain
    notes = viz.er_diagram(metadata, domain="notes").source
    assert "    notes {" in notes and "    users {" not in notes  # users: a bare box
    assert 'users ||--o{ notes : "owner_id"' in notes
    with pytest.raises(ValueError, match="domains"):
        viz.er_diagram(metadata, domain="nothing")


probe = APIRouter(tags=["probe"])


@probe.get("/ping")
async def ping() -> dict[str, bool]:
    return {"pong": True}


@probe.get("/hidden", include_in_schema=False)
async def hidden() -> dict[str, bool]:
    return {"hidden": True}


def mount_probe(app: FastAPI) -> None:
    app.include_router(probe, prefix="/api/v1/probe")


async def test_a_newly_mounted_router_appears_as_its_own_domain(settings: Settings) -> None:
    async with running_system(settings, app_hooks=[mount_probe]) as system:
        app = app_of(system)
        routes = {(r.method, r.path): r for r in viz.api_routes(app)}
        route = routes[("GET", "/api/v1/probe/ping")]
        assert route.endpoint == f"{__name__}.ping"
        assert route.domain == "test_viz" and route.tags == ("probe",)
        secret = routes[("GET", "/api/v1/probe/hidden")]  # not in OpenAPI, still an API route
        assert (secret.kind, secret.domain, secret.summary) == ("api", "test_viz", HIDDEN)
        assert "/api/v1/probe/hidden" not in app.openapi()["paths"]
        assert '["GET /api/v1/probe/ping<br/>ping()"]' in viz.routes_diagram(app, "test_viz").source
        async with client_for(system) as client:
            assert (await client.get("/api/v1/probe/ping")).json() == {"pong": True}


# ----------------------------------------------------------------------------- one request


def test_request_flow_escapes_sql_and_shows_the_answer() -> None:
    sql = "SELECT a;\n  -- #note\n FROM t WHERE x >= 1"
    entries = [
        sql_entry(sql),
        request_end("GET", "/x", endpoint="app.api.make_x", status=201, duration_ms=12.345),
    ]
    source = viz.request_flow(entries).source
    assert source.startswith("sequenceDiagram\n")
    assert "participant Handler as make_x" in source
    assert f"Handler->>Database: {short_sql(sql)}" in source
    assert "201 in 12.3 ms" in source
    for line in source.splitlines()[1:]:
        assert not set(line) & set(';#"\n'), line


def test_request_flow_refuses_entries_of_several_requests() -> None:
    other = log_entry("studypath.http", "m", request_id="r2")
    with pytest.raises(ValueError, match="one request"):
        viz.request_flow([sql_entry("SELECT 1"), other])


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """A Workbench routes our loggers to its ring buffer; put them back for other tests."""
    loggers = [logging.getLogger(name) for name in (*OWNED_LOGGERS, *QUIET_LOGGERS)]
    loggers.append(logging.getLogger("studypath.sql"))
    saved = [(lg, lg.level, lg.propagate, list(lg.handlers)) for lg in loggers]
    yield
    for lg, level, propagate, handlers in saved:
        lg.setLevel(level)
        lg.propagate = propagate
        lg.handlers[:] = handlers


def test_request_flow_of_a_real_request(
    database_url: str, tmp_path: Path, restore_logging: None
) -> None:
    wb = studypath.start(database_url=database_url, data_dir=tmp_path, port=0)
    try:
        with wb.client() as client:
            response = client.get("/api/v1/health/detailed", headers={"X-Request-ID": "viz-1"})
            missing = client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "viz-2"})
        flow = viz.request_flow_for(wb, "viz-1").source
        trace = viz.request_trace(wb.log_entries(request_id="viz-1"))
        statements = [
            e.fields["statement"]
            for e in wb.log_entries(request_id="viz-1")
            if e.logger == "studypath.sql"
        ]
        lost = viz.request_flow_for(wb, "viz-2").source
    finally:
        wb.stop()

    assert response.status_code in (200, 503)
    assert trace.status == response.status_code and trace.handler == "health_detailed"
    assert trace.statements == statements
    assert "SELECT version_num FROM alembic_version" in statements  # the schema check ran
    assert flow.count("Handler->>Database: ") == len(statements) >= 3
    for statement in statements:
        assert f"Handler->>Database: {short_sql(statement)}" in flow
    assert "participant Handler as health_detailed" in flow
    assert f"Middleware-->>Client: {response.status_code} in " in flow
    assert "X-Request-ID viz-1" in flow

    assert missing.status_code == 404
    assert "Handler->>Database" not in lost
    assert "Middleware-->>Client: 404 in " in lost and "matches no route" in lost
