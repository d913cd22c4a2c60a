"""Who may see and act on whom. Pure functions, so the rules read in one place.

Hidden means 404, never 403: a user must not learn that an account they may not see exists.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from studypath.identity.roles import Role


class Actor(Protocol):
    @property
    def user_id(self) -> uuid.UUID: ...

    @property
    def role(self) -> Role: ...


def can_view_user(actor: Actor, target_id: uuid.UUID, target_role: Role) -> bool:
    """Self; moderators any non-admin; admins anyone."""
    if actor.user_id == target_id or actor.role is Role.ADMIN:
        return True
    return actor.role is Role.MODERATOR and target_role is not Role.ADMIN


def can_moderate_user(actor: Actor, target_role: Role) -> bool:
    """Moderators act on plain users; only admins act on moderators and admins (a moderator
    must not be able to take over or lock out a peer)."""
    if actor.role is Role.ADMIN:
        return True
    return actor.role is Role.MODERATOR and target_role is Role.USER


def can_access_owned(
    actor: Actor, owner_id: uuid.UUID | None, *, staff: Role = Role.MODERATOR
) -> bool:
    """A resource owned by a user: its owner, or anyone of at least `staff` role."""
    return actor.user_id == owner_id or actor.role.at_least(staff)
