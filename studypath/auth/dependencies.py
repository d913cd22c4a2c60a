"""Who is calling: the `Principal` behind a request, and the dependencies that demand one.

    @router.get("/me")
    async def me(user: CurrentUser) -> ...          # any signed-in user (session or API key)

Credentials: `Authorization: Bearer <session token or sk_ key>` or `X-API-Key: sk_…`, else
the session cookie the login set (`auth.cookies`: the web app's way; a header always wins).
A malformed header is a 401, never a crash and never "anonymous". A request authenticated by
the cookie that changes something must come from this server's own origin (403 otherwise).

A user whose password a staff member reset with `require_change` is signed in but held at
the door: every endpoint that reads credentials answers 403 ("password change required")
except the few marked `@usable_while_password_change_required` (who am I, log out, change
the password). The check sits here, where every credential is read, so no endpoint can
forget it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol, TypeVar

from fastapi import Depends, Request

from studypath.auth import keys, sessions
from studypath.auth.cookies import SESSION_COOKIE, clearing_header, require_same_origin
from studypath.auth.policies import session_policy
from studypath.core.db import DbSession
from studypath.core.errors import AppError, ErrorCode
from studypath.core.logging import user_id_var
from studypath.core.state import app_state
from studypath.identity.roles import Role
from studypath.telemetry.tracing import LAYER, span_if_recording

BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}
PASSWORD_CHANGE_REQUIRED = "password change required"
_EXEMPT_ATTRIBUTE = "usable_while_password_change_required"
_READS_CREDENTIALS_ATTRIBUTE = "reads_credentials"

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def usable_while_password_change_required(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint a user who must change their password may still call."""
    setattr(endpoint, _EXEMPT_ATTRIBUTE, True)
    return endpoint


def endpoint_is_exempt(endpoint: Any) -> bool:
    """Whether `endpoint` is marked `usable_while_password_change_required`."""
    return bool(getattr(endpoint, _EXEMPT_ATTRIBUTE, False))


def _endpoint_is_exempt(request: Request) -> bool:
    route = request.scope.get("route")
    return endpoint_is_exempt(getattr(route, "endpoint", None))


def reads_credentials_itself(dependency: Endpoint) -> Endpoint:
    """Mark a dependency that calls `optional_principal` in its body (not via `Depends`), so
    the OpenAPI document still lists what reading a credential can answer (401, 403)."""
    setattr(dependency, _READS_CREDENTIALS_ATTRIBUTE, True)
    return dependency


def reads_credentials(dependency: Any) -> bool:
    return bool(getattr(dependency, _READS_CREDENTIALS_ATTRIBUTE, False))


class Account(Protocol):
    """What a principal takes from its user's row: an API key's `User`, or the
    `LiveSession` a session token resolves to."""

    @property
    def username(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def role(self) -> Role: ...
    @property
    def password_change_required(self) -> bool: ...


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as handlers see it."""

    user_id: uuid.UUID
    username: str
    email: str
    role: Role
    via: Literal["session", "api_key"]
    session_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    password_change_required: bool = False
    from_cookie: bool = False  # the session came in the cookie, not a header

    @classmethod
    def signed_in(
        cls,
        user_id: uuid.UUID,
        user: Account,
        *,
        session_id: uuid.UUID | None = None,
        api_key_id: uuid.UUID | None = None,
        from_cookie: bool = False,
    ) -> Principal:
        """`user`, signed in with one credential: a session or an API key, whichever id is
        given — `via` follows from it, so the two cannot disagree."""
        if (session_id is None) == (api_key_id is None):
            raise TypeError("Principal.signed_in: give exactly one of session_id or api_key_id")
        return cls(
            user_id,
            user.username,
            user.email,
            user.role,
            "session" if session_id is not None else "api_key",
            session_id=session_id,
            api_key_id=api_key_id,
            password_change_required=user.password_change_required,
            from_cookie=from_cookie,
        )


@dataclass(frozen=True)
class Credential:
    """What the request authenticates with, and where it came from."""

    value: str
    from_cookie: bool = False


def unauthorized(message: str, headers: dict[str, str] | None = None) -> AppError:
    return AppError(
        ErrorCode.UNAUTHORIZED, message, headers={**BEARER_CHALLENGE, **(headers or {})}
    )


def read_credential(request: Request) -> Credential | None:
    """The token or key the request carries — a header first, else the session cookie;
    raises 401 for a malformed header."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value or " " in value:
            raise unauthorized("Malformed Authorization header: expected 'Bearer <token>'")
        return Credential(value)
    api_key = request.headers.get("x-api-key")
    if api_key is not None:
        if not keys.looks_like_key(api_key.strip()):
            raise unauthorized("Malformed X-API-Key header: expected 'sk_…'")
        return Credential(api_key.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return Credential(cookie, from_cookie=True)
    return None


async def optional_principal(request: Request, db: DbSession) -> Principal | None:
    with span_if_recording("auth", {LAYER: "auth"}) as span:
        principal = await _resolve(request, db)
        span.set_attribute("studypath.authenticated", principal is not None)
        if principal is not None:
            span.set_attribute("studypath.via", principal.via)
            span.set_attribute("studypath.role", principal.role.value)
            if principal.password_change_required and not _endpoint_is_exempt(request):
                raise AppError(
                    ErrorCode.FORBIDDEN,
                    f"{PASSWORD_CHANGE_REQUIRED}: set a new one with PUT "
                    "/api/v1/users/me/password first",
                )
        return principal


async def _resolve(request: Request, db: DbSession) -> Principal | None:
    credential = read_credential(request)
    if credential is None:
        return None
    if credential.from_cookie:
        require_same_origin(request)  # before the lookup: a forged request learns nothing
        principal = await _session_principal(request, credential)
    elif keys.looks_like_key(credential.value):
        principal = await _key_principal(db, credential.value)
    else:
        principal = await _session_principal(request, credential)
    request.state.principal = principal
    user_id_var.set(str(principal.user_id))
    return principal


async def _key_principal(db: DbSession, key_text: str) -> Principal:
    found_key = await keys.resolve_key(db, key_text)
    if found_key is None:
        raise unauthorized("Invalid, expired or revoked API key")
    key, user = found_key
    return Principal.signed_in(user.id, user, api_key_id=key.id)


async def _session_principal(request: Request, credential: Credential) -> Principal:
    """The session behind a token. A dead cookie is dropped by the 401 that refuses it (page
    scripts cannot drop an HttpOnly cookie), so the browser's next request is anonymous."""
    found = None
    if len(credential.value) <= 256:
        # On the engine, not the request's ORM session: one statement, no transaction.
        state = app_state(request)
        found = await sessions.resolve_session(
            state.db.request_engine,
            credential.value,
            session_policy(state.settings),
        )
    if found is None:
        clear = {"Set-Cookie": clearing_header(request)} if credential.from_cookie else None
        raise unauthorized("Invalid or expired session", clear)
    return Principal.signed_in(
        found.user_id, found, session_id=found.session_id, from_cookie=credential.from_cookie
    )


async def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise unauthorized("Authentication required: send 'Authorization: Bearer <token>'")
    return principal


async def session_principal(
    principal: Annotated[Principal, Depends(current_principal)],
) -> Principal:
    """For session-only endpoints (logout, refresh, API-key management): an API key can't
    mint more keys or outlive its own revocation."""
    if principal.via != "session":
        raise AppError(ErrorCode.FORBIDDEN, "This endpoint needs a session, not an API key")
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]
SessionUser = Annotated[Principal, Depends(session_principal)]


__all__ = [
    "BEARER_CHALLENGE",
    "PASSWORD_CHANGE_REQUIRED",
    "CurrentUser",
    "Principal",
    "SessionUser",
    "current_principal",
    "endpoint_is_exempt",
    "optional_principal",
    "read_credential",
    "reads_credentials",
    "reads_credentials_itself",
    "session_principal",
    "unauthorized",
    "usable_while_password_change_required",
]
