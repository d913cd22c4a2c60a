"""What the system's telemetry records of each HTTP request: the request metrics, and the
request's span named by its route. `core.middleware` calls it (as its `RequestObserver`);
`app.py` connects the two, so core needs to know nothing of metrics or traces.
"""

from __future__ import annotations

from opentelemetry import trace

from studypath.telemetry.metrics import HTTP_IN_FLIGHT, observe_request
from studypath.telemetry.tracing import LAYER


class HttpTelemetry:
    """Counts requests in flight, and records each finished one (counter, latency, span)."""

    def request_started(self) -> None:
        HTTP_IN_FLIGHT.inc()

    def request_finished(
        self, method: str, route: str, status: int, seconds: float, request_id: str
    ) -> None:
        HTTP_IN_FLIGHT.dec()
        observe_request(method, route, status, seconds)
        span = trace.get_current_span()
        if span.is_recording():  # name the request's span by its route, not its raw path
            span.update_name(f"{method} {route}")
            span.set_attribute("http.route", route)
            span.set_attribute(LAYER, "api")
            span.set_attribute("studypath.request_id", request_id)
