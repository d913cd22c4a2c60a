"""The app's shell: headers, request ids, CORS, docs, and the SPA on the same port."""

from __future__ import annotations

import re

import httpx


async def test_every_response_has_security_headers(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/health", "/", "/api-docs", "/api/v1/missing"):
        response = await client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["x-frame-options"] == "DENY", path


async def test_request_id_is_fresh_for_each_request(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/api/v1/health/live")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


async def test_request_id_sent_by_the_client_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/health/live", headers={"X-Request-ID": "trace-abc.123"})
    assert response.headers["x-request-id"] == "trace-abc.123"


async def test_unsafe_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/health/live", headers={"X-Request-ID": "bad id\twith <tags>"}
    )
    assert response.headers["x-request-id"] != "bad id\twith <tags>"
    assert len(response.headers["x-request-id"]) == 32


async def test_cors_allows_configured_origin_only(client: httpx.AsyncClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = await client.options(
        "/api/v1/health", headers={"Origin": "http://localhost:5173", **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"

    denied = await client.options(
        "/api/v1/health", headers={"Origin": "http://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in denied.headers


async def test_spa_and_api_share_one_port(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    api = await client.get("/api/v1/health")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<title>studypath</title>" in page.text
    assert api.json()["data"]["status"] == "healthy"


async def test_client_side_routes_fall_back_to_index_with_200(client: httpx.AsyncClient) -> None:
    response = await client.get("/tasks/some-id/details")
    assert response.status_code == 200
    assert "<title>studypath</title>" in response.text


async def test_api_docs_and_openapi(client: httpx.AsyncClient) -> None:
    docs = await client.get("/api-docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text.lower()
    assert "/api-docs/openapi.json" in docs.text

    spec = (await client.get("/api-docs/openapi.json")).json()
    assert spec["info"]["title"] == "studypath API"
    assert "/api/v1/health" in spec["paths"]
    assert "/api/v1/health/detailed" in spec["paths"]


async def test_api_docs_load_nothing_from_other_hosts(client: httpx.AsyncClient) -> None:
    """Offline learners get working docs: Swagger UI's script, style and icon come from
    this server, and they are Swagger UI 5 — the first to render OpenAPI 3.1."""
    page = (await client.get("/api-docs")).text
    links = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page)
    assert links, page
    assert all(link.startswith("/") for link in links), links
    kinds = {}
    for link in links:
        asset = await client.get(link)
        assert asset.status_code == 200, link
        kinds[link.rsplit(".", 1)[-1]] = asset.headers["content-type"].split(";")[0]
        if link.endswith(".js"):
            assert re.search(r'"5\.\d+\.\d+"', asset.text), "not Swagger UI 5"
    assert kinds == {"js": "text/javascript", "css": "text/css", "png": "image/png"}, kinds
    spec = (await client.get("/api-docs/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")


def test_listening_socket_says_tcp_so_nagle_is_off() -> None:
    """asyncio sets TCP_NODELAY only on sockets created as IPPROTO_TCP; without it every
    response written in two parts waited ~40 ms for the client's delayed ACK."""
    import socket

    from studypath.system import bind_socket

    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
