"""One error type with a code, and the handlers that turn every failure into the envelope.

Every error the API returns — ours, FastAPI's validation errors, Starlette's 404/405 — has
the same JSON shape: ``{"error": {"code": "...", "message": "..."}}``.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any, Self

import psycopg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from studypath.core.state import app_state

log = logging.getLogger("studypath.errors")


class ErrorCodeEnum(StrEnum):
    """The base of every enum of error codes. A member is its wire string (`"NOT_FOUND"`)
    and carries the HTTP status it answers with, so a code and its status are declared on
    one line: `NOT_FOUND = "NOT_FOUND", 404`.

    Core declares the codes any part of the system may use (`ErrorCode`); a domain declares
    its own beside its code (`identity.errors.UserErrorCode`, `tasks.errors.TaskErrorCode`),
    and `AppError` takes a member of any of them."""

    status: int

    def __new__(cls, code: str, status: int) -> Self:
        member = str.__new__(cls, code)
        member._value_ = code
        member.status = status
        return member


class ErrorCode(ErrorCodeEnum):
    """The generic codes: authentication, permission, lookup, input, limits, availability."""

    UNAUTHORIZED = "UNAUTHORIZED", 401
    FORBIDDEN = "FORBIDDEN", 403
    NOT_FOUND = "NOT_FOUND", 404
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED", 405
    VALIDATION_FAILED = "VALIDATION_FAILED", 400
    INVALID_INPUT = "INVALID_INPUT", 400
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE", 415
    CONFLICT = "CONFLICT", 409
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE", 413
    RATE_LIMITED = "RATE_LIMITED", 429
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE", 503
    INTERNAL_ERROR = "INTERNAL_ERROR", 500


# Starlette raises bare HTTP statuses (unknown route, wrong method); give each its code.
CODE_FOR_STATUS: dict[int, ErrorCode] = {
    400: ErrorCode.INVALID_INPUT,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    422: ErrorCode.VALIDATION_FAILED,
    429: ErrorCode.RATE_LIMITED,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}


class AppError(Exception):
    """An expected failure: a code, a message for the client, an HTTP status."""

    def __init__(
        self,
        code: ErrorCodeEnum,
        message: str,
        *,
        status: int | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or code.status
        self.details = details
        self.headers = headers


def not_found(what: str = "Resource", code: ErrorCodeEnum = ErrorCode.NOT_FOUND) -> AppError:
    return AppError(code, f"{what} not found")


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this request's path, in a stable order.

    Starlette's own `Allow` names only the first route whose path matched; GET and POST of
    one path are two routes here, so we ask all of them (through the included routers)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        route_methods = route.methods
        if route_methods and route.matches(request.scope)[0] is not Match.NONE:
            methods.update(route_methods)
    rank = {method: index for index, method in enumerate(METHOD_ORDER)}
    return sorted(methods, key=lambda method: (rank.get(method, len(rank)), method))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = CODE_FOR_STATUS.get(exc.status_code, ErrorCode.INTERNAL_ERROR)
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 404:
        message = f"No route for {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
        allowed = allowed_methods(request)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, code, message, headers=headers or None)


def _clean_validation_errors(errors: list[Any]) -> list[dict[str, Any]]:
    """Keep what helps a client fix its request; drop the echoed input (it may hold a password)."""
    return [
        {
            "field": ".".join(str(part) for part in err.get("loc", ()) if part != "body") or "body",
            "message": err.get("msg", "invalid"),
            "type": err.get("type", "invalid"),
        }
        for err in errors
    ]


# Pydantic error types that mean "the body cannot be read as this schema": a missing field,
# a JSON type the field cannot hold, an unknown field. Everything else is a value rule
# (length, pattern, range, one of a set, a validator's check) and answers 400, as the
# guide's system does for the checks it makes in code.
STRUCTURAL_ERROR_TYPES = frozenset(
    {
        "missing",
        "extra_forbidden",
        "model_type",
        "model_attributes_type",
        "dataclass_type",
        "dict_type",
        "list_type",
        "tuple_type",
        "set_type",
        "frozen_set_type",
        "string_type",
        "bytes_type",
        "int_type",
        "int_parsing",
        "int_from_float",
        "float_type",
        "float_parsing",
        "bool_type",
        "bool_parsing",
        "uuid_type",
        "uuid_parsing",
        "datetime_type",
        "datetime_parsing",
        "datetime_from_date_parsing",
        "date_type",
        "date_parsing",
        "decimal_type",
        "decimal_parsing",
        "none_required",
        "is_instance_of",
        "union_tag_invalid",
        "union_tag_not_found",
        "json_type",
    }
)


def validation_status(errors: list[Any]) -> int:
    """The one rule: 422 when any error is structural, else 400 (a value rule refused it)."""
    return 422 if any(err.get("type") in STRUCTURAL_ERROR_TYPES for err in errors) else 400


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in errors):
        return error_response(400, ErrorCode.INVALID_INPUT, "Request body is not valid JSON")
    details = _clean_validation_errors(errors)
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    return error_response(
        validation_status(errors),
        ErrorCode.VALIDATION_FAILED,
        f"Request validation failed: {summary}",
        details,
    )


# The database cannot be reached, or it dropped the connection, or the pool has no connection
# to lend within its timeout: the service is unavailable for now, not broken (a 500 says
# "our bug"; a client, a load balancer and the monitoring treat a 503 as "try again").
DATABASE_UNAVAILABLE = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,  # the pool's: every connection is in use
    sqlalchemy.exc.DisconnectionError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
DATABASE_UNAVAILABLE_MESSAGE = (
    "The database is unavailable right now; nothing was saved. Try again in a moment."
)


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    app_state(request).mark_database_suspect()  # readiness looks again at once
    log.warning(
        "database unavailable on %s %s: %s",
        request.method,
        request.url.path,
        str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
    )
    return error_response(
        ErrorCode.SERVICE_UNAVAILABLE.status,
        ErrorCode.SERVICE_UNAVAILABLE,
        DATABASE_UNAVAILABLE_MESSAGE,
        headers={"Retry-After": "1"},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    for error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error, _database_unavailable)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # Unexpected exceptions become a masked 500 envelope in core.middleware, which also
    # puts the security headers on it.


__all__ = ["AppError", "ErrorCode", "not_found"]  # what a feature raises
