"""`studypath up` in a process of its own, for the benchmarks (bench/auth.py, bench/fuzz.py).

Its own GIL and its own embedded PostgreSQL, on a free port, with production settings: none
of the caller's STUDYPATH_* variables (cheap test hashing, say) reach it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from studypath.core.clock import poll_until

STARTUP_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def studypath_up(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`studypath up --workers 0` on `data_dir` (its output in `data_dir`/server.log, plus
    the `env` given); yields its base URL once it is ready; Ctrl-C at the end."""
    port = free_port()
    clean = {key: value for key, value in os.environ.items() if not key.startswith("STUDYPATH_")}
    log_path = data_dir / "server.log"
    command = [sys.executable, "-m", "studypath", "up", "--workers", "0"]
    command += ["--port", str(port), "--data-dir", str(data_dir / "data")]
    with log_path.open("w") as log:
        server = subprocess.Popen(
            command, env=clean | (env or {}), stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            poll_until(
                lambda: is_ready(url, server, log_path),
                within=STARTUP_TIMEOUT,
                every=0.2,
                what="`studypath up` to be ready",
                detail=log_path.read_text,
            )
            yield url
        finally:
            stop(server)


def stop(server: subprocess.Popen[bytes], within: float = 30.0) -> None:
    """Stop `studypath up` the way Ctrl-C does, so it stops its database too; kill it only
    if it has not exited `within` seconds."""
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=within)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def is_ready(url: str, server: subprocess.Popen[bytes], log: Path) -> bool:
    """True once /health/ready answers 200; a server that exited is an error at once."""
    if server.poll() is not None:
        raise RuntimeError(f"studypath up exited with {server.returncode}:\n{log.read_text()}")
    try:
        return httpx.get(f"{url}/api/v1/health/ready", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
