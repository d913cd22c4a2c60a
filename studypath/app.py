"""`create_app(settings)`: the FastAPI application — API, docs and the single-page app.

One process serves both the SPA (`/`) and the API (`/api/v1/*`), as the guide's single
binary does. Startup connects to the database first, so a bad URL fails fast and clearly.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from studypath.config import Settings
from studypath.core.db import Database
from studypath.core.errors import install_error_handlers
from studypath.core.middleware import RequestContextMiddleware
from studypath.core.pagination import TOTAL_COUNT_HEADER
from studypath.core.periodic import PeriodicRunner
from studypath.core.security import configure_hashing, prepare_dummy_hash
from studypath.openapi import install_openapi
from studypath.routers import PERIODIC_JOBS, ROUTERS
from studypath.telemetry.http import HttpTelemetry
from studypath.telemetry.tracing import (
    SampledTracingMiddleware,
    sample_ratio,
    setup_tracing,
)
from studypath.version import __version__

STATIC_DIR = Path(__file__).parent / "static"
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
* `POST /auth/refresh`: a session that was never refreshed may refresh at once (right after
  login too); after that, 409 `CONFLICT` within five minutes of its last refresh.
* Resources a caller may not see answer 404, not 403 (no enumeration); moderators do not see
  admins, not even in `GET /users`.
"""


class SinglePageApp(StaticFiles):
    """Static files with an `index.html` fallback (status 200) for client-side routes.

    Used as the router's default: it only sees requests no API route matched. Anything
    under `/api/` that reaches it is an unknown endpoint and gets the 404 envelope.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            raise StarletteHTTPException(status_code=404)
        await super().__call__(scope, receive, send)

    async def get_response(self, path: str, scope: Scope):  # type: ignore[no-untyped-def]
        try:
            return await super().get_response(path, scope)
        except StarletteHTTPException as exc:
            if exc.status_code != 404:
                raise
            return await super().get_response("index.html", scope)


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


def create_app(settings: Settings, *, database: Database | None = None) -> FastAPI:
    """Build the application. The database is opened at startup (lifespan), not here, so
    `create_app` also serves tools that only need the routes (OpenAPI export, diagrams)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = app.state.db is None
        if owned:
            if not settings.database_url:
                raise RuntimeError("create_app needs settings.database_url (or database=...)")
            app.state.db = Database(
                settings.database_url,
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_max_overflow,
                connect_timeout=settings.db_connect_timeout,
            )
        await app.state.db.connect()
        await asyncio.to_thread(prepare_dummy_hash)
        app.state.started_monotonic = time.monotonic()
        jobs = PeriodicRunner(PERIODIC_JOBS, app.state.db, settings)
        jobs.start()
        try:
            yield
        finally:
            await jobs.stop()
            if owned:
                await app.state.db.dispose()

    configure_hashing(
        settings.password_hash_time_cost,
        settings.password_hash_memory_kib,
        settings.password_hash_parallelism,
    )
    app = FastAPI(
        title="studypath API",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.started_monotonic = time.monotonic()

    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    install_openapi(app)

    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=DOCS_ASSETS_DIR), name="api-docs-assets")

    @app.get("/api-docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return swagger_ui_page()

    app.router.default = SinglePageApp(directory=STATIC_DIR, html=True)

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
    )
    if settings.tracing_enabled:  # outermost: the request's span encloses everything else
        setup_tracing(
            settings.otlp_endpoint,
            sample_ratio(settings.trace_sample_ratio, settings.otlp_endpoint),
        )
        app.add_middleware(SampledTracingMiddleware, exclude_spans=["receive", "send"])
    return app
