"""The test database server: one PostgreSQL per test process, one database per test.

A migrated template database is built once per process; each test gets
`CREATE DATABASE … TEMPLATE`, a file-level copy that takes tens of milliseconds, so tests
never share rows — and, since every process (each pytest-xdist worker) builds a template of
its own under a name of its own, processes never share databases either.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from studypath import migrations
from studypath.core.db import libpq_url
from studypath.core.embedded import EmbeddedPostgres

EXTERNAL_URL_VARIABLE = "STUDYPATH_DATABASE_URL"


@dataclass
class DatabaseTimings:
    """How long the harness spent on databases (seconds): what "a database per test" costs."""

    template: float = 0.0  # creating and migrating the template, once
    clones: list[float] = field(default_factory=list)  # one per test
    drops: list[float] = field(default_factory=list)

    @property
    def per_test(self) -> float:
        """Mean clone + drop time of one test's database."""
        if not self.clones:
            return 0.0
        return (sum(self.clones) + sum(self.drops)) / len(self.clones)


class TestPostgres:
    """A server we may create and drop databases on: an embedded one started in `work_dir`,
    or the server at `external_url` (STUDYPATH_DATABASE_URL, e.g. a CI service)."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, work_dir: Path, external_url: str | None = None) -> None:
        self._embedded: EmbeddedPostgres | None = None
        if external_url:
            self.server_url = libpq_url(external_url)
        else:
            self._embedded = EmbeddedPostgres(work_dir / "pgdata", durable=False, ephemeral=True)
            self.server_url = self._embedded.start()
        self._admin = psycopg.connect(self.server_url, autocommit=True)
        # A name per process: pytest-xdist workers sharing an external server never collide.
        self.template = f"studypath_template_{uuid.uuid4().hex[:8]}"
        self.timings = DatabaseTimings()

    def url_for(self, database: str) -> str:
        return (
            make_url(self.server_url).set(database=database).render_as_string(hide_password=False)
        )

    def create_template(self) -> None:
        """Create the template database and run every migration on it (once)."""
        started = time.perf_counter()
        self._admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.template)))
        migrations.upgrade(self.url_for(self.template))
        self.timings.template = time.perf_counter() - started

    def clone(self) -> str:
        """A fresh, migrated database for one test; returns its URL."""
        started = time.perf_counter()
        name = f"test_{uuid.uuid4().hex[:12]}"
        self._admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(self.template)
            )
        )
        self.timings.clones.append(time.perf_counter() - started)
        return self.url_for(name)

    @contextmanager
    def cloned(self) -> Iterator[str]:
        """`clone()` for the length of a `with` block, dropped when it ends (a fixture's
        database: `with postgres.cloned() as url: yield url`)."""
        url = self.clone()
        try:
            yield url
        finally:
            self.drop(url)

    def drop(self, url: str) -> None:
        """Drop a test's database, closing any connection still open to it."""
        started = time.perf_counter()
        name = make_url(url).database
        assert name is not None
        self._admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        self.timings.drops.append(time.perf_counter() - started)

    def databases(self, prefix: str = "test_") -> list[str]:
        """The databases on the server whose name starts with `prefix` (the tests' own)."""
        rows = self._admin.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s) ORDER BY 1", (prefix,)
        )
        return [str(name) for (name,) in rows.fetchall()]

    def execute(self, statement: str) -> None:
        self._admin.execute(statement)

    def close(self) -> None:
        self._admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.template))
        )
        self._admin.close()
        if self._embedded is not None:
            self._embedded.stop()


def external_server_url() -> str | None:
    """The server to use instead of an embedded one, if STUDYPATH_DATABASE_URL names one."""
    return os.environ.get(EXTERNAL_URL_VARIABLE) or None


def start_test_postgres(work_dir: Path, external_url: str | None = None) -> TestPostgres:
    """A server with its migrated template, ready to clone."""
    server = TestPostgres(work_dir, external_url)
    try:
        server.create_template()
    except BaseException:
        server.close()
        raise
    return server
