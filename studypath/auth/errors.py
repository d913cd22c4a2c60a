"""The error code of credentials: a login (or a current password) that does not match."""

from __future__ import annotations

from studypath.core.errors import ErrorCodeEnum


class AuthErrorCode(ErrorCodeEnum):
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS", 401
