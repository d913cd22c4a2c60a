"""Migrations: one history from one first revision, every step reversible, the models and
the migrations in agreement, and every constraint named by the one naming convention."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from studypath import migrations
from studypath.core.db import NAMING_CONVENTION, normalize_url
from studypath.models import metadata
from studypath.testing.database import TestPostgres

Schema = dict[str, Any]


@pytest.fixture
def empty_database_url(postgres: TestPostgres) -> Iterator[str]:
    """A database with nothing in it (not cloned from the migrated template)."""
    name = f"empty_{uuid.uuid4().hex[:12]}"
    postgres.execute(f'CREATE DATABASE "{name}"')
    url = postgres.url_for(name)
    yield url
    postgres.drop(url)


def query(url: str, statement: str) -> list[tuple[Any, ...]]:
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(statement))]
    finally:
        engine.dispose()


def schema_of(url: str) -> Schema:
    """What the migrations own, read from pg_catalog: tables with their columns, constraints
    and indexes (the bookkeeping table alembic_version left out)."""
    tables = query(
        url,
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND c.relname <> 'alembic_version'
        """,
    )
    columns = query(
        url,
        """
        SELECT table_name, column_name, data_type, is_nullable, column_default
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> 'alembic_version'
        """,
    )
    constraints = query(
        url,
        """
        SELECT t.relname, c.conname, c.contype, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = 'public' AND t.relname <> 'alembic_version'
        """,
    )
    indexes = query(
        url,
        """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> 'alembic_version'
        """,
    )
    types = query(
        url,
        """
        SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c')
          AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)
        """,
    )
    return {
        "tables": sorted(tables),
        "columns": sorted(columns, key=repr),
        "constraints": sorted(constraints),
        "indexes": sorted(indexes),
        "types": sorted(types),
    }


def test_history_is_one_line_from_one_first_revision() -> None:
    script = ScriptDirectory.from_config(migrations.alembic_config())

    bases = script.get_bases()
    heads = script.get_heads()
    chain = [revision for revision, _ in migrations.history()]

    assert len(bases) == 1, f"more than one first revision: {bases}"
    assert len(heads) == 1, f"branches to merge: {heads}"
    assert chain[0] == bases[0] and chain[-1] == heads[0] == migrations.head_revision()
    for previous, current in itertools.pairwise(chain):
        assert script.get_revision(current).down_revision == previous


def test_upgrade_downgrade_to_base_and_upgrade_again(empty_database_url: str) -> None:
    url = empty_database_url

    migrations.upgrade(url)
    migrated = schema_of(url)
    migrations.downgrade(url, "base")
    emptied = schema_of(url)
    revision_after_downgrade = migrations.current_revision(url)
    migrations.upgrade(url)

    assert migrated["tables"], "the migrations created no table"
    assert {("users",), ("tasks",), ("workers",)} <= set(migrated["tables"])
    assert emptied == {"tables": [], "columns": [], "constraints": [], "indexes": [], "types": []}
    assert revision_after_downgrade is None
    assert migrations.current_revision(url) == migrations.head_revision()
    assert schema_of(url) == migrated


def test_every_revision_downgrades_to_exactly_the_schema_before_it(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    revisions = [revision for revision, _ in migrations.history()]
    before = [schema_of(url)]  # before[i]: the schema below revisions[i]

    for revision in revisions:
        migrations.upgrade(url, revision)
        before.append(schema_of(url))

    for index in reversed(range(len(revisions))):
        assert migrations.current_revision(url) == revisions[index]
        migrations.downgrade(url, "-1")
        assert schema_of(url) == before[index], f"downgrade of {revisions[index]} left changes"

    assert migrations.current_revision(url) is None


@pytest.mark.filterwarnings("ignore:Computed default on .* cannot be modified")
def test_models_and_migrations_agree(database_url: str) -> None:
    # database_url is a clone of the template, which the harness migrated to head.
    engine = create_engine(normalize_url(database_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()

    assert differences == [], (
        "the models differ from the migrated database; add a revision:\n"
        + "\n".join(map(repr, differences))
    )


def test_the_metadata_uses_the_naming_convention() -> None:
    assert metadata.naming_convention == {**metadata.naming_convention, **NAMING_CONVENTION}


def test_every_constraint_is_named_by_the_convention(database_url: str) -> None:
    rows = query(
        database_url,
        """
        SELECT t.relname, c.conname, c.contype,
               ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(num, pos)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num
                     ORDER BY k.pos)::text[],
               r.relname
        FROM pg_constraint c
        JOIN pg_class t ON t.oid = c.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        LEFT JOIN pg_class r ON r.oid = c.confrelid
        WHERE n.nspname = 'public' AND t.relname <> 'alembic_version'
          AND c.contype <> 'n'  -- NOT NULL: PostgreSQL 18 records these, named by itself
        """,
    )
    assert rows, "no constraints found: is the database migrated?"

    wrong = []
    for table, name, kind, columns, referred in rows:
        expected = {
            "p": f"pk_{table}",
            "f": f"fk_{table}_{columns[0]}_{referred}",
            "u": f"uq_{table}_{'_'.join(columns)}",
        }.get(kind)
        if kind == "c":
            ok = name.startswith(f"ck_{table}_") and len(name) > len(f"ck_{table}_")
        elif expected is not None:
            ok = name == expected[:63]  # PostgreSQL keeps 63 bytes of a name
        else:
            ok = False  # an exclusion or trigger constraint: the convention has no name for it
        if not ok:
            wrong.append(f"{table}: {kind} {name!r} (expected {expected or 'ck_' + table + '_…'})")

    assert wrong == []


def test_every_index_is_named_by_the_convention(database_url: str) -> None:
    rows = query(
        database_url,
        """
        SELECT t.relname, i.relname, x.indisunique
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = 'public' AND t.relname <> 'alembic_version'
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        """,
    )
    assert rows, "no indexes found: is the database migrated?"

    wrong = [
        f"{table}: {name}"
        for table, name, unique in rows
        if not (name.startswith(f"ix_{table}_") or (unique and name.startswith(f"uq_{table}_")))
    ]

    assert wrong == []
