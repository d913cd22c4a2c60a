"""The running system: the API server and the workers, together on one asyncio loop.

`System.run()` is shared by the terminal (`studypath up/server/worker`, in the main thread)
and the notebook Workbench (in a daemon thread). It connects to the database *before*
serving, so a bad database fails with the real error instead of a vague startup failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.util
import logging
import signal
import socket
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI
from prometheus_client import start_http_server

from studypath import migrations
from studypath.app import create_app
from studypath.config import Settings
from studypath.core.db import Database, ensure_reachable
from studypath.core.embedded import DatabaseProvider, provide_database
from studypath.core.errors import AppError
from studypath.core.security import HashingParameters, configure_hashing
from studypath.tasks import registration
from studypath.tasks.handlers import builtin_registry
from studypath.tasks.registry import BUILTINS, TaskRegistry
from studypath.tasks.worker import Worker
from studypath.telemetry.metrics import worker_registry
from studypath.telemetry.tracing import sample_ratio, setup_tracing
from studypath.users import service as users_service

log = logging.getLogger("studypath.system")

SERVER_START_TIMEOUT = 15.0
T = TypeVar("T")
# gc thresholds for a server process (Python's defaults: 700, 10, 10). Measured with
# bench/http.py: with `gc.freeze()`, CPU per `/auth/me` 1.08 → 0.91 ms, and these → 0.84 ms.
GC_THRESHOLDS = (20_000, 20, 20)


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (uvicorn[standard] brings it; it makes the
    server's own work per request cheaper), else None: asyncio's default loop."""
    if importlib.util.find_spec("uvloop") is None:
        return None
    import uvloop

    return uvloop.new_event_loop


def run_event_loop(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on the fastest event loop installed (see `event_loop_factory`)."""
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        return runner.run(main)


def freeze_startup_objects() -> None:
    """Move everything startup made (modules, routes, models, settings) out of the garbage
    collector's sight: they live as long as the process, and every full collection would
    otherwise walk them again. And collect the youngest generation less often (`GC_THRESHOLDS`):
    a request's garbage is mostly freed by reference counting, and each collection pauses every
    request in flight. Only in a process of our own (the CLI), not in a notebook's kernel,
    whose objects are the user's."""
    if threading.current_thread() is threading.main_thread():
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind the listening socket up front: a port clash raises here, with a clear message,
    and port 0 picks a free port whose number we know before the server starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not the default 0: asyncio disables Nagle's algorithm (TCP_NODELAY) only on
    # connections whose socket says TCP. Without it, a response written in two parts (headers,
    # then body) waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(
            exc.errno,
            f"cannot listen on {host}:{port}: {exc.strerror}. "
            "Another studypath (or another program) may be using it; "
            "pick another port (--port / STUDYPATH_PORT, or port=0 for any free port).",
        ) from None
    sock.set_inheritable(True)
    return sock


def prepare_database(
    settings: Settings,
    *,
    ephemeral: bool = False,
    progress: Callable[[str], None] | None = None,
    started: DatabaseProvider | None = None,
) -> DatabaseProvider:
    """Make the database ready: find or start it, prove it answers, migrate it.

    `started`: a database the caller already found or started (the CLI starts PostgreSQL
    while this module is still importing). On any failure the database is stopped again
    before the error propagates.
    """
    say = progress or (lambda _message: None)
    provider = started
    if provider is None:
        if not settings.database_url and settings.db == "embedded":
            say(f"starting embedded PostgreSQL in {settings.pgdata_dir} …")
        provider = provide_database(settings, ephemeral=ephemeral)
    try:
        ensure_reachable(provider.url, settings.db_connect_timeout)
        say("applying migrations …")
        migrations.upgrade(provider.url)
    except BaseException:
        provider.stop()
        raise
    return provider


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling: `System` owns Ctrl-C, so one
    press stops the server *and* the workers, in order."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        return contextlib.nullcontext()


class System:
    """One process's share of the system: optionally the API server, and N workers."""

    def __init__(
        self,
        settings: Settings,
        *,
        serve_api: bool = True,
        workers: int = 1,
        sock: socket.socket | None = None,
        app_hooks: Sequence[Callable[[FastAPI], None]] = (),
        registry: TaskRegistry | None = None,
    ) -> None:
        """`app_hooks` run on the new app before it serves: extensions (labs) mount routers
        there, and tests add probe routes. `registry`: the task types this system's API and
        workers know — its own; the built-in types when none is given."""
        if not settings.database_url:
            raise ValueError("System needs settings.database_url; resolve the database first")
        self.settings = settings
        self.serve_api = serve_api
        self.worker_count = workers
        self.sock = sock
        self.app_hooks = list(app_hooks)
        self.registry = registry if registry is not None else builtin_registry()
        self.db: Database | None = None
        self.server: uvicorn.Server | None = None
        self.workers: list[Worker] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.initial_admin_created = False
        self.metrics_url: str | None = None  # a worker process's own /metrics, if it serves one
        self._metrics_server: Any = None
        self._stop: asyncio.Event | None = None

    def request_stop(self) -> None:
        """Ask everything to stop; safe to call from any thread, more than once."""
        loop, stop = self.loop, self._stop
        if loop is None or stop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(stop.set)

    def _on_signal(self) -> None:
        assert self._stop is not None
        if self._stop.is_set() and self.server is not None:
            self.server.force_exit = True  # a second Ctrl-C: stop waiting for connections
        self._stop.set()

    async def run(self, on_ready: Callable[[], None] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.loop.add_signal_handler(sig, self._on_signal)

        settings = self.settings
        assert settings.database_url is not None
        if settings.tracing_enabled:  # before the engine exists, so its SQL is traced
            setup_tracing(
                settings.otlp_endpoint,
                sample_ratio(settings.trace_sample_ratio, settings.otlp_endpoint),
            )
        self.db = Database.from_settings(settings)
        tasks: list[asyncio.Task[None]] = []
        try:
            await self.db.connect()
            await self._ensure_initial_admin()
            if self.serve_api:  # the API accepts the built-in types even before a worker ran
                async with self.db.engine.begin() as conn:
                    await registration.register_types(conn, BUILTINS.specs())
                tasks.append(await self._start_server())
            elif self.worker_count and settings.worker_metrics_port:
                self._serve_worker_metrics(settings.worker_metrics_port)
            for _ in range(self.worker_count):
                worker = Worker(self.db, settings, registry=self.registry)
                self.workers.append(worker)
                tasks.append(asyncio.create_task(worker.run(), name=f"worker {worker.id}"))
            await self._workers_registered(tasks)
            freeze_startup_objects()
            if on_ready is not None:
                on_ready()
            stop_waiter = asyncio.create_task(self._stop.wait())
            await asyncio.wait([stop_waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
            stop_waiter.cancel()
            for task in tasks:  # a piece that died on its own is an error worth raising
                if task.done() and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            await self._shutdown(tasks)

    def _serve_worker_metrics(self, port: int) -> None:
        """A worker process has no API to scrape: serve its metrics on their own port
        (prometheus_client's server, in a thread that never prints)."""
        self._metrics_server, _thread = start_http_server(
            port, addr=self.settings.host, registry=worker_registry()
        )
        self.metrics_url = f"http://{self.settings.host}:{port}/metrics"
        log.info("worker metrics at %s", self.metrics_url)

    async def _workers_registered(self, tasks: list[asyncio.Task[None]]) -> None:
        """Ready means ready: every worker's task types are registered (or it failed)."""
        for worker in self.workers:
            registered = asyncio.create_task(worker.registered.wait())
            await asyncio.wait([registered, *tasks], return_when=asyncio.FIRST_COMPLETED)
            registered.cancel()
            for task in tasks:
                if task.done() and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]

    async def _ensure_initial_admin(self) -> None:
        """Create the first admin from STUDYPATH_INITIAL_ADMIN_PASSWORD if there is none."""
        password = self.settings.initial_admin_password
        if password is None:
            return
        assert self.db is not None
        configure_hashing(HashingParameters.from_settings(self.settings))
        try:
            async with self.db.sessionmaker.begin() as session:  # startup's own transaction
                created = await users_service.ensure_initial_admin(
                    session, password.get_secret_value()
                )
        except AppError as exc:
            log.warning("initial admin not created: %s", exc.message)
            return
        if created is not None:
            self.initial_admin_created = True
            log.info("created the initial admin account %r", created.username)

    async def _start_server(self) -> asyncio.Task[None]:
        assert self.db is not None
        app = create_app(self.settings, database=self.db, registry=self.registry)
        for hook in self.app_hooks:
            hook(app)
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
            ws="none",
            server_header=False,  # no `server: uvicorn`: do not advertise the stack
        )
        self.server = _Server(config)
        if self.sock is None:
            self.sock = bind_socket(self.settings.host, self.settings.port)
        task = asyncio.create_task(self.server.serve(sockets=[self.sock]), name="api server")
        async with asyncio.timeout(SERVER_START_TIMEOUT):
            while not self.server.started:
                if task.done():
                    task.result()  # raises the server's own error, if it has one
                    raise RuntimeError("the API server stopped during startup; see wb.logs()")
                await asyncio.sleep(0.01)
        return task

    async def _shutdown(self, tasks: list[asyncio.Task[None]]) -> None:
        if self.server is not None:
            self.server.should_exit = True
        for worker in self.workers:
            worker.request_stop()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=3.0)
            for task in pending:
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.gather(*pending, return_exceptions=True)
        if self.db is not None:
            await self.db.dispose()
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server.server_close()
        if self.sock is not None:
            self.sock.close()
        log.info("system stopped")

    @property
    def port(self) -> int:
        if self.sock is None:
            return self.settings.port
        return int(self.sock.getsockname()[1])
