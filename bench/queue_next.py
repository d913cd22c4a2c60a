"""What a queue's users ask after "how many jobs per second": studypath beside pgqueuer.

bench/queue.py measures throughput: a batch of no-op jobs, worked off as fast as possible.
This asks the next questions, each a mode, of the same two systems on the same kind of
server (procrastinate, 6-16x slower per job in bench/queue.py, is left out):

    python bench/queue_next.py latency    # enqueue → handler start under a steady rate
    python bench/queue_next.py backlog    # K jobs from the top of 10,000 vs 1,000,000 waiting
    python bench/queue_next.py growth     # the tables after N jobs: done rows kept vs cleared

Every mode takes `--fsync off|on|both` (the embedded server, as in bench/queue.py) and
`--systems`; `--help` after the mode lists the rest.

latency
    W worker processes wait, idle. This process is the producer: it enqueues single jobs,
    R per second for T seconds, each in its own transaction as an API request does
    (studypath: `service.create_task` then commit; pgqueuer: `Queries.enqueue`), and notes
    when each commit returned. The handler notes when it starts. Latency = handler start -
    commit, both on this host's clock (`time.time()`). A worker that polls shows it here:
    half its poll interval on average. Both systems wake on LISTEN/NOTIFY.

backlog
    N jobs are seeded straight into the system's table (one `INSERT … SELECT
    generate_series`, then ANALYZE, as autovacuum would), and W workers run until K
    handlers have started. Time and CPU per job with N small and N large, and the ratio: a
    claim that walks its index costs the same however long the backlog; one that sorts
    the backlog costs O(N). For studypath, the claim's plan on the large backlog is shown.

growth
    R rounds of N jobs (batch enqueue; the same workers throughout) while the tables grow.
    After each round: the rows in the queue's tables, their size (heap, indexes, TOAST)
    and the round's speed. Twice: finished rows kept, and cleared after each round —
    studypath: `operations.clear_completed` (`studypath admin clear-completed`); pgqueuer
    deletes a finished job from its queue table itself and logs it in `pgqueuer_log`,
    which `Queries.clear_queue_log` empties. The *autovac* column counts the autovacuum
    runs on those tables so far: a round after one is a different table. `--kept-rows N`
    starts from N finished jobs' rows (seeded, then VACUUM ANALYZE); `--explain` prints
    studypath's claim and completion plans after the last round.

Each handler bumps its process's counter in shared memory, so the harness knows how many
jobs started without asking the database (a `count(*)` over a million rows every 20 ms
would be most of the server's work). CPU per job — the worker processes', PostgreSQL's —
is the steadier figure on a shared machine; the load average is printed with each table.

    python bench/queue_next.py latency --rate 50 --seconds 20
    python bench/queue_next.py backlog --small 10000 --large 1000000 --jobs 10000
    python bench/queue_next.py growth --rounds 5 --jobs 10000
    python bench/queue_next.py growth --rounds 6 --kept-rows 1000000 --finished kept
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/queue_next.py` puts bench/ first on the module search path, where our
# bench/queue.py hides the standard `queue`. Move bench/ to the end and import the sibling
# as `bench.queue`, from the repository root (see bench/auth.py).
sys.path.sort(key=lambda entry: Path(entry or ".").resolve() == Path(__file__).resolve().parent)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import signal
import statistics
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import SynchronizedArray
from multiprocessing.synchronize import Barrier, Event
from typing import Any

import psutil
import psycopg

from bench.queue import (
    STARTUP_TIMEOUT,
    Pgqueuer,
    QueueSystem,
    Studypath,
    configure_logging,
    count,
    cpu_by_pid,
    cpu_used,
    create_database,
    drop_database,
    fsync_modes,
    postgres,
    postmaster,
    rate,
    versions,
    worker_process,
)
from studypath.core.db import Database
from studypath.tasks import operations, service
from studypath.tasks.queue import CLAIM, COMPLETE_MANY, PIN_CLAIM_PLAN
from studypath.tasks.registry import TaskContext
from studypath.tasks.sql import driver_sql

try:
    from pgqueuer import Job, Queries
except ImportError as missing:
    sys.exit(f"bench/queue_next.py needs pgqueuer: pip install pgqueuer asyncpg ({missing})")

POLL_SECONDS = 0.01  # how often the harness reads the shared counters (no database query)
WARM_UP_JOBS = 10  # latency: run before the clock starts, not counted
EnqueueOne = Callable[[], Awaitable[str]]  # enqueue one job, commit; its id


# --------------------------------------------------------------------------- the probe
@dataclass
class Probe:
    """What a handler does in these benchmarks: count itself (one counter per worker
    process, so no lock) and, for the latency mode, note when it started."""

    counters: SynchronizedArray[int]
    index: int
    record: bool
    starts: list[tuple[str, float]] = field(default_factory=list)

    def started(self, job_id: str) -> None:
        if self.record:
            self.starts.append((job_id, time.time()))
        self.counters[self.index] += 1


PROBE: Probe | None = None  # set in each worker process before it starts


def probe() -> Probe:
    assert PROBE is not None, "a handler ran outside probe_worker"
    return PROBE


async def studypath_probe(payload: Any, ctx: TaskContext) -> None:
    probe().started(str(ctx.task_id))


async def pgqueuer_probe(job: Job) -> None:
    probe().started(str(job.id))


def probe_worker(
    system: QueueSystem,
    url: str,
    concurrency: int,
    start: Barrier,
    stop: Event,
    job_probe: Probe,
    starts_out: Queue[list[tuple[str, float]]] | None,
) -> None:
    """bench/queue.py's worker process, with the probe its handlers report to."""
    global PROBE
    PROBE = job_probe
    worker_process(system, url, concurrency, start, stop)
    if starts_out is not None:
        starts_out.put(job_probe.starts)


# --------------------------------------------------------------------------- the systems
@dataclass
class Peer(ABC):
    """One system as these modes need it, beyond bench/queue.py's `QueueSystem`."""

    system: QueueSystem  # with the probe as its handler
    tables: tuple[str, ...]  # the tables a finished job leaves rows in
    seed_sql: str  # INSERT %(n)s waiting jobs
    seed_done_sql: str  # INSERT the rows %(n)s finished jobs leave, as the system keeps them

    @abstractmethod
    def producer(self, url: str) -> contextlib.AbstractAsyncContextManager[EnqueueOne]:
        """Enqueue single jobs, each in its own transaction, the system's way."""

    @abstractmethod
    async def clear(self, url: str) -> None:
        """Remove finished jobs, the system's way."""


class StudypathPeer(Peer):
    def __init__(self) -> None:
        super().__init__(
            system=Studypath(handler=studypath_probe),
            tables=("tasks",),
            # What `service.enqueue_many` writes, a microsecond apart so the order is strict.
            seed_sql="""
                INSERT INTO tasks (task_type, payload, scheduled_at, created_at, retry_strategy)
                SELECT 'noop', '{}', now() - (%(n)s - g) * interval '1 microsecond',
                       now() - (%(n)s - g) * interval '1 microsecond', '{}'
                FROM generate_series(1, %(n)s) AS g""",
            seed_done_sql="""
                INSERT INTO tasks (task_type, payload, retry_strategy, status, current_attempt,
                                   started_at, completed_at, result)
                SELECT 'noop', '{}', '{}', 'completed', 1, now(), now(), 'null'
                FROM generate_series(1, %(n)s)""",
        )

    @contextlib.asynccontextmanager
    async def producer(self, url: str) -> AsyncIterator[EnqueueOne]:
        db = Database(url)

        async def enqueue_one() -> str:  # what POST /api/v1/tasks does
            async with db.sessionmaker.begin() as session:
                task = await service.create_task(
                    session, task_type="noop", payload={}, created_by=None
                )
            return str(task.id)

        try:
            yield enqueue_one
        finally:
            await db.dispose()

    async def clear(self, url: str) -> None:
        db = Database(url)
        async with db.sessionmaker.begin() as session:  # studypath admin clear-completed
            await operations.clear_completed(session, older_than=timedelta(0))
        await db.dispose()


class PgqueuerPeer(Peer):
    def __init__(self) -> None:
        super().__init__(
            system=Pgqueuer(entrypoint=pgqueuer_probe),
            tables=("pgqueuer", "pgqueuer_log", "pgqueuer_statistics"),
            seed_sql="""
                INSERT INTO pgqueuer (priority, entrypoint, status)
                SELECT 0, 'noop', 'queued' FROM generate_series(1, %(n)s)""",
            # Three log rows per job, as pgqueuer writes them; already counted in its
            # statistics (aggregated), so its periodic aggregation leaves them alone.
            seed_done_sql="""
                INSERT INTO pgqueuer_log (job_id, status, priority, entrypoint, aggregated)
                SELECT g, s::pgqueuer_status, 0, 'noop', true
                FROM generate_series(1, %(n)s) AS g,
                     unnest(ARRAY['queued', 'picked', 'successful']) AS s""",
        )

    @property
    def pgqueuer(self) -> Pgqueuer:
        assert isinstance(self.system, Pgqueuer)
        return self.system

    @contextlib.asynccontextmanager
    async def producer(self, url: str) -> AsyncIterator[EnqueueOne]:
        driver, close = await self.pgqueuer.connect(url)
        queries = Queries(driver)

        async def enqueue_one() -> str:
            (job_id,) = await queries.enqueue("noop", None, 0)
            return str(job_id)

        try:
            yield enqueue_one
        finally:
            await close()

    async def clear(self, url: str) -> None:
        driver, close = await self.pgqueuer.connect(url)
        await Queries(driver).clear_queue_log()
        await close()


PEERS: dict[str, Callable[[], Peer]] = {"studypath": StudypathPeer, "pgqueuer": PgqueuerPeer}


# --------------------------------------------------------------------------- the workers
@dataclass
class Crew:
    """W worker processes, started and past the start line; their counters and CPU."""

    processes: list[BaseProcess]
    counters: SynchronizedArray[int]
    stop_event: Event
    starts_out: Queue[list[tuple[str, float]]] | None
    name: str
    starts: dict[str, float] = field(default_factory=dict)  # job id → handler start (latency)

    def started(self) -> int:
        return sum(self.counters[:])

    def wait_started(self, jobs: int, timeout: float) -> None:
        """Until `jobs` handlers in all have started (or a worker died, or time ran out)."""
        began = time.perf_counter()
        while self.started() < jobs:
            if time.perf_counter() - began > timeout:
                raise TimeoutError(f"{self.name}: {self.started()} of {jobs} after {timeout:g} s")
            if any(not process.is_alive() for process in self.processes):
                raise RuntimeError(f"{self.name}: a worker process died")
            time.sleep(POLL_SECONDS)

    def watched(self) -> list[psutil.Process]:
        return [psutil.Process(p.pid) for p in self.processes if p.pid is not None]

    def stop(self) -> None:
        """Tell the workers to stop; collect what they recorded; wait for them."""
        if self.stop_event.is_set():
            return
        self.stop_event.set()
        if self.starts_out is not None:
            for _ in self.processes:  # before join: a child exits once its queue is drained
                with contextlib.suppress(Exception):
                    self.starts.update(self.starts_out.get(timeout=60))
        for process in self.processes:
            process.join(30)
            if process.is_alive():
                process.kill()


@contextlib.contextmanager
def crew(
    system: QueueSystem, url: str, *, workers: int, concurrency: int, record: bool = False
) -> Iterator[Crew]:
    """Start `workers` processes, wait until each is ready, yield; stop them after."""
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters, as deployed
    counters = spawn.Array("q", workers, lock=False)
    start, stop = spawn.Barrier(workers + 1), spawn.Event()
    starts_out: Queue[list[tuple[str, float]]] | None = spawn.Queue() if record else None
    processes: list[BaseProcess] = [
        spawn.Process(
            target=probe_worker,
            args=(system, url, concurrency, start, stop, Probe(counters, i, record), starts_out),
            name=f"{system.name} worker {i}",
        )
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    team = Crew(processes, counters, stop, starts_out, system.name)
    try:
        start.wait(STARTUP_TIMEOUT)
        yield team
    finally:
        team.stop()


@dataclass
class Meter:
    """CPU seconds of the workers and of PostgreSQL's backends, and wall time, from now on."""

    team: Crew
    server: psutil.Process | None
    began: float = field(default_factory=time.perf_counter)
    workers_before: dict[int, float] = field(default_factory=dict)
    server_before: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.workers_before = cpu_by_pid(self.team.watched())
        self.server_before = cpu_by_pid(self.server.children()) if self.server else {}
        self.began = time.perf_counter()

    def read(self) -> tuple[float, float, float | None]:
        """(wall seconds, worker CPU seconds, PostgreSQL CPU seconds or None)."""
        wall = time.perf_counter() - self.began
        workers = cpu_used(self.workers_before, self.team.watched())
        server = cpu_used(self.server_before, self.server.children()) if self.server else None
        return wall, workers, server


def server_process(url: str) -> psutil.Process | None:
    with psycopg.connect(url) as conn:
        return postmaster(conn)


def per_job_ms(seconds: float | None, jobs: int) -> str:
    return "?" if seconds is None else f"{seconds / jobs * 1000:.2f}"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min: {five:.1f}) on {os.cpu_count()} cores"


@contextlib.contextmanager
def database(server_url: str, peer: Peer, suffix: str = "") -> Iterator[str]:
    """A fresh database with the system installed; dropped after."""
    name = f"bench_next_{peer.system.name}{suffix}"
    url = create_database(server_url, name)
    try:
        peer.system.install(url)
        yield url
    finally:
        drop_database(server_url, name)


def each_database(server_url: str, peers: Sequence[Peer]) -> Iterator[tuple[Peer, str]]:
    """Each peer in turn with a fresh database of its own, dropped once its runs are done.
    Iterate it with a `for` statement: a run that fails ends the loop, which closes the
    generator and drops the database there and then."""
    for peer in peers:
        with database(server_url, peer) as url:
            yield peer, url


# --------------------------------------------------------------------------- latency
@dataclass
class LatencyRun:
    system: str
    jobs: int
    from_commit: list[float]  # seconds from the commit's return to the handler's start
    from_call: list[float]  # ... from the enqueue call (its INSERT and commit included)
    worker_cpu: float
    server_cpu: float | None


async def produce(
    enqueue_one: EnqueueOne, per_second: float, seconds: float
) -> dict[str, tuple[float, float]]:
    """Enqueue at a steady rate (on a schedule: a slow commit does not delay the next one's
    slot); returns job id → (when the call began, when its commit returned)."""
    enqueued: dict[str, tuple[float, float]] = {}
    began = time.perf_counter()
    for i in range(round(per_second * seconds)):
        delay = began + i / per_second - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        called = time.time()
        job_id = await enqueue_one()
        enqueued[job_id] = (called, time.time())
    return enqueued


def latency_run(peer: Peer, url: str, args: argparse.Namespace) -> LatencyRun:
    system = peer.system

    async def producing(team: Crew) -> dict[str, tuple[float, float]]:
        async with peer.producer(url) as enqueue_one:
            # Warm up: a worker that has just started may still be connecting (studypath's
            # System connects and registers as it starts); measure from the first job run.
            for _ in range(WARM_UP_JOBS):
                await enqueue_one()
            await asyncio.to_thread(team.wait_started, WARM_UP_JOBS, args.timeout)
            return await produce(enqueue_one, args.rate, args.seconds)

    with crew(system, url, workers=args.workers, concurrency=args.concurrency, record=True) as team:
        meter = Meter(team, server_process(url))
        enqueued = asyncio.run(producing(team))
        team.wait_started(WARM_UP_JOBS + len(enqueued), args.timeout)
        _, worker_cpu, server_cpu = meter.read()
        team.stop()
    missing = set(enqueued) - set(team.starts)
    if missing:
        raise RuntimeError(f"{system.name}: {len(missing)} jobs have no recorded start")
    starts = [(team.starts[job_id], *times) for job_id, times in enqueued.items()]
    return LatencyRun(
        system.name,
        len(enqueued),
        from_commit=[start - committed for start, _, committed in starts],
        from_call=[start - called for start, called, _ in starts],
        worker_cpu=worker_cpu,
        server_cpu=server_cpu,
    )


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def latency_mode(args: argparse.Namespace, peers: Sequence[Peer], server_url: str) -> None:
    runs: list[LatencyRun] = []
    for peer, url in each_database(server_url, peers):
        runs.append(latency_run(peer, url, args))
    print(f"{'':<16} {'commit → handler start, ms':^31} {'call → start, ms':^15}")
    print(
        f"{'system':<10} {'jobs':>5} {'p50':>7} {'p90':>7} {'p99':>7} {'max':>7} "
        f"{'p50':>7} {'p99':>7} {'worker CPU ms/job':>17} {'PG CPU ms/job':>13}"
    )
    for run in runs:
        commit = [value * 1000 for value in run.from_commit]
        call = [value * 1000 for value in run.from_call]
        print(
            f"{run.system:<10} {run.jobs:>5} {percentile(commit, 50):>7.2f} "
            f"{percentile(commit, 90):>7.2f} {percentile(commit, 99):>7.2f} {max(commit):>7.2f} "
            f"{percentile(call, 50):>7.2f} {percentile(call, 99):>7.2f} "
            f"{per_job_ms(run.worker_cpu, run.jobs):>17} {per_job_ms(run.server_cpu, run.jobs):>13}"
        )
    print(
        f"{load()} at the end. PG CPU includes the producer's inserts; a negative latency is "
        "a handler that started before the producer saw its commit return"
    )


# --------------------------------------------------------------------------- backlog
@dataclass
class BacklogRun:
    system: str
    waiting: int
    jobs: int
    seed_seconds: float
    wall: float
    worker_cpu: float
    server_cpu: float | None


def seed(peer: Peer, url: str, waiting: int) -> float:
    """`waiting` jobs straight into the table, settled as an old backlog would be (VACUUM
    ANALYZE, then a CHECKPOINT, so neither autovacuum nor the writing of the seeded pages
    runs inside the measurement); returns the seconds it took."""
    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(peer.system.reset_sql)
        conn.execute(peer.seed_sql, {"n": waiting})
        settle(conn)
    return time.perf_counter() - began


def settle(conn: psycopg.Connection[Any]) -> None:
    """What an old table looks like: vacuumed, analysed, its pages written out."""
    conn.execute("VACUUM ANALYZE")
    with contextlib.suppress(psycopg.errors.InsufficientPrivilege):  # a managed server
        conn.execute("CHECKPOINT")


def backlog_run(
    peer: Peer, url: str, waiting: int, args: argparse.Namespace, *, explain: bool
) -> BacklogRun:
    seed_seconds = seed(peer, url, waiting)
    if explain:
        explain_claim(url, f"{waiting:,} waiting, before the run", args.concurrency // 2)
    system = peer.system
    with crew(system, url, workers=args.workers, concurrency=args.concurrency) as team:
        meter = Meter(team, server_process(url))
        team.wait_started(args.jobs, args.timeout)
        wall, worker_cpu, server_cpu = meter.read()
    if explain:
        explain_claim(
            url, f"{waiting:,} waiting, after {args.jobs:,} claimed", args.concurrency // 2
        )
    return BacklogRun(system.name, waiting, args.jobs, seed_seconds, wall, worker_cpu, server_cpu)


def median_run(runs: Sequence[BacklogRun]) -> BacklogRun:
    """The runs of one cell as one: the median of each figure."""
    servers = [r.server_cpu for r in runs if r.server_cpu is not None]
    return BacklogRun(
        runs[0].system,
        runs[0].waiting,
        runs[0].jobs,
        statistics.median(r.seed_seconds for r in runs),
        statistics.median(r.wall for r in runs),
        statistics.median(r.worker_cpu for r in runs),
        statistics.median(servers) if len(servers) == len(runs) else None,
    )


def explain_claim(url: str, when: str, limit: int) -> None:
    """studypath's claim, as a worker runs it, under EXPLAIN ANALYZE (rolled back)."""
    statement = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + driver_sql(CLAIM)
    params = {"types": ["noop"], "limit": limit, "worker": "explain", "lease": 60.0}
    with psycopg.connect(url) as conn:
        conn.execute(PIN_CLAIM_PLAN)
        plan = [row[0] for row in conn.execute(statement, params)]
        conn.rollback()
    print(f"  studypath's claim of {limit}, {when}:")
    for line in plan:
        print(f"    {line}")


def explain_complete(url: str, when: str, batch: int) -> None:
    """studypath's batched completion of `batch` finished tasks under EXPLAIN ANALYZE (rolled
    back; the fence matches no row, the plan and the pages read are what count)."""
    statement = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + driver_sql(COMPLETE_MANY)
    with psycopg.connect(url) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM tasks LIMIT %s", (batch,))]
        if not ids:
            return  # the finished rows were cleared: nothing to look up
        params = {"ids": ids, "results": ["null"] * len(ids), "worker": "explain"}
        plan = [row[0] for row in conn.execute(statement, params)]
        conn.rollback()
    print(f"  studypath's completion of {len(ids)}, {when}:")
    for line in plan:
        print(f"    {line}")


def backlog_mode(args: argparse.Namespace, peers: Sequence[Peer], server_url: str) -> None:
    runs: list[BacklogRun] = []
    for peer, url in each_database(server_url, peers):
        for attempt in range(1, args.repeat + 1):
            for waiting in (args.small, args.large):  # alternating: drift hits both
                explain = (
                    args.explain
                    and isinstance(peer, StudypathPeer)
                    and waiting == args.large
                    and attempt == 1
                )
                run = backlog_run(peer, url, waiting, args, explain=explain)
                runs.append(run)
                print(
                    f"  run {attempt}: {run.system:<10} {waiting:>9,} waiting, seeded in "
                    f"{run.seed_seconds:.1f} s: {rate(run.jobs, run.wall):6.0f} jobs/s",
                    flush=True,
                )
    runs = [
        median_run([r for r in runs if (r.system, r.waiting) == key])
        for key in dict.fromkeys((r.system, r.waiting) for r in runs)
    ]
    print(f"medians of {args.repeat}:")
    print(
        f"{'system':<10} {'waiting':>9} {'jobs':>6} {'work s':>7} {'jobs/s':>7} "
        f"{'worker CPU ms/job':>17} {'PG CPU ms/job':>13}"
    )
    for run in runs:
        print(
            f"{run.system:<10} {run.waiting:>9,} {run.jobs:>6} {run.wall:>7.2f} "
            f"{rate(run.jobs, run.wall):>7.0f} {per_job_ms(run.worker_cpu, run.jobs):>17} "
            f"{per_job_ms(run.server_cpu, run.jobs):>13}"
        )
    for peer in peers:
        small, large = (r for r in runs if r.system == peer.system.name)
        cpu = f"{cpu_total(large) / cpu_total(small):.2f}x"
        print(
            f"{peer.system.name}: {large.waiting:,} vs {small.waiting:,} waiting = "
            f"{rate(large.jobs, large.wall) / rate(small.jobs, small.wall):.2f}x jobs/s, "
            f"{cpu} CPU per job (workers + PostgreSQL)"
        )
    print(f"{load()} at the end")


# --------------------------------------------------------------------------- growth
@dataclass
class GrowthRound:
    system: str
    kept: bool
    round: int  # 0: the sizes after a VACUUM that followed the last round
    done: int  # jobs finished so far
    wall: float
    worker_cpu: float
    server_cpu: float | None
    rows: int
    heap_bytes: int
    index_bytes: int  # indexes only; heap_bytes is the rest (table, TOAST, free space map)
    autovacuums: int  # how often autovacuum has vacuumed the tables so far


def table_sizes(url: str, tables: Sequence[str]) -> tuple[int, int, int]:
    """(rows, table bytes without indexes, index bytes) summed over `tables`."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = sum(count(conn, f"SELECT count(*) FROM {table}") for table in tables)
        row = conn.execute(
            "SELECT sum(pg_table_size(t)), sum(pg_indexes_size(t)) FROM unnest(%s::regclass[]) t",
            (list(tables),),
        ).fetchone()
    assert row is not None
    return rows, int(row[0]), int(row[1])


def autovacuums(url: str, tables: Sequence[str]) -> int:
    """Autovacuum runs on `tables` so far (the statistics lag by up to a second)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(autovacuum_count), 0) FROM pg_stat_user_tables "
            "WHERE relname = ANY(%s)",
            (list(tables),),
        ).fetchone()
    assert row is not None
    return int(row[0])


def growth_run(peer: Peer, url: str, *, kept: bool, args: argparse.Namespace) -> list[GrowthRound]:
    system = peer.system
    rounds: list[GrowthRound] = []
    with psycopg.connect(url, autocommit=True) as conn:
        if args.kept_rows:
            conn.execute(peer.seed_done_sql, {"n": args.kept_rows})
            settle(conn)
    with crew(system, url, workers=args.workers, concurrency=args.concurrency) as team:
        server = server_process(url)
        with psycopg.connect(url, autocommit=True) as conn:
            for number in range(1, args.rounds + 1):
                meter = Meter(team, server)
                asyncio.run(system.enqueue(url, args.jobs))
                team.wait_started(number * args.jobs, args.timeout)
                while count(conn, system.remaining_sql) > 0:  # the last results written
                    time.sleep(POLL_SECONDS)
                wall, worker_cpu, server_cpu = meter.read()
                if not kept:
                    asyncio.run(peer.clear(url))
                rows, heap, index = table_sizes(url, peer.tables)
                done = number * args.jobs
                rounds.append(
                    GrowthRound(
                        system.name,
                        kept,
                        number,
                        done,
                        wall,
                        worker_cpu,
                        server_cpu,
                        rows,
                        heap,
                        index,
                        autovacuums(url, peer.tables),
                    )
                )
                print(
                    f"  {system.name:<10} {'kept' if kept else 'cleared':<7} round {number}: "
                    f"{rate(args.jobs, wall):6.0f} jobs/s, {rows:,} rows, "
                    f"{(heap + index) / 2**20:.1f} MiB",
                    flush=True,
                )
        if args.explain and isinstance(peer, StudypathPeer):
            when = f"after {args.rounds} rounds, the queue empty"
            explain_claim(url, when, args.concurrency // 2)
            explain_complete(url, when, args.concurrency // 2)
        # What autovacuum would give back (it had no time to run here): dead row versions
        # become free space, and empty pages at the table's end are returned to the disk.
        with psycopg.connect(url, autocommit=True) as conn:
            for table in peer.tables:
                conn.execute(f"VACUUM {table}")
        rows, heap, index = table_sizes(url, peer.tables)
        done = args.rounds * args.jobs
        vacuumed = GrowthRound(
            system.name, kept, 0, done, 0.0, 0.0, None, rows, heap, index, rounds[-1].autovacuums
        )
        rounds.append(vacuumed)
    return rounds


def growth_mode(args: argparse.Namespace, peers: Sequence[Peer], server_url: str) -> None:
    rounds: list[GrowthRound] = []
    variants = {"both": (True, False), "kept": (True,), "cleared": (False,)}[args.finished]
    for peer in peers:
        for kept in variants:
            with database(server_url, peer) as url:
                rounds.extend(growth_run(peer, url, kept=kept, args=args))
    print(
        f"{'system':<10} {'done rows':<9} {'jobs done':>9} {'rows':>9} {'table MiB':>9} "
        f"{'index MiB':>9} {'autovac':>7} {'create→done/s':>13} {'worker CPU ms/job':>17} "
        f"{'PG CPU ms/job':>13}"
    )
    for r in rounds:
        speed = (
            f"{rate(args.jobs, r.wall):>13.0f} {per_job_ms(r.worker_cpu, args.jobs):>17} "
            f"{per_job_ms(r.server_cpu, args.jobs):>13}"
            if r.round
            else "  (after VACUUM)"
        )
        print(
            f"{r.system:<10} {'kept' if r.kept else 'cleared':<9} {r.done:>9,} {r.rows:>9,} "
            f"{r.heap_bytes / 2**20:>9.1f} {r.index_bytes / 2**20:>9.1f} {r.autovacuums:>7} "
            f"{speed}"
        )
    for peer in peers:
        for kept in variants:
            mine = [
                r for r in rounds if r.system == peer.system.name and r.kept == kept and r.round
            ]
            first, last = mine[0], mine[-1]
            print(
                f"{peer.system.name} ({'kept' if kept else 'cleared'}): the last round vs the "
                f"first = {first.wall / last.wall:.2f}x jobs/s, "
                f"{cpu_total(last) / cpu_total(first):.2f}x CPU per job"
            )
    print(f"{load()} at the end")


def cpu_total(run: BacklogRun | GrowthRound) -> float:
    """CPU seconds of the workers and (when it runs here) PostgreSQL."""
    return run.worker_cpu + (run.server_cpu or 0.0)


# --------------------------------------------------------------------------- main
@dataclass(frozen=True)
class Mode:
    """A measurement: the function that runs it, and what it is, as a template over the
    command line's options (printed first with the workers and the machine's load, so a
    result read later says what it was measured with)."""

    run: Callable[[argparse.Namespace, Sequence[Peer], str], None]
    setup: str

    def print_setup(self, args: argparse.Namespace) -> None:
        what = self.setup.format_map(vars(args))
        print(f"{what}; {args.workers} worker process(es) × {args.concurrency} slots; {load()}")


MODES = {
    "latency": Mode(
        latency_mode,
        "latency: {rate:g} single jobs/s for {seconds:g} s, each its own transaction",
    ),
    "backlog": Mode(
        backlog_mode, "backlog: {jobs:,} jobs from the top of {small:,} and of {large:,} waiting"
    ),
    "growth": Mode(
        growth_mode,
        "growth: {rounds} rounds of {jobs:,} jobs (batch enqueue → done) after "
        "{kept_rows:,} finished jobs' rows",
    ),
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--systems", default="studypath,pgqueuer", help="which systems to run")
    common.add_argument("--workers", type=int, default=1, help="worker processes")
    common.add_argument("--concurrency", type=int, default=10, help="jobs at once per process")
    common.add_argument("--fsync", choices=("off", "on", "both"), default="off")
    common.add_argument("--timeout", type=float, default=600.0, help="seconds per run at most")
    latency = modes.add_parser("latency", parents=[common], help="enqueue → handler start")
    latency.add_argument("--rate", type=float, default=50.0, help="jobs enqueued per second")
    latency.add_argument("--seconds", type=float, default=20.0, help="how long to enqueue")
    backlog = modes.add_parser("backlog", parents=[common], help="10k vs 1M waiting")
    backlog.add_argument("--small", type=int, default=10_000, help="the small backlog")
    backlog.add_argument("--large", type=int, default=1_000_000, help="the large backlog")
    backlog.add_argument("--jobs", type=int, default=10_000, help="jobs to run from the top")
    backlog.add_argument("--repeat", type=int, default=1, help="runs per cell; medians count")
    backlog.add_argument(
        "--no-explain", dest="explain", action="store_false", help="skip studypath's claim plan"
    )
    growth = modes.add_parser("growth", parents=[common], help="the tables after N jobs")
    growth.add_argument("--rounds", type=int, default=5, help="rounds of --jobs jobs")
    growth.add_argument("--jobs", type=int, default=10_000, help="jobs per round")
    growth.add_argument(
        "--explain", action="store_true", help="studypath's claim and completion plans at the end"
    )
    growth.add_argument(
        "--finished", choices=("both", "kept", "cleared"), default="both", help="which variants"
    )
    growth.add_argument(
        "--kept-rows", type=int, default=0, help="finished jobs' rows already there at the start"
    )
    args = parser.parse_args(argv)
    if args.mode == "backlog" and args.jobs > args.small:
        parser.error("--jobs must not exceed --small: the jobs come from the backlog")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    names = [name.strip() for name in args.systems.split(",") if name.strip()]
    if unknown := set(names) - set(PEERS):
        sys.exit(f"unknown system(s): {', '.join(sorted(unknown))}; pick from {', '.join(PEERS)}")
    if args.fsync != "off" and os.environ.get("STUDYPATH_DATABASE_URL"):
        sys.exit("--fsync chooses the embedded server's setting; unset STUDYPATH_DATABASE_URL")
    peers = [PEERS[name]() for name in names]
    configure_logging()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    for number, durable in enumerate(fsync_modes(args.fsync)):
        if number:
            print()
        with postgres(durable) as (server_url, where):
            print(f"{versions(server_url)} ({where})")
            mode = MODES[args.mode]
            mode.print_setup(args)
            mode.run(args, peers, server_url)


if __name__ == "__main__":
    main()
