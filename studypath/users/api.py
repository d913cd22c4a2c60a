"""Users endpoints (`/api/v1/users/*`) and admin statistics. Thin: rules live in the service."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Body, Depends, Request, Response

from studypath.auth.cookies import clear_session_cookie
from studypath.auth.dependencies import (
    CurrentUser,
    SessionUser,
    usable_while_password_change_required,
)
from studypath.core.db import DbSession
from studypath.core.errors import AppError, ErrorCode, not_found
from studypath.core.pagination import Page, paged
from studypath.core.responses import Envelope, ok
from studypath.identity import service as identity_service
from studypath.identity.errors import UserErrorCode
from studypath.identity.models import User
from studypath.identity.roles import Role
from studypath.identity.schemas import UserProfile
from studypath.rbac.dependencies import Admin, Moderator
from studypath.telemetry.tracing import traced_router
from studypath.users import service
from studypath.users.schemas import (
    AdminUpdateProfile,
    ChangePassword,
    CreateUser,
    DeleteOwnAccount,
    DeleteUser,
    ResetPassword,
    SetRole,
    SetStatus,
    UpdateOwnProfile,
    UserStats,
    UsersWanted,
)

router = traced_router("users")
admin_router = traced_router("admin")


async def own_account(principal: CurrentUser, db: DbSession) -> User:
    user = await identity_service.get_user(db, principal.user_id)
    if user is None:  # deleted between authentication and now
        raise not_found("User", UserErrorCode.USER_NOT_FOUND)
    return user


OwnAccount = Annotated[User, Depends(own_account)]


def profile(user: User) -> UserProfile:
    return UserProfile.model_validate(user)


# --- self-service ------------------------------------------------------------------------------
# Routes with an id use the `uuid` converter: "/users/me" never reaches them, so a method
# "me" does not have (GET /users/me) answers 405 with `Allow`, not a 422 about a bad id.
@router.get("/me/profile", response_model=Envelope[UserProfile])
async def get_own_profile(user: OwnAccount) -> Envelope[UserProfile]:
    return ok(profile(user))


@router.put("/me/profile", response_model=Envelope[UserProfile])
async def update_own_profile(
    body: UpdateOwnProfile, principal: CurrentUser, user: OwnAccount, db: DbSession
) -> Envelope[UserProfile]:
    """Change your username or email; a new email must be verified again. Changing the
    email needs a session (403 for an API key): it is where password resets would go."""
    changes_email = body.email is not None and body.email.lower() != user.email.lower()
    if changes_email and principal.via != "session":
        raise AppError(ErrorCode.FORBIDDEN, "Changing the email needs a session, not an API key")
    updated = await service.update_profile(db, user, username=body.username, email=body.email)
    return ok(profile(updated), "Profile updated")


@router.put("/me/password", response_model=Envelope[None])
@usable_while_password_change_required
async def change_own_password(
    body: ChangePassword, principal: SessionUser, user: OwnAccount, db: DbSession
) -> Envelope[None]:
    """Change your password (a session, not an API key). Your other sessions end and all
    your API keys are revoked; this session stays. Clears "password change required"."""
    ended, revoked = await service.change_own_password(
        db,
        user,
        current=body.current_password,
        new=body.new_password,
        keep_session=principal.session_id,
    )
    return ok(
        None,
        f"Password changed; ended {ended} other session(s) and revoked {revoked} API key(s)",
    )


@router.delete("/me", response_model=Envelope[None])
async def delete_own_account(
    body: DeleteOwnAccount,
    principal: SessionUser,
    user: OwnAccount,
    request: Request,
    response: Response,
    db: DbSession,
) -> Envelope[None]:
    """Delete your account (needs a session, not an API key; soft: the row stays for audit,
    you can no longer log in). Your sessions end; the session cookie is dropped."""
    await service.delete_own_account(db, user, password=body.password)
    clear_session_cookie(response, request)
    return ok(None, "Account deleted")


# --- moderation ----------------------------------------------------------------------------
@router.get("", response_model=Envelope[list[UserProfile]])
async def list_users(
    actor: Moderator, db: DbSession, page: Page, response: Response, wanted: UsersWanted
) -> Envelope[list[UserProfile]]:
    """Users, oldest first (moderators do not see admins). Total in `X-Total-Count`.
    `search` matches part of a username or email literally (`_` and `%` are plain
    characters)."""
    users, total = await service.list_users(db, actor, page, wanted)
    return paged(response, [profile(user) for user in users], total)


@router.get("/{user_id:uuid}", response_model=Envelope[UserProfile])
async def get_user(user_id: uuid.UUID, actor: CurrentUser, db: DbSession) -> Envelope[UserProfile]:
    """Yourself; moderators: any non-admin; admins: anyone. Anyone else: 404."""
    return ok(profile(await service.visible_user(db, actor, user_id)))


@router.put("/{user_id:uuid}/status", response_model=Envelope[UserProfile])
async def set_user_status(
    user_id: uuid.UUID, body: SetStatus, actor: Moderator, db: DbSession
) -> Envelope[UserProfile]:
    """Activate or deactivate; deactivation ends the user's sessions. Moderators act on
    plain users only (another moderator: 403; an admin: 404). `reason` goes to the audit
    log."""
    user = await service.set_status(
        db, actor, user_id, is_active=body.is_active, reason=body.reason
    )
    return ok(profile(user), "User activated" if body.is_active else "User deactivated")


@router.post("/{user_id:uuid}/reset-password", response_model=Envelope[None])
async def reset_user_password(
    user_id: uuid.UUID, body: ResetPassword, actor: Moderator, _: SessionUser, db: DbSession
) -> Envelope[None]:
    """Set a new password for a user: all their sessions end and all their API keys are
    revoked. Needs a session (an API key gets 403). Moderators reset plain users only
    (another moderator: 403; an admin: 404); your own password: 400, use
    `PUT /users/me/password`. `require_change: true` makes the user choose a new password
    before they can do anything else; `reason` goes to the audit log."""
    ended, revoked = await service.reset_password(
        db,
        actor,
        user_id,
        body.new_password,
        require_change=bool(body.require_change),
        reason=body.reason,
    )
    return ok(None, f"Password reset; ended {ended} session(s) and revoked {revoked} API key(s)")


# --- administration ------------------------------------------------------------------------
@router.post("", response_model=Envelope[UserProfile])
async def create_user(body: CreateUser, actor: Admin, db: DbSession) -> Envelope[UserProfile]:
    user = await identity_service.create_user(
        db,
        username=body.username,
        email=body.email,
        password=body.password,
        role=body.role or Role.USER,
    )
    return ok(profile(user), "User created")


@router.put("/{user_id:uuid}/profile", response_model=Envelope[UserProfile])
async def admin_update_profile(
    user_id: uuid.UUID, body: AdminUpdateProfile, actor: Admin, db: DbSession
) -> Envelope[UserProfile]:
    user = await service.visible_user(db, actor, user_id)
    updated = await service.update_profile(
        db, user, username=body.username, email=body.email, email_verified=body.email_verified
    )
    return ok(profile(updated), "Profile updated")


@router.put("/{user_id:uuid}/role", response_model=Envelope[UserProfile])
async def set_user_role(
    user_id: uuid.UUID, body: SetRole, actor: Admin, db: DbSession
) -> Envelope[UserProfile]:
    """Change a role. The last active admin cannot be demoted (409). `reason` goes to the
    audit log."""
    user = await service.set_role(db, user_id, body.role, actor=actor, reason=body.reason)
    return ok(profile(user), "Role updated")


@router.delete("/{user_id:uuid}", response_model=Envelope[None])
async def delete_user(
    user_id: uuid.UUID,
    actor: Admin,
    db: DbSession,
    body: Annotated[DeleteUser | None, Body()] = None,
) -> Envelope[None]:
    """Delete a user (soft by default; `hard_delete` removes the row). Not yourself."""
    options = body or DeleteUser()
    hard = bool(options.hard_delete)
    user = await service.visible_user(db, actor, user_id)
    await service.delete_user(db, user, hard=hard, actor_id=actor.user_id)
    service.audit("deleted", actor, user, options.reason, hard_delete=hard)
    return ok(None, "User deleted permanently" if hard else "User deleted")


@admin_router.get("/users/stats", response_model=Envelope[UserStats])
async def user_stats(actor: Admin, db: DbSession) -> Envelope[UserStats]:
    """Totals, counts by role, verified emails, registrations in the last 24 h / 7 d / 30 d."""
    return ok(UserStats.model_validate(await service.user_stats(db)))
