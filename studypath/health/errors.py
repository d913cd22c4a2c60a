"""The error code of the health probes: a check failed (the failing checks are in
`error.details`)."""

from __future__ import annotations

from studypath.core.errors import ErrorCodeEnum


class HealthErrorCode(ErrorCodeEnum):
    SERVICE_UNHEALTHY = "SERVICE_UNHEALTHY", 503
