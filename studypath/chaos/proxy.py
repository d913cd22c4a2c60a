"""A TCP fault proxy: the system's database (or webhook) traffic goes through it, and a
chaos run turns faults on and off while the traffic flows.

    proxy = FaultProxy(Upstream(path="/tmp/pg/.s.PGSQL.5432"), name="database")
    proxy.start()                      # listens on 127.0.0.1:<proxy.port>
    proxy.set(NetworkFault(latency_ms=200, jitter_ms=50))
    proxy.set(NetworkFault(blackhole=True))   # a partition: bytes are held, nothing arrives
    proxy.reset_connections()          # every open connection is cut (TCP RST)
    proxy.heal()                       # back to a plain pipe; held bytes flow again

It runs its own asyncio loop in a daemon thread, so the faults it injects do not depend on
what the caller's loop is doing, and every method may be called from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import struct
import threading
from dataclasses import dataclass

log = logging.getLogger("studypath.chaos.proxy")

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Upstream:
    """Where the proxy forwards to: a TCP host and port, or a Unix socket path (the
    embedded PostgreSQL listens on one)."""

    host: str = "127.0.0.1"
    port: int = 0
    path: str | None = None

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.path is not None:
            return await asyncio.open_unix_connection(self.path)
        return await asyncio.open_connection(self.host, self.port)


@dataclass(frozen=True)
class NetworkFault:
    """What the proxy does to the bytes it forwards. The default is nothing: a plain pipe.

    - `latency_ms` ± `jitter_ms`: each chunk waits that long before it is forwarded;
    - `bandwidth_bytes_per_second`: chunks are paced to that rate;
    - `blackhole`: nothing is forwarded (a partition); new connections are accepted and hang;
    - `refuse`: new connections are cut at once (a reset storm; open ones go on).
    """

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    bandwidth_bytes_per_second: float | None = None
    blackhole: bool = False
    refuse: bool = False

    def __post_init__(self) -> None:
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise ValueError("latency_ms and jitter_ms must be >= 0")
        if self.bandwidth_bytes_per_second is not None and self.bandwidth_bytes_per_second <= 0:
            raise ValueError("bandwidth_bytes_per_second must be > 0 (None: unlimited)")

    @property
    def healthy(self) -> bool:
        return self == NetworkFault()

    def describe(self) -> str:
        parts = []
        if self.latency_ms or self.jitter_ms:
            parts.append(f"latency {self.latency_ms:g}±{self.jitter_ms:g} ms")
        if self.bandwidth_bytes_per_second is not None:
            parts.append(f"bandwidth {self.bandwidth_bytes_per_second:g} B/s")
        if self.blackhole:
            parts.append("black-hole")
        if self.refuse:
            parts.append("refuse new connections")
        return ", ".join(parts) or "healthy"


HEALTHY = NetworkFault()


class FaultProxy:
    """One listening port, one upstream, one `NetworkFault` in force at a time."""

    def __init__(self, upstream: Upstream, *, name: str = "proxy", host: str = "127.0.0.1"):
        self.upstream = upstream
        self.name = name
        self.host = host
        self.port = 0
        self.fault = HEALTHY
        self.connections_total = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._flowing: asyncio.Event | None = None  # cleared while black-holed
        self._open: set[asyncio.StreamWriter] = set()
        self._rng = random.Random()

    # ------------------------------------------------------------------ control (any thread)
    def start(self) -> FaultProxy:
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._thread_main, args=(ready,), name=f"chaos proxy {self.name}", daemon=True
        )
        self._thread.start()
        if not ready.wait(10) or self._server is None:
            raise RuntimeError(f"the {self.name} proxy did not start")
        return self

    def set(self, fault: NetworkFault) -> None:
        """Put `fault` in force now, for the connections already open and the next ones."""
        self.fault = fault
        self._call(self._apply_flow)

    def heal(self) -> None:
        self.set(HEALTHY)

    def reset_connections(self) -> int:
        """Cut every open connection (RST, as a crashed router would); returns how many."""
        count = len(self._open)
        self._call(self._abort_all)
        return count

    @property
    def open_connections(self) -> int:
        return len(self._open)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def _call(self, callback: object) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(callback)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ the loop's side
    def _thread_main(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._listen())
        finally:
            ready.set()
        loop.run_forever()
        loop.close()

    async def _listen(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    def _apply_flow(self) -> None:
        assert self._flowing is not None
        if self.fault.blackhole:
            self._flowing.clear()
        else:
            self._flowing.set()

    def _abort_all(self) -> None:
        for writer in list(self._open):
            _abort(writer)
        self._open.clear()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        self._abort_all()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter):  # type: ignore[no-untyped-def]
        self.connections_total += 1
        if self.fault.refuse:
            _abort(client)
            return
        try:
            server_reader, server = await self.upstream.connect()
        except OSError:
            _abort(client)  # the upstream is down: so is the connection through us
            return
        self._open.update((client, server))
        try:
            await asyncio.gather(
                self._pipe(client_reader, server), self._pipe(server_reader, client)
            )
        finally:
            for writer in (client, server):
                self._open.discard(writer)
                _abort(writer)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Forward one direction, chunk by chunk, through whatever fault is in force."""
        assert self._flowing is not None
        try:
            while chunk := await reader.read(CHUNK):
                await self._flowing.wait()  # black-holed: hold the bytes until healed
                await self._delay(len(chunk))
                writer.write(chunk)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            _abort(writer)

    async def _delay(self, size: int) -> None:
        fault = self.fault
        seconds = fault.latency_ms / 1000
        if fault.jitter_ms:
            seconds += self._rng.uniform(-fault.jitter_ms, fault.jitter_ms) / 1000
        if fault.bandwidth_bytes_per_second is not None:
            seconds += size / fault.bandwidth_bytes_per_second
        if seconds > 0:
            await asyncio.sleep(seconds)


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close at once with a TCP reset (no FIN handshake): what a dropped connection looks like."""
    transport = writer.transport
    if transport.is_closing():
        return
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
