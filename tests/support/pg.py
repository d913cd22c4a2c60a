"""The test database server: one PostgreSQL per test session, one database per test.

A migrated template database is built once; each test gets `CREATE DATABASE … TEMPLATE`,
a file-level copy that takes tens of milliseconds, so tests never share rows.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from studypath import migrations
from studypath.core.db import libpq_url
from studypath.core.embedded import EmbeddedPostgres


class TestPostgres:
    """A server we may create and drop databases on (embedded, or STUDYPATH_DATABASE_URL)."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, work_dir: Path, external_url: str | None = None) -> None:
        self._embedded: EmbeddedPostgres | None = None
        if external_url:
            self.server_url = libpq_url(external_url)
        else:
            self._embedded = EmbeddedPostgres(work_dir / "pgdata", durable=False, ephemeral=True)
            self.server_url = self._embedded.start()
        self._admin = psycopg.connect(self.server_url, autocommit=True)
        self.template = f"studypath_template_{uuid.uuid4().hex[:8]}"

    def url_for(self, database: str) -> str:
        return (
            make_url(self.server_url).set(database=database).render_as_string(hide_password=False)
        )

    def create_template(self) -> None:
        self._admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.template)))
        migrations.upgrade(self.url_for(self.template))

    def clone(self) -> str:
        """A fresh, migrated database for one test; returns its URL."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        self._admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(self.template)
            )
        )
        return self.url_for(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        assert name is not None
        self._admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )

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
    return os.environ.get("STUDYPATH_DATABASE_URL") or None
