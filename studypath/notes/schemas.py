"""Request and response shapes of the notes API (API.md, Notes)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from studypath.notes.models import SharePermission

MAX_CONTENT = 100 * 1024  # characters; the guide's "content ≤ 100 KB"

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Content = Annotated[str, Field(max_length=MAX_CONTENT)]


class CreateNote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    content: Content = ""
    is_public: bool = False


class UpdateNote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    content: Content | None = None
    is_public: bool | None = Field(default=None, description="The owner only.")


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    content: str
    is_public: bool
    created_at: datetime
    updated_at: datetime
    access: str = Field(description="owner, edit, read or public: what you may do with it")


class ShareNote(BaseModel):
    """Share with a user, named by username or by id (exactly one)."""

    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    user_id: uuid.UUID | None = None
    permission: SharePermission = SharePermission.READ

    @model_validator(mode="after")
    def _one_recipient(self) -> Self:
        if (self.username is None) == (self.user_id is None):
            raise ValueError("give exactly one of username or user_id")
        return self


class ShareOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    note_id: uuid.UUID
    shared_with: uuid.UUID
    shared_by: uuid.UUID | None
    permission: SharePermission
    created_at: datetime
    notification_task_id: uuid.UUID | None = None
