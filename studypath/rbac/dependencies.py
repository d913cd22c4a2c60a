"""RBAC as FastAPI dependencies, so a handler states its rule in one line:

@router.get("/users")
async def list_users(actor: Moderator) -> ...      # moderators and admins only
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends

from studypath.auth.dependencies import CurrentUser, Principal
from studypath.core.errors import AppError, ErrorCode
from studypath.identity.roles import Role


def require_role(minimum: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through callers whose role is at least `minimum` (else 403)."""

    async def dependency(principal: CurrentUser) -> Principal:
        if not principal.role.at_least(minimum):
            raise AppError(ErrorCode.FORBIDDEN, f"This needs the {minimum.value} role or higher")
        return principal

    dependency.__name__ = f"require_{minimum.value}"
    dependency.required_role = minimum  # type: ignore[attr-defined]  # read by diagrams
    return dependency


Moderator = Annotated[Principal, Depends(require_role(Role.MODERATOR))]
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
