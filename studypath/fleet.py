"""Week 8's stage on one machine: server processes, a load balancer in front of them, and a
link to the database that can be cut — real processes and real sockets, no containers.

- `ServerProcess`: a `studypath server` subprocess on a free port (what a container runs).
- `DatabaseLink`: a relay between the servers and PostgreSQL's Unix socket. `cut()` closes
  every relayed connection and refuses new ones, which to the servers is exactly a database
  that went away; `restore()` brings it back.
- `LoadBalancer`: the routing half of a load balancer such as Caddy or a cloud LB. A thread
  asks each backend's readiness every `interval`; `fails` failed checks in a row pull a
  backend from the pool, `passes` good ones put it back. Requests go round-robin to the
  backends in the pool; `drain()` takes one out and waits for its requests in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx

from studypath.config import ENV_PREFIX
from studypath.core.clock import poll_until

READY_PATH = "/api/v1/health/ready"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# ------------------------------------------------------------------ the database link
class DatabaseLink:
    """A relay in front of PostgreSQL's Unix socket; `url` is the database URL through it."""

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        query = parse_qs(parts.query)
        if "host" not in query:
            raise ValueError("DatabaseLink relays a Unix-socket URL (…?host=/socket/dir)")
        port = parts.port or 5432
        self.target = Path(query["host"][0]) / f".s.PGSQL.{port}"
        self.folder = Path(tempfile.mkdtemp(prefix="studypath-link-"))
        self.socket_path = self.folder / f".s.PGSQL.{port}"
        query["host"] = [str(self.folder)]
        self.url = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
        self.connected = True
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._call(self._listen())

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_unix_server(self._relay, path=str(self.socket_path))

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_unix_connection(str(self.target))
        except OSError:
            client_w.close()
            return
        self._writers |= {client_w, server_w}
        await asyncio.gather(_pipe(client_r, server_w), _pipe(server_r, client_w))
        self._writers -= {client_w, server_w}

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self.socket_path.unlink(missing_ok=True)  # new connections: "no such file"
        for writer in list(self._writers):  # open ones: closed under the servers' feet
            writer.close()

    def cut(self) -> None:
        """The database is gone, as the servers see it."""
        self._call(self._cut())
        self.connected = False

    def restore(self) -> None:
        self._call(self._listen())
        self.connected = True

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self._cut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        shutil.rmtree(self.folder, ignore_errors=True)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


# ------------------------------------------------------------------ server processes
class ServerProcess:
    """`studypath server` in a subprocess of its own, on a free port of 127.0.0.1."""

    def __init__(self, name: str, database_url: str, **settings: str) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"studypath-{name}-"))
        env = {key: value for key, value in os.environ.items() if not key.startswith(ENV_PREFIX)}
        env.update(
            {
                f"{ENV_PREFIX}DATABASE_URL": database_url,
                f"{ENV_PREFIX}DATA_DIR": str(self.data_dir),
                f"{ENV_PREFIX}LOG_LEVEL": "WARNING",
                **{f"{ENV_PREFIX}{key.upper()}": value for key, value in settings.items()},
            }
        )
        self.log = self.data_dir / "server.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "studypath", "server", "--port", str(self.port)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def ready(self) -> bool:
        try:
            return httpx.get(self.url + READY_PATH, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, within: float = 30.0) -> ServerProcess:
        def check() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            return self.ready()

        poll_until(check, within=within, what=f"{self.name} to answer {READY_PATH} with 200")
        return self

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, as an orchestrator sends it: stop accepting, finish what is in flight."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        shutil.rmtree(self.data_dir, ignore_errors=True)
        return self.process.returncode

    def __repr__(self) -> str:
        state = "running" if self.process.poll() is None else f"exited {self.process.returncode}"
        return f"<ServerProcess {self.name} {self.url} pid {self.process.pid} {state}>"


# ------------------------------------------------------------------ the load balancer
@dataclass
class Outcome:
    """One request through the load balancer."""

    at: float  # when it was sent, in seconds since the balancer started
    backend: str | None  # None: no backend was in the pool
    status: int  # 599: the connection failed
    done: float = 0.0  # when its answer arrived


@dataclass
class Backend:
    name: str
    url: str
    in_pool: bool = False
    streak: int = 0  # checks in a row with the same result as the last one
    in_flight: int = 0
    checks: list[tuple[float, int]] = field(default_factory=list)  # (at, status)


class LoadBalancer:
    """Round-robin over the backends whose readiness passes; see the module docstring."""

    def __init__(self, *, interval: float = 0.25, fails: int = 2, passes: int = 2) -> None:
        self.interval, self.fails, self.passes = interval, fails, passes
        self.started = time.monotonic()
        self.backends: dict[str, Backend] = {}
        self.events: list[tuple[float, str, str]] = []  # (at, backend, what happened)
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._turn = itertools.count()
        self._stop = threading.Event()
        self._client = httpx.Client(timeout=5.0)
        self._checker = threading.Thread(target=self._check_loop, daemon=True)
        self._checker.start()

    def now(self) -> float:
        return time.monotonic() - self.started

    # --- membership
    def add(self, name: str, url: str) -> None:
        """A new backend starts out of the pool: its health checks must pass first."""
        with self._lock:
            self.backends[name] = Backend(name, url)

    def drain(self, name: str, within: float = 10.0) -> None:
        """Take a backend out (no new requests), then wait until none is in flight."""
        backend = self.backends[name]
        with self._lock:
            backend.in_pool = False
            self.events.append((self.now(), name, "drained"))
        poll_until(lambda: backend.in_flight == 0, within=within, what=f"{name} to finish")
        with self._lock:
            del self.backends[name]

    def pool(self) -> list[str]:
        return [b.name for b in self.backends.values() if b.in_pool]

    # --- health checks
    def _check_loop(self) -> None:
        while not self._stop.wait(self.interval):
            for backend in list(self.backends.values()):
                self._check(backend)

    def _check(self, backend: Backend) -> None:
        try:
            status = self._client.get(backend.url + READY_PATH, timeout=1.0).status_code
        except httpx.HTTPError:
            status = 599
        with self._lock:
            if backend.name not in self.backends:
                return
            backend.checks.append((self.now(), status))
            healthy = status == 200
            previous = len(backend.checks) > 1 and backend.checks[-2][1] == 200
            backend.streak = backend.streak + 1 if healthy == previous else 1
            if backend.in_pool and not healthy and backend.streak >= self.fails:
                backend.in_pool = False
                self.events.append((self.now(), backend.name, f"pulled ({status})"))
            elif not backend.in_pool and healthy and backend.streak >= self.passes:
                backend.in_pool = True
                self.events.append((self.now(), backend.name, "added"))

    def wait_for_pool(self, names: set[str], within: float = 30.0) -> None:
        poll_until(lambda: set(self.pool()) == names, within=within, what=f"pool == {names}")

    # --- traffic
    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        """Send one request to the next backend in the pool; None when the pool is empty.
        Every request is recorded in `outcomes`."""
        with self._lock:  # the pool as it is at this instant decides, and dates, the request
            sent = self.now()
            pool = [b for b in self.backends.values() if b.in_pool]
            backend = pool[next(self._turn) % len(pool)] if pool else None
            if backend is not None:
                backend.in_flight += 1
        if backend is None:
            self.outcomes.append(Outcome(sent, None, 503, sent))
            return None
        try:
            response = self._client.request(method, backend.url + path, **kwargs)
            status = response.status_code
        except httpx.HTTPError:
            response, status = None, 599
        finally:
            with self._lock:
                backend.in_flight -= 1
        self.outcomes.append(Outcome(sent, backend.name, status, self.now()))
        return response

    def close(self) -> None:
        self._stop.set()
        self._checker.join(5)
        self._client.close()


class Traffic:
    """Clients sending `method path` through a balancer in a loop until stopped."""

    def __init__(
        self, balancer: LoadBalancer, method: str, path: str, *, clients: int = 2, **kwargs: Any
    ) -> None:
        self.balancer = balancer
        self.first = len(balancer.outcomes)
        self._stop = threading.Event()

        def loop() -> None:
            while not self._stop.is_set():
                balancer.request(method, path, **kwargs)
                time.sleep(0.01)

        self._threads = [threading.Thread(target=loop, daemon=True) for _ in range(clients)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> list[Outcome]:
        """Stop the clients; the outcomes of their requests."""
        self._stop.set()
        for thread in self._threads:
            thread.join(10)
        return self.balancer.outcomes[self.first :]


def success_rate(outcomes: list[Outcome], *, bucket: float = 0.25) -> list[tuple[float, float]]:
    """(time, share of requests answered 2xx) per `bucket` seconds, for a plot."""
    buckets: dict[int, list[bool]] = {}
    for outcome in outcomes:
        buckets.setdefault(int(outcome.at / bucket), []).append(200 <= outcome.status < 300)
    return [(key * bucket, sum(oks) / len(oks)) for key, oks in sorted(buckets.items())]


__all__ = [
    "READY_PATH",
    "Backend",
    "DatabaseLink",
    "LoadBalancer",
    "Outcome",
    "ServerProcess",
    "Traffic",
    "free_port",
    "success_rate",
]
