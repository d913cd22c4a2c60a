"""Lab 5 · the notes feature, built as an extension that plugs into the running system.

`studypath labs check lab-05-notes` installs this module into a live Workbench
(`wb.install(notes_lab)`), then calls its endpoints over HTTP and looks into its tables:

- Step 1 · `migrate(conn)` creates the tables, in a schema of their own (`lab_notes`), so the
  lab never touches the system's tables (it only points at `users`);
- Step 2 · the service functions hold the SQL and the access rules;
- Step 3 · the endpoints (`router`, mounted at `/api/v1/lab`) stay thin: they call the service;
- Step 4 · `notify_share` runs the `lab_note_shared` task that sharing queues, and notifies
  the recipient exactly once.

Who may do what, as in the finished feature (`studypath/notes/service.py`): the owner may do
everything; a share recipient may read (`read`) or also edit (`edit`) — but not make the note
public; a public note may be read by any signed-in user. Anyone else gets 404: a note you may
not see does not exist for you. Someone who may see a note but not do what they asked gets 403.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from studypath.auth.dependencies import CurrentUser
from studypath.core.db import DbSession
from studypath.core.errors import AppError, ErrorCode
from studypath.core.pagination import Page, PageParams
from studypath.core.responses import Envelope, ok
from studypath.identity import service as identity_service
from studypath.identity.errors import UserErrorCode
from studypath.tasks import TaskContext, TaskRegistry
from studypath.tasks import service as tasks_service
from studypath.telemetry.tracing import TracedRoute, traced

SHARE_TASK = "lab_note_shared"
Row = dict[str, Any]  # one row of a query, column name -> value
Permission = Literal["read", "edit"]


# --- request and response shapes (given) ------------------------------------------------------
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Content = Annotated[str, Field(max_length=100 * 1024)]  # the guide's "content ≤ 100 KB"


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
    permission: Permission = "read"

    @model_validator(mode="after")
    def _one_recipient(self) -> Self:
        if (self.username is None) == (self.user_id is None):
            raise ValueError("give exactly one of username or user_id")
        return self


class ShareOut(BaseModel):
    id: uuid.UUID
    note_id: uuid.UUID
    shared_with: uuid.UUID
    shared_by: uuid.UUID | None
    permission: Permission
    created_at: datetime
    notification_task_id: uuid.UUID | None = None


class NotificationOut(BaseModel):
    id: uuid.UUID
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    read_at: datetime | None
    created_at: datetime


class ShareNotification(BaseModel):
    """The payload of a `lab_note_shared` task."""

    model_config = ConfigDict(extra="forbid")

    share_id: uuid.UUID
    note_id: uuid.UUID
    recipient_id: uuid.UUID
    shared_by: uuid.UUID
    permission: Permission
    title: str = Field(max_length=200)


# --- Step 1 · the tables ------------------------------------------------------------------------
async def migrate(conn: AsyncConnection) -> None:
    """Create schema `lab_notes` with `notes`, `note_shares` and `notifications` (README.md
    lists their columns). Runs in one transaction when the lab is installed; write it so that
    running it twice is harmless (`IF NOT EXISTS`)."""
    ### BEGIN SOLUTION Step 1
    await conn.exec_driver_sql(
        """
        CREATE SCHEMA IF NOT EXISTS lab_notes;

        CREATE TABLE IF NOT EXISTS lab_notes.notes (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            title varchar(200) NOT NULL,
            content text NOT NULL DEFAULT '',
            is_public boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS ix_notes_owner_updated
            ON lab_notes.notes (owner_id, updated_at DESC);

        CREATE TABLE IF NOT EXISTS lab_notes.note_shares (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            note_id uuid NOT NULL REFERENCES lab_notes.notes (id) ON DELETE CASCADE,
            shared_with uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            shared_by uuid REFERENCES users (id) ON DELETE SET NULL,
            permission text NOT NULL DEFAULT 'read' CHECK (permission IN ('read', 'edit')),
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (note_id, shared_with)
        );
        CREATE INDEX IF NOT EXISTS ix_note_shares_shared_with
            ON lab_notes.note_shares (shared_with);

        CREATE TABLE IF NOT EXISTS lab_notes.notifications (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            kind text NOT NULL,
            title varchar(200) NOT NULL,
            body text NOT NULL DEFAULT '',
            data jsonb NOT NULL DEFAULT '{}',
            dedupe_key text NOT NULL UNIQUE,
            read_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS ix_notifications_user_created
            ON lab_notes.notifications (user_id, created_at DESC);
        """
    )
    ### END SOLUTION


# --- Step 2 · the service -----------------------------------------------------------------------
def note_not_found() -> AppError:
    return AppError(ErrorCode.NOT_FOUND, "Note not found")


@traced
async def get_note(session: AsyncSession, user_id: uuid.UUID, note_id: uuid.UUID) -> Row:
    """The note as `user_id` sees it: its columns plus `access` (owner, edit, read or
    public). 404 if they may not see it."""
    ### BEGIN SOLUTION Step 2
    found = await session.execute(
        text(
            """
            SELECT n.*,
                   CASE WHEN n.owner_id = :user THEN 'owner'
                        WHEN s.permission IS NOT NULL THEN s.permission
                        WHEN n.is_public THEN 'public'
                   END AS access
            FROM lab_notes.notes AS n
            LEFT JOIN lab_notes.note_shares AS s ON s.note_id = n.id AND s.shared_with = :user
            WHERE n.id = :note
            """
        ),
        {"user": user_id, "note": note_id},
    )
    row = found.mappings().first()
    if row is None or row["access"] is None:
        raise note_not_found()
    return dict(row)
    ### END SOLUTION


async def owned_note(session: AsyncSession, user_id: uuid.UUID, note_id: uuid.UUID) -> Row:
    """The note if `user_id` owns it; 404 if they may not see it, 403 if they only may."""
    ### BEGIN SOLUTION Step 2
    note = await get_note(session, user_id, note_id)
    if note["access"] != "owner":
        raise AppError(ErrorCode.FORBIDDEN, "Only the note's owner may do this")
    return note
    ### END SOLUTION


@traced
async def create_note(
    session: AsyncSession, owner_id: uuid.UUID, *, title: str, content: str, is_public: bool
) -> Row:
    """Store a new note of `owner_id`; returns it with access `owner`."""
    ### BEGIN SOLUTION Step 2
    created = await session.execute(
        text(
            """
            INSERT INTO lab_notes.notes (owner_id, title, content, is_public)
            VALUES (:owner, :title, :content, :is_public)
            RETURNING *, 'owner' AS access
            """
        ),
        {"owner": owner_id, "title": title, "content": content, "is_public": is_public},
    )
    note = dict(created.mappings().one())
    await session.commit()
    return note
    ### END SOLUTION


@traced
async def list_notes(
    session: AsyncSession, user_id: uuid.UUID, page: PageParams, *, include_public: bool = False
) -> tuple[list[Row], int]:
    """Own notes and notes shared with `user_id` (and public ones if asked), each with its
    access, most recently updated first; returns (this page, total)."""
    ### BEGIN SOLUTION Step 2
    visible = """
        FROM lab_notes.notes AS n
        LEFT JOIN lab_notes.note_shares AS s ON s.note_id = n.id AND s.shared_with = :user
        WHERE n.owner_id = :user OR s.id IS NOT NULL OR (:public AND n.is_public)
    """
    params = {"user": user_id, "public": include_public}
    total = await session.scalar(text(f"SELECT count(*) {visible}"), params)
    rows = await session.execute(
        text(
            f"""
            SELECT n.*,
                   CASE WHEN n.owner_id = :user THEN 'owner'
                        WHEN s.permission IS NOT NULL THEN s.permission
                        ELSE 'public'
                   END AS access
            {visible}
            ORDER BY n.updated_at DESC, n.id
            LIMIT :limit OFFSET :offset
            """
        ),
        {**params, "limit": page.limit, "offset": page.offset},
    )
    return [dict(row) for row in rows.mappings()], int(total or 0)
    ### END SOLUTION


@traced
async def update_note(
    session: AsyncSession, user_id: uuid.UUID, note_id: uuid.UUID, changes: dict[str, Any]
) -> Row:
    """Apply `changes` (title, content, is_public — only those given) for the owner or an
    `edit` recipient; only the owner may change `is_public` (403 for the others)."""
    ### BEGIN SOLUTION Step 2
    note = await get_note(session, user_id, note_id)
    if note["access"] not in ("owner", "edit"):
        raise AppError(ErrorCode.FORBIDDEN, "You may read this note but not change it")
    if "is_public" in changes and note["access"] != "owner":
        raise AppError(ErrorCode.FORBIDDEN, "Only the owner decides whether a note is public")
    updated = await session.execute(
        text(
            """
            UPDATE lab_notes.notes
            SET title = coalesce(:title, title),
                content = coalesce(:content, content),
                is_public = coalesce(:is_public, is_public),
                updated_at = now()
            WHERE id = :note
            RETURNING *
            """
        ),
        {
            "note": note_id,
            "title": changes.get("title"),
            "content": changes.get("content"),
            "is_public": changes.get("is_public"),
        },
    )
    changed = {**updated.mappings().one(), "access": note["access"]}
    await session.commit()
    return changed
    ### END SOLUTION


@traced
async def delete_note(session: AsyncSession, user_id: uuid.UUID, note_id: uuid.UUID) -> None:
    """The owner deletes the note; its shares go with it."""
    ### BEGIN SOLUTION Step 2
    await owned_note(session, user_id, note_id)
    await session.execute(text("DELETE FROM lab_notes.notes WHERE id = :note"), {"note": note_id})
    await session.commit()
    ### END SOLUTION


@traced
async def share_note(
    session: AsyncSession,
    owner_id: uuid.UUID,
    note_id: uuid.UUID,
    *,
    username: str | None,
    user_id: uuid.UUID | None,
    permission: Permission,
) -> tuple[Row, uuid.UUID]:
    """Share the note (or change the permission of an existing share) and queue the
    recipient's `lab_note_shared` notification task — both in ONE transaction: either both
    happen or neither does. Unknown or inactive recipient: 404 USER_NOT_FOUND; yourself: 400.
    Returns (the share row, the task's id)."""
    ### BEGIN SOLUTION Step 2
    note = await owned_note(session, owner_id, note_id)
    recipient = (
        await identity_service.find_by_login(session, username, by_email=False)
        if username is not None
        else await identity_service.get_user(session, user_id)  # type: ignore[arg-type]
    )
    if recipient is None or not recipient.is_active:
        raise AppError(UserErrorCode.USER_NOT_FOUND, "User not found")
    if recipient.id == owner_id:
        raise AppError(ErrorCode.VALIDATION_FAILED, "You cannot share a note with yourself")
    shared = await session.execute(
        text(
            """
            INSERT INTO lab_notes.note_shares (note_id, shared_with, shared_by, permission)
            VALUES (:note, :recipient, :owner, :permission)
            ON CONFLICT (note_id, shared_with)
            DO UPDATE SET permission = excluded.permission, shared_by = excluded.shared_by
            RETURNING *
            """
        ),
        {"note": note_id, "recipient": recipient.id, "owner": owner_id, "permission": permission},
    )
    share = dict(shared.mappings().one())
    task = await tasks_service.create_task(  # commits: the share and the task together
        session,
        task_type=SHARE_TASK,
        payload=ShareNotification(
            share_id=share["id"],
            note_id=note_id,
            recipient_id=recipient.id,
            shared_by=owner_id,
            permission=permission,
            title=note["title"],
        ).model_dump(mode="json"),
        created_by=owner_id,
        metadata={"source": "lab-05-notes"},
    )
    return share, task.id
    ### END SOLUTION


@traced
async def revoke_share(
    session: AsyncSession, owner_id: uuid.UUID, note_id: uuid.UUID, recipient_id: uuid.UUID
) -> None:
    """The owner stops sharing with `recipient_id`; 404 if the note was not shared with them."""
    ### BEGIN SOLUTION Step 2
    await owned_note(session, owner_id, note_id)
    removed = await session.execute(
        text(
            "DELETE FROM lab_notes.note_shares WHERE note_id = :note AND shared_with = :user "
            "RETURNING id"
        ),
        {"note": note_id, "user": recipient_id},
    )
    if removed.first() is None:
        raise AppError(ErrorCode.NOT_FOUND, "This note is not shared with that user")
    await session.commit()
    ### END SOLUTION


@traced
async def list_notifications(
    session: AsyncSession, user_id: uuid.UUID, page: PageParams
) -> list[Row]:
    """`user_id`'s notifications, newest first."""
    ### BEGIN SOLUTION Step 2
    rows = await session.execute(
        text(
            """
            SELECT * FROM lab_notes.notifications WHERE user_id = :user
            ORDER BY created_at DESC, id LIMIT :limit OFFSET :offset
            """
        ),
        {"user": user_id, "limit": page.limit, "offset": page.offset},
    )
    return [dict(row) for row in rows.mappings()]
    ### END SOLUTION


# --- Step 3 · the endpoints (mounted at /api/v1/lab) ------------------------------------------
router = APIRouter(tags=["lab: notes"], route_class=TracedRoute)


@router.get("/notes", response_model=Envelope[list[NoteOut]])
async def list_notes_route(
    principal: CurrentUser,
    db: DbSession,
    page: Page,
    response: Response,
    include_public: bool = False,
) -> Envelope[list[NoteOut]]:
    """Your notes and notes shared with you (and public ones, if asked). Total in
    `X-Total-Count`."""
    ### BEGIN SOLUTION Step 3
    rows, total = await list_notes(db, principal.user_id, page, include_public=include_public)
    response.headers["X-Total-Count"] = str(total)
    return ok([NoteOut.model_validate(row) for row in rows])
    ### END SOLUTION


@router.post("/notes", response_model=Envelope[NoteOut], status_code=status.HTTP_201_CREATED)
async def create_note_route(
    body: CreateNote, principal: CurrentUser, db: DbSession
) -> Envelope[NoteOut]:
    ### BEGIN SOLUTION Step 3
    note = await create_note(db, principal.user_id, **body.model_dump())
    return ok(NoteOut.model_validate(note), "Note created")
    ### END SOLUTION


@router.get("/notes/{note_id}", response_model=Envelope[NoteOut])
async def get_note_route(
    note_id: uuid.UUID, principal: CurrentUser, db: DbSession
) -> Envelope[NoteOut]:
    """The owner, a share recipient, or anyone if it is public. Otherwise 404."""
    ### BEGIN SOLUTION Step 3
    return ok(NoteOut.model_validate(await get_note(db, principal.user_id, note_id)))
    ### END SOLUTION


@router.put("/notes/{note_id}", response_model=Envelope[NoteOut])
async def update_note_route(
    note_id: uuid.UUID, body: UpdateNote, principal: CurrentUser, db: DbSession
) -> Envelope[NoteOut]:
    """The owner, or a recipient with `edit` (who cannot change `is_public`)."""
    ### BEGIN SOLUTION Step 3
    changes = body.model_dump(exclude_unset=True)
    note = await update_note(db, principal.user_id, note_id, changes)
    return ok(NoteOut.model_validate(note), "Note updated")
    ### END SOLUTION


@router.delete("/notes/{note_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_note_route(note_id: uuid.UUID, principal: CurrentUser, db: DbSession) -> Response:
    """The owner only; its shares go with it."""
    ### BEGIN SOLUTION Step 3
    await delete_note(db, principal.user_id, note_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
    ### END SOLUTION


@router.post(
    "/notes/{note_id}/share", response_model=Envelope[ShareOut], status_code=status.HTTP_201_CREATED
)
async def share_note_route(
    note_id: uuid.UUID, body: ShareNote, principal: CurrentUser, db: DbSession
) -> Envelope[ShareOut]:
    """Share with a user (by `username` or `user_id`) to `read` or `edit`; sharing again
    changes the permission. The recipient is notified by a background task."""
    ### BEGIN SOLUTION Step 3
    share, task_id = await share_note(
        db,
        principal.user_id,
        note_id,
        username=body.username,
        user_id=body.user_id,
        permission=body.permission,
    )
    return ok(ShareOut.model_validate({**share, "notification_task_id": task_id}), "Note shared")
    ### END SOLUTION


@router.delete("/notes/{note_id}/share/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_share_route(
    note_id: uuid.UUID, user_id: uuid.UUID, principal: CurrentUser, db: DbSession
) -> Response:
    """Stop sharing with that user; their access ends at once."""
    ### BEGIN SOLUTION Step 3
    await revoke_share(db, principal.user_id, note_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
    ### END SOLUTION


@router.get("/notifications", response_model=Envelope[list[NotificationOut]])
async def list_notifications_route(
    principal: CurrentUser, db: DbSession, page: Page
) -> Envelope[list[NotificationOut]]:
    """Your notifications, newest first."""
    ### BEGIN SOLUTION Step 3
    rows = await list_notifications(db, principal.user_id, page)
    return ok([NotificationOut.model_validate(row) for row in rows])
    ### END SOLUTION


# --- Step 4 · the share notification, run by the worker ---------------------------------------
async def notify_share(payload: ShareNotification, ctx: TaskContext) -> dict[str, Any]:
    """Write the recipient's notification (kind `note_shared`, `data` with the note's id and
    the permission) — exactly once: a task retried after it wrote (say its worker died before
    marking it done) must not notify twice. Hint: `ctx.task_id` is the same on every attempt."""
    ### BEGIN SOLUTION Step 4
    verb = "edit" if payload.permission == "edit" else "read"
    statement = text(
        """
        INSERT INTO lab_notes.notifications (user_id, kind, title, body, data, dedupe_key)
        VALUES (:user, 'note_shared', :title, :body, :data, :key)
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING id
        """
    ).bindparams(bindparam("data", type_=JSONB))
    async with ctx.db.engine.begin() as conn:
        inserted = await conn.execute(
            statement,
            {
                "user": payload.recipient_id,
                "title": f"A note was shared with you: {payload.title}"[:200],
                "body": f"You can now {verb} “{payload.title}”.",
                "data": {
                    "note_id": str(payload.note_id),
                    "share_id": str(payload.share_id),
                    "shared_by": str(payload.shared_by),
                    "permission": payload.permission,
                },
                "key": f"task:{ctx.task_id}",  # the same on every attempt of this task
            },
        )
    return {"notified": str(payload.recipient_id), "written": inserted.first() is not None}
    ### END SOLUTION


def register(registry: TaskRegistry) -> None:
    """(Given.) `notify_share` runs the `lab_note_shared` tasks that `share_note` queues."""
    registry.register(
        SHARE_TASK,
        "Lab 5: tell a user that a note was shared with them",
        payload=ShareNotification,
        timeout=30,
    )(notify_share)
