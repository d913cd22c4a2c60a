"""The `studypath` command: run the system from a terminal, migrate, check, export.

studypath up                 # embedded PostgreSQL + API server + 1 worker, foreground
studypath server             # API only          studypath worker   # worker only
studypath migrate up|down|current
studypath admin list-tasks | task-stats | clear-completed | requeue-dead-letter
studypath health-check       # exit 0 healthy / 1 not (a container HEALTHCHECK)
studypath labs list | release | check | grade
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import httpx
import typer
from pydantic import SecretStr

from studypath import __version__
from studypath.config import Settings, SettingsError, load_settings
from studypath.core.db import DatabaseUnavailable, ensure_reachable, libpq_url, masked
from studypath.core.embedded import EmbeddedPostgres, postgres_processes, provide_database
from studypath.core.logging import configure_console_logging
from studypath.core.security import random_password
from studypath.tasks.states import TaskStatus

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from studypath.core.db import Database
    from studypath.labs.catalog import LabSpec
    from studypath.system import System

app = typer.Typer(
    name="studypath",
    help="studypath: a production-style web system you can run, trace and break.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(
    help="The database studypath uses (embedded by default).", no_args_is_help=True
)
app.add_typer(db_app, name="db")
admin_app = typer.Typer(
    help="Accounts (create admins, reset passwords, change roles) and the task queue.",
    no_args_is_help=True,
)
app.add_typer(admin_app, name="admin")
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
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        raise fail(str(exc)) from None


@contextmanager
def explained_errors() -> Iterator[None]:
    """Startup failures an operator can fix get one clear line, not a traceback."""
    try:
        yield
    except (SettingsError, DatabaseUnavailable, OSError, RuntimeError, TimeoutError) as exc:
        raise fail(str(exc)) from None


def run_system(
    settings: Settings,
    *,
    serve_api: bool,
    workers: int,
    on_ready: Callable[[str, System], None],
) -> None:
    """Database → migrations → server/workers in the foreground; Ctrl-C stops all of it."""
    configure_console_logging(settings.log_level, json_lines=settings.log_json)
    # Until the system's own handlers are installed, SIGTERM (a container stop) should unwind
    # like Ctrl-C does, so the embedded database we started is stopped, not orphaned.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        _run_system(settings, serve_api=serve_api, workers=workers, on_ready=on_ready)
    except KeyboardInterrupt:
        echo("interrupted during startup; stopped.", err=True)
        raise typer.Exit(130) from None


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _run_system(
    settings: Settings,
    *,
    serve_api: bool,
    workers: int,
    on_ready: Callable[[str, System], None],
) -> None:
    from studypath.system import System, bind_socket, prepare_database

    with explained_errors():
        provider = prepare_database(settings, progress=echo)
        try:
            sock = bind_socket(settings.host, settings.port) if serve_api else None
            system = System(
                settings.model_copy(update={"database_url": provider.url}),
                serve_api=serve_api,
                workers=workers,
                sock=sock,
            )
            host = f"[{settings.host}]" if ":" in settings.host else settings.host
            url = f"http://{host}:{system.port}"
            asyncio.run(system.run(on_ready=lambda: on_ready(url, system)))
        finally:
            provider.stop()
    echo("stopped.")


def with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Open the database (embedded by default, migrated), run `work`, close everything."""
    from studypath.core.db import Database
    from studypath.core.security import configure_hashing
    from studypath.system import prepare_database

    configure_console_logging("WARNING")
    configure_hashing(
        settings.password_hash_time_cost,
        settings.password_hash_memory_kib,
        settings.password_hash_parallelism,
    )

    async def run(url: str) -> T:
        database = Database(url, pool_size=2, connect_timeout=settings.db_connect_timeout)
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


@app.command()
def up(
    workers: Annotated[int, typer.Option(min=0, max=64, help="In-process workers (0: none).")] = 1,
    port: PortOpt = None,
    host: HostOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Run everything: embedded database, API server and workers. Ctrl-C stops it all."""
    settings = settings_from(port=port, host=host, data_dir=data_dir)
    generated = None
    if settings.initial_admin_password is None:
        # A fresh data directory gets an admin right away; the password is shown once.
        generated = random_password()
        settings = settings.model_copy(update={"initial_admin_password": SecretStr(generated)})

    def ready(url: str, system: System) -> None:
        echo("")
        echo(f"studypath is up at {url}  ({workers} worker(s))")
        echo(f"  web app      {url}/")
        echo(f"  API docs     {url}/api-docs")
        echo(f"  health       {url}/api/v1/health/detailed")
        if system.initial_admin_created:
            shown = generated or "(the STUDYPATH_INITIAL_ADMIN_PASSWORD you set)"
            echo("")
            echo("Created the first admin. Log in with:")
            echo("  username  admin      (email admin@example.com)")
            echo(f"  password  {shown}")
            echo(f"  curl -s {url}/api/v1/auth/login -H 'Content-Type: application/json' \\")
            echo('       -d \'{"username": "admin", "password": "<password>"}\'')
            echo("Shown once; change it with `studypath admin reset-password admin`.")
        else:
            echo(
                "Log in with your account (forgot the admin password? "
                "`studypath admin reset-password admin`)."
            )
        echo("Press Ctrl-C to stop.")

    run_system(settings, serve_api=True, workers=workers, on_ready=ready)


@app.command()
def server(port: PortOpt = None, host: HostOpt = None, data_dir: DataDirOpt = None) -> None:
    """Run the API server only (run workers separately with `studypath worker`)."""
    settings = settings_from(port=port, host=host, data_dir=data_dir)
    run_system(
        settings,
        serve_api=True,
        workers=0,
        on_ready=lambda url, _system: echo(f"API server listening on {url}"),
    )


@app.command()
def worker(
    data_dir: DataDirOpt = None,
    concurrency: Annotated[int | None, typer.Option(help="Tasks run at once.")] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve this process's Prometheus metrics on this port.")
    ] = None,
) -> None:
    """Run one worker process. Start as many as you like against the same database."""
    settings = settings_from(
        data_dir=data_dir, worker_concurrency=concurrency, worker_metrics_port=metrics_port
    )

    def ready(_url: str, system: System) -> None:
        echo("worker running; Ctrl-C to stop")
        if system.metrics_url:
            echo(f"metrics at {system.metrics_url}")

    run_system(settings, serve_api=False, workers=1, on_ready=ready)


class MigrateAction(StrEnum):
    up = "up"
    down = "down"
    current = "current"


@app.command()
def migrate(
    action: Annotated[MigrateAction, typer.Argument(help="up, down or current")] = (
        MigrateAction.up
    ),
    revision: Annotated[str | None, typer.Option(help="Target (up: head, down: -1).")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Apply (`up`), revert (`down`) or show (`current`) database migrations."""
    from studypath import migrations

    settings = settings_from(data_dir=data_dir)
    configure_console_logging("WARNING")
    with explained_errors():
        provider = provide_database(settings)
        try:
            ensure_reachable(provider.url, settings.db_connect_timeout)
            if action is MigrateAction.up:
                migrations.upgrade(provider.url, revision or "head")
            elif action is MigrateAction.down:
                migrations.downgrade(provider.url, revision or "-1")
            current = migrations.current_revision(provider.url)
            echo(f"current revision: {current or '(none)'}  (head: {migrations.head_revision()})")
        finally:
            provider.stop()


@app.command("health-check")
def health_check(
    url: Annotated[str | None, typer.Option(help="Base URL (default from settings).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait.")] = 5.0,
) -> None:
    """Exit 0 if the server is ready (database reachable), 1 otherwise."""
    if url is None:
        settings = settings_from()
        host = "127.0.0.1" if settings.host in {"0.0.0.0", "::"} else settings.host
        url = f"http://{host}:{settings.port}"
    target = url.rstrip("/") + "/api/v1/health/ready"
    try:
        response = httpx.get(target, timeout=timeout)
    except httpx.HTTPError as exc:
        echo(f"unhealthy: {target} did not answer ({exc.__class__.__name__}: {exc})", err=True)
        raise typer.Exit(1) from None
    if response.status_code != 200:
        echo(
            f"unhealthy: {target} answered {response.status_code}: {response.text[:300]}", err=True
        )
        raise typer.Exit(1)
    echo(f"healthy: {target}")


@app.command("export-openapi")
def export_openapi(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default stdout).")
    ] = None,
) -> None:
    """Write the OpenAPI document of the API (no database needed)."""
    from studypath.app import create_app

    document = json.dumps(create_app(settings_from()).openapi(), indent=2)
    if output is None:
        sys.stdout.write(document + "\n")
    else:
        output.write_text(document + "\n")
        echo(f"wrote {output}")


@db_app.command("url")
def db_url(
    data_dir: DataDirOpt = None,
    show_password: Annotated[bool, typer.Option(help="Print the password too.")] = False,
) -> None:
    """Print the database URL (for psql, GUI tools, `STUDYPATH_DATABASE_URL`)."""
    settings = settings_from(data_dir=data_dir)
    if settings.database_url:
        echo(libpq_url(settings.database_url) if show_password else masked(settings.database_url))
        return
    url = EmbeddedPostgres.running_url(settings.pgdata_dir)
    if url is None:
        raise fail(
            f"the embedded database in {settings.pgdata_dir} is not running; "
            "start it with `studypath up` (or `studypath db start`)"
        )
    echo(url)


@db_app.command("start")
def db_start(data_dir: DataDirOpt = None) -> None:
    """Start the embedded database and leave it running (stop it with `studypath db stop`)."""
    from studypath import migrations

    settings = settings_from(data_dir=data_dir)
    with explained_errors():
        embedded = EmbeddedPostgres(settings.pgdata_dir, durable=settings.embedded_durable)
        url = embedded.start()
        migrations.upgrade(url)
        embedded.detach()
    echo(url)


@db_app.command("stop")
def db_stop(data_dir: DataDirOpt = None) -> None:
    """Stop the embedded database, also one left running by a killed process."""
    settings = settings_from(data_dir=data_dir)
    if EmbeddedPostgres.force_stop(settings.pgdata_dir):
        echo(f"stopped the embedded database in {settings.pgdata_dir}")
    else:
        echo(f"no embedded database running in {settings.pgdata_dir}")


@db_app.command("status")
def db_status(data_dir: DataDirOpt = None) -> None:
    """Say whether the embedded database runs, and where."""
    settings = settings_from(data_dir=data_dir)
    procs = postgres_processes(settings.pgdata_dir.resolve())
    url = EmbeddedPostgres.running_url(settings.pgdata_dir)
    if url is None:
        echo(f"not running ({settings.pgdata_dir})")
        raise typer.Exit(1)
    echo(f"running: {url}  ({len(procs)} postgres process(es))")


@app.command()
def notebooks(
    directory: Annotated[Path | None, typer.Argument(help="Notebook folder.")] = None,
    port: Annotated[int, typer.Option(help="JupyterLab port.")] = 8888,
) -> None:
    """Open JupyterLab on the week-by-week notebooks."""
    folder = directory or find_notebooks()
    if folder is None:
        raise fail(
            "no notebooks/ folder found; run this from a studypath checkout or pass the folder"
        )
    command = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={folder}", f"--port={port}"]
    echo(f"opening JupyterLab on {folder} …")
    raise typer.Exit(subprocess.call(command))


def find_notebooks() -> Path | None:
    candidates = [Path.cwd() / "notebooks", Path(__file__).resolve().parent.parent / "notebooks"]
    return next((path for path in candidates if path.is_dir()), None)


PasswordOpt = Annotated[
    str | None,
    typer.Option("--password", help="Omit to be prompted (input hidden)."),
]


def ask_password(given: str | None) -> str:
    if given is not None:
        return given
    entered: str = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    return entered


def run_admin(work: Callable[[AsyncSession], Awaitable[str]], data_dir: Path | None) -> None:
    """Run one account operation; an AppError (policy, duplicate, last admin) exits 1."""
    from studypath.core.errors import AppError

    async def in_session(database: Database) -> str:
        async with database.sessionmaker() as session:
            return await work(session)

    try:
        echo(with_database(settings_from(data_dir=data_dir), in_session))
    except AppError as exc:
        raise fail(exc.message) from None


@admin_app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="Username.")] = "admin",
    email: Annotated[str, typer.Option(help="Email.")] = "admin@example.com",
    password: PasswordOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Create an admin account."""
    from studypath.rbac.roles import Role
    from studypath.users import service

    secret = ask_password(password)

    async def work(session: AsyncSession) -> str:
        user = await service.create_user(
            session,
            username=username,
            email=email,
            password=secret,
            role=Role.ADMIN,
            email_verified=True,
        )
        return f"created admin {user.username} ({user.email})"

    run_admin(work, data_dir)


@admin_app.command("reset-password")
def reset_password(
    username: Annotated[str, typer.Argument(help="Whose password.")],
    password: PasswordOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Set a new password for a user (their sessions end)."""
    from studypath.auth import sessions
    from studypath.core.security import hash_password_async
    from studypath.users import service

    secret = ask_password(password)

    async def work(session: AsyncSession) -> str:
        user = await service.find_by_login(session, username, by_email="@" in username)
        if user is None:
            raise fail(f"no user {username!r}")
        service.check_password_policy(secret)
        user.password_hash = await hash_password_async(secret)
        user.is_active = True
        ended = await sessions.end_user_sessions(session, user.id)
        await session.commit()
        return f"password of {user.username} reset; ended {ended} session(s)"

    run_admin(work, data_dir)


@admin_app.command("set-role")
def set_role(
    username: Annotated[str, typer.Argument(help="Whose role.")],
    role: Annotated[str, typer.Argument(help="user, moderator or admin.")],
    data_dir: DataDirOpt = None,
) -> None:
    """Change a user's role (the last active admin cannot be demoted)."""
    from studypath.rbac.roles import Role
    from studypath.users import service

    try:
        new_role = Role(role.lower())
    except ValueError:
        raise fail(f"unknown role {role!r}: use user, moderator or admin") from None

    async def work(session: AsyncSession) -> str:
        user = await service.find_by_login(session, username, by_email="@" in username)
        if user is None:
            raise fail(f"no user {username!r}")
        updated = await service.set_role(session, user.id, new_role)
        return f"{updated.username} is now {updated.role.value}"

    run_admin(work, data_dir)


@admin_app.command("list-users")
def list_users(
    role: Annotated[str | None, typer.Option(help="Only this role.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    data_dir: DataDirOpt = None,
) -> None:
    """List accounts (deleted ones excluded)."""
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import select

    from studypath.rbac.roles import Role
    from studypath.users.models import User

    async def work(session: AsyncSession) -> str:
        query = select(User).where(User.deleted_at.is_(None)).order_by(User.created_at)
        if role is not None:
            query = query.where(User.role == Role(role.lower()))
        users = list(await session.scalars(query.limit(limit)))
        table = Table("username", "email", "role", "active", "last login")
        for user in users:
            last = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "-"
            table.add_row(
                user.username, user.email, user.role.value, "yes" if user.is_active else "no", last
            )
        console = Console(width=120)
        with console.capture() as captured:
            console.print(table)
        return captured.get().rstrip() + f"\n{len(users)} user(s)"

    run_admin(work, data_dir)


# --- tasks ----------------------------------------------------------------------------------
def _rendered(*tables: Any) -> str:
    """Rich tables as plain text (run_admin prints what the work returns)."""
    from rich.console import Console

    console = Console(width=160)
    with console.capture() as captured:
        for table in tables:
            console.print(table)
    return captured.get().rstrip()


@admin_app.command("list-tasks")
def list_tasks(
    status: Annotated[TaskStatus | None, typer.Option(help="Only this status.")] = None,
    task_type: Annotated[str | None, typer.Option("--type", help="Only this task type.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="At most this many.")] = 50,
    data_dir: DataDirOpt = None,
) -> None:
    """List tasks, newest first."""
    from rich.table import Table

    from studypath.tasks import admin

    async def work(session: AsyncSession) -> str:
        tasks = await admin.recent_tasks(session, status=status, task_type=task_type, limit=limit)
        table = Table("id", "type", "status", "priority", "attempts", "created", "last error")
        for task in tasks:
            table.add_row(
                str(task.id),
                task.task_type,
                task.status.value,
                task.priority.value,
                f"{task.current_attempt}/{task.max_attempts}",
                task.created_at.strftime("%Y-%m-%d %H:%M"),
                (task.last_error or "")[:60],
            )
        return _rendered(table) + f"\n{len(tasks)} task(s)"

    run_admin(work, data_dir)


@admin_app.command("task-stats")
def task_stats(
    tag: Annotated[
        str | None,
        typer.Option(help="Only tasks whose metadata has this key:value, e.g. team:search."),
    ] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Count tasks by status and by type."""
    from rich.table import Table

    from studypath.tasks import admin

    try:
        chosen = admin.parse_tag(tag) if tag is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--tag'") from None

    async def work(session: AsyncSession) -> str:
        counts = await admin.count_tasks(session, tag=chosen)
        by_status = Table("status", "tasks", title="by status")
        for status, count in counts.by_status.items():
            by_status.add_row(status.value, str(count))
        by_status.add_row("total", str(counts.total), style="bold")
        by_type = Table("type", "total", *(s.value for s in TaskStatus), title="by type")
        for task_type, per_status in counts.by_type.items():
            by_type.add_row(
                task_type, str(sum(per_status.values())), *(str(n) for n in per_status.values())
            )
        scope = f" with metadata {chosen[0]} = {chosen[1]!r}" if chosen else ""
        return _rendered(by_status, by_type) + f"\n{counts.total} task(s){scope}"

    run_admin(work, data_dir)


@admin_app.command("clear-completed")
def clear_completed(
    older_than_days: Annotated[
        float, typer.Option(min=0, help="Delete completed tasks that finished longer ago.")
    ] = 7,
    data_dir: DataDirOpt = None,
) -> None:
    """Delete completed tasks older than N days (default 7)."""
    from datetime import timedelta

    from studypath.tasks import admin

    async def work(session: AsyncSession) -> str:
        deleted = await admin.clear_completed(session, older_than=timedelta(days=older_than_days))
        return f"deleted {deleted} completed task(s) older than {older_than_days:g} day(s)"

    run_admin(work, data_dir)


@admin_app.command("requeue-dead-letter")
def requeue_dead_letter(
    task_type: Annotated[str | None, typer.Option("--type", help="Only this task type.")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Send every failed (dead-lettered) task back to the queue, attempts reset."""
    from studypath.tasks import service

    async def work(session: AsyncSession) -> str:
        requeued = await service.requeue_dead_letters(session, task_type)
        of_type = f" of type {task_type}" if task_type else ""
        return f"requeued {requeued} dead-lettered task(s){of_type}"

    run_admin(work, data_dir)


# --- labs -----------------------------------------------------------------------------------
labs_app = typer.Typer(
    help="Exercises with checkers: list them, release learner copies, check, grade.",
    no_args_is_help=True,
)
app.add_typer(labs_app, name="labs")
LabArg = Annotated[str, typer.Argument(help="The lab's folder name, or its start: lab-05.")]


def find_lab(name: str, copy: Path | None = None) -> LabSpec:
    """A lab of the `labs/` folder; else, for a learner's copy, the copy's own lab.toml."""
    from studypath.labs.catalog import LAB_FILE, get_lab, load_lab

    try:
        return get_lab(name)
    except LookupError as exc:
        if copy is not None and (copy / LAB_FILE).is_file():
            return load_lab(copy)
        raise fail(str(exc)) from None
    except ValueError as exc:
        raise fail(str(exc)) from None


def progress(message: str) -> None:
    echo(message, err=True)


@labs_app.command("list")
def labs_list() -> None:
    """The labs, with the guide's week each belongs to."""
    from rich.table import Table

    from studypath.labs.catalog import list_labs

    labs = list_labs()
    if not labs:
        raise fail("no labs/ folder found; run this from a studypath checkout")
    table = Table("lab", "week", "title", "summary")
    for lab in labs:
        table.add_row(lab.name, str(lab.week), lab.title, lab.summary)
    echo(_rendered(table))


@labs_app.command("release")
def labs_release(
    lab: LabArg,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the copy (default ./<lab>).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Write into a folder that is not empty.")] = False,
) -> None:
    """Write the learner's copy: solutions replaced by stubs, hidden checks removed."""
    from studypath.labs.catalog import release
    from studypath.labs.markers import MarkerError

    spec = find_lab(lab)
    target = (out or Path.cwd() / spec.name).resolve()
    if target == spec.path:
        raise fail("the copy cannot replace the lab itself; pick another --out")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise fail(f"{target} is not empty; pass --force to write into it anyway")
    try:
        files = release(spec, target)
    except MarkerError as exc:
        raise fail(str(exc)) from None
    for file in files:
        echo(f"wrote {file}")
    echo(f"next: studypath labs check {spec.name} --path {target}")


@labs_app.command("check")
def labs_check(
    lab: LabArg,
    path: Annotated[
        Path, typer.Option("--path", help="The learner's copy (default: this folder).")
    ] = Path("."),
) -> None:
    """Run the public checks on a learner's copy: each check, PASS or FAIL, and a hint.
    Checks you added to the copy's own check file run too. Exit 1 unless all pass."""
    from studypath.labs.report import text_report
    from studypath.labs.runner import run_lab

    copy = path.resolve()
    spec = find_lab(lab, copy)
    missing = [name for name in spec.files if not (copy / name).is_file()]
    if missing:
        raise fail(
            f"{copy} has no {', '.join(missing)}; "
            f"make your copy with: studypath labs release {spec.name}"
        )
    own_checks = copy / spec.checks
    checks_from = own_checks if own_checks.is_file() and copy != spec.path else None
    with explained_errors():
        run = run_lab(spec, copy, checks_from=checks_from, progress=progress)
    echo(text_report(run))
    raise typer.Exit(0 if run.all_passed else 1)


@labs_app.command("grade")
def labs_grade(
    lab: LabArg,
    submissions: Annotated[
        Path,
        typer.Argument(
            exists=True,
            file_okay=False,
            help="One folder per learner (or <learner>/<lab>/, as nbgrader's submitted/).",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the grades (default ./grades/<lab>)."),
    ] = None,
) -> None:
    """Instructors: public and hidden checks for every submission, then gradebook.csv and a
    markdown report per learner."""
    from rich.table import Table

    from studypath.labs.report import write_grades
    from studypath.labs.runner import run_submissions

    spec = find_lab(lab)
    target = (out or Path.cwd() / "grades" / spec.name).resolve()
    folders = sorted(
        folder
        for folder in submissions.iterdir()
        if folder.is_dir() and not folder.name.startswith(".") and folder.resolve() != target
    )
    if not folders:
        raise fail(f"no submissions in {submissions} (one folder per learner)")
    copies = {
        folder.name: folder / spec.name if (folder / spec.name).is_dir() else folder
        for folder in folders
    }
    with explained_errors():
        runs = run_submissions(spec, copies, progress=progress)
    written = write_grades(runs, target)
    table = Table("learner", "passed", "score", "setup")
    for learner, run in sorted(runs.items()):
        setup = "failed" if run.setup_error else "ok"
        table.add_row(learner, f"{run.passed}/{run.total}", f"{run.score:.0f} %", setup)
    echo(_rendered(table))
    echo(f"wrote {written[0]} and {len(written) - 1} learner report(s) in {target}")


@app.command()
def version() -> None:
    """Print the studypath version."""
    echo(__version__)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
