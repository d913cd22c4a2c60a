"""Users: self-service, moderation and administration, with the rules that protect them."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.config import Settings
from studypath.rbac.roles import Role
from studypath.users.models import User
from tests.factories import DEFAULT_PASSWORD, create_user
from tests.helpers import client_for, running_system


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
    await create_user(session, username="alice")
    await create_user(session, username="bob")
    await create_user(session, username="mod", role=Role.MODERATOR)
    await create_user(session, username="root", role=Role.ADMIN)
    return {name: await sign_in(client, name) for name in ("alice", "bob", "mod", "root")}


async def user_id(session: AsyncSession, username: str) -> str:
    return str(await session.scalar(select(User.id).where(User.username == username)))


# --- self-service ------------------------------------------------------------------------------
async def test_profile_update_and_new_email_needs_verification(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    await session.execute(User.__table__.update().values(email_verified=True))
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
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "USERNAME_ALREADY_EXISTS"
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
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    await sign_in(client, "alice")  # nothing changed: the old password still works


async def test_delete_own_account(
    client: httpx.AsyncClient, session: AsyncSession, cast: dict[str, dict[str, str]]
) -> None:
    wrong = await client.request(
        "DELETE",
        "/api/v1/users/me",
        headers=cast["alice"],
        json={"password": "nope", "confirmation": "DELETE"},
    )
    assert wrong.status_code == 401
    unconfirmed = await client.request(
        "DELETE",
        "/api/v1/users/me",
        headers=cast["alice"],
        json={"password": DEFAULT_PASSWORD, "confirmation": "yes"},
    )
    assert unconfirmed.status_code == 422

    done = await client.request(
        "DELETE",
        "/api/v1/users/me",
        headers=cast["alice"],
        json={"password": DEFAULT_PASSWORD, "confirmation": "DELETE"},
    )
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
    assert too_many.status_code == 422


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
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "USER_NOT_FOUND"
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
    response = await client.post(
        "/api/v1/users",
        headers=cast["root"],
        json={
            "username": "carol",
            "email": "carol@example.com",
            "password": "Carol-Pass-33",
            "role": "moderator",
        },
    )
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
    delete_self = await client.request(
        "DELETE",
        "/api/v1/users/me",
        headers=cast["root"],
        json={"password": DEFAULT_PASSWORD, "confirmation": "DELETE"},
    )
    assert delete_self.status_code == 409

    # With a second admin, the first may step down — and then the second is the last one.
    await client.post(
        "/api/v1/users",
        headers=cast["root"],
        json={
            "username": "root2",
            "email": "root2@example.com",
            "password": "Second-Admin-8",
            "role": "admin",
        },
    )
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
    await create_user(session, username="dormant", is_active=False, email_verified=True)
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
