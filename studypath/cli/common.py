"""What every `studypath` command shares: the app, messages, settings, running the system.

The command modules import only typer and cheap types at the top: `studypath --help` must
not wait for SQLAlchemy, FastAPI or the settings' pydantic models. Each command imports the
system's parts it needs when it runs (`bench/startup.py` measures it; a test checks it)."""

from __future__ import annotations

import importlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from studypath.config import Settings
    from studypath.core.db import Database
    from studypath.core.embedded import DatabaseProvider
    from studypath.system import System

# Plain click help: typer's rich panels print a type after every flag (`--help <bool>`).
PLAIN_HELP = None

app = typer.Typer(
    name="studypath",
    help="studypath: a production-style web system you can run, trace and break.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=PLAIN_HELP,
)


def command_group(name: str, help: str) -> typer.Typer:
    """A `studypath <name> …` group of subcommands, with the same help style as `app`."""
    group = typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=PLAIN_HELP)
    app.add_typer(group, name=name)
    return group


T = TypeVar("T")

PortOpt = Annotated[int | None, typer.Option("--port", "-p", help="HTTP port (default 3000).")]
HostOpt = Annotated[str | None, typer.Option("--host", help="Interface to listen on.")]
DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (embedded database, outbox, reports)."),
]


def echo(message: str = "", err: bool = False) -> None:
    typer.echo(message, err=err)


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def settings_from(**overrides: Any) -> Settings:
    from studypath.config import SettingsError, load_settings

    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        raise fail(str(exc)) from None


@contextmanager
def explained_errors() -> Iterator[None]:
    """Startup failures an operator can fix get one clear line, not a traceback. (The
    database's `DatabaseUnavailable` is a `ConnectionError`, so an `OSError` here: catching
    it needs no import of the database layer.)"""
    from studypath.config import SettingsError

    try:
        yield
    except (SettingsError, OSError, RuntimeError, TimeoutError) as exc:
        raise fail(str(exc)) from None


def run_system(
    settings: Settings,
    *,
    serve_api: bool,
    workers: int,
    on_ready: Callable[[str, System], None],
) -> None:
    """Database → migrations → server/workers in the foreground; Ctrl-C stops all of it."""
    from studypath.core.logging import configure_console_logging

    configure_console_logging(settings.log_level, json_lines=settings.log_json)
    quiet_startup = QuietStartup(settings.log_level)

    def ready(url: str, system: System) -> None:
        quiet_startup.end()  # from here on, the system logs at the configured level
        on_ready(url, system)

    # Until the system's own handlers are installed, SIGTERM (a container stop) should unwind
    # like Ctrl-C does, so the embedded database we started is stopped, not orphaned.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        _run_system(settings, serve_api=serve_api, workers=workers, on_ready=ready)
    except KeyboardInterrupt:
        echo("interrupted during startup; stopped.", err=True)
        raise typer.Exit(130) from None


# Startup chatter a terminal does not need at INFO: uvicorn's "Waiting for application
# startup", the database's "ready at" and "connected to" lines. Alembic's plugin, "Context
# impl", "Will assume" and "Running upgrade" lines stay quiet for good (migrations only run
# at startup). STUDYPATH_LOG_LEVEL=DEBUG shows all of them.
STARTUP_CHATTER = ("uvicorn.error", "studypath.db")
MIGRATION_LOGGER = "alembic"


class QuietStartup:
    """Hold the chatty loggers at WARNING until the system is up (unless the level is DEBUG):
    startup prints one progress line per step, then the banner."""

    def __init__(self, level: str) -> None:
        self.level = level
        if level != "DEBUG":
            for name in (*STARTUP_CHATTER, MIGRATION_LOGGER):
                logging.getLogger(name).setLevel(logging.WARNING)

    def end(self) -> None:
        for name in STARTUP_CHATTER:
            logging.getLogger(name).setLevel(self.level)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _run_system(
    settings: Settings,
    *,
    serve_api: bool,
    workers: int,
    on_ready: Callable[[str, System], None],
) -> None:
    with explained_errors():
        started = _start_database_while_importing(settings)
        from studypath.system import System, bind_socket, prepare_database, run_event_loop

        provider = prepare_database(settings, progress=echo, started=started)
        try:
            sock = bind_socket(settings.host, settings.port) if serve_api else None
            system = System(
                settings.model_copy(update={"database_url": provider.url}),
                serve_api=serve_api,
                workers=workers,
                sock=sock,
            )
            echo(_starting_message(serve_api, workers))
            host = f"[{settings.host}]" if ":" in settings.host else settings.host
            url = f"http://{host}:{system.port}"
            run_event_loop(system.run(on_ready=lambda: on_ready(url, system)))
        finally:
            provider.stop()
    echo("stopped.")


def _start_database_while_importing(settings: Settings) -> DatabaseProvider:
    """Start (or find) the database in a thread while this one imports the system.

    PostgreSQL starts in processes of its own and the thread mostly waits for them, while
    importing the server, the ORM and the task handlers is this process's CPU: done side by
    side, `studypath up` is ready sooner by the shorter of the two (bench/startup.py).
    Interrupted or failed, the database the thread started is stopped before re-raising."""
    from concurrent.futures import ThreadPoolExecutor

    from studypath.core.embedded import provide_database

    if not settings.database_url and settings.db == "embedded":
        echo(f"starting embedded PostgreSQL in {settings.pgdata_dir} …")
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database-start")
    starting = pool.submit(provide_database, settings)
    try:
        importlib.import_module("studypath.system")
        return starting.result()
    except BaseException:
        pool.shutdown(wait=True)  # a start under way finishes; then it is undone
        if starting.exception() is None:
            starting.result().stop()
        raise
    finally:
        pool.shutdown(wait=False)


def _starting_message(serve_api: bool, workers: int) -> str:
    parts = (["the API server"] if serve_api else []) + (
        [f"{workers} worker(s)"] if workers else []
    )
    return f"starting {' and '.join(parts) or 'nothing'} …"


def with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Open the database (embedded by default, migrated), run `work`, close everything."""
    import asyncio

    from studypath.core.db import Database
    from studypath.core.logging import configure_console_logging
    from studypath.core.security import HashingParameters, configure_hashing
    from studypath.system import prepare_database

    configure_console_logging("WARNING")
    configure_hashing(HashingParameters.from_settings(settings))

    async def run(url: str) -> T:
        database = Database.from_settings(settings, url=url, pool_size=2)
        try:
            return await work(database)
        finally:
            await database.dispose()

    with explained_errors():
        provider = prepare_database(settings)
        try:
            return asyncio.run(run(provider.url))
        finally:
            provider.stop()


def rendered(*tables: Any) -> str:
    """Rich tables as plain text (run_operation prints what the work returns)."""
    from rich.console import Console

    console = Console(width=160)
    with console.capture() as captured:
        for table in tables:
            console.print(table)
    return captured.get().rstrip()
