"""What a person does in the web app, as steps the browser tests share.

Elements are found the way a person (or a screen reader) finds them: by role and accessible
name, by a field's label — never by CSS class or test id — so a test that passes also says
the page is labelled well enough to use. Each step ends by waiting (`expect`) for what the
person would see next.
"""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Locator, Page, expect

from studypath.core.clock import poll_until_async

PASSWORD = "Sunny-Meadow-42"


def heading(page: Page, name: str) -> Locator:
    return page.get_by_role("heading", level=1, name=name)


async def register(page: Page, username: str, password: str = PASSWORD) -> None:
    """Create an account on the register page; the app signs in and shows the dashboard."""
    await page.goto("/register")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("E-mail").fill(f"{username}@example.com")
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()
    await expect(signed_in_as(page, username)).to_be_visible()


async def sign_in(page: Page, login: str, password: str = PASSWORD) -> None:
    """Fill the sign-in form the page shows and submit it."""
    await expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    await page.get_by_label("Username or e-mail").fill(login)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(signed_in_as(page, login)).to_be_visible()


async def sign_in_on_the_way(page: Page, path: str, login: str, password: str = PASSWORD) -> None:
    """Ask for `path` while signed out: the app sends the browser to sign in, keeping the
    path in `next`, and goes on to it once the form is sent."""
    await page.goto(path)
    await expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    await sign_in(page, login, password)


async def sign_out(page: Page) -> None:
    await navigation(page).get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()


def navigation(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main")


def signed_in_as(page: Page, username: str) -> Locator:
    """The header's "who is signed in" (`alice (user)`)."""
    return page.get_by_role("navigation", name="Main").get_by_text(
        re.compile(rf"^{re.escape(username)}\b")
    )


async def register_by_api(base_url: str, username: str, password: str = PASSWORD) -> None:
    """An account made without the browser: the tests that are not about registering."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        response = await http.post(
            "/api/v1/auth/register",
            json={"username": username, "email": f"{username}@example.com", "password": password},
        )
        assert response.status_code == 200, response.text


async def sign_out_everywhere_by_api(base_url: str, username: str, password: str) -> None:
    """What "sign out everywhere" on another device does: every session of the user ends."""
    token = await token_by_api(base_url, username, password)
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        ended = await http.post(
            "/api/v1/auth/logout-all", headers={"Authorization": f"Bearer {token}"}
        )
        assert ended.status_code == 200, ended.text


async def token_by_api(base_url: str, username: str, password: str = PASSWORD) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        login = await http.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert login.status_code == 200, login.text
        token: str = login.json()["data"]["session_token"]
        return token


async def wait_for_unread_notifications(base_url: str, username: str, count: int) -> None:
    """Until `username` has `count` unread notifications (a worker writes them, moments
    after the action that caused them). The app asks for them every 30 s; the test waits
    for the effect and then opens the app, rather than waiting for the app's next poll."""
    headers = {"Authorization": f"Bearer {await token_by_api(base_url, username)}"}
    seen: list[str] = []
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as http:

        async def arrived() -> bool:
            response = await http.get(
                "/api/v1/notifications", params={"unread_only": True, "limit": 1}
            )
            seen[:] = [response.headers.get("x-total-count", "?")]
            return response.status_code == 200 and seen[0] == str(count)

        await poll_until_async(
            arrived,
            within=15,
            what=f"{count} unread notification(s) for {username}",
            detail=lambda: f"unread: {seen[0] if seen else 'not asked yet'}",
        )
