"""Users: self-service, moderation and administration, with the rules that protect them."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.config import Settings
from studypath.identity.models import User
from studypath.identity.roles import Role
from studypath.testing.factories import DEFAULT_PASSWORD, make_user
from studypath.testing.server import client_for, running_system
from tests.support.reference_script import ADMIN_DELETE, ADMIN_STEPS
from tests.support.responses import error_code

NEW_PASSWORD = "Reset-Pass-123!"


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str = DEFAULT_PASSWORD
) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['data']['session_token']}"}


@pytest.fixture
async def cast(session: AsyncSession, client: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    """One user per role, signed in; returns their auth headers by name."""
    await make_user(session, username="alice")
    await make_user(session, username="bob")
    await make_user(session, username="mod", role=Role.MODERATOR)
    await make_user(session, username="root", role=Role.ADMIN)
    return {name: await sign_in(client, name) for name in ("alice", "bob", "mod", "root")}


async def user_id(session: AsyncSession, username: str) -> str:
    return str(await session.scalar(select(User.id).where(User.username == username)))


async def delete_own_account(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    password: str = DEFAULT_PASSWORD,
    confirmation: str = "DELETE",
) -> httpx.Response:
    """`DELETE /users/me`: a body on DELETE needs `client.request`."""
    return await client.request(
        "DELETE",
        "/api/v1/users/me",
        headers=headers,
        json={"password": password, "confirmation": confirmation},
    )


async def create_user_as(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    username: str,
    password: str,
    role: str | None,
) -> httpx.Response:
    """`POST /users` by an admin, with the email derived from the username."""
    return await client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "username": username,
            "email": f"{username}@example.com",
            "password": password,
            "role": role,
        },
    )


async def reset_password(
    client: httpx.AsyncClient, headers: dict[str, str], target: str, **body: object
) -> httpx.Response:
    """`POST /users/{target}/reset-password` to `NEW_PASSWORD`, plus any other `body` fields."""
    return await client.post(
        f"/api/v1/users/{target}/reset-password",
        headers=headers,
        json={"new_password": NEW_PASSWORD, **body},
    )


# --- self-service ------------------------------------------------------------------------------
async def test_profile_update_and_new_email_needs_verification(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    await session.execute(update(User).values(email_verified=True))
    await session.commit()
    response = await client.put(
        "/api/v1/users/me/profile",
        headers=cast["alice"],
        json={"username": "alice_b", "email": "alice.b@example.com"},
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["username"] == "alice_b"
    assert data["email"] == "alice.b@example.com"
    assert data["email_verified"] is False

    unchanged = await client.put(
        "/api/v1/users/me/profile", headers=cast["bob"], json={"username": "bobby"}
    )
    assert unchanged.json()["data"]["email_verified"] is True  # same email: still verified


async def test_profile_update_rejects_taken_names(
    client: httpx.AsyncClient, cast: dict[str, dict[str, str]]
) -> None:
    taken = await client.put(
        "/api/v1/users/me/profile", headers=cast["alice"], json={"username": "BOB"}
    )
    assert error_code(taken, 409) == "USERNAME_ALREADY_EXISTS"
    own = await client.put(
        "/api/v1/users/me/profile", headers=cast["alice"], json={"username": "ALICE"}
    )
    assert own.status_code == 200  # changing the case of your own name is fine


async def test_unknown_fields_are_rejected(
    client: httpx.AsyncClient, cast: dict[str, dict[str, str]]
) -> None:
    response = await client.put(
        "/api/v1/users/me/profile", headers=cast["alice"], json={"role": "admin"}
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("current", "new", "status", "code"),
    [
        ("Wrong-Pass-11", "Another-Pass-1", 401, "INVALID_CREDENTIALS"),
        (DEFAULT_PASSWORD, DEFAULT_PASSWORD, 400, "VALIDATION_FAILED"),
        (DEFAULT_PASSWORD, "short", 400, "VALIDATION_FAILED"),
    ],
    ids=["wrong-current", "same-as-current", "policy"],
)
async def test_change_password_errors(
    client: httpx.AsyncClient,
    cast: dict[str, dict[str, str]],
    current: str,
    new: str,
    status: int,
    code: str,
) -> None:
    response = await client.put(
        "/api/v1/users/me/password",
        headers=cast["alice"],
        json={"current_password": current, "new_password": new},
    )
    assert error_code(response, status) == code
    await sign_in(client, "alice")  # nothing changed: the old password still works


async def test_a_weak_new_password_is_refused_naming_the_request_field(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    """The policy's 400 names the field the request sent: `new_password`, not `password`."""
    bob = await user_id(session, "bob")
    for method, path, headers, body in (
        (
            "PUT",
            "/api/v1/users/me/password",
            cast["alice"],
            {"current_password": DEFAULT_PASSWORD, "new_password": "short"},
        ),
        ("POST", f"/api/v1/users/{bob}/reset-password", cast["root"], {"new_password": "short"}),
    ):
        response = await client.request(method, path, headers=headers, json=body)
        assert response.status_code == 400, (path, response.text)
        details = response.json()["error"]["details"]
        assert details and {detail["field"] for detail in details} == {"new_password"}, path
    await sign_in(client, "alice")  # nothing changed: the old passwords still work
    await sign_in(client, "bob")


async def test_delete_own_account(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    wrong = await delete_own_account(client, cast["alice"], password="nope")
    assert wrong.status_code == 400
    unconfirmed = await delete_own_account(client, cast["alice"], confirmation="yes")
    assert unconfirmed.status_code == 400

    done = await delete_own_account(client, cast["alice"])
    assert done.status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=cast["alice"])).status_code == 401
    login = await client.post(
        "/api/v1/auth/login", json={"username": "alice", "password": DEFAULT_PASSWORD}
    )
    assert login.status_code == 401
    row = await session.scalar(select(User).where(User.username == "alice"))
    assert row is not None and row.deleted_at is not None  # soft: kept for audit


# --- moderation --------------------------------------------------------------------------------
async def test_moderators_list_users_but_not_admins(
    client: httpx.AsyncClient, cast: dict[str, dict[str, str]]
) -> None:
    as_mod = await client.get("/api/v1/users", headers=cast["mod"])
    as_admin = await client.get("/api/v1/users", headers=cast["root"])
    assert [u["username"] for u in as_mod.json()["data"]] == ["alice", "bob", "mod"]
    assert as_mod.headers["x-total-count"] == "3"
    assert [u["username"] for u in as_admin.json()["data"]] == ["alice", "bob", "mod", "root"]


async def test_list_users_filters_and_paginates(
    client: httpx.AsyncClient, cast: dict[str, dict[str, str]]
) -> None:
    page = await client.get("/api/v1/users?limit=2&offset=1", headers=cast["root"])
    assert [u["username"] for u in page.json()["data"]] == ["bob", "mod"]
    assert page.headers["x-total-count"] == "4"
    mods = await client.get("/api/v1/users?role=moderator", headers=cast["root"])
    assert [u["username"] for u in mods.json()["data"]] == ["mod"]
    search = await client.get("/api/v1/users?search=AL", headers=cast["root"])
    assert [u["username"] for u in search.json()["data"]] == ["alice"]
    too_many = await client.get("/api/v1/users?limit=101", headers=cast["root"])
    assert too_many.status_code == 400  # a range rule (status rule in core.errors)


async def test_moderator_cannot_act_on_admins(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    root = await user_id(session, "root")
    for method, path, body in (
        ("GET", f"/api/v1/users/{root}", None),
        ("PUT", f"/api/v1/users/{root}/status", {"is_active": False}),
        ("POST", f"/api/v1/users/{root}/reset-password", {"new_password": "Takeover-Pass-9"}),
    ):
        response = await client.request(method, path, headers=cast["mod"], json=body)
        assert error_code(response, 404) == "USER_NOT_FOUND"
    await sign_in(client, "root")  # untouched


async def test_moderator_can_reactivate(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    bob = await user_id(session, "bob")
    await client.put(f"/api/v1/users/{bob}/status", headers=cast["mod"], json={"is_active": False})
    back = await client.put(
        f"/api/v1/users/{bob}/status", headers=cast["mod"], json={"is_active": True}
    )
    assert back.json()["data"]["is_active"] is True
    await sign_in(client, "bob")


# --- administration ----------------------------------------------------------------------------
async def test_admin_creates_users_with_roles(
    client: httpx.AsyncClient, cast: dict[str, dict[str, str]]
) -> None:
    response = await create_user_as(client, cast["root"], "carol", "Carol-Pass-33", "moderator")
    assert response.status_code == 200
    assert response.json()["data"]["role"] == "moderator"
    carol = await sign_in(client, "carol", "Carol-Pass-33")
    assert (await client.get("/api/v1/users", headers=carol)).status_code == 200


async def test_role_change_takes_effect_on_the_next_request(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    bob = await user_id(session, "bob")
    assert (await client.get("/api/v1/users", headers=cast["bob"])).status_code == 403
    await client.put(f"/api/v1/users/{bob}/role", headers=cast["root"], json={"role": "moderator"})
    assert (await client.get("/api/v1/users", headers=cast["bob"])).status_code == 200


async def test_last_active_admin_is_protected(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    root = await user_id(session, "root")
    demote = await client.put(
        f"/api/v1/users/{root}/role", headers=cast["root"], json={"role": "user"}
    )
    assert demote.status_code == 409
    delete_self = await delete_own_account(client, cast["root"])
    assert delete_self.status_code == 409

    # With a second admin, the first may step down — and then the second is the last one.
    await create_user_as(client, cast["root"], "root2", "Second-Admin-8", "admin")
    root2 = await user_id(session, "root2")
    assert (
        await client.put(f"/api/v1/users/{root}/role", headers=cast["root"], json={"role": "user"})
    ).status_code == 200
    second = await sign_in(client, "root2", "Second-Admin-8")
    assert (
        await client.put(f"/api/v1/users/{root2}/role", headers=second, json={"role": "moderator"})
    ).status_code == 409
    assert (
        await client.put(f"/api/v1/users/{root2}/status", headers=second, json={"is_active": False})
    ).status_code == 409


async def test_admin_deletes_soft_or_hard_but_not_self(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    alice, bob, root = [await user_id(session, name) for name in ("alice", "bob", "root")]
    soft = await client.request(
        "DELETE", f"/api/v1/users/{alice}", headers=cast["root"], json={"reason": "test"}
    )
    hard = await client.request(
        "DELETE", f"/api/v1/users/{bob}", headers=cast["root"], json={"hard_delete": True}
    )
    itself = await client.request("DELETE", f"/api/v1/users/{root}", headers=cast["root"])
    assert (soft.status_code, hard.status_code, itself.status_code) == (200, 200, 409)
    names = set(await session.scalars(select(User.username)))
    assert "alice" in names and "bob" not in names
    assert (await client.get(f"/api/v1/users/{alice}", headers=cast["root"])).status_code == 404


async def test_user_stats(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    await make_user(session, username="dormant", is_active=False, email_verified=True)
    stats = (await client.get("/api/v1/admin/users/stats", headers=cast["root"])).json()["data"]
    assert stats["total"] == 5
    assert stats["active"] == 4
    assert stats["inactive"] == 1
    assert stats["deleted"] == 0
    assert stats["email_verified"] == 1
    assert stats["by_role"] == {"user": 3, "moderator": 1, "admin": 1}
    assert stats["recent_registrations"] == {"last_24h": 5, "last_7d": 5, "last_30d": 5}


async def test_initial_admin_is_created_once(settings: Settings, session: AsyncSession) -> None:
    with_admin = settings.model_copy(
        update={"initial_admin_password": SecretStr("First-Admin-Pass-1")}
    )
    async with running_system(with_admin) as system, client_for(system) as client:
        assert system.initial_admin_created
        me = await client.get(
            "/api/v1/auth/me", headers=await sign_in(client, "admin", "First-Admin-Pass-1")
        )
        assert me.json()["data"]["role"] == "admin"
        assert me.json()["data"]["email"] == "admin@example.com"
    async with running_system(with_admin) as again:
        assert not again.initial_admin_created
    admins = list(await session.scalars(select(User.username).where(User.role == Role.ADMIN)))
    assert admins == ["admin"]


# --- hardening (issues #10, #11) -------------------------------------------------------------


@pytest.fixture
def audit_lines() -> Iterator[list[logging.LogRecord]]:
    """The audit log's records (the `studypath` loggers do not reach the root logger)."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect()
    logger = logging.getLogger("studypath.audit")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


async def api_key_of(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    created = await client.post("/api/v1/api-keys", headers=headers, json={"name": "script"})
    assert created.status_code == 200, created.text
    key: str = created.json()["data"]["key"]
    return key


async def test_reset_with_require_change_forces_a_password_change_at_next_login(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    bob = await user_id(session, "bob")
    reset = await reset_password(client, cast["root"], bob, require_change=True, reason="leaked")
    assert reset.status_code == 200, reset.text

    login = await client.post(
        "/api/v1/auth/login", json={"username": "bob", "password": NEW_PASSWORD}
    )
    assert login.status_code == 200
    assert login.json()["data"]["user"]["password_change_required"] is True
    held = {"Authorization": f"Bearer {login.json()['data']['session_token']}"}

    me = await client.get("/api/v1/auth/me", headers=held)
    assert me.status_code == 200
    assert me.json()["data"]["password_change_required"] is True
    for method, path, body in (
        ("GET", "/api/v1/users/me/profile", None),
        ("PUT", "/api/v1/users/me/profile", {"username": "bobby"}),
        ("POST", "/api/v1/api-keys", {"name": "escape"}),
        ("POST", "/api/v1/auth/refresh", None),
        ("GET", "/api/v1/tasks", None),
        ("GET", "/api/v1/notes", None),
    ):
        refused = await client.request(method, path, headers=held, json=body)
        assert error_code(refused, 403) == "FORBIDDEN"
        assert "password change required" in refused.json()["error"]["message"]

    changed = await client.put(
        "/api/v1/users/me/password",
        headers=held,
        json={"current_password": NEW_PASSWORD, "new_password": "Chosen-By-Bob-7"},
    )
    assert changed.status_code == 200, changed.text
    profile = await client.get("/api/v1/users/me/profile", headers=held)
    assert profile.status_code == 200
    assert profile.json()["data"]["password_change_required"] is False
    row = await session.scalar(select(User.password_change_required).where(User.id == bob))
    assert row is False


async def test_held_session_may_log_out_and_log_out_everywhere(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    bob = await user_id(session, "bob")
    await reset_password(client, cast["root"], bob, require_change=True)
    first_headers = await sign_in(client, "bob", NEW_PASSWORD)
    second_headers = await sign_in(client, "bob", NEW_PASSWORD)
    assert (await client.post("/api/v1/auth/logout", headers=first_headers)).status_code == 200
    everywhere = await client.post("/api/v1/auth/logout-all", headers=second_headers)
    assert everywhere.status_code == 200


async def test_reference_script_admin_sequence_with_reasons(
    client: httpx.AsyncClient,
    cast: dict[str, dict[str, str]],
    audit_lines: list[logging.LogRecord],
) -> None:
    """The guide's script (test-with-curl.sh, admin section) request for request."""
    root = cast["root"]
    created = await create_user_as(client, root, "admin_created_1", "CreatedPass123!", "user")
    assert created.status_code == 200
    target = created.json()["data"]["id"]
    for method, action, body in ADMIN_STEPS:
        response = await client.request(
            method, f"/api/v1/users/{target}/{action}", headers=root, json=body
        )
        assert response.status_code == 200, (action, response.text)
    deleted = await client.request(
        "DELETE", f"/api/v1/users/{target}", headers=root, json=ADMIN_DELETE
    )
    assert deleted.status_code == 200

    reasons = {record.event: record.reason for record in audit_lines}  # type: ignore[attr-defined]
    assert reasons == {
        "user.deactivated": "Test deactivation",
        "user.role_changed": "Test promotion",
        "user.password_reset": "Test reset",
        "user.deleted": "Test deletion",
    }
    for record in audit_lines:
        assert record.target == target  # type: ignore[attr-defined]
        assert record.actor  # type: ignore[attr-defined]
        assert "reason=" in record.getMessage()


async def test_optional_fields_the_reference_accepts(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    """Every `Option<…>` of the reference's request types: absent or null are both fine."""
    root = cast["root"]
    created = await create_user_as(client, root, "nullrole", "Created-Pass-9", None)
    assert created.status_code == 200 and created.json()["data"]["role"] == "user"
    alice = await user_id(session, "alice")
    for method, path, body in (
        ("PUT", f"/api/v1/users/{alice}/role", {"role": "user", "reason": None}),
        ("PUT", f"/api/v1/users/{alice}/status", {"is_active": True, "reason": None}),
        (
            "POST",
            f"/api/v1/users/{alice}/reset-password",
            {"new_password": NEW_PASSWORD, "require_change": None, "reason": None},
        ),
        ("PUT", f"/api/v1/users/{alice}/profile", {"username": None, "email_verified": None}),
        ("DELETE", f"/api/v1/users/{alice}", {"reason": None, "hard_delete": None}),
    ):
        response = await client.request(method, path, headers=root, json=body)
        assert response.status_code == 200, (path, response.text)


async def test_delete_own_account_with_wrong_password_is_400_naming_the_field(
    client: httpx.AsyncClient, cast: dict[str, dict[str, str]]
) -> None:
    wrong = await delete_own_account(client, cast["alice"], password="wrongpassword")
    assert wrong.status_code == 400
    error = wrong.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert [detail["field"] for detail in error["details"]] == ["password"]
    assert (await client.get("/api/v1/auth/me", headers=cast["alice"])).status_code == 200


async def test_delete_own_account_with_wrong_confirmation_is_400(
    client: httpx.AsyncClient, cast: dict[str, dict[str, str]]
) -> None:
    wrong = await delete_own_account(client, cast["alice"], confirmation="WRONG")
    assert wrong.status_code == 400
    assert [d["field"] for d in wrong.json()["error"]["details"]] == ["confirmation"]


@pytest.mark.parametrize("staff", ["mod", "root"])
async def test_api_key_cannot_reset_a_password(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]], staff: str
) -> None:
    key = await api_key_of(client, cast[staff])
    response = await reset_password(client, {"X-API-Key": key}, await user_id(session, "alice"))
    assert error_code(response, 403) == "FORBIDDEN"
    await sign_in(client, "alice")  # untouched


async def test_reset_of_own_password_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    for name in ("mod", "root"):
        own = await user_id(session, name)
        response = await reset_password(client, cast[name], own)
        assert response.status_code == 400, name
        assert "use PUT /users/me/password" in response.json()["error"]["message"]
        await sign_in(client, name)  # unchanged


async def test_only_admins_act_on_moderators(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    await make_user(session, username="mod2", role=Role.MODERATOR)
    mod2 = await user_id(session, "mod2")
    reset = await reset_password(client, cast["mod"], mod2)
    status = await client.put(
        f"/api/v1/users/{mod2}/status", headers=cast["mod"], json={"is_active": False}
    )
    assert (reset.status_code, status.status_code) == (403, 403)
    assert reset.json()["error"]["code"] == status.json()["error"]["code"] == "FORBIDDEN"
    await sign_in(client, "mod2")  # untouched
    by_admin = await client.put(
        f"/api/v1/users/{mod2}/status", headers=cast["root"], json={"is_active": False}
    )
    assert by_admin.status_code == 200


async def test_api_keys_are_revoked_on_reset_and_on_password_change(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    alice = await user_id(session, "alice")
    key = await api_key_of(client, cast["alice"])
    reset = await reset_password(client, cast["root"], alice)
    assert reset.json()["message"] == "Password reset; ended 1 session(s) and revoked 1 API key(s)"
    assert (await client.get("/api/v1/auth/me", headers={"X-API-Key": key})).status_code == 401

    headers = await sign_in(client, "alice", NEW_PASSWORD)
    key = await api_key_of(client, headers)
    changed = await client.put(
        "/api/v1/users/me/password",
        headers=headers,
        json={"current_password": NEW_PASSWORD, "new_password": "Alice-Again-42"},
    )
    assert changed.json()["message"] == (
        "Password changed; ended 0 other session(s) and revoked 1 API key(s)"
    )
    assert (await client.get("/api/v1/auth/me", headers={"X-API-Key": key})).status_code == 401
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200


async def test_api_key_cannot_change_the_login_email(
    client: httpx.AsyncClient, cast: dict[str, dict[str, str]]
) -> None:
    by_key = {"X-API-Key": await api_key_of(client, cast["alice"])}
    changed = await client.put(
        "/api/v1/users/me/profile", headers=by_key, json={"email": "thief@example.com"}
    )
    assert error_code(changed, 403) == "FORBIDDEN"
    own_email = (await client.get("/api/v1/auth/me", headers=by_key)).json()["data"]["email"]
    same = await client.put(
        "/api/v1/users/me/profile", headers=by_key, json={"email": own_email.upper()}
    )
    renamed = await client.put("/api/v1/users/me/profile", headers=by_key, json={"username": "al"})
    assert same.status_code == 200
    assert renamed.status_code == 400  # too short: the key may try, the rule refuses
    by_session = await client.put(
        "/api/v1/users/me/profile", headers=cast["alice"], json={"email": "new@example.com"}
    )
    assert by_session.status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PUT", "/api/v1/users/{bob}/status", {"is_active": False, "reason": "a\u0000"}, "reason"),
        ("PUT", "/api/v1/users/{bob}/role", {"role": "user", "reason": "a\u0000"}, "reason"),
        ("PUT", "/api/v1/users/me/profile", {"username": "bo\u0000b"}, "username"),
        ("PUT", "/api/v1/users/me/profile", {"email": "b\u0000@example.com"}, "email"),
        ("POST", "/api/v1/api-keys", {"name": "k\u0000"}, "name"),
        (
            "PUT",
            "/api/v1/users/me/password",
            {"current_password": DEFAULT_PASSWORD, "new_password": "Nul\u0000-Pass-1"},
            "new_password",
        ),
    ],
    ids=["status-reason", "role-reason", "username", "email", "key-name", "new-password"],
)
async def test_text_fields_refuse_nul_with_400(
    client: httpx.AsyncClient,
    session: AsyncSession,
    cast: dict[str, dict[str, str]],
    method: str,
    path: str,
    body: dict[str, object],
    field: str,
) -> None:
    url = path.format(bob=await user_id(session, "bob"))
    response = await client.request(method, url, headers=cast["root"], json=body)
    assert response.status_code == 400, response.text
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]


@pytest.mark.parametrize(("body", "status"), [({"is_active": 0}, 422), ({"is_active": "no"}, 422)])
async def test_flags_are_strict_booleans(
    client: httpx.AsyncClient,
    session: AsyncSession,
    cast: dict[str, dict[str, str]],
    body: dict[str, object],
    status: int,
) -> None:
    bob = await user_id(session, "bob")
    response = await client.put(f"/api/v1/users/{bob}/status", headers=cast["root"], json=body)
    assert response.status_code == status


async def test_search_escapes_like_wildcards(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    await make_user(session, username="under_score")
    await make_user(session, username="under-dash")

    async def found(search: str) -> list[str]:
        response = await client.get(
            "/api/v1/users", params={"search": search}, headers=cast["root"]
        )
        assert response.status_code == 200, response.text
        return [user["username"] for user in response.json()["data"]]

    assert await found("_") == ["under_score"]
    assert await found("r_s") == ["under_score"]
    assert await found("%") == []
    assert await found("\\") == []
    nul = await client.get("/api/v1/users", params={"search": "a\x00"}, headers=cast["root"])
    assert nul.status_code == 400


async def test_get_users_me_is_405_with_allow(
    client: httpx.AsyncClient, cast: dict[str, dict[str, str]]
) -> None:
    response = await client.get("/api/v1/users/me", headers=cast["alice"])
    assert error_code(response, 405) == "METHOD_NOT_ALLOWED"
    assert "DELETE" in response.headers["allow"]
    not_an_id = await client.get("/api/v1/users/not-a-uuid", headers=cast["alice"])
    assert not_an_id.status_code == 404


def test_username_rules_stay_in_the_schema() -> None:
    """`Text` wrapped around the constraints would hide the pattern from the OpenAPI
    document (pydantic enforces a constraint after a validator but cannot describe it)."""
    from studypath.users.schemas import AdminUpdateProfile, CreateUser

    created = CreateUser.model_json_schema()["properties"]["username"]
    updated = AdminUpdateProfile.model_json_schema()["properties"]["username"]["anyOf"][0]
    for schema in (created, updated):
        assert schema["pattern"] == "^[A-Za-z0-9_-]+$"
        assert (schema["minLength"], schema["maxLength"]) == (3, 50)
