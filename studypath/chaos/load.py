"""Load: the run's tasks, submitted through the API as a client would, and steady API
traffic whose every answer is timed — the user's view of the faults.

A client whose POST got no answer (the server died, the connection was cut) cannot know
whether the task was stored: it tries again, as real clients do. That may store the task
twice; the effect key makes the second one harmless, and the report counts it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from studypath.chaos.effects import CALL_TYPE, EFFECT_TYPE

API = "/api/v1"


@dataclass(frozen=True)
class Sample:
    """One API request: when it was sent (run seconds), how it ended, how long it took."""

    at: float
    status: int  # 0: no answer (connection refused, reset, timeout)
    latency_ms: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Submissions:
    """What the run asked for and what the API acknowledged."""

    keys: list[str] = field(default_factory=list)  # every key the run meant to submit
    accepted: dict[str, str] = field(default_factory=dict)  # key -> the task id acknowledged
    attempts: int = 0  # POSTs sent, retries included
    refused: dict[str, str] = field(default_factory=dict)  # key -> last error, never accepted


async def login(client: httpx.AsyncClient, password: str, *, within: float = 30.0) -> str:
    """The admin's bearer token; retried while the server comes up."""
    deadline = time.monotonic() + within
    while True:
        try:
            response = await client.post(
                f"{API}/auth/login", json={"username": "admin", "password": password}
            )
            if response.status_code == 200:
                return str(response.json()["data"]["session_token"])
            problem = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if time.monotonic() > deadline:
            raise RuntimeError(f"could not log in as the chaos admin: {problem}")
        await asyncio.sleep(0.3)


def task_body(run_id: str, key: str, *, call_url: str | None, work_ms: float) -> dict[str, Any]:
    """The POST /tasks body of one key: a local effect, or a call to the dependency."""
    payload: dict[str, Any] = {"run_id": run_id, "key": key, "work_ms": work_ms}
    if call_url is not None:
        payload["url"] = call_url
    return {
        "task_type": CALL_TYPE if call_url is not None else EFFECT_TYPE,
        "payload": payload,
        "metadata": {"chaos_run": run_id},
        "max_attempts": 100,  # faults fail attempts; the run's tasks must still complete
        "retry_strategy": {
            "type": "exponential",
            "base_delay_seconds": 0.2,
            "max_delay_seconds": 2.0,
        },
    }


async def submit(
    client: httpx.AsyncClient,
    submissions: Submissions,
    key: str,
    body: dict[str, Any],
    *,
    give_up_at: float,
) -> None:
    """POST one task until the API acknowledges it (or `give_up_at`, monotonic)."""
    submissions.keys.append(key)
    delay = 0.1
    while True:
        submissions.attempts += 1
        try:
            response = await client.post(f"{API}/tasks", json=body)
            if response.status_code in (200, 201):
                submissions.accepted[key] = str(response.json()["data"]["id"])
                submissions.refused.pop(key, None)
                return
            submissions.refused[key] = f"{response.status_code} {response.text[:200]}"
            if response.status_code < 500 and response.status_code != 429:
                return  # the request itself is wrong: another try will not help
        except httpx.HTTPError as exc:
            submissions.refused[key] = f"{type(exc).__name__}: {exc}"
        if time.monotonic() + delay > give_up_at:
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)


class Traffic:
    """Requests at a steady rate (`rate` per second) against a read endpoint that needs the
    database; each answer becomes a `Sample`."""

    def __init__(
        self, client: httpx.AsyncClient, clock: Callable[[], float], *, rate: float = 5.0
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0 requests per second")
        self.client = client
        self.clock = clock
        self.rate = rate
        self.samples: list[Sample] = []
        self._inflight: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Until cancelled: one request every 1/rate s, never waiting for the previous one
        (a hung server piles requests up, as it would with real users)."""
        try:
            while True:
                request = asyncio.create_task(self._one())
                self._inflight.add(request)
                request.add_done_callback(self._inflight.discard)
                await asyncio.sleep(1 / self.rate)
        finally:
            for request in list(self._inflight):
                request.cancel()
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def _one(self) -> None:
        sent = self.clock()
        started = time.perf_counter()
        try:
            response = await self.client.get(f"{API}/tasks/stats")
            status = response.status_code
        except httpx.HTTPError:
            status = 0
        self.samples.append(Sample(round(sent, 3), status, (time.perf_counter() - started) * 1000))


def new_run_id() -> str:
    return uuid.uuid4().hex[:10]
