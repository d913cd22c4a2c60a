"""Who is calling: the `Principal` behind a request, and the dependencies that demand one.

    @router.get("/me")
    async def me(user: CurrentUser) -> ...          # any signed-in user (session or API key)

Credentials: `Authorization: Bearer <session token or sk_ key>` or `X-API-Key: sk_…`.
A malformed header is a 401, never a crash and never "anonymous".

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
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, Request

from studypath.auth import keys, sessions
from studypath.auth.policies import session_policy
from studypath.core.db import DbSession
from studypath.core.errors import AppError, ErrorCode
from studypath.core.logging import user_id_var
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


def unauthorized(message: str) -> AppError:
    return AppError(ErrorCode.UNAUTHORIZED, message, headers=BEARER_CHALLENGE)


def read_credential(request: Request) -> str | None:
    """The token or key the request carries; raises 401 for a malformed header."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value or " " in value:
            raise unauthorized("Malformed Authorization header: expected 'Bearer <token>'")
        return value
    api_key = request.headers.get("x-api-key")
    if api_key is not None:
        if not keys.looks_like_key(api_key.strip()):
            raise unauthorized("Malformed X-API-Key header: expected 'sk_…'")
        return api_key.strip()
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
    if keys.looks_like_key(credential):
        found_key = await keys.resolve_key(db, credential)
        if found_key is None:
            raise unauthorized("Invalid, expired or revoked API key")
        key, user = found_key
        principal = Principal(
            user.id,
            user.username,
            user.email,
            user.role,
            "api_key",
            api_key_id=key.id,
            password_change_required=user.password_change_required,
        )
    else:
        if len(credential) > 256:
            raise unauthorized("Invalid or expired session")
        # On the engine, not the request's ORM session: one statement, no transaction.
        found = await sessions.resolve_session(
            request.app.state.db.engine, credential, session_policy(request.app.state.settings)
        )
        if found is None:
            raise unauthorized("Invalid or expired session")
        principal = Principal(
            found.user_id,
            found.username,
            found.email,
            found.role,
            "session",
            session_id=found.session_id,
            password_change_required=found.password_change_required,
        )
    request.state.principal = principal
    user_id_var.set(str(principal.user_id))
    return principal


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
