"""Two small tools the task package's SQL is written with.

- `literal` / `literals`: a status (or breaker state) as SQL text, from its enum, so no
  statement spells `'running'` by hand: a renamed value cannot leave a statement behind.
- `driver_sql`: a SQLAlchemy `text()` statement compiled to the `%(name)s` placeholders
  psycopg takes, for the worker's hot path, which talks to psycopg directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.elements import TextClause


def literal(value: StrEnum) -> str:
    """`TaskStatus.RUNNING` → `'running'` (enum values are plain words: nothing to escape)."""
    return f"'{value.value}'"


def literals(values: Iterable[StrEnum]) -> str:
    """A set of values as an SQL list, sorted so the text is stable: `('pending', 'retrying')`."""
    return "(" + ", ".join(sorted(literal(value) for value in values)) + ")"


def driver_sql(statement: TextClause) -> str:
    """A statement as psycopg takes it (`%(name)s` placeholders), for the worker's hot path."""
    return str(statement.compile(dialect=PGDialect_psycopg()))  # type: ignore[no-untyped-call]


Executor = AsyncConnection | AsyncSession
"""What the package's named statements run on: a Core connection (the worker, the CLI) or an
ORM session (the API); both `execute` a `text()` statement the same way."""
