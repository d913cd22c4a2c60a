"""Request and response shapes of the auth and API-key endpoints (API.md, Auth)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from studypath.core.responses import RowOut
from studypath.core.validation import (
    INTEGER_ONLY,
    InputModel,
    Text,
    exactly_one_of,
    require_exactly_one,
)
from studypath.identity.roles import Role
from studypath.identity.schemas import Email, NewPassword, Password, Username, UserProfile

LoginName = Annotated[Text, StringConstraints(strip_whitespace=True, max_length=254)]


class RegisterRequest(InputModel):
    username: Username
    email: Email
    password: NewPassword


class LoginRequest(InputModel):
    """Exactly one of `username` and `email`, and the password."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("username", "email"))

    username: LoginName | None = None
    email: LoginName | None = None
    password: Password
    user_agent: Annotated[Text, Field(max_length=512)] | None = None

    _one_identifier = require_exactly_one("username", "email")

    @property
    def identifier(self) -> str:
        return self.email if self.email is not None else str(self.username)


class LoginResponse(BaseModel):
    session_token: str
    expires_at: datetime
    user: UserProfile


class Me(BaseModel):
    id: uuid.UUID
    username: str
    email: str
    role: Role
    password_change_required: bool = False


class RefreshResponse(BaseModel):
    expires_at: datetime
    refreshed_at: datetime


class CreateApiKey(InputModel):
    name: Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    expires_in_days: Annotated[int, Field(ge=1, le=3650), INTEGER_ONLY] | None = Field(
        default=None, description="Omit for a key that does not expire."
    )


class ApiKeyInfo(RowOut):
    name: str
    key_prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyInfo):
    key: str = Field(description="The key itself. Shown only in this response; store it now.")
