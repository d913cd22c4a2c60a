"""The web app's own checks, run from pytest so `pytest` alone says whether `web/` is sound:
TypeScript's type check (`tsc -b`: a server change that broke a page fails here), the
Vitest unit tests, Prettier's check of the sources (`npm run lint`), and the size of the
committed build's initial JavaScript against its 150 kB budget (`npm run size`: it reads
`studypath/static/`, so a page that bloated the first download fails here once built).
All need Node.js and `web/node_modules` (`cd web && npm ci`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.prerequisites import unavailable

WEB = Path(__file__).resolve().parents[2] / "web"


def npm() -> str:
    """The `npm` to run the web app's scripts with (skips, or fails in CI, without one)."""
    found = shutil.which("npm")
    if shutil.which("node") is None or found is None:
        unavailable(
            "Node.js ≥ 20.19 with npm is not installed: install it, then `cd web && npm ci`"
        )
    if not (WEB / "node_modules").is_dir():
        unavailable("web/node_modules is missing: run `cd web && npm ci`")
    return found


@pytest.mark.parametrize("script", ["typecheck", "test", "lint", "size"])
def test_web_app_script_passes(script: str) -> None:
    """`npm run typecheck` (tsc -b), `npm test` (Vitest, once), `npm run lint` (Prettier
    check) and `npm run size` (the initial JavaScript within budget) succeed in web/."""
    result = subprocess.run(
        [npm(), "run", script],
        cwd=WEB,
        env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"npm run {script} failed:\n{result.stdout}\n{result.stderr}"
