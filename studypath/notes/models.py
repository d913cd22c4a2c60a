"""The `notes` and `note_shares` tables (the guide's week-5 ER diagram)."""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import Boolean, Computed, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from studypath.core.db import Base
from studypath.core.types import CreatedAt, UpdatedAt, UUIDPk, str_enum


class SharePermission(StrEnum):
    READ = "read"
    EDIT = "edit"


class Note(Base):
    __tablename__ = "notes"
    __table_args__ = (
        Index(None, "owner_id", "updated_at"),
        Index("ix_notes_search", "search", postgresql_using="gin"),
        Index("ix_notes_public", "updated_at", postgresql_where=text("is_public")),
    )

    id: Mapped[UUIDPk]
    owner_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE")
    )
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text, server_default="")
    is_public: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), default=False)
    # Full-text search over title and content, kept up to date by PostgreSQL itself.
    search: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('simple', coalesce(content, '')), 'B')",
            persisted=True,
        ),
        deferred=True,
    )
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class NoteShare(Base):
    """One recipient of one note, with what they may do."""

    __tablename__ = "note_shares"
    __table_args__ = (
        UniqueConstraint("note_id", "shared_with"),
        Index(None, "shared_with"),
    )

    id: Mapped[UUIDPk]
    note_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("notes.id", ondelete="CASCADE")
    )
    shared_with: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE")
    )
    shared_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    permission: Mapped[SharePermission] = mapped_column(
        str_enum(SharePermission, "permission"), server_default=SharePermission.READ.value
    )
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]
