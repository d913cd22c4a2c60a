"""Shapes of the notifications API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from studypath.core.responses import RowOut


class NotificationOut(RowOut):
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    read_at: datetime | None
    created_at: datetime
