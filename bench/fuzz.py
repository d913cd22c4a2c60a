"""The long schemathesis run: 10,000+ generated requests against a real `studypath up`.

Starts `studypath up --workers 0` as a separate process (its own embedded PostgreSQL, on a
temporary data directory and a free port, production settings), makes three identities —
anonymous, a user, the first admin — and a victim user for the admin's `/users/{user_id}`
operations, then runs `schemathesis run` once per identity with every check and a fixed
seed (the same runner as tests/http/test_fuzz.py, with many more examples). Prints the cases and
the failures by check; exits 1 if anything failed. Not part of pytest:

    python bench/fuzz.py                       # ~12,000 cases; 10-20 minutes on 2 cores
    python bench/fuzz.py --max-examples 60     # longer
    python bench/fuzz.py --keep-reports out/   # keep schemathesis' NDJSON event streams
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/fuzz.py` puts bench/ first on the module path (where bench/queue.py would
# shadow the standard `queue`); move it last, and make the repository importable (bench.*,
# tests.*).
sys.path.sort(key=lambda entry: Path(entry or ".").resolve() == Path(__file__).resolve().parent)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import shutil
import tempfile
import time

import httpx

from bench.studypath_process import studypath_up
from tests.support.fuzzing import Identity, RunResult, run_schemathesis, summary

ADMIN_PASSWORD = "Fuzz-Admin-Password-2024"
USER_PASSWORD = "Fuzz-User-Password-2024"


def login(client: httpx.Client, username: str, password: str) -> str:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    response.raise_for_status()
    return str(response.json()["data"]["session_token"])


def register(client: httpx.Client, username: str) -> str:
    response = client.post(
        "/api/v1/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": USER_PASSWORD},
    )
    response.raise_for_status()
    return str(response.json()["data"]["id"])


def identities(url: str) -> list[Identity]:
    with httpx.Client(base_url=url, timeout=30) as client:
        register(client, "fuzz_user")
        victim_id = register(client, "fuzz_victim")
        return [
            Identity("anonymous"),
            Identity("user", login(client, "fuzz_user", USER_PASSWORD)),
            Identity("admin", login(client, "admin", ADMIN_PASSWORD), victim_id),
        ]


async def fuzz(url: str, workdir: Path, max_examples: int, workers: int) -> list[RunResult]:
    results = []
    for identity in identities(url):
        started = time.monotonic()
        result = await run_schemathesis(
            url, identity, workdir, max_examples=max_examples, workers=workers
        )
        print(
            f"{identity.name}: {result.cases} cases in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        results.append(result)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-examples", type=int, default=30, help="per operation and phase")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="schemathesis workers (more than 1 hit a thread-safety error inside schemathesis "
        "on CPython 3.11)",
    )
    parser.add_argument("--keep-reports", type=Path, help="copy the NDJSON reports here")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="studypath-fuzz-"))
    try:
        with studypath_up(data_dir, {"STUDYPATH_INITIAL_ADMIN_PASSWORD": ADMIN_PASSWORD}) as url:
            results = asyncio.run(fuzz(url, data_dir, args.max_examples, args.workers))
        if args.keep_reports is not None:
            args.keep_reports.mkdir(parents=True, exist_ok=True)
            for report in data_dir.glob("events-*.ndjson"):
                shutil.copy(report, args.keep_reports / report.name)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)

    total_cases = sum(result.cases for result in results)
    total_failures = sum(sum(result.failures.values()) for result in results)
    print()
    print(summary(results))
    print(f"\ntotal: {total_cases} cases, {total_failures} failing checks")
    return 0 if all(result.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
