"""Users: create, look up, update, moderate and delete accounts.

Rules that protect the system live here, not in the routes: duplicates are found
case-insensitively; the last active admin can never be demoted, deactivated or deleted;
only admins act on moderators; changing or resetting a password ends sessions and revokes
API keys. Every staff action on an account writes one audit log line (`studypath.audit`):
who, on whom, what, and the `reason` they gave.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.auth import keys as auth_keys
from studypath.auth import sessions as auth_sessions
from studypath.auth.errors import AuthErrorCode
from studypath.core.clock import utcnow
from studypath.core.db import after_commit
from studypath.core.errors import AppError, ErrorCode, not_found
from studypath.core.pagination import PageParams, one_page
from studypath.core.security import hash_password_async, verify_password_async
from studypath.identity.errors import UserErrorCode
from studypath.identity.models import User
from studypath.identity.roles import Role
from studypath.identity.service import (
    check_password_policy,
    create_user,
    ensure_unique,
    flush_or_duplicate,
    get_user,
)
from studypath.rbac.policy import Actor, can_moderate_user, can_view_user
from studypath.telemetry.tracing import traced
from studypath.users.schemas import UserFilter

audit_log = logging.getLogger("studypath.audit")
LIKE_ESCAPE = "\\"


def audit(action: str, actor: Actor, target: User, reason: str | None, **facts: object) -> None:
    """One line per staff action: `user.<action> actor=… target=… reason="…"` (values
    JSON-quoted, so a reason with a newline cannot forge a second line). Written once the
    action's transaction commits (`after_commit`): no audit line for a change never stored."""
    fields = {"actor": str(actor.user_id), "target": str(target.id), **facts, "reason": reason}
    text = " ".join(f"{key}={json.dumps(value, default=str)}" for key, value in fields.items())
    audit_log.info("user.%s %s", action, text, extra={"event": f"user.{action}", **fields})


@traced
async def update_profile(
    db: AsyncSession,
    user: User,
    *,
    username: str | None = None,
    email: str | None = None,
    email_verified: bool | None = None,
) -> User:
    await ensure_unique(db, username=username, email=email, exclude=user.id)
    if username is not None:
        user.username = username
    if email is not None and email.lower() != user.email.lower():
        user.email = email
        user.email_verified = False  # a new address is unproven
    if email_verified is not None:
        user.email_verified = email_verified
    await flush_or_duplicate(db)
    await db.refresh(user)
    return user


@traced
async def change_own_password(
    db: AsyncSession, user: User, *, current: str, new: str, keep_session: uuid.UUID | None
) -> tuple[int, int]:
    """Set a new password; the user's other sessions end and every API key is revoked (a
    password change is what you do when you fear someone else got in). Clears a pending
    "password change required". Returns (other sessions ended, keys revoked)."""
    if not await verify_password_async(user.password_hash, current):
        raise AppError(AuthErrorCode.INVALID_CREDENTIALS, "Current password is wrong")
    if current == new:
        raise AppError(ErrorCode.VALIDATION_FAILED, "New password must differ from the current one")
    check_password_policy(new, field="new_password")
    user.password_hash = await hash_password_async(new)
    user.password_change_required = False
    ended = await auth_sessions.end_user_sessions(db, user.id, keep=keep_session)
    revoked = await auth_keys.revoke_all(db, user.id)
    await db.flush()
    return ended, revoked


async def _lock_active_admins(db: AsyncSession) -> list[uuid.UUID]:
    """Lock the active admins' rows, so two requests cannot remove the last two at once."""
    rows = await db.scalars(
        select(User.id)
        .where(User.role == Role.ADMIN, User.is_active.is_(True), User.deleted_at.is_(None))
        .with_for_update()
    )
    return list(rows)


async def _ensure_not_last_admin(db: AsyncSession, user: User, action: str) -> None:
    if user.role is not Role.ADMIN or not user.is_active or user.deleted_at is not None:
        return
    admins = await _lock_active_admins(db)
    if admins == [user.id]:
        raise AppError(
            ErrorCode.CONFLICT,
            f"Cannot {action} the last active admin; make another user admin first",
        )


@traced
async def visible_user(db: AsyncSession, actor: Actor, user_id: uuid.UUID) -> User:
    user = await get_user(db, user_id)
    if user is None or not can_view_user(actor, user.id, user.role):
        raise not_found("User", UserErrorCode.USER_NOT_FOUND)
    return user


async def moderated_user(db: AsyncSession, actor: Actor, user_id: uuid.UUID) -> User:
    """A user the actor may moderate. One the actor may not even see is 404 (a moderator
    asking about an admin); one they see but may not act on is 403 (a moderator acting on
    another moderator)."""
    user = await visible_user(db, actor, user_id)
    if user.id != actor.user_id and not can_moderate_user(actor, user.role):
        raise AppError(ErrorCode.FORBIDDEN, f"Only admins act on {user.role.value}s")
    return user


@traced
async def set_status(
    db: AsyncSession,
    actor: Actor,
    user_id: uuid.UUID,
    *,
    is_active: bool,
    reason: str | None = None,
) -> User:
    user = await moderated_user(db, actor, user_id)
    if user.id == actor.user_id and not is_active:
        raise AppError(ErrorCode.CONFLICT, "You cannot deactivate your own account")
    if not is_active:
        await _ensure_not_last_admin(db, user, "deactivate")
        await auth_sessions.end_user_sessions(db, user.id)
    user.is_active = is_active
    await db.flush()
    await db.refresh(user)
    action = "activated" if is_active else "deactivated"
    after_commit(db, lambda: audit(action, actor, user, reason))
    return user


@traced
async def reset_password(
    db: AsyncSession,
    actor: Actor,
    user_id: uuid.UUID,
    new_password: str,
    *,
    require_change: bool = False,
    reason: str | None = None,
) -> tuple[int, int]:
    """Set a user's password (moderation): all their sessions end and all their API keys
    are revoked. With `require_change` the user must pick a new password before anything
    else. Not for yourself: you change your own with your current password. Returns
    (sessions ended, keys revoked)."""
    if user_id == actor.user_id:
        raise AppError(
            ErrorCode.VALIDATION_FAILED,
            "You cannot reset your own password: use PUT /users/me/password",
        )
    user = await moderated_user(db, actor, user_id)
    check_password_policy(new_password, field="new_password")
    user.password_hash = await hash_password_async(new_password)
    user.password_change_required = require_change
    ended = await auth_sessions.end_user_sessions(db, user.id)
    revoked = await auth_keys.revoke_all(db, user.id)
    await db.flush()
    after_commit(
        db, lambda: audit("password_reset", actor, user, reason, require_change=require_change)
    )
    return ended, revoked


@traced
async def set_role(
    db: AsyncSession,
    user_id: uuid.UUID,
    role: Role,
    *,
    actor: Actor | None = None,
    reason: str | None = None,
) -> User:
    """Change a role (`actor` None: the command line). The last active admin stays one."""
    user = await get_user(db, user_id)
    if user is None:
        raise not_found("User", UserErrorCode.USER_NOT_FOUND)
    if role is not Role.ADMIN:
        await _ensure_not_last_admin(db, user, "demote")
    previous = user.role
    user.role = role
    await db.flush()
    await db.refresh(user)
    if actor is not None:
        staff = actor
        after_commit(
            db,
            lambda: audit(
                "role_changed", staff, user, reason, role=role.value, previous=previous.value
            ),
        )
    return user


@traced
async def delete_user(
    db: AsyncSession, user: User, *, hard: bool = False, actor_id: uuid.UUID | None = None
) -> None:
    """Soft delete (keeps the row, frees nothing) or hard delete (row gone, sessions and keys
    with it). Either way every session and key stops working at once."""
    if actor_id is not None and user.id == actor_id:
        raise AppError(ErrorCode.CONFLICT, "Use DELETE /api/v1/users/me to delete your own account")
    await _ensure_not_last_admin(db, user, "delete")
    await auth_sessions.end_user_sessions(db, user.id)
    await auth_keys.revoke_all(db, user.id)
    if hard:
        await db.delete(user)
    else:
        user.deleted_at = utcnow()
        user.is_active = False
    await db.flush()


@traced
async def delete_own_account(db: AsyncSession, user: User, *, password: str) -> None:
    """A wrong password is a 400 naming the field, as in the guide's system: a 401 on a
    valid session would make clients sign the user out."""
    if not await verify_password_async(user.password_hash, password):
        raise AppError(
            ErrorCode.VALIDATION_FAILED,
            "Password is wrong",
            details=[{"field": "password", "message": "does not match your current password"}],
        )
    await delete_user(db, user)


def like_literal(text_: str) -> str:
    """`text_` as a LIKE pattern that matches only itself: `%`, `_` and `\\` escaped."""
    return (
        text_.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


@traced
async def list_users(
    db: AsyncSession, actor: Actor, page: PageParams, wanted: UserFilter
) -> tuple[list[User], int]:
    """Users that match `wanted`, oldest first; moderators do not see admins (hidden: 404)."""
    query = select(User).where(User.deleted_at.is_(None))
    if actor.role is not Role.ADMIN:
        query = query.where(User.role != Role.ADMIN)
    if wanted.role is not None:
        query = query.where(User.role == wanted.role)
    if wanted.is_active is not None:
        query = query.where(User.is_active.is_(wanted.is_active))
    if wanted.search:
        pattern = f"%{like_literal(wanted.search.lower())}%"
        query = query.where(
            or_(
                func.lower(User.username).like(pattern, escape=LIKE_ESCAPE),
                func.lower(User.email).like(pattern, escape=LIKE_ESCAPE),
            )
        )
    return await one_page(db, query, page, User.created_at, User.id)


@traced
async def user_stats(db: AsyncSession) -> dict[str, Any]:
    now = utcnow()
    row = (
        await db.execute(
            select(
                func.count().label("total"),
                func.count()
                .filter(User.is_active.is_(True), User.deleted_at.is_(None))
                .label("active"),
                func.count()
                .filter(User.is_active.is_(False), User.deleted_at.is_(None))
                .label("inactive"),
                func.count().filter(User.deleted_at.is_not(None)).label("deleted"),
                func.count()
                .filter(User.email_verified.is_(True), User.deleted_at.is_(None))
                .label("verified"),
                func.count().filter(User.created_at >= now - timedelta(days=1)).label("d1"),
                func.count().filter(User.created_at >= now - timedelta(days=7)).label("d7"),
                func.count().filter(User.created_at >= now - timedelta(days=30)).label("d30"),
            )
        )
    ).one()
    by_role = dict(
        (
            await db.execute(
                select(User.role, func.count()).where(User.deleted_at.is_(None)).group_by(User.role)
            )
        ).all()
    )
    return {
        "total": row.total,
        "active": row.active,
        "inactive": row.inactive,
        "deleted": row.deleted,
        "email_verified": row.verified,
        "by_role": {role.value: int(by_role.get(role, 0)) for role in Role},
        "recent_registrations": {"last_24h": row.d1, "last_7d": row.d7, "last_30d": row.d30},
    }


async def ensure_initial_admin(db: AsyncSession, password: str) -> User | None:
    """Create `admin` / `admin@example.com` if there is no admin at all; returns it if created.

    Serialized with an advisory lock, so several processes starting at once create one.
    """
    await db.execute(text("SELECT pg_advisory_xact_lock(7420002)"))
    existing = await db.scalar(
        select(User.id).where(User.role == Role.ADMIN, User.deleted_at.is_(None)).limit(1)
    )
    if existing is not None:
        return None  # the lock is released when the caller's transaction ends
    return await create_user(
        db,
        username="admin",
        email="admin@example.com",
        password=password,
        role=Role.ADMIN,
        email_verified=True,
    )
