"""Pictures of the task queue: they must say what the code's tables and the tasks' rows say."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from studypath.tasks.lifecycle import TERMINAL, TRANSITIONS, Transition
from studypath.tasks.registry import TaskRegistry
from studypath.tasks.states import BreakerState, TaskStatus
from studypath.viz import (
    BREAKER_TRANSITIONS,
    Mermaid,
    breaker_diagram,
    lifecycle_diagram,
    retry_timeline,
    task_journey,
)
from studypath.viz.mermaid import escape
from tests.support.diagrams import UNSAFE, request_end, sql_entry, state_arrows


def labels(diagram: Mermaid) -> list[str]:
    """Every free text of a state diagram: arrow labels, state descriptions, notes."""
    texts = [label for _, _, label in state_arrows(diagram) if label]
    texts += re.findall(r"^    \w+ : (.*)$", diagram.source, re.MULTILINE)
    texts += re.findall(r"^    note right of \w+ : (.*)$", diagram.source, re.MULTILINE)
    return texts


# ----------------------------------------------------------------------------- lifecycle


def test_lifecycle_has_exactly_one_arrow_per_transition() -> None:
    diagram = lifecycle_diagram()
    assert diagram.source.startswith("stateDiagram-v2\n")
    between_states = [a for a in state_arrows(diagram) if "[*]" not in a[:2]]
    expected = Counter((t.source.value, t.target.value, escape(t.event)) for t in TRANSITIONS)
    assert Counter(between_states) == expected
    assert len(between_states) == len(TRANSITIONS)


def test_lifecycle_starts_at_pending_and_ends_at_the_terminal_states() -> None:
    found = state_arrows(lifecycle_diagram())
    starts = [target for source, target, _ in found if source == "[*]"]
    ends = {source for source, target, _ in found if target == "[*]"}
    assert starts == [TaskStatus.PENDING.value]
    assert ends == {status.value for status in TERMINAL}


def test_lifecycle_follows_the_table_when_it_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = Transition(TaskStatus.CANCELLED, TaskStatus.PENDING, "undo a cancel")
    monkeypatch.setattr("studypath.viz.tasks.TRANSITIONS", (*TRANSITIONS, extra))
    assert ("cancelled", "pending", "undo a cancel") in state_arrows(lifecycle_diagram())
    assert len([a for a in state_arrows(lifecycle_diagram()) if "[*]" not in a[:2]]) == (
        len(TRANSITIONS) + 1
    )


def test_lifecycle_shows_live_counts_for_every_state() -> None:
    stats: dict[str, Any] = {"pending": 12, "running": 3, "failed": 1, "total": 16, "by_type": {}}
    source = lifecycle_diagram(stats).source
    assert "    pending : pending (12)" in source
    assert "    running : running (3)" in source
    assert "    failed : failed (1)" in source
    for status in TaskStatus:
        assert re.search(rf"^    {status.value} : {status.value} \(\d+\)$", source, re.MULTILINE)
    assert "total" not in source and "by_type" not in source
    assert "(12)" not in lifecycle_diagram().source  # no counts asked, none drawn


def test_lifecycle_is_the_same_text_every_time() -> None:
    assert lifecycle_diagram().source == lifecycle_diagram().source
    assert lifecycle_diagram({"pending": 1}) == lifecycle_diagram({"pending": 1})


def test_lifecycle_labels_are_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    nasty = Transition(
        TaskStatus.DEAD_LETTER, TaskStatus.PENDING, 'retry; #1 "now" <b>x</b> %% comment: a -> b'
    )
    monkeypatch.setattr("studypath.viz.tasks.TRANSITIONS", (nasty,))
    diagram = lifecycle_diagram({"pending": 2})
    texts = labels(diagram)
    assert texts
    for text in texts:
        assert not set(text) & UNSAFE, text
        assert "%%" not in text
    assert not set(diagram.source) & set(';"`')  # (`-->` is the only `>`)
    assert diagram.source.count(">") == diagram.source.count("-->")
    assert "a → b" in diagram.source


def test_lifecycle_marks_the_dead_letter_state() -> None:
    source = lifecycle_diagram().source
    assert "    class failed deadletter" in source
    assert re.search(r"note right of failed : .*dead-letter", source)


# ----------------------------------------------------------------------------- breaker


@pytest.mark.parametrize("state", [s.value for s in BreakerState])
def test_breaker_highlights_the_current_state(state: str) -> None:
    source = breaker_diagram(state).source
    highlighted = re.findall(r"^    class (\w+) current$", source, re.MULTILINE)
    assert highlighted == [state]
    for breaker_state in BreakerState:
        assert f"    {breaker_state.value} : " in source


def test_breaker_without_a_state_highlights_nothing() -> None:
    source = breaker_diagram(None).source
    assert not re.search(r"^    class ", source, re.MULTILINE)
    assert "[*] --> closed" in source


def test_breaker_draws_every_move_and_counts_failures() -> None:
    diagram = breaker_diagram("closed", failure_count=2, failure_threshold=3)
    found = {(s, t) for s, t, _ in state_arrows(diagram) if s != "[*]"}
    assert found == {(m.source.value, m.target.value) for m in BREAKER_TRANSITIONS}
    assert "(2/3 failures)" in diagram.source
    reached = {m.target for m in BREAKER_TRANSITIONS} | {BreakerState.CLOSED}
    left = {m.source for m in BREAKER_TRANSITIONS}
    assert reached == left == set(BreakerState)
    for text in labels(diagram):
        assert not set(text) & UNSAFE


def test_breaker_refuses_an_unknown_state() -> None:
    with pytest.raises(ValueError, match="ajar"):
        breaker_diagram("ajar")


# ----------------------------------------------------------------------------- retry timeline

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def failure(
    attempt: int, seconds: float, error: str = "boom", worker: str = "w1"
) -> dict[str, Any]:
    # as PostgreSQL writes it into the jsonb error_history: ISO text
    return {"attempt": attempt, "error": error, "at": at(seconds).isoformat(), "worker": worker}


def task_row(
    task_id: str, status: str, attempts: int, *failures: dict[str, Any], **columns: Any
) -> dict[str, Any]:
    """A task as the timeline and the journey read it, a database row or the API's JSON:
    `attempts` is its current_attempt, `failures` its error_history, and the columns a test
    does not name are those of a `flaky` task created at T0."""
    row = {"id": task_id, "task_type": "flaky", "status": status, "created_at": T0}
    return row | {"current_attempt": attempts, "error_history": list(failures)} | columns


def test_timeline_of_a_dead_lettered_task_shows_growing_gaps() -> None:
    failures = [failure(1, 0.1), failure(2, 0.35), failure(3, 0.8), failure(4, 1.6)]
    row = task_row(
        "t1", "failed", 4, *failures, started_at=at(1.5), completed_at=at(1.6), scheduled_at=at(0.7)
    )
    [timeline] = retry_timeline([row])
    assert [mark.attempt for mark in timeline.attempts] == [1, 2, 3, 4]
    assert [mark.outcome for mark in timeline.attempts] == ["retrying"] * 3 + ["dead letter"]
    assert [round(mark.ended_at, 3) for mark in timeline.attempts] == [0.1, 0.35, 0.8, 1.6]
    assert [round(gap, 3) for gap in timeline.gaps] == [0.25, 0.45, 0.8]
    assert timeline.created_at == 0.0
    assert timeline.last_started_at == pytest.approx(1.5)
    assert timeline.next_attempt_at is None  # it waits for nothing any more
    assert timeline.attempts[0].error == "boom" and timeline.attempts[0].worker == "w1"


def test_timeline_of_a_completed_task_ends_with_its_success() -> None:
    row = task_row(
        "t2",
        "completed",
        2,
        failure(1, 1.0, "lease expired", "victim"),
        created_at=at(0).isoformat(),  # API JSON: ISO text
        started_at=at(2.0).isoformat(),
        completed_at=at(2.5).isoformat(),
    )
    [timeline] = retry_timeline([row])
    assert [(m.attempt, m.outcome) for m in timeline.attempts] == [
        (1, "lease expired"),
        (2, "completed"),
    ]
    assert timeline.attempts[0].worker == "victim"
    assert timeline.gaps == pytest.approx([1.5])


def test_timelines_share_one_origin_and_waiting_tasks_show_their_next_attempt() -> None:
    rows = [
        {"id": "late", "task_type": "x", "status": "retrying", "created_at": at(2),
         "scheduled_at": at(3), "error_history": [failure(1, 2.5)]},
        {"id": "early", "task_type": "x", "status": "pending", "created_at": at(1),
         "scheduled_at": at(1), "error_history": []},
    ]  # fmt: skip
    late, early = retry_timeline(rows)
    assert (late.created_at, early.created_at) == (1.0, 0.0)
    assert late.next_attempt_at == pytest.approx(2.0)
    assert late.attempts[0].ended_at == pytest.approx(1.5)
    assert early.attempts == [] and early.gaps == []
    [shifted] = retry_timeline(rows[:1], origin=at(0))
    assert shifted.created_at == 2.0
    assert retry_timeline([]) == []


def test_timeline_accepts_naive_times_as_utc() -> None:
    row = {"id": "n", "task_type": "x", "status": "cancelled", "created_at": datetime(2026, 1, 1),
           "completed_at": datetime(2026, 1, 1, 0, 0, 2), "current_attempt": 1,
           "last_error": "cancelled by request", "error_history": []}  # fmt: skip
    [timeline] = retry_timeline([row])
    assert [(m.outcome, m.ended_at, m.error) for m in timeline.attempts] == [
        ("cancelled", 2.0, "cancelled by request")
    ]


# ----------------------------------------------------------------------------- one task's journey


def test_journey_follows_the_request_then_every_attempt() -> None:
    registry = TaskRegistry()

    @registry.register("greet", "say hello")
    async def greet(payload: Any, ctx: Any) -> None: ...

    statements = [
        "SELECT sessions.id FROM sessions WHERE token_hash = %(h)s",
        "SELECT task_types.is_active, task_types.payload_schema FROM task_types",
        "INSERT INTO tasks (task_type, payload) VALUES (%(a)s, %(b)s) RETURNING tasks.id",
        "SELECT pg_notify(%(channel)s, %(message)s)",
    ]
    entries = [sql_entry(s) for s in statements]
    entries.append(
        request_end(
            "POST",
            "/api/v1/tasks",
            endpoint="studypath.tasks.api.create_task",
            status=200,
            duration_ms=4.2,
        )
    )
    task = task_row(
        "0f0e0d0c-0000-4000-8000-000000000000",
        "completed",
        2,
        failure(1, 0.1, "ConnectionError: timed out; try again"),
        task_type="greet",
        created_at=at(0).isoformat(),
        completed_at=at(0.5).isoformat(),
        retry_strategy={"type": "exponential", "base_delay_seconds": 0.2, "jitter": False},
    )
    source = task_journey(task, entries, registry.get("greet")).source
    assert source.startswith("sequenceDiagram\n")
    assert "Client->>API: POST /api/v1/tasks (greet)" in source
    assert [line.split(": ")[1] for line in source.splitlines() if "API->>Queue" in line] == [
        "auth",
        "validation",
        "enqueue",
        "notify",
    ]
    assert "API-->>Client: 200 in 4.2 ms" in source
    assert source.count("claim (FOR UPDATE SKIP LOCKED)") == 2
    assert "Worker->>Queue: retrying, backoff 0.2s (t+0.10s)" in source
    assert "Worker->>Queue: completed (t+0.50s)" in source
    assert "    participant Handler as greet" in source
    body = "\n".join(line for line in source.splitlines() if "participant" not in line)
    assert ";" not in body


def test_journey_of_a_dead_letter_without_a_trace() -> None:
    jittered = {"type": "fixed", "base_delay_seconds": 1}  # jitter on: no number to show
    task = task_row("t", "failed", 2, failure(1, 0.1), failure(2, 1.3), retry_strategy=jittered)
    source = task_journey(task).source
    assert "Client->>API: POST /api/v1/tasks (flaky)" in source
    assert "retrying, backoff random (jitter) (t+0.10s)" in source
    assert "failed = dead letter (t+1.30s)" in source
    assert "completed" not in source
