"""Notifications endpoints (`/api/v1/notifications`): your own only."""

from __future__ import annotations

import uuid

from fastapi import Response

from studypath.auth.dependencies import CurrentUser
from studypath.core.db import DbSession
from studypath.core.pagination import Page, paged
from studypath.core.responses import Envelope, ok
from studypath.notifications import service
from studypath.notifications.schemas import NotificationOut
from studypath.telemetry.tracing import traced_router

router = traced_router("notifications")


@router.get("", response_model=Envelope[list[NotificationOut]])
async def list_notifications(
    principal: CurrentUser,
    db: DbSession,
    page: Page,
    response: Response,
    unread_only: bool = False,
) -> Envelope[list[NotificationOut]]:
    """Yours, newest first. `X-Total-Count`, and `X-Unread-Count` for a badge."""
    rows, total, unread = await service.list_notifications(
        db, principal.user_id, page, unread_only=unread_only
    )
    response.headers["X-Unread-Count"] = str(unread)
    return paged(response, [NotificationOut.model_validate(row) for row in rows], total)


@router.post("/{notification_id:uuid}/read", response_model=Envelope[NotificationOut])
async def mark_read(
    notification_id: uuid.UUID, principal: CurrentUser, db: DbSession
) -> Envelope[NotificationOut]:
    row = await service.mark_read(db, principal.user_id, notification_id)
    return ok(NotificationOut.model_validate(row), "Marked as read")


@router.post("/read-all", response_model=Envelope[None])
async def mark_all_read(principal: CurrentUser, db: DbSession) -> Envelope[None]:
    marked = await service.mark_all_read(db, principal.user_id)
    return ok(None, f"Marked {marked} notification(s) as read")
