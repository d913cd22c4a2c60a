"""Queue throughput: studypath's task queue side by side with pgqueuer and procrastinate.

Each system gets the same work on the same PostgreSQL server (each in its own database):

1. enqueue N no-op jobs in one batch, with the system's own batch API;
2. start W worker processes (W = 1, then 4), each running up to C jobs at once (C = 10);
3. time from the moment the workers may start until the database says all N are done.

Worker processes are spawned and have imported everything *before* the clock starts, so
the figure is the queue's own speed: claim, run a handler that does nothing, record the
outcome. (pgqueuer and procrastinate connect before the start too; studypath's `System`
connects as it starts, as `studypath worker` does: a few milliseconds.) The table shows:

    jobs/s          N / the time the workers took (the median run)
    create→done     N / (enqueue time + work time): the whole trip of a batch of jobs
    worker CPU      CPU milliseconds per job spent in the worker processes
    PG CPU          ... and in PostgreSQL's processes (when the server runs on this host)

CPU per job is what a 2-core machine runs out of; it also moves less than wall time when
other programs share the machine.

    pip install pgqueuer procrastinate asyncpg     # benchmark-only, not studypath's deps
    python bench/queue.py                          # 10,000 jobs, median of 3 runs
    python bench/queue.py --jobs 2000 --repeat 1   # a quick look

The server is an embedded, non-durable PostgreSQL (fsync off) unless STUDYPATH_DATABASE_URL
names one; `--fsync on` (or `--durable`) makes the embedded one fsync every commit, like
production, and `--fsync both` runs the whole benchmark on each, one table per server:

    python bench/queue.py --fsync both             # the figures docs/performance.md records

What a queue's users ask next — latency under a steady rate, a backlog of a million, the
table's growth — is bench/queue_next.py, which drives these same systems.
"""
# ruff: noqa: E402  (imports come after the sys.path fix below, on purpose)

from __future__ import annotations

import sys
from pathlib import Path

# This file is called queue.py, like the standard library's `queue`, which asyncio and
# multiprocessing import. Python puts the script's folder first on sys.path, where our
# file would hide the real one: take that folder off before anything imports `queue`.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]

import argparse
import asyncio
import contextlib
import importlib.metadata
import importlib.util
import logging
import multiprocessing
import os
import signal
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier, Event
from typing import Any, Protocol

import psutil
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from studypath.config import Settings
from studypath.core.db import Database, libpq_url
from studypath.core.embedded import EmbeddedPostgres
from studypath.system import System
from studypath.tasks import registration as studypath_registration
from studypath.tasks import service
from studypath.tasks.registry import TaskContext, TaskRegistry

INSTALL_HINT = "pip install pgqueuer procrastinate asyncpg"
try:
    import procrastinate
    from pgqueuer import AsyncpgDriver, Job, PgQueuer, PsycopgDriver, Queries
    from pgqueuer.ports.driver import Driver
except ImportError as missing:
    sys.exit(
        f"bench/queue.py compares against pgqueuer and procrastinate: {INSTALL_HINT}\n({missing})"
    )

RunWorker = Callable[[], Coroutine[Any, Any, None]]  # runs one worker until cancelled
STARTUP_TIMEOUT = 120.0  # seconds for the worker processes to import and connect
POLL_SECONDS = 0.02  # how often the parent counts the jobs still to do


# --------------------------------------------------------------------------- the systems
class QueueSystem(Protocol):
    """What the harness needs from each system; the three classes below fill it in."""

    name: str
    reset_sql: str  # empty the queue between runs
    remaining_sql: str  # how many jobs are not done yet
    succeeded_sql: str  # how many jobs ended in success (checked after each run)

    def install(self, url: str) -> None: ...

    async def enqueue(self, url: str, jobs: int) -> None: ...

    async def work(self, url: str, concurrency: int) -> RunWorker:
        """Get one worker ready (handler registered, ideally connected); return what runs it.
        Called inside a worker process."""
        ...


# studypath ------------------------------------------------------------------------------
async def noop_task(payload: Any, ctx: TaskContext) -> None:
    """The studypath handler: nothing to do."""


StudypathHandler = Callable[[Any, TaskContext], Awaitable[None]]


def studypath_registry(handler: StudypathHandler = noop_task) -> TaskRegistry:
    registry = TaskRegistry()
    registry.register("noop", "does nothing (benchmark)")(handler)
    return registry


@dataclass
class Studypath:
    """`studypath worker` in each process: a `System` without the API, one `Worker`."""

    enqueue_with: str = "bulk"  # "bulk": service.enqueue_many; "service": create_task each
    handler: StudypathHandler = noop_task  # bench/queue_next.py's records when it starts
    name: str = "studypath"
    reset_sql: str = "TRUNCATE tasks"
    remaining_sql: str = "SELECT count(*) FROM tasks WHERE status <> 'completed'"
    succeeded_sql: str = "SELECT count(*) FROM tasks WHERE status = 'completed'"

    def install(self, url: str) -> None:
        from studypath import migrations  # here, not at the top: workers need not load alembic

        migrations.upgrade(url)

        async def register_type() -> None:  # what a worker does when it starts
            db = Database(url)
            async with db.engine.begin() as conn:
                await studypath_registration.register_types(conn, studypath_registry().specs())
            await db.dispose()

        asyncio.run(register_type())

    async def enqueue(self, url: str, jobs: int) -> None:
        db = Database(url)
        async with db.sessionmaker.begin() as session:  # the services leave the commit to us
            if self.enqueue_with == "service":  # what the API does, once per request
                for _ in range(jobs):
                    await service.create_task(
                        session, task_type="noop", payload={}, created_by=None
                    )
            else:  # the batch API: every payload checked, one INSERT, one NOTIFY
                await service.enqueue_many(
                    session, task_type="noop", payloads=[{}] * jobs, created_by=None
                )
        await db.dispose()

    async def work(self, url: str, concurrency: int) -> RunWorker:
        settings = Settings(database_url=url, worker_concurrency=concurrency)
        registry = studypath_registry(self.handler)
        system = System(settings, serve_api=False, workers=1, registry=registry)
        return system.run


# pgqueuer -------------------------------------------------------------------------------
async def noop_job(job: Job) -> None:
    """The pgqueuer entrypoint: nothing to do."""


@dataclass
class Pgqueuer:
    """pgqueuer's `PgQueuer` app with one entrypoint; C jobs in flight, dequeued C/2 at a
    time (pgqueuer requires max_concurrent_tasks >= 2 x batch_size)."""

    driver: str = "asyncpg"  # pgqueuer's own benchmark uses asyncpg; "psycopg" works too
    entrypoint: Callable[[Job], Awaitable[None]] = noop_job  # bench/queue_next.py's records
    name: str = "pgqueuer"
    reset_sql: str = "TRUNCATE pgqueuer, pgqueuer_log, pgqueuer_statistics"
    remaining_sql: str = "SELECT count(*) FROM pgqueuer"  # finished jobs leave the table
    succeeded_sql: str = "SELECT count(*) FROM pgqueuer_log WHERE status = 'successful'"

    async def connect(self, url: str) -> tuple[Driver, Callable[[], Awaitable[None]]]:
        if self.driver == "asyncpg":
            import asyncpg

            connection = await asyncpg.connect(url)
            return AsyncpgDriver(connection), connection.close
        aconnection = await psycopg.AsyncConnection.connect(url, autocommit=True)
        return PsycopgDriver(aconnection), aconnection.close

    def install(self, url: str) -> None:
        async def install() -> None:
            driver, close = await self.connect(url)
            await Queries(driver).install()
            await close()

        asyncio.run(install())

    async def enqueue(self, url: str, jobs: int) -> None:
        driver, close = await self.connect(url)
        await Queries(driver).enqueue(["noop"] * jobs, [None] * jobs, [0] * jobs)
        await close()

    async def work(self, url: str, concurrency: int) -> RunWorker:
        driver, close = await self.connect(url)
        pgq = PgQueuer(driver)
        pgq.entrypoint("noop")(self.entrypoint)

        async def run() -> None:
            task = asyncio.create_task(
                pgq.run(batch_size=max(1, concurrency // 2), max_concurrent_tasks=concurrency)
            )
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:  # our stop signal: shut down the pgqueuer way
                pgq.shutdown.set()
                await task
            finally:
                await close()

        return run


# procrastinate --------------------------------------------------------------------------
async def noop_procrastinate() -> None:
    """The procrastinate task: nothing to do."""


def procrastinate_app(url: str, concurrency: int) -> procrastinate.App:
    # A pool big enough for every job slot, the fetch loop and the LISTEN connection.
    connector = procrastinate.PsycopgConnector(conninfo=url, min_size=2, max_size=concurrency + 2)
    app = procrastinate.App(connector=connector)
    app.task(name="noop")(noop_procrastinate)
    return app


@dataclass
class Procrastinate:
    """procrastinate's `App` with `PsycopgConnector`; `run_worker_async(concurrency=C)`."""

    name: str = "procrastinate"
    reset_sql: str = "TRUNCATE procrastinate_jobs, procrastinate_workers CASCADE"
    remaining_sql: str = "SELECT count(*) FROM procrastinate_jobs WHERE status <> 'succeeded'"
    succeeded_sql: str = "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'"

    def install(self, url: str) -> None:
        async def install() -> None:
            async with procrastinate_app(url, 1).open_async() as app:
                await app.schema_manager.apply_schema_async()

        asyncio.run(install())

    async def enqueue(self, url: str, jobs: int) -> None:
        async with procrastinate_app(url, 1).open_async() as app:
            await app.tasks["noop"].batch_defer_async(*({} for _ in range(jobs)))

    async def work(self, url: str, concurrency: int) -> RunWorker:
        app = procrastinate_app(url, concurrency)
        await app.open_async()

        async def run() -> None:
            try:
                await app.run_worker_async(
                    concurrency=concurrency, wait=True, install_signal_handlers=False
                )
            finally:  # cancelling run_worker_async is procrastinate's graceful stop
                await app.close_async()

        return run


# --------------------------------------------------------------------------- worker processes
def configure_logging() -> None:
    logging.basicConfig(level=logging.WARNING)
    # procrastinate warns that its App lives in the __main__ module: here that is on purpose.
    logging.getLogger("procrastinate.blueprints").setLevel(logging.ERROR)


def worker_process(
    system: QueueSystem, url: str, concurrency: int, start: Barrier, stop: Event
) -> None:
    """One worker process: get ready, wait for the start line, work until told to stop."""
    configure_logging()

    async def main() -> None:
        run = await system.work(url, concurrency)
        await asyncio.to_thread(start.wait, STARTUP_TIMEOUT)
        working = asyncio.create_task(run())
        await asyncio.to_thread(stop.wait)
        working.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await working

    asyncio.run(main())


@dataclass
class Run:
    system: str
    workers: int
    jobs: int
    enqueue_seconds: float
    work_seconds: float
    worker_cpu_seconds: float  # CPU time the worker processes used while working
    postgres_cpu_seconds: float | None  # and the server's processes (None: not on this host)


def run_once(
    system: QueueSystem, url: str, *, jobs: int, workers: int, concurrency: int, timeout: float
) -> Run:
    """Empty the queue, enqueue `jobs`, let `workers` processes work them all off."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(system.reset_sql)
        began = time.perf_counter()
        asyncio.run(system.enqueue(url, jobs))
        enqueue_seconds = time.perf_counter() - began
        conn.execute("ANALYZE")  # same planner statistics for everyone, every run

        spawn = multiprocessing.get_context("spawn")  # fresh interpreters, as deployed
        start, stop = spawn.Barrier(workers + 1), spawn.Event()
        processes = [
            spawn.Process(
                target=worker_process,
                args=(system, url, concurrency, start, stop),
                name=f"{system.name} worker {i}",
            )
            for i in range(workers)
        ]
        for process in processes:
            process.start()
        watched = [psutil.Process(process.pid) for process in processes]
        server = postmaster(conn)
        try:
            start.wait(STARTUP_TIMEOUT)  # every worker is ready: the clock starts now
            began = time.perf_counter()
            workers_before = cpu_by_pid(watched)
            server_before = cpu_by_pid(server.children()) if server else {}
            while count(conn, system.remaining_sql) > 0:
                if time.perf_counter() - began > timeout:
                    raise TimeoutError(f"{system.name}: not done after {timeout:g} s")
                if any(not process.is_alive() for process in processes):
                    raise RuntimeError(f"{system.name}: a worker process died")
                time.sleep(POLL_SECONDS)
            work_seconds = time.perf_counter() - began
            worker_cpu = cpu_used(workers_before, watched)
            server_cpu = cpu_used(server_before, server.children()) if server else None
        finally:
            stop.set()
            for process in processes:
                process.join(30)
                if process.is_alive():
                    process.kill()
        succeeded = count(conn, system.succeeded_sql)
        if succeeded != jobs:
            raise RuntimeError(f"{system.name}: {succeeded} of {jobs} jobs succeeded")
    return Run(system.name, workers, jobs, enqueue_seconds, work_seconds, worker_cpu, server_cpu)


def count(conn: psycopg.Connection[Any], query: str) -> int:
    return int(scalar(conn, query))


def scalar(conn: psycopg.Connection[Any], query: str) -> Any:
    row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


# CPU time is steadier than wall time on a shared machine: other programs slow a run down,
# but they do not change how much work each job costs.
def cpu_by_pid(processes: Iterable[psutil.Process]) -> dict[int, float]:
    """CPU seconds (user + system, all threads) used so far by each process."""
    used = {}
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            used[process.pid] = times.user + times.system
    return used


def cpu_used(before: dict[int, float], processes: Iterable[psutil.Process]) -> float:
    """CPU seconds used since `before`; processes that started since then count in full."""
    now = cpu_by_pid(processes)
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in now.items())


def postmaster(conn: psycopg.Connection[Any]) -> psutil.Process | None:
    """The server's main process, whose children are the backends, if it runs here."""
    try:
        backend = psutil.Process(conn.info.backend_pid)
        if backend.name() == "postgres":
            return backend.parent()
    except psutil.Error:
        pass
    return None  # a server on another machine


# --------------------------------------------------------------------------- the server
@contextlib.contextmanager
def postgres(durable: bool) -> Iterator[tuple[str, str]]:
    """STUDYPATH_DATABASE_URL's server, or a throwaway embedded one."""
    external = os.environ.get("STUDYPATH_DATABASE_URL")
    if external:
        yield libpq_url(external), "STUDYPATH_DATABASE_URL"
        return
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as folder:
        server = EmbeddedPostgres(Path(folder) / "pgdata", durable=durable, ephemeral=True)
        try:
            yield server.start(), "embedded, " + ("fsync on" if durable else "fsync off")
        finally:
            server.stop()


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} (FORCE)").format(sql.Identifier(name)))


def create_database(server_url: str, name: str) -> str:
    """A fresh database for one system; returns its URL."""
    drop_database(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


# --------------------------------------------------------------------------- the report
def rate(jobs: int, seconds: float) -> float:
    return jobs / seconds if seconds > 0 else float("inf")


def report(runs: list[Run], systems: Sequence[str], worker_counts: Sequence[int]) -> None:
    """The medians per system and worker count, then studypath's speed relative to each peer."""
    header = (
        f"{'system':<14} {'workers':>7} {'jobs':>6} {'enqueue s':>9} {'work s':>7} "
        f"{'jobs/s':>7} {'create→done/s':>13} {'worker CPU':>10} {'PG CPU':>7}"
    )
    print(header)
    print(f"{'':<56} {'jobs/s':>13} {'ms/job':>10} {'ms/job':>7}")
    print("-" * len(header))
    speed: dict[tuple[str, int], tuple[float, float]] = {}
    for workers in worker_counts:
        for name in systems:
            mine = [run for run in runs if run.system == name and run.workers == workers]
            if not mine:
                continue
            jobs = mine[0].jobs
            enqueue = statistics.median(run.enqueue_seconds for run in mine)
            work = statistics.median(run.work_seconds for run in mine)
            total = statistics.median(run.enqueue_seconds + run.work_seconds for run in mine)
            worker_cpu = statistics.median(run.worker_cpu_seconds for run in mine)
            server_cpus = [r.postgres_cpu_seconds for r in mine if r.postgres_cpu_seconds]
            server_cpu = (
                f"{statistics.median(server_cpus) / jobs * 1000:>7.2f}"
                if len(server_cpus) == len(mine)
                else f"{'?':>7}"
            )
            speed[name, workers] = (rate(jobs, work), rate(jobs, total))
            print(
                f"{name:<14} {workers:>7} {jobs:>6} {enqueue:>9.2f} {work:>7.2f} "
                f"{rate(jobs, work):>7.0f} {rate(jobs, total):>13.0f} "
                f"{worker_cpu / jobs * 1000:>10.2f} {server_cpu}"
            )
    print()
    for workers in worker_counts:
        if ("studypath", workers) not in speed:
            continue
        ours = speed["studypath", workers]
        for peer in systems:
            if peer == "studypath" or (peer, workers) not in speed:
                continue
            theirs = speed[peer, workers]
            print(
                f"{workers} worker(s): studypath/{peer} = {ours[0] / theirs[0]:.2f}x jobs/s, "
                f"{ours[1] / theirs[1]:.2f}x create→done"
            )


def versions(server_url: str) -> str:
    with psycopg.connect(server_url) as conn:
        server = scalar(conn, "SHOW server_version")
    packages = ", ".join(
        f"{name} {version(name)}"
        for name in ("studypath", "pgqueuer", "procrastinate", "psycopg", "asyncpg")
    )
    return f"PostgreSQL {server}; {packages}"


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


# --------------------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000, help="no-op jobs per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell; the median counts")
    parser.add_argument("--workers", default="1,4", help="worker process counts, e.g. 1,4")
    parser.add_argument("--concurrency", type=int, default=10, help="jobs at once per process")
    parser.add_argument(
        "--systems", default="studypath,pgqueuer,procrastinate", help="which systems to run"
    )
    parser.add_argument(
        "--studypath-enqueue",
        choices=("bulk", "service"),
        default="bulk",
        help="bulk: service.enqueue_many (one INSERT); service: create_task each (like the API)",
    )
    parser.add_argument(
        "--pgqueuer-driver",
        choices=("asyncpg", "psycopg"),
        default="asyncpg" if importlib.util.find_spec("asyncpg") else "psycopg",
    )
    parser.add_argument(
        "--fsync",
        choices=("off", "on", "both"),
        default="off",
        help="the embedded server: fsync off (fast, not crash-safe), on (like production), or "
        "both, one after the other",
    )
    parser.add_argument(
        "--durable", dest="fsync", action="store_const", const="on", help="same as --fsync on"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run at most")
    return parser.parse_args(argv)


def fsync_modes(choice: str) -> list[bool]:
    """`--fsync` as the `durable` flag of each server to run on, in order."""
    return {"off": [False], "on": [True], "both": [False, True]}[choice]


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    known: dict[str, QueueSystem] = {
        "studypath": Studypath(enqueue_with=args.studypath_enqueue),
        "pgqueuer": Pgqueuer(driver=args.pgqueuer_driver),
        "procrastinate": Procrastinate(),
    }
    names = [name.strip() for name in args.systems.split(",") if name.strip()]
    if unknown := set(names) - set(known):
        sys.exit(f"unknown system(s): {', '.join(sorted(unknown))}; pick from {', '.join(known)}")
    if args.fsync != "off" and os.environ.get("STUDYPATH_DATABASE_URL"):
        sys.exit("--fsync chooses the embedded server's setting; unset STUDYPATH_DATABASE_URL")
    configure_logging()
    # `kill` should clean up like Ctrl-C does: stop the workers and the embedded server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    for number, durable in enumerate(fsync_modes(args.fsync)):
        if number:
            print()
        benchmark(args, [known[name] for name in names], durable=durable)


def benchmark(args: argparse.Namespace, systems: Sequence[QueueSystem], *, durable: bool) -> None:
    """Every system, every worker count, `args.repeat` times, on one server; then the table."""
    names = [system.name for system in systems]
    worker_counts = [int(part) for part in args.workers.split(",")]
    with postgres(durable) as (server_url, where):
        print(f"{versions(server_url)} ({where})")
        print(
            f"{args.jobs} no-op jobs per run, median of {args.repeat}; "
            f"{args.concurrency} concurrent jobs per worker process; "
            f"{os.cpu_count()} CPU cores; studypath enqueues with {args.studypath_enqueue}, "
            f"pgqueuer uses {args.pgqueuer_driver}; load average at the start: "
            f"{os.getloadavg()[0]:.1f}"
        )
        urls: dict[str, str] = {}
        try:
            for system in systems:
                urls[system.name] = create_database(server_url, f"bench_queue_{system.name}")
                system.install(urls[system.name])
            runs: list[Run] = []
            for attempt in range(1, args.repeat + 1):
                for workers in worker_counts:  # interleaved, so drift hits everyone alike
                    for system in systems:
                        run = run_once(
                            system,
                            urls[system.name],
                            jobs=args.jobs,
                            workers=workers,
                            concurrency=args.concurrency,
                            timeout=args.timeout,
                        )
                        runs.append(run)
                        print(
                            f"  run {attempt}: {system.name:<14} {workers} worker(s): "
                            f"enqueue {run.enqueue_seconds:6.2f} s, "
                            f"work {run.work_seconds:6.2f} s, "
                            f"{rate(run.jobs, run.work_seconds):6.0f} jobs/s",
                            flush=True,
                        )
            print()
            report(runs, names, worker_counts)
            print(
                f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
                "(other programs slow wall times down; CPU ms/job is steadier)"
            )
        finally:
            for name in urls:
                drop_database(server_url, f"bench_queue_{name}")


if __name__ == "__main__":
    main()
