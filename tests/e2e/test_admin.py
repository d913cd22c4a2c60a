"""Roles in the browser: a page above the user's role is "not found" and not offered; an
admin makes the user a moderator on the users page, and the user's app offers the staff
pages as soon as the user returns to its tab, without a reload."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, NewUserAt, OpenPage
from tests.e2e.steps import heading, navigation, sign_in_on_the_way

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_an_admin_makes_a_user_moderator_and_the_users_app_changes(
    open_page: OpenPage, new_user_at: NewUserAt
) -> None:
    # A plain user: the queue is neither offered nor reachable by its address.
    morgan = await new_user_at("morgan", "/queue")
    await expect(heading(morgan, "Page not found")).to_be_visible()
    await expect(navigation(morgan).get_by_role("link", name="Queue")).to_have_count(0)
    await expect(navigation(morgan).get_by_role("link", name="Users")).to_have_count(0)

    # The admin, in a browser of their own, changes morgan's role on the users page.
    admin = await open_page("admin")
    await sign_in_on_the_way(admin, "/users", "admin", ADMIN_PASSWORD)
    await expect(heading(admin, "Users")).to_be_visible()
    await admin.get_by_role("combobox", name="Role of morgan").select_option("moderator")
    # Wait for the server's answer: the row's text holds "moderator" from the start (it is
    # one of the select's options), so the page alone cannot say the change was saved.
    async with admin.expect_response(
        lambda response: response.url.endswith("/role") and response.request.method == "PUT"
    ) as saved:
        await admin.get_by_role("button", name="Change role of morgan").click()
    assert (await saved.value).status == 200

    # morgan comes back to the app's tab (no reload; the event is the one a browser fires
    # when a tab is shown again): the app asks who is signed in again and the staff pages
    # appear, the queue page among them, where morgan still is.
    await morgan.evaluate(
        "document.dispatchEvent(new Event('visibilitychange', { bubbles: true }))"
    )
    await expect(heading(morgan, "Task queue")).to_be_visible()
    await expect(navigation(morgan).get_by_text(re.compile(r"^morgan\b"))).to_contain_text(
        "moderator"
    )
    await expect(navigation(morgan).get_by_role("link", name="Queue")).to_be_visible()
    await expect(navigation(morgan).get_by_role("link", name="Users")).to_be_visible()
