"""The OpenAPI document, made to tell the truth about errors and authentication.

FastAPI documents each operation's success and a 422 in its own `{"detail": [...]}` shape,
which this API never sends. `install_openapi(app)` post-processes the generated document in
one place, from what each route declares:

* a JSON body → 400 (value rule or malformed JSON), 413 (too large), 415 (not JSON), 422;
* query or path parameters → 400 and 422 (the status rule in `core.errors`);
* a path parameter → 404 (no such resource, or not yours);
* an authentication dependency → 401, and `security` (session token, API key or the session
  cookie; session-only endpoints: the token or the cookie); reading a credential at all → 403
  (a user whose password a staff member reset must change it first), unless the endpoint is
  one of the few `usable_while_password_change_required` — where a role or session-only rule
  still → 403, and so does a write (a cookie-authenticated write from another origin);
* failures that no signature shows (a conflict, a throttle) → `EXTRA_STATUSES`, the one
  table kept by hand.

Every error status is documented with the envelope `{"error": {"code", "message",
"details"?}}`; FastAPI's `HTTPValidationError` schemas are removed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from studypath.auth.cookies import SAFE_METHODS, SESSION_COOKIE
from studypath.auth.dependencies import (
    current_principal,
    endpoint_is_exempt,
    optional_principal,
    reads_credentials,
    session_principal,
)
from studypath.core.routing import API_PREFIX
from studypath.rbac.dependencies import RoleRequirement

ERROR_SCHEMA = "ErrorResponse"
BEARER = "BearerAuth"
API_KEY_HEADER = "ApiKeyAuth"
COOKIE = "SessionCookie"

ERROR_RESPONSE_SCHEMA: dict[str, Any] = {
    "title": ERROR_SCHEMA,
    "type": "object",
    "description": "Every error of the API has this shape.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "examples": ["VALIDATION_FAILED"]},
                "message": {"type": "string"},
                "details": {"description": "Machine-readable specifics, e.g. the fields."},
            },
        }
    },
}

SECURITY_SCHEMES: dict[str, Any] = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer <session token>` (from `POST /auth/login`) or "
        "`Authorization: Bearer sk_…` (an API key).",
    },
    API_KEY_HEADER: {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "An API key (`sk_…`). API keys cannot reach session-only endpoints.",
    },
    COOKIE: {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The session token as the HttpOnly cookie `POST /auth/login` sets (the "
        "web app's way). A request it authenticates that is not GET or HEAD must carry an "
        "`Origin` (else `Referer`) equal to this server's origin: 403 otherwise.",
    },
}

DESCRIPTIONS: dict[int, str] = {
    400: "A value rule refused the input (`VALIDATION_FAILED`, fields in `details`), "
    "or the body is not valid JSON (`INVALID_INPUT`)",
    401: "No valid credentials (`UNAUTHORIZED`, `INVALID_CREDENTIALS`)",
    403: "Signed in, but not allowed (`FORBIDDEN`): this needs another role, a session (not "
    "an API key) or rights on the resource, or your password must be changed first "
    "(`PUT /users/me/password`), or the session cookie came with a write from another "
    "origin",
    404: "No such resource, or not one you may see (`*_NOT_FOUND`)",
    405: "Method not allowed here; `Allow` lists the ones that are",
    409: "Conflicts with the current state (`CONFLICT`, `*_ALREADY_EXISTS`)",
    413: "Request body too large (`PAYLOAD_TOO_LARGE`)",
    415: "Request body is not JSON (`UNSUPPORTED_MEDIA_TYPE`)",
    422: "The body or a parameter cannot be read as the schema: missing field, wrong type, "
    "unknown field (`VALIDATION_FAILED`, fields in `details`)",
    429: "Too many attempts; retry after `Retry-After` seconds (`RATE_LIMITED`)",
    503: "Unavailable or unhealthy (`SERVICE_UNAVAILABLE`, `SERVICE_UNHEALTHY`)",
}

RESPONSE_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`"}},
    405: {"Allow": {"schema": {"type": "string"}, "description": "The allowed methods"}},
    429: {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait"}},
}

# Statuses no signature reveals: each comes from a rule in a service. Keyed by method and
# path template (without the API prefix).
EXTRA_STATUSES: dict[tuple[str, str], set[int]] = {
    ("POST", "/auth/register"): {409, 429},
    ("POST", "/auth/login"): {401, 429},
    ("POST", "/auth/refresh"): {409},
    ("POST", "/api-keys"): {409},
    ("PUT", "/users/me/profile"): {409},
    ("PUT", "/users/me/password"): {409},
    ("DELETE", "/users/me"): {409},
    ("POST", "/users"): {409},
    ("PUT", "/users/{user_id}/profile"): {409},
    ("PUT", "/users/{user_id}/status"): {409},
    ("PUT", "/users/{user_id}/role"): {409},
    ("DELETE", "/users/{user_id}"): {409},
    ("POST", "/tasks"): {409},
    ("POST", "/tasks/{task_id}/cancel"): {409},
    ("POST", "/tasks/{task_id}/retry"): {409},
    ("DELETE", "/tasks/{task_id}"): {409},
    ("POST", "/notes/{note_id}/share"): {409},
}


def dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    """Every dependency a route runs, however deeply nested."""
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from dependency_calls(sub)


def has_parameters(dependant: Dependant) -> tuple[bool, bool]:
    """(any query or path parameter anywhere, any path parameter anywhere)."""
    query = bool(dependant.query_params)
    path = bool(dependant.path_params)
    for sub in dependant.dependencies:
        sub_query, sub_path = has_parameters(sub)
        query, path = query or sub_query, path or sub_path
    return query or path, path


def route_statuses(route: RouteContext, method: str) -> set[int]:
    """The error statuses this operation can answer, derived from what the route declares."""
    statuses: set[int] = set()
    calls = set(dependency_calls(route.dependant))
    any_params, path_params = has_parameters(route.dependant)
    if route.body_field is not None:
        statuses |= {400, 413, 415, 422}
    if any_params:
        statuses |= {400, 422}
    if path_params:
        statuses.add(404)
    if optional_principal in calls or any(reads_credentials(call) for call in calls):
        statuses.add(401)  # a malformed or unknown credential, even where one is optional
        endpoint = getattr(route.original_route, "endpoint", None)
        if not endpoint_is_exempt(endpoint):
            statuses.add(403)  # signed in, but must change the password first
        if method not in SAFE_METHODS:
            statuses.add(403)  # the session cookie, sent with a write from another origin
    if session_principal in calls or any(isinstance(call, RoleRequirement) for call in calls):
        statuses.add(403)
    route_path = str(route.path_format).removeprefix(API_PREFIX)  # `{id}`, not `{id:uuid}`
    statuses |= EXTRA_STATUSES.get((method, route_path), set())
    return statuses


def route_security(route: RouteContext) -> list[dict[str, list[str]]] | None:
    """How to authenticate for this operation, or None when it is anonymous."""
    calls = set(dependency_calls(route.dependant))
    if session_principal in calls:
        return [{BEARER: []}, {COOKIE: []}]
    if current_principal in calls or any(isinstance(call, RoleRequirement) for call in calls):
        return [{BEARER: []}, {API_KEY_HEADER: []}, {COOKIE: []}]
    return None


def error_response(status: int, description: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description or DESCRIPTIONS.get(status, "Error"),
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}
        },
    }
    if status in RESPONSE_HEADERS:
        response["headers"] = RESPONSE_HEADERS[status]
    return response


def document_errors(operation: dict[str, Any], statuses: set[int]) -> None:
    """Give the operation every status in `statuses`, and every error status it has the
    envelope (replacing FastAPI's 422 `HTTPValidationError`)."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in statuses:
        responses.setdefault(str(status), {})
    for key, response in list(responses.items()):
        if key.isdigit() and int(key) >= 400:
            declared = response.get("description")
            keep = declared if declared and declared != "Validation Error" else None
            responses[key] = error_response(int(key), keep)
    operation["responses"] = dict(sorted(responses.items()))


def _drop_fastapi_validation_schemas(document: dict[str, Any]) -> None:
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, post-processed (see the module docstring)."""
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
    )
    for route in iter_route_contexts(app.routes):  # included routers' routes, with prefixes
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        path_item = document["paths"].get(route.path_format, {})
        for method in route.methods or ():
            operation = path_item.get(method.lower())
            if operation is None:
                continue
            document_errors(operation, route_statuses(route, method))
            security = route_security(route)
            if security is not None:
                operation["security"] = security
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})[ERROR_SCHEMA] = ERROR_RESPONSE_SCHEMA
    components["securitySchemes"] = SECURITY_SCHEMES
    _drop_fastapi_validation_schemas(document)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve `build_openapi(app)` at the app's OpenAPI URL (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def openapi_text(app: FastAPI) -> str:
    """The document as `studypath export-openapi` writes it: keys sorted, two-space indents,
    ASCII only, a final newline — the same bytes for the same app on any machine, so the
    committed snapshot (`web/openapi.json`, from which the web app's types are generated)
    changes only when the API does."""
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"
