"""Alembic migrations, shipped inside the package so a pip-installed studypath can migrate.

`upgrade(url)` is what `studypath migrate up`, the server, the worker and the Workbench call.
Concurrent callers are safe: env.py holds a PostgreSQL advisory lock while it migrates.
"""

from __future__ import annotations

import io
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import URL

from studypath.core.db import normalize_url

MIGRATIONS_DIR = Path(__file__).parent


def alembic_config(url: str | URL | None = None) -> Config:
    config = Config(stdout=io.StringIO())
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        rendered = normalize_url(url).render_as_string(hide_password=False)
        config.attributes["database_url"] = rendered
    return config


def upgrade(url: str | URL, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | URL, revision: str = "-1") -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str | URL) -> str | None:
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def history() -> list[tuple[str, str]]:
    """(revision, message) from base to head."""
    script = ScriptDirectory.from_config(alembic_config())
    return [(rev.revision, rev.doc or "") for rev in reversed(list(script.walk_revisions()))]
