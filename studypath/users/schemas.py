"""Request and response shapes of the users API (API.md, Users)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from studypath.rbac.roles import Role

Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_-]+$"
    ),
]
# Length is checked by the password policy (400 with every problem listed), not here.
Password = Annotated[str, Field(min_length=1, max_length=1024)]


class UserProfile(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    email: str
    role: Role
    is_active: bool
    email_verified: bool
    created_at: datetime
    last_login_at: datetime | None


class UpdateOwnProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username | None = None
    email: EmailStr | None = None


class AdminUpdateProfile(UpdateOwnProfile):
    email_verified: bool | None = None


class ChangePassword(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Password
    new_password: Password


class DeleteOwnAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: Password
    confirmation: Literal["DELETE"] = Field(description='Type "DELETE" to confirm.')


class SetStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_active: bool
    reason: str | None = Field(default=None, max_length=500)


class ResetPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_password: Password


class CreateUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    email: EmailStr
    password: Password
    role: Role = Role.USER


class SetRole(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class DeleteUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500)
    hard_delete: bool = False


class RegistrationCounts(BaseModel):
    last_24h: int
    last_7d: int
    last_30d: int


class UserStats(BaseModel):
    total: int
    active: int
    inactive: int
    deleted: int
    email_verified: int
    by_role: dict[str, int]
    recent_registrations: RegistrationCounts
