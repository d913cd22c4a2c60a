"""The project's own fixtures. The harness itself — a PostgreSQL server per test process, a
database cloned per test, the system on a free port — is `studypath.testing`'s pytest
plugin (`app`, `postgres`, `database_url`, `settings`, `system`, `client`, `db`, `session`);
what is left here is particular to this repository.

async def test_something(client):          # httpx.AsyncClient on a running server
    response = await client.get("/api/v1/health")
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from studypath.cli import app as cli_app
from studypath.core.logging import OWNED_LOGGERS, QUIET_LOGGERS, detach
from studypath.testing.server import use_test_hashing

use_test_hashing()  # cheap argon2id: unit tests hash passwords too, without a server


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see no STUDYPATH_* variables unless they set them: results must not depend on
    the shell that runs them."""
    for key in list(os.environ):
        if key.startswith("STUDYPATH_"):
            monkeypatch.delenv(key)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local TCP port that accepts connections but never answers: a client's connect has
    to time out there (the way a firewalled or hung database host behaves)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield int(listener.getsockname()[1])
    listener.close()


@pytest.fixture
def admin(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Awaitable[Result]]]:
    """`await admin("list-tasks", "--limit", "5")`: run `studypath admin ...` in-process
    (typer's CliRunner) on this test's database. The command calls `asyncio.run` itself, so
    it runs in a thread, off the test's loop."""
    env = {"STUDYPATH_DATABASE_URL": database_url, "STUDYPATH_DATA_DIR": str(tmp_path)}

    async def run(*args: str, input: str | None = None) -> Result:
        runner = CliRunner()
        return await asyncio.to_thread(
            lambda: runner.invoke(cli_app, ["admin", *args], input=input, env=env)
        )

    yield run
    # The CLI routed our loggers to the runner's (now closed) stderr: undo that.
    for name in (*OWNED_LOGGERS, *QUIET_LOGGERS):
        for handler in logging.getLogger(name).handlers:
            if getattr(handler, "_studypath", False):
                detach(handler)
