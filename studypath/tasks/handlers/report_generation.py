"""The `report_generation` task: task statistics for a date range, as CSV, Markdown or PDF.

One SQL statement does the counting — per task type, with a ROLLUP row for all types —
over the tasks *created* in the range: how many are in each status, the success rate, and
the mean run time of the completed ones (`completed_at - started_at`, the last attempt).
The file goes to `<data_dir>/reports/`, named after the range and the task, so a retried
task overwrites its own report instead of adding another.

Range rules: a date (`2024-05-01`) means that whole day, so `end: 2024-05-31` includes
May 31st; a datetime is exact and the end is excluded. Naive times are UTC.
Success rate = completed / (completed + failed): cancelled and unfinished tasks have no
verdict yet, so they count in neither part; with no verdict at all it is empty.

Two payload shapes: studypath's `{start, end, format}` (default CSV) and the reference
system's `{report_type, start_date, end_date, format}` (default PDF, as its report URLs
are). The only report studypath has data for is about its task queue (`report_type:
tasks`). Another report type (the reference's example is `sales`) is accepted when the task
is created, as the reference accepts it, and fails the task when it runs — at once, without
retries, with a message naming the report types there are.
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict

from pydantic import ConfigDict, Field, RootModel, StringConstraints, model_validator
from sqlalchemy import text

from studypath.core.clock import utcnow
from studypath.core.db import Database
from studypath.core.validation import InputModel, Text
from studypath.tasks.handlers.common import (
    DayOrMoment,
    EitherShape,
    TwoShapes,
    as_utc,
    ensure_folder,
    file_stamp,
    shape_by_key,
    write_atomically,
)
from studypath.tasks.handlers.pdf import render_text_pdf
from studypath.tasks.registry import (
    PermanentError,
    TaskContext,
    builtin_task,
)
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


ReportFormat = Literal["csv", "markdown", "pdf"]
REPORT_TYPES = ("tasks",)
"""What studypath can report on: its own task queue."""
FORMAT_HELP = "csv, markdown or pdf (every one is produced)."


def _window(start: date | datetime, end: date | datetime) -> tuple[datetime, datetime]:
    """[start, end) in UTC; a ValueError when it is empty."""
    window = _start_of(start), _end_of(end)
    if window[1] <= window[0]:
        raise ValueError("end must be after start")
    return window


def _window_between(start: str, end: str) -> Any:
    """A model validator (assign it in the class body) refusing a payload whose window, from
    its field `start` to its field `end`, is empty: both shapes name the same rule."""

    def check(payload: Any) -> Any:
        _window(getattr(payload, start), getattr(payload, end))
        return payload

    return model_validator(mode="after")(check)


class ReportPayload(InputModel):
    """studypath's shape, and the form the handler works with."""

    model_config = ConfigDict(title="ReportPayload")

    start: DayOrMoment
    end: DayOrMoment
    format: ReportFormat = Field(default="csv", description=FORMAT_HELP)

    _ordered = _window_between("start", "end")

    @property
    def window(self) -> tuple[datetime, datetime]:
        """[start, end) in UTC."""
        return _window(self.start, self.end)


class ReferenceReportPayload(InputModel):
    """The reference system's shape."""

    model_config = ConfigDict(title="ReferenceReportPayload")

    report_type: Annotated[Text, StringConstraints(min_length=1, max_length=64)] = Field(
        description="What the report is about. studypath has one: 'tasks' (its task queue); "
        "a task asking for another fails when it runs, naming the supported types."
    )
    start_date: DayOrMoment
    end_date: DayOrMoment
    format: ReportFormat = Field(default="pdf", description=FORMAT_HELP)

    _ordered = _window_between("start_date", "end_date")


ReportShapes = Annotated[
    EitherShape[ReportPayload, ReferenceReportPayload], shape_by_key("report_type")
]


class ReportRequest(TwoShapes, RootModel[ReportShapes]):
    """{start, end, format} (studypath) or {report_type, start_date, end_date, format}
    (reference; report_type 'tasks' — another fails when the task runs). Formats: csv, markdown,
    pdf."""

    def normalised(self) -> ReportPayload:
        if isinstance(self.root, ReportPayload):
            return self.root
        if self.root.report_type not in REPORT_TYPES:
            raise PermanentError(
                f"report_type {self.root.report_type!r} is not a report studypath can produce; "
                f"supported: {', '.join(REPORT_TYPES)}"
            )
        return ReportPayload(
            start=self.root.start_date, end=self.root.end_date, format=self.root.format
        )


class ReportResult(TypedDict):
    path: str
    rows: int
    format: ReportFormat


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


@builtin_task(
    "report_generation",
    "Write a CSV, Markdown or PDF report of task statistics for a date range",
    payload=ReportRequest,
    timeout=300,
)
async def generate_report(request: ReportRequest, ctx: TaskContext) -> ReportResult:
    """Count in the database, render, write the file atomically."""
    payload = request.normalised()
    start, end = payload.window
    stats = await task_statistics(ctx.db, start, end)
    content: str | bytes
    if payload.format == "csv":
        content, suffix = render_csv(stats), "csv"
    elif payload.format == "markdown":
        content, suffix = render_markdown(stats, start, end, ctx), "md"
    else:
        content, suffix = render_pdf(stats, start, end, ctx), "pdf"
    name = f"tasks-{file_stamp(start)}-{file_stamp(end)}-{ctx.task_id.hex}.{suffix}"
    path = await asyncio.to_thread(_write_report, ctx.data_dir, name, content)
    return {"path": str(path), "rows": len(stats) - 1, "format": payload.format}


def _write_report(data_dir: Path, name: str, content: str | bytes) -> Path:
    path = ensure_folder(data_dir, REPORTS_FOLDER) / name
    write_atomically(path, content if isinstance(content, bytes) else content.encode())
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


def render_pdf(stats: list[TypeStats], start: datetime, end: datetime, ctx: TaskContext) -> bytes:
    """The Markdown report's content as a printable page: the same heading and notes, the
    table in fixed-width columns (task type names longer than the column are cut)."""
    header = ["task type", "total", *STATUSES, "success", "mean (s)"]
    widths = [28] + [max(9, len(name) + 1) for name in header[1:]]

    def row(cells: list[str]) -> str:
        first, *numbers = cells
        return first[: widths[0] - 1].ljust(widths[0]) + "".join(
            cell.rjust(width) for cell, width in zip(numbers, widths[1:], strict=True)
        )

    def when(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")

    lines = [
        "Task report",
        "",
        f"Tasks created from {when(start)} up to (not including) {when(end)}.",
        f"Generated {when(utcnow())} by task {ctx.task_id}.",
        "Success rate = completed / (completed + failed). Mean duration: completed tasks,",
        "from the start of their last attempt to completion.",
        "",
        row(header),
        "-" * sum(widths),
    ]
    for line in stats:
        rate, mean = line.success_rate, line.mean_duration_seconds
        counts = [str(line.by_status[status]) for status in STATUSES]
        rate_text = "-" if rate is None else f"{rate * 100:.1f} %"
        mean_text = "-" if mean is None else f"{mean:.3f}"
        lines.append(row([line.task_type, str(line.total), *counts, rate_text, mean_text]))
    return render_text_pdf(lines)
