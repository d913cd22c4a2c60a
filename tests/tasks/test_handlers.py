"""The built-in task handlers, against real things: an SMTP server (aiosmtpd), an HTTP server
(http.server in a thread), the data directory on disk and this test's PostgreSQL database.

Most tests call a handler the way the worker does (`spec.parse_payload`, then the handler
with a TaskContext); a few run tasks end to end through the API and a real worker.
"""

from __future__ import annotations

import asyncio
import csv
import email
import email.policy
import ipaddress
import json
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

import studypath.tasks.handlers  # noqa: F401  (registers the built-in types)
from studypath.config import Settings
from studypath.core.clock import poll_until_async
from studypath.core.db import Database
from studypath.identity.roles import Role
from studypath.runtime import _allow_local_webhooks
from studypath.tasks.handlers import builtin_registry
from studypath.tasks.handlers.email import SmtpUnavailable
from studypath.tasks.handlers.webhook import WebhookFailed, refusal
from studypath.tasks.models import Task, TaskType
from studypath.tasks.registry import PermanentError, TaskCancelled, TaskContext
from studypath.tasks.states import TaskStatus
from studypath.testing.database import TestPostgres
from studypath.testing.factories import DEFAULT_PASSWORD, make_task, make_task_type, make_user
from studypath.testing.server import client_for, running_system
from tests.support.tasking import wait_for_status

pytestmark = pytest.mark.timeout(60)

FAST_RETRIES = {"type": "fixed", "base_delay_seconds": 0.05, "jitter": False}


# --------------------------------------------------------------------------- helpers
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def context(settings: Settings, db: Database, **fields: Any) -> TaskContext:
    """A TaskContext like the worker builds for attempt 1 of a fresh task."""
    values: dict[str, Any] = {"task_id": uuid.uuid4(), "task_type": "test"}
    values.update(fields)
    return TaskContext.build(db=db, settings=settings, **values)


BUILTIN_TYPES = builtin_registry()


async def run_handler(name: str, payload: Any, ctx: TaskContext) -> Any:
    """What the worker does with a claimed task: validate the payload, call the handler."""
    spec = BUILTIN_TYPES.get(name)
    assert spec is not None, f"{name} is not registered"
    return await spec.handler(spec.parse_payload(payload), ctx)


def bad_payloads(task_type: str, rows: list[tuple[dict[str, Any], str]]) -> list[Any]:
    """`(payload, the field its error names)` rows of one type, as parameters of
    `test_bad_payloads_name_the_field` (each handler's section keeps its own rows)."""
    return [pytest.param(task_type, payload, field_name) for payload, field_name in rows]


def read_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def read_email(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


# Handlers that do not query the database share one per module (cloning one per test is the
# slowest part of a test); the report tests and the end-to-end ones get their own.
@pytest.fixture(scope="module")
def shared_database_url(postgres: TestPostgres) -> Iterator[str]:
    with postgres.cloned() as url:
        yield url


@pytest.fixture
def local_settings(shared_database_url: str, tmp_path: Path) -> Settings:
    """Settings for calling a handler directly: a fresh data directory, no SMTP server,
    webhooks to this machine allowed (the test servers listen on loopback)."""
    return Settings(
        database_url=shared_database_url,
        data_dir=tmp_path / "data",
        webhook_allow_private_networks=True,
    )


@pytest.fixture
async def local_db(shared_database_url: str) -> AsyncIterator[Database]:
    database = Database(shared_database_url, pool_size=1)
    yield database
    await database.dispose()


# --------------------------------------------------------------------------- an SMTP server
@dataclass
class Inbox:
    """aiosmtpd handler: keeps what it accepts; refuses nobody@… (550) and busy@… (451)."""

    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        if address.startswith("busy@"):
            return "451 4.3.0 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        parsed = []
        for envelope in self.envelopes:
            content = envelope.content
            assert isinstance(content, bytes)
            message = email.message_from_bytes(content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed


def check_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data == (b"mailer", b"s3cret")
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


@dataclass
class SmtpServer:
    inbox: Inbox
    port: int


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=check_login,
        auth_require_tls=False,  # a test server on loopback; production would use STARTTLS
    )
    controller.start()
    try:
        yield SmtpServer(inbox, port)
    finally:
        controller.stop()


# --------------------------------------------------------------------------- an HTTP server
@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    header_list: list[tuple[str, str]]  # as sent, repeats included


class Recorder(BaseHTTPRequestHandler):
    """/status/<code> answers that code; /slow answers after a second; anything else 200."""

    server: WebServer

    def answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.seen.append(
            Seen(self.command, self.path, dict(self.headers), body, list(self.headers.items()))
        )
        path = urlsplit(self.path).path
        code = int(path.removeprefix("/status/")) if path.startswith("/status/") else 200
        if path == "/slow":
            time.sleep(1.0)
        reply = json.dumps({"ok": 200 <= code < 300, "echo": len(body)}).encode()
        try:
            self.send_response(code)
            if 300 <= code < 400:
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout test): nothing to answer

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


class WebServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Recorder)
        self.seen: list[Seen] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


@pytest.fixture
def web_server() -> Iterator[WebServer]:
    server = WebServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --------------------------------------------------------------------------- a live system
@dataclass
class Live:
    """The system with one worker, and a signed-in user's HTTP client."""

    http: httpx.AsyncClient
    headers: dict[str, str]

    async def create(self, task_type: str, payload: dict[str, Any], **extra: Any) -> str:
        body = {"task_type": task_type, "payload": payload, **extra}
        response = await self.http.post("/api/v1/tasks", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        task_id: str = response.json()["data"]["id"]
        return task_id

    async def get(self, task_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/api/v1/tasks/{task_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        task: dict[str, Any] = response.json()["data"]
        return task

    async def wait_for(self, task_id: str, *statuses: str, within: float = 10.0) -> dict[str, Any]:
        return await wait_for_status(lambda: self.get(task_id), task_id, statuses, within)


@pytest.fixture
async def live(settings: Settings, session: AsyncSession) -> AsyncIterator[Live]:
    await make_user(session, username="carol")
    local = settings.model_copy(update={"webhook_allow_private_networks": True})
    async with running_system(local, workers=1) as system, client_for(system) as http:
        login = await http.post(
            "/api/v1/auth/login", json={"username": "carol", "password": DEFAULT_PASSWORD}
        )
        assert login.status_code == 200, login.text
        token = login.json()["data"]["session_token"]

        async def registered() -> bool:  # the worker upserts its types as it starts
            types = (await http.get("/api/v1/tasks/types")).json()["data"]
            return "delay_task" in {entry["task_type"] for entry in types}

        await poll_until_async(registered, within=10, what="the worker to register its types")
        yield Live(http, {"Authorization": f"Bearer {token}"})


# =========================================================================== email
async def test_email_without_smtp_host_is_written_to_the_outbox(
    local_settings: Settings, local_db: Database
) -> None:
    ctx = context(local_settings, local_db)
    before = datetime.now(UTC).replace(microsecond=0)  # the Date header counts whole seconds
    result = await run_handler(
        "email",
        {
            "to": ["ann@example.com", "bob@example.com"],
            "subject": "Grüße from studypath",
            "body": "Hello,\nthe report is ready.\n",
            "from": "reports@example.com",
        },
        ctx,
    )

    assert result["delivered_via"] == "file"
    assert result["recipients"] == ["ann@example.com", "bob@example.com"]
    assert result["message_id"] == f"<{ctx.task_id}@example.com>"
    path = Path(result["path"])
    assert path.parent == (local_settings.data_dir / "outbox").resolve()
    assert re.fullmatch(rf"\d{{8}}T\d{{6}}Z-{ctx.task_id.hex}\.eml", path.name)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    message = read_email(path)
    assert message["From"] == "reports@example.com"
    assert message["To"] == "ann@example.com, bob@example.com"
    assert message["Subject"] == "Grüße from studypath"
    assert message["Message-ID"] == result["message_id"]
    sent = email.utils.parsedate_to_datetime(message["Date"])
    assert before <= sent <= datetime.now(UTC)  # stamped when it was written
    body = message.get_body()
    assert body is not None
    assert body.get_content() == "Hello,\nthe report is ready.\n"


async def test_email_outbox_must_stay_inside_the_data_directory(
    local_settings: Settings, local_db: Database, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    local_settings.data_dir.mkdir(parents=True)
    (local_settings.data_dir / "outbox").symlink_to(elsewhere)
    payload = {"to": "ann@example.com", "subject": "Hi", "body": "x"}

    with pytest.raises(PermanentError, match="outside the data directory"):
        await run_handler("email", payload, context(local_settings, local_db))
    assert list(elsewhere.iterdir()) == []


async def test_email_is_sent_over_smtp_when_a_host_is_configured(
    local_settings: Settings, local_db: Database, smtp_server: SmtpServer
) -> None:
    smtp = local_settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": smtp_server.port}
    )
    ctx = context(smtp, local_db)

    result = await run_handler(
        "email",
        {"to": "ann@example.com", "subject": "Over the wire", "body": "via SMTP"},
        ctx,
    )

    assert result == {
        "delivered_via": "smtp",
        "message_id": f"<{ctx.task_id}@localhost>",
        "recipients": ["ann@example.com"],
        "refused": {},
    }
    [envelope] = smtp_server.inbox.envelopes
    assert envelope.mail_from == "studypath@localhost"  # STUDYPATH_SMTP_FROM_ADDRESS default
    assert envelope.rcpt_tos == ["ann@example.com"]
    [message] = smtp_server.inbox.messages()
    assert message["Subject"] == "Over the wire"
    assert message["Message-ID"] == result["message_id"]
    assert not (smtp.data_dir / "outbox").exists()


async def test_smtp_login_and_partly_refused_recipients(
    local_settings: Settings, local_db: Database, smtp_server: SmtpServer
) -> None:
    smtp = local_settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,
            "smtp_username": "mailer",
            "smtp_password": SecretStr("s3cret"),
        }
    )
    payload = {"to": ["ann@example.com", "nobody@example.com"], "subject": "S", "body": "B"}

    result = await run_handler("email", payload, context(smtp, local_db))

    assert result["recipients"] == ["ann@example.com"]
    assert list(result["refused"]) == ["nobody@example.com"]
    assert result["refused"]["nobody@example.com"].startswith("550")
    assert smtp_server.inbox.envelopes[0].rcpt_tos == ["ann@example.com"]

    wrong = smtp.model_copy(update={"smtp_password": SecretStr("nope")})
    with pytest.raises(PermanentError, match="535"):  # a failed login is final: fix the config
        await run_handler("email", payload, context(wrong, local_db))


async def test_smtp_5xx_is_permanent_and_4xx_or_no_server_is_retried(
    local_settings: Settings, local_db: Database, smtp_server: SmtpServer
) -> None:
    smtp = local_settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": smtp_server.port}
    )

    with pytest.raises(PermanentError, match=r"nobody@example.com: 550"):
        await run_handler(
            "email",
            {"to": "nobody@example.com", "subject": "S", "body": "B"},
            context(smtp, local_db),
        )
    with pytest.raises(SmtpUnavailable, match="451"):
        await run_handler(
            "email",
            {"to": "busy@example.com", "subject": "S", "body": "B"},
            context(smtp, local_db),
        )
    nobody_listens = smtp.model_copy(update={"smtp_port": free_port()})
    with pytest.raises(SmtpUnavailable, match="unreachable"):
        await run_handler(
            "email",
            {"to": "ann@example.com", "subject": "S", "body": "B"},
            context(nobody_listens, local_db),
        )
    assert smtp_server.inbox.envelopes == []


EMAIL_BAD_PAYLOADS = bad_payloads(
    "email",
    [
        ({"to": "not-an-address", "subject": "S", "body": "B"}, "to.0"),
        ({"to": [], "subject": "S", "body": "B"}, "to"),
        ({"to": "a@example.com", "subject": "Hi\r\nBcc: eve@example.com", "body": "B"}, "subject"),
        ({"to": "a@example.com", "body": "B"}, "subject"),
        ({"to": "a@example.com", "subject": "S", "body": "B", "cc": "x"}, "cc"),
    ],
)


async def test_email_end_to_end_through_the_api_and_a_worker(
    live: Live, settings: Settings
) -> None:
    task_id = await live.create(
        "email", {"to": "dan@example.com", "subject": "Queued", "body": "from a worker"}
    )

    task = await live.wait_for(task_id, "completed")

    assert task["current_attempt"] == 1
    assert task["result"]["delivered_via"] == "file"
    path = Path(task["result"]["path"])
    assert path.name.endswith(f"-{uuid.UUID(task_id).hex}.eml")
    assert path.is_relative_to(settings.data_dir.resolve())
    assert read_email(path)["Subject"] == "Queued"


# =========================================================================== webhook
ORDER = {"order": 42, "paid": True}


@pytest.mark.parametrize(
    ("shape", "method"),
    [
        ({"json": ORDER, "headers": {"X-Signature": "abc"}}, "POST"),
        ({"payload": ORDER, "method": "PUT"}, "PUT"),  # the reference's: `payload` is the body
    ],
    ids=["studypath", "reference"],
)
async def test_webhook_2xx_succeeds_and_sends_the_json_body_of_either_shape(
    local_settings: Settings,
    local_db: Database,
    web_server: WebServer,
    shape: dict[str, Any],
    method: str,
) -> None:
    ctx = context(local_settings, local_db)

    result = await run_handler("webhook", {"url": web_server.url("/hooks/order"), **shape}, ctx)

    assert result["status_code"] == 200
    assert result["response_bytes"] == len(json.dumps({"ok": True, "echo": 26}))
    assert isinstance(result["elapsed_ms"], float)  # a figure to show, not to judge
    [seen] = web_server.seen
    assert (seen.method, seen.path) == (method, "/hooks/order")
    assert json.loads(seen.body) == ORDER
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Idempotency-Key"] == str(ctx.task_id)
    for name, value in shape.get("headers", {}).items():  # the payload's own headers
        assert seen.headers[name] == value


async def test_webhook_raw_body_other_methods_and_own_headers(
    local_settings: Settings, local_db: Database, web_server: WebServer
) -> None:
    result = await run_handler(
        "webhook",
        {
            "url": web_server.url("/status/204"),
            "method": "PUT",
            "body": "plain text",
            "headers": {"idempotency-key": "order-42"},
        },
        context(local_settings, local_db),
    )
    assert result["status_code"] == 204
    [seen] = web_server.seen
    assert (seen.method, seen.body) == ("PUT", b"plain text")
    keys = [value for name, value in seen.header_list if name.lower() == "idempotency-key"]
    assert keys == ["order-42"]  # the payload's header replaced ours, whatever its case


@pytest.mark.parametrize(
    ("status", "error", "why"),
    [
        # server errors and throttling: a later attempt may succeed
        (500, WebhookFailed, ""),
        (503, WebhookFailed, ""),
        (408, WebhookFailed, ""),
        (429, WebhookFailed, ""),
        # other 4xx and redirects: no attempt will
        (400, PermanentError, ".*refused"),
        (404, PermanentError, ".*refused"),
        (302, PermanentError, ".*redirect"),
    ],
)
async def test_webhook_answers_are_retried_or_permanent_by_status(
    local_settings: Settings,
    local_db: Database,
    web_server: WebServer,
    status: int,
    error: type[Exception],
    why: str,
) -> None:
    with pytest.raises(error, match=f"answered {status}{why}"):
        await run_handler(
            "webhook",
            {"url": web_server.url(f"/status/{status}")},
            context(local_settings, local_db),
        )


async def test_webhook_timeout_and_refused_connection_are_retried(
    local_settings: Settings, local_db: Database, web_server: WebServer
) -> None:
    with pytest.raises(WebhookFailed, match=r"0\.2 s|ReadTimeout"):  # not /slow's answer
        await run_handler(
            "webhook",
            {"url": web_server.url("/slow"), "timeout_seconds": 0.2},
            context(local_settings, local_db),
        )

    with pytest.raises(WebhookFailed, match="ConnectError") as refused:
        await run_handler(
            "webhook",
            {"url": f"http://hook:s3cret@127.0.0.1:{free_port()}/"},
            context(local_settings, local_db),
        )
    assert "s3cret" not in str(refused.value)  # the error lands in last_error and the logs


async def test_webhook_connects_to_the_checked_address_with_the_hosts_name(
    local_settings: Settings, local_db: Database, web_server: WebServer
) -> None:
    """The host is resolved once and the request goes to that address; the receiver still
    sees the name it was called by (virtual hosts keep working)."""
    port = web_server.server_address[1]
    result = await run_handler(
        "webhook",
        {"url": f"http://localhost:{port}/named", "headers": {"Host": "evil.example"}},
        context(local_settings, local_db),
    )
    assert result["status_code"] == 200
    [seen] = web_server.seen
    assert seen.headers["Host"] == f"localhost:{port}"  # not the payload's: ours, always


@pytest.mark.parametrize(
    ("url", "allow_private", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/", True, "link-local"),
        ("http://[fe80::1]/", True, "link-local"),
        ("http://0.0.0.0:9/", True, "not a host address"),
        ("http://127.0.0.1:{port}/secret", False, "loopback or private"),
        ("http://localhost:{port}/secret", False, "loopback or private"),
        ("http://[::ffff:127.0.0.1]:{port}/secret", False, "loopback or private"),
        ("http://10.1.2.3/", False, "loopback or private"),
        ("http://[::1]:{port}/secret", False, "loopback or private"),
        ("http://[fd00::1]/", False, "loopback or private"),
        ("http://[::]:9/", True, "not a host address"),
    ],
    ids=[
        "metadata",
        "link-local-v6",
        "unspecified",
        "loopback",
        "name",
        "mapped",
        "private",
        "loopback-v6",
        "unique-local-v6",
        "unspecified-v6",
    ],
)
async def test_webhook_refuses_internal_addresses_before_sending_anything(
    local_settings: Settings,
    local_db: Database,
    web_server: WebServer,
    url: str,
    allow_private: bool,
    why: str,
) -> None:
    settings = local_settings.model_copy(update={"webhook_allow_private_networks": allow_private})
    # A connection attempt to these would fail as WebhookFailed (a retry), not PermanentError.
    with pytest.raises(PermanentError, match=f"refused to call .*{why}"):
        await run_handler(
            "webhook",
            {"url": url.format(port=web_server.server_address[1]), "timeout_seconds": 5.0},
            context(settings, local_db),
        )
    assert web_server.seen == []


async def test_webhook_unknown_host_is_retried(
    local_settings: Settings, local_db: Database
) -> None:
    with pytest.raises(WebhookFailed, match=r"cannot resolve no-such-host\.invalid"):
        await run_handler(
            "webhook", {"url": "http://no-such-host.invalid/"}, context(local_settings, local_db)
        )


async def test_webhook_private_networks_are_refused_by_default(
    shared_database_url: str, tmp_path: Path, local_db: Database, web_server: WebServer
) -> None:
    production = Settings(database_url=shared_database_url, data_dir=tmp_path / "data")
    assert production.webhook_allow_private_networks is False

    with pytest.raises(PermanentError, match="loopback or private"):
        await run_handler(
            "webhook", {"url": web_server.url("/hook")}, context(production, local_db)
        )
    assert web_server.seen == []


# The one rule, address by address: IPv6 spellings are judged as their IPv4 twins.
ADDRESS_RULE = [
    # address, allowed when private networks are allowed, allowed when they are not
    ("127.0.0.1", True, False),
    ("::1", True, False),
    ("::ffff:127.0.0.1", True, False),
    ("64:ff9b::7f00:1", True, False),  # NAT64 for 127.0.0.1
    ("10.0.0.1", True, False),
    ("192.168.1.1", True, False),
    ("fc00::1", True, False),
    ("fd12:3456::1", True, False),
    ("::ffff:10.0.0.1", True, False),
    ("169.254.169.254", False, False),
    ("fe80::1", False, False),
    ("::ffff:169.254.169.254", False, False),
    ("0.0.0.0", False, False),
    ("::", False, False),
    ("::ffff:0.0.0.0", False, False),
    ("224.0.0.1", False, False),
    ("ff02::1", False, False),
    ("93.184.216.34", True, True),
    ("2606:2800:220:1:248:1893:25c8:1946", True, True),
    ("::ffff:93.184.216.34", True, True),
]


@pytest.mark.parametrize(
    ("address", "when_allowed", "when_refused"), ADDRESS_RULE, ids=[a for a, *_ in ADDRESS_RULE]
)
def test_webhook_address_rule_is_the_same_for_ipv4_and_ipv6(
    address: str, when_allowed: bool, when_refused: bool
) -> None:
    ip = ipaddress.ip_address(address)

    assert (refusal(ip, allow_private=True) is None) is when_allowed
    assert (refusal(ip, allow_private=False) is None) is when_refused


def test_workbench_opts_in_to_private_networks_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaulted: dict[str, Any] = {}
    explicit: dict[str, Any] = {"webhook_allow_private_networks": False}
    _allow_local_webhooks(defaulted)
    _allow_local_webhooks(explicit)
    assert defaulted == {"webhook_allow_private_networks": True}
    assert explicit == {"webhook_allow_private_networks": False}

    monkeypatch.setenv("STUDYPATH_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "false")
    from_environment: dict[str, Any] = {}
    _allow_local_webhooks(from_environment)
    assert from_environment == {}  # the environment's false stands


WEBHOOK_BAD_PAYLOADS = bad_payloads(
    "webhook",
    [
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "http://example.com", "timeout_seconds": 61}, "timeout_seconds"),
        ({"url": "http://example.com", "timeout_seconds": "5"}, "timeout_seconds"),
        ({"url": "http://example.com", "method": "TRACE"}, "method"),
        ({"url": "http://example.com", "headers": {"X-A": "1\r\nX-B: 2"}}, "headers.X-A"),
        ({"url": "http://example.com", "json": {}, "body": "x"}, "payload"),
    ],
)


async def test_webhook_500_is_retried_by_the_worker_until_out_of_attempts(
    live: Live, web_server: WebServer
) -> None:
    task_id = await live.create(
        "webhook",
        {"url": web_server.url("/status/500")},
        max_attempts=3,
        retry_strategy=FAST_RETRIES,
    )

    task = await live.wait_for(task_id, "failed")

    assert task["current_attempt"] == 3
    assert [entry["attempt"] for entry in task["error_history"]] == [1, 2, 3]
    assert "answered 500" in task["last_error"]
    assert len(web_server.seen) == 3
    assert {seen.headers["Idempotency-Key"] for seen in web_server.seen} == {task_id}


# =========================================================================== data_processing
async def test_data_processing_computes_the_statistics(
    local_settings: Settings, local_db: Database
) -> None:
    ctx = context(local_settings, local_db)

    everything = await run_handler("data_processing", {"data": [1, 2.5, -3, 10]}, ctx)
    some = await run_handler(
        "data_processing", {"data": [0.1] * 10, "operations": ["sum", "count"]}, ctx
    )
    empty = await run_handler("data_processing", {"data": []}, ctx)

    assert everything == {"count": 4, "sum": 10.5, "mean": 2.625, "min": -3, "max": 10}
    assert some == {"sum": 1.0, "count": 10}  # fsum: exactly 1.0, in the order asked
    assert empty == {"count": 0, "sum": 0.0, "mean": None, "min": None, "max": None}


async def test_data_processing_reference_operations_compute(
    local_settings: Settings, local_db: Database
) -> None:
    ctx = context(local_settings, local_db)

    async def run(operation: str, data: list[float]) -> Any:
        return await run_handler("data_processing", {"operation": operation, "data": data}, ctx)

    assert await run("sum", [1, 2, 3, 4, 5]) == {"sum": 15.0}
    assert await run("sum", [0.1] * 10) == {"sum": 1.0}
    assert await run("count", [7, 7, 7]) == {"count": 3}
    assert await run("mean", [1, 2]) == {"mean": 1.5}
    assert await run("process", [2, 4]) == {
        "count": 2,
        "sum": 6.0,
        "mean": 3.0,
        "min": 2,
        "max": 4,
    }


DATA_PROCESSING_BAD_PAYLOADS = bad_payloads(
    "data_processing",
    [
        ({"data": [1, 2, "3", 4]}, "data.2"),
        ({"data": [1, True]}, "data.1"),
        ({"data": [1, None]}, "data.1"),
        ({"data": [1, 2], "operations": ["sum", "median"]}, "operations.1"),
        ({"data": [1], "operations": []}, "operations"),
        ({"data": list(range(100_001))}, "data"),
        ({"data": "1,2,3"}, "data"),
        ({}, "data"),
        ({"operation": "median", "data": [1]}, "operation"),
        ({"operation": "sum", "data": [1, "2"]}, "data.1"),
        ({"operation": "sum"}, "data"),
    ],
)


# =========================================================================== file_cleanup
def make_file(path: Path, size: int, age_seconds: float = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    if age_seconds:
        moment = time.time() - age_seconds
        os.utime(path, (moment, moment))
    return path


DAY = 86400.0


async def test_file_cleanup_deletes_only_old_files_and_counts_bytes(
    local_settings: Settings, local_db: Database
) -> None:
    logs = local_settings.data_dir / "logs"
    old_a = make_file(logs / "a.log", 100, age_seconds=3 * DAY)
    old_b = make_file(logs / "b.log", 250, age_seconds=2 * DAY)
    fresh = make_file(logs / "c.log", 10)
    other = make_file(logs / "notes.txt", 7, age_seconds=3 * DAY)
    nested = make_file(logs / "archive" / "d.log", 40, age_seconds=5 * DAY)
    ctx = context(local_settings, local_db)

    flat = await run_handler(
        "file_cleanup", {"path": "logs", "max_age_days": 1, "pattern": "*.log"}, ctx
    )

    assert flat == {
        "deleted_files": 2,
        "deleted_bytes": 350,
        "kept_files": 1,
        "scanned": 3,
        "dry_run": False,
    }
    assert not old_a.exists() and not old_b.exists()
    assert fresh.exists() and other.exists() and nested.exists()

    deep = await run_handler(
        "file_cleanup", {"path": "logs", "max_age_seconds": 60, "recursive": True}, ctx
    )
    assert (deep["deleted_files"], deep["deleted_bytes"], deep["kept_files"]) == (2, 47, 1)
    assert fresh.exists() and not other.exists() and not nested.exists()


async def test_file_cleanup_dry_run_and_missing_folder(
    local_settings: Settings, local_db: Database
) -> None:
    old = make_file(local_settings.data_dir / "reports" / "r.csv", 64, age_seconds=DAY)
    ctx = context(local_settings, local_db)

    dry = await run_handler(
        "file_cleanup", {"path": "reports", "max_age_seconds": 10, "dry_run": True}, ctx
    )
    missing = await run_handler("file_cleanup", {"path": "nothing/here", "max_age_days": 1}, ctx)

    assert dry == {
        "deleted_files": 1,
        "deleted_bytes": 64,
        "kept_files": 0,
        "scanned": 1,
        "dry_run": True,
    }
    assert old.exists()
    assert missing["scanned"] == 0 and missing["deleted_files"] == 0


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("../outside", r"must not contain '\.\.'"),
        ("logs/../../outside", r"must not contain '\.\.'"),
        ("/etc", "must be relative"),
        ("escape", "outside the data directory"),
        ("escape/inner", "outside the data directory"),
        ("postgres", "embedded database"),
        ("postgres/base", "embedded database"),
    ],
)
async def test_file_cleanup_refuses_paths_that_leave_the_sandbox(
    local_settings: Settings, local_db: Database, tmp_path: Path, path: str, why: str
) -> None:
    outside = make_file(tmp_path / "outside" / "precious.txt", 5, age_seconds=10 * DAY)
    make_file(tmp_path / "outside" / "inner" / "also.txt", 5, age_seconds=10 * DAY)
    pg_file = make_file(local_settings.pgdata_dir / "base" / "1234", 8, age_seconds=10 * DAY)
    (local_settings.data_dir / "escape").symlink_to(tmp_path / "outside")

    with pytest.raises(PermanentError, match=why):
        await run_handler(
            "file_cleanup",
            {"path": path, "max_age_seconds": 0, "recursive": True},
            context(local_settings, local_db),
        )
    assert outside.exists() and pg_file.exists()


async def test_file_cleanup_never_follows_links_or_enters_the_database_folder(
    local_settings: Settings, local_db: Database, tmp_path: Path
) -> None:
    outside_file = make_file(tmp_path / "outside" / "old.txt", 5, age_seconds=10 * DAY)
    make_file(tmp_path / "outside" / "sub" / "old.txt", 5, age_seconds=10 * DAY)
    pg_file = make_file(local_settings.pgdata_dir / "base" / "1234", 8, age_seconds=10 * DAY)
    mine = make_file(local_settings.data_dir / "tmp" / "old.bin", 3, age_seconds=10 * DAY)
    (local_settings.data_dir / "tmp" / "file-link").symlink_to(outside_file)
    (local_settings.data_dir / "tmp" / "dir-link").symlink_to(tmp_path / "outside" / "sub")

    result = await run_handler(
        "file_cleanup",
        {"path": ".", "max_age_days": 1, "recursive": True},
        context(local_settings, local_db),
    )

    assert (result["deleted_files"], result["deleted_bytes"]) == (1, 3)
    assert not mine.exists()
    assert pg_file.exists()
    assert outside_file.exists() and (tmp_path / "outside" / "sub" / "old.txt").exists()
    assert (local_settings.data_dir / "tmp" / "file-link").is_symlink()


async def test_file_cleanup_reference_shape_deletes_by_hours(
    local_settings: Settings, local_db: Database
) -> None:
    logs = local_settings.data_dir / "logs"
    day_old = make_file(logs / "a.log", 10, age_seconds=DAY + 60)
    hours_old = make_file(logs / "b.log", 20, age_seconds=3 * 3600)
    fresh = make_file(logs / "c.log", 30)
    ctx = context(local_settings, local_db)

    default = await run_handler("file_cleanup", {"file_path": "logs"}, ctx)  # 24 h
    two_hours = await run_handler("file_cleanup", {"file_path": "logs", "max_age_hours": 2}, ctx)

    assert (default["deleted_files"], default["deleted_bytes"]) == (1, 10)
    assert (two_hours["deleted_files"], two_hours["deleted_bytes"]) == (1, 20)
    assert not day_old.exists() and not hours_old.exists() and fresh.exists()


async def test_file_cleanup_outside_the_data_directory_fails_the_task_when_it_runs(
    settings: Settings, session: AsyncSession, tmp_path: Path
) -> None:
    """Created (the reference's own example payload), then failed by the worker at once,
    saying why; nothing outside the data directory is touched."""
    victim = make_file(tmp_path / "test" / "old.txt", 5, age_seconds=10 * DAY)
    await make_user(session, username="root", role=Role.ADMIN)
    async with running_system(settings, workers=1) as system, client_for(system) as http:
        login = await http.post(
            "/api/v1/auth/login", json={"username": "root", "password": DEFAULT_PASSWORD}
        )
        live = Live(http, {"Authorization": f"Bearer {login.json()['data']['session_token']}"})

        async def registered() -> bool:
            types = (await http.get("/api/v1/tasks/types")).json()["data"]
            return any(t["task_type"] == "file_cleanup" and t["live_workers"] for t in types)

        await poll_until_async(registered, within=10, what="the worker to register its types")
        task_id = await live.create(
            "file_cleanup", {"file_path": str(tmp_path / "test"), "max_age_hours": 24}
        )
        task = await live.wait_for(task_id, "failed")

    assert task["current_attempt"] == 1  # permanent: no retries
    assert "must be relative to the data directory" in task["last_error"]
    assert str(tmp_path / "test") in task["last_error"]
    assert victim.exists()


FILE_CLEANUP_BAD_PAYLOADS = bad_payloads(
    "file_cleanup",
    [
        ({"path": "logs"}, "payload"),  # no age at all
        ({"path": "logs", "max_age_days": 1, "max_age_seconds": 5}, "payload"),
        ({"path": "logs", "max_age_days": -1}, "max_age_days"),
        ({"path": "logs", "max_age_days": 1, "pattern": "../*"}, "pattern"),
        ({"path": "logs", "max_age_days": 1, "recursive": "yes"}, "recursive"),
        ({"max_age_days": 1}, "path"),
        ({"file_path": "logs", "max_age_hours": -1}, "max_age_hours"),
        ({"file_path": "", "max_age_hours": 1}, "file_path"),
        ({"file_path": "logs", "path": "logs"}, "path"),
    ],
)


# =========================================================================== report_generation
@pytest.fixture
async def report_tasks(session: AsyncSession) -> None:
    """May 2024: alpha 2 completed (2 s and 4 s), 1 failed, 1 pending; beta 1 cancelled.
    Outside the range: 1 alpha completed in April and 1 in June."""
    await make_task_type(session, "alpha")
    await make_task_type(session, "beta")
    may = datetime(2024, 5, 10, 12, tzinfo=UTC)

    async def add(task_type: str, status: TaskStatus, created: datetime, run: float = 0) -> None:
        started = created + timedelta(minutes=1)
        finished = started + timedelta(seconds=run)
        done = status in {TaskStatus.COMPLETED, TaskStatus.DEAD_LETTER, TaskStatus.CANCELLED}
        await make_task(
            session,
            task_type,
            status=status,
            created_at=created,
            started_at=started if run else None,
            completed_at=finished if done else None,
        )

    await add("alpha", TaskStatus.COMPLETED, may, run=2)
    await add("alpha", TaskStatus.COMPLETED, may + timedelta(days=21, hours=11), run=4)  # May 31
    await add("alpha", TaskStatus.DEAD_LETTER, may, run=1)
    await add("alpha", TaskStatus.PENDING, may)
    await add("beta", TaskStatus.CANCELLED, may)
    await add("alpha", TaskStatus.COMPLETED, datetime(2024, 4, 30, 23, 59, tzinfo=UTC), run=9)
    await add("alpha", TaskStatus.COMPLETED, datetime(2024, 6, 1, tzinfo=UTC), run=9)


ReportRun = Callable[[dict[str, Any]], Awaitable[tuple[dict[str, Any], Path]]]


@pytest.fixture
def generate_report(settings: Settings, db: Database) -> ReportRun:
    """Runs report_generation with a payload as the worker does; returns its result and the
    file it wrote, having checked where that is, whatever the format: the data directory's
    reports/, under a name that holds the task's id."""

    async def generate(payload: dict[str, Any]) -> tuple[dict[str, Any], Path]:
        ctx = context(settings, db)
        result = await run_handler("report_generation", payload, ctx)
        path = Path(result["path"])
        assert path.parent == (settings.data_dir / "reports").resolve()
        assert ctx.task_id.hex in path.name
        return result, path

    return generate


@pytest.mark.usefixtures("report_tasks")
async def test_report_generation_writes_a_csv_whose_numbers_match(
    generate_report: ReportRun,
) -> None:
    result, path = await generate_report(
        {"start": "2024-05-01", "end": "2024-05-31", "format": "csv"}
    )

    assert result["format"] == "csv" and result["rows"] == 2 and path.suffix == ".csv"
    rows = {row["task_type"]: row for row in csv.DictReader(read_lines(path))}
    assert list(rows) == ["alpha", "beta", "(all)"]
    alpha, beta, total = rows["alpha"], rows["beta"], rows["(all)"]
    assert (alpha["total"], alpha["completed"], alpha["failed"], alpha["pending"]) == (
        "4",
        "2",
        "1",
        "1",
    )
    assert alpha["success_rate"] == "0.6667"  # 2 completed / (2 completed + 1 failed)
    assert alpha["mean_duration_seconds"] == "3.000"  # (2 s + 4 s) / 2, completed only
    assert (beta["total"], beta["cancelled"], beta["success_rate"]) == ("1", "1", "")
    assert beta["mean_duration_seconds"] == ""
    assert (total["total"], total["completed"], total["success_rate"]) == ("5", "2", "0.6667")


@pytest.mark.usefixtures("report_tasks")
async def test_report_generation_writes_markdown_for_an_exact_window(
    generate_report: ReportRun,
) -> None:
    window = {"start": "2024-05-10T00:00:00Z", "end": "2024-05-11T00:00:00"}
    result, path = await generate_report({**window, "format": "markdown"})

    text = "\n".join(read_lines(path))
    assert result["format"] == "markdown" and result["path"].endswith(".md")
    assert text.startswith("# Task report\n\n")
    assert "from 2024-05-10 00:00:00 UTC up to (not including) 2024-05-11 00:00:00 UTC" in text
    # May 10 only: alpha 1 completed (2 s), 1 failed, 1 pending; beta 1 cancelled.
    assert "| alpha | 3 | 1 | 0 | 1 | 1 | 0 | 0 | 50.0 % | 2.000 |" in text
    assert "| beta | 1 | 0 | 0 | 0 | 0 | 1 | 0 | – | – |" in text
    assert "| **(all)** | 4 | 1 | 0 | 1 | 1 | 1 | 0 | 50.0 % | 2.000 |" in text


def pdf_lines(path: Path) -> list[str]:
    """Check a PDF's skeleton (header, every cross-reference offset, stream lengths, trailer)
    and return the text its pages show, line by line."""
    data = path.read_bytes()
    assert data.startswith(b"%PDF-1.4\n") and data.endswith(b"%%EOF\n")
    xref_at = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    table = data[xref_at:].split(b"\n")
    assert table[0] == b"xref"
    count = int(table[1].split()[1])
    for number, entry in enumerate(table[3 : 2 + count], start=1):
        assert len(entry) + 1 == 20  # fixed-width entries
        assert data[int(entry[:10]) :].startswith(f"{number} 0 obj\n".encode())
    assert f"/Size {count}".encode() in data and b"/Root 1 0 R" in data
    for length, body in re.findall(rb"<< /Length (\d+) >>\nstream\n(.*?)\nendstream", data, re.S):
        assert int(length) == len(body)
    shown = re.findall(rb"\(((?:[^\\)]|\\.)*)\) Tj", data)
    return [re.sub(rb"\\(.)", rb"\1", text).decode("latin-1") for text in shown]


@pytest.mark.usefixtures("report_tasks")
async def test_report_generation_writes_a_pdf_from_the_reference_shape(
    generate_report: ReportRun,
) -> None:
    reference = {"report_type": "tasks", "start_date": "2024-05-01", "end_date": "2024-05-31"}
    result, path = await generate_report(reference)

    assert result["format"] == "pdf" and result["rows"] == 2  # pdf: the reference's default
    assert path.suffix == ".pdf"
    lines = pdf_lines(path)
    assert lines[0] == "Task report"
    assert "from 2024-05-01 00:00:00 UTC up to (not including) 2024-06-01 00:00:00 UTC" in lines[2]
    rows = {line.split()[0]: line.split() for line in lines if line.startswith(("alpha", "beta"))}
    # alpha: 4 tasks — 1 pending, 0 running, 2 completed, 1 failed; 66.7 %; 3 s on average.
    assert rows["alpha"] == ["alpha", "4", "1", "0", "2", "1", "0", "0", "66.7", "%", "3.000"]
    assert rows["beta"][-2:] == ["-", "-"]
    assert any(line.startswith("(all)") for line in lines)


async def test_report_generation_pdf_in_studypath_shape_and_text_is_escaped(
    generate_report: ReportRun, session: AsyncSession
) -> None:
    await make_task_type(session, "odd(name)\\")
    await make_task(session, "odd(name)\\", created_at=datetime(2024, 5, 2, tzinfo=UTC))

    _result, path = await generate_report(
        {"start": "2024-05-01", "end": "2024-05-31", "format": "pdf"}
    )

    lines = pdf_lines(path)
    assert any(line.startswith("odd(name)\\ ") for line in lines), lines


REPORT_GENERATION_BAD_PAYLOADS = bad_payloads(
    "report_generation",
    [
        ({"start": "2024-05-02", "end": "2024-05-01"}, "payload"),
        ({"start": "yesterday", "end": "2024-05-01"}, "start"),
        ({"start": 1714521600, "end": "2024-05-01"}, "start"),
        ({"start": "2024-05-01", "end": "2024-05-02", "format": "docx"}, "format"),
        ({"start": "2024-05-01"}, "end"),
        ({"report_type": "tasks", "start_date": "2024-02-01", "end_date": "2024-01-31"}, "payload"),
        ({"report_type": "tasks", "start": "2024-01-01", "end": "2024-01-31"}, "start_date"),
    ],
)


async def test_a_report_type_studypath_cannot_produce_fails_naming_the_supported_ones(
    local_settings: Settings, local_db: Database
) -> None:
    payload = {"report_type": "sales", "start_date": "2024-01-01", "end_date": "2024-01-31"}
    with pytest.raises(PermanentError, match=r"report_type 'sales' .*supported: tasks"):
        await run_handler("report_generation", payload, context(local_settings, local_db))


# =========================================================================== delay_task
async def test_delay_task_sleeps(local_settings: Settings, local_db: Database) -> None:
    far = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    ctx = context(local_settings, local_db)
    sleeping = asyncio.create_task(
        run_handler("delay_task", {"delay_seconds": 600, "deadline": far}, ctx)
    )

    finished, _ = await asyncio.wait([sleeping], timeout=0.2)  # a chance to return early

    assert not finished, "the delay task returned long before its 600 s"
    ctx.cancel_event.set()
    with pytest.raises(TaskCancelled):
        await sleeping


async def test_delay_task_takes_integer_or_fractional_seconds_and_returns_labels(
    local_settings: Settings, local_db: Database
) -> None:
    ctx = context(local_settings, local_db)

    whole = await run_handler(
        "delay_task", {"delay_seconds": 0, "task_id": "chaos_1", "test_scenario": "retry"}, ctx
    )
    fraction = await run_handler("delay_task", {"delay_seconds": 0.05}, ctx)

    assert whole["task_id"] == "chaos_1" and whole["test_scenario"] == "retry"
    assert set(whole) == {"slept_seconds", "task_id", "test_scenario"}
    assert set(fraction) == {"slept_seconds"}


async def test_delay_task_stops_promptly_when_cancelled(
    local_settings: Settings, local_db: Database
) -> None:
    ctx = context(local_settings, local_db)
    running = asyncio.create_task(run_handler("delay_task", {"delay_seconds": 30}, ctx))
    await asyncio.sleep(0.1)

    ctx.cancel_event.set()
    with pytest.raises(TaskCancelled):  # not the 30 s sleep's result
        await asyncio.wait_for(running, timeout=15)


async def test_delay_task_that_would_miss_its_deadline_fails_at_once(
    local_settings: Settings, local_db: Database
) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()

    # Having slept first, it would return a result: the deadline is checked before the sleep.
    with pytest.raises(PermanentError, match=r"deadline .* would be passed"):
        await run_handler(
            "delay_task", {"delay_seconds": 5, "deadline": soon}, context(local_settings, local_db)
        )

    past_ctx = context(local_settings, local_db, deadline=datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(PermanentError, match="would be passed"):  # the worker's deadline too
        await run_handler("delay_task", {"delay_seconds": 0}, past_ctx)


DELAY_TASK_BAD_PAYLOADS = bad_payloads(
    "delay_task",
    [
        ({"delay_seconds": -1}, "delay_seconds"),
        ({"delay_seconds": 3601}, "delay_seconds"),
        ({"delay_seconds": "5"}, "delay_seconds"),
        ({}, "delay_seconds"),
        ({"delay_seconds": 1, "deadline": "tomorrow"}, "deadline"),
        ({"delay_seconds": 1, "test_scenario": "x" * 201}, "test_scenario"),
    ],
)


async def test_delay_task_cancelled_through_the_api_while_running(live: Live) -> None:
    task_id = await live.create("delay_task", {"delay_seconds": 30})
    await live.wait_for(task_id, "running")

    response = await live.http.post(f"/api/v1/tasks/{task_id}/cancel", headers=live.headers)
    assert response.status_code == 200, response.text
    task = await live.wait_for(task_id, "cancelled", within=15)  # the sleep is 30 s

    assert task["current_attempt"] == 1


# =========================================================================== bad payloads
@pytest.mark.parametrize(
    ("task_type", "payload", "field_name"),
    EMAIL_BAD_PAYLOADS
    + WEBHOOK_BAD_PAYLOADS
    + DATA_PROCESSING_BAD_PAYLOADS
    + FILE_CLEANUP_BAD_PAYLOADS
    + REPORT_GENERATION_BAD_PAYLOADS
    + DELAY_TASK_BAD_PAYLOADS,
)
async def test_bad_payloads_name_the_field(
    local_settings: Settings,
    local_db: Database,
    task_type: str,
    payload: dict[str, Any],
    field_name: str,
) -> None:
    with pytest.raises(PermanentError, match=rf"invalid payload for {task_type}: {field_name}\b"):
        await run_handler(task_type, payload, context(local_settings, local_db))


BAD_PAYLOADS: dict[str, tuple[dict[str, Any], str]] = {
    "email": ({"to": "not-an-address", "subject": "S", "body": "B"}, "to.0"),
    "webhook": ({"url": "gopher://example.com"}, "url"),
    "data_processing": ({"data": [1, 2, "three"]}, "data.2"),
    "file_cleanup": ({"path": "logs", "max_age_days": "old"}, "max_age_days"),
    "report_generation": ({"start": "2024-05-01", "end": "soon"}, "end"),
    "delay_task": ({"delay_seconds": 7200}, "delay_seconds"),
}


async def test_bad_payloads_fail_permanently_in_the_worker_without_retries(
    settings: Settings, session: AsyncSession
) -> None:
    """The API checks payloads against the type's schema; these rows skip the API (as an
    old client, or a schema that says less than the model, would) and reach the worker."""
    async with running_system(settings, workers=1):
        created: dict[str, uuid.UUID] = {}

        async def registered() -> bool:
            return all([await session.get(TaskType, name) for name in BAD_PAYLOADS])

        await poll_until_async(registered, within=10, what="the worker to register its types")
        for task_type, (payload, _field) in BAD_PAYLOADS.items():
            new_task = await make_task(session, task_type, payload=payload, max_attempts=5)
            created[task_type] = new_task.id

        async def all_failed() -> bool:
            tasks = [
                await session.get(Task, task_id, populate_existing=True)
                for task_id in created.values()
            ]
            return all(task is not None and task.status is TaskStatus.DEAD_LETTER for task in tasks)

        await poll_until_async(all_failed, within=10, what="every bad-payload task to fail")

    for task_type, (_payload, field_name) in BAD_PAYLOADS.items():
        task = await session.get(Task, created[task_type], populate_existing=True)
        assert task is not None
        assert task.current_attempt == 1, task_type
        assert task.last_error is not None
        assert re.search(rf"invalid payload for {task_type}: {field_name}\b", task.last_error), (
            task.last_error
        )


# =========================================================================== numbers only
# Every numeric payload field takes a JSON number and nothing that Python or a lax parser
# would turn into one: not `true` (a bool is an int in Python) and not numeric text ("5").
# (type, payload with the field set to VALUE, the field as the error names it)
NUMERIC_FIELDS = [
    ("delay_task", {"delay_seconds": "VALUE"}, "delay_seconds"),
    ("webhook", {"url": "http://example.com", "timeout_seconds": "VALUE"}, "timeout_seconds"),
    ("file_cleanup", {"path": "logs", "max_age_seconds": "VALUE"}, "max_age_seconds"),
    ("file_cleanup", {"path": "logs", "max_age_days": "VALUE"}, "max_age_days"),
    ("file_cleanup", {"file_path": "logs", "max_age_hours": "VALUE"}, "max_age_hours"),
    ("data_processing", {"operation": "sum", "data": [1, "VALUE"]}, "data.1"),
    ("data_processing", {"data": ["VALUE"], "operations": ["sum"]}, "data.0"),
]
NOT_NUMBERS = pytest.mark.parametrize("not_a_number", [True, "5"], ids=["true", "text"])


def with_value(payload: dict[str, Any], value: Any) -> dict[str, Any]:
    """The payload with its "VALUE" placeholder (a field, or an item of a list) replaced."""

    def put(item: Any) -> Any:
        return value if item == "VALUE" else item

    return {
        key: [put(item) for item in entry] if isinstance(entry, list) else put(entry)
        for key, entry in payload.items()
    }


@NOT_NUMBERS
@pytest.mark.parametrize(
    ("task_type", "payload", "field_name"),
    NUMERIC_FIELDS,
    ids=[f"{task_type}.{name}" for task_type, _, name in NUMERIC_FIELDS],
)
async def test_numeric_payload_fields_refuse_booleans_and_numeric_text(
    local_settings: Settings,
    local_db: Database,
    task_type: str,
    payload: dict[str, Any],
    field_name: str,
    not_a_number: Any,
) -> None:
    """What the worker checks before the handler runs (a PermanentError: no retry helps)."""
    with pytest.raises(
        PermanentError,
        match=rf"invalid payload for {task_type}: {field_name}: Input should be a valid number",
    ):
        await run_handler(
            task_type, with_value(payload, not_a_number), context(local_settings, local_db)
        )


async def test_the_api_refuses_booleans_and_numeric_text_in_numeric_payload_fields(
    live: Live,
) -> None:
    """The API checks a payload against its type's JSON Schema (API.md: 400 for a payload its
    schema refuses), where a number is a number: `true` and "5" are refused before any task
    exists, and the error names the field. (file_cleanup is for admins; its rows are above.)"""
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("delay_task", {"delay_seconds": "VALUE"}, "payload.delay_seconds"),
        (
            "webhook",
            {"url": "http://example.com", "timeout_seconds": "VALUE"},
            "payload.timeout_seconds",
        ),
        ("data_processing", {"operation": "sum", "data": ["VALUE"]}, "payload.data[0]"),
    ]
    for task_type, payload, field_name in cases:
        for not_a_number in (True, "5"):
            body = {"task_type": task_type, "payload": with_value(payload, not_a_number)}
            response = await live.http.post("/api/v1/tasks", json=body, headers=live.headers)

            assert response.status_code == 400, (task_type, not_a_number, response.text)
            error = response.json()["error"]
            assert error["code"] == "VALIDATION_FAILED"
            assert [detail["field"] for detail in error["details"]] == [field_name]
            assert "must be number" in error["message"]

    listed = await live.http.get("/api/v1/tasks", headers=live.headers)
    assert listed.json()["data"] == []
