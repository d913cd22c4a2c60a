"""Request and response shapes of the users API (API.md, Users).

Every text field is `Text` (no NUL, no lone surrogate: a 400 naming the field, never a 500
from the database) and every flag a `StrictBool`. Optional fields the guide's system accepts
(`reason`, `require_change`) are accepted here too.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
)

from studypath.auth.passwords import MAX_LENGTH, MIN_LENGTH
from studypath.core.validation import SchemaSays, StrictBool, Text, check_text
from studypath.rbac.roles import Role


def _storable_if_text(value: Any) -> Any:
    """Refuse NUL and lone surrogates before the email parser sees them (it may not cope)."""
    return check_text(value) if isinstance(value, str) else value


# The constraints come before the `Text` check so the pattern stays in the JSON schema
# (after a validator, pydantic enforces it but cannot document it).
Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_-]+$"
    ),
    AfterValidator(check_text),
]
Email = Annotated[EmailStr, BeforeValidator(_storable_if_text)]
# A password you prove you know (login, confirmations): any you may have set.
Password = Annotated[Text, Field(min_length=1, max_length=1024)]
NEW_PASSWORD_RULES = (
    f"{MIN_LENGTH}-{MAX_LENGTH} characters with at least 3 of: lowercase letter, uppercase "
    "letter, digit, other character; not on the list of common (leaked) passwords. "
    "A password breaking a rule is refused with 400, every problem listed."
)
# A password you choose: the policy (`auth.passwords`) checks it in the service, so one 400
# lists every problem; the schema states the length the policy demands (a client reads it
# there), while the model's own bound only keeps absurd input away from the policy.
NewPassword = Annotated[
    Text,
    Field(min_length=1, max_length=1024, description=NEW_PASSWORD_RULES),
    SchemaSays(minLength=MIN_LENGTH, maxLength=MAX_LENGTH),
]
Reason = Annotated[
    Text,
    Field(max_length=500, description="Why (kept in the audit log line of the action)."),
]


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
    password_change_required: bool = Field(
        default=False,
        description="A staff reset asked for a new password: until you change it "
        "(PUT /users/me/password) your session can only read /auth/me and log out.",
    )


class UpdateOwnProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username | None = None
    email: Email | None = None


class AdminUpdateProfile(UpdateOwnProfile):
    email_verified: StrictBool | None = None


class ChangePassword(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Password
    new_password: NewPassword


class DeleteOwnAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: Password
    confirmation: Literal["DELETE"] = Field(description='Type "DELETE" to confirm.')


class SetStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_active: StrictBool
    reason: Reason | None = None


class ResetPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_password: NewPassword
    require_change: StrictBool | None = Field(
        default=None,
        description="Make the user choose a new password at their next login: until they "
        "do, their session can only read /auth/me, log out and change the password.",
    )
    reason: Reason | None = None


class CreateUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    email: Email
    password: NewPassword
    role: Role | None = Field(default=None, description="Default: user.")


class SetRole(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    reason: Reason | None = None


class DeleteUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason | None = None
    hard_delete: StrictBool | None = Field(
        default=None, description="Remove the row (default: soft delete, the row stays)."
    )


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
