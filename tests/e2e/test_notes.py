"""The core flow, two people in two browsers: alice registers, signs in, writes a note and
shares it with bob; bob sees the notification and reads the note. On a desktop screen and
on a 375 px phone, where no page may scroll sideways."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import PHONE_WIDTH, OpenPage
from tests.e2e.steps import (
    heading,
    navigation,
    register,
    register_by_api,
    sign_in,
    sign_out,
    wait_for_unread_notifications,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

TITLE = "Week 4 questions"
TEXT = "Why does the query cache make the second visit free?"


async def assert_fits_the_screen(page: Page) -> None:
    """Nothing wider than the viewport: the page never scrolls sideways."""
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} is {overflow} px wider than the screen"


@pytest.mark.parametrize("width", [1280, PHONE_WIDTH], ids=["desktop", "phone"])
async def test_a_shared_note_reaches_the_other_user(
    open_page: OpenPage, live_app: str, width: int
) -> None:
    await register_by_api(live_app, "bob")
    alice = await open_page("alice", width=width)

    # Register (the app signs the new account in), sign out, sign in again.
    await register(alice, "alice")
    await assert_fits_the_screen(alice)
    await sign_out(alice)
    await sign_in(alice, "alice")

    # Write a note.
    await navigation(alice).get_by_role("link", name="Notes").click()
    await expect(heading(alice, "Notes")).to_be_visible()
    await alice.get_by_role("link", name="New note").click()
    await alice.get_by_label("Title").fill(TITLE)
    await alice.get_by_label("Text").fill(TEXT)
    await alice.get_by_role("button", name="Create note").click()
    await expect(heading(alice, TITLE)).to_be_visible()
    await expect(alice.get_by_role("article", name="Note")).to_contain_text(TEXT)
    await assert_fits_the_screen(alice)

    # Share it with bob, to read.
    await alice.get_by_role("button", name="Share note").click()
    dialog = alice.get_by_role("dialog", name=f"Share “{TITLE}”")
    await expect(dialog).to_be_visible()
    await dialog.get_by_label("Username").fill("bob")
    await dialog.get_by_role("button", name="Share", exact=True).click()
    await expect(dialog.get_by_role("status")).to_contain_text("Shared with bob")
    await assert_fits_the_screen(alice)

    # A worker writes bob's notification; bob, signing in, sees it counted in the menu.
    await wait_for_unread_notifications(live_app, "bob", 1)
    bob = await open_page("bob", width=width)
    await bob.goto("/")
    await sign_in(bob, "bob")
    unread = navigation(bob).get_by_role("link", name=re.compile(r"^Notifications\W+1 unread"))
    await expect(unread).to_be_visible()
    await unread.click()
    notifications = bob.get_by_role("list", name="Notifications")
    await expect(notifications).to_contain_text(f"A note was shared with you: {TITLE}")
    await assert_fits_the_screen(bob)

    # From the notification to the note: bob may read it, not change it.
    await notifications.get_by_role("link", name="Open the note").click()
    await expect(heading(bob, TITLE)).to_be_visible()
    await expect(bob.get_by_role("article", name="Note")).to_contain_text(TEXT)
    await expect(bob.get_by_role("article", name="Note")).to_contain_text("read only")
    await expect(bob.get_by_role("button", name="Edit note")).to_have_count(0)
    await expect(
        navigation(bob).get_by_role("link", name="Notifications", exact=True)
    ).to_be_visible()
    await assert_fits_the_screen(bob)
