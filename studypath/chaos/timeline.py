"""The fault timeline: every fault a run injects, with when it started and when it ended.

A fault is recorded *before* it is injected and closed when it is undone, so a run that is
interrupted halfway still says what it did; `Timeline.open_faults()` is what is still in force
(the dashboard shows it, and the run's clean-up undoes it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class FaultRecord:
    """One fault: what (`kind`: `kill`, `pause`, `db-outage` …), on what (`target`), and
    when, in seconds since the run started. `ended` is None while it is in force."""

    kind: str
    target: str
    started: float
    ended: float | None = None
    detail: str = ""
    error: str | None = None  # injecting or undoing it failed: why

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else self.ended - self.started

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Timeline:
    """The run's clock (`now()`: seconds since it started) and its fault records."""

    origin: float = field(default_factory=time.monotonic)
    wall_origin: float = field(default_factory=time.time)
    faults: list[FaultRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def now(self) -> float:
        return time.monotonic() - self.origin

    def begin(self, kind: str, target: str, detail: str = "") -> FaultRecord:
        record = FaultRecord(kind, target, round(self.now(), 3), detail=detail)
        with self._lock:
            self.faults.append(record)
        return record

    def end(self, record: FaultRecord, error: str | None = None) -> None:
        if record.ended is None:
            record.ended = round(self.now(), 3)
        if error is not None:
            record.error = error

    @contextmanager
    def fault(self, kind: str, target: str, detail: str = "") -> Iterator[FaultRecord]:
        """Record a fault for the duration of the block; it ends however the block ends."""
        record = self.begin(kind, target, detail)
        try:
            yield record
        except BaseException as exc:
            self.end(record, error=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self.end(record)

    def open_faults(self) -> list[FaultRecord]:
        with self._lock:
            return [record for record in self.faults if record.ended is None]
