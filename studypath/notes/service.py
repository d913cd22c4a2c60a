"""Notes: create, find, read, edit, delete and share — with who-may-do-what in one place.

Access: the owner may do everything; a share recipient may read (`read`) or also edit
(`edit`); a public note may be read by any signed-in user. Anyone else: 404 — a note you
may not see does not exist for you. Only the owner deletes, shares or makes it public.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.core.errors import AppError, ErrorCode, not_found
from studypath.core.pagination import PageParams
from studypath.identity import service as identity_service
from studypath.identity.errors import UserErrorCode
from studypath.identity.models import User
from studypath.notes.models import Note, NoteShare, SharePermission
from studypath.tasks import service as tasks_service
from studypath.telemetry.tracing import traced

NOTIFICATION_TASK = "notification"


@dataclass(frozen=True)
class NewShare:
    """What sharing a note made: the share row, whom it names, and the queued notification."""

    share: NoteShare
    recipient_username: str
    notification_task_id: uuid.UUID


async def access_to(session: AsyncSession, user_id: uuid.UUID, note: Note) -> str | None:
    """owner, edit, read, public — or None if the user may not see the note."""
    if note.owner_id == user_id:
        return "owner"
    permission = await session.scalar(
        select(NoteShare.permission).where(
            NoteShare.note_id == note.id, NoteShare.shared_with == user_id
        )
    )
    if permission is not None:
        return permission.value
    return "public" if note.is_public else None


async def _visible(
    session: AsyncSession, user_id: uuid.UUID, note_id: uuid.UUID
) -> tuple[Note, str]:
    note = await session.get(Note, note_id, populate_existing=True)
    access = await access_to(session, user_id, note) if note is not None else None
    if note is None or access is None:
        raise not_found("Note")
    return note, access


@traced
async def create_note(
    session: AsyncSession, owner_id: uuid.UUID, *, title: str, content: str, is_public: bool
) -> Note:
    note = Note(owner_id=owner_id, title=title, content=content, is_public=is_public)
    session.add(note)
    await session.flush()
    await session.refresh(note)  # the server's id, timestamps and search vector
    return note


@traced
async def get_note(
    session: AsyncSession, user_id: uuid.UUID, note_id: uuid.UUID
) -> tuple[Note, str]:
    return await _visible(session, user_id, note_id)


def _listing(user_id: uuid.UUID, include_public: bool) -> Select[Any]:
    """Own notes, notes shared with me, and (optionally) public ones — with my access."""
    share = (
        select(NoteShare.note_id, NoteShare.permission)
        .where(NoteShare.shared_with == user_id)
        .subquery()
    )
    visible = or_(Note.owner_id == user_id, share.c.note_id.is_not(None))
    if include_public:
        visible = or_(visible, Note.is_public.is_(True))
    return (
        select(Note, share.c.permission).outerjoin(share, share.c.note_id == Note.id).where(visible)
    )


LIKE_ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, as typed: its `%`, `_` and `\\` are escaped."""
    escaped = (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


async def _has_words(session: AsyncSession, search: str) -> bool:
    """Whether full-text search sees any word in `search` (`%`, `++` or `'&!` have none)."""
    nodes = await session.scalar(select(func.numnode(func.websearch_to_tsquery("simple", search))))
    return bool(nodes)


async def _matching(
    session: AsyncSession, query: Select[Any], search: str
) -> tuple[Select[Any], Any]:
    """Notes matching `search`, and the rank to sort them by (None: no rank).

    Words: full-text search over title and content (`websearch_to_tsquery` reads any input
    without a syntax error). No words: the notes containing the text as typed."""
    if await _has_words(session, search):
        terms = func.websearch_to_tsquery("simple", search)
        return query.where(Note.search.op("@@")(terms)), func.ts_rank(Note.search, terms)
    pattern = contains_pattern(search)
    contains = or_(
        Note.title.ilike(pattern, escape=LIKE_ESCAPE),
        Note.content.ilike(pattern, escape=LIKE_ESCAPE),
    )
    return query.where(contains), None


@traced
async def list_notes(
    session: AsyncSession,
    user_id: uuid.UUID,
    page: PageParams,
    *,
    search: str | None = None,
    include_public: bool = False,
) -> tuple[list[tuple[Note, str]], int]:
    """Newest first, or best match first when searching (full text over title + content)."""
    query = _listing(user_id, include_public)
    order: list[Any] = [Note.updated_at.desc(), Note.id]
    if search:
        query, rank = await _matching(session, query, search)
        if rank is not None:
            order = [rank.desc(), *order]
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (
        await session.execute(query.order_by(*order).limit(page.limit).offset(page.offset))
    ).all()
    listed = []
    for note, permission in rows:
        if note.owner_id == user_id:
            access = "owner"
        elif permission is not None:
            access = permission.value
        else:
            access = "public"
        listed.append((note, access))
    return listed, int(total or 0)


@traced
async def update_note(
    session: AsyncSession, user_id: uuid.UUID, note_id: uuid.UUID, changes: dict[str, Any]
) -> tuple[Note, str]:
    note, access = await _visible(session, user_id, note_id)
    if access not in ("owner", "edit"):
        raise AppError(ErrorCode.FORBIDDEN, "You may read this note but not change it")
    if "is_public" in changes and access != "owner":
        raise AppError(ErrorCode.FORBIDDEN, "Only the owner decides whether a note is public")
    for key, value in changes.items():
        setattr(note, key, value)
    await session.flush()
    await session.refresh(note)
    return note, access


async def _owned(session: AsyncSession, user_id: uuid.UUID, note_id: uuid.UUID) -> Note:
    note, access = await _visible(session, user_id, note_id)
    if access != "owner":
        raise AppError(ErrorCode.FORBIDDEN, "Only the note's owner may do this")
    return note


@traced
async def delete_note(session: AsyncSession, user_id: uuid.UUID, note_id: uuid.UUID) -> None:
    await session.delete(await _owned(session, user_id, note_id))
    await session.flush()


@traced
async def share_note(
    session: AsyncSession,
    owner_id: uuid.UUID,
    note_id: uuid.UUID,
    *,
    username: str | None,
    user_id: uuid.UUID | None,
    permission: SharePermission,
) -> NewShare:
    """Share (or change the permission of a share) and queue the recipient's notification.

    The share and the notification task join the caller's transaction: when it commits,
    both are stored (and the workers hear of the task); when it rolls back, neither is."""
    note = await _owned(session, owner_id, note_id)
    recipient = (
        await identity_service.find_by_login(session, username, by_email=False)
        if username is not None
        else await identity_service.get_user(session, user_id)  # type: ignore[arg-type]
    )
    if recipient is None or not recipient.is_active:
        raise not_found("User", UserErrorCode.USER_NOT_FOUND)
    if recipient.id == owner_id:
        raise AppError(ErrorCode.VALIDATION_FAILED, "You cannot share a note with yourself")
    share_id = (
        await session.execute(
            pg_insert(NoteShare)
            .values(
                note_id=note.id, shared_with=recipient.id, shared_by=owner_id, permission=permission
            )
            .on_conflict_do_update(
                constraint="uq_note_shares_note_id_shared_with",
                set_={"permission": permission, "shared_by": owner_id, "updated_at": func.now()},
            )
            .returning(NoteShare.id)
        )
    ).scalar_one()
    task = await tasks_service.create_task(
        session,
        task_type=NOTIFICATION_TASK,
        payload={
            "share_id": str(share_id),
            "note_id": str(note.id),
            "recipient_id": str(recipient.id),
            "shared_by": str(owner_id),
            "permission": permission.value,
            "title": note.title,
        },
        created_by=owner_id,
        metadata={"source": "notes.share"},
    )
    share = await session.get(NoteShare, share_id, populate_existing=True)
    assert share is not None
    return NewShare(share, recipient.username, task.id)


@traced
async def revoke_share(
    session: AsyncSession, owner_id: uuid.UUID, note_id: uuid.UUID, recipient_id: uuid.UUID
) -> None:
    note = await _owned(session, owner_id, note_id)
    removed = await session.execute(
        delete(NoteShare)
        .where(NoteShare.note_id == note.id, NoteShare.shared_with == recipient_id)
        .returning(NoteShare.id)
    )
    if removed.first() is None:
        raise not_found("Share of this note with that user")


@traced
async def list_shares(
    session: AsyncSession, owner_id: uuid.UUID, note_id: uuid.UUID
) -> list[tuple[NoteShare, str]]:
    """Each share with its recipient's username, read in the same query (the page shows names)."""
    note = await _owned(session, owner_id, note_id)
    rows = await session.execute(
        select(NoteShare, User.username)
        .join(User, User.id == NoteShare.shared_with)
        .where(NoteShare.note_id == note.id)
        .order_by(NoteShare.created_at)
    )
    return [(share, username) for share, username in rows]
