"""The `users` table."""

from __future__ import annotations

from sqlalchemy import Boolean, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from studypath.core.db import Base
from studypath.core.types import CreatedAt, Timestamp, UpdatedAt, UUIDPk, str_enum
from studypath.identity.roles import Role


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # Case-insensitive uniqueness: "Alice" and "alice" are the same account.
        Index("uq_users_username_lower", func.lower(text("username")), unique=True),
        Index("uq_users_email_lower", func.lower(text("email")), unique=True),
    )

    id: Mapped[UUIDPk]
    username: Mapped[str] = mapped_column(String(50))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        str_enum(Role, "role"), server_default=Role.USER.value, default=Role.USER
    )
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"), default=True)
    email_verified: Mapped[bool] = mapped_column(
        Boolean, server_default=text("false"), default=False
    )
    # Set by a staff reset with `require_change`; cleared when the user picks a new password.
    password_change_required: Mapped[bool] = mapped_column(
        Boolean, server_default=text("false"), default=False
    )
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]
    last_login_at: Mapped[Timestamp | None]
    deleted_at: Mapped[Timestamp | None]

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.role})>"
