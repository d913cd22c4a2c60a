"""A long-lived autocommit psycopg connection for one of the worker's hot paths.

The claim and the completion writer each keep one (no pool, no BEGIN: each statement is its
own transaction). A connection that failed is dropped and opened again on next use.
"""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from studypath.core.db import libpq_url


class DriverConnection:
    """One state: the open connection, or None until it is needed (again)."""

    def __init__(
        self, url: str | URL, *, purpose: str, connect_timeout: float, setup: str | None = None
    ) -> None:
        self.url = url
        self.purpose = purpose
        self.connect_timeout = max(1, int(connect_timeout))
        self.setup = setup  # a statement run once per new connection (e.g. pin a plan)
        self._connection: psycopg.AsyncConnection[Any] | None = None

    async def get(self) -> psycopg.AsyncConnection[Any]:
        connection = self._connection
        if connection is None or connection.closed or connection.broken:
            connection = await psycopg.AsyncConnection.connect(
                libpq_url(self.url),
                autocommit=True,
                connect_timeout=self.connect_timeout,
                application_name=f"studypath worker {self.purpose}",
            )
            if self.setup is not None:
                await connection.execute(self.setup)
            self._connection = connection
        return connection

    async def drop(self) -> None:
        """Close it (after an error, or at shutdown); the next `get` opens a new one."""
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()
