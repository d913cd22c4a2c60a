"""Notifications: write one exactly once, list a user's, mark them read."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.core.errors import not_found
from studypath.core.pagination import PageParams
from studypath.notifications.models import Notification
from studypath.telemetry.tracing import traced


@traced
async def notify_once(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    kind: str,
    title: str,
    body: str,
    data: dict[str, Any],
    dedupe_key: str,
) -> bool:
    """Write a notification unless one with `dedupe_key` exists; True if this call wrote it.

    The key makes the write idempotent: a task retried after it already wrote (its worker
    died between the INSERT and marking the task done) does not notify twice."""
    inserted = await session.execute(
        pg_insert(Notification)
        .values(
            user_id=user_id, kind=kind, title=title, body=body, data=data, dedupe_key=dedupe_key
        )
        .on_conflict_do_nothing(index_elements=[Notification.dedupe_key])
        .returning(Notification.id)
    )
    return inserted.first() is not None


@traced
async def list_notifications(
    session: AsyncSession, user_id: uuid.UUID, page: PageParams, *, unread_only: bool = False
) -> tuple[list[Notification], int, int]:
    """Newest first; returns (page, total, unread)."""
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    unread = await session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    rows = await session.scalars(
        query.order_by(Notification.created_at.desc()).limit(page.limit).offset(page.offset)
    )
    return list(rows), int(total or 0), int(unread or 0)


@traced
async def mark_read(
    session: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID
) -> Notification:
    notification = await session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        raise not_found("Notification")
    if notification.read_at is None:
        notification.read_at = func.now()
        await session.flush()
        await session.refresh(notification)
    return notification


@traced
async def mark_all_read(session: AsyncSession, user_id: uuid.UUID) -> int:
    result = await session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=func.now())
        .returning(Notification.id)
    )
    return len(result.all())
