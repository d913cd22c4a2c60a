"""The `notifications` table."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from studypath.core.db import Base
from studypath.core.types import CreatedAt, JSONDict, Timestamp, UUIDPk


class Notification(Base):
    """A message for one user. `dedupe_key` makes writing it idempotent: a retried task that
    writes the same notification again changes nothing."""

    __tablename__ = "notifications"
    __table_args__ = (Index(None, "user_id", "created_at"),)

    id: Mapped[UUIDPk]
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, server_default="")
    data: Mapped[JSONDict]
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    read_at: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]
