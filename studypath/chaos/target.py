"""A flaky HTTP service on this machine, for the tasks that call out (webhooks): it answers
500 for a share of the requests (`error_rate`) and takes its time (`delay_ms`), switchable
while a run goes on — so the circuit breaker meets a real failing dependency.

It counts what it received by `Idempotency-Key`, so a run can tell a retry that arrived
twice from one that arrived once.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class TargetBehaviour:
    """How the target answers: a share of 500s, and a delay before every answer."""

    error_rate: float = 0.0
    delay_ms: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        if self.delay_ms < 0:
            raise ValueError("delay_ms must be >= 0")

    def describe(self) -> str:
        return f"{self.error_rate:.0%} errors, {self.delay_ms:g} ms delay"


class FlakyTarget:
    """`start()` it, give tasks `target.url`, change `target.behaviour` at any time."""

    def __init__(self, behaviour: TargetBehaviour | None = None, *, seed: int | None = None):
        self.behaviour = behaviour or TargetBehaviour()
        self.received: Counter[str] = Counter()  # successful (2xx) deliveries per key
        self.failed = 0  # requests answered 500
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the target first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> FlakyTarget:
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                status = target.answer(self.headers.get("Idempotency-Key", ""))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None  # quiet: a run sends thousands

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="chaos flaky target", daemon=True
        )
        self._thread.start()
        return self

    def answer(self, key: str) -> int:
        """Decide one request's fate: wait, then fail or count it as delivered."""
        behaviour = self.behaviour
        if behaviour.delay_ms:
            time.sleep(behaviour.delay_ms / 1000)
        with self._lock:
            if self._rng.random() < behaviour.error_rate:
                self.failed += 1
                return 500
            self.received[key] += 1
        return 200

    def duplicates(self) -> int:
        """Deliveries beyond the first, over all keys."""
        with self._lock:
            return sum(count - 1 for count in self.received.values() if count > 1)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
