"""Every error is the JSON envelope: 400, 404, 405, 415, 422 and a masked 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from studypath.config import Settings
from studypath.core.errors import AppError, ErrorCode, validation_status
from studypath.testing.server import client_for, running_system


class Probe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=10)
    count: int = Field(ge=0)


def add_probe_routes(app: FastAPI) -> None:
    """Routes that exercise the app's error machinery (the production app has no route that
    crashes on purpose)."""
    router = APIRouter(prefix="/api/v1/probe")

    @router.post("/echo")
    async def echo(body: Probe) -> dict[str, object]:
        return {"name": body.name, "count": body.count}

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail: password=hunter2")

    @router.get("/conflict")
    async def conflict() -> None:
        raise AppError(ErrorCode.CONFLICT, "already there")

    app.include_router(router)


@pytest.fixture
async def probe_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_system(settings, app_hooks=[add_probe_routes]) as system:
        async with client_for(system) as client:
            yield client


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-request-id"]
    error: dict[str, object] = body["error"]
    return error


async def test_unknown_api_path_is_404_envelope(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/does-not-exist")
    assert_envelope(response, 404, "NOT_FOUND")


async def test_unknown_api_path_with_other_method_is_404_envelope(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/v1/nothing/here", json={})
    assert_envelope(response, 404, "NOT_FOUND")


async def test_wrong_method_is_405_envelope(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/health")
    error = assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert "DELETE" in str(error["message"])
    assert response.headers["allow"] == "GET"


async def test_non_json_body_is_415_envelope(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post(
        "/api/v1/probe/echo", content="name=x", headers={"content-type": "text/plain"}
    )
    assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_missing_content_type_is_415_envelope(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post("/api/v1/probe/echo", content=b'{"name":"a","count":1}')
    assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_malformed_json_is_400_envelope(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post(
        "/api/v1/probe/echo", content=b'{"name": "a",', headers={"content-type": "application/json"}
    )
    assert_envelope(response, 400, "INVALID_INPUT")


async def test_value_rule_violation_is_400_envelope_naming_the_fields(
    probe_client: httpx.AsyncClient,
) -> None:
    response = await probe_client.post("/api/v1/probe/echo", json={"name": "", "count": -1})
    error = assert_envelope(response, 400, "VALIDATION_FAILED")
    fields = {detail["field"] for detail in error["details"]}  # type: ignore[attr-defined]
    assert fields == {"name", "count"}


@pytest.mark.parametrize(
    "body",
    [
        {"name": "a"},  # a required field missing
        {"name": "a", "count": "many"},  # a JSON type the field cannot hold
        {"name": ["a"], "count": 1},
        {"name": "a", "count": 1, "colour": "red"},  # an unknown field
        ["not", "an", "object"],
    ],
)
async def test_body_that_does_not_fit_the_schema_is_422(
    probe_client: httpx.AsyncClient, body: object
) -> None:
    response = await probe_client.post("/api/v1/probe/echo", json=body)
    assert_envelope(response, 422, "VALIDATION_FAILED")


def test_one_structural_error_makes_the_whole_answer_422() -> None:
    assert validation_status([{"type": "string_too_short"}, {"type": "missing"}]) == 422
    assert validation_status([{"type": "string_too_short"}, {"type": "enum"}]) == 400


async def test_validation_error_does_not_echo_the_input(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post(
        "/api/v1/probe/echo", json={"name": "x" * 11 + "SECRET", "count": 1}
    )
    assert response.status_code == 400
    assert "SECRET" not in response.text


async def test_valid_json_passes_through(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post(
        "/api/v1/probe/echo",
        json={"name": "ok", "count": 2},
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200
    assert response.json() == {"name": "ok", "count": 2}


async def test_unexpected_exception_is_masked_500_envelope(
    probe_client: httpx.AsyncClient,
) -> None:
    response = await probe_client.get("/api/v1/probe/boom")
    error = assert_envelope(response, 500, "INTERNAL_ERROR")
    assert "hunter2" not in response.text
    assert error["message"] == "Internal server error"


async def test_app_error_uses_its_code_and_status(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.get("/api/v1/probe/conflict")
    error = assert_envelope(response, 409, "CONFLICT")
    assert error["message"] == "already there"
