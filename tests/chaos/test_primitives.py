"""Each fault primitive: it happens, and it is undone."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

import httpx
import psutil
import psycopg
import pytest

from studypath.chaos import Cluster
from studypath.chaos.faults import (
    DatabaseOutage,
    ExhaustConnections,
    Fault,
    KillWorker,
    PauseWorker,
    RestartServer,
    Scale,
    TerminateBackends,
)
from studypath.chaos.proxy import FaultProxy, NetworkFault, Upstream
from studypath.chaos.target import FlakyTarget, TargetBehaviour
from studypath.chaos.timeline import Timeline

RNG = random.Random(1)
F = TypeVar("F", bound=Fault)


# ---------------------------------------------------------------------- the network proxy
class Echo:
    """A TCP echo server: what the proxy forwards to in these tests."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while data := await reader.read(1024):
                writer.write(data)
                await writer.drain()
            writer.close()

        self.server = await asyncio.start_server(echo, sock=self.sock)


async def roundtrip(port: int, within: float = 1.0) -> bytes:
    """Send `ping` through the proxy; what came back (b"" if the connection was cut)."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except ConnectionError:
        return b""
    try:
        writer.write(b"ping")
        await writer.drain()
        return await asyncio.wait_for(reader.read(4), within)
    except ConnectionError:
        return b""
    finally:
        writer.close()


@pytest.fixture
async def echo_proxy() -> AsyncIterator[FaultProxy]:
    echo = Echo()
    await echo.start()
    proxy = FaultProxy(Upstream(port=echo.port), name="echo").start()
    yield proxy
    proxy.stop()
    assert echo.server is not None
    echo.server.close()


async def test_the_proxy_forwards_when_healthy(echo_proxy: FaultProxy) -> None:
    assert await roundtrip(echo_proxy.port) == b"ping"


async def test_a_blackhole_holds_the_bytes_until_healed(echo_proxy: FaultProxy) -> None:
    echo_proxy.set(NetworkFault(blackhole=True))
    reader, writer = await asyncio.open_connection("127.0.0.1", echo_proxy.port)
    writer.write(b"ping")
    await writer.drain()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.read(4), 0.5)
    echo_proxy.heal()
    assert await asyncio.wait_for(reader.read(4), 5) == b"ping"  # held, not dropped
    writer.close()


async def test_a_reset_cuts_open_connections(echo_proxy: FaultProxy) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", echo_proxy.port)
    writer.write(b"ping")
    assert await asyncio.wait_for(reader.read(4), 5) == b"ping"
    assert echo_proxy.reset_connections() == 2  # both sides of the one connection
    try:
        after = await asyncio.wait_for(reader.read(4), 5)
    except ConnectionResetError:
        after = b""
    assert after == b""  # cut: nothing more comes
    assert await roundtrip(echo_proxy.port) == b"ping"  # new connections go through


async def test_refusing_cuts_new_connections_until_healed(echo_proxy: FaultProxy) -> None:
    echo_proxy.set(NetworkFault(refuse=True))
    assert await roundtrip(echo_proxy.port) == b""
    echo_proxy.heal()
    assert await roundtrip(echo_proxy.port) == b"ping"


async def test_latency_is_added_to_every_chunk(echo_proxy: FaultProxy) -> None:
    echo_proxy.set(NetworkFault(latency_ms=400))
    with pytest.raises(TimeoutError):  # two hops of 400 ms: not back within 0.3 s
        await roundtrip(echo_proxy.port, within=0.3)
    echo_proxy.heal()
    assert await roundtrip(echo_proxy.port) == b"ping"


def test_a_network_fault_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="latency_ms"):
        NetworkFault(latency_ms=-1)
    with pytest.raises(ValueError, match="bandwidth"):
        NetworkFault(bandwidth_bytes_per_second=0)


# ---------------------------------------------------------------------- the flaky target
def test_the_flaky_target_fails_as_told_and_counts_duplicates() -> None:
    target = FlakyTarget(TargetBehaviour(error_rate=1.0)).start()
    try:
        assert httpx.post(target.url, headers={"Idempotency-Key": "a"}).status_code == 500
        target.behaviour = TargetBehaviour()
        for _ in range(2):
            assert httpx.post(target.url, headers={"Idempotency-Key": "b"}).status_code == 200
        assert target.failed == 1
        assert target.received["b"] == 2
        assert target.duplicates() == 1
    finally:
        target.stop()
    with pytest.raises(ValueError, match="error_rate"):
        TargetBehaviour(error_rate=2)


# ---------------------------------------------------------------------- processes
@asynccontextmanager
async def injected(fault: F, cluster: Cluster) -> AsyncIterator[F]:
    """`fault`, injected for the block and undone however the block ends (a failed assertion
    too): the tests after this one share the cluster."""
    await fault.inject(cluster, RNG)
    try:
        yield fault
    finally:
        await fault.undo(cluster)


async def test_kill_worker_kills_and_its_undo_starts_another(cluster: Cluster) -> None:
    fault = KillWorker()
    await fault.inject(cluster, RNG)
    assert fault.victim is not None and not fault.victim.alive
    assert not psutil.pid_exists(fault.victim.pid) or (
        psutil.Process(fault.victim.pid).status() == psutil.STATUS_ZOMBIE
    )
    await fault.undo(cluster)
    assert fault.victim not in cluster.workers
    assert all(worker.alive for worker in cluster.workers)


async def process_status(pid: int, wanted: bool) -> str:
    """The process's status once it is (`wanted`) or is not stopped; a signal is delivered
    asynchronously, so look a few times."""
    status = psutil.Process(pid).status()
    for _ in range(50):
        if (status == psutil.STATUS_STOPPED) == wanted:
            break
        await asyncio.sleep(0.05)
        status = psutil.Process(pid).status()
    return status


async def test_pause_worker_stops_the_process_and_undo_continues_it(cluster: Cluster) -> None:
    async with injected(PauseWorker(), cluster) as fault:
        assert fault.victim is not None
        assert await process_status(fault.victim.pid, True) == psutil.STATUS_STOPPED
    assert await process_status(fault.victim.pid, False) != psutil.STATUS_STOPPED


async def test_restart_server_kills_it_and_a_new_one_answers(cluster: Cluster) -> None:
    assert cluster.server is not None
    old = cluster.server
    fault = RestartServer()
    await fault.inject(cluster, RNG)
    assert not old.alive
    async with httpx.AsyncClient(base_url=cluster.api_url, timeout=5) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/api/v1/health")
        await fault.undo(cluster)
        assert cluster.server is not old and cluster.server.alive
        assert (await client.get("/api/v1/health")).status_code == 200


async def test_scale_adds_workers_and_undo_takes_them_away(cluster: Cluster) -> None:
    before = len(cluster.workers)
    fault = Scale(before + 1)
    await fault.inject(cluster, RNG)
    assert len(cluster.live_workers()) == before + 1
    await fault.undo(cluster)
    assert len(cluster.workers) == before


# ---------------------------------------------------------------------- the database
def through_proxy(cluster: Cluster) -> psycopg.Connection:
    return psycopg.connect(cluster.database_url, autocommit=True, connect_timeout=3)


def answers_queries(cluster: Cluster) -> bool:
    """A new connection through the proxy runs `SELECT 1`: the database is back for the
    tests that share this cluster after this one."""
    with through_proxy(cluster) as conn:
        return conn.execute("SELECT 1").fetchone() == (1,)


async def test_terminate_backends_ends_the_systems_connections(cluster: Cluster) -> None:
    victim = through_proxy(cluster)
    fault = TerminateBackends()
    await fault.inject(cluster, RNG)
    assert fault.terminated >= 1
    with pytest.raises(psycopg.OperationalError):
        victim.execute("SELECT 1")
    victim.close()
    assert answers_queries(cluster)  # nothing to undo: new connections work


async def test_a_database_outage_stops_postgres_and_undo_starts_it(cluster: Cluster) -> None:
    async with injected(DatabaseOutage(), cluster):
        assert cluster.database is not None and not cluster.database.server_running()
        with pytest.raises(psycopg.OperationalError):
            through_proxy(cluster)
    assert answers_queries(cluster)


async def test_exhausting_connections_refuses_new_ones_until_released(cluster: Cluster) -> None:
    async with injected(ExhaustConnections(), cluster) as fault:
        assert fault.held
        with pytest.raises(psycopg.OperationalError, match=r"too many clients|reserved"):
            through_proxy(cluster)
    assert answers_queries(cluster)


async def test_the_api_answers_503_while_the_database_is_down(cluster: Cluster) -> None:
    async with injected(DatabaseOutage(), cluster), httpx.AsyncClient(timeout=15) as client:
        response = await client.post(
            f"{cluster.api_url}/api/v1/auth/login",
            json={"username": "admin", "password": cluster.admin_password},
        )
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert "database is unavailable" in response.json()["error"]["message"]
    assert response.headers["retry-after"] == "1"


def test_a_fault_is_recorded_with_its_start_and_end_however_it_ends() -> None:
    timeline = Timeline()
    with pytest.raises(RuntimeError), timeline.fault("kill-worker", "worker-1"):
        raise RuntimeError("injecting failed")
    (record,) = timeline.faults
    assert record.ended is not None and record.ended >= record.started
    assert record.error == "RuntimeError: injecting failed"
    assert timeline.open_faults() == []


# ---------------------------------------------------------------------- bounded waits
async def login(client: httpx.AsyncClient, cluster: Cluster) -> httpx.Response:
    """A request that needs the database (the account is looked up first)."""
    return await client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": cluster.admin_password}
    )


async def test_a_request_through_a_black_holed_database_answers_503(cluster: Cluster) -> None:
    """The proxy takes the API's bytes and never answers — no error, no closed socket. The
    request still ends, with the 503 envelope, instead of hanging (the client's generous
    timeout is the failure mode)."""
    assert cluster.db_proxy is not None
    async with httpx.AsyncClient(base_url=cluster.api_url, timeout=120) as client:
        assert (await login(client, cluster)).status_code == 200  # pooled connections exist
        cluster.db_proxy.set(NetworkFault(blackhole=True))
        try:
            response = await login(client, cluster)
        finally:
            cluster.db_proxy.heal()
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert response.headers["retry-after"] == "1"


async def test_the_first_request_that_finds_the_database_down_makes_readiness_fail(
    cluster: Cluster,
) -> None:
    """Readiness answers from a cached check; a request that failed to reach the database
    makes the very next probe look again, rather than answer the cache's 200."""
    fault = DatabaseOutage()
    async with httpx.AsyncClient(base_url=cluster.api_url, timeout=60) as client:
        assert (await client.get("/api/v1/health/ready")).status_code == 200  # cached: fresh
        await fault.inject(cluster, RNG)
        try:
            failed = await login(client, cluster)
            ready = await client.get("/api/v1/health/ready")
        finally:
            await fault.undo(cluster)
    assert failed.status_code == 503, failed.text
    assert ready.status_code == 503, ready.text
    assert ready.json()["error"]["details"]["status"] == "not_ready"
