"""`create_app(settings)`: the FastAPI application — API, docs and the single-page app.

One process serves both the SPA (`/`) and the API (`/api/v1/*`), as the guide's single
binary does. Startup connects to the database first, so a bad URL fails fast and clearly.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from studypath.config import Settings
from studypath.core.db import Database
from studypath.core.errors import install_error_handlers
from studypath.core.middleware import RequestContextMiddleware
from studypath.core.pagination import TOTAL_COUNT_HEADER
from studypath.core.periodic import PeriodicRunner
from studypath.core.security import HashingParameters, configure_hashing, prepare_dummy_hash
from studypath.core.state import AppState, install_state
from studypath.health.api import PROBE_PATHS
from studypath.openapi import install_openapi
from studypath.routers import PERIODIC_JOBS, ROUTERS
from studypath.tasks.handlers import builtin_registry
from studypath.tasks.registry import TaskRegistry
from studypath.telemetry.http import HttpTelemetry
from studypath.telemetry.tracing import (
    SampledTracingMiddleware,
    sample_ratio,
    setup_tracing,
)
from studypath.version import __version__

# The web app's production build (Vite's output, committed: `pip install` needs no Node);
# its sources are in `web/`. Without a build, the fallback page is served.
STATIC_DIR = Path(__file__).parent / "static"
FALLBACK_PAGE_DIR = Path(__file__).parent / "web_fallback"
ASSETS_PREFIX = "/assets/"
ASSETS_CACHE_CONTROL = "public, max-age=31536000, immutable"
PAGE_CACHE_CONTROL = "no-cache"
SERVER_PREFIXES = ("/api", "/api-docs")
OPENAPI_URL = "/api-docs/openapi.json"
# Swagger UI's own files, from the fastapi-offline wheel (Swagger UI 5: renders OpenAPI 3.1),
# served by this process: the docs work on a laptop with no network, as the notebooks do.
DOCS_ASSETS_URL = "/api-docs/assets"
DOCS_ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))

DESCRIPTION = """
The studypath system API, wire-compatible with the study guide's starter API.

* Success: `{"success": true, "data": ..., "message": ...}`;
  errors: `{"error": {"code": "...", "message": "..."}}` — including 404, 405,
  415 (body not JSON) and 422 (schema violations), which the guide's system answered in
  plain text.
* Every response carries `X-Request-ID` (yours if you send one), `nosniff` and
  `X-Frame-Options: DENY`.
* Health probes answer 503 with the error envelope; the failing checks are in
  `error.details` (the guide's contract gives no body for 503).
* Lists take `limit` (1-100, default 50) and `offset`; `data` is the page, the total is in
  the `X-Total-Count` header.
* Authentication: `Authorization: Bearer <session token>`, or an API key as
  `Authorization: Bearer sk_...` / `X-API-Key: sk_...`. API keys cannot create keys, log out,
  refresh, change the password or delete the account (403): those need a session.
  The web app uses the session cookie login also sets (`studypath_session`, HttpOnly,
  SameSite=Strict); a request it authenticates that is not GET or HEAD needs an `Origin`
  (else `Referer`) of this server (403 otherwise). A header wins over the cookie.
* `POST /auth/refresh`: a session that was never refreshed may refresh at once (right after
  login too); after that, 409 `CONFLICT` within five minutes of its last refresh.
* Resources a caller may not see answer 404, not 403 (no enumeration); moderators do not see
  admins, not even in `GET /users`.
"""


def is_server_path(path: str) -> bool:
    """Paths the server itself owns: the API and its docs. A request for one of them that
    no route matched is an unknown endpoint, never a page of the web app."""
    return any(path == prefix or path.startswith(f"{prefix}/") for prefix in SERVER_PREFIXES)


def accepts_html(scope: Scope) -> bool:
    """Whether the client would take a page: it sent no `Accept`, or one naming HTML or any
    type (browsers navigating, curl). A client that asks only for JSON gets the 404."""
    accept = Headers(scope=scope).get("accept")
    if accept is None:
        return True
    kinds = {item.split(";", 1)[0].strip().lower() for item in accept.split(",")}
    return bool(kinds & {"text/html", "text/*", "*/*"})


def cache_control_for(path: str) -> str:
    """Vite names every file under `/assets/` after its content, so a browser may keep them
    for good; `index.html` and the other files keep their names, so the browser asks again
    each time (a 304 when nothing changed) and sees a new build at once."""
    return ASSETS_CACHE_CONTROL if path.startswith(ASSETS_PREFIX) else PAGE_CACHE_CONTROL


class SinglePageApp(StaticFiles):
    """The web app's files, and its `index.html` (status 200) for client-side routes.

    Used as the router's default: it only sees requests no route matched. Under `/api/`
    or `/api-docs/` that is an unknown endpoint (the 404 envelope); a missing file under
    `/assets/` is a 404 too (a stale page asking for an old build's file must not get HTML).
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_server_path(scope["path"]):
            raise StarletteHTTPException(status_code=404)
        await super().__call__(scope, receive, send)

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except StarletteHTTPException as exc:
            is_asset = scope["path"].startswith(ASSETS_PREFIX)
            if exc.status_code != 404 or is_asset or not accepts_html(scope):
                raise
            response = await super().get_response("index.html", scope)
        response.headers["Cache-Control"] = cache_control_for(scope["path"])
        return response


def web_app_directory(settings: Settings) -> Path:
    """Where the web app's files come from: the configured directory, else the build in the
    package, else (no build) a fallback page that says how to build it."""
    if settings.static_dir is not None:
        return settings.static_dir
    return STATIC_DIR if (STATIC_DIR / "index.html").is_file() else FALLBACK_PAGE_DIR


def swagger_ui_page() -> HTMLResponse:
    """Swagger UI, loading its files from this server, with a CSP of its own: the page
    starts Swagger UI from one inline script, allowed by its hash (not 'unsafe-inline');
    Swagger UI sets inline styles and draws icons from data: URLs."""
    page = get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title="studypath API docs",
        swagger_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
    )
    html = bytes(page.body).decode()
    inline = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()}'"
        for code in inline
    )
    policy = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "frame-ancestors 'none'"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": policy})


def create_app(
    settings: Settings,
    *,
    database: Database | None = None,
    registry: TaskRegistry | None = None,
) -> FastAPI:
    """Build the application. The database is opened at startup (lifespan), not here, so
    `create_app` also serves tools that only need the routes (OpenAPI export, diagrams).

    Everything the requests share is one `AppState`, stored here and read through
    `studypath.core.state.app_state`: the settings, the database, the task registry (the
    running system's; the built-in types when none is given), the start time."""
    state = AppState(
        settings=settings,
        registry=registry if registry is not None else builtin_registry(),
        database=database,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = state.database is None
        if owned:
            if not settings.database_url:
                raise RuntimeError("create_app needs settings.database_url (or database=...)")
            state.database = Database.from_settings(settings)
        await state.db.connect()
        await asyncio.to_thread(prepare_dummy_hash)
        state.started = state.clock()
        jobs = PeriodicRunner(PERIODIC_JOBS, state.db, settings)
        jobs.start()
        try:
            yield
        finally:
            await jobs.stop()
            if owned:
                await state.db.dispose()

    configure_hashing(HashingParameters.from_settings(settings))
    app = FastAPI(
        title="studypath API",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        lifespan=lifespan,
    )
    install_state(app, state)

    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    install_openapi(app)

    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=DOCS_ASSETS_DIR), name="api-docs-assets")

    @app.get("/api-docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return swagger_ui_page()

    app.router.default = SinglePageApp(directory=web_app_directory(settings))

    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After", TOTAL_COUNT_HEADER, "X-Unread-Count"],
    )
    app.add_middleware(
        RequestContextMiddleware,
        api_prefix="/api/",
        max_body_bytes=settings.max_body_bytes,
        observer=HttpTelemetry(),
        request_timeout=settings.request_timeout_seconds,
        on_timeout=state.mark_database_suspect,
        quiet_paths=PROBE_PATHS,
    )
    if settings.tracing_enabled:  # outermost: the request's span encloses everything else
        setup_tracing(
            settings.otlp_endpoint,
            sample_ratio(settings.trace_sample_ratio, settings.otlp_endpoint),
        )
        app.add_middleware(SampledTracingMiddleware, exclude_spans=["receive", "send"])
    return app
