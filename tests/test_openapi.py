"""The OpenAPI document tells the truth: error statuses with the envelope, security."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from studypath.app import create_app
from studypath.config import Settings
from studypath.core.openapi import API_KEY_HEADER, BEARER, ERROR_SCHEMA

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
    # Session-only endpoints do not offer the API key.
    session_only = document["paths"]["/api/v1/api-keys"]["post"]["security"]
    assert session_only == [{BEARER: []}]
    assert {API_KEY_HEADER: []} in document["paths"]["/api/v1/auth/me"]["get"]["security"]


async def test_openapi_served_document_is_the_post_processed_one(
    client: httpx.AsyncClient,
) -> None:
    served = (await client.get("/api-docs/openapi.json")).json()
    assert "HTTPValidationError" not in json.dumps(served)
    assert BEARER in served["components"]["securitySchemes"]
