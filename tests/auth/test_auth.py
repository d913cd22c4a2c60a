"""Sessions, login, throttling and API keys — the auth system's promises, one test each."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any, Literal

import httpx
import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.auth.models import ApiKey, Session
from studypath.config import Settings
from studypath.core import security
from studypath.core.clock import poll_until_async, utcnow
from studypath.identity.models import User
from studypath.testing.factories import DEFAULT_PASSWORD, make_user
from studypath.testing.server import client_for, running_system

GOOD_PASSWORD = "Sturdy-Pass-42"


async def register(
    client: httpx.AsyncClient, username: str = "alice", **extra: str
) -> httpx.Response:
    body = {"username": username, "email": f"{username}@example.com", "password": GOOD_PASSWORD}
    body.update(extra)
    return await client.post("/api/v1/auth/register", json=body)


async def login(
    client: httpx.AsyncClient, username: str = "alice", password: str = GOOD_PASSWORD
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )


async def token_for(client: httpx.AsyncClient, username: str = "alice") -> str:
    response = await login(client, username)
    assert response.status_code == 200, response.text
    token: str = response.json()["data"]["session_token"]
    return token


@pytest.fixture
async def token(client: httpx.AsyncClient) -> str:
    """alice, registered and signed in: her session token."""
    await register(client)
    return await token_for(client)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def new_api_key(client: httpx.AsyncClient, token: str, name: str = "k") -> str:
    """A key created by the session `token`; the secret, shown this once."""
    response = await client.post("/api/v1/api-keys", headers=bearer(token), json={"name": name})
    assert response.status_code == 200, response.text
    key: str = response.json()["data"]["key"]
    return key


# --- register / login / me / logout --------------------------------------------------------
async def test_register_login_me_logout(client: httpx.AsyncClient) -> None:
    registered = await register(client)
    assert registered.status_code == 200
    profile = registered.json()["data"]
    assert profile["username"] == "alice"
    assert profile["role"] == "user"
    assert profile["email_verified"] is False

    logged_in = (await login(client)).json()["data"]
    token = logged_in["session_token"]
    assert len(token) == 64
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert logged_in["user"]["last_login_at"] is not None

    me = (await client.get("/api/v1/auth/me", headers=bearer(token))).json()["data"]
    assert me == {
        "id": profile["id"],
        "username": "alice",
        "email": "alice@example.com",
        "role": "user",
        "password_change_required": False,
    }

    logout = await client.post("/api/v1/auth/logout", headers=bearer(token))
    assert logout.json()["message"] == "Logged out"
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 401


async def test_login_by_email_is_case_insensitive(client: httpx.AsyncClient) -> None:
    await register(client)
    response = await client.post(
        "/api/v1/auth/login", json={"email": "ALICE@Example.com", "password": GOOD_PASSWORD}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"password": GOOD_PASSWORD},
        {"username": "alice", "email": "alice@example.com", "password": GOOD_PASSWORD},
    ],
    ids=["neither", "both"],
)
async def test_login_needs_exactly_one_identifier(
    client: httpx.AsyncClient, body: dict[str, str]
) -> None:
    response = await client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 400  # a value rule (status rule in core.errors)
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"


async def test_unknown_user_and_wrong_password_answer_the_same(client: httpx.AsyncClient) -> None:
    await register(client)
    wrong = await login(client, "alice", "Wrong-Pass-42")
    unknown = await login(client, "nobody", "Wrong-Pass-42")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "INVALID_CREDENTIALS"


class RecordingHasher(PasswordHasher):
    """An argon2 hasher noting the hash each verification checks against."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.verified: list[str] = []

    @classmethod
    def like(cls, hasher: PasswordHasher) -> RecordingHasher:
        """One with `hasher`'s parameters (as a hash it makes states them)."""
        copy = cls.from_parameters(extract_parameters(hasher.hash("probe")))
        assert isinstance(copy, cls)
        return copy

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)


async def test_unknown_user_costs_one_verification_like_a_wrong_password(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both paths run one argon2 verification with the same parameters (an unknown user's
    against a dummy hash): an attacker cannot time out which accounts exist.
    (bench/auth.py prints the two costs.)"""
    await register(client)
    hasher = RecordingHasher.like(security._hasher)
    monkeypatch.setattr(security, "_hasher", hasher)

    await login(client, "alice", "Wrong-Pass-42")
    await login(client, "nobody", "Wrong-Pass-42")

    wrong_password, unknown_user = hasher.verified
    assert unknown_user != wrong_password
    assert extract_parameters(unknown_user) == extract_parameters(wrong_password)


async def test_inactive_user_cannot_log_in(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, username="sleeper", is_active=False)
    response = await login(client, "sleeper", DEFAULT_PASSWORD)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_CREDENTIALS"


# --- duplicates and the password policy -----------------------------------------------------
async def test_duplicate_username_and_email_are_case_insensitive(client: httpx.AsyncClient) -> None:
    await register(client, "alice")
    same_name = await register(client, "ALICE", email="other@example.com")
    same_mail = await register(client, "alice2", email="Alice@EXAMPLE.com")
    assert same_name.status_code == 409
    assert same_name.json()["error"]["code"] == "USERNAME_ALREADY_EXISTS"
    assert same_mail.status_code == 409
    assert same_mail.json()["error"]["code"] == "EMAIL_ALREADY_EXISTS"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Ab1!", "at least 8"),
        ("Ab1!" * 33, "at most 128"),
        ("alllowercase", "3 of"),
        ("lowercase123", "3 of"),
        ("Password1!", "too common"),
        ("pASSWORD1!", "too common"),
        ("Welcome2026!", "too common"),
    ],
)
async def test_password_policy_rejects(
    client: httpx.AsyncClient, password: str, problem: str
) -> None:
    response = await register(client, password=password)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert problem in error["message"]


@pytest.mark.parametrize("password", ["Sturdy-Pass-42", "lower UPPER 123", "ÅngströmÜber9x"])
async def test_password_policy_accepts(client: httpx.AsyncClient, password: str) -> None:
    assert (await register(client, password=password)).status_code == 200


@pytest.mark.parametrize("username", ["ab", "x" * 51, "has space", "émile", "semi;colon"])
async def test_username_rules(client: httpx.AsyncClient, username: str) -> None:
    response = await register(client, username, email="ok@example.com")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "username"


# --- malformed credentials --------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Basic YWxpY2U6c2VjcmV0"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer two tokens"},
        {"Authorization": "Token abc"},
        {"Authorization": "Bearer " + "x" * 64},
        {"Authorization": "Bearer " + "x" * 5000},
        {"Authorization": "Bearer sk_notarealkeynotarealkey"},
        {"X-API-Key": "not-a-key"},
        {"X-API-Key": "sk_notarealkeynotarealkey"},
    ],
    ids=[
        "basic",
        "empty-bearer",
        "two-tokens",
        "other-scheme",
        "unknown-token",
        "huge-token",
        "unknown-key",
        "malformed-x-api-key",
        "unknown-x-api-key",
    ],
)
async def test_bad_credentials_are_401_envelopes(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert response.headers["www-authenticate"] == "Bearer"


# --- the token lifecycle ------------------------------------------------------------------------
async def test_expired_session_is_rejected(
    client: httpx.AsyncClient, session: AsyncSession, token: str
) -> None:
    await session.execute(update(Session).values(expires_at=utcnow() - timedelta(seconds=1)))
    await session.commit()
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 401


async def test_idle_session_is_rejected(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, token: str
) -> None:
    idle = timedelta(seconds=settings.session_idle_timeout_seconds + 1)
    await session.execute(update(Session).values(last_activity_at=utcnow() - idle))
    await session.commit()
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 401


async def test_activity_is_written_at_most_once_per_resolution(
    client: httpx.AsyncClient, session: AsyncSession, token: str
) -> None:
    ten_minutes_ago = utcnow() - timedelta(minutes=10)
    await session.execute(update(Session).values(last_activity_at=ten_minutes_ago))
    await session.commit()

    await client.get("/api/v1/auth/me", headers=bearer(token))
    first = await session.scalar(select(Session.last_activity_at))
    await client.get("/api/v1/auth/me", headers=bearer(token))
    session.expire_all()
    second = await session.scalar(select(Session.last_activity_at))

    assert first is not None and first > ten_minutes_ago  # stale: written
    assert second == first  # fresh (within the 60 s resolution): not written again


async def test_logout_all_ends_every_session(client: httpx.AsyncClient) -> None:
    await register(client)
    tokens = [await token_for(client) for _ in range(3)]
    response = await client.post("/api/v1/auth/logout-all", headers=bearer(tokens[0]))
    assert response.json()["message"] == "Ended 3 session(s) and revoked 0 API key(s)"
    for token in tokens:
        assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 401


async def test_password_change_ends_other_sessions_only(client: httpx.AsyncClient) -> None:
    await register(client)
    current, other = await token_for(client), await token_for(client)
    response = await client.put(
        "/api/v1/users/me/password",
        headers=bearer(current),
        json={"current_password": GOOD_PASSWORD, "new_password": "Brand-New-Pass-7"},
    )
    assert response.status_code == 200
    assert "ended 1 other session" in response.json()["message"]
    assert (await client.get("/api/v1/auth/me", headers=bearer(current))).status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=bearer(other))).status_code == 401
    assert (await login(client)).status_code == 401
    assert (await login(client, password="Brand-New-Pass-7")).status_code == 200


async def test_deactivation_and_reset_end_sessions(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    from studypath.identity.roles import Role

    await make_user(session, username="mod", role=Role.MODERATOR)
    mod_token = (await login(client, "mod", DEFAULT_PASSWORD)).json()["data"]["session_token"]
    await register(client, "bob")
    bob = (await login(client, "bob")).json()["data"]
    bob_id, bob_token = bob["user"]["id"], bob["session_token"]

    reset = await client.post(
        f"/api/v1/users/{bob_id}/reset-password",
        headers=bearer(mod_token),
        json={"new_password": "Reset-By-Mod-5"},
    )
    assert reset.status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=bearer(bob_token))).status_code == 401

    bob_token = (await login(client, "bob", "Reset-By-Mod-5")).json()["data"]["session_token"]
    off = await client.put(
        f"/api/v1/users/{bob_id}/status",
        headers=bearer(mod_token),
        json={"is_active": False, "reason": "spam"},
    )
    assert off.json()["data"]["is_active"] is False
    assert (await client.get("/api/v1/auth/me", headers=bearer(bob_token))).status_code == 401
    assert (await login(client, "bob", "Reset-By-Mod-5")).status_code == 401


async def test_refresh_right_after_login_then_cooldown_from_the_last_refresh(
    client: httpx.AsyncClient, session: AsyncSession, token: str
) -> None:
    """As the guide's system: a never-refreshed session refreshes at once (the reference
    script does this right after login); then 409 within 5 minutes of the LAST refresh."""
    await session.execute(update(Session).values(expires_at=utcnow() + timedelta(hours=1)))
    await session.commit()

    first = await client.post("/api/v1/auth/refresh", headers=bearer(token))
    assert first.status_code == 200, first.text
    data = first.json()["data"]
    assert data["expires_at"] > (utcnow() + timedelta(hours=23)).isoformat()

    too_soon = await client.post("/api/v1/auth/refresh", headers=bearer(token))
    assert too_soon.status_code == 409
    assert too_soon.json()["error"]["code"] == "CONFLICT"

    six_minutes_ago = utcnow() - timedelta(minutes=6)
    await session.execute(update(Session).values(refreshed_at=six_minutes_ago))
    await session.commit()
    assert (await client.post("/api/v1/auth/refresh", headers=bearer(token))).status_code == 200
    assert (await client.post("/api/v1/auth/refresh", headers=bearer(token))).status_code == 409


async def test_expired_sessions_are_purged_by_the_server(
    settings: Settings, session: AsyncSession
) -> None:
    fast_purge = settings.model_copy(update={"session_purge_interval_seconds": 0.2})
    async with running_system(fast_purge) as system, client_for(system) as client:
        await register(client)
        await token_for(client)
        keep = await token_for(client)
        await session.execute(
            update(Session)
            .where(Session.token_hash != hashlib.sha256(keep.encode()).hexdigest())
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()

        async def only_the_kept_session() -> bool:
            return bool(await session.scalar(text("SELECT count(*) FROM sessions")) == 1)

        await poll_until_async(
            only_the_kept_session, within=5, what="the purge of the expired sessions"
        )


# --- the database never holds a usable secret -----------------------------------------------------
async def test_database_holds_only_hashes_of_tokens_and_keys(
    client: httpx.AsyncClient, session: AsyncSession, token: str
) -> None:
    key = await new_api_key(client, token, "ci")

    session_rows = (await session.execute(text("SELECT * FROM sessions"))).mappings().all()
    key_rows = (await session.execute(text("SELECT * FROM api_keys"))).mappings().all()
    dumped = repr(session_rows) + repr(key_rows)
    assert token not in dumped
    assert key not in dumped
    assert token[:20] not in dumped and key[10:30] not in dumped
    assert session_rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert key_rows[0]["key_hash"] == hashlib.sha256(key.encode()).hexdigest()


async def test_rehash_on_login_when_parameters_change(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    old_hasher = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    await make_user(session, username="oldhash")
    await session.execute(update(User).values(password_hash=old_hasher.hash(DEFAULT_PASSWORD)))
    await session.commit()

    assert (await login(client, "oldhash", DEFAULT_PASSWORD)).status_code == 200

    session.expire_all()
    stored = await session.scalar(select(User.password_hash))
    assert stored is not None and "m=1024,t=1,p=1" in stored
    assert (await login(client, "oldhash", DEFAULT_PASSWORD)).status_code == 200


# --- throttling ---------------------------------------------------------------------------------
async def fail_logins(client: httpx.AsyncClient, username: str, times: int) -> list[int]:
    return [(await login(client, username, "Wrong-Pass-00")).status_code for _ in range(times)]


async def test_account_lockout_after_repeated_failures(client: httpx.AsyncClient) -> None:
    await register(client)
    assert await fail_logins(client, "alice", 5) == [401] * 5

    locked = await login(client)  # even the right password waits out the lock
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(locked.headers["retry-after"]) <= 30


async def test_a_few_mistakes_then_the_right_password_gets_in(client: httpx.AsyncClient) -> None:
    await register(client)
    assert await fail_logins(client, "alice", 4) == [401] * 4
    assert (await login(client)).status_code == 200
    # Success cleared the account's count: four more mistakes still do not lock it.
    assert await fail_logins(client, "alice", 4) == [401] * 4
    assert (await login(client)).status_code == 200


async def test_lockout_releases_and_grows(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await register(client)
    await fail_logins(client, "alice", 5)
    first = int((await login(client)).headers["retry-after"])

    await session.execute(text("UPDATE login_throttle SET locked_until = now() - interval '1 s'"))
    await session.commit()
    await fail_logins(client, "alice", 5)  # locked again: the second lockout is longer
    second = int((await login(client)).headers["retry-after"])
    assert second > first

    await session.execute(text("UPDATE login_throttle SET locked_until = now() - interval '1 s'"))
    await session.commit()
    assert (await login(client)).status_code == 200  # released


async def test_client_address_is_throttled_across_accounts(settings: Settings) -> None:
    strict = settings.model_copy(update={"login_max_failures_per_client": 6})
    async with running_system(strict) as system, client_for(system) as client:
        await register(client, "victim")
        for name in ("a1", "a2", "a3"):  # different accounts, same client address
            assert await fail_logins(client, name, 2) == [401, 401]
        blocked = await login(client, "victim")
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 1


async def test_throttle_state_is_shared_by_server_processes(settings: Settings) -> None:
    """Two servers on one database (as two processes would be) share the lockout."""
    async with running_system(settings) as first, running_system(settings) as second:
        async with client_for(first) as one, client_for(second) as two:
            await register(one)
            await fail_logins(one, "alice", 3)
            await fail_logins(two, "alice", 2)
            assert (await login(one)).status_code == 429
            assert (await login(two)).status_code == 429


# --- API keys ----------------------------------------------------------------------------------
async def test_api_key_lifecycle(
    client: httpx.AsyncClient, session: AsyncSession, token: str
) -> None:
    created = await client.post(
        "/api/v1/api-keys", headers=bearer(token), json={"name": "deploy", "expires_in_days": 30}
    )
    assert created.status_code == 200
    data = created.json()["data"]
    key = data["key"]
    assert key.startswith("sk_")
    assert data["key_prefix"] == key[:10]

    listed = (await client.get("/api/v1/api-keys", headers=bearer(token))).json()["data"]
    assert [item["id"] for item in listed] == [data["id"]]
    assert "key" not in listed[0]
    assert listed[0]["last_used_at"] is None

    for headers in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
        me = await client.get("/api/v1/auth/me", headers=headers)
        assert me.status_code == 200
        assert me.json()["data"]["username"] == "alice"
    used = (await client.get("/api/v1/api-keys", headers=bearer(token))).json()["data"][0]
    assert used["last_used_at"] is not None

    revoked = await client.delete(f"/api/v1/api-keys/{data['id']}", headers=bearer(token))
    assert revoked.status_code == 200
    assert (await client.get("/api/v1/auth/me", headers={"X-API-Key": key})).status_code == 401
    again = await client.delete(f"/api/v1/api-keys/{data['id']}", headers=bearer(token))
    assert again.status_code == 404


async def test_expired_api_key_is_rejected(
    client: httpx.AsyncClient, session: AsyncSession, token: str
) -> None:
    key = await new_api_key(client, token, "short")
    await session.execute(update(ApiKey).values(expires_at=utcnow() - timedelta(seconds=1)))
    await session.commit()
    assert (await client.get("/api/v1/auth/me", headers={"X-API-Key": key})).status_code == 401
    assert (await client.get("/api/v1/api-keys", headers=bearer(token))).json()["data"] == []


async def test_api_key_acts_with_the_owners_current_role(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    from studypath.identity.roles import Role

    user = await make_user(session, username="mod", role=Role.MODERATOR)
    token = (await login(client, "mod", DEFAULT_PASSWORD)).json()["data"]["session_token"]
    key = await new_api_key(client, token)
    assert (await client.get("/api/v1/users", headers={"X-API-Key": key})).status_code == 200

    await session.execute(update(User).where(User.id == user.id).values(role=Role.USER))
    await session.commit()
    assert (await client.get("/api/v1/users", headers={"X-API-Key": key})).status_code == 403


async def test_api_key_cannot_manage_keys_sessions_or_the_account(
    client: httpx.AsyncClient, token: str
) -> None:
    key = await new_api_key(client, token)
    headers = {"X-API-Key": key}
    assert (
        await client.post("/api/v1/api-keys", headers=headers, json={"name": "x"})
    ).status_code == 403
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 403
    assert (await client.post("/api/v1/auth/refresh", headers=headers)).status_code == 403
    password = {"current_password": GOOD_PASSWORD, "new_password": "Key-Took-Over-1"}
    assert (
        await client.put("/api/v1/users/me/password", headers=headers, json=password)
    ).status_code == 403
    deletion = {"password": GOOD_PASSWORD, "confirmation": "DELETE"}
    assert (
        await client.request("DELETE", "/api/v1/users/me", headers=headers, json=deletion)
    ).status_code == 403


# --- hardening (issues #10, #11) -------------------------------------------------------------
def from_address(address: str) -> dict[str, str]:
    """Requests "from" another client address: the server trusts X-Forwarded-For from
    127.0.0.1 (uvicorn's default), which is where the test client connects from."""
    return {"X-Forwarded-For": address}


async def test_logout_all_revokes_api_keys(client: httpx.AsyncClient, token: str) -> None:
    key = await new_api_key(client, token)
    response = await client.post("/api/v1/auth/logout-all", headers=bearer(token))
    assert response.json()["message"] == "Ended 1 session(s) and revoked 1 API key(s)"
    assert (await client.get("/api/v1/auth/me", headers={"X-API-Key": key})).status_code == 401


async def test_registration_is_throttled_per_client_and_globally(settings: Settings) -> None:
    strict = settings.model_copy(
        update={"registration_max_per_client": 3, "registration_max_total": 5}
    )
    async with running_system(strict) as system, client_for(system) as client:

        async def register_from(address: str, name: str) -> httpx.Response:
            body = {"username": name, "email": f"{name}@example.com", "password": GOOD_PASSWORD}
            return await client.post(
                "/api/v1/auth/register", json=body, headers=from_address(address)
            )

        first = [(await register_from("203.0.113.1", f"ann{n}")).status_code for n in range(3)]
        assert first == [200, 200, 200]
        refused = await register_from("203.0.113.1", "ann3")
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "RATE_LIMITED"
        assert int(refused.headers["retry-after"]) >= 1

        # Another address may still register — until the server-wide limit (5) is reached.
        other = [(await register_from("203.0.113.2", f"bob{n}")).status_code for n in range(2)]
        assert other == [200, 200]
        third = await register_from("203.0.113.3", "cat0")
        assert third.status_code == 429
        assert "retry-after" in third.headers


async def test_registration_defaults_leave_room_for_the_reference_script(
    client: httpx.AsyncClient,
) -> None:
    """The guide's script registers about five users per run from one address."""
    statuses = [(await register(client, f"scripted{n}")).status_code for n in range(10)]
    assert statuses == [200] * 10


async def test_taken_username_costs_the_same_argon2_work_as_a_new_one(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studypath.core import security

    hashed: list[str] = []
    real_hash = security.hash_password

    def counting_hash(password: str) -> str:
        hashed.append(password)
        return real_hash(password)

    monkeypatch.setattr(security, "hash_password", counting_hash)
    assert (await register(client, "alice")).status_code == 200
    assert len(hashed) == 1
    taken_name = await register(client, "alice", email="new@example.com")
    taken_mail = await register(client, "alice2", email="alice@example.com")
    assert (taken_name.status_code, taken_mail.status_code) == (409, 409)
    assert len(hashed) == 3  # one hash per attempt, taken or not


async def test_username_and_email_share_one_account_bucket(client: httpx.AsyncClient) -> None:
    await register(client)
    assert await fail_logins(client, "alice", 3) == [401] * 3
    by_email = [
        (
            await client.post(
                "/api/v1/auth/login",
                json={"email": "alice@example.com", "password": "Wrong-Pass-00"},
            )
        ).status_code
        for _ in range(2)
    ]
    assert by_email == [401, 401]
    assert (await login(client)).status_code == 429  # 3 + 2 failures: one bucket, locked


async def test_unknown_identifier_keeps_its_own_bucket(client: httpx.AsyncClient) -> None:
    await register(client)
    assert await fail_logins(client, "ghost", 5) == [401] * 5
    assert (await login(client, "ghost", "Wrong-Pass-00")).status_code == 429
    assert (await login(client)).status_code == 200  # alice's bucket is untouched


async def test_account_failures_from_many_addresses_delay_but_never_lock_the_owner(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The account bucket is a progressive delay, not a lock: guessing from many addresses
    makes every attempt on the account wait longer, but the owner still gets in."""
    from studypath.auth import service

    waited: list[float] = []

    async def record_pause(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(service, "pause", record_pause)
    tuned = settings.model_copy(
        update={
            "login_account_delay_after_failures": 3,
            "login_account_delay_seconds": 1.0,
            "login_account_delay_max_seconds": 4.0,
        }
    )
    async with running_system(tuned) as system, client_for(system) as client:
        await register(client)
        for n in range(6):  # 2 failures from each of 3 addresses: no address reaches a limit
            response = await client.post(
                "/api/v1/auth/login",
                json={"username": "alice", "password": "Wrong-Pass-00"},
                headers=from_address(f"198.51.100.{n // 2}"),
            )
            assert response.status_code == 401
        owner = await client.post(
            "/api/v1/auth/login",
            json={"username": "alice", "password": GOOD_PASSWORD},
            headers=from_address("192.0.2.10"),
        )
    assert owner.status_code == 200
    # Failures 1-3 free; then 1 s, 2 s, 4 s (the cap) — and the owner waited 4 s too.
    assert waited == [1.0, 2.0, 4.0, 4.0]


async def test_account_lock_holds_only_at_the_guessing_address(settings: Settings) -> None:
    async with running_system(settings) as system, client_for(system) as client:
        await register(client)
        guesser = from_address("198.51.100.7")
        for _ in range(5):
            await client.post(
                "/api/v1/auth/login",
                json={"username": "alice", "password": "Wrong-Pass-00"},
                headers=guesser,
            )
        body = {"username": "alice", "password": GOOD_PASSWORD}
        at_guesser = await client.post("/api/v1/auth/login", json=body, headers=guesser)
        elsewhere = await client.post(
            "/api/v1/auth/login", json=body, headers=from_address("192.0.2.10")
        )
    assert at_guesser.status_code == 429
    assert elsewhere.status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        '{"username": "al\\u0000ice", "password": "Sturdy-Pass-42"}',
        '{"email": "alice\\u0000@example.com", "password": "Sturdy-Pass-42"}',
        '{"username": "alice", "password": "Sturdy\\u0000-Pass-42"}',
        '{"username": "al\\ud800ice", "password": "Sturdy-Pass-42"}',
        '{"email": "alice\\udfff@example.com", "password": "Sturdy-Pass-42"}',
        '{"username": "alice", "password": "Sturdy-\\ud83d-Pass"}',
    ],
    ids=[
        "nul-username",
        "nul-email",
        "nul-password",
        "surrogate-username",
        "surrogate-email",
        "surrogate-password",
    ],
)
async def test_login_with_nul_or_lone_surrogate_is_400_and_not_counted(
    client: httpx.AsyncClient, raw: str
) -> None:
    """A malformed login checks no password, so it does not count toward any throttle:
    25 of them (more than the per-client limit of 20) leave the right password working."""
    await register(client)
    headers = {"Content-Type": "application/json"}
    for _ in range(25):
        response = await client.post("/api/v1/auth/login", content=raw, headers=headers)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "VALIDATION_FAILED"
    assert (await login(client)).status_code == 200


async def test_api_key_routes_use_the_uuid_converter(client: httpx.AsyncClient, token: str) -> None:
    response = await client.delete("/api/v1/api-keys/not-a-uuid", headers=bearer(token))
    assert response.status_code in (404, 405)
    assert response.json()["error"]["code"] in ("NOT_FOUND", "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize("days", [True, "30"])
async def test_api_key_lifetime_is_a_json_integer(
    client: httpx.AsyncClient, days: Any, token: str
) -> None:
    """Lax pydantic read `true` as 1 day and `"30"` as 30; the schema says integer."""
    response = await client.post(
        "/api/v1/api-keys", headers=bearer(token), json={"name": "ci", "expires_in_days": days}
    )
    assert response.status_code == 422, response.text
    assert (await client.get("/api/v1/api-keys", headers=bearer(token))).json()["data"] == []


async def test_a_session_read_survives_connections_the_server_closed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """No ping before each checkout: a pooled connection PostgreSQL closed (a restart, an
    idle timeout) fails once, is replaced, and the lookup runs again on a fresh one."""
    assert (await register(client)).status_code == 200
    token = await token_for(client)
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200
    await session.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'studypath' AND pid <> pg_backend_pid()"
        )
    )
    await session.commit()

    answers = [
        (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code for _ in range(3)
    ]

    assert answers == [200, 200, 200]


async def test_requests_survive_connections_the_server_closed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The pool refuses a connection the server closed at checkout (no ping round trip), so
    every endpoint, not only the session lookup, gets a live one."""
    assert (await register(client)).status_code == 200
    token = await token_for(client)
    assert (await client.get("/api/v1/users/me/profile", headers=bearer(token))).status_code == 200
    terminated = (
        (
            await session.execute(
                text(
                    "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'studypath' AND pid <> pg_backend_pid()"
                )
            )
        )
        .scalars()
        .all()
    )
    await session.commit()
    assert terminated

    async def backends_gone() -> bool:  # an exited backend has said goodbye on its socket
        left = await session.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
            {"pids": list(terminated)},
        )
        count: int = left.scalar_one()
        return count == 0

    await poll_until_async(backends_gone, within=10, what="the terminated backends to exit")

    answers = [(await login(client)).status_code]  # the ORM's first checkout
    answers += [
        (await client.get("/api/v1/users/me/profile", headers=bearer(token))).status_code
        for _ in range(2)
    ]

    assert answers == [200, 200, 200]
