"""The error codes of accounts: no such user, a name or address already taken."""

from __future__ import annotations

from studypath.core.errors import ErrorCodeEnum


class UserErrorCode(ErrorCodeEnum):
    USER_NOT_FOUND = "USER_NOT_FOUND", 404
    USER_ALREADY_EXISTS = "USER_ALREADY_EXISTS", 409
    EMAIL_ALREADY_EXISTS = "EMAIL_ALREADY_EXISTS", 409
    USERNAME_ALREADY_EXISTS = "USERNAME_ALREADY_EXISTS", 409


__all__ = ["UserErrorCode"]
