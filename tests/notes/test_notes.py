"""The notes feature (the guide's week 5), tested the guide's way: arrange, act, assert."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.config import Settings
from studypath.core.clock import poll_until_async
from studypath.core.db import Database
from studypath.notes.models import NoteShare
from studypath.notifications.models import Notification
from studypath.tasks.handlers.notification import NotificationPayload, notify_share
from studypath.tasks.models import TaskType
from studypath.tasks.registry import TaskContext
from studypath.testing.factories import DEFAULT_PASSWORD, make_user
from studypath.testing.server import client_for, running_system


@dataclass
class Person:
    id: str
    username: str
    headers: dict[str, str]


async def person(client: httpx.AsyncClient, session: AsyncSession, username: str) -> Person:
    user = await make_user(session, username=username)
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": DEFAULT_PASSWORD}
    )
    token = response.json()["data"]["session_token"]
    return Person(str(user.id), username, {"Authorization": f"Bearer {token}"})


@pytest.fixture
async def user1(client: httpx.AsyncClient, session: AsyncSession) -> Person:
    return await person(client, session, "user1")


@pytest.fixture
async def user2(client: httpx.AsyncClient, session: AsyncSession) -> Person:
    return await person(client, session, "user2")


async def new_note(
    client: httpx.AsyncClient,
    owner: Person,
    title: str = "Groceries",
    content: str = "milk, eggs",
    **extra: object,
) -> dict[str, object]:
    response = await client.post(
        "/api/v1/notes", headers=owner.headers, json={"title": title, "content": content, **extra}
    )
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()["data"]
    return data


# --- the guide's three tests ----------------------------------------------------------------
async def test_create_note_returns_201(client: httpx.AsyncClient, user1: Person) -> None:
    # Arrange
    body = {"title": "My first note", "content": "Hello, notes!"}
    # Act
    response = await client.post("/api/v1/notes", json=body, headers=user1.headers)
    # Assert
    assert response.status_code == 201
    note = response.json()["data"]
    assert note["title"] == "My first note"
    assert note["owner_id"] == user1.id
    assert note["access"] == "owner"
    assert note["is_public"] is False


async def test_create_note_unauthorized_returns_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/notes", json={"title": "t", "content": "c"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


async def test_user2_cannot_see_user1_note(
    client: httpx.AsyncClient, user1: Person, user2: Person
) -> None:
    note = await new_note(client, user1)
    response = await client.get(f"/api/v1/notes/{note['id']}", headers=user2.headers)
    assert response.status_code == 404
    listed = await client.get("/api/v1/notes", headers=user2.headers)
    assert listed.json()["data"] == []


# --- validation --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"title": "", "content": "c"}, 400),
        ({"title": "   ", "content": "c"}, 400),
        ({"title": "x" * 201}, 400),
        ({"title": "t", "content": "x" * (100 * 1024 + 1)}, 400),
        ({"title": "t\u0000", "content": "c"}, 400),
        ({"title": "t", "is_public": "yes"}, 422),
        ({"title": "t", "owner_id": "me"}, 422),
        ({"content": "c"}, 422),
    ],
    ids=[
        "empty-title",
        "blank-title",
        "long-title",
        "big-content",
        "nul-title",
        "string-bool",
        "unknown-field",
        "missing-title",
    ],
)
async def test_note_validation(
    client: httpx.AsyncClient,
    user1: Person,
    body: dict[str, object],
    status: int,
    session: AsyncSession,
) -> None:
    """A value rule (length, NUL) answers 400; a body not of the schema's shape, 422."""
    response = await client.post("/api/v1/notes", json=body, headers=user1.headers)
    assert response.status_code == status, response.text
    from studypath.notes.models import Note

    assert await session.scalar(select(func.count()).select_from(Note)) == 0


async def test_content_up_to_100_kb_is_fine(client: httpx.AsyncClient, user1: Person) -> None:
    await new_note(client, user1, content="x" * (100 * 1024))


# --- owning ------------------------------------------------------------------------------------
async def test_owner_updates_and_deletes(client: httpx.AsyncClient, user1: Person) -> None:
    note = await new_note(client, user1)
    updated = await client.put(
        f"/api/v1/notes/{note['id']}",
        headers=user1.headers,
        json={"content": "milk, eggs, bread", "is_public": True},
    )
    assert updated.json()["data"]["content"] == "milk, eggs, bread"
    assert updated.json()["data"]["is_public"] is True

    deleted = await client.delete(f"/api/v1/notes/{note['id']}", headers=user1.headers)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (
        await client.get(f"/api/v1/notes/{note['id']}", headers=user1.headers)
    ).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"title": None},
        {"content": None},
        {"is_public": None},
        {"title": "   "},
        {"title": "x" * 201},
        {"content": "x" * (100 * 1024 + 1)},
        {"title": "a\u0000b"},
        {"is_public": "yes"},
    ],
    ids=["null-title", "null-content", "null-public", "blank", "long", "big", "nul", "str-bool"],
)
async def test_note_update_validates_as_create_and_refuses_null(
    client: httpx.AsyncClient, user1: Person, body: dict[str, object]
) -> None:
    """A PUT checks each value sent exactly as a POST does; `null` is not "leave it"."""
    note = await new_note(client, user1)
    response = await client.put(f"/api/v1/notes/{note['id']}", headers=user1.headers, json=body)
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"
    unchanged = await client.get(f"/api/v1/notes/{note['id']}", headers=user1.headers)
    assert {k: unchanged.json()["data"][k] for k in ("title", "content", "is_public")} == {
        "title": "Groceries",
        "content": "milk, eggs",
        "is_public": False,
    }


async def test_note_routes_take_only_uuids(client: httpx.AsyncClient, user1: Person) -> None:
    for method, path in (
        ("GET", "/api/v1/notes/not-an-id"),
        ("PUT", "/api/v1/notes/not-an-id"),
        ("DELETE", "/api/v1/notes/not-an-id"),
        ("GET", "/api/v1/notes/not-an-id/shares"),
        ("POST", "/api/v1/notes/not-an-id/share"),
        ("DELETE", f"/api/v1/notes/{uuid.uuid4()}/share/not-an-id"),
        ("POST", "/api/v1/notifications/not-an-id/read"),
    ):
        response = await client.request(
            method, path, headers=user1.headers, json={} if method in ("PUT", "POST") else None
        )
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "NOT_FOUND"
    wrong_method = await client.put("/api/v1/notifications/read-all", headers=user1.headers)
    assert wrong_method.status_code == 405


# --- sharing -------------------------------------------------------------------------------------
async def share(
    client: httpx.AsyncClient, owner: Person, note_id: object, **body: object
) -> httpx.Response:
    return await client.post(f"/api/v1/notes/{note_id}/share", headers=owner.headers, json=body)


async def edit_note(
    client: httpx.AsyncClient, who: Person, note_id: object, **fields: object
) -> httpx.Response:
    return await client.put(f"/api/v1/notes/{note_id}", headers=who.headers, json=fields)


async def read_note(client: httpx.AsyncClient, who: Person, note_id: object) -> httpx.Response:
    return await client.get(f"/api/v1/notes/{note_id}", headers=who.headers)


async def delete_note(client: httpx.AsyncClient, who: Person, note_id: object) -> httpx.Response:
    return await client.delete(f"/api/v1/notes/{note_id}", headers=who.headers)


async def revoke(
    client: httpx.AsyncClient, owner: Person, note_id: object, user: Person
) -> httpx.Response:
    return await client.delete(f"/api/v1/notes/{note_id}/share/{user.id}", headers=owner.headers)


async def test_read_share_reads_but_cannot_write(
    client: httpx.AsyncClient, user1: Person, user2: Person
) -> None:
    note = await new_note(client, user1)
    shared = await share(client, user1, note["id"], username="user2", permission="read")
    assert shared.status_code == 201
    assert shared.json()["data"]["notification_task_id"] is not None

    seen = await client.get(f"/api/v1/notes/{note['id']}", headers=user2.headers)
    assert seen.json()["data"]["access"] == "read"
    assert (await edit_note(client, user2, note["id"], title="x")).status_code == 403
    assert (await delete_note(client, user2, note["id"])).status_code == 403


async def test_edit_share_edits_but_does_not_own(
    client: httpx.AsyncClient, user1: Person, user2: Person, session: AsyncSession
) -> None:
    note = await new_note(client, user1)
    await share(client, user1, note["id"], user_id=user2.id, permission="edit")

    edited = await edit_note(client, user2, note["id"], content="edited by user2")
    assert edited.status_code == 200
    assert edited.json()["data"]["access"] == "edit"
    assert (await edit_note(client, user2, note["id"], is_public=True)).status_code == 403
    carol = await person(client, session, "carol")
    reshare = await share(client, user2, note["id"], username=carol.username)
    assert reshare.status_code == 403
    assert (await delete_note(client, user2, note["id"])).status_code == 403


async def test_sharing_again_changes_the_permission(
    client: httpx.AsyncClient, user1: Person, user2: Person, session: AsyncSession
) -> None:
    note = await new_note(client, user1)
    await share(client, user1, note["id"], username="user2", permission="read")
    await share(client, user1, note["id"], username="user2", permission="edit")
    shares = list(await session.scalars(select(NoteShare)))
    assert [s.permission.value for s in shares] == ["edit"]
    listed = await client.get(f"/api/v1/notes/{note['id']}/shares", headers=user1.headers)
    assert [s["shared_with"] for s in listed.json()["data"]] == [user2.id]


async def test_the_list_of_shares_names_each_recipient(
    client: httpx.AsyncClient, user1: Person, user2: Person, session: AsyncSession
) -> None:
    """A plain user cannot look user ids up: the list says whom, by username."""
    carol = await person(client, session, "carol")
    note = await new_note(client, user1)
    await share(client, user1, note["id"], username="user2")
    await share(client, user1, note["id"], user_id=carol.id)
    listed = await client.get(f"/api/v1/notes/{note['id']}/shares", headers=user1.headers)
    assert listed.status_code == 200
    assert [(s["shared_with"], s["shared_with_username"]) for s in listed.json()["data"]] == [
        (user2.id, "user2"),
        (carol.id, "carol"),
    ]


async def test_the_answer_to_a_share_names_its_recipient(
    client: httpx.AsyncClient, user1: Person, user2: Person, session: AsyncSession
) -> None:
    """Shared by username or by id, the 201 says whom by name, as the list of shares does."""
    carol = await person(client, session, "carol")
    note = await new_note(client, user1)
    by_name = await share(client, user1, note["id"], username="user2")
    by_id = await share(client, user1, note["id"], user_id=carol.id, permission="edit")
    assert (by_name.status_code, by_id.status_code) == (201, 201)
    answers = [by_name.json()["data"], by_id.json()["data"]]
    assert [(a["shared_with"], a["shared_with_username"]) for a in answers] == [
        (user2.id, "user2"),
        (carol.id, "carol"),
    ]
    assert all(a["notification_task_id"] for a in answers)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"username": "user1"}, 400, "VALIDATION_FAILED"),
        ({"username": "nobody"}, 404, "USER_NOT_FOUND"),
        ({"user_id": str(uuid.uuid4())}, 404, "USER_NOT_FOUND"),
        ({"username": "user2", "user_id": str(uuid.uuid4())}, 400, "VALIDATION_FAILED"),
        ({"username": "user2", "permission": "admin"}, 400, "VALIDATION_FAILED"),
    ],
    ids=["self", "unknown-name", "unknown-id", "both", "permission"],
)
async def test_share_errors(
    client: httpx.AsyncClient,
    user1: Person,
    user2: Person,
    body: dict[str, object],
    status: int,
    code: str,
    session: AsyncSession,
) -> None:
    note = await new_note(client, user1)
    response = await share(client, user1, note["id"], **body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert await session.scalar(select(func.count()).select_from(NoteShare)) == 0


async def test_revoking_ends_access_at_once(
    client: httpx.AsyncClient, user1: Person, user2: Person
) -> None:
    note = await new_note(client, user1)
    await share(client, user1, note["id"], username="user2")
    assert (await read_note(client, user2, note["id"])).status_code == 200

    revoked = await revoke(client, user1, note["id"], user2)

    assert revoked.status_code == 204
    assert (await read_note(client, user2, note["id"])).status_code == 404
    assert (await revoke(client, user1, note["id"], user2)).status_code == 404  # already gone


async def test_share_and_its_notification_task_are_one_transaction(
    client: httpx.AsyncClient, user1: Person, user2: Person, session: AsyncSession
) -> None:
    await session.execute(
        update(TaskType).where(TaskType.task_type == "notification").values(is_active=False)
    )
    await session.commit()
    note = await new_note(client, user1)
    response = await share(client, user1, note["id"], username="user2")
    assert response.status_code == 400  # the task could not be queued...
    assert await session.scalar(select(func.count()).select_from(NoteShare)) == 0  # ...so no share


# --- listing, public notes and search -------------------------------------------------------------
async def test_list_own_shared_and_optionally_public(
    client: httpx.AsyncClient, user1: Person, user2: Person, session: AsyncSession
) -> None:
    carol = await person(client, session, "carol")
    mine = await new_note(client, user1, "mine")
    shared = await new_note(client, user2, "shared with user1")
    await share(client, user2, shared["id"], username="user1")
    public = await new_note(client, carol, "carol's public note", is_public=True)
    await new_note(client, carol, "carol's private note")

    default = await client.get("/api/v1/notes", headers=user1.headers)
    with_public = await client.get("/api/v1/notes?include_public=true", headers=user1.headers)

    assert {n["id"]: n["access"] for n in default.json()["data"]} == {
        mine["id"]: "owner",
        shared["id"]: "read",
    }
    assert default.headers["x-total-count"] == "2"
    assert {n["id"]: n["access"] for n in with_public.json()["data"]} == {
        mine["id"]: "owner",
        shared["id"]: "read",
        public["id"]: "public",
    }
    single = await client.get(f"/api/v1/notes/{public['id']}", headers=user1.headers)
    assert single.json()["data"]["access"] == "public"
    page = await client.get("/api/v1/notes?limit=1&offset=1", headers=user1.headers)
    assert len(page.json()["data"]) == 1


async def test_full_text_search_over_title_and_content(
    client: httpx.AsyncClient, user1: Person
) -> None:
    title_hit = await new_note(client, user1, "Postgres indexes", "b-trees and more")
    content_hit = await new_note(client, user1, "Reading list", "a book about postgres internals")
    await new_note(client, user1, "Groceries", "milk")

    found = await client.get("/api/v1/notes?q=postgres", headers=user1.headers)

    assert [n["id"] for n in found.json()["data"]] == [title_hit["id"], content_hit["id"]]
    both = await client.get(
        "/api/v1/notes", params={"q": "postgres internals"}, headers=user1.headers
    )
    assert [n["id"] for n in both.json()["data"]] == [content_hit["id"]]
    nothing = await client.get("/api/v1/notes?q=kubernetes", headers=user1.headers)
    assert nothing.json()["data"] == []


@pytest.mark.parametrize(
    "q", ["'", "&", "!", ":*", "a & | b", '"unclosed', "(", ")", "\\", "<->", "a:*B", "!!!&|"]
)
async def test_note_search_accepts_any_text(
    client: httpx.AsyncClient, user1: Person, q: str
) -> None:
    await new_note(client, user1, "Groceries", "milk")
    response = await client.get("/api/v1/notes", params={"q": q}, headers=user1.headers)
    assert response.status_code == 200, response.text


async def test_note_search_with_nul_is_400(client: httpx.AsyncClient, user1: Person) -> None:
    response = await client.get("/api/v1/notes", params={"q": "a\x00b"}, headers=user1.headers)
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "query.q"


async def test_note_search_for_wildcard_characters_finds_them_literally(
    client: httpx.AsyncClient, user1: Person
) -> None:
    percent = await new_note(client, user1, "Discounts", "50% off")
    underscore = await new_note(client, user1, "Names", "snake_case")
    backslash = await new_note(client, user1, "Paths", "C:\\temp")
    await new_note(client, user1, "Plain", "nothing special here")

    async def found(q: str) -> list[object]:
        response = await client.get("/api/v1/notes", params={"q": q}, headers=user1.headers)
        assert response.status_code == 200, response.text
        return [note["id"] for note in response.json()["data"]]

    assert await found("%") == [percent["id"]]
    assert await found("_") == [underscore["id"]]
    assert await found("\\") == [backslash["id"]]


# --- the notification, through the worker ---------------------------------------------------------
async def test_share_notifies_the_recipient_through_the_worker(
    settings: Settings, session: AsyncSession
) -> None:
    async with running_system(settings, workers=1) as system, client_for(system) as client:
        alice, bob = await person(client, session, "alice"), await person(client, session, "bob")
        note = await new_note(client, alice, "Trip plan")
        shared = await share(client, alice, note["id"], username="bob", permission="edit")
        task_id = shared.json()["data"]["notification_task_id"]

        async def notified() -> bool:
            listed = await client.get("/api/v1/notifications", headers=bob.headers)
            return bool(listed.json()["data"])

        await poll_until_async(notified, within=10, what="the share notification")
        listed = await client.get("/api/v1/notifications", headers=bob.headers)
        [notification] = listed.json()["data"]
        assert notification["title"] == "A note was shared with you: Trip plan"
        assert notification["data"]["note_id"] == note["id"]
        assert notification["data"]["permission"] == "edit"
        assert listed.headers["x-unread-count"] == "1"
        task = await client.get(f"/api/v1/tasks/{task_id}", headers=alice.headers)
        assert task.json()["data"]["status"] == "completed"
        assert (await client.get("/api/v1/notifications", headers=alice.headers)).json()[
            "data"
        ] == []

        read = await client.post(
            f"/api/v1/notifications/{notification['id']}/read", headers=bob.headers
        )
        assert read.json()["data"]["read_at"] is not None
        after = await client.get("/api/v1/notifications?unread_only=true", headers=bob.headers)
        assert after.json()["data"] == []
        assert after.headers["x-unread-count"] == "0"
        others = await client.post(
            f"/api/v1/notifications/{notification['id']}/read", headers=alice.headers
        )
        assert others.status_code == 404


async def test_a_retried_notification_task_notifies_once(
    db: Database, session: AsyncSession, settings: Settings
) -> None:
    """The worker died after writing the notification but before marking the task done:
    the retry runs the handler again with the same task id."""
    alice, bob = (
        await make_user(session, username="alice"),
        await make_user(session, username="bob"),
    )
    payload = NotificationPayload(
        share_id=uuid.uuid4(),
        note_id=uuid.uuid4(),
        recipient_id=bob.id,
        shared_by=alice.id,
        permission="read",
        title="Plan",
    )
    task_id = uuid.uuid4()
    results = []
    for attempt in (1, 2):
        ctx = TaskContext.build(
            task_id=task_id,
            task_type="notification",
            attempt=attempt,
            created_by=alice.id,
            db=db,
            settings=settings,
        )
        results.append(await notify_share(payload, ctx))
    assert [r["written"] for r in results] == [True, False]
    assert await session.scalar(select(func.count()).select_from(Notification)) == 1


async def test_mark_all_read(
    client: httpx.AsyncClient, user1: Person, session: AsyncSession
) -> None:
    for n in range(3):
        session.add(
            Notification(
                user_id=uuid.UUID(user1.id), kind="test", title=f"n{n}", dedupe_key=f"t{n}"
            )
        )
    await session.commit()
    response = await client.post("/api/v1/notifications/read-all", headers=user1.headers)
    assert response.json()["message"] == "Marked 3 notification(s) as read"
    listed = await client.get("/api/v1/notifications", headers=user1.headers)
    assert listed.headers["x-unread-count"] == "0"
