"""The outermost layer of every request: id, security headers, JSON-only bodies, body size
limit, a deadline for API requests, access log.

Written as plain ASGI (not BaseHTTPMiddleware) so it costs little and sees every response,
including the masked 500 it produces itself when a handler raises something unexpected.
Every request passes here, so its work is kept small: the log record is only built when the
logger would keep it, and the orchestrators' probes (`quiet_paths`), polled every few seconds
by every load balancer, are access-logged at DEBUG while they succeed.

Metrics and traces are not core's business: the app hands the middleware a
`RequestObserver` (`telemetry.http.HttpTelemetry`), told when each request starts and ends.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Collection
from typing import Any, Protocol

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from studypath.core.errors import ErrorCode, error_body
from studypath.core.logging import request_id_var, user_id_var

log = logging.getLogger("studypath.http")

REQUEST_ID_HEADER = "x-request-id"
# A client may send its own id (to correlate with its logs) if it is short and plain.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# API answers may carry tokens, keys and personal data: no cache (browser, proxy) keeps them,
# unless a handler chose its own Cache-Control.
API_CACHE_CONTROL = b"no-store"
# The web page loads its script, style and data from this server only; nothing may frame it.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
RETRY_AFTER = [(b"retry-after", b"1")]


class RequestObserver(Protocol):
    """Told of every request: when it starts, and once when it ends (its route template,
    not its raw path)."""

    def request_started(self) -> None: ...

    def request_finished(
        self, method: str, route: str, status: int, seconds: float, request_id: str
    ) -> None: ...


class NoObserver:
    """The observer of a middleware nobody watches (no metrics, no traces)."""

    def request_started(self) -> None:
        pass

    def request_finished(
        self, method: str, route: str, status: int, seconds: float, request_id: str
    ) -> None:
        pass


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a body grows past the limit; FastAPI lets HTTPExceptions
    through its body reading, so the handler never runs and the client gets the 413 envelope."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body is larger than {limit} bytes")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime == "application/json" or (
        mime.startswith("application/") and mime.endswith("+json")
    )


def _declared_length(scope: Scope) -> int | None:
    """The Content-Length the client announced, if it sent a readable one."""
    length = _header(scope, b"content-length")
    if length is None or not length.strip().isdigit():
        return None  # absent, or malformed (the HTTP server refuses those before us)
    return int(length)


def limited_receive(receive: Receive, limit: int) -> Receive:
    """`receive`, counting body bytes: past `limit` it raises BodyTooLarge instead of handing
    on more, so a chunked body (no Content-Length) is not read further than the limit."""
    received = 0

    async def receive_counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return receive_counted


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return _header(scope, b"transfer-encoding") is not None


def _route_fields(scope: Scope) -> dict[str, str]:
    """Which route template and handler served the request (set by the router on the scope).

    The template as the OpenAPI document writes it (`/tasks/{task_id}`), without the path
    converter the route declares (`{task_id:uuid}`)."""
    fields: dict[str, str] = {}
    route = scope.get("route")
    if route is not None and hasattr(route, "path"):
        fields["route"] = str(getattr(route, "path_format", route.path))
    endpoint = scope.get("endpoint")
    if endpoint is not None and hasattr(endpoint, "__qualname__"):
        fields["endpoint"] = f"{endpoint.__module__}.{endpoint.__qualname__}"
    return fields


def _unrouted(path: str) -> str:
    """Metric label for requests no route matched: two values, never the raw path."""
    return "<unknown api route>" if path.startswith("/api/") else "<static or spa>"


# Handlers the request timeout gave up on, still unwinding: referenced until they end (the
# event loop keeps only weak references to tasks).
_ABANDONED: set[asyncio.Task[None]] = set()


def _abandon(handler: asyncio.Task[None]) -> None:
    handler.cancel()
    _ABANDONED.add(handler)
    handler.add_done_callback(_ABANDONED.discard)


class RequestContextMiddleware:
    """Give each request an id, guard its content type, stamp headers, bound an API
    request's time, log one line.

    `request_timeout` (seconds, 0: none): an API request still running after it is cancelled
    and answers 503 — whatever it waits for (a database behind a partition that accepts
    bytes and never answers, a pool with no free connection) holds neither the client nor
    the server forever. `on_timeout` is told each time (the app marks the database suspect,
    so readiness looks again)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        api_prefix: str = "/api/",
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        page_csp: str = PAGE_CSP,
        observer: RequestObserver | None = None,
        request_timeout: float = 0.0,
        on_timeout: Callable[[], None] | None = None,
        quiet_paths: Collection[str] = (),
    ) -> None:
        self.app = app
        self.observer = observer or NoObserver()
        self.api_prefix = api_prefix
        self.max_body_bytes = max_body_bytes
        self.page_csp = page_csp.encode()
        self.request_timeout = request_timeout
        self.on_timeout = on_timeout
        self.quiet_paths = frozenset(quiet_paths)

    def access_log_level(self, path: str, status: int) -> int:
        """INFO for every request, except a successful one to a quiet path (a health probe):
        DEBUG. An orchestrator polls those every few seconds; at INFO they would bury the
        requests people read logs for. A failing probe (4xx, 5xx) is logged at INFO."""
        return logging.DEBUG if status < 400 and path in self.quiet_paths else logging.INFO

    def _response_headers(self, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        """Add the headers every response gets, and those of its kind (API answer, web page),
        unless the handler set its own."""
        names = {name.lower() for name, _ in headers}
        headers.extend(SECURITY_HEADERS)
        if path.startswith(self.api_prefix) and b"cache-control" not in names:
            headers.append((b"cache-control", API_CACHE_CONTROL))
        content_type = next(
            (value for name, value in headers if name.lower() == b"content-type"), b""
        )
        if content_type.startswith(b"text/html") and b"content-security-policy" not in names:
            headers.append((b"content-security-policy", self.page_csp))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        sent = _header(scope, REQUEST_ID_HEADER.encode())
        request_id = sent if sent and _VALID_REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
        rid_token = request_id_var.set(request_id)
        uid_token = user_id_var.set(None)
        scope.setdefault("state", {})["request_id"] = request_id
        method: str = scope["method"]
        path: str = scope["path"]
        started = time.perf_counter()
        status = 500
        response_started = False

        logged = False

        def log_end() -> None:
            nonlocal logged
            if logged:
                return
            logged = True
            duration_ms = (time.perf_counter() - started) * 1000
            route = _route_fields(scope)
            template = route.get("route", _unrouted(path))
            self.observer.request_finished(method, template, status, duration_ms / 1000, request_id)
            level = self.access_log_level(path, status)
            if not log.isEnabledFor(level):
                return  # nobody keeps the line: do not build it
            log.log(
                level,
                "%s %s -> %s (%.1f ms)",
                method,
                path,
                status,
                duration_ms,
                extra={
                    "layer": "api",
                    "event": "request.end",
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round(duration_ms, 2),
                    **route,
                },
            )

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                self._response_headers(path, headers)
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                log_end()  # before the client can see the end: its log line is already there
            await send(message)

        self.observer.request_started()
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "request started %s %s",
                method,
                path,
                extra={"layer": "api", "event": "request.start", "method": method, "path": path},
            )
        try:
            declared = _declared_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                await self._send_error(
                    send_with_headers,
                    413,
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    f"Request body is larger than {self.max_body_bytes} bytes",
                )
            elif (
                path.startswith(self.api_prefix)
                and method in BODY_METHODS
                and _has_body(scope)
                and not _is_json(_header(scope, b"content-type"))
            ):
                await self._send_error(
                    send_with_headers,
                    415,
                    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    "Request body must be JSON (Content-Type: application/json)",
                )
            else:
                receive_limited = limited_receive(receive, self.max_body_bytes)
                if await self._run_within_deadline(scope, receive_limited, send_with_headers):
                    self._timed_out(method, path)
                    if not response_started:
                        await self._send_error(
                            send_with_headers,
                            503,
                            ErrorCode.SERVICE_UNAVAILABLE,
                            f"The request did not finish within {self.request_timeout:g} s "
                            "and was stopped. Try again in a moment.",
                            headers=RETRY_AFTER,
                        )
        except BodyTooLarge as too_large:  # read outside a route (no handler turned it into 413)
            if not response_started:
                await self._send_error(
                    send_with_headers, 413, ErrorCode.PAYLOAD_TOO_LARGE, str(too_large.detail)
                )
        except Exception:
            log.exception("unhandled error on %s %s", method, path)
            if not response_started:
                await self._send_error(
                    send_with_headers, 500, ErrorCode.INTERNAL_ERROR, "Internal server error"
                )
        finally:
            log_end()
            user_id_var.reset(uid_token)
            request_id_var.reset(rid_token)

    async def _run_within_deadline(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Run the app; True when the request timeout ran out first (API paths only).

        The app runs as a task of its own, so the answer goes out at the deadline: the
        handler is cancelled and unwinds in the background — a database driver cancelling
        its query may take seconds more — without the client waiting for it, and without
        it sending anything after the 503. The quiet paths (health probes) run as they are:
        their database check has its own bound, and a probe must stay cheap."""
        path = scope["path"]
        if (
            self.request_timeout <= 0
            or not path.startswith(self.api_prefix)
            or path in self.quiet_paths
        ):
            await self.app(scope, receive, send)
            return False
        abandoned = False

        async def send_unless_abandoned(message: Message) -> None:
            if not abandoned:
                await send(message)

        async def run_app() -> None:
            await self.app(scope, receive, send_unless_abandoned)

        handler = asyncio.create_task(run_app())
        try:
            done, _ = await asyncio.wait({handler}, timeout=self.request_timeout)
        except asyncio.CancelledError:  # the server is stopping: so does the handler
            _abandon(handler)
            raise
        if done:
            handler.result()  # the app's own error, if it raised one, goes on as before
            return False
        abandoned = True
        _abandon(handler)
        return True

    def _timed_out(self, method: str, path: str) -> None:
        log.warning("%s %s stopped: no answer within %g s", method, path, self.request_timeout)
        if self.on_timeout is not None:
            self.on_timeout()

    @staticmethod
    async def _send_error(
        send: Send,
        status: int,
        code: str,
        message: str,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        body: Any = json.dumps(error_body(code, message)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *(headers or []),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
