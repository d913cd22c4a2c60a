"""RBAC as FastAPI dependencies, so a handler states its rule in one line:

@router.get("/users")
async def list_users(actor: Moderator) -> ...      # moderators and admins only

A dependency that checks a role is a `RoleRequirement`: its `minimum` is data, so the access
matrix (`studypath/viz/access.py`) and the OpenAPI document read the rule from the app
itself, with `isinstance`, instead of from an attribute stuck onto a function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from studypath.auth.dependencies import CurrentUser, Principal
from studypath.core.errors import AppError, ErrorCode
from studypath.identity.roles import Role


@dataclass(frozen=True)
class RoleRequirement:
    """A dependency's declared rule: callers below `minimum` are refused.

    Subclasses are the dependencies themselves (FastAPI calls the instance): `RequireRole`
    checks the signed-in caller's role; a dependency with a rule of its own (the tasks API's
    `admin_or_worker`) subclasses this too, so the rule it enforces stays readable."""

    minimum: Role

    @property
    def __name__(self) -> str:
        """Named like a function (`require_moderator`): the access matrix and the notebooks
        name dependencies by their `__name__`."""
        return f"require_{self.minimum.value}"


@dataclass(frozen=True)
class RequireRole(RoleRequirement):
    """Lets through signed-in callers whose role is at least `minimum` (else 403)."""

    async def __call__(self, principal: CurrentUser) -> Principal:
        if not principal.role.at_least(self.minimum):
            raise AppError(
                ErrorCode.FORBIDDEN, f"This needs the {self.minimum.value} role or higher"
            )
        return principal


def require_role(minimum: Role) -> RequireRole:
    """A dependency that lets through callers whose role is at least `minimum` (else 403)."""
    return RequireRole(minimum)


Moderator = Annotated[Principal, Depends(require_role(Role.MODERATOR))]
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
