"""The `webhook` task: one real HTTP request (httpx), bounded in time, judged by its status.

A 2xx answer is success. Everything else fails the attempt, and whether another attempt
can help decides how:

- 5xx, 408 (request timeout), 429 (too many requests), timeouts and connection errors are
  the other side being busy or down: retried, with the task's backoff.
- Any other 4xx (400, 401, 403, 404, 422 …) says the request itself is wrong — the same
  bytes to the same URL will get the same answer — so the task fails at once
  (PermanentError) and waits in the dead letters until someone fixes and retries it.
- 3xx: redirects are not followed (a POST must not silently turn into a GET elsewhere),
  so a redirect is also permanent; the error names where it pointed.

Each request carries `Idempotency-Key: <task id>` (unless the payload sets one), so a
receiver can tell a retry from a new event.

Two payload shapes: studypath's `{url, method, json | body, headers, timeout_seconds}` and
the reference system's `{url, method, payload}`, whose `payload` is the JSON body sent.

Where a task's URL may point is checked before anything is sent (server-side request
forgery: a task must not become a way into the internal network). The host is resolved
once, every address it resolves to is checked, and the request goes to the checked
address — with the original `Host` header and TLS server name — so a DNS answer that
changes between the check and the connection cannot slip past it. Link-local addresses
(cloud metadata services) and addresses that name no host (`0.0.0.0`, `::`, multicast)
are always refused; loopback (`127.0.0.0/8`, `::1`) and private ones (`10/8`, `172.16/12`,
`192.168/16`, `fc00::/7`) unless `STUDYPATH_WEBHOOK_ALLOW_PRIVATE_NETWORKS` (false by
default; the workbench turns it on for its exercises). An IPv4 address written as IPv6
(`::ffff:127.0.0.1`, or NAT64's `64:ff9b::7f00:1`) is judged as the IPv4 address it is.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from typing import Annotated, Any, Literal, TypedDict

import httpx
from pydantic import (
    AnyHttpUrl,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    model_validator,
)

from studypath.core.validation import InputModel
from studypath.tasks.handlers.common import EitherShape, TwoShapes, shape_by_key
from studypath.tasks.registry import (
    BreakerConfig,
    PermanentError,
    TaskContext,
    builtin_task,
)
from studypath.version import __version__

MAX_HEADERS = 50
MAX_BODY_CHARS = 512 * 1024
RETRIABLE_4XX = frozenset({408, 429})

HeaderName = Annotated[
    str, StringConstraints(min_length=1, max_length=256, pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
]
HeaderValue = Annotated[str, StringConstraints(max_length=8192, pattern=r"^[^\r\n]*$")]
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


class WebhookPayload(InputModel):
    """studypath's shape, and the form the handler works with."""

    model_config = ConfigDict(title="WebhookPayload")

    url: AnyHttpUrl = Field(description="http:// or https:// URL.")
    method: Method = "POST"
    json_: Any = Field(default=None, alias="json", description="Sent as a JSON body.")
    body: str | None = Field(default=None, max_length=MAX_BODY_CHARS, description="Raw body.")
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict, max_length=MAX_HEADERS)
    timeout_seconds: float = Field(default=10.0, gt=0, le=60, strict=True)

    @model_validator(mode="after")
    def _one_body(self) -> WebhookPayload:
        if self.json_ is not None and self.body is not None:
            raise ValueError("give either json or body, not both")
        return self


class ReferenceWebhookPayload(InputModel):
    """The reference system's shape: `payload` is the JSON body."""

    model_config = ConfigDict(title="ReferenceWebhookPayload")

    url: AnyHttpUrl = Field(description="http:// or https:// URL.")
    method: Method = "POST"
    payload: Any = Field(description="Sent as the JSON body (null: no body).")


WebhookShapes = Annotated[
    EitherShape[WebhookPayload, ReferenceWebhookPayload], shape_by_key("payload")
]


class WebhookRequest(TwoShapes, RootModel[WebhookShapes]):
    """{url, method, json | body, headers, timeout_seconds} (studypath) or {url, method,
    payload} (reference; payload = the JSON body)."""

    def normalised(self) -> WebhookPayload:
        if isinstance(self.root, WebhookPayload):
            return self.root
        return WebhookPayload(url=self.root.url, method=self.root.method, json=self.root.payload)


class WebhookResult(TypedDict):
    status_code: int
    elapsed_ms: float
    response_bytes: int


class WebhookFailed(Exception):
    """The receiver was down, slow or busy (5xx, 408, 429, timeout, connection): retried."""


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: an IPv4 address inside IPv6


def embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one stands for (mapped `::ffff:a.b.c.d`, NAT64), else itself:
    `::ffff:127.0.0.1` reaches this machine's loopback and must be judged as 127.0.0.1."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why a webhook may not call this address, or None when it may. One rule for IPv4
    and IPv6: link-local (169.254/16, fe80::/10) never; no host (0.0.0.0, ::, multicast,
    reserved) never; loopback (127/8, ::1) and private (10/8, 172.16/12, 192.168/16,
    fc00::/7 …) only when allowed."""
    address = embedded_ipv4(address)
    if address.is_link_local:
        return "a link-local address (where cloud metadata services answer)"
    if address.is_unspecified or address.is_multicast:
        return "not a host address"
    # Before `is_reserved`: Python counts ::1 as reserved (all of ::/8 is), 127.0.0.1 not.
    if address.is_loopback or address.is_private:
        if allow_private:
            return None
        return "a loopback or private address (STUDYPATH_WEBHOOK_ALLOW_PRIVATE_NETWORKS is false)"
    if address.is_reserved:
        return "not a host address"
    return None


async def checked_address(url: httpx.URL, *, allow_private: bool) -> str:
    """Resolve the URL's host once; refuse it if any of its addresses may not be called;
    return the address to connect to."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            url.host, url.port or (443 if url.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except socket.gaierror as exc:
        raise WebhookFailed(f"cannot resolve {url.host}: {exc.strerror or exc}") from None
    addresses = [str(info[4][0]).split("%")[0] for info in infos]
    for address in addresses:
        why = refusal(ipaddress.ip_address(address), allow_private=allow_private)
        if why is not None:
            shown = url.host if url.host == address else f"{url.host} ({address})"
            raise PermanentError(f"refused to call {shown}: {why}")
    return addresses[0]


@builtin_task(
    "webhook",
    "Make an HTTP request; a 2xx answer is success, 5xx and timeouts are retried",
    payload=WebhookRequest,
    timeout=90,
    breaker=BreakerConfig(failure_threshold=5, recovery_timeout_seconds=30),
)
async def call_webhook(request_payload: WebhookRequest, ctx: TaskContext) -> WebhookResult:
    """Send the request; the whole exchange (body included) must fit in timeout_seconds."""
    payload = request_payload.normalised()
    url = httpx.URL(str(payload.url))
    shown = str(url.copy_with(username=None, password=None))  # errors show no password
    allow_private = ctx.settings.webhook_allow_private_networks
    headers = httpx.Headers(
        {"User-Agent": f"studypath-webhook/{__version__}", "Idempotency-Key": str(ctx.task_id)}
    )
    headers.update(payload.headers)  # case-insensitive: the payload's own headers win
    headers["Host"] = url.netloc.decode("ascii")  # the name, though we connect to the address
    started = time.perf_counter()
    try:
        async with asyncio.timeout(payload.timeout_seconds):
            address = await checked_address(url, allow_private=allow_private)
            async with httpx.AsyncClient(timeout=payload.timeout_seconds) as client:
                request = client.build_request(
                    payload.method,
                    url.copy_with(host=address),
                    headers=headers,
                    json=payload.json_,
                    content=payload.body,
                    extensions={"sni_hostname": url.host} if url.scheme == "https" else None,
                )
                response = await client.send(request, stream=True)
                try:
                    received = 0  # counted, not kept: the answer can be any size
                    async for chunk in response.aiter_raw():
                        received += len(chunk)
                finally:
                    await response.aclose()
    except TimeoutError:
        raise WebhookFailed(
            f"{payload.method} {shown}: no complete answer within {payload.timeout_seconds:g} s"
        ) from None
    except httpx.HTTPError as exc:
        raise WebhookFailed(f"{payload.method} {shown}: {type(exc).__name__}: {exc}") from None
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    status = response.status_code
    if 200 <= status < 300:
        return {"status_code": status, "elapsed_ms": elapsed_ms, "response_bytes": received}
    what = f"{payload.method} {shown} answered {status} {response.reason_phrase}"
    if status >= 500 or status in RETRIABLE_4XX:
        raise WebhookFailed(what)
    if 300 <= status < 400:
        location = response.headers.get("location", "?")
        raise PermanentError(f"{what} (redirect to {location}; redirects are not followed)")
    raise PermanentError(f"{what}; the request itself was refused, so it is not retried")
