"""Browser tests: the committed web app, served by the real system, driven in real Chromium.

    pytestmark = pytest.mark.asyncio(loop_scope="session")   # in every test module here

    async def test_something(open_page):
        page = await open_page("alice")               # a browser context of its own
        await page.goto("/sign-in")                    # on this test's live server
        await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

How the pieces fit:

* `browser` — one headless Chromium for the whole session (starting one costs seconds).
  Playwright's async objects belong to the event loop that made them, so the browser lives
  on pytest-asyncio's *session* loop, and the tests and fixtures here run on that loop too
  (hence the `loop_scope="session"` marks). It is Debian's `/usr/bin/chromium`: Playwright's
  own browser downloads are not used. Without it the tests skip, saying how to install it;
  with `CI=true` they fail instead.
* `live_app` — this test's own system: the API server and one real worker (tasks, and the
  notifications they send, really run) on a free port over this test's cloned database
  (the `settings` fixture of tests/conftest.py), serving the committed build in
  `studypath/static/` — the pages users get from `pip install`, not a dev server. It starts
  with an admin, `admin` / `ADMIN_PASSWORD`.
* `open_page` — `await open_page("alice", width=375)`: a page in a new browser context
  (separate cookies: one context per person). When the test ends, every page is saved as
  `test-results/<test name>/<person>.png` (git-ignored; kept on failure, which is when it
  matters) and the contexts are closed.
* `new_user_at` — `await new_user_at("tess", "/tasks/new")`: the page of a new account that
  asked for the path signed out and signed in on the way (the steps are in `steps.py`).

Waiting is Playwright's: `expect(...)` retries until the page shows what it should or the
timeout passes; no test sleeps.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Protocol

import pytest
import pytest_asyncio
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    ViewportSize,
    async_playwright,
    expect,
)
from pydantic import SecretStr

from studypath.app import STATIC_DIR
from studypath.config import Settings
from studypath.testing.server import base_url, running_system
from tests.e2e.steps import register_by_api, sign_in_on_the_way
from tests.support.prerequisites import unavailable

ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = ROOT / "test-results"
CHROMIUM = Path("/usr/bin/chromium")
# Headless, as root in a container (no sandbox), and quiet: no GPU, no QUIC, none of the
# background traffic (updates, sync, first-run pages) a desktop browser starts with.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_PASSWORD = "Admin-Passw0rd-e2e"
# Two shared cores run the server, the worker, PostgreSQL and Chromium: generous waits.
# (A passing test waits only as long as the page needs; the limit matters on failure.)
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE_WIDTH = 375


class OpenPage(Protocol):
    def __call__(self, person: str, *, width: int = ...) -> Awaitable[Page]: ...


class NewUserAt(Protocol):
    def __call__(self, person: str, path: str) -> Awaitable[Page]: ...


def require_chromium() -> Path:
    if not CHROMIUM.exists():
        unavailable(
            f"no Chromium at {CHROMIUM}: install Debian's (`apt-get install chromium`); "
            "these tests never download a browser"
        )
    return CHROMIUM


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = require_chromium()
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


def require_web_build() -> None:
    """The committed build must be there: its absence is a bug, not a reason to skip."""
    index = STATIC_DIR / "index.html"
    if not index.is_file() or "/assets/" not in index.read_text(encoding="utf-8"):
        pytest.fail(
            f"{STATIC_DIR} holds no build of the web app: run `cd web && npm ci && npm run build`",
            pytrace=False,
        )


@pytest_asyncio.fixture(loop_scope="session")
async def live_app(settings: Settings) -> AsyncIterator[str]:
    """The base URL of this test's running system (API server + one worker + the web app)."""
    require_web_build()
    with_admin = settings.model_copy(update={"initial_admin_password": SecretStr(ADMIN_PASSWORD)})
    async with running_system(with_admin, workers=1) as system:
        yield base_url(system)


@pytest.fixture
def results_dir(request: pytest.FixtureRequest) -> Path:
    """`test-results/<test name>/`, emptied: this run's screenshots only."""
    folder = RESULTS_DIR / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest_asyncio.fixture(loop_scope="session")
async def open_page(browser: Browser, live_app: str, results_dir: Path) -> AsyncIterator[OpenPage]:
    opened: list[tuple[str, BrowserContext]] = []

    async def open_for(person: str, *, width: int = DESKTOP["width"]) -> Page:
        phone = width <= PHONE_WIDTH
        context = await browser.new_context(
            base_url=live_app,
            viewport={"width": width, "height": 740 if phone else DESKTOP["height"]},
            is_mobile=phone,
            has_touch=phone,
        )
        context.set_default_timeout(TIMEOUT_MS)
        opened.append((person, context))
        return await context.new_page()

    yield open_for
    for person, context in opened:
        for number, page in enumerate(context.pages):
            if page.is_closed():
                continue
            suffix = f"-{number + 1}" if number else ""
            await page.screenshot(path=results_dir / f"{person}{suffix}.png", full_page=True)
        await context.close()


@pytest.fixture
def new_user_at(open_page: OpenPage, live_app: str) -> NewUserAt:
    """`await new_user_at("tess", "/tasks/new")`: a new account (made by the API), in a
    browser of its own that asked for the page signed out and signed in on the way."""

    async def signed_in_at(person: str, path: str) -> Page:
        await register_by_api(live_app, person)
        page = await open_page(person)
        await sign_in_on_the_way(page, path, person)
        return page

    return signed_in_at
