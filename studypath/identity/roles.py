"""The role hierarchy: user < moderator < admin. A higher role can do all a lower one can."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    USER = "user"
    MODERATOR = "moderator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return ROLE_RANK[self]

    def at_least(self, other: Role) -> bool:
        """True if this role includes every permission of `other`."""
        return self.rank >= other.rank


ROLE_RANK: dict[Role, int] = {Role.USER: 1, Role.MODERATOR: 2, Role.ADMIN: 3}


__all__ = [
    "ROLE_RANK",
    "Role",
]
