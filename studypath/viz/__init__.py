"""Pictures of the live system: mermaid output, and diagrams generated from the app itself."""

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
    table_domains,
)
from studypath.viz.mermaid import Mermaid, mermaid

__all__ = [
    "Mermaid",
    "RouteInfo",
    "api_routes",
    "er_diagram",
    "mermaid",
    "node_count",
    "request_flow",
    "request_flow_for",
    "request_trace",
    "routes_diagram",
    "routes_markdown",
    "routes_table",
    "schema_overview",
    "table_domains",
]

# Who may call what, computed from the routes' dependencies (studypath/viz/access.py).
from studypath.viz.access import (
    AccessRule,
    access_diagram,
    access_markdown,
    access_matrix,
    may_call,
)

__all__ += ["AccessRule", "access_diagram", "access_markdown", "access_matrix", "may_call"]

# The task queue: lifecycle and breaker state machines, retry timelines (studypath/viz/tasks.py).
from studypath.viz.tasks import (  # noqa: E402  (appended after the access block)
    BREAKER_TRANSITIONS,
    AttemptMark,
    TaskTimeline,
    breaker_diagram,
    lifecycle_diagram,
    retry_timeline,
    task_journey,
)

__all__ += [
    "BREAKER_TRANSITIONS",
    "AttemptMark",
    "TaskTimeline",
    "breaker_diagram",
    "lifecycle_diagram",
    "retry_timeline",
    "task_journey",
]
