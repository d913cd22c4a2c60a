"""Pictures of the live system: mermaid output, and diagrams generated from the app itself.

- routes, schema and request flows (`diagrams`);
- who may call what, computed from the routes' dependencies (`access`);
- the task queue: lifecycle and breaker state machines, retry timelines (`tasks`).
"""

from studypath.viz.access import (
    AccessRule,
    access_diagram,
    access_markdown,
    access_matrix,
    may_call,
)
from studypath.viz.diagrams import (
    RouteInfo,
    api_routes,
    er_diagram,
    node_count,
    request_flow,
    request_flow_for,
    request_trace,
    routes_diagram,
    routes_markdown,
    routes_table,
    schema_overview,
    short_sql,
    table_domains,
)
from studypath.viz.mermaid import Mermaid, escape, mermaid
from studypath.viz.tasks import (
    BREAKER_TRANSITIONS,
    AttemptMark,
    TaskTimeline,
    breaker_diagram,
    lifecycle_diagram,
    retry_timeline,
    task_journey,
)
from studypath.viz.traces import layer_of

__all__ = [
    "BREAKER_TRANSITIONS",
    "AccessRule",
    "AttemptMark",
    "Mermaid",
    "RouteInfo",
    "TaskTimeline",
    "access_diagram",
    "access_markdown",
    "access_matrix",
    "api_routes",
    "breaker_diagram",
    "er_diagram",
    "escape",
    "layer_of",
    "lifecycle_diagram",
    "may_call",
    "mermaid",
    "node_count",
    "request_flow",
    "request_flow_for",
    "request_trace",
    "retry_timeline",
    "routes_diagram",
    "routes_markdown",
    "routes_table",
    "schema_overview",
    "short_sql",
    "table_domains",
    "task_journey",
]
