"""`studypath admin` task commands, run in-process (typer's CliRunner) on this test's database.

The commands call `asyncio.run` themselves, so each runs in a thread, off the test's loop.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.core.clock import utcnow
from studypath.tasks.models import Task
from studypath.tasks.operations import parse_tag
from studypath.tasks.states import TaskStatus
from studypath.testing.factories import make_task, make_task_type

pytestmark = pytest.mark.timeout(60)


async def arrange(session: AsyncSession) -> dict[str, uuid.UUID]:
    """alpha: pending, completed (10 days ago), completed (2 days ago), failed;
    beta: failed, running. Tags in metadata: team = search / ads / 7 (a number)."""
    await make_task_type(session, "alpha")
    await make_task_type(session, "beta")
    now = utcnow()
    rows = {
        "pending": ("alpha", TaskStatus.PENDING, {"team": "search"}, None),
        "old_done": ("alpha", TaskStatus.COMPLETED, {"team": "search"}, now - timedelta(days=10)),
        "new_done": ("alpha", TaskStatus.COMPLETED, {"team": "ads"}, now - timedelta(days=2)),
        "alpha_dead": ("alpha", TaskStatus.DEAD_LETTER, {"team": 7}, now - timedelta(days=1)),
        "beta_dead": ("beta", TaskStatus.DEAD_LETTER, {}, now - timedelta(days=1)),
        "running": ("beta", TaskStatus.RUNNING, {"team": "search"}, None),
    }
    ids = {}
    for name, (task_type, status, metadata, completed_at) in rows.items():
        task = await make_task(
            session,
            task_type,
            status=status,
            metadata_=metadata,
            completed_at=completed_at,
            current_attempt=3 if status is TaskStatus.DEAD_LETTER else 1,
            max_attempts=3,
            last_error="boom" if status is TaskStatus.DEAD_LETTER else None,
        )
        ids[name] = task.id
    return ids


async def statuses(session: AsyncSession) -> dict[uuid.UUID, TaskStatus]:
    session.expire_all()
    return {task.id: task.status for task in await session.scalars(select(Task))}


def table_rows(output: str) -> list[list[str]]:
    """The cells of a rich table's body rows (lines with │ separators)."""
    return [
        [cell.strip() for cell in line.strip("│ ").split("│")]
        for line in output.splitlines()
        if line.startswith("│")
    ]


# --------------------------------------------------------------------------- list-tasks
async def test_list_tasks_shows_a_table_and_filters(admin: Any, session: AsyncSession) -> None:
    ids = await arrange(session)

    everything = await admin("list-tasks")
    failed = await admin("list-tasks", "--status", "failed")
    beta = await admin("list-tasks", "--type", "beta", "--limit", "1")

    assert everything.exit_code == 0, everything.output
    assert "6 task(s)" in everything.output
    assert {row[0] for row in table_rows(everything.output)} == {str(i) for i in ids.values()}
    header = everything.output.splitlines()[1]
    for column in ("id", "type", "status", "priority", "attempts", "created", "last error"):
        assert column in header
    assert failed.exit_code == 0, failed.output
    failed_rows = table_rows(failed.output)
    assert {row[0] for row in failed_rows} == {str(ids["alpha_dead"]), str(ids["beta_dead"])}
    assert all(row[2] == "failed" and row[4] == "3/3" and row[6] == "boom" for row in failed_rows)
    assert beta.exit_code == 0, beta.output
    assert len(table_rows(beta.output)) == 1 and "1 task(s)" in beta.output


async def test_list_tasks_refuses_an_unknown_status(admin: Any) -> None:
    result = await admin("list-tasks", "--status", "sleeping")

    assert result.exit_code == 2
    assert "sleeping" in result.output


# --------------------------------------------------------------------------- task-stats
def counts(output: str) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in table_rows(output)}


async def test_task_stats_counts_by_status_and_type(admin: Any, session: AsyncSession) -> None:
    await arrange(session)

    result = await admin("task-stats")

    assert result.exit_code == 0, result.output
    table = counts(result.output)
    assert table["pending"] == ["1"] and table["completed"] == ["2"] and table["failed"] == ["2"]
    assert table["running"] == ["1"] and table["cancelled"] == ["0"] and table["total"] == ["6"]
    columns = ["total", *(status.value for status in TaskStatus)]
    alpha = dict(zip(columns, table["alpha"], strict=True))
    beta = dict(zip(columns, table["beta"], strict=True))
    assert alpha == {**dict.fromkeys(columns, "0"), "total": "4", "pending": "1"} | {
        "completed": "2",
        "failed": "1",
    }
    assert (beta["total"], beta["failed"], beta["running"]) == ("2", "1", "1")
    assert "6 task(s)" in result.output


async def test_task_stats_tag_filters_on_metadata(admin: Any, session: AsyncSession) -> None:
    await arrange(session)

    search = await admin("task-stats", "--tag", "team:search")
    numeric = await admin("task-stats", "--tag", "team:7")
    nobody = await admin("task-stats", "--tag", "team:nobody")

    assert search.exit_code == 0, search.output
    table = counts(search.output)
    assert table["total"] == ["3"]
    assert (table["pending"], table["completed"], table["running"]) == (["1"], ["1"], ["1"])
    assert "with metadata team = 'search'" in search.output
    assert counts(numeric.output)["failed"] == ["1"]  # metadata {"team": 7} matches "7"
    assert counts(nobody.output)["total"] == ["0"] and "alpha" not in counts(nobody.output)


@pytest.mark.parametrize("tag", ["team", "team:", ":search", "bad key:x"])
async def test_task_stats_explains_a_malformed_tag(admin: Any, tag: str) -> None:
    result = await admin("task-stats", "--tag", tag)

    message = " ".join(result.output.replace("│", " ").split())  # unwrap the error panel
    assert result.exit_code == 2
    assert f"Invalid value for '--tag': malformed tag {tag!r}" in message
    assert "write key:value" in message or "the key must be" in message


def test_parse_tag_keeps_colons_in_the_value() -> None:
    assert parse_tag("url:http://example.com") == ("url", "http://example.com")
    with pytest.raises(ValueError, match="write key:value"):
        parse_tag("novalue")


# --------------------------------------------------------------------------- clear-completed
async def test_clear_completed_deletes_only_old_completed_tasks(
    admin: Any, session: AsyncSession
) -> None:
    ids = await arrange(session)

    default = await admin("clear-completed")
    assert default.exit_code == 0, default.output
    assert "deleted 1 completed task(s) older than 7 day(s)" in default.output
    remaining = await statuses(session)
    assert ids["old_done"] not in remaining and ids["new_done"] in remaining

    sooner = await admin("clear-completed", "--older-than-days", "1")
    assert "deleted 1 completed task(s) older than 1 day(s)" in sooner.output
    remaining = await statuses(session)
    assert ids["new_done"] not in remaining
    assert len(remaining) == 4  # pending, running and the failed ones are never touched
    assert TaskStatus.COMPLETED not in remaining.values()

    again = await admin("clear-completed", "--older-than-days", "0")
    assert "deleted 0 completed task(s)" in again.output


async def test_clear_completed_refuses_a_negative_age(admin: Any) -> None:
    result = await admin("clear-completed", "--older-than-days", "-1")

    assert result.exit_code == 2


# --------------------------------------------------------------------------- requeue-dead-letter
async def test_requeue_dead_letter_by_type_then_all(admin: Any, session: AsyncSession) -> None:
    ids = await arrange(session)
    dead = await session.get(Task, ids["beta_dead"])
    assert dead is not None
    dead.cancel_requested_at = utcnow()  # asked to cancel while running; it failed anyway
    await session.commit()

    alpha = await admin("requeue-dead-letter", "--type", "alpha")
    assert alpha.exit_code == 0, alpha.output
    assert "requeued 1 dead-lettered task(s) of type alpha" in alpha.output
    now = await statuses(session)
    assert (now[ids["alpha_dead"]], now[ids["beta_dead"]]) == (
        TaskStatus.PENDING,
        TaskStatus.DEAD_LETTER,
    )

    rest = await admin("requeue-dead-letter")
    assert "requeued 1 dead-lettered task(s)" in rest.output
    session.expire_all()
    requeued = await session.get(Task, ids["beta_dead"])
    assert requeued is not None
    assert (requeued.status, requeued.current_attempt) == (TaskStatus.PENDING, 0)
    assert requeued.completed_at is None and requeued.cancel_requested_at is None

    none_left = await admin("requeue-dead-letter")
    assert "requeued 0 dead-lettered task(s)" in none_left.output
