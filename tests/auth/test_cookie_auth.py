"""The session cookie: set at login, HttpOnly and SameSite=Strict, accepted beside the bearer
token, refused on writes from another origin, dropped when the session ends."""

from __future__ import annotations

from http.cookies import Morsel, SimpleCookie

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.auth.cookies import SESSION_COOKIE
from studypath.config import Settings
from studypath.testing.factories import DEFAULT_PASSWORD, make_user

NOTE = {"title": "t", "content": "c"}


def session_cookie(response: httpx.Response) -> Morsel[str]:
    """The one `Set-Cookie` of the session cookie in `response`, parsed."""
    found = []
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        if SESSION_COOKIE in cookie:
            found.append(cookie[SESSION_COOKIE])
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


def origin(client: httpx.AsyncClient) -> str:
    return str(client.base_url).rstrip("/")


async def login(
    client: httpx.AsyncClient, username: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    response = await client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": DEFAULT_PASSWORD},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
async def token(client: httpx.AsyncClient, session: AsyncSession) -> str:
    """A session of a fresh user `ann`, from a real login."""
    await make_user(session, username="ann")
    body = (await login(client, "ann")).json()
    return str(body["data"]["session_token"])


def as_cookie(token: str, **headers: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={token}", **headers}


def as_bearer(token: str) -> dict[str, str]:
    """The header a script client sends: the token, no cookie."""
    return {"Authorization": f"Bearer {token}"}


async def note_count(client: httpx.AsyncClient, token: str) -> int:
    listed = await client.get("/api/v1/notes", headers=as_bearer(token))
    return int(listed.headers["x-total-count"])


# ------------------------------------------------------------------------------ the cookie


async def test_login_sets_an_httponly_same_site_strict_cookie_for_the_session_lifetime(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    await make_user(session, username="ann")
    response = await login(client, "ann")
    cookie = session_cookie(response)
    assert cookie.value == response.json()["data"]["session_token"]  # the body stays as it was
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == str(settings.session_lifetime_seconds)
    assert not cookie["secure"]  # plain http: a Secure cookie would never come back


async def test_script_clients_keep_no_cookie_so_anonymous_stays_anonymous(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The tests' and the Workbench's clients send only the credentials they are given."""
    await make_user(session, username="ann")
    await login(client, "ann")
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_login_over_https_marks_the_cookie_secure(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Behind a TLS proxy (uvicorn trusts `X-Forwarded-Proto` from 127.0.0.1)."""
    await make_user(session, username="ann")
    response = await login(client, "ann", headers={"X-Forwarded-Proto": "https"})
    assert session_cookie(response)["secure"] is True


async def test_the_cookie_alone_authenticates_a_read(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get("/api/v1/auth/me", headers=as_cookie(token))
    assert response.status_code == 200
    assert response.json()["data"]["username"] == "ann"


async def test_the_cookie_authenticates_a_write_from_this_origin(
    client: httpx.AsyncClient, token: str
) -> None:
    created = await client.post(
        "/api/v1/notes", json=NOTE, headers=as_cookie(token, Origin=origin(client))
    )
    assert created.status_code == 201, created.text
    referred = await client.post(
        "/api/v1/notes",
        json=NOTE,
        headers=as_cookie(token, Referer=f"{origin(client)}/notes/new?draft=1"),
    )
    assert referred.status_code == 201, referred.text
    assert await note_count(client, token) == 2


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({"Origin": "http://evil.example"}, "Origin 'http://evil.example' is not"),
        ({"Origin": "http://127.0.0.1:1"}, "Origin 'http://127.0.0.1:1' is not"),
        ({"Origin": "{https_origin}"}, "Origin '{https_origin}' is not"),
        ({"Origin": "null"}, "Origin 'null' is not"),
        ({"Referer": "http://evil.example/page"}, "Referer 'http://evil.example/page' is not"),
        ({}, "must carry an Origin (or Referer) header"),
    ],
    ids=[
        "foreign origin",
        "other port",
        "other scheme",
        "opaque origin",
        "foreign referer",
        "none",
    ],
)
async def test_a_cookie_write_not_from_this_origin_is_refused(
    client: httpx.AsyncClient, token: str, headers: dict[str, str], says: str
) -> None:
    https_origin = origin(client).replace("http://", "https://")  # same host and port
    headers = {name: value.format(https_origin=https_origin) for name, value in headers.items()}
    response = await client.post("/api/v1/notes", json=NOTE, headers=as_cookie(token, **headers))
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "FORBIDDEN"
    assert error["message"].startswith("Cross-site request refused: ")
    assert says.format(https_origin=https_origin) in error["message"]
    assert await note_count(client, token) == 0  # the forged write did not happen


async def test_origin_wins_over_a_matching_referer(client: httpx.AsyncClient, token: str) -> None:
    headers = as_cookie(token, Origin="http://evil.example", Referer=f"{origin(client)}/")
    response = await client.post("/api/v1/notes", json=NOTE, headers=headers)
    assert response.status_code == 403


async def test_a_read_with_the_cookie_needs_no_origin(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await client.get(
        "/api/v1/notes", headers=as_cookie(token, Origin="http://evil.example")
    )
    assert response.status_code == 200


# ------------------------------------------------------------------- headers win over it


async def test_the_bearer_token_wins_over_the_cookie_and_needs_no_origin(
    client: httpx.AsyncClient, session: AsyncSession, token: str
) -> None:
    await make_user(session, username="bob")
    bob = (await login(client, "bob")).json()["data"]["session_token"]
    both = as_cookie(token, Authorization=f"Bearer {bob}")
    me = await client.get("/api/v1/auth/me", headers=both)
    assert me.json()["data"]["username"] == "bob"
    foreign = {**both, "Origin": "http://evil.example"}
    created = await client.post("/api/v1/notes", json=NOTE, headers=foreign)
    assert created.status_code == 201, created.text
    assert (await note_count(client, bob), await note_count(client, token)) == (1, 0)


async def test_an_api_key_header_wins_over_the_cookie(
    client: httpx.AsyncClient, session: AsyncSession, token: str
) -> None:
    await make_user(session, username="bob")
    bob = (await login(client, "bob")).json()["data"]["session_token"]
    key = await client.post("/api/v1/api-keys", json={"name": "ci"}, headers=as_bearer(bob))
    me = await client.get(
        "/api/v1/auth/me", headers=as_cookie(token, **{"X-API-Key": key.json()["data"]["key"]})
    )
    assert me.json()["data"]["username"] == "bob"


async def test_an_api_key_in_the_cookie_is_no_session(
    client: httpx.AsyncClient, token: str
) -> None:
    key = await client.post("/api/v1/api-keys", json={"name": "ci"}, headers=as_bearer(token))
    response = await client.get("/api/v1/auth/me", headers=as_cookie(key.json()["data"]["key"]))
    assert response.status_code == 401


async def test_a_dead_cookie_is_refused_and_dropped(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/me", headers=as_cookie("x" * 64))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid or expired session"
    assert session_cookie(response)["max-age"] == "0"


async def test_a_dead_bearer_token_leaves_cookies_alone(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer " + "x" * 64})
    assert response.status_code == 401
    assert response.headers.get_list("set-cookie") == []


# ---------------------------------------------------------------- when the session ends


@pytest.mark.parametrize("path", ["/api/v1/auth/logout", "/api/v1/auth/logout-all"])
async def test_logging_out_drops_the_cookie_and_ends_the_session(
    client: httpx.AsyncClient, token: str, path: str
) -> None:
    response = await client.post(path, headers=as_cookie(token, Origin=origin(client)))
    assert response.status_code == 200, response.text
    dropped = session_cookie(response)
    assert (dropped["max-age"], dropped["path"]) == ("0", "/")
    after = await client.get("/api/v1/auth/me", headers=as_cookie(token))
    assert after.status_code == 401


async def test_logging_out_with_the_bearer_token_drops_the_cookie_too(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await client.post("/api/v1/auth/logout", headers=as_bearer(token))
    assert response.status_code == 200
    assert session_cookie(response)["max-age"] == "0"


async def test_deleting_the_account_drops_the_cookie(client: httpx.AsyncClient, token: str) -> None:
    response = await client.request(
        "DELETE",
        "/api/v1/users/me",
        json={"password": DEFAULT_PASSWORD, "confirmation": "DELETE"},
        headers=as_cookie(token, Origin=origin(client)),
    )
    assert response.status_code == 200, response.text
    assert session_cookie(response)["max-age"] == "0"


async def test_changing_the_password_keeps_this_session_and_its_cookie(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await client.put(
        "/api/v1/users/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "Fresh-Password-77"},
        headers=as_cookie(token, Origin=origin(client)),
    )
    assert response.status_code == 200, response.text
    assert response.headers.get_list("set-cookie") == []
    assert (await client.get("/api/v1/auth/me", headers=as_cookie(token))).status_code == 200


async def test_refreshing_through_the_cookie_renews_it(
    client: httpx.AsyncClient, token: str, settings: Settings
) -> None:
    response = await client.post(
        "/api/v1/auth/refresh", headers=as_cookie(token, Origin=origin(client))
    )
    assert response.status_code == 200, response.text
    renewed = session_cookie(response)
    assert renewed.value == token  # the same session, a full lifetime again
    assert renewed["max-age"] == str(settings.session_lifetime_seconds)
    assert renewed["httponly"] is True and renewed["samesite"].lower() == "strict"


async def test_refreshing_with_the_bearer_token_sets_no_cookie(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await client.post("/api/v1/auth/refresh", headers=as_bearer(token))
    assert response.status_code == 200
    assert response.headers.get_list("set-cookie") == []
