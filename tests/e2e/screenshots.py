"""The README's screenshot of the web app, taken from the committed build in real Chromium.

    python -m tests.e2e.screenshots            # writes docs/screenshots/dashboard.png

A throwaway system (`studypath.start(ephemeral=True)`) with one user, `alice`, and a few
finished tasks; headless Chromium (Debian's `/usr/bin/chromium`, as in the browser tests)
signs her in and photographs her dashboard. Run it after changing how the dashboard looks.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import expect, sync_playwright

import studypath
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP
from tests.e2e.steps import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_PNG = ROOT / "docs" / "screenshots" / "dashboard.png"
TASKS = [0, 0, 0.1]  # delay_task payloads: three tasks that finish at once


def wait_until_finished(client: httpx.Client, within: float = 20) -> None:
    """Until none of alice's tasks is still pending or running (a worker runs them)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        tasks = client.get("/api/v1/tasks").json()["data"]
        if all(task["status"] == "completed" for task in tasks):
            return
        time.sleep(0.1)
    raise TimeoutError("alice's tasks did not finish")


def take_dashboard(path: Path = DASHBOARD_PNG) -> Path:
    if not CHROMIUM.exists():
        sys.exit(f"no Chromium at {CHROMIUM}: `apt-get install chromium`")
    wb = studypath.start(ephemeral=True, workers=1)
    try:
        with wb.user("alice", password=PASSWORD) as alice:
            for seconds in TASKS:
                alice.post(
                    "/api/v1/tasks",
                    json={"task_type": "delay_task", "payload": {"delay_seconds": seconds}},
                ).raise_for_status()
            wait_until_finished(alice)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(base_url=wb.url, viewport=DESKTOP)
            page.goto("/sign-in")
            page.get_by_label("Username or e-mail").fill("alice")
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()
            completed = re.compile(rf"^completed: {len(TASKS)} tasks")
            expect(page.get_by_role("link", name=completed)).to_be_visible()
            path.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=path, clip={"x": 0, "y": 0, "width": DESKTOP["width"], "height": 560}
            )
            browser.close()
    finally:
        wb.stop()
    return path


if __name__ == "__main__":
    print("wrote", take_dashboard().relative_to(ROOT))
