"""Checks of lab 3: your backoff policy and your `word_count` handler, run by the live worker.

Each check's docstring is the hint you see when it fails. Tasks are created over HTTP
(`POST /api/v1/tasks`) and run by the Workbench's own worker; a stand-in web server mounted in
the running app (`Documents`) plays the dependency that fails for a while, then recovers.
"""

from __future__ import annotations

import random
import re
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from studypath.labs import Lab, Person
from studypath.tasks import RetryStrategy

TERMINAL = {"completed", "failed", "cancelled"}
QUICK_RETRY = {"type": "fixed", "base_delay_seconds": 0.05, "jitter": False}


class Documents:
    """A stand-in for a web server the handler depends on. `/documents/{key}` answers 503 the
    first `failures` times it is asked, then 200 with the text; unknown keys answer 404.
    It notes when each request arrived."""

    PREFIX = "/api/v1/lab-probe"

    def __init__(self, lab: Lab) -> None:
        self.base_url = f"{lab.wb.url}{self.PREFIX}/documents"
        self.texts: dict[str, tuple[str, int]] = {}
        self.arrivals: dict[str, list[datetime]] = defaultdict(list)
        self.router = APIRouter()
        self.router.add_api_route("/documents/{key}", self.serve, include_in_schema=False)
        lab.install(self, prefix=self.PREFIX)

    def add(self, key: str, text: str, *, failures: int = 0) -> str:
        self.texts[key] = (text, failures)
        return f"{self.base_url}/{key}"

    async def serve(self, key: str) -> PlainTextResponse:
        self.arrivals[key].append(datetime.now(UTC))
        if key not in self.texts:
            return PlainTextResponse("no such document", status_code=404)
        text, failures = self.texts[key]
        if len(self.arrivals[key]) <= failures:
            return PlainTextResponse("busy, try again later", status_code=503)
        return PlainTextResponse(text)


@contextmanager
def silent_server() -> Iterator[tuple[str, list[float]]]:
    """A TCP server that accepts each connection and closes it without a word; yields its URL
    and the times it was called."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    connections: list[float] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connections.append(time.monotonic())
            connection.close()

    thread = threading.Thread(target=serve, name="silent server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/down", connections
    finally:
        stop.set()
        thread.join(1.0)
        listener.close()


def run_task(
    lab: Lab,
    person: Person,
    payload: dict[str, Any],
    *,
    retry: dict[str, Any] | None = None,
    max_attempts: int = 3,
    within: float = 10.0,
) -> dict[str, Any]:
    """Create a `word_count` task over HTTP and wait until the worker has finished with it."""
    body = {
        "task_type": "word_count",
        "payload": payload,
        "max_attempts": max_attempts,
        "retry_strategy": retry or QUICK_RETRY,
    }
    created = lab.expect(person.client.post("/api/v1/tasks", json=body), 200)

    def finished() -> dict[str, Any] | None:
        task: dict[str, Any] = lab.expect(person.client.get(f"/api/v1/tasks/{created['id']}"), 200)
        return task if task["status"] in TERMINAL else None

    return lab.wait_until(finished, within=within, what=f"task {created['id']} to finish")


def stated_delays(lab: Lab, task_id: str) -> list[float]:
    """The delays the worker logged ("attempt N failed, retry in D s") for one task."""
    pattern = re.compile(rf"task {task_id} \(word_count\) attempt \d+ failed, retry in ([\d.]+) s")
    found = (pattern.search(line) for line in lab.wb.logs(last=2000, contains=task_id))
    return [float(match.group(1)) for match in found if match]


# --- Step 1 ---------------------------------------------------------------------------------------
def check_backoff_grows_exponentially_up_to_the_cap(lab: Lab) -> None:
    """Step 1: backoff_delay(attempt, base=, multiplier=, cap=) is base × multiplier^(attempt − 1),
    never more than cap — the delays the system's RetryStrategy computes."""
    assert lab.module is not None
    for base, multiplier, cap in [(1.0, 2.0, 300.0), (0.5, 3.0, 10.0), (2.0, 1.5, 60.0)]:
        reference = RetryStrategy(
            base_delay_seconds=base, multiplier=multiplier, max_delay_seconds=cap, jitter=False
        )
        for attempt in range(1, 9):
            yours = lab.module.backoff_delay(attempt, base=base, multiplier=multiplier, cap=cap)
            expected = reference.delay(attempt)
            assert abs(yours - expected) < 1e-9, (
                f"backoff_delay({attempt}, base={base}, multiplier={multiplier}, cap={cap}) "
                f"is {yours}, expected {expected}"
            )


# --- Steps 2 and 3, through the worker -----------------------------------------------------------
def check_word_count_through_the_worker(lab: Lab) -> None:
    """Steps 2-3: a word_count task with {"text": ..., "top": 2} completes with {"words",
    "unique", "top"} — the most frequent words first, ties alphabetically."""
    ada = lab.person("ada")
    task = run_task(lab, ada, {"text": "the cat and the hat", "top": 2})
    assert task["status"] == "completed", f"the task {task['status']}: {task['last_error']}"
    expected = {"words": 5, "unique": 4, "top": [["the", 2], ["and", 1]]}
    assert task["result"] == expected, f"result {task['result']}, expected {expected}"


def check_bad_payload_fails_permanently(lab: Lab) -> None:
    """Step 3: a payload with both text and url (or neither) fails at once — one attempt, no
    retry (raise ValueError in the validator); one breaking the field rules is refused by the
    API (400)."""
    ada = lab.person("ada")
    refused = ada.client.post(
        "/api/v1/tasks", json={"task_type": "word_count", "payload": {"text": "x", "top": 0}}
    )
    lab.expect(refused, 400)
    for payload in [{"text": "a b", "url": "http://127.0.0.1:9/x"}, {"top": 2}]:
        task = run_task(lab, ada, payload, max_attempts=2)
        assert task["status"] == "failed", f"{payload}: the task is {task['status']}"
        assert task["current_attempt"] == 1, (
            f"{payload}: {task['current_attempt']} attempts; a bad payload must not be retried "
            f"(last error: {task['last_error']})"
        )
        assert "payload" in (task["last_error"] or ""), f"last error: {task['last_error']}"


def check_retries_wait_as_your_backoff_says(lab: Lab) -> None:
    """Steps 1 and 3: a URL answering 503 three times, then 200: raise on a 5xx so the live
    worker retries — after the delays your backoff_delay predicts — and the task completes."""
    assert lab.module is not None
    base, multiplier, cap = 0.2, 4.0, 1.5
    predicted = [
        lab.module.backoff_delay(attempt, base=base, multiplier=multiplier, cap=cap)
        for attempt in (1, 2, 3)
    ]
    documents = Documents(lab)
    url = documents.add("flaky", "to be or not to be", failures=3)
    policy = {
        "type": "exponential",
        "base_delay_seconds": base,
        "multiplier": multiplier,
        "max_delay_seconds": cap,
        "jitter": False,
    }

    task = run_task(lab, lab.person("ada"), {"url": url}, retry=policy, max_attempts=5)

    assert task["status"] == "completed", f"the task {task['status']}: {task['last_error']}"
    assert task["result"]["words"] == 6, f"result {task['result']}"
    arrivals, history = documents.arrivals["flaky"], task["error_history"]
    assert len(arrivals) == 4 and len(history) == 3, (
        f"{len(arrivals)} requests and {len(history)} failed attempts; expected 4 and 3"
    )
    stated = stated_delays(lab, task["id"])
    if len(stated) == 3:  # what the worker decided (its log): exact
        assert all(abs(s - p) < 0.011 for s, p in zip(stated, predicted, strict=True)), (
            f"the worker waited {stated} s; your backoff_delay predicts "
            f"{[round(p, 3) for p in predicted]} s"
        )
    slack = lab.wb.settings.worker_poll_seconds + 0.3  # it looks for due tasks this often
    for attempt, (failure, expected) in enumerate(zip(history, predicted, strict=True), start=1):
        waited = (arrivals[attempt] - datetime.fromisoformat(failure["at"])).total_seconds()
        assert expected - 0.05 <= waited <= expected + slack, (
            f"after attempt {attempt} the worker waited {waited:.2f} s; "
            f"your backoff_delay predicts {expected:.2f} s"
        )


### BEGIN HIDDEN TESTS
def check_backoff_jitter_stays_in_range(lab: Lab) -> None:
    """Step 1: with jitter=True the delay is drawn between 0 and the capped delay, from `rng`
    when one is given (the same seed, the same delays)."""
    assert lab.module is not None
    rng = random.Random(7)
    draws = [
        lab.module.backoff_delay(3, base=1.0, cap=300.0, jitter=True, rng=rng) for _ in range(200)
    ]
    assert all(0.0 <= d <= 4.0 for d in draws), "a jittered delay left [0, 4] for attempt 3"
    assert max(draws) - min(draws) > 2.0, "jittered delays should spread over [0, 4]"

    def drawn(seed: int) -> list[float]:
        seeded = random.Random(seed)
        return [lab.module.backoff_delay(2, jitter=True, rng=seeded) for _ in range(5)]

    assert drawn(42) == drawn(42), "the same rng seed should give the same delays"


def check_backoff_edge_cases(lab: Lab) -> None:
    """Step 1: attempts below 1 count as 1; a cap below base wins; multiplier 1 keeps the
    delay at base."""
    assert lab.module is not None
    delay = lab.module.backoff_delay
    assert delay(0, base=0.5) == 0.5 and delay(-3, base=0.5) == 0.5, "attempt < 1 counts as 1"
    assert delay(1, base=5.0, cap=2.0) == 2.0, "the cap applies to the first delay too"
    assert [delay(n, base=3.0, multiplier=1.0) for n in (1, 4, 9)] == [3.0, 3.0, 3.0]
    assert delay(7, base=1.0, cap=0.0) == 0.0, "cap 0 means retry at once"


def check_missing_document_fails_permanently(lab: Lab) -> None:
    """Step 3: a URL answering 404 fails at once (PermanentError): one attempt, one request."""
    documents = Documents(lab)
    task = run_task(lab, lab.person("ada"), {"url": f"{documents.base_url}/nowhere"})
    assert task["status"] == "failed", f"the task is {task['status']}"
    assert task["current_attempt"] == 1, f"{task['current_attempt']} attempts for a 404"
    assert len(documents.arrivals["nowhere"]) == 1


def check_silent_dependency_is_retried(lab: Lab) -> None:
    """Step 3: a server that hangs up without answering may answer next time: every attempt
    tries it again (let the connection error propagate, or raise your own)."""
    with silent_server() as (url, connections):
        task = run_task(lab, lab.person("ada"), {"url": url}, max_attempts=2)
    assert task["status"] == "failed", f"the task is {task['status']}"
    assert task["current_attempt"] == 2, (
        f"{task['current_attempt']} attempt(s): a connection error should be retried"
    )
    assert len(connections) == 2, f"the server was called {len(connections)} times, expected 2"


def check_words_ignore_case_and_punctuation(lab: Lab) -> None:
    """Step 2: words are counted case-insensitively, punctuation is not part of a word,
    inner apostrophes are; `top` beyond the distinct words lists them all."""
    ada = lab.person("ada")
    text = "Don't stop. don't STOP! Café, café; 42 42 42"
    task = run_task(lab, ada, {"text": text, "top": 10})
    assert task["status"] == "completed", f"the task {task['status']}: {task['last_error']}"
    expected = {
        "words": 9,
        "unique": 4,
        "top": [["42", 3], ["café", 2], ["don't", 2], ["stop", 2]],
    }
    assert task["result"] == expected, f"result {task['result']}, expected {expected}"


### END HIDDEN TESTS
