"""The fault vocabulary: each fault is injected, lasts a while, and is undone.

- `KillWorker`: SIGKILL a worker (its tasks wait for their lease to run out); undone by
  starting another worker;
- `PauseWorker`: SIGSTOP a worker — alive, holding leases, silent; undone by SIGCONT;
- `RestartServer`: SIGKILL (or SIGTERM) the API server; undone by a new one on its port;
- `TerminateBackends`: `pg_terminate_backend` on every connection of the system (instant);
- `DatabaseOutage`: stop PostgreSQL (fast shutdown); undone by starting it again;
- `ExhaustConnections`: take every free connection slot; undone by releasing them;
- `Network`: a `NetworkFault` (latency, jitter, bandwidth, black-hole) on a proxy; healed;
- `ResetConnections`: cut every connection through a proxy with a TCP RST (instant);
- `FlakyDependency`: the webhook target fails a share of calls, or is slow; healthy again;
- `Scale`: run N workers; undone by going back to the count before.

A fault's `inject` and `undo` run in a thread (`asyncio.to_thread`): stopping a database or
starting a process blocks for a while, and the run's loop keeps measuring meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg

from studypath.chaos.cluster import Cluster, Node
from studypath.chaos.proxy import HEALTHY, FaultProxy, NetworkFault
from studypath.chaos.target import TargetBehaviour

# The observer's own connections are spared by `TerminateBackends` (by application name).
OBSERVER_APP = "studypath-chaos-observer"


class Fault(Protocol):
    kind: str

    def target(self) -> str: ...

    async def inject(self, cluster: Cluster, rng: random.Random) -> None: ...

    async def undo(self, cluster: Cluster) -> None: ...


async def _pick_worker(cluster: Cluster, rng: random.Random) -> Node:
    """A live, running worker; while every one is down (an earlier kill is still being
    undone), wait a little for one instead of skipping the fault."""
    for _ in range(100):
        live = cluster.live_workers()
        if live:
            return rng.choice(live)
        await asyncio.sleep(0.1)
    raise RuntimeError("no live worker to hurt")


@dataclass
class WorkerFault:
    """A fault done to one worker, chosen when it is injected: `victim`."""

    victim: Node | None = None

    def target(self) -> str:
        return self.victim.name if self.victim else "a worker"

    async def _choose_victim(self, cluster: Cluster, rng: random.Random) -> Node:
        self.victim = await _pick_worker(cluster, rng)
        return self.victim


@dataclass
class KillWorker(WorkerFault):
    kind: str = "kill-worker"

    async def inject(self, cluster: Cluster, rng: random.Random) -> None:
        await asyncio.to_thread(cluster.kill, await self._choose_victim(cluster, rng))

    async def undo(self, cluster: Cluster) -> None:
        victim = self.victim
        if victim is not None and victim in cluster.workers and not victim.alive:
            new = await asyncio.to_thread(cluster.spawn, "worker")
            if victim in cluster.workers:
                cluster.workers[cluster.workers.index(victim)] = new
            else:  # replaced meanwhile (the restore step): one replacement is enough
                await asyncio.to_thread(cluster.terminate, new)


@dataclass
class PauseWorker(WorkerFault):
    kind: str = "pause-worker"

    async def inject(self, cluster: Cluster, rng: random.Random) -> None:
        cluster.pause(await self._choose_victim(cluster, rng))

    async def undo(self, cluster: Cluster) -> None:
        if self.victim is not None:
            cluster.resume(self.victim)


@dataclass
class RestartServer:
    """Kill the API server (SIGKILL, or SIGTERM when `graceful`) and start a new one."""

    graceful: bool = False
    kind: str = "restart-server"

    def target(self) -> str:
        return "api server"

    async def inject(self, cluster: Cluster, rng: random.Random) -> None:
        for _ in range(200):  # an earlier restart may still be starting its server
            if cluster.own_server().alive:
                break
            await asyncio.sleep(0.1)
        stop = cluster.terminate if self.graceful else cluster.kill
        await asyncio.to_thread(stop, cluster.own_server())

    async def undo(self, cluster: Cluster) -> None:
        if cluster.server is not None and not cluster.server.alive:
            cluster.server = await asyncio.to_thread(cluster.spawn, "server")


@dataclass
class TerminateBackends:
    kind: str = "terminate-backends"
    terminated: int = 0

    def target(self) -> str:
        return "database connections"

    async def inject(self, cluster: Cluster, rng: random.Random) -> None:
        self.terminated = await asyncio.to_thread(terminate_backends, cluster.direct_url)

    async def undo(self, cluster: Cluster) -> None:
        return None


def terminate_backends(url: str) -> int:
    """`pg_terminate_backend` every client connection but ours; returns how many."""
    with psycopg.connect(url, autocommit=True, application_name=OBSERVER_APP) as conn:
        row = conn.execute(
            """
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
              AND coalesce(application_name, '') <> %s
            """,
            (OBSERVER_APP,),
        ).fetchone()
    return int(row[0]) if row else 0


@dataclass
class DatabaseOutage:
    kind: str = "db-outage"

    def target(self) -> str:
        return "postgresql"

    async def inject(self, cluster: Cluster, rng: random.Random) -> None:
        await asyncio.to_thread(cluster.own_database().stop_server)

    async def undo(self, cluster: Cluster) -> None:
        if cluster.database is not None:
            await asyncio.to_thread(cluster.database.start_server)


@dataclass
class ExhaustConnections:
    """Take every free connection slot of the server: the system's pooled connections go on
    working, but nothing can open a new one ('too many clients')."""

    kind: str = "exhaust-connections"
    held: list[Any] = field(default_factory=list)

    def target(self) -> str:
        return "postgresql connection slots"

    async def inject(self, cluster: Cluster, rng: random.Random) -> None:
        url = cluster.direct_url
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    url, autocommit=True, application_name=OBSERVER_APP
                )
            except psycopg.OperationalError:
                break  # full
            self.held.append(conn)
            if len(self.held) > 500:
                break

    async def undo(self, cluster: Cluster) -> None:
        held, self.held = self.held, []
        for conn in held:
            with contextlib.suppress(Exception):
                await conn.close()


@dataclass
class Network:
    """A `NetworkFault` on the database proxy (`on="database"`) or the webhook's."""

    fault: NetworkFault
    on: str = "database"
    kind: str = "network"

    def target(self) -> str:
        return f"{self.on} network: {self.fault.describe()}"

    def _proxy(self, cluster: Cluster) -> FaultProxy:
        proxy = cluster.proxy(self.on)
        if proxy is None:
            raise RuntimeError(f"this cluster has no {self.on} proxy")
        return proxy

    async def inject(self, cluster: Cluster, rng: random.Random) -> None:
        self._proxy(cluster).set(self.fault)

    async def undo(self, cluster: Cluster) -> None:
        self._proxy(cluster).set(HEALTHY)


@dataclass
class ResetConnections:
    on: str = "database"
    kind: str = "reset-connections"
    cut: int = 0

    def target(self) -> str:
        return f"{self.on} connections"

    async def inject(self, cluster: Cluster, rng: random.Random) -> None:
        proxy = cluster.proxy(self.on)
        if proxy is not None:
            self.cut = proxy.reset_connections()

    async def undo(self, cluster: Cluster) -> None:
        return None


@dataclass
class FlakyDependency:
    behaviour: TargetBehaviour
    kind: str = "flaky-dependency"

    def target(self) -> str:
        return f"webhook target: {self.behaviour.describe()}"

    async def inject(self, cluster: Cluster, rng: random.Random) -> None:
        if cluster.target is not None:
            cluster.target.behaviour = self.behaviour

    async def undo(self, cluster: Cluster) -> None:
        if cluster.target is not None:
            cluster.target.behaviour = TargetBehaviour()


@dataclass
class Scale:
    workers: int
    kind: str = "scale"
    before: int | None = None

    def target(self) -> str:
        return f"workers → {self.workers}"

    async def inject(self, cluster: Cluster, rng: random.Random) -> None:
        self.before = len(cluster.workers)
        await asyncio.to_thread(cluster.scale, self.workers)

    async def undo(self, cluster: Cluster) -> None:
        if self.before is not None:
            await asyncio.to_thread(cluster.scale, self.before)


async def restore(cluster: Cluster, workers: int) -> None:
    """Everything back to healthy, whatever was in force: the database up, the proxies
    healed, the target healthy, paused processes continued, dead ones replaced, `workers`
    workers. Each step runs even if an earlier one failed."""
    steps: list[Any] = []
    if cluster.database is not None:
        steps.append(cluster.database.start_server)
    for proxy in (cluster.db_proxy, cluster.hook_proxy):
        if proxy is not None:
            steps.append(lambda proxy=proxy: proxy.set(HEALTHY))
    if cluster.target is not None:
        steps.append(lambda: setattr(cluster.target, "behaviour", TargetBehaviour()))
    steps.append(cluster.heal_processes)
    steps.append(lambda: cluster.scale(workers))
    for step in steps:
        with contextlib.suppress(Exception):
            await asyncio.to_thread(step)
