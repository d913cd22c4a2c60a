"""Accounts in the browser: a refused form shows the problem by its field, a deep link
survives sign-in and reload, and a session ended elsewhere sends the user to sign in and
back to where they were."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import NewUserAt, OpenPage
from tests.e2e.steps import (
    PASSWORD,
    heading,
    sign_in,
    sign_out_everywhere_by_api,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_refused_registration_shows_the_problem_next_to_its_field(
    open_page: OpenPage,
) -> None:
    page = await open_page("visitor")
    await page.goto("/register")
    username = page.get_by_label("Username")
    await username.fill("no spaces allowed")
    await page.get_by_label("E-mail").fill("visitor@example.com")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()

    # The server's 400 lands on the username field: marked invalid, and its message joins
    # the field's hint in the input's description (a screen reader reads both with the
    # field), in words a person understands rather than pydantic's regular expression;
    # the other fields are untouched.
    await expect(username).to_have_attribute("aria-invalid", "true")
    await expect(username).to_have_accessible_description(
        re.compile(r"^3–50 letters, digits, _ or -\.\s+Use letters, digits, _ or - only")
    )
    await expect(page.get_by_text("should match pattern")).to_have_count(0)
    await expect(page.get_by_label("Password", exact=True)).not_to_have_attribute(
        "aria-invalid", "true"
    )
    await expect(page.get_by_role("alert")).to_be_visible()
    await expect(heading(page, "Create an account")).to_be_visible()


async def test_a_deep_link_leads_through_sign_in_and_survives_a_reload(
    new_user_at: NewUserAt,
) -> None:
    # Typed in while signed out: the server answers the client route with the app, which
    # asks for a sign-in (`next` keeps the link) and then goes where the link pointed.
    page = await new_user_at("dora", "/tasks?status=completed")
    await expect(heading(page, "Tasks")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"/tasks\?status=completed$"))

    # A reload asks the server for /tasks again: still the app, still signed in (the
    # HttpOnly cookie), still the filter from the address.
    await page.reload()
    await expect(heading(page, "Tasks")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"/tasks\?status=completed$"))
    await expect(page.get_by_label("Status")).to_have_value("completed")


async def test_a_session_ended_elsewhere_sends_to_sign_in_and_back(
    new_user_at: NewUserAt, live_app: str
) -> None:
    page = await new_user_at("eve", "/profile")
    await expect(heading(page, "Profile")).to_be_visible()

    # "Sign out everywhere" from another device: this browser's session is over, though
    # the page does not know it yet. Its next request gets a 401.
    await sign_out_everywhere_by_api(live_app, "eve", PASSWORD)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Tasks").click()

    await expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Ftasks"))
    await expect(page.get_by_text("Please sign in to continue.")).to_be_visible()
    await sign_in(page, "eve")
    await expect(heading(page, "Tasks")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"/tasks$"))
