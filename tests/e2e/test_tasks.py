"""Tasks in the browser: a task created with the form runs on the real worker, and its page
follows it to `completed` by itself — no reload."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import NewUserAt
from tests.e2e.steps import heading

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_task_created_in_the_form_reaches_completed_without_a_reload(
    new_user_at: NewUserAt,
) -> None:
    page = await new_user_at("tess", "/tasks/new")
    await expect(heading(page, "Create a task")).to_be_visible()

    # The form is built from the type's payload schema: choosing the type brings its fields.
    await page.get_by_label("Task type").select_option("delay_task")
    await page.get_by_label(re.compile(r"^Delay Seconds")).fill("1")
    await page.get_by_role("button", name="Create task").click()

    await expect(heading(page, "Task: delay_task")).to_be_visible()
    status = page.get_by_text(re.compile(r"^Status:"))
    await expect(status).to_contain_text(re.compile(r"pending|running"))
    await expect(status).to_contain_text("watching for changes")
    # A mark in this document: a reload would start a new one without it.
    await page.evaluate("() => { window.sameDocument = true; }")

    # The worker picks the task up and finishes it; the page re-reads it on its own.
    await expect(status).to_contain_text("completed")
    await expect(status).not_to_contain_text("watching for changes")
    await expect(page.get_by_label("Result")).to_contain_text("slept_seconds")
    assert await page.evaluate("() => window.sameDocument === true"), "the page was reloaded"
