"""Every list endpoint pages the same way: `limit`/`offset` in, `X-Total-Count` out."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.config import Settings
from studypath.core.pagination import TOTAL_COUNT_HEADER
from studypath.system import System
from studypath.testing.server import app_of
from tests.support.factories import create_world


def paged_endpoints(system: System) -> list[str]:
    """The paths of the GET operations that take a `limit` query parameter."""
    spec = app_of(system).openapi()
    return sorted(
        path
        for path, operations in spec["paths"].items()
        if any(
            parameter["name"] == "limit" and parameter["in"] == "query"
            for parameter in operations.get("get", {}).get("parameters", [])
        )
    )


async def test_every_list_endpoint_answers_x_total_count(
    system: System, client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    world = await create_world(session, settings)
    endpoints = paged_endpoints(system)
    assert len(endpoints) >= 9, endpoints  # users, tasks ×2, notes, notifications, monitoring ×4

    for path in endpoints:
        response = await client.get(path, params={"limit": 1}, headers=world.admin.headers)
        assert response.status_code == 200, (path, response.text)
        rows = response.json()["data"]
        assert len(rows) <= 1, path
        assert response.headers[TOTAL_COUNT_HEADER].isdigit(), path
        assert int(response.headers[TOTAL_COUNT_HEADER]) >= len(rows), path


async def test_x_total_count_counts_every_page_not_this_one(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    world = await create_world(session, settings)

    response = await client.get(
        "/api/v1/users", params={"limit": 1, "offset": 1}, headers=world.admin.headers
    )

    assert len(response.json()["data"]) == 1
    assert response.headers[TOTAL_COUNT_HEADER] == "4"  # owner, other, moderator, admin


async def test_a_browser_client_may_read_the_list_headers(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    """Cross-origin JavaScript sees only the headers CORS exposes: a pager needs the total."""
    world = await create_world(session, settings)

    response = await client.get(
        "/api/v1/notifications",
        headers={"Origin": "http://localhost:5173", **world.owner.headers},
    )

    exposed = {
        name.strip().lower()
        for name in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"x-total-count", "x-unread-count"} <= exposed
    assert response.headers[TOTAL_COUNT_HEADER] == "1"
