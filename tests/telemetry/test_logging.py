"""Structured logs: every line of a request carries its request id and user id; JSON lines
when configured; nothing reaches the root logger (which would print in a notebook)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import PlainTextResponse

from studypath.config import Settings
from studypath.core.embedded import provide_database
from studypath.core.logging import configure_console_logging, detach
from studypath.core.middleware import RequestContextMiddleware
from studypath.testing.factories import DEFAULT_PASSWORD, make_user
from studypath.testing.server import client_for, running_system


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = configure_console_logging("DEBUG", json_lines=True, stream=stream)
    yield stream
    detach(handler)


async def test_json_lines_carry_request_and_user_ids(
    settings: Settings, session: AsyncSession, json_log: io.StringIO
) -> None:
    user = await make_user(session, username="alice")
    async with running_system(settings) as system, client_for(system) as client:
        login = await client.post(
            "/api/v1/auth/login", json={"username": "alice", "password": DEFAULT_PASSWORD}
        )
        token = login.json()["data"]["session_token"]
        await client.get(
            "/api/v1/auth/me",
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "log-test-1"},
        )

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    mine = [line for line in lines if line["request_id"] == "log-test-1"]
    assert mine, "the request logged nothing"
    assert {"time", "level", "logger", "message", "request_id", "user_id"} <= set(mine[0])
    end = [line for line in mine if line.get("event") == "request.end"]
    assert end[0]["user_id"] == str(user.id)  # the auth dependency put it in the context
    assert end[0]["route"] == "/api/v1/auth/me"
    assert end[0]["status"] == 200
    assert any(line.get("statement") for line in mine)  # its SQL, under the same request id
    background = [line for line in lines if line["request_id"] == "-"]
    assert all(line["user_id"] == "-" for line in background)


async def test_nothing_reaches_the_root_logger(
    settings: Settings, json_log: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    root_records: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            root_records.append(record)

    catcher = Catch()
    logging.getLogger().addHandler(catcher)
    try:
        async with running_system(settings, workers=1) as system, client_for(system) as client:
            await client.get("/api/v1/health")
            await client.get("/api/v1/nope")
    finally:
        logging.getLogger().removeHandler(catcher)
    ours = [r for r in root_records if r.name.split(".")[0] in {"studypath", "uvicorn", "alembic"}]
    assert ours == []
    assert json_log.getvalue()  # they went to our handler instead


def test_docker_mode_says_clearly_when_there_is_no_engine(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    docker = settings.model_copy(update={"database_url": None, "db": "docker"})
    with pytest.raises(RuntimeError, match="no Docker engine answered") as raised:
        provide_database(docker)
    assert "unix:///nonexistent/docker.sock" in str(raised.value)
    assert "unset STUDYPATH_DB" in str(raised.value)


def _access_lines(stream: io.StringIO, path: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line.get("event") == "request.end" and line["path"] == path]


@pytest.mark.parametrize("path", ["/api/v1/health/live", "/api/v1/health/ready"])
async def test_a_passing_probe_is_access_logged_at_debug(
    settings: Settings, json_log: io.StringIO, path: str
) -> None:
    async with running_system(settings) as system, client_for(system) as client:
        assert (await client.get(path)).status_code == 200
        assert (await client.get("/api/v1/health")).status_code == 200

    [probe] = _access_lines(json_log, path)
    assert probe["level"] == "DEBUG" and probe["status"] == 200
    [summary] = _access_lines(json_log, "/api/v1/health")  # not a probe: INFO, as every request
    assert summary["level"] == "INFO"


async def test_at_info_a_passing_probe_writes_no_access_line(settings: Settings) -> None:
    stream = io.StringIO()
    handler = configure_console_logging("INFO", json_lines=True, stream=stream)
    try:
        async with running_system(settings) as system, client_for(system) as client:
            assert (await client.get("/api/v1/health/live")).status_code == 200
            assert (await client.get("/api/v1/auth/me")).status_code == 401
    finally:
        detach(handler)

    assert _access_lines(stream, "/api/v1/health/live") == []
    assert [line["status"] for line in _access_lines(stream, "/api/v1/auth/me")] == [401]


def test_a_failing_probe_is_access_logged_at_info() -> None:
    middleware = RequestContextMiddleware(
        PlainTextResponse("unused"), quiet_paths=["/api/v1/health/ready"]
    )
    assert middleware.access_log_level("/api/v1/health/ready", 200) == logging.DEBUG
    assert middleware.access_log_level("/api/v1/health/ready", 503) == logging.INFO
    assert middleware.access_log_level("/api/v1/health", 200) == logging.INFO
