"""Alembic environment: migrate one PostgreSQL database, under an advisory lock."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text

from studypath.models import metadata

# Any number of servers and workers may start at once; only one migrates at a time.
MIGRATION_LOCK_KEY = 7_420_001


def run_migrations() -> None:
    url = context.config.attributes.get("database_url")
    if url is None:
        raise RuntimeError("no database URL: use studypath.migrations.upgrade(url)")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()
            try:
                context.configure(
                    connection=connection,
                    target_metadata=metadata,
                    compare_type=True,
                    transaction_per_migration=True,
                )
                with context.begin_transaction():
                    context.run_migrations()
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
                connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("studypath migrates online only")
run_migrations()
