"""Auth endpoints (`/api/v1/auth/*`) and API keys (`/api/v1/api-keys`). Thin: the rules live
in the services."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import Request, Response

from studypath.auth import keys, service, sessions
from studypath.auth.cookies import SESSION_COOKIE, clear_session_cookie, set_session_cookie
from studypath.auth.dependencies import (
    CurrentUser,
    SessionUser,
    usable_while_password_change_required,
)
from studypath.auth.policies import login_throttles, registration_throttles, session_policy
from studypath.auth.schemas import (
    ApiKeyCreated,
    ApiKeyInfo,
    CreateApiKey,
    LoginRequest,
    LoginResponse,
    Me,
    RefreshResponse,
    RegisterRequest,
)
from studypath.core.clock import utcnow
from studypath.core.db import DbSession
from studypath.core.errors import AppError, ErrorCode, not_found
from studypath.core.responses import Envelope, ok
from studypath.core.state import app_state
from studypath.identity.schemas import UserProfile
from studypath.telemetry.tracing import traced_router

router = traced_router("auth")
keys_router = traced_router("api-keys")


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post("/register", response_model=Envelope[UserProfile])
async def register(body: RegisterRequest, request: Request, db: DbSession) -> Envelope[UserProfile]:
    """Create an account (role `user`). Usernames and emails are unique case-insensitively.

    Attempts are limited per client address and for the whole server: 429 `RATE_LIMITED`
    with `Retry-After`."""
    user = await service.register(
        db,
        username=body.username,
        email=body.email,
        password=body.password,
        client_address=client_address(request),
        throttles=registration_throttles(app_state(request).settings),
    )
    return ok(UserProfile.model_validate(user), "Registration successful")


@router.post("/login", response_model=Envelope[LoginResponse])
async def login(
    body: LoginRequest, request: Request, response: Response, db: DbSession
) -> Envelope[LoginResponse]:
    """Exchange a username (or email) and password for a session token.

    The token is in the body (send it as `Authorization: Bearer`) and in an HttpOnly cookie,
    `studypath_session`, for the web app: a request authenticated by the cookie that changes
    something must come from this server's origin (`Origin`, else `Referer`; 403 otherwise).

    Failed logins are limited per client address and per account at an address (429 with
    `Retry-After`); an account failing from many addresses answers more and more slowly but
    is never locked for its owner. A malformed request (NUL byte, lone surrogate: 400) checks
    no password and is not counted. If `user.password_change_required` is true, the session
    can only read `/auth/me`, log out and `PUT /users/me/password` until the password is
    changed."""
    settings = app_state(request).settings
    result = await service.login(
        db,
        identifier=body.identifier,
        by_email=body.email is not None,
        password=body.password,
        client_address=client_address(request),
        user_agent=body.user_agent or request.headers.get("user-agent"),
        session_policy=session_policy(settings),
        throttles=login_throttles(settings),
    )
    set_session_cookie(response, request, result.token, settings.session_lifetime_seconds)
    return ok(
        LoginResponse(
            session_token=result.token,
            expires_at=result.session.expires_at,
            user=UserProfile.model_validate(result.user),
        ),
        "Login successful",
    )


@router.post("/logout", response_model=Envelope[None])
@usable_while_password_change_required
async def logout(
    principal: SessionUser, request: Request, response: Response, db: DbSession
) -> Envelope[None]:
    """End this session; its token stops working at once (and the cookie is dropped)."""
    assert principal.session_id is not None
    await service.logout(db, principal.session_id)
    clear_session_cookie(response, request)
    return ok(None, "Logged out")


@router.post("/logout-all", response_model=Envelope[None])
@usable_while_password_change_required
async def logout_all(
    principal: SessionUser, request: Request, response: Response, db: DbSession
) -> Envelope[None]:
    """Sign out everywhere: end every session of the caller (this one included, its cookie
    dropped) and revoke every API key."""
    ended, revoked = await service.logout_all(db, principal.user_id)
    clear_session_cookie(response, request)
    return ok(None, f"Ended {ended} session(s) and revoked {revoked} API key(s)")


@router.get("/me", response_model=Envelope[Me])
@usable_while_password_change_required
async def me(principal: CurrentUser) -> Envelope[Me]:
    """Who you are. `password_change_required`: see `POST /auth/login`."""
    return ok(
        Me(
            id=principal.user_id,
            username=principal.username,
            email=principal.email,
            role=principal.role,
            password_change_required=principal.password_change_required,
        )
    )


@router.post("/refresh", response_model=Envelope[RefreshResponse])
async def refresh(
    principal: SessionUser, request: Request, response: Response, db: DbSession
) -> Envelope[RefreshResponse]:
    """Extend this session to a full lifetime from now (a session sent as the cookie gets the
    cookie again, with a full lifetime). A session never refreshed may refresh at once; after
    that, 409 `CONFLICT` within 5 minutes of its last refresh."""
    assert principal.session_id is not None
    settings = app_state(request).settings
    try:
        row = await sessions.refresh_session(db, principal.session_id, session_policy(settings))
    except sessions.RefreshTooSoon as exc:
        raise AppError(
            ErrorCode.CONFLICT, f"Session was refreshed less than 5 minutes ago; {exc}"
        ) from None
    assert row.refreshed_at is not None
    if principal.from_cookie:
        token = request.cookies[SESSION_COOKIE]
        set_session_cookie(response, request, token, settings.session_lifetime_seconds)
    return ok(
        RefreshResponse(expires_at=row.expires_at, refreshed_at=row.refreshed_at),
        "Session refreshed",
    )


@keys_router.post("", response_model=Envelope[ApiKeyCreated])
async def create_api_key(
    body: CreateApiKey, principal: SessionUser, db: DbSession
) -> Envelope[ApiKeyCreated]:
    """Create an API key. The key is in this response only: it is stored as a hash."""
    expires_at = utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    key, row = await keys.create_key(db, principal.user_id, body.name, expires_at)
    info = ApiKeyInfo.model_validate(row)
    return ok(
        ApiKeyCreated(**info.model_dump(), key=key),
        "Store this key now: it will not be shown again",
    )


@keys_router.get("", response_model=Envelope[list[ApiKeyInfo]])
async def list_api_keys(principal: SessionUser, db: DbSession) -> Envelope[list[ApiKeyInfo]]:
    """Your keys that still work (never the keys themselves)."""
    rows = await keys.list_keys(db, principal.user_id)
    return ok([ApiKeyInfo.model_validate(row) for row in rows])


@keys_router.delete("/{key_id:uuid}", response_model=Envelope[None])
async def revoke_api_key(
    key_id: uuid.UUID, principal: SessionUser, db: DbSession
) -> Envelope[None]:
    """Revoke one of your keys; it stops working at once. Other users' keys: 404."""
    if not await keys.revoke_key(db, principal.user_id, key_id):
        raise not_found("API key")
    return ok(None, "API key revoked")
