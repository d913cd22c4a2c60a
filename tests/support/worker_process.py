"""A worker in its own process, for tests that kill one:
`python -m tests.support.worker_process URL`.

It serves the test registry (tests/support/tasking.py) and prints `ready <worker id>` once its
types are registered, so the test knows when to start counting.
"""

from __future__ import annotations

import asyncio
import sys

from studypath.config import Settings
from studypath.core.security import HashingParameters, configure_hashing
from studypath.system import System
from tests.support.tasking import make_registry


def main(database_url: str, data_dir: str) -> None:
    configure_hashing(HashingParameters(time_cost=1, memory_kib=1024, parallelism=1))
    settings = Settings(
        database_url=database_url,
        data_dir=data_dir,
        worker_concurrency=4,
        worker_heartbeat_seconds=0.2,
        worker_poll_seconds=0.1,
        task_lease_seconds=1.0,
        password_hash_time_cost=1,
        password_hash_memory_kib=1024,
        password_hash_parallelism=1,
    )
    system = System(settings, serve_api=False, workers=1, registry=make_registry())

    def ready() -> None:
        sys.stdout.write(f"ready {system.workers[0].id}\n")
        sys.stdout.flush()

    asyncio.run(system.run(on_ready=ready))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
