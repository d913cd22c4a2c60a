"""The probes' route (`ProbeRoute`): answers byte for byte what FastAPI would have sent for
the declared response model, and refuses handlers it cannot serve."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from starlette.responses import Response

from studypath.health.api import LivenessAnswer, ReadinessAnswer, StartupAnswer
from studypath.health.probe_route import ProbeRoute


@pytest.mark.parametrize(
    ("path", "answer"),
    [
        ("/api/v1/health/live", LivenessAnswer),
        ("/api/v1/health/ready", ReadinessAnswer),
        ("/api/v1/health/startup", StartupAnswer),
    ],
)
async def test_a_probe_answers_its_response_model_as_fastapi_would(
    client: httpx.AsyncClient, path: str, answer: type[BaseModel]
) -> None:
    response = await client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    # What FastAPI sends for a `response_model`: the model, validated, dumped as compact JSON.
    assert answer.model_validate_json(response.content).model_dump_json() == response.text
    for header in ("x-request-id", "x-content-type-options", "cache-control"):
        assert header in response.headers  # the middleware still stamps every answer


async def test_a_probe_still_refuses_other_methods(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/health/live", json={})
    assert response.status_code == 405


def test_a_probe_route_refuses_a_handler_with_parameters() -> None:
    router = APIRouter(route_class=ProbeRoute)

    async def takes_a_query(verbose: bool = False) -> Response:
        return Response()

    with pytest.raises(TypeError, match="a probe takes no parameters"):
        router.add_api_route("/probe", takes_a_query)


async def test_a_probe_route_refuses_an_answer_that_is_not_a_response() -> None:
    app = FastAPI()

    async def answers_a_dict() -> Any:
        return {"status": "alive"}

    app.router.add_api_route("/probe", answers_a_dict, route_class_override=ProbeRoute)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        with pytest.raises(TypeError, match="must return a Response"):
            await client.get("/probe")
