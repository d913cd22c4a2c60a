"""Tools some tests need besides Python — a browser, Node.js — and what to do without them.

On a contributor's machine a missing tool skips those tests, with a reason that says how to
get it. In CI (`CI=true`, set by CI services and by `.ci/run`) a missing tool
is a broken setup, not a choice: the same tests fail, so a green CI run means they ran.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


def unavailable(reason: str) -> NoReturn:
    """Skip this test for `reason` (which says how to install what is missing); in CI, fail."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing tool fails instead of skipping)", pytrace=False)
    pytest.skip(reason)
