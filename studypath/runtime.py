"""The Workbench: the whole system running in a background thread of your Python process.

    wb = studypath.start(ephemeral=True)   # database, migrations, API server, worker
    wb.client().get("/api/v1/health").json()
    wb.logs()                              # what the system logged (it never prints)
    wb.install(notes_lab)                  # plug an extension (a lab) into the live system
    wb.registry.get("notification")        # the task types this system runs
    wb.stop()

`start()` is idempotent within a process: run the cell again and you get the live handle
(asked for other settings, it names them, or restarts with `restart=True`). An ephemeral
Workbench's database follows its kernel: a watchdog process stops it if the kernel dies.
Startup errors (port in use, database unreachable) are raised in your cell within seconds.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text
from starlette.routing import BaseRoute

from studypath.auth.cookies import cookieless_jar
from studypath.config import ENV_PREFIX, Settings, load_settings, settings_env
from studypath.core.embedded import DatabaseProvider, make_ephemeral_dir, spawn_watchdog
from studypath.core.logging import LogEntry, RingBufferHandler, configure_ring_logging, detach
from studypath.core.routing import API_PREFIX
from studypath.core.security import random_password
from studypath.system import System, bind_socket, prepare_database
from studypath.tasks import registration
from studypath.tasks.handlers import builtin_registry
from studypath.tasks.registry import H, Handler, TaskRegistry

if TYPE_CHECKING:
    from studypath.chaos import ChaosReport
    from studypath.viz.traces import TraceView

log = logging.getLogger("studypath.runtime")
T = TypeVar("T")

STARTUP_TIMEOUT = 60.0
EXTENSION_PREFIX = f"{API_PREFIX}/lab"  # where `Workbench.install` mounts an extension's router
_current: Workbench | None = None
_current_lock = threading.Lock()


@dataclass
class StartupReport:
    """How long each startup step took — shown in the Workbench's repr."""

    steps: list[tuple[str, float]] = field(default_factory=list)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.steps.append((name, time.perf_counter() - started))


@dataclass
class Installation:
    """What `Workbench.install` plugged into the running system; `uninstall()` takes it out."""

    name: str
    app: FastAPI = field(repr=False)
    registry: TaskRegistry = field(repr=False)  # the Workbench's, where its handlers went
    routes: list[BaseRoute] = field(default_factory=list)
    handlers: dict[str, Handler] = field(default_factory=dict)

    @property
    def task_types(self) -> list[str]:
        return sorted(self.handlers)

    def uninstall(self) -> None:
        """Unmount its routes and unregister its task handlers. Its tables stay."""
        self.app.router.routes[:] = [
            route for route in self.app.router.routes if all(route is not r for r in self.routes)
        ]
        self.app.openapi_schema = None
        for name, handler in self.handlers.items():
            spec = self.registry.get(name)
            if spec is not None and spec.handler is handler:  # not replaced since
                self.registry.unregister(name)
        self.routes, self.handlers = [], {}


class Workbench:
    """Handle on a running system. Create it with `studypath.start()`."""

    def __init__(self, settings: Settings, *, workers: int = 1, ephemeral_dir: Path | None = None):
        self.settings = settings
        self.worker_count = workers
        self.ephemeral_dir = ephemeral_dir
        self.report = StartupReport()
        # This system's task types: the built-in ones, plus what `task_handler` and `install`
        # add. Its API and its workers read this registry, and nothing outside the Workbench.
        self.registry = builtin_registry()
        self._provider: DatabaseProvider | None = None
        self._system: System | None = None
        self._thread: threading.Thread | None = None
        self._logs: RingBufferHandler | None = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._stopped = False
        self.url = ""
        self.api_url = ""
        self.database_url = ""
        # Set when this Workbench created the first admin with a generated password.
        self.admin_password: str | None = None
        self._extension_types: set[str] = set()  # task types added by `install`
        # An ephemeral database must not outlive its kernel: this process stops it if we die.
        self._watchdog = spawn_watchdog(ephemeral_dir) if ephemeral_dir is not None else None

    # ------------------------------------------------------------------ lifecycle
    def _start(self) -> None:
        self._logs = configure_ring_logging(self.settings.log_level)
        logging.getLogger("studypath.sql").setLevel(logging.DEBUG)
        try:
            with self.report.step("database + migrations"):
                self._provider = prepare_database(
                    self.settings, ephemeral=self.ephemeral_dir is not None
                )
                self.database_url = self._provider.url
            with self.report.step("server + worker"):
                sock = bind_socket(self.settings.host, self.settings.port)
                update: dict[str, Any] = {"database_url": self.database_url}
                generated = None
                if self.settings.initial_admin_password is None:
                    generated = random_password()
                    update["initial_admin_password"] = SecretStr(generated)
                settings = self.settings.model_copy(update=update)
                self._system = System(
                    settings, workers=self.worker_count, sock=sock, registry=self.registry
                )
                self._thread = threading.Thread(
                    target=self._thread_main, name="studypath-workbench", daemon=True
                )
                self._thread.start()
                if not self._ready.wait(STARTUP_TIMEOUT):
                    raise TimeoutError(f"the system did not start within {STARTUP_TIMEOUT:g} s")
                if self._error is not None:
                    raise self._error
        except BaseException:
            self._teardown(timeout=5.0)
            raise
        if self._system.initial_admin_created:
            self.admin_password = generated
        host = self.settings.host
        shown_host = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown_host}:{self._system.port}"
        self.api_url = f"{self.url}/api/v1"
        log.info("workbench ready at %s", self.url)

    def _thread_main(self) -> None:
        assert self._system is not None
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._system.run(on_ready=self._ready.set))
        except BaseException as exc:
            self._error = exc
            log.exception("the system stopped with an error")
        finally:
            self._ready.set()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop server, workers and (if we started it) the database. Bounded by `timeout`."""
        global _current
        if self._stopped:
            return
        self._teardown(timeout)
        with _current_lock:
            if _current is self:
                _current = None

    def _teardown(self, timeout: float) -> None:
        self._stopped = True
        deadline = time.monotonic() + timeout
        if self._system is not None:
            self._system.request_stop()
        if self._thread is not None:
            self._thread.join(max(0.1, deadline - time.monotonic() - 1.0))
        if self._provider is not None:
            self._provider.stop()
            self._provider = None
        if self.ephemeral_dir is not None:
            shutil.rmtree(self.ephemeral_dir, ignore_errors=True)
        if self._watchdog is not None:  # nothing left to watch
            self._watchdog.terminate()
            self._watchdog.wait(5)
            self._watchdog = None
        if self._logs is not None:
            detach(self._logs)

    @property
    def running(self) -> bool:
        return (
            not self._stopped
            and self._thread is not None
            and self._thread.is_alive()
            and self._error is None
        )

    def __enter__(self) -> Workbench:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ using it
    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client on the Workbench's base URL: `wb.client().get("/api/v1/health")`.

        It keeps no cookies (pass `cookies=` to change that): like the guide's scripts, it
        sends the credentials you give it, not the session cookie a login also sets."""
        kwargs.setdefault("timeout", 10.0)
        kwargs.setdefault("cookies", cookieless_jar())
        return httpx.Client(base_url=self.url, **kwargs)

    def login(self, username: str, password: str) -> httpx.Client:
        """A client signed in as `username` (it sends `Authorization: Bearer <token>`)."""
        with self.client() as anonymous:
            response = anonymous.post(
                "/api/v1/auth/login", json={"username": username, "password": password}
            )
        if response.status_code != 200:
            raise PermissionError(f"login as {username!r} failed: {response.text}")
        token = response.json()["data"]["session_token"]
        return self.client(headers={"Authorization": f"Bearer {token}"})

    def admin(self) -> httpx.Client:
        """A client signed in as the first admin (when this Workbench created it)."""
        if self.admin_password is None:
            raise RuntimeError(
                "this Workbench did not create the admin; use wb.login('admin', password)"
            )
        return self.login("admin", self.admin_password)

    def user(
        self, username: str, *, role: str = "user", password: str | None = None
    ) -> httpx.Client:
        """Create an account with `role` (through the API, as an admin would) and sign in."""
        password = password or random_password()
        with self.admin() as admin:
            response = admin.post(
                "/api/v1/users",
                json={
                    "username": username,
                    "email": f"{username}@example.com",
                    "password": password,
                    "role": role,
                },
            )
        if response.status_code != 200:
            raise ValueError(f"creating {username!r} failed: {response.text}")
        return self.login(username, password)

    def task_handler(self, name: str, description: str = "", **options: Any) -> Callable[[H], H]:
        """Register a task handler in the running system: a decorator, taking what
        `TaskRegistry.register` takes (`payload=`, `timeout=`, `breaker=`, `min_role=` …).

        The type goes into this system's registry (`wb.registry`) and the database at once,
        and the in-process workers start taking its tasks; running the defining cell again
        replaces the handler."""

        def decorate(handler: H) -> H:
            self.registry.register(name, description, replace=True, **options)(handler)
            self._put_to_work(name)
            return handler

        return decorate

    def _put_to_work(self, name: str) -> None:
        """A type just registered in `self.registry`: store it in the database, and have the
        running workers list it (before this returns) and look for its tasks."""
        spec = self.registry.get(name)
        assert spec is not None

        async def upsert() -> None:
            async with self.db.engine.begin() as conn:
                await registration.register_types(conn, [spec])
            await self.registry.announce()  # running workers list the type before we return

        self.run(upsert())
        if self._system is not None:
            for worker in self._system.workers:
                self._system.loop.call_soon_threadsafe(worker.wake)  # type: ignore[union-attr]

    def install(self, extension: Any, *, prefix: str = EXTENSION_PREFIX) -> Installation:
        """Plug an extension — a module such as a lab's — into the running system.

        Whichever of these it defines is used, in this order:
        `SCHEMA_SQL` (a string) and/or `async def migrate(conn)` create its tables, in one
        transaction (keep them in a schema of its own); `register(registry)` registers its
        task handlers (`registry.register(name, ...)(handler)`), which the in-process workers
        take at once; `router` (an APIRouter) is mounted on the live app under `prefix` —
        FastAPI looks routes up per request, so it answers at once. If a step fails, what
        was plugged in is taken out again (tables stay) and the error is raised. Task types
        the system already has (other than an earlier extension's) are refused."""
        staged = TaskRegistry()
        if hasattr(extension, "register"):
            extension.register(staged)
        taken = [
            n for n in staged.names() if self.registry.get(n) and n not in self._extension_types
        ]
        if taken:  # an extension adds task types; it does not replace the system's
            raise ValueError(f"task type(s) {', '.join(taken)} already registered by the system")
        schema_sql: str | None = getattr(extension, "SCHEMA_SQL", None)
        migrate = getattr(extension, "migrate", None)
        if schema_sql is not None or migrate is not None:

            async def create_tables() -> None:
                async with self.db.engine.begin() as conn:
                    if schema_sql is not None:
                        await conn.exec_driver_sql(schema_sql)
                    if migrate is not None:
                        await migrate(conn)

            self.run(create_tables())
        installation = Installation(
            getattr(extension, "__name__", repr(extension)), self.app, self.registry
        )
        try:
            for spec in staged.specs():
                self.registry.add(spec, replace=True)  # as the extension declared it
                self._put_to_work(spec.name)
                self._extension_types.add(spec.name)
                installation.handlers[spec.name] = spec.handler
            router = getattr(extension, "router", None)
            if router is not None:
                before = list(self.app.router.routes)
                self.app.include_router(router, prefix=prefix)
                installation.routes = [
                    route for route in self.app.router.routes if all(route is not b for b in before)
                ]
                self.app.openapi_schema = None  # the API docs list the new routes
        except BaseException:
            installation.uninstall()
            raise
        return installation

    def spawn_worker(self, **overrides: Any) -> subprocess.Popen[bytes]:
        """Start a `studypath worker` process on this Workbench's database (to scale out, or
        to kill on purpose). Its settings are this Workbench's, plus `overrides`."""
        settings = self.settings.model_copy(update={"database_url": self.database_url, **overrides})
        env = {key: value for key, value in os.environ.items() if not key.startswith(ENV_PREFIX)}
        env.update(settings_env(settings))
        return subprocess.Popen(
            [sys.executable, "-m", "studypath", "worker"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def chaos(
        self,
        level: int | None = None,
        scenario: str | None = None,
        duration: float | None = None,
        *,
        dashboard: bool = True,
        seed: int = 0,
    ) -> ChaosReport:
        """Run a chaos level (1–6) or scenario and return its report (`studypath.chaos`).

        It runs on a system of its own — separate server and worker processes on their own
        embedded PostgreSQL, in a temporary directory — because its faults kill processes
        and stop the database, which this Workbench (one process, your kernel) must survive.
        `dashboard`: a live panel (queue, API errors, breakers, faults in force) while it
        runs. Interrupting the kernel stops the run and restores everything."""
        from studypath import chaos

        panel = None
        if dashboard:
            from studypath.chaos.dashboard import Dashboard

            panel = Dashboard(f"chaos: {scenario or f'level {level}'}")
            panel.show()
        return chaos.run(
            level=level,
            scenario=scenario,
            duration=duration,
            root=Path(self.settings.data_dir) if self.ephemeral_dir is not None else None,
            on_update=panel.update if panel is not None else None,
            seed=seed,
        )

    @contextmanager
    def trace(self, settle: float = 2.0) -> Iterator[TraceView]:
        """Collect the spans of everything that runs inside the block (requests, the SQL they
        run, tasks they start): `t.sequence_diagram()`, `t.table()` afterwards."""
        from studypath.telemetry.tracing import SPANS
        from studypath.viz.traces import TraceView

        view = TraceView()
        with SPANS.collect(settle=settle) as collection:
            yield view
        view.spans = list(collection.spans)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the system's own loop (where its database pool lives)."""
        if not self.running or self._system is None or self._system.loop is None:
            coro.close()
            raise RuntimeError("the Workbench is not running")
        future = asyncio.run_coroutine_threadsafe(coro, self._system.loop)
        return future.result(timeout)

    @property
    def app(self) -> FastAPI:
        """The live FastAPI application (routes, OpenAPI, dependencies) — to inspect."""
        assert self._system is not None and self._system.server is not None
        app = self._system.server.config.app
        assert isinstance(app, FastAPI)
        return app

    @property
    def db(self) -> Any:
        """The system's `Database` (engine + sessions); use it inside `wb.run(...)`."""
        assert self._system is not None
        return self._system.db

    def sql(self, query: str, **params: Any) -> list[dict[str, Any]]:
        """Run one SQL statement and return the rows as dicts (handy for looking around)."""

        async def _query() -> list[dict[str, Any]]:
            async with self.db.engine.begin() as conn:
                result = await conn.execute(text(query), params)
                if not result.returns_rows:
                    return []
                return [dict(row._mapping) for row in result]

        return self.run(_query())

    def log_entries(
        self,
        *,
        request_id: str | None = None,
        contains: str | None = None,
        level: str | None = None,
        last: int | None = None,
    ) -> list[LogEntry]:
        entries = self._logs.snapshot() if self._logs is not None else []
        if request_id is not None:
            entries = [e for e in entries if e.request_id == request_id]
        if contains is not None:
            entries = [e for e in entries if contains in e.text]
        if level is not None:
            wanted = logging.getLevelName(level.upper())
            entries = [e for e in entries if logging.getLevelName(e.level) >= wanted]
        return entries[-last:] if last else entries

    def logs(self, last: int = 50, **filters: Any) -> list[str]:
        """Recent log lines (the system logs here instead of printing into your cells)."""
        return [entry.text for entry in self.log_entries(last=last, **filters)]

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        steps = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in self.report.steps)
        return f"<Workbench {state} at {self.url or '?'} ({steps})>"


class SettingsMismatch(RuntimeError):
    """`start()` was asked for a system unlike the one already running in this process."""


def start(
    *,
    data_dir: str | Path | None = None,
    ephemeral: bool = False,
    port: int | None = None,
    host: str | None = None,
    workers: int = 1,
    database_url: str | None = None,
    restart: bool = False,
    **settings: Any,
) -> Workbench:
    """Start the whole system in a background thread (or return the one already running)
    and return its Workbench.

    - `ephemeral=True`: a temporary data directory and a fast, non-durable database, deleted
      by `wb.stop()` — what the notebooks use; the port defaults to any free one.
    - `data_dir`: where the embedded database and task files live (default: the
      `STUDYPATH_DATA_DIR` environment variable, else your user data directory).
    - `port`, `host`: where the API listens (default 3000 on 127.0.0.1).
    - `workers`: how many task workers run in the process (0: the API only).
    - `database_url`: an external PostgreSQL instead of the embedded one.
    - `restart=True`: if a Workbench with other settings runs, stop it and start anew
      (without it, asking for other settings raises `SettingsMismatch`, naming them).
    - `**settings`: any other setting by name (`log_level="DEBUG"`,
      `password_hash_time_cost=1`, …); see `studypath.config.Settings`. Each overrides its
      `STUDYPATH_*` environment variable.

    Called again while a Workbench runs with the same settings, it returns that Workbench.
    `studypath.start` is this function (`import studypath` loads it on first use)."""
    global _current
    with _current_lock:
        running = _current if _current is not None and _current.running else None
        if running is not None:
            if ephemeral != (running.ephemeral_dir is not None):
                differ = ["ephemeral"]
            else:
                asked = _settings_for(
                    ephemeral,
                    running.settings.data_dir if ephemeral else data_dir,
                    port,
                    host,
                    database_url,
                    settings,
                )
                differ = differing_settings(running, asked, workers)
            if not differ:
                return running
            if not restart:
                raise SettingsMismatch(_mismatch_message(differ))
            running._teardown(timeout=5.0)
            _current = None
        ephemeral_dir = None
        if ephemeral:
            ephemeral_dir = make_ephemeral_dir()
            data_dir = ephemeral_dir
        loaded = _settings_for(ephemeral, data_dir, port, host, database_url, settings)
        workbench = Workbench(loaded, workers=workers, ephemeral_dir=ephemeral_dir)
        try:
            workbench._start()
        except BaseException:
            if not workbench._stopped:  # `_start` tears down what it started; this is a backstop
                workbench._teardown(timeout=5.0)
            raise
        _current = workbench
        return workbench


WEBHOOK_PRIVATE_SETTING = "webhook_allow_private_networks"


def _allow_local_webhooks(overrides: dict[str, Any]) -> None:
    """The workbench's exercises send webhooks to servers on this machine, which production
    refuses (`STUDYPATH_WEBHOOK_ALLOW_PRIVATE_NETWORKS` is false by default): opt in here,
    unless the caller or the environment said otherwise."""
    if f"{ENV_PREFIX}{WEBHOOK_PRIVATE_SETTING.upper()}" not in os.environ:
        overrides.setdefault(WEBHOOK_PRIVATE_SETTING, True)


def _settings_for(
    ephemeral: bool,
    data_dir: str | Path | None,
    port: int | None,
    host: str | None,
    database_url: str | None,
    settings: dict[str, Any],
) -> Settings:
    """The settings `start(...)` asks for; an ephemeral system is non-durable, on any port."""
    settings = dict(settings)
    if ephemeral:
        settings.setdefault("embedded_durable", False)
        port = 0 if port is None else port
    _allow_local_webhooks(settings)
    return load_settings(
        data_dir=data_dir, port=port, host=host, database_url=database_url, **settings
    )


def differing_settings(running: Workbench, asked: Settings, workers: int) -> list[str]:
    """The names of the settings in which `asked` (and `workers`) differ from `running`'s."""
    have, want = running.settings.model_dump(), asked.model_dump()
    names = [name for name in want if have.get(name) != want[name]]
    if workers != running.worker_count:
        names.append("workers")
    return names


def _mismatch_message(names: list[str]) -> str:
    return (
        f"a Workbench is already running in this process with other settings "
        f"({', '.join(names)} differ). Stop it first (wb.stop()), or start again with "
        "restart=True to stop it and start one with the new settings."
    )


def current() -> Workbench | None:
    """The running Workbench of this process, if any."""
    return _current if _current is not None and _current.running else None


@atexit.register
def _stop_at_exit() -> None:
    if _current is not None:
        _current.stop()
