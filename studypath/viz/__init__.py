"""Pictures of the live system: mermaid output, and diagrams generated from the app itself."""

from studypath.viz.diagrams import (
    RouteInfo,
    api_routes,
    er_diagram,
    request_flow,
    request_flow_for,
    request_trace,
    routes_diagram,
    routes_markdown,
    routes_table,
)
from studypath.viz.mermaid import Mermaid, mermaid

__all__ = [
    "Mermaid",
    "RouteInfo",
    "api_routes",
    "er_diagram",
    "mermaid",
    "request_flow",
    "request_flow_for",
    "request_trace",
    "routes_diagram",
    "routes_markdown",
    "routes_table",
]
