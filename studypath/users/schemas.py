"""Request and response shapes of the users API (API.md, Users); the account's own fields
and `UserProfile` are `identity.schemas`.

Every text field is `Text` (no NUL, no lone surrogate: a 400 naming the field, never a 500
from the database) and every flag a `StrictBool`. Optional fields the guide's system accepts
(`reason`, `require_change`) are accepted here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from studypath.core.validation import InputModel, StrictBool, Text
from studypath.identity.roles import Role
from studypath.identity.schemas import Email, NewPassword, Password, Username

Reason = Annotated[
    Text,
    Field(max_length=500, description="Why (kept in the audit log line of the action)."),
]


class UpdateOwnProfile(InputModel):
    username: Username | None = None
    email: Email | None = None


class AdminUpdateProfile(UpdateOwnProfile):
    email_verified: StrictBool | None = None


class ChangePassword(InputModel):
    current_password: Password
    new_password: NewPassword


class DeleteOwnAccount(InputModel):
    password: Password
    confirmation: Literal["DELETE"] = Field(description='Type "DELETE" to confirm.')


class SetStatus(InputModel):
    is_active: StrictBool
    reason: Reason | None = None


class ResetPassword(InputModel):
    new_password: NewPassword
    require_change: StrictBool | None = Field(
        default=None,
        description="Make the user choose a new password at their next login: until they "
        "do, their session can only read /auth/me, log out and change the password.",
    )
    reason: Reason | None = None


class CreateUser(InputModel):
    username: Username
    email: Email
    password: NewPassword
    role: Role | None = Field(default=None, description="Default: user.")


class SetRole(InputModel):
    role: Role
    reason: Reason | None = None


class DeleteUser(InputModel):
    reason: Reason | None = None
    hard_delete: StrictBool | None = Field(
        default=None, description="Remove the row (default: soft delete, the row stays)."
    )


@dataclass(frozen=True)
class UserFilter:
    """Which users a listing shows (`GET /users`'s query parameters); None: any. `search`
    matches part of a username or email literally (`_` and `%` are plain characters)."""

    role: Role | None = None
    is_active: bool | None = None
    search: Annotated[Text | None, Query(max_length=100)] = None


# The filter as `GET /users` takes it: its query parameters, read into one `UserFilter`.
UsersWanted = Annotated[UserFilter, Depends()]


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
