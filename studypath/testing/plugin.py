"""The pytest plugin of `studypath.testing` (registered as the `pytest11` entry point
`studypath.testing.plugin`, so installing studypath makes these fixtures available):

- `app`: a `TestApp` — the system on a free port over a database of this test's own;
- `postgres`: the PostgreSQL server of this test process, with its migrated template;
- `database_url`, `settings`, `system`, `client`, `db`, `session`: the pieces, for tests
  that assemble their own (a system with workers, a probe route, direct SQL).

Async fixtures are `pytest_asyncio` fixtures: they work in its strict and auto modes alike.
A project's own `conftest.py` may override any of them by defining one of the same name.
Under pytest-xdist every worker process starts its own server (or, with
STUDYPATH_DATABASE_URL, its own template on the shared one), and the run ends with the
time the databases cost per test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

if TYPE_CHECKING:  # the heavy imports wait until a fixture is used
    import httpx
    from sqlalchemy.ext.asyncio import AsyncSession

    from studypath.config import Settings
    from studypath.core.db import Database
    from studypath.system import System
    from studypath.testing.app import TestApp
    from studypath.testing.database import DatabaseTimings, TestPostgres

_TIMINGS = pytest.StashKey[list["DatabaseTimings"]]()
_EXTERNAL_URL = pytest.StashKey[str | None]()
_REMOTE = pytest.StashKey[list[dict[str, Any]]]()  # on the xdist controller: its workers'
_XDIST_KEY = "studypath_database_timings"


def pytest_configure(config: pytest.Config) -> None:
    import os

    # Read before any test runs: a project's fixtures may clear STUDYPATH_* variables.
    config.stash[_EXTERNAL_URL] = os.environ.get("STUDYPATH_DATABASE_URL") or None
    config.stash[_TIMINGS] = []


@pytest.fixture(scope="session")
def postgres(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestPostgres]:
    """This process's PostgreSQL server, with a migrated template database to clone."""
    from studypath.testing.database import start_test_postgres
    from studypath.testing.server import use_test_hashing

    use_test_hashing()
    external = request.config.stash.get(_EXTERNAL_URL, None)
    server = start_test_postgres(tmp_path_factory.mktemp("postgres"), external)
    yield server
    request.config.stash.setdefault(_TIMINGS, []).append(server.timings)
    server.close()


@pytest.fixture
def database_url(postgres: TestPostgres) -> Iterator[str]:
    """A database of this test's own, cloned from the migrated template; dropped after."""
    with postgres.cloned() as url:
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for a system on this test's database (free port, quick workers)."""
    from studypath.testing.server import settings_for_tests

    return settings_for_tests(database_url, tmp_path / "data")


@pytest_asyncio.fixture
async def system(settings: Settings) -> AsyncIterator[System]:
    """The API server (no worker) on a free port, on this test's database."""
    from studypath.testing.server import running_system

    async with running_system(settings) as running:
        yield running


@pytest_asyncio.fixture
async def client(system: System) -> AsyncIterator[httpx.AsyncClient]:
    """An `httpx.AsyncClient` for `system`, keeping no cookies."""
    from studypath.testing.server import client_for

    async with client_for(system) as http:
        yield http


@pytest_asyncio.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """Direct database access for arranging rows and asserting on them."""
    from studypath.core.db import Database

    database = Database(database_url, pool_size=2)
    yield database
    await database.dispose()


@pytest_asyncio.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.sessionmaker() as db_session:
        yield db_session


@pytest_asyncio.fixture
async def app(postgres: TestPostgres, tmp_path: Path) -> AsyncIterator[TestApp]:
    """The TestApp: the system on a free port over a database of this test's own."""
    from studypath.testing.app import spawn_app

    async with spawn_app(postgres, data_dir=tmp_path / "app") as test_app:
        yield test_app


# ---------------------------------------------------------------------- what it cost
def _summary(timings: list[DatabaseTimings]) -> dict[str, Any]:
    clones = [seconds for one in timings for seconds in one.clones]
    drops = [seconds for one in timings for seconds in one.drops]
    return {
        "processes": len(timings),
        "databases": len(clones),
        "clone_seconds": sum(clones),
        "drop_seconds": sum(drops),
        "template_seconds": max((one.template for one in timings), default=0.0),
    }


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker hands its timings to the controller, which prints them."""
    config = session.config
    if hasattr(config, "workeroutput"):
        config.workeroutput[_XDIST_KEY] = _summary(config.stash.get(_TIMINGS, []))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """(pytest-xdist, on the controller) collect a finished worker's timings."""
    summary = getattr(node, "workeroutput", {}).get(_XDIST_KEY)
    if summary:
        node.config.stash.setdefault(_REMOTE, []).append(summary)


def database_report(summaries: list[dict[str, Any]]) -> str | None:
    """One line: how many databases, and what one cost a test on average."""
    databases = sum(one["databases"] for one in summaries)
    if not databases:
        return None
    clone = sum(one["clone_seconds"] for one in summaries) / databases
    drop = sum(one["drop_seconds"] for one in summaries) / databases
    template = max(one["template_seconds"] for one in summaries)
    processes = sum(one["processes"] for one in summaries)
    return (
        f"studypath.testing: {databases} test database(s) in {processes} process(es); "
        f"per test {1000 * clone:.0f} ms to clone + {1000 * drop:.0f} ms to drop; "
        f"template built and migrated in {template:.1f} s"
    )


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    summaries = [_summary(config.stash.get(_TIMINGS, [])), *config.stash.get(_REMOTE, [])]
    line = database_report(summaries)
    if line is not None:
        terminalreporter.write_line(line)
