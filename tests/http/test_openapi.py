"""The OpenAPI document tells the truth: error statuses with the envelope, security."""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from studypath.app import create_app
from studypath.config import Settings
from studypath.core.errors import AppError
from studypath.monitoring.filters import parse_tag_filter
from studypath.monitoring.schemas import check_label_name, parse_query
from studypath.openapi import API_KEY_HEADER, BEARER, COOKIE, ERROR_SCHEMA, openapi_text

ERROR_REF = f"#/components/schemas/{ERROR_SCHEMA}"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(Settings()).openapi()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_openapi_has_no_fastapi_validation_error_schema(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    assert "HTTPValidationError" not in text
    assert '"ValidationError"' not in text


def test_openapi_every_error_response_is_the_envelope(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, (method, path, status)
    envelope = document["components"]["schemas"][ERROR_SCHEMA]
    assert envelope["required"] == ["error"]
    assert envelope["properties"]["error"]["required"] == ["code", "message"]


def test_openapi_every_operation_has_its_statuses(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        statuses = set(operation["responses"])
        where = f"{method} {path}"
        if "requestBody" in operation:
            assert {"400", "413", "415", "422"} <= statuses, where
        parameters = operation.get("parameters", [])
        if any(param["in"] in ("query", "path") for param in parameters):
            assert {"400", "422"} <= statuses, where
        if any(param["in"] == "path" for param in parameters):
            assert "404" in statuses, where
        if "security" in operation:
            assert "401" in statuses, where


def test_openapi_documents_known_statuses(document: dict[str, Any]) -> None:
    def statuses(method: str, path: str) -> set[str]:
        return set(document["paths"][f"/api/v1{path}"][method]["responses"])

    assert {"401", "429"} <= statuses("post", "/auth/login")
    assert {"409", "429"} <= statuses("post", "/auth/register")
    assert "409" in statuses("post", "/auth/refresh")
    assert "403" in statuses("get", "/users")  # moderators only
    assert "403" in statuses("post", "/api-keys")  # sessions only
    assert "503" in statuses("get", "/health/ready")
    headers = document["paths"]["/api/v1/auth/login"]["post"]["responses"]["429"]["headers"]
    assert "Retry-After" in headers


def test_openapi_security_schemes_and_every_authenticated_operation_has_security(
    document: dict[str, Any],
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes[BEARER] == {**schemes[BEARER], "type": "http", "scheme": "bearer"}
    assert schemes[API_KEY_HEADER]["in"] == "header"
    assert schemes[API_KEY_HEADER]["name"] == "X-API-Key"
    assert schemes[COOKIE]["type"] == "apiKey" and schemes[COOKIE]["in"] == "cookie"
    assert schemes[COOKIE]["name"] == "studypath_session"
    anonymous = {
        "/api/v1/health",
        "/api/v1/health/detailed",
        "/api/v1/health/live",
        "/api/v1/health/ready",
        "/api/v1/health/startup",
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/tasks/types",
        "/api/v1/monitoring/metrics/prometheus",
    }
    for method, path, operation in operations(document):
        if path in anonymous and method in ("GET", "POST") and "security" not in operation:
            continue
        assert operation.get("security"), f"{method} {path} has no security"
    # Session-only endpoints do not offer the API key; the cookie is a session.
    session_only = document["paths"]["/api/v1/api-keys"]["post"]["security"]
    assert session_only == [{BEARER: []}, {COOKIE: []}]
    signed_in = document["paths"]["/api/v1/auth/me"]["get"]["security"]
    assert signed_in == [{BEARER: []}, {API_KEY_HEADER: []}, {COOKIE: []}]


def test_openapi_every_authenticated_write_documents_403(document: dict[str, Any]) -> None:
    """A write authenticated by the session cookie from another origin is refused (403),
    even where nothing else could refuse it."""
    for method, path, operation in operations(document):
        if "security" in operation and method not in ("GET", "HEAD"):
            assert "403" in operation["responses"], f"{method} {path}"


async def test_openapi_served_document_is_the_post_processed_one(
    client: httpx.AsyncClient,
) -> None:
    served = (await client.get("/api-docs/openapi.json")).json()
    assert "HTTPValidationError" not in json.dumps(served)
    assert BEARER in served["components"]["securitySchemes"]


SNAPSHOT = Path(__file__).parents[2] / "web" / "openapi.json"
REGENERATE = (
    "studypath export-openapi --output web/openapi.json && (cd web && npm run generate-types)"
)


def test_the_web_apps_openapi_snapshot_is_the_apps_document() -> None:
    """The web app's TypeScript types are generated from `web/openapi.json`: a change to the
    API that is not in the snapshot would leave the web app compiling against the old API."""
    current = openapi_text(create_app(Settings()))
    committed = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else ""
    if committed != current:
        diff = difflib.unified_diff(
            committed.splitlines(),
            current.splitlines(),
            "web/openapi.json",
            "create_app()",
            n=1,
            lineterm="",
        )
        shown = "\n".join(list(diff)[:60])
        raise AssertionError(
            f"web/openapi.json is not the API's OpenAPI document; regenerate it and the web "
            f"app's types:\n    {REGENERATE}\n{shown}"
        )


def test_the_exported_document_is_deterministic() -> None:
    text = openapi_text(create_app(Settings()))
    assert text == openapi_text(create_app(Settings()))
    assert text.endswith("}\n") and text.isascii()
    document = json.loads(text)
    assert list(document) == sorted(document)
    assert list(document["paths"]) == sorted(document["paths"])


# --- rules the models enforce, stated in the schema -----------------------------------------
def component_validator(document: dict[str, Any], name: str) -> jsonschema.Draft202012Validator:
    """A validator for one component schema, its `$ref`s resolved inside the document."""
    schema = {**document["components"]["schemas"][name], "components": document["components"]}
    return jsonschema.Draft202012Validator(schema)


def test_openapi_login_schema_says_exactly_one_of_username_or_email(
    document: dict[str, Any],
) -> None:
    login = component_validator(document, "LoginRequest")
    assert login.is_valid({"username": "ann", "password": "x"})
    assert login.is_valid({"email": "ann@example.com", "password": "x"})
    assert login.is_valid({"username": None, "email": "ann@example.com", "password": "x"})
    assert not login.is_valid({"username": "ann", "email": "ann@example.com", "password": "x"})
    assert not login.is_valid({"password": "x"})
    assert not login.is_valid({"username": None, "email": None, "password": "x"})


def test_openapi_share_schema_says_exactly_one_of_username_or_user_id(
    document: dict[str, Any],
) -> None:
    share = component_validator(document, "ShareNote")
    some_id = "0b7e7c4e-8a55-4a3e-9d7c-3f2b1d1c2a10"
    assert share.is_valid({"username": "bob"})
    assert share.is_valid({"user_id": some_id, "permission": "edit"})
    assert not share.is_valid({"username": "bob", "user_id": some_id})
    assert not share.is_valid({})


def test_openapi_new_passwords_state_the_policy_and_login_does_not(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    chosen = [
        schemas["RegisterRequest"]["properties"]["password"],
        schemas["CreateUser"]["properties"]["password"],
        schemas["ResetPassword"]["properties"]["new_password"],
        schemas["ChangePassword"]["properties"]["new_password"],
    ]
    for field in chosen:
        assert (field["minLength"], field["maxLength"]) == (8, 128)
        assert "3 of" in field["description"] and "common" in field["description"]
    # A password you prove you know may predate the policy.
    assert schemas["LoginRequest"]["properties"]["password"]["minLength"] == 1


def test_openapi_documents_403_wherever_the_password_change_rule_applies(
    document: dict[str, Any],
) -> None:
    """Every operation that reads a credential answers 403 to a user who must change their
    password first — except the few that stay usable (who am I, log out, change it)."""
    for method, path, operation in operations(document):
        if "security" in operation and (method, path) != ("GET", "/api/v1/auth/me"):
            assert "403" in operation["responses"], f"{method} {path}"
    assert "403" not in document["paths"]["/api/v1/auth/me"]["get"]["responses"]
    # Public, but it reads a credential when one is sent (admins see the stored metrics).
    prometheus = document["paths"]["/api/v1/monitoring/metrics/prometheus"]["get"]
    assert {"401", "403"} <= set(prometheus["responses"])
    # Derived, not hand-kept: the owner-only rules of notes are covered too.
    assert "403" in document["paths"]["/api/v1/notes/{note_id}/share"]["post"]["responses"]


def schema_pattern_accepts(pattern: str, value: str) -> bool:
    """JSON Schema's `pattern` (ECMA-262, unanchored; `$` only at the very end)."""
    return re.search(pattern.replace("$", r"\Z"), value) is not None


TAG_FILTERS = ["env:prod", "env:prod,team:search", " a : b:c ", "", "env", "env:", ":prod"]
TAG_FILTERS += ["env:prod,,", "a:\x00", ",".join(f"k{i}:v" for i in range(20))]
TAG_FILTERS += [",".join(f"k{i}:v" for i in range(21))]


@pytest.mark.parametrize("value", TAG_FILTERS)
def test_openapi_tag_filter_pattern_agrees_with_the_parser(
    document: dict[str, Any], value: str
) -> None:
    parameters = document["paths"]["/api/v1/monitoring/events"]["get"]["parameters"]
    pattern = next(p for p in parameters if p["name"] == "tags")["schema"]["pattern"]
    try:
        parsed = not value or bool(parse_tag_filter(value))
    except AppError:
        parsed = False
    parsed = parsed and "\x00" not in value  # the text check refuses NUL before the parser
    assert schema_pattern_accepts(pattern, value) == parsed
    # The one rule no pattern says (the parameter's description does): a key at most once.
    assert schema_pattern_accepts(pattern, "a:1,a:2")


LABEL_NAMES = ["a", "_", "_a", "a__b", "A1_", "__a", "__", "1a", "a-b", "le", "quantile"]


@pytest.mark.parametrize("name", [*LABEL_NAMES, "x" * 100, "x" * 101])
def test_openapi_label_name_schema_agrees_with_the_check(
    document: dict[str, Any], name: str
) -> None:
    labels = document["components"]["schemas"]["CreateMetric"]["properties"]["labels"]
    validator = jsonschema.Draft202012Validator(labels)
    try:
        check_label_name(name)
        accepted = True
    except ValueError:
        accepted = False
    assert validator.is_valid({name: "v"}) == accepted


@pytest.mark.parametrize(
    "query",
    ["cpu > 80", " a:b <= -1.5e3 ", "x==.5", "x = 1", "> 1", "x > ", "x > 1 2", "x" * 201 + " > 1"],
)
def test_openapi_alert_query_pattern_agrees_with_the_parser(
    document: dict[str, Any], query: str
) -> None:
    update = document["components"]["schemas"]["UpdateAlert"]
    pattern = update["properties"]["query"]["pattern"]
    try:
        parse_query(query)
        parsed = True
    except ValueError as error:
        parsed = "finite" in str(error)  # the number's bound is not the pattern's business
    assert schema_pattern_accepts(pattern, query) == parsed


def test_openapi_alert_schemas_say_query_or_rule_fields(document: dict[str, Any]) -> None:
    create = component_validator(document, "AlertRule")
    assert create.is_valid({"name": "a", "query": "cpu > 80"})
    assert not create.is_valid({"name": "a", "query": None})  # the server refuses it too
    update = component_validator(document, "UpdateAlert")
    assert update.is_valid({"query": "cpu > 80"})
    assert not update.is_valid({"query": "cpu > 80", "threshold": 1})


def test_openapi_stored_metric_names_state_the_pattern_and_the_suffixes(
    document: dict[str, Any],
) -> None:
    name = component_validator(document, "CreateMetric")
    body = {"metric_type": "gauge", "value": 1}
    assert name.is_valid({**body, "name": "client_latency"})
    assert not name.is_valid({**body, "name": "0"})
    assert not name.is_valid({**body, "name": "client_requests_total"})
    task_type = document["components"]["schemas"]["RegisterTaskType"]["properties"]["task_type"]
    assert task_type["pattern"] == "^[A-Za-z0-9_-]+$"


def test_openapi_bounds_are_json_schema_keywords(document: dict[str, Any]) -> None:
    """`minimum`/`maximum`, never pydantic's `ge`/`le` (which it writes when a bound comes
    after a validator function: a client and a fuzzer would not see the bound)."""

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            assert not ({"ge", "le", "gt", "lt"} & set(node) and "type" in node), where
            for key, child in node.items():
                walk(child, f"{where}/{key}")
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, f"{where}/{index}")

    walk(document, "#")
