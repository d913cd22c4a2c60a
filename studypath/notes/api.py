"""Notes endpoints (`/api/v1/notes`). New in studypath: 201 on create, 204 on delete."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response, status

from studypath.auth.dependencies import CurrentUser
from studypath.core.db import DbSession
from studypath.core.pagination import Page, paged
from studypath.core.responses import Envelope, ok
from studypath.notes import service
from studypath.notes.models import Note, NoteShare
from studypath.notes.schemas import (
    CreateNote,
    NoteOut,
    SearchText,
    ShareNote,
    ShareOut,
    UpdateNote,
)
from studypath.telemetry.tracing import traced_router

router = traced_router("notes")


def note_out(note: Note, access: str) -> NoteOut:
    """The note's stored fields, with what the caller may do with it (`access` is not a
    column: the service works it out per caller)."""
    stored = {name: getattr(note, name) for name in NoteOut.model_fields if name != "access"}
    return NoteOut.model_validate({**stored, "access": access})


def share_out(
    share: NoteShare, recipient_username: str, notification_task_id: uuid.UUID | None = None
) -> ShareOut:
    """A share as the API shows it: the row, its recipient by name (a plain user cannot look
    ids up), and — in the answer to a share — the notification task it queued."""
    return ShareOut.model_validate(share).model_copy(
        update={
            "shared_with_username": recipient_username,
            "notification_task_id": notification_task_id,
        }
    )


@router.get("", response_model=Envelope[list[NoteOut]])
async def list_notes(
    principal: CurrentUser,
    db: DbSession,
    page: Page,
    response: Response,
    q: Annotated[SearchText | None, Query(description="Full-text search")] = None,
    include_public: bool = False,
) -> Envelope[list[NoteOut]]:
    """Your notes and notes shared with you (and public ones, if asked). Total in
    `X-Total-Count`; `q` searches title and content for its words, best match first (a `q`
    without words, like `%` or `C++`'s `++`, finds the notes containing it as typed)."""
    rows, total = await service.list_notes(
        db, principal.user_id, page, search=q, include_public=include_public
    )
    return paged(response, [note_out(note, access) for note, access in rows], total)


@router.post("", response_model=Envelope[NoteOut], status_code=status.HTTP_201_CREATED)
async def create_note(body: CreateNote, principal: CurrentUser, db: DbSession) -> Envelope[NoteOut]:
    note = await service.create_note(db, principal.user_id, **body.model_dump())
    return ok(note_out(note, "owner"), "Note created")


@router.get("/{note_id:uuid}", response_model=Envelope[NoteOut])
async def get_note(note_id: uuid.UUID, principal: CurrentUser, db: DbSession) -> Envelope[NoteOut]:
    """The owner, a share recipient, or anyone if it is public. Otherwise 404."""
    note, access = await service.get_note(db, principal.user_id, note_id)
    return ok(note_out(note, access))


@router.put("/{note_id:uuid}", response_model=Envelope[NoteOut])
async def update_note(
    note_id: uuid.UUID, body: UpdateNote, principal: CurrentUser, db: DbSession
) -> Envelope[NoteOut]:
    """The owner, or a recipient with `edit` (who cannot change `is_public`)."""
    note, access = await service.update_note(
        db, principal.user_id, note_id, body.model_dump(exclude_unset=True)
    )
    return ok(note_out(note, access), "Note updated")


@router.delete("/{note_id:uuid}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_note(note_id: uuid.UUID, principal: CurrentUser, db: DbSession) -> Response:
    """The owner only; its shares go with it."""
    await service.delete_note(db, principal.user_id, note_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{note_id:uuid}/shares", response_model=Envelope[list[ShareOut]])
async def list_shares(
    note_id: uuid.UUID, principal: CurrentUser, db: DbSession
) -> Envelope[list[ShareOut]]:
    """Who the note is shared with, by id and username (the owner only)."""
    shares = await service.list_shares(db, principal.user_id, note_id)
    return ok([share_out(share, username) for share, username in shares])


@router.post(
    "/{note_id:uuid}/share", response_model=Envelope[ShareOut], status_code=status.HTTP_201_CREATED
)
async def share_note(
    note_id: uuid.UUID, body: ShareNote, principal: CurrentUser, db: DbSession
) -> Envelope[ShareOut]:
    """Share with a user (by `username` or `user_id`) to `read` or `edit`; sharing again
    changes the permission. The recipient is notified by a background task. Sharing with
    yourself (the note's owner) is refused with 400; an unknown recipient is 404."""
    shared = await service.share_note(
        db,
        principal.user_id,
        note_id,
        username=body.username,
        user_id=body.user_id,
        permission=body.permission,
    )
    out = share_out(shared.share, shared.recipient_username, shared.notification_task_id)
    return ok(out, "Note shared")


@router.delete("/{note_id:uuid}/share/{user_id:uuid}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_share(
    note_id: uuid.UUID, user_id: uuid.UUID, principal: CurrentUser, db: DbSession
) -> Response:
    """Stop sharing with that user; their access ends at once."""
    await service.revoke_share(db, principal.user_id, note_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
