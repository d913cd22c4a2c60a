"""The `report_generation` task: task statistics for a date range, written as CSV or Markdown.

One SQL statement does the counting — per task type, with a ROLLUP row for all types —
over the tasks *created* in the range: how many are in each status, the success rate, and
the mean run time of the completed ones (`completed_at - started_at`, the last attempt).
The file goes to `<data_dir>/reports/`, named after the range and the task, so a retried
task overwrites its own report instead of adding another.

Range rules: a date (`2024-05-01`) means that whole day, so `end: 2024-05-31` includes
May 31st; a datetime is exact and the end is excluded. Naive times are UTC.
Success rate = completed / (completed + failed): cancelled and unfinished tasks have no
verdict yet, so they count in neither part; with no verdict at all it is empty.
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, model_validator
from sqlalchemy import text

from studypath.core.clock import utcnow
from studypath.core.db import Database
from studypath.tasks.handlers.common import (
    DayOrMoment,
    as_utc,
    ensure_folder,
    file_stamp,
    write_atomically,
)
from studypath.tasks.registry import TaskContext, task_handler
from studypath.tasks.states import TaskStatus

REPORTS_FOLDER = "reports"
STATUSES = [status.value for status in TaskStatus]
ALL_TYPES = "(all)"


def _start_of(moment: date | datetime) -> datetime:
    if isinstance(moment, datetime):
        return as_utc(moment)
    return datetime.combine(moment, time.min, tzinfo=UTC)


def _end_of(moment: date | datetime) -> datetime:
    if isinstance(moment, datetime):
        return as_utc(moment)
    return datetime.combine(moment + timedelta(days=1), time.min, tzinfo=UTC)  # whole day


class ReportPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: DayOrMoment
    end: DayOrMoment
    format: Literal["csv", "markdown"] = "csv"

    @model_validator(mode="after")
    def _ordered(self) -> ReportPayload:
        if self.window[1] <= self.window[0]:
            raise ValueError("end must be after start")
        return self

    @property
    def window(self) -> tuple[datetime, datetime]:
        """[start, end) in UTC."""
        return _start_of(self.start), _end_of(self.end)


class ReportResult(TypedDict):
    path: str
    rows: int
    format: Literal["csv", "markdown"]


@dataclass(frozen=True)
class TypeStats:
    """One line of the report: a task type (or all of them)."""

    task_type: str
    total: int
    by_status: dict[str, int]
    mean_duration_seconds: float | None

    @property
    def success_rate(self) -> float | None:
        decided = self.by_status["completed"] + self.by_status["failed"]
        return self.by_status["completed"] / decided if decided else None


# Per type, plus one ROLLUP row (task_type NULL) for every type together. The status
# columns are generated from the TaskStatus enum, not from input.
_COUNTS = ",\n       ".join(
    f"count(*) FILTER (WHERE status = '{status}') AS {status}" for status in STATUSES
)
STATS_SQL = text(
    f"""
    SELECT task_type,
           count(*) AS total,
           {_COUNTS},
           avg(extract(epoch FROM completed_at - started_at))
               FILTER (WHERE status = 'completed' AND started_at IS NOT NULL)
               AS mean_duration_seconds
    FROM tasks
    WHERE created_at >= :start AND created_at < :end
    GROUP BY ROLLUP (task_type)
    ORDER BY task_type NULLS LAST
    """
)


async def task_statistics(db: Database, start: datetime, end: datetime) -> list[TypeStats]:
    """One TypeStats per task type with tasks created in [start, end), then the total."""
    async with db.engine.connect() as conn:
        rows = (await conn.execute(STATS_SQL, {"start": start, "end": end})).mappings().all()
    stats = [_type_stats(row) for row in rows]
    if not stats:  # no tasks at all: ROLLUP gives no total row either
        stats = [TypeStats(ALL_TYPES, 0, dict.fromkeys(STATUSES, 0), None)]
    return stats


def _type_stats(row: Any) -> TypeStats:
    mean = row["mean_duration_seconds"]
    return TypeStats(
        task_type=row["task_type"] or ALL_TYPES,
        total=int(row["total"]),
        by_status={status: int(row[status]) for status in STATUSES},
        mean_duration_seconds=round(float(mean), 3) if mean is not None else None,
    )


@task_handler(
    "report_generation",
    "Write a CSV or Markdown report of task statistics for a date range",
    payload=ReportPayload,
    timeout=300,
)
async def generate_report(payload: ReportPayload, ctx: TaskContext) -> ReportResult:
    """Count in the database, render, write the file atomically."""
    start, end = payload.window
    stats = await task_statistics(ctx.db, start, end)
    if payload.format == "csv":
        content, suffix = render_csv(stats), "csv"
    else:
        content, suffix = render_markdown(stats, start, end, ctx), "md"
    name = f"tasks-{file_stamp(start)}-{file_stamp(end)}-{ctx.task_id.hex}.{suffix}"
    path = await asyncio.to_thread(_write_report, ctx.data_dir, name, content)
    return {"path": str(path), "rows": len(stats) - 1, "format": payload.format}


def _write_report(data_dir: Path, name: str, content: str) -> Path:
    path = ensure_folder(data_dir, REPORTS_FOLDER) / name
    write_atomically(path, content.encode())
    return path


def _number(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


COLUMNS = ["task_type", "total", *STATUSES, "success_rate", "mean_duration_seconds"]


def render_csv(stats: list[TypeStats]) -> str:
    """Machine-readable: one row per type, the `(all)` row last; empty cell = no value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for line in stats:
        writer.writerow(
            [
                line.task_type,
                line.total,
                *(line.by_status[status] for status in STATUSES),
                _number(line.success_rate, 4),
                _number(line.mean_duration_seconds, 3),
            ]
        )
    return out.getvalue()


def render_markdown(
    stats: list[TypeStats], start: datetime, end: datetime, ctx: TaskContext
) -> str:
    """For people: a heading, what the numbers mean, and one table."""

    def when(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")

    header = ["task type", "total", *STATUSES, "success rate", "mean duration (s)"]
    lines = [
        "# Task report",
        "",
        f"Tasks created from {when(start)} up to (not including) {when(end)}.",
        f"Generated {when(utcnow())} by task `{ctx.task_id}`.",
        "",
        "Success rate = completed / (completed + failed). Mean duration: completed tasks, "
        "from the start of their last attempt to completion.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join([" --- "] + [" ---: "] * (len(header) - 1)) + "|",
    ]
    for line in stats:
        rate = line.success_rate
        cells = [
            f"**{line.task_type}**" if line.task_type == ALL_TYPES else line.task_type,
            str(line.total),
            *(str(line.by_status[status]) for status in STATUSES),
            "–" if rate is None else f"{rate * 100:.1f} %",
            "–" if line.mean_duration_seconds is None else f"{line.mean_duration_seconds:.3f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
