"""An incident in the browser names its people: a user opens one, a moderator (here the
admin) assigns it to themself, and the user's page says who works on it by username."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, NewUserAt, OpenPage
from tests.e2e.steps import heading, sign_in_on_the_way, token_by_api

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_an_incident_page_names_who_opened_it_and_who_works_on_it(
    open_page: OpenPage, new_user_at: NewUserAt, live_app: str
) -> None:
    riley = await new_user_at("riley", "/monitoring/incidents")
    token = await token_by_api(live_app, "riley")
    async with httpx.AsyncClient(base_url=live_app, timeout=10) as http:
        opened = await http.post(
            "/api/v1/monitoring/incidents",
            headers={"Authorization": f"Bearer {token}"},
            json={"title": "checkout is slow", "severity": "high"},
        )
    assert opened.status_code == 200, opened.text
    path = f"/monitoring/incidents/{opened.json()['data']['id']}"

    admin = await open_page("admin")
    await sign_in_on_the_way(admin, path, "admin", ADMIN_PASSWORD)
    await expect(heading(admin, "Incident: checkout is slow")).to_be_visible()
    await expect(admin.locator("dd", has_text="riley")).to_be_visible()  # opened by
    await admin.get_by_role("button", name="Assign to me").click()
    await expect(admin.get_by_role("button", name="Unassign me")).to_be_visible()

    await riley.goto(path)
    await expect(heading(riley, "Incident: checkout is slow")).to_be_visible()
    assigned = riley.locator("dt", has_text="Assigned to").locator("xpath=following-sibling::dd[1]")
    opener = riley.locator("dt", has_text="Opened by").locator("xpath=following-sibling::dd[1]")
    await expect(assigned).to_have_text("admin")
    await expect(opener).to_have_text("you")
