"""Request and response shapes of the notes API (API.md, Notes)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from studypath.core.responses import RowOut
from studypath.core.validation import (
    InputModel,
    StrictBool,
    Text,
    absent,
    check_text,
    exactly_one_of,
    require_exactly_one,
)
from studypath.notes.models import SharePermission

MAX_CONTENT = 100 * 1024  # characters; the guide's "content ≤ 100 KB"

# One type per field, used by create and update alike: a PUT checks what a POST checks.
# (Stripped text: the constraints come before `check_text`, so the length is the stripped
# one — `Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1)]` would
# measure before stripping and let "   " through as "".)
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(check_text),
]
Content = Annotated[Text, StringConstraints(max_length=MAX_CONTENT)]
SearchText = Annotated[Text, StringConstraints(max_length=200)]


class CreateNote(InputModel):
    title: Title
    content: Content = ""
    is_public: StrictBool = False


class UpdateNote(InputModel):
    """The fields sent are changed; `null` is refused (no field of a note is nullable)."""

    title: Title = absent()
    content: Content = absent()
    is_public: StrictBool = absent(description="The owner only.")


class NoteOut(RowOut):
    owner_id: uuid.UUID
    title: str
    content: str
    is_public: bool
    created_at: datetime
    updated_at: datetime
    access: str = Field(description="owner, edit, read or public: what you may do with it")


class ShareNote(InputModel):
    """Share with a user, named by username or by id (exactly one)."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("username", "user_id"))

    username: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, max_length=50), AfterValidator(check_text)
        ]
        | None
    ) = None
    user_id: uuid.UUID | None = None
    permission: SharePermission = SharePermission.READ

    _one_recipient = require_exactly_one("username", "user_id")


class ShareOut(RowOut):
    note_id: uuid.UUID
    shared_with: uuid.UUID
    shared_by: uuid.UUID | None
    permission: SharePermission
    created_at: datetime
    notification_task_id: uuid.UUID | None = None
    # Whom the note is shared with, by name (a plain user cannot look ids up). Additive, so
    # older clients are unaffected.
    shared_with_username: str | None = Field(default=None, description="The recipient's username.")
