"""The database: one async SQLAlchemy engine (psycopg 3, pooled) and the session dependency.

PostgreSQL only. `Database.connect()` proves the server answers — within the configured
timeout, with a message that names host and database and never the password.
"""

from __future__ import annotations

import asyncio
import logging
import select
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Annotated, Any

import sqlalchemy.ext.asyncio as sa_asyncio
from fastapi import Depends, Request
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from sqlalchemy.orm import DeclarativeBase

from studypath.core.errors import AppError, ErrorCode
from studypath.core.logging import request_id_var
from studypath.core.state import app_state

if TYPE_CHECKING:
    from studypath.config import Settings

log = logging.getLogger("studypath.db")
sql_log = logging.getLogger("studypath.sql")

# One naming convention for every constraint, so Alembic revisions name things the same way
# on every machine and `downgrade` can drop them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every model; its metadata is what Alembic migrates."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# The health pool: one connection kept open, one more for a detailed report's second query
# while a ping holds the first.
HEALTH_POOL_OVERFLOW = 1
# Request connections older than this are replaced at checkout (a server or proxy that drops
# idle connections after a while does not hand a request a dead one).
POOL_RECYCLE_SECONDS = 1800
# A silent network (a cable pulled, a partition between hosts) sends no error, so without
# these a connection to a vanished server waits forever. libpq's TCP keepalives notice an
# idle connection whose peer is gone (after 10 s idle, 3 probes 5 s apart), and
# `tcp_user_timeout` one whose sent bytes stay unacknowledged for 15 s; either way the
# connection fails, and a request on it answers 503. (A Unix socket ignores them; a peer
# that acknowledges bytes but never answers, e.g. a hung proxy, is bounded by the request
# timeout instead: `RequestContextMiddleware`.)
SILENT_NETWORK_PARAMS: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 15_000,
}


class DatabaseUnavailable(ConnectionError):
    """The database could not be reached; the message is safe to show (password masked)."""


def normalize_url(url: str | URL) -> URL:
    """Accept postgres://, postgresql:// or postgresql+psycopg:// and use the psycopg 3 driver."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.drivername in {"postgres", "postgresql", "postgresql+psycopg"}:
        return parsed.set(drivername="postgresql+psycopg")
    raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")


def describe_url(url: str | URL) -> str:
    """'host H port P, database D, user U' — what an operator needs, without the password."""
    parsed = make_url(url) if isinstance(url, str) else url
    host = parsed.host
    if not host:
        query_host = parsed.query.get("host")
        host = query_host if isinstance(query_host, str) else (query_host or ("local socket",))[0]
    parts = [f"host {host!r}"]
    if parsed.port:
        parts.append(f"port {parsed.port}")
    parts.append(f"database {parsed.database!r}")
    if parsed.username:
        parts.append(f"user {parsed.username!r}")
    return ", ".join(parts)


def masked(url: str | URL) -> str:
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def libpq_url(url: str | URL) -> str:
    """The URL without the SQLAlchemy driver suffix, for psql and other libpq clients."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _reason(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip()
    return text_.splitlines()[0] if text_ else type(exc).__name__


def ensure_reachable(url: str | URL, timeout: float = 10.0) -> str:
    """Connect once, synchronously, before anything else touches the database.

    Returns the server version; raises DatabaseUnavailable within about `timeout` seconds
    with a message that names host and database and masks the password.
    """
    import psycopg

    conninfo = libpq_url(normalize_url(url))
    try:
        with psycopg.connect(conninfo, connect_timeout=max(1, int(timeout))) as conn:
            return str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    except psycopg.Error as exc:
        raise DatabaseUnavailable(
            f"Cannot connect to PostgreSQL ({describe_url(url)}; URL {masked(url)}): {_reason(exc)}"
        ) from None


class Database:
    """Owns the engines and the session factories for one database URL.

    Three pools, so one kind of work cannot starve or bound another:
    - `engine`: workers, periodic jobs, tools and notebooks — no statement timeout (a long
      task is bounded by its own timeout);
    - `request_engine`: the API's requests — PostgreSQL cancels their statements after
      `statement_timeout` seconds and closes a connection left idle in a transaction after
      `idle_in_transaction_timeout` (the same pool as `engine` when neither is set);
    - `health_engine`: the health probes (see below).
    """

    def __init__(
        self,
        url: str | URL,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        connect_timeout: float = 10.0,
        application_name: str = "studypath",
        statement_timeout: float = 0.0,
        idle_in_transaction_timeout: float = 0.0,
    ) -> None:
        self.url = normalize_url(url)
        self.connect_timeout = connect_timeout
        self.suspected_at = 0.0  # when a request last failed to reach the database
        self.engine: AsyncEngine = self._create_engine(
            application_name, pool_size=pool_size, max_overflow=max_overflow
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        bounds = server_bounds(statement_timeout, idle_in_transaction_timeout)
        self.request_engine = self.engine
        if bounds:
            self.request_engine = self._create_engine(
                application_name,
                pool_size=pool_size,
                max_overflow=max_overflow,
                options=self._options(bounds),
            )
        self.request_sessionmaker = async_sessionmaker(self.request_engine, expire_on_commit=False)
        # Health checks use connections of their own: a server busy enough to use its whole
        # request pool is busy, not down, and its probes must still answer at once.
        self.health_engine = self._create_engine(
            f"{application_name}-health",
            pool_size=1,
            max_overflow=HEALTH_POOL_OVERFLOW,
            pool_pre_ping=True,
        )
        self.health_sessionmaker = async_sessionmaker(self.health_engine, expire_on_commit=False)
        self._ping_in_flight: asyncio.Task[float] | None = None

    def _create_engine(
        self,
        application_name: str,
        *,
        pool_size: int,
        max_overflow: int,
        pool_pre_ping: bool = False,
        options: str | None = None,
    ) -> AsyncEngine:
        # Looked up at call time, so tracing's instrumentation (which wraps the function)
        # applies to engines made after it was set up.
        connect_args: dict[str, Any] = {
            "connect_timeout": max(1, int(self.connect_timeout)),
            "application_name": application_name,
            **SILENT_NETWORK_PARAMS,
        }
        if options:
            connect_args["options"] = options
        engine = sa_asyncio.create_async_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            # No ping before each checkout of a request connection (a round trip per
            # request): a connection the server closed is noticed without one
            # (`_refuse_closed_connection`), and connections are replaced after
            # `POOL_RECYCLE_SECONDS`. The health pool pings: its checks must be right.
            pool_pre_ping=pool_pre_ping,
            pool_recycle=POOL_RECYCLE_SECONDS,
            pool_timeout=self.connect_timeout,
            connect_args=connect_args,
        )
        if not pool_pre_ping:
            event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
        event.listen(engine.sync_engine, "before_cursor_execute", _log_statement)
        return engine

    def _options(self, bounds: str) -> str:
        """libpq's `options` for a bounded pool: the URL's own ones (if any), then ours."""
        given = self.url.query.get("options")
        given = given if isinstance(given, str) else " ".join(given or ())
        return f"{given} {bounds}".strip()

    @classmethod
    def from_settings(
        cls, settings: Settings, *, url: str | URL | None = None, pool_size: int | None = None
    ) -> Database:
        """The one place settings become a `Database`: the server, the workers and the CLI
        open theirs here. `url` defaults to `settings.database_url`; a tool that needs few
        connections asks for a smaller `pool_size`."""
        url = url if url is not None else settings.database_url
        if not url:
            raise ValueError("no database URL: set STUDYPATH_DATABASE_URL (or pass url=...)")
        return cls(
            url,
            pool_size=pool_size if pool_size is not None else settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            connect_timeout=settings.db_connect_timeout,
            statement_timeout=settings.db_statement_timeout_seconds,
            idle_in_transaction_timeout=settings.db_idle_in_transaction_timeout_seconds,
        )

    @property
    def description(self) -> str:
        return describe_url(self.url)

    async def connect(self) -> str:
        """Open one connection and return the server version, or raise DatabaseUnavailable."""
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.connect_timeout):
                async with self.engine.connect() as conn:
                    version = (await conn.execute(text("SHOW server_version"))).scalar_one()
        except TimeoutError:
            raise DatabaseUnavailable(
                f"PostgreSQL did not answer within {self.connect_timeout:g} s "
                f"({self.description}; URL {masked(self.url)})"
            ) from None
        except Exception as exc:
            raise DatabaseUnavailable(
                f"Cannot connect to PostgreSQL ({self.description}; URL {masked(self.url)}): "
                f"{_reason(exc)}"
            ) from None
        log.info(
            "connected to PostgreSQL %s (%s) in %.0f ms",
            version,
            self.description,
            (time.monotonic() - started) * 1000,
        )
        return str(version)

    async def ping(self) -> float:
        """Round-trip one `SELECT 1` on the health connection; returns milliseconds. Raises
        on failure or after `connect_timeout`.

        Probes that arrive while a ping is running share its answer (one ping at a time),
        so a burst of probes costs the database one query, not one per probe."""
        running = self._ping_in_flight
        if (
            running is None
            or running.done()
            or running.get_loop() is not asyncio.get_running_loop()
        ):
            running = asyncio.ensure_future(self._ping_once())
            self._ping_in_flight = running
        return await asyncio.shield(running)

    async def _ping_once(self) -> float:
        started = time.perf_counter()
        async with asyncio.timeout(self.connect_timeout), self.health_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return (time.perf_counter() - started) * 1000

    def mark_suspect(self) -> None:
        """A request just failed to reach the database: the next health check must look
        again rather than trust a cached answer (see `health.service.CachedDatabaseCheck`)."""
        self.suspected_at = time.monotonic()

    def pool_status(self) -> dict[str, int]:
        """The request pool's numbers (what a busy API uses up)."""
        pool: Any = self.request_engine.pool
        return {
            "size": int(pool.size()),
            "checked_out": int(pool.checkedout()),
            "idle": int(pool.checkedin()),
            "overflow": int(pool.overflow()),
        }

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.request_engine is not self.engine:
            await self.request_engine.dispose()
        await self.health_engine.dispose()


def server_bounds(statement_timeout: float, idle_in_transaction_timeout: float) -> str:
    """The `-c name=value` settings that make PostgreSQL itself bound a connection's work:
    cancel a statement running longer than `statement_timeout` seconds (the client gets
    QueryCanceled), end a session idle inside a transaction for `idle_in_transaction_timeout`
    (its locks are released). 0 leaves that one unbounded; "" when both are."""
    settings = {
        "statement_timeout": statement_timeout,
        "idle_in_transaction_session_timeout": idle_in_transaction_timeout,
    }
    return " ".join(
        f"-c {name}={round(seconds * 1000)}" for name, seconds in settings.items() if seconds > 0
    )


def _refuse_closed_connection(
    dbapi_connection: Any, connection_record: Any, connection_proxy: Any
) -> None:
    """Pool checkout: hand out no connection the server has closed (a restart, an idle
    timeout, `pg_terminate_backend`), without a round trip. An idle connection has nothing to
    read; one the server closed has its goodbye (or EOF) waiting on the socket. Raising
    DisconnectionError makes the pool drop it and check out another."""
    pg = connection_record.driver_connection
    if pg is None or pg.closed or pg.broken:
        raise DisconnectionError("connection closed")
    try:
        readable, _, _ = select.select([pg.fileno()], [], [], 0)
    except (OSError, ValueError):
        raise DisconnectionError("connection unusable") from None
    if readable:
        raise DisconnectionError("the server closed the connection")


def _log_statement(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    """Log each SQL statement at DEBUG with the request it belongs to (for request tracing)."""
    log_statement(statement)


def log_statement(statement: str) -> None:
    """The SQL log line of one statement (a SQLAlchemy hook writes it for the engine's; code
    that sends SQL through psycopg itself calls it), only inside a request and at DEBUG."""
    if sql_log.isEnabledFor(logging.DEBUG) and request_id_var.get() is not None:
        first_line = " ".join(statement.split())
        sql_log.debug(
            "SQL %s", first_line[:500], extra={"layer": "database", "statement": first_line[:2000]}
        )


_AFTER_COMMIT = "studypath.after_commit"


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` once the caller's transaction commits; forget it if it rolls back.

    For what must not happen for work that was never stored: an audit line, a counter."""
    sync_session = session.sync_session
    pending: list[Callable[[], None]] | None = sync_session.info.get(_AFTER_COMMIT)
    if pending is None:
        pending = sync_session.info[_AFTER_COMMIT] = []
        event.listen(sync_session, "after_commit", _run_after_commit)
        event.listen(sync_session, "after_soft_rollback", _forget_after_commit)
    pending.append(callback)


def _run_after_commit(sync_session: Any) -> None:
    pending = sync_session.info.get(_AFTER_COMMIT, [])
    sync_session.info[_AFTER_COMMIT] = []
    for callback in pending:
        try:
            callback()
        except Exception:  # the commit happened: a failing side effect must not undo the answer
            log.exception("after-commit callback %r failed", callback)


def _forget_after_commit(sync_session: Any, previous_transaction: Any) -> None:
    if not previous_transaction.nested:  # a savepoint's rollback leaves the rest standing
        sync_session.info[_AFTER_COMMIT] = []


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: the request's unit of work — one session, one transaction.

    Services only flush; this is where a request's changes are committed: once, after the
    handler returned and its response was serialized, before the response is sent
    (`DbSession` is function-scoped, see below). A handler that raises rolls everything
    back. A commit that fails answers 503 (or 500), never a 200 for data that is not there.
    See docs/architecture.md, "Transactions: the caller owns them"."""
    async with app_state(request).db.request_sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await commit_request(session)


async def commit_request(session: AsyncSession) -> None:
    """Commit the request's work; a failure rolls back and becomes an error answer."""
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise  # a constraint only the commit saw: a bug (services flush), so a masked 500
    except DBAPIError as exc:
        await session.rollback()
        log.warning("commit failed, nothing was saved: %s", _reason(exc))
        raise AppError(
            ErrorCode.SERVICE_UNAVAILABLE,
            "The database could not save this change; nothing was saved. Try again.",
            headers={"Retry-After": "1"},
        ) from None


# scope="function": FastAPI runs the dependency's exit (the commit) when the endpoint has
# returned and its response model has been serialized, but before the response is sent —
# so a commit failure still decides the status. (The default, "request", would commit after
# the client already had its 200.)
DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]


__all__ = [
    "HEALTH_POOL_OVERFLOW",
    "NAMING_CONVENTION",
    "POOL_RECYCLE_SECONDS",
    "SILENT_NETWORK_PARAMS",
    "Base",
    "Database",
    "DatabaseUnavailable",
    "DbSession",
    "after_commit",
    "commit_request",
    "describe_url",
    "ensure_reachable",
    "get_session",
    "libpq_url",
    "log_statement",
    "masked",
    "normalize_url",
    "server_bounds",
]
