"""How long the test harness takes to give a test its own database.

Each test gets `CREATE DATABASE … TEMPLATE <migrated template>` (studypath/testing/database.py).
This times that clone — the harness's own code — and, as a peer, the same clone with
`STRATEGY FILE_COPY`; it prints median and p90 for both. The target here is a median under
150 ms. A benchmark, not a test of speed: it asserts only that every clone was usable.

    pytest bench/test_db_clone.py -s
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg

# bench/ is not a package: make the repository root importable to reuse the harness itself.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from studypath.testing.database import TestPostgres, external_server_url

ITERATIONS = 30
TARGET_MEDIAN_MS = 150.0


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def time_clones(server: TestPostgres, clone: Callable[[], str]) -> list[float]:
    """Milliseconds per clone; each clone is checked (migrated) and dropped, untimed."""
    samples = []
    for _ in range(ITERATIONS):
        started = time.perf_counter()
        url = clone()
        samples.append((time.perf_counter() - started) * 1000)
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
        server.drop(url)
    return samples


def file_copy_clone(server: TestPostgres) -> str:
    name = f"bench_{uuid.uuid4().hex[:12]}"
    server.execute(f'CREATE DATABASE "{name}" TEMPLATE "{server.template}" STRATEGY FILE_COPY')
    return server.url_for(name)


def line(label: str, samples: list[float]) -> str:
    return (
        f"  {label:<28} median {statistics.median(samples):7.1f} ms"
        f"   p90 {percentile(samples, 0.9):7.1f} ms"
        f"   min {min(samples):6.1f}   max {max(samples):6.1f}"
    )


def test_clone_a_migrated_template(tmp_path: Path) -> None:
    server = TestPostgres(tmp_path / "postgres", external_server_url())
    try:
        started = time.perf_counter()
        server.create_template()
        template_ms = (time.perf_counter() - started) * 1000
        harness = time_clones(server, server.clone)
        file_copy = time_clones(server, lambda: file_copy_clone(server))
    finally:
        server.close()

    median = statistics.median(harness)
    ratio = median / statistics.median(file_copy)
    print(
        f"\ndatabase per test: {ITERATIONS} clones of a migrated template "
        f"(built once in {template_ms:.0f} ms)\n"
        f"{line('harness (studypath/testing/database.py)', harness)}\n"
        f"{line('peer: STRATEGY FILE_COPY', file_copy)}\n"
        f"  harness / peer median: {ratio:.2f}x; "
        f"{'within' if median < TARGET_MEDIAN_MS else 'OVER'} the "
        f"{TARGET_MEDIAN_MS:.0f} ms target"
    )
    assert len(harness) == len(file_copy) == ITERATIONS
