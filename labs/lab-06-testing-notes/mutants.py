"""The mutants of lab 6: the notes feature (studypath/notes/) with one small bug each.

Instructors only (not in the learner's copy). Each `@mutant` function applies its bug with
the `MonkeyPatch` it is given — a service function replaced, or one route swapped by
`replace_route` — and the grader undoes it after that mutant's run. A learner's tests
*kill* a mutant when at least one of them fails with the bug in place; the hint is what the
report shows for a mutant that survives.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.auth.dependencies import CurrentUser
from studypath.core.db import DbSession
from studypath.core.errors import AppError, ErrorCode
from studypath.core.pagination import PageParams
from studypath.core.responses import Envelope, ok
from studypath.labs import mutant, replace_route
from studypath.notes import api, models, service
from studypath.notifications import service as notifications

NOTES = "/api/v1/notes"


# ---------------------------------------------------------------------- validation
class AnyTitle(BaseModel):
    """CreateNote without its rules: any title, even an empty one."""

    title: str
    content: str = ""
    is_public: bool = False


@mutant("a note with an empty title is accepted (a title needs at least one character)")
def empty_title_accepted(patch: pytest.MonkeyPatch) -> None:
    async def create_note(body: AnyTitle, principal: CurrentUser, db: DbSession) -> Envelope[Any]:
        note = await service.create_note(db, principal.user_id, **body.model_dump())
        return ok(api.note_out(note, "owner"), "Note created")

    replace_route(patch, "POST", NOTES, create_note, status_code=201)


@mutant("creating a note answers 200 instead of 201 Created")
def create_answers_200(patch: pytest.MonkeyPatch) -> None:
    replace_route(patch, "POST", NOTES, api.create_note, status_code=200)


class AnyPermission(BaseModel):
    """ShareNote without its rules: any permission word."""

    username: str | None = None
    user_id: uuid.UUID | None = None
    permission: str = "read"


@mutant("sharing accepts the permission 'owner' (only 'read' and 'edit' exist)")
def share_accepts_owner(patch: pytest.MonkeyPatch) -> None:
    async def share_note(
        note_id: uuid.UUID, body: AnyPermission, principal: CurrentUser, db: DbSession
    ) -> Envelope[Any]:
        permission = (
            models.SharePermission.READ
            if body.permission == "read"
            else models.SharePermission.EDIT
        )
        new = await service.share_note(
            db,
            principal.user_id,
            note_id,
            username=body.username,
            user_id=body.user_id,
            permission=permission,
        )
        share = new.share
        shared = {"id": share.id, "note_id": share.note_id, "shared_with": share.shared_with}
        return ok(
            {
                **shared,
                "permission": body.permission,
                "notification_task_id": new.notification_task_id,
            }
        )

    replace_route(patch, "POST", f"{NOTES}/{{note_id:uuid}}/share", share_note, status_code=201)


# ---------------------------------------------------------------------- ownership
@mutant("a user can read another user's private note")
def private_notes_readable(patch: pytest.MonkeyPatch) -> None:
    real = service.access_to

    async def access_to(session: AsyncSession, user_id: uuid.UUID, note: models.Note) -> str | None:
        return await real(session, user_id, note) or "read"

    patch.setattr(service, "access_to", access_to)


@mutant("the list of notes shows other users' private notes")
def list_shows_everyones_notes(patch: pytest.MonkeyPatch) -> None:
    def listing(user_id: uuid.UUID, include_public: bool) -> Select[Any]:
        mine = (
            select(models.NoteShare.note_id, models.NoteShare.permission)
            .where(models.NoteShare.shared_with == user_id)
            .subquery()
        )
        return select(models.Note, mine.c.permission).outerjoin(
            mine, mine.c.note_id == models.Note.id
        )

    patch.setattr(service, "_listing", listing)


@mutant("a user can delete another user's note")
def anyone_deletes(patch: pytest.MonkeyPatch) -> None:
    async def delete_note(session: AsyncSession, user_id: uuid.UUID, note_id: uuid.UUID) -> None:
        note = await session.get(models.Note, note_id)
        if note is None:
            raise AppError(ErrorCode.NOT_FOUND, "Note not found")
        await session.delete(note)
        await session.flush()

    patch.setattr(service, "delete_note", delete_note)


# ---------------------------------------------------------------------- sharing
UPDATE_CHECKS = ("may change", "may publish")


def update_note_without(
    dropped: str,
) -> Callable[
    [AsyncSession, uuid.UUID, uuid.UUID, dict[str, Any]], Awaitable[tuple[models.Note, str]]
]:
    """`service.update_note` with one of its two checks left out: "may change" (a read
    share may not change the note) or "may publish" (only the owner sets `is_public`)."""
    assert dropped in UPDATE_CHECKS, dropped

    async def update_note(
        session: AsyncSession, user_id: uuid.UUID, note_id: uuid.UUID, changes: dict[str, Any]
    ) -> tuple[models.Note, str]:
        note, access = await service.get_note(session, user_id, note_id)
        if dropped != "may change" and access not in ("owner", "edit"):
            raise AppError(ErrorCode.FORBIDDEN, "You may read this note but not change it")
        if dropped != "may publish" and "is_public" in changes and access != "owner":
            raise AppError(ErrorCode.FORBIDDEN, "Only the owner decides whether a note is public")
        for key, value in changes.items():
            setattr(note, key, value)
        await session.flush()
        await session.refresh(note)
        return note, access

    return update_note


@mutant("a recipient with 'read' permission can change the note")
def read_share_can_edit(patch: pytest.MonkeyPatch) -> None:
    patch.setattr(service, "update_note", update_note_without("may change"))


@mutant("a user a note is shared with can share it on and delete it, as if they owned it")
def recipient_acts_as_owner(patch: pytest.MonkeyPatch) -> None:
    async def owned(session: AsyncSession, user_id: uuid.UUID, note_id: uuid.UUID) -> models.Note:
        note, _access = await service.get_note(session, user_id, note_id)
        return note

    patch.setattr(service, "_owned", owned)


@mutant("revoking a share answers 204 but the recipient keeps their access")
def revoke_does_nothing(patch: pytest.MonkeyPatch) -> None:
    async def revoke_share(
        session: AsyncSession, owner_id: uuid.UUID, note_id: uuid.UUID, recipient_id: uuid.UUID
    ) -> None:
        await service.list_shares(session, owner_id, note_id)  # the owner check, and nothing

    patch.setattr(service, "revoke_share", revoke_share)


# ---------------------------------------------------------------------- public notes
@mutant("a public note cannot be read by other signed-in users")
def public_notes_hidden(patch: pytest.MonkeyPatch) -> None:
    real = service.access_to

    async def access_to(session: AsyncSession, user_id: uuid.UUID, note: models.Note) -> str | None:
        access = await real(session, user_id, note)
        return None if access == "public" else access

    patch.setattr(service, "access_to", access_to)


@mutant("`?include_public=true` does not add other users' public notes to the list")
def include_public_ignored(patch: pytest.MonkeyPatch) -> None:
    real = service.list_notes

    async def list_notes(*args: Any, **kwargs: Any) -> tuple[list[tuple[models.Note, str]], int]:
        return await real(*args, **{**kwargs, "include_public": False})

    patch.setattr(service, "list_notes", list_notes)


@mutant("a recipient with 'edit' permission can make the note public (only its owner may)")
def editor_makes_public(patch: pytest.MonkeyPatch) -> None:
    patch.setattr(service, "update_note", update_note_without("may publish"))


# ---------------------------------------------------------------------- pagination
@mutant("the list ignores `offset`: every page is the first page")
def offset_ignored(patch: pytest.MonkeyPatch) -> None:
    real = service.list_notes

    async def list_notes(
        session: AsyncSession, user_id: uuid.UUID, page: PageParams, **kwargs: Any
    ) -> tuple[list[tuple[models.Note, str]], int]:
        return await real(session, user_id, replace(page, offset=0), **kwargs)

    patch.setattr(service, "list_notes", list_notes)


@mutant("X-Total-Count counts the notes on this page, not all of them")
def total_is_page_size(patch: pytest.MonkeyPatch) -> None:
    real = service.list_notes

    async def list_notes(*args: Any, **kwargs: Any) -> tuple[list[tuple[models.Note, str]], int]:
        rows, _total = await real(*args, **kwargs)
        return rows, len(rows)

    patch.setattr(service, "list_notes", list_notes)


# ---------------------------------------------------------------------- the notification task
@mutant("the recipient of a share is never notified (the task runs, and writes nothing)")
def nobody_notified(patch: pytest.MonkeyPatch) -> None:
    async def notify_once(session: AsyncSession, **notification: Any) -> bool:
        return False

    patch.setattr(notifications, "notify_once", notify_once)


@mutant("the notification of a share goes to the note's owner, not to the recipient")
def owner_notified(patch: pytest.MonkeyPatch) -> None:
    real = notifications.notify_once

    async def notify_once(session: AsyncSession, **notification: Any) -> bool:
        owner = uuid.UUID(notification["data"]["shared_by"])
        return await real(session, **{**notification, "user_id": owner})

    patch.setattr(notifications, "notify_once", notify_once)
