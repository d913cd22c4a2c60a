"""`studypath check-api`: the black-box contract suite passes against the real system, and
fails — naming what broke — against servers that break the contract."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import text
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from typer.testing import CliRunner

from studypath.cli import app as cli
from studypath.testing import TestPostgres, spawn_app
from studypath.testing.api_suite import CHECKS, run_suite

ADMIN_PASSWORD = "Admin-Check-42"
pytestmark = pytest.mark.timeout(120)


async def test_the_suite_passes_against_the_real_system_and_cleans_up(
    postgres: TestPostgres, tmp_path: Path
) -> None:
    async with spawn_app(
        postgres, data_dir=tmp_path, workers=1, initial_admin_password=ADMIN_PASSWORD
    ) as app:
        report = await asyncio.to_thread(run_suite, app.address, admin_password=ADMIN_PASSWORD)
        async with app.db.engine.connect() as conn:
            left = await conn.execute(
                text("SELECT count(*) FROM users WHERE username LIKE 'check%'")
            )
            leftover_accounts = left.scalar_one()

    assert report.ok, report.text()
    assert len(report.passed) == len(CHECKS)  # the admin's checks ran too
    groups = {outcome.group for outcome in report.outcomes}
    assert groups == {"health", "auth", "users", "notes", "notifications", "tasks", "monitoring"}
    assert leftover_accounts == 0  # with the admin's password, deleted for good


async def test_without_the_admin_password_the_cli_skips_admin_checks_and_exits_0(
    postgres: TestPostgres, tmp_path: Path
) -> None:
    async with spawn_app(postgres, data_dir=tmp_path, workers=1) as app:
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, ["check-api", "--url", app.address]
        )
        async with app.db.engine.connect() as conn:
            accounts = await conn.execute(
                text("SELECT deleted_at IS NOT NULL FROM users WHERE username LIKE 'check%'")
            )
            deleted = accounts.scalars().all()

    assert result.exit_code == 0, result.output
    assert " PASS  create answers 201 with the note, owned by its creator" in result.stdout
    assert " SKIP  the admin lists users and reads the stats" in result.stdout
    admin_checks = sum(registered.admin for registered in CHECKS)
    assert result.stdout.rstrip().endswith(
        f"failed, {admin_checks} skipped (give --admin-password to run them)"
    )
    assert deleted == [True, True]  # without the admin, each account deleted itself (soft)


class AllowEveryEdit(BaseHTTPMiddleware):
    """A broken deployment: a refused note edit (403) is answered 200 anyway."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        if request.method == "PUT" and response.status_code == 403:
            return Response('{"success": true, "data": {}}', 200, media_type="application/json")
        return response


def allow_every_edit(application: FastAPI) -> None:
    application.add_middleware(AllowEveryEdit)


async def test_a_server_that_breaks_one_rule_fails_the_checks_of_that_rule(
    postgres: TestPostgres, tmp_path: Path
) -> None:
    async with spawn_app(
        postgres, data_dir=tmp_path, workers=1, app_hooks=[allow_every_edit]
    ) as app:
        report = await asyncio.to_thread(run_suite, app.address)

    failed = {outcome.name for outcome in report.failed}
    assert not report.ok
    assert failed == {
        "shared to read: the recipient reads (200) but cannot edit (403)",
        "a public note is readable by any signed-in user, not anonymously",
    }, report.text()
    assert "PUT /api/v1/notes/" in report.text() and "answered 200, expected 403" in report.text()
    assert "CONTRACT BROKEN" in report.text()


class YesToEverything(BaseHTTPRequestHandler):
    """Not studypath at all: 200 and an empty envelope for any request."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps({"success": True, "data": {"status": "ok"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def wrong_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), YesToEverything)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_server_that_says_yes_to_everything_fails_and_exits_1(wrong_server: str) -> None:
    result = CliRunner().invoke(cli, ["check-api", "--url", wrong_server])

    assert result.exit_code == 1
    assert "CONTRACT BROKEN" in result.stdout
    assert " FAIL  no token, or a made-up one: 401" in result.stdout


def test_nothing_listening_is_a_clear_failure(unused_tcp_port: int) -> None:
    report = run_suite(f"http://127.0.0.1:{unused_tcp_port}")

    assert not report.ok and report.outcomes == []
    assert "did not answer as a studypath API" in report.setup_error
    assert report.text().splitlines()[-1] == "CONTRACT BROKEN: 0 passed, 0 failed"
