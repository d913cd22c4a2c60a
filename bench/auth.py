"""How fast is authentication? Requests per second of a signed-in request and of a login.

Starts `studypath up` as a separate process (its own GIL, its own embedded PostgreSQL, on a
temporary data directory and a free port, with the production settings: argon2id defaults),
then drives it from this process with `httpx.AsyncClient` and N concurrent tasks:

- `GET /api/v1/auth/me` with a session token: one indexed lookup of the token's SHA-256;
- `POST /api/v1/auth/login`: one argon2id verification, then a session insert.

Each scenario runs several times for a few seconds; the table shows the median requests per
second over the runs and the p50/p95 latency over all requests. The argon2id hash time is
measured alone first: it explains the login figure. A benchmark, not a test:

    python bench/auth.py                    # about a minute on a 2-core machine
    python bench/auth.py --runs 3 --seconds 2
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/auth.py` puts bench/ first on the module search path, where a sibling script
# can shadow a standard module (a `bench/queue.py` hides `queue`, which anyio imports). Move
# bench/ to the end of the path before anything else is imported, and import the sibling
# scripts as `bench.*` from the repository root.
sys.path.sort(key=lambda entry: Path(entry or ".").resolve() == Path(__file__).resolve().parent)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from bench.studypath_process import studypath_up
from studypath.core.security import hash_password, hashing_parameters, verify_password

USERNAME, PASSWORD = "bench_user", "Bench-Password-2024"


# --------------------------------------------------------------------------- the load
@dataclass
class Run:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


async def run_load(
    client: httpx.AsyncClient,
    request: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    concurrency: int,
    seconds: float,
) -> Run:
    """`concurrency` tasks send `request` back to back for `seconds`."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def one_client() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await request(client)
            latencies.append(time.perf_counter() - started)
            errors += response.status_code != 200

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(concurrency)))
    return Run(len(latencies), errors, time.perf_counter() - started, latencies)


@dataclass
class Result:
    name: str
    concurrency: int
    runs: list[Run]

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(latency for run in self.runs for latency in run.latencies)
        return 1000 * ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(
    url: str, runs: int, seconds: float, me_clients: int, login_clients: int
) -> list[Result]:
    limits = httpx.Limits(max_connections=max(me_clients, login_clients))
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        await client.post(
            "/api/v1/auth/register",
            json={"username": USERNAME, "email": "bench@example.com", "password": PASSWORD},
        )
        login_body = {"username": USERNAME, "password": PASSWORD}
        login = await client.post("/api/v1/auth/login", json=login_body)
        login.raise_for_status()
        bearer = {"Authorization": f"Bearer {login.json()['data']['session_token']}"}

        def me(c: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return c.get("/api/v1/auth/me", headers=bearer)

        def log_in(c: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return c.post("/api/v1/auth/login", json=login_body)

        results = []
        for name, request, concurrency in [
            ("GET  /api/v1/auth/me", me, me_clients),
            ("POST /api/v1/auth/login", log_in, login_clients),
        ]:
            await run_load(client, request, concurrency, min(1.0, seconds))  # warm up
            measured = [await run_load(client, request, concurrency, seconds) for _ in range(runs)]
            results.append(Result(name, concurrency, measured))
        return results


# --------------------------------------------------------------------------- argon2 alone
def median_seconds(work: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of `work` (CPU counts every thread: argon2 computes
    its `p` lanes in parallel threads)."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        work()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per scenario (default 5)")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one run")
    parser.add_argument("--me-clients", type=int, default=16, help="concurrent /auth/me tasks")
    parser.add_argument("--login-clients", type=int, default=4, help="concurrent login tasks")
    args = parser.parse_args()

    cpus = os.cpu_count() or 1
    load_before = os.getloadavg()[0]
    params = hashing_parameters()
    # Alone, before the server starts: nothing else competes for the CPU.
    stored = hash_password(PASSWORD)
    hash_s, _ = median_seconds(lambda: hash_password(PASSWORD), 7)
    verify_s, verify_cpu_s = median_seconds(lambda: verify_password(stored, PASSWORD), 7)
    # An unknown user's login verifies against a dummy hash: it should cost the same.
    unknown_s, _ = median_seconds(lambda: verify_password(None, PASSWORD), 7)

    data_dir = Path(tempfile.mkdtemp(prefix="studypath-bench-"))
    started = time.perf_counter()
    try:
        with studypath_up(data_dir) as url:
            startup_s = time.perf_counter() - started
            results = asyncio.run(
                measure(url, args.runs, args.seconds, args.me_clients, args.login_clients)
            )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)

    print(
        f"studypath auth benchmark · {cpus} CPU(s) · Python {sys.version.split()[0]} · "
        f"load average {load_before:.1f} before the run (other processes share the CPUs)"
    )
    print(
        f"server: `studypath up` in its own process (ready in {startup_s:.1f} s); "
        "client: httpx.AsyncClient in this process"
    )
    print(
        f"argon2id t={params['time_cost']}, m={params['memory_kib']} KiB, "
        f"p={params['parallelism']}: hash {hash_s * 1000:.0f} ms, "
        f"verify {verify_s * 1000:.0f} ms ({verify_cpu_s * 1000:.0f} ms of CPU), "
        f"unknown user's verify {unknown_s * 1000:.0f} ms (median of 7, alone)"
    )
    print()
    header = (
        f"{'request':<25} {'clients':>7} {'req/s':>9} {'(min–max)':>17} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'errors':>7}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        rates = [run.per_second for run in result.runs]
        spread = f"({min(rates):.1f}–{max(rates):.1f})"
        errors = sum(run.errors for run in result.runs)
        print(
            f"{result.name:<25} {result.concurrency:>7} {statistics.median(rates):>9.1f} "
            f"{spread:>17} {result.percentile_ms(0.5):>8.1f} {result.percentile_ms(0.95):>8.1f} "
            f"{errors:>7}"
        )
    print()
    print(
        f"req/s: median of {args.runs} runs of {args.seconds:g} s; latency percentiles over "
        "all requests of the runs."
    )
    print(
        f"A login is bounded by its argon2id verify: {cpus} CPU(s) / {verify_cpu_s * 1000:.0f} ms "
        f"of CPU ≈ {cpus / verify_cpu_s:.1f} logins/s if verifying were all the machine did;"
    )
    print("/auth/me hashes its token with SHA-256 (microseconds) and does one indexed lookup.")


if __name__ == "__main__":
    main()
