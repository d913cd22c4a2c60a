"""HTTP hardening (issues #10, #11): the page's doctype, the body limit, health under load,
what anonymous health discloses, cache and content-security headers, 405 with `Allow`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.pool import AsyncAdaptedQueuePool

from studypath.config import Settings
from studypath.core.state import state_of
from studypath.system import System
from studypath.testing.factories import make_user
from studypath.testing.server import app_of, client_for, running_system
from tests.support.health import health_views_with_one_worker

ERROR_CODE = "PAYLOAD_TOO_LARGE"


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    return error


# --------------------------------------------------------------------------- 1. doctype


@pytest.mark.parametrize("path", ["/", "/admin/users"])
async def test_web_page_starts_with_uppercase_doctype(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.text.startswith("<!DOCTYPE html>")


# --------------------------------------------------------------------------- 2. body limit


@pytest.fixture
def small_limit_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_body_bytes": 4096})


@pytest.fixture
async def small_limit_client(small_limit_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_system(small_limit_settings) as system, client_for(system) as client:
        yield client


def test_body_limit_defaults_to_2_mib() -> None:
    assert Settings().max_body_bytes == 2 * 1024 * 1024


async def test_body_limit_refuses_large_content_length_with_413(
    small_limit_client: httpx.AsyncClient,
) -> None:
    """An anonymous endpoint, a body announced too large: 413 before anything reads it."""
    body = b'{"username": "' + b"a" * 5000 + b'", "password": "x"}'
    response = await small_limit_client.post(
        "/api/v1/auth/login", content=body, headers={"content-type": "application/json"}
    )
    error = assert_error(response, 413, ERROR_CODE)
    assert "4096" in error["message"]
    assert response.headers["cache-control"] == "no-store"


async def test_body_limit_stops_reading_a_chunked_body_past_the_limit(
    small_limit_client: httpx.AsyncClient,
) -> None:
    """No Content-Length: the bytes are counted as they arrive; the answer comes once the
    limit is passed, while the client would still send megabytes more."""
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"username": "'
        for _ in range(64):  # up to 4 MiB: far more than the server will read
            sent += 65536
            yield b"a" * 65536

    request = small_limit_client.build_request(
        "POST",
        "/api/v1/auth/register",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    try:
        response = await small_limit_client.send(request)
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        pytest.fail("the server closed the connection instead of answering 413")
    assert_error(response, 413, ERROR_CODE)


async def test_body_under_the_limit_is_read(small_limit_client: httpx.AsyncClient) -> None:
    response = await small_limit_client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": "wrong-password-1"}
    )
    assert response.status_code == 401


# --------------------------------------------------------------------------- 3. health under load


@pytest.fixture
def tiny_pool_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"db_pool_size": 2, "db_max_overflow": 0})


async def test_health_answers_200_with_the_request_pool_exhausted(
    tiny_pool_settings: Settings,
) -> None:
    """Every connection of the request pool is held: the server is busy, not down."""
    async with running_system(tiny_pool_settings) as system, client_for(system) as client:
        engine = state_of(app_of(system)).db.request_engine
        async with contextlib.AsyncExitStack() as held:
            connections: list[AsyncConnection] = [
                await held.enter_async_context(engine.connect()) for _ in range(2)
            ]
            assert isinstance(engine.pool, AsyncAdaptedQueuePool)
            assert engine.pool.checkedout() == len(connections)
            # One more request-pool checkout would wait: the pool is really exhausted.
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.3), engine.connect():
                    pass

            health = await client.get("/api/v1/health")
            ready = await client.get("/api/v1/health/ready")

        assert health.status_code == 200, health.text
        assert health.json()["data"]["status"] in ("healthy", "degraded")
        assert ready.status_code == 200, ready.text
        assert ready.json()["data"]["status"] == "ready"


async def test_health_probes_in_a_burst_share_one_ping(system: System) -> None:
    database = state_of(app_of(system)).db
    results = await asyncio.gather(*(database.ping() for _ in range(20)))
    assert len(set(results)) == 1  # twenty probes, one ping: all got the same answer
    assert isinstance(database.health_engine.pool, AsyncAdaptedQueuePool)
    assert database.health_engine.pool.checkedout() == 0


# --------------------------------------------------------------------------- 4. disclosure


async def test_anonymous_detailed_health_discloses_no_target_or_hosts(
    settings: Settings, session: AsyncSession
) -> None:
    views = await health_views_with_one_worker(settings, session)
    system, anonymous, full = views.system, views.anonymous, views.admin
    database_name = settings.database_url.rsplit("/", 1)[-1].split("?")[0]  # type: ignore[union-attr]
    hostname, pid = socket.gethostname(), os.getpid()  # the worker runs in this process

    assert anonymous.status_code == 200
    text = anonymous.text
    assert database_name not in text
    assert "postgres" not in text.lower()
    assert "target" not in text and "pool" not in text
    assert hostname not in text and '"pid"' not in text and "hostname" not in text
    assert system.workers[0].id not in text  # a worker's id names its host and PID too
    checks = anonymous.json()["data"]["checks"]
    assert checks["worker"]["details"] == {"live_workers": 1}

    assert full.status_code == 200
    admin_checks = full.json()["data"]["checks"]
    assert database_name in admin_checks["database"]["details"]["target"]
    assert "pool" in admin_checks["database"]["details"]
    assert admin_checks["worker"]["details"]["workers"][0]["pid"] == pid
    assert admin_checks["worker"]["details"]["workers"][0]["hostname"] == hostname


async def test_anonymous_detailed_health_requires_no_login_but_admin_view_does(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/api/v1/health/detailed")).status_code == 200
    assert (await client.get("/api/v1/admin/health")).status_code == 401


# --------------------------------------------------------------------------- 5. headers


@pytest.mark.parametrize(
    "path", ["/api/v1/health", "/api/v1/health/live", "/api/v1/missing", "/api/v1/auth/me"]
)
async def test_api_responses_are_no_store(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.headers["cache-control"] == "no-store"


async def test_login_and_api_key_creation_are_no_store(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, username="cachecheck", password="Correct-Horse-9")
    login = await client.post(
        "/api/v1/auth/login", json={"username": "cachecheck", "password": "Correct-Horse-9"}
    )
    assert login.status_code == 200
    assert login.headers["cache-control"] == "no-store"
    token = login.json()["data"]["session_token"]
    created = await client.post(
        "/api/v1/api-keys",
        json={"name": "ci"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 200, created.text
    assert created.headers["cache-control"] == "no-store"


def csp_directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.parametrize("path", ["/", "/admin/users"])
async def test_web_page_has_a_self_only_content_security_policy(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    csp = csp_directives(response.headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    # The page needs nothing inline, and its files are served here.
    assert "<script>" not in response.text and "<style>" not in response.text
    for asset in re.findall(r"""(?:src|href)=['"](/[^'"]+\.(?:js|css))['"]""", response.text):
        assert (await client.get(asset)).status_code == 200, asset


async def test_api_docs_csp_allows_its_inline_script_by_hash_only(
    client: httpx.AsyncClient,
) -> None:
    import base64
    import hashlib

    response = await client.get("/api-docs")
    csp = csp_directives(response.headers["content-security-policy"])
    [inline] = re.findall(r"<script>(.*?)</script>", response.text, flags=re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert csp["script-src"] == ["'self'", f"'sha256-{digest}'"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert csp["connect-src"] == ["'self'"]


@pytest.mark.parametrize("path", ["/", "/api/v1/health", "/api-docs"])
async def test_no_server_header(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert "server" not in response.headers


# --------------------------------------------------------------------------- 6. 405 + Allow


# The methods each path does serve: what its 405 answers must list in Allow.
ALLOW = {
    "/api/v1/health": "GET",
    "/api/v1/tasks": "GET, POST",
    "/api/v1/notes": "GET, POST",
    "/api/v1/auth/login": "POST",
}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("OPTIONS", "/api/v1/health"),
        ("PATCH", "/api/v1/health"),
        ("OPTIONS", "/api/v1/tasks"),
        ("PUT", "/api/v1/tasks"),
        ("TRACE", "/api/v1/notes"),
        ("PROPFIND", "/api/v1/auth/login"),
    ],
)
async def test_options_and_unknown_methods_are_405_with_allow(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path)
    error = assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert method in error["message"]
    assert response.headers["allow"] == ALLOW[path]


async def test_cors_preflight_still_works_for_allowed_origins(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/api/v1/tasks",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "POST" in response.headers["access-control-allow-methods"]
