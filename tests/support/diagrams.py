"""Mermaid diagrams in tests: the arrows a state diagram draws, the characters its labels must
not hold, and the log entries a request diagram is drawn from."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from studypath.core.logging import LogEntry
from studypath.viz.mermaid import Mermaid

STATE_ARROW = re.compile(r"^    (\S+) --> (\S+)(?: : (.*))?$", re.MULTILINE)

# What mermaid would read as syntax inside a label: a statement end, a comment, a quote,
# an HTML tag's brackets, a code span.
UNSAFE = set(';#"<>`')


def state_arrows(diagram: Mermaid) -> list[tuple[str, str, str | None]]:
    """Every `source --> target : label` of a state diagram, in the order drawn (label None
    where the arrow has none)."""
    return [(m[1], m[2], m[3]) for m in STATE_ARROW.finditer(diagram.source)]


def log_entry(logger: str, message: str, *, request_id: str = "r1", **fields: object) -> LogEntry:
    """One captured log line of a request, as `wb.log_entries(request_id=...)` hands it back
    (the diagrams read logger, level, request id and fields, never the time)."""
    return LogEntry(
        time=datetime(2026, 1, 1, tzinfo=UTC),
        level="INFO",
        logger=logger,
        message=message,
        request_id=request_id,
        user_id="-",
        fields=dict(fields),
        text=message,
    )


def sql_entry(statement: str) -> LogEntry:
    """The line the SQL logger writes for one statement."""
    return log_entry("studypath.sql", f"SQL {statement}", statement=statement)


def request_end(method: str, path: str, **answer: object) -> LogEntry:
    """The line the middleware writes when a request to `path` (its own route) ends; the
    test names the `answer`: the endpoint that served it, its status and duration_ms, what
    `request_trace` reads besides the method and route."""
    entry = log_entry("studypath.http", f"{method} {path}")
    ended = {"event": "request.end", "method": method, "path": path, "route": path}
    return replace(entry, fields=ended | answer)
