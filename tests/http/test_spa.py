"""The web app's build served beside the API: files, client-side routes, caching, fallback.

A fake Vite build (index.html + hashed files under assets/) in a temporary directory stands
in for the real one, through the `static_dir` setting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

import studypath.app
from studypath.app import FALLBACK_PAGE_DIR, web_app_directory
from studypath.config import Settings
from studypath.testing.server import client_for, running_system

INDEX = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <title>fake build</title>
    <script type="module" crossorigin src="/assets/index-3f2a9c1d.js"></script>
    <link rel="stylesheet" crossorigin href="/assets/index-77b0e4aa.css">
  </head>
  <body><div id="root"></div></body>
</html>
"""
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def build(tmp_path: Path) -> Path:
    """What `vite build` writes: index.html, hashed assets, and files of `public/`."""
    directory = tmp_path / "build"
    (directory / "assets").mkdir(parents=True)
    (directory / "index.html").write_text(INDEX)
    (directory / "assets" / "index-3f2a9c1d.js").write_text("console.log('app');\n")
    (directory / "assets" / "index-77b0e4aa.css").write_text("body { margin: 0; }\n")
    (directory / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return directory


@pytest.fixture
async def web(settings: Settings, build: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running_system(settings.model_copy(update={"static_dir": build})) as system:
        async with client_for(system) as client:
            yield client


async def test_index_is_served_at_root_and_revalidated_on_every_load(
    web: httpx.AsyncClient,
) -> None:
    response = await web.get("/")
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert "script-src 'self';" in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/notes/123", "/tasks?status=failed", "/admin/users", "/x.y"])
async def test_client_side_routes_answer_index_with_200(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in response.headers["content-security-policy"]


async def test_client_side_route_answers_head_without_a_body(web: httpx.AsyncClient) -> None:
    response = await web.head("/notes/123")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.content == b""


async def test_hashed_assets_are_cached_for_good(web: httpx.AsyncClient) -> None:
    script = await web.get("/assets/index-3f2a9c1d.js")
    style = await web.get("/assets/index-77b0e4aa.css")
    assert (script.status_code, style.status_code) == (200, 200)
    assert script.text == "console.log('app');\n"
    assert script.headers["content-type"].startswith("text/javascript")
    assert style.headers["content-type"].startswith("text/css")
    assert script.headers["cache-control"] == IMMUTABLE
    assert style.headers["cache-control"] == IMMUTABLE


async def test_asset_revalidation_keeps_the_cache_policy(web: httpx.AsyncClient) -> None:
    first = await web.get("/assets/index-3f2a9c1d.js")
    again = await web.get(
        "/assets/index-3f2a9c1d.js", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.headers["cache-control"] == IMMUTABLE


async def test_other_files_of_the_build_are_served_and_revalidated(
    web: httpx.AsyncClient,
) -> None:
    response = await web.get("/favicon.svg")
    assert response.status_code == 200
    assert response.text.startswith("<svg")
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/assets/index-0ld0ld00.js", "/assets/", "/assets/x/y.css"])
async def test_a_missing_asset_is_a_real_404_not_the_page(
    web: httpx.AsyncClient, path: str
) -> None:
    response = await web.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "path", ["/api", "/api/v1/nope", "/api/v2/users", "/api-docs/nope", "/api-docs/assets/x.js"]
)
async def test_unknown_server_paths_keep_the_json_404(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "NOT_FOUND",
        "message": f"No route for GET {path}",
    }


async def test_a_client_asking_only_for_json_gets_the_404_envelope(
    web: httpx.AsyncClient,
) -> None:
    response = await web.get("/notes/123", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_a_client_side_route_is_not_a_target_for_writes(web: httpx.AsyncClient) -> None:
    response = await web.post("/notes/123", json={"title": "t"})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


async def test_api_and_docs_still_answer_beside_the_build(web: httpx.AsyncClient) -> None:
    assert (await web.get("/api/v1/health")).json()["data"]["status"] == "healthy"
    assert (await web.get("/api-docs")).status_code == 200


def test_without_a_build_the_fallback_page_is_chosen(
    tmp_path: Path, build: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(studypath.app, "STATIC_DIR", tmp_path / "no-build")
    assert web_app_directory(Settings()) == FALLBACK_PAGE_DIR
    monkeypatch.setattr(studypath.app, "STATIC_DIR", build)
    assert web_app_directory(Settings()) == build
    assert web_app_directory(Settings(static_dir=tmp_path)) == tmp_path


async def test_fallback_page_says_how_to_build_and_loads_its_own_files(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(studypath.app, "STATIC_DIR", tmp_path / "no-build")
    async with running_system(settings) as system, client_for(system) as client:
        page = await client.get("/tasks/42")
        assert page.status_code == 200
        assert "npm run build" in page.text
        assert "<script>" not in page.text
        for asset in ("/app.js", "/app.css"):
            assert (await client.get(asset)).status_code == 200, asset
