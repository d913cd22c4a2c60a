"""`ProbeRoute`: the route class of the orchestrators' probes (`/health/live`, `/ready`,
`/startup`), which skips FastAPI's request handling.

For every other route FastAPI reads the body, solves the dependencies, runs the handler, then
validates its answer against `response_model` and serializes it. A probe needs none of it: it
takes nothing from the request (at most the request itself, to reach the app's state) and
returns its finished `Response` (`core.responses.json_answer`). For a liveness probe that
handling was over a third of the server's work per request — and an orchestrator polls every
probe of every instance every few seconds.

What stays as for any route: matching (a POST still answers 405), the middleware (request id,
security headers, metrics, access log), the exception handlers (a probe's `AppError` is the
503 envelope), the `handler` span (`TracedRoute`), and the OpenAPI document, which FastAPI
still writes from the route's declaration and `response_model`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from studypath.telemetry.tracing import TracedRoute

# The one parameter a probe may take.
REQUEST_PARAMETER = "request"


class ProbeRoute(TracedRoute):
    """A route whose handler takes no parameters, or only `request`, and returns a Response;
    FastAPI's dependency solving and response validation are skipped."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        parameters = list(inspect.signature(endpoint).parameters)
        if parameters not in ([], [REQUEST_PARAMETER]):
            raise TypeError(
                f"{endpoint.__qualname__}: a probe takes no parameters, or only "
                f"`{REQUEST_PARAMETER}: Request` (it has {parameters}); use a normal route "
                "for anything that needs dependencies"
            )
        self.takes_request = bool(parameters)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint  # TracedRoute's wrapper: the handler span, when recording
        takes_request = self.takes_request

        async def answer(request: Request) -> Response:
            response = await (endpoint(request) if takes_request else endpoint())
            if not isinstance(response, Response):
                raise TypeError(
                    f"{endpoint.__qualname__} must return a Response (a probe's answer is "
                    f"not validated by FastAPI), not {type(response).__name__}"
                )
            return response

        return answer


__all__ = ["REQUEST_PARAMETER", "ProbeRoute"]
