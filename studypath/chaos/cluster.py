"""A chaos cluster: the system as separate processes on this machine, wired so every part
can be hurt on purpose.

    embedded PostgreSQL (own data directory, Unix socket)
        ▲  the database proxy (FaultProxy: latency, resets, black-hole)
        │
    API server process ── worker processes (1..n)      ── webhook proxy ──▶ flaky target

Each process is `python -m studypath.chaos.node server|worker`; the cluster can SIGKILL,
SIGSTOP/SIGCONT, restart and add or remove them, and stop and start the database. The
experiment's own observations (the ledger, queue depth, breakers) read the database
directly, not through the proxy, so a network fault does not blind the observer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psycopg
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from studypath import migrations
from studypath.chaos.proxy import FaultProxy, Upstream
from studypath.chaos.target import FlakyTarget
from studypath.config import ENV_PREFIX, Settings, settings_env
from studypath.core.db import libpq_url, normalize_url
from studypath.core.embedded import EmbeddedPostgres
from studypath.core.security import random_password

log = logging.getLogger("studypath.chaos")

READY_TIMEOUT = 60.0
MAX_CONNECTIONS = 60  # the cluster's PostgreSQL: small, so exhausting it is quick


@dataclass(frozen=True)
class ClusterConfig:
    """How the cluster's processes are tuned: short leases and heartbeats, so a dead
    worker's tasks come back within seconds (the defaults are for production: 30 s)."""

    workers: int = 2
    worker_concurrency: int = 4
    heartbeat_seconds: float = 0.5
    lease_seconds: float = 2.0
    poll_seconds: float = 0.2
    db_pool_size: int = 5
    db_connect_timeout: float = 2.0
    shutdown_grace_seconds: float = 1.0
    # An API request through a black-holed database proxy answers 503 after this long,
    # before the load's own 5 s client timeout gives up on it.
    request_timeout_seconds: float = 3.0


@dataclass
class Node:
    """One process of the cluster."""

    role: str  # "server" or "worker"
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    paused: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Until the process printed `ready`; raise with its log's tail if it died first."""
        stdout = self.process.stdout
        assert stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            readable, _, _ = select.select([stdout], [], [], 0.1)
            if readable:
                line = stdout.readline()
                if line.strip() == b"ready":
                    return
                if not line and not self.alive:
                    break
            elif not self.alive:
                break
        tail = self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""
        raise RuntimeError(f"chaos {self.name} did not become ready; its log ends:\n{tail}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """The processes, the database and the proxies of one chaos experiment."""

    root: Path
    config: ClusterConfig = field(default_factory=ClusterConfig)
    database: EmbeddedPostgres | None = None
    db_proxy: FaultProxy | None = None
    target: FlakyTarget | None = None
    hook_proxy: FaultProxy | None = None
    server: Node | None = None
    workers: list[Node] = field(default_factory=list)
    direct_url: str = ""  # the database, not through the proxy (the observer's)
    database_url: str = ""  # through the proxy (the system's)
    api_port: int = 0
    external_api: str | None = None  # `attach`: the API of a system we did not start
    admin_password: str = field(default_factory=random_password)
    spawned: list[Node] = field(default_factory=list)  # every process started, for `stop`
    _counter: int = 0

    # ------------------------------------------------------------------ start and stop
    def start(self) -> Cluster:
        """Database, proxies, target, API server, workers — each waited for. On failure,
        what was started is stopped again."""
        with self._stopped_on_failure():
            self.root.mkdir(parents=True, exist_ok=True)
            self._start_database()
            self._start_webhook_target()
            self.api_port = free_port()
            self.server = self.spawn("server")
            self._start_workers()
        return self

    def attach(self, api_url: str, database_url: str, admin_password: str) -> Cluster:
        """Use a system that runs already (its API at `api_url`, its database at
        `database_url`): the cluster adds workers of its own (they run the chaos tasks), routes
        their database traffic through its proxy, and injects only the faults it can — it
        cannot stop a database or a server it did not start."""
        parsed = make_url(database_url)
        with self._stopped_on_failure():
            self.root.mkdir(parents=True, exist_ok=True)
            self.direct_url = libpq_url(normalize_url(database_url))
            self.db_proxy = FaultProxy(
                Upstream(host=parsed.host or "127.0.0.1", port=parsed.port or 5432),
                name="database",
            ).start()
            self.database_url = libpq_url(parsed.set(host="127.0.0.1", port=self.db_proxy.port))
            self.external_api = api_url.rstrip("/")
            self.admin_password = admin_password
            self._start_webhook_target()
            self._start_workers()
        return self

    @contextlib.contextmanager
    def _stopped_on_failure(self) -> Iterator[None]:
        """Starting is all or nothing: if a step fails, what was started is stopped again."""
        try:
            yield
        except BaseException:
            self.stop()
            raise

    def _start_webhook_target(self) -> None:
        """The flaky server webhook tasks call, behind a proxy that can hurt the calls."""
        self.target = FlakyTarget().start()
        self.hook_proxy = FaultProxy(Upstream(port=self.target.port), name="webhook").start()

    def _start_workers(self) -> None:
        """`config.workers` worker processes, started together, then each waited for."""
        for _ in range(self.config.workers):
            self.workers.append(self.spawn("worker", wait=False))
        for worker in self.workers:
            worker.wait_ready()

    def _start_database(self) -> None:
        self.database = EmbeddedPostgres(self.root / "postgres", durable=False)
        url = self.database.start()
        with psycopg.connect(url, autocommit=True) as conn:
            current = conn.execute("SHOW max_connections").fetchone()
            if current is None or int(current[0]) != MAX_CONNECTIONS:
                conn.execute(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS}")
                restart = True
            else:
                restart = False
        if restart:
            self.database.stop_server()
            self.database.start_server()
        self.direct_url = url
        migrations.upgrade(url)
        host = make_url(url).query.get("host")
        socket_dir = host if isinstance(host, str) else (host or ("",))[0]
        self.db_proxy = FaultProxy(
            Upstream(path=f"{socket_dir}/.s.PGSQL.5432"), name="database"
        ).start()
        self.database_url = f"postgresql://postgres@127.0.0.1:{self.db_proxy.port}/postgres"

    def stop(self) -> None:
        """Everything down, in reverse; never raises (it runs in `finally` blocks)."""
        # Every process ever started, not only the current ones: a replacement started by a
        # fault's undo that a cancelled run never put in `workers` is stopped too.
        for node in [*self.spawned, *self.workers, *([self.server] if self.server else [])]:
            if node.alive:
                self._end(node)
        self.workers, self.server, self.spawned = [], None, []
        for part in (self.hook_proxy, self.db_proxy, self.target):
            if part is not None:
                with contextlib.suppress(Exception):
                    part.stop()
        if self.database is not None:
            with contextlib.suppress(Exception):
                self.database.start_server()  # a stopped server must be running to be stopped
            self.database.stop()
            self.database = None

    # ------------------------------------------------------------------ the parts faults hurt
    # `attach` uses a system it did not start: no server or database of its own to hurt.
    def own_server(self) -> Node:
        """The API server this cluster started (read again on each call: a restart replaces
        it)."""
        if self.server is None:
            raise RuntimeError("this cluster runs no API server of its own")
        return self.server

    def own_database(self) -> EmbeddedPostgres:
        """The PostgreSQL server this cluster started."""
        if self.database is None:
            raise RuntimeError("this cluster does not own its database")
        return self.database

    def proxy(self, on: str) -> FaultProxy | None:
        """The proxy in front of the database (`on="database"`) or of the webhook target."""
        return self.db_proxy if on == "database" else self.hook_proxy

    # ------------------------------------------------------------------ processes
    def settings(self) -> Settings:
        return Settings(
            database_url=self.database_url,
            data_dir=self.root / "data",
            host="127.0.0.1",
            port=self.api_port,
            db_pool_size=self.config.db_pool_size,
            db_connect_timeout=self.config.db_connect_timeout,
            request_timeout_seconds=self.config.request_timeout_seconds,
            worker_concurrency=self.config.worker_concurrency,
            worker_heartbeat_seconds=self.config.heartbeat_seconds,
            worker_poll_seconds=self.config.poll_seconds,
            task_lease_seconds=self.config.lease_seconds,
            worker_shutdown_grace_seconds=self.config.shutdown_grace_seconds,
            webhook_allow_private_networks=True,
            initial_admin_password=SecretStr(self.admin_password),
            alert_evaluation_seconds=1.0,
            log_level="WARNING",
        )

    def spawn(self, role: str, *, wait: bool = True) -> Node:
        """Start a server or worker process (and wait until it is ready)."""
        self._counter += 1
        name = f"{role}-{self._counter}"
        env = {key: value for key, value in os.environ.items() if not key.startswith(ENV_PREFIX)}
        env.update(settings_env(self.settings()))
        log_path = self.root / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "studypath.chaos.node", role],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log_file,
                start_new_session=True,  # Ctrl-C in the terminal reaches the run, not them
            )
        node = Node(role, name, process, log_path)
        self.spawned = [other for other in self.spawned if other.alive]
        self.spawned.append(node)
        if wait:
            try:
                node.wait_ready()
            except BaseException:
                self._end(node)
                raise
        return node

    def kill(self, node: Node) -> None:
        """SIGKILL: the process gets no chance to hand anything back."""
        self.resume(node)
        with contextlib.suppress(ProcessLookupError):
            node.process.send_signal(signal.SIGKILL)
        node.process.wait(10)
        _close(node.process.stdout)

    def pause(self, node: Node) -> None:
        """SIGSTOP: a hung process — alive, holding its connections and leases, silent."""
        with contextlib.suppress(ProcessLookupError):
            node.process.send_signal(signal.SIGSTOP)
            node.paused = True

    def resume(self, node: Node) -> None:
        if node.paused:
            with contextlib.suppress(ProcessLookupError):
                node.process.send_signal(signal.SIGCONT)
            node.paused = False

    def terminate(self, node: Node) -> None:
        """SIGTERM: a clean stop (the worker hands its tasks back)."""
        self.resume(node)
        with contextlib.suppress(ProcessLookupError):
            node.process.terminate()
        try:
            node.process.wait(10)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait(5)
        _close(node.process.stdout)

    def replace(self, node: Node, *, kill: bool = True, wait: bool = True) -> Node:
        """Kill (or stop) `node` and start another of its role in its place."""
        if kill:
            self.kill(node)
        else:
            self.terminate(node)
        new = self.spawn(node.role, wait=wait)
        if node.role == "server":
            self.server = new
        else:
            self.workers[self.workers.index(node)] = new
        return new

    def scale(self, count: int) -> None:
        """Run `count` workers: start new ones, or stop (SIGTERM) the newest."""
        if count < 0:
            raise ValueError("a worker count is >= 0")
        started = [self.spawn("worker", wait=False) for _ in range(count - len(self.workers))]
        for node in started:
            node.wait_ready()
        self.workers.extend(started)
        while len(self.workers) > count:
            self.terminate(self.workers.pop())

    def live_workers(self) -> list[Node]:
        return [node for node in self.workers if node.alive and not node.paused]

    def heal_processes(self) -> None:
        """Every paused process continued, every dead one replaced: the restore step."""
        for node in [*self.workers, *([self.server] if self.server else [])]:
            self.resume(node)
        if self.server is not None and not self.server.alive:
            self.server = self.spawn("server")
        for index, node in enumerate(list(self.workers)):
            if not node.alive:
                self.workers[index] = self.spawn("worker")

    def _end(self, node: Node) -> None:
        with contextlib.suppress(Exception):
            self.terminate(node)

    @property
    def api_url(self) -> str:
        return self.external_api or f"http://127.0.0.1:{self.api_port}"


def _close(stream: IO[bytes] | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError):
            stream.close()
