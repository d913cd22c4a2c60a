"""`notification`: tell a user that a note was shared with them.

Queued by `POST /notes/{id}/share` in the same transaction as the share. Writing the
notification is idempotent (keyed by this task's id), so a retry — say the worker died after
writing but before marking the task done — never notifies twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from studypath.core.validation import InputModel
from studypath.identity.roles import Role
from studypath.notifications import service as notifications
from studypath.tasks.registry import TaskContext, builtin_task


class NotificationPayload(InputModel):
    share_id: uuid.UUID
    note_id: uuid.UUID
    recipient_id: uuid.UUID
    shared_by: uuid.UUID
    permission: str = Field(pattern="^(read|edit)$")
    title: str = Field(max_length=200)


@builtin_task(
    "notification",
    "Notify a user that a note was shared with them",
    payload=NotificationPayload,
    timeout=30,
    # The notes feature queues these itself (no creator, so no role check). Through the API
    # a user could name any recipient and forge a "shared with you" notice: admins only.
    min_role=Role.ADMIN,
)
async def notify_share(payload: NotificationPayload, ctx: TaskContext) -> dict[str, Any]:
    verb = "edit" if payload.permission == "edit" else "read"
    async with ctx.db.sessionmaker.begin() as session:  # this step's own transaction
        written = await notifications.notify_once(
            session,
            user_id=payload.recipient_id,
            kind="note_shared",
            title=f"A note was shared with you: {payload.title}"[:200],
            body=f"You can now {verb} “{payload.title}”.",
            data={
                "note_id": str(payload.note_id),
                "share_id": str(payload.share_id),
                "shared_by": str(payload.shared_by),
                "permission": payload.permission,
            },
            dedupe_key=f"task:{ctx.task_id}",
        )
    return {"notified": str(payload.recipient_id), "written": written}


__all__ = [
    "NotificationPayload",
    "notify_share",
]
