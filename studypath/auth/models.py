"""The `sessions` and `api_keys` tables. Neither ever stores a usable secret: only hashes."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from studypath.core.db import Base
from studypath.core.types import CreatedAt, Timestamp, UpdatedAt, UUIDPk


class Session(Base):
    """A login. The client holds the token; the database holds only its SHA-256."""

    __tablename__ = "sessions"
    __table_args__ = (Index(None, "user_id"), Index(None, "expires_at"))

    id: Mapped[UUIDPk]
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE")
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[CreatedAt]
    expires_at: Mapped[Timestamp]
    last_activity_at: Mapped[Timestamp]
    refreshed_at: Mapped[Timestamp | None]
    user_agent: Mapped[str | None] = mapped_column(String(512))
    ip_address: Mapped[str | None] = mapped_column(String(64))


class ApiKey(Base):
    """A long-lived credential (`sk_…`) that acts with its owner's role."""

    __tablename__ = "api_keys"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[UUIDPk]
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(100))
    key_prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[CreatedAt]
    expires_at: Mapped[Timestamp | None]
    last_used_at: Mapped[Timestamp | None]
    revoked_at: Mapped[Timestamp | None]


class LoginThrottle(Base):
    """Failed-login counters per account and per client address, shared by every process.

    A key reaching its failure limit is locked for a while; each further lockout doubles.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    window_started_at: Mapped[CreatedAt]
    locked_until: Mapped[Timestamp | None]
    lockouts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    updated_at: Mapped[UpdatedAt]
