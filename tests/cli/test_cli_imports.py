"""`studypath --help` stays fast because the command modules import the system only inside
the commands that run it. Checked structurally, not by the clock: a fresh interpreter shows
the command's help (or its version), then lists what it imported."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# What a command's help must not wait for: the database layer, the web framework, the
# settings (pydantic-settings), HTTP clients, migrations, the server and the task handlers.
# (pydantic itself is allowed: typer converts a command's parameters with it.)
HEAVY = (
    "sqlalchemy",
    "fastapi",
    "starlette",
    "pydantic_settings",
    "psycopg",
    "httpx",
    "alembic",
    "uvicorn",
    "argon2",
    "studypath.config",
    "studypath.core.db",
    "studypath.system",
    "studypath.app",
    "studypath.tasks.registry",
    "studypath.tasks.handlers",
)

# Runs the CLI in-process as the `studypath` script does, then prints the imported modules.
PROBE = """
import contextlib, io, json, sys
from studypath.cli import app
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    app(sys.argv[1:], prog_name="studypath")
print(json.dumps(sorted(sys.modules)))
"""


def imported_by(*args: str) -> set[str]:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    return set(json.loads(probe.stdout))


def heavy_among(modules: set[str]) -> list[str]:
    return sorted(
        module
        for module in modules
        if any(module == heavy or module.startswith(heavy + ".") for heavy in HEAVY)
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["admin", "--help"],
        ["admin", "list-tasks", "--help"],
        ["db", "--help"],
        ["labs", "--help"],
        ["chaos", "run", "--help"],
        ["up", "--help"],
        ["version"],
    ],
    ids=" ".join,
)
def test_help_imports_none_of_the_system(args: list[str]) -> None:
    modules = imported_by(*args)
    assert "studypath.cli.run" in modules  # the probe did load every command module
    assert heavy_among(modules) == []


def test_the_probe_sees_a_command_that_imports_the_system() -> None:
    """The check can fail: `db url` reads the settings, so pydantic-settings is imported."""
    modules = imported_by("db", "url", "--data-dir", "/nonexistent")
    assert "pydantic_settings" in heavy_among(modules)
