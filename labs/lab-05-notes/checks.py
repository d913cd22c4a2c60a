"""Checks of lab 5: your notes endpoints, called over HTTP, and your tables, looked into.

Each check's docstring is the hint you see when it fails. The checker installs your
`notes_lab.py` into a live Workbench and calls every `check_*` function below with a `Lab`
(`lab.person("alice")` is a signed-in user, `lab.path("/notes")` is `/api/v1/lab/notes`).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from studypath.labs import Lab, Person

NOTES = "/notes"


def new_note(
    lab: Lab, owner: Person, title: str = "Groceries", content: str = "milk, eggs", **extra: Any
) -> dict[str, Any]:
    response = owner.client.post(
        lab.path(NOTES), json={"title": title, "content": content, **extra}
    )
    note: dict[str, Any] = lab.expect(response, 201)
    return note


def share(lab: Lab, owner: Person, note_id: str, **body: Any) -> httpx.Response:
    return owner.client.post(lab.path(f"{NOTES}/{note_id}/share"), json=body)


def note_url(lab: Lab, note: dict[str, Any]) -> str:
    return lab.path(f"{NOTES}/{note['id']}")


def stored_notes(lab: Lab, note_id: str) -> list[dict[str, Any]]:
    return lab.sql("SELECT * FROM lab_notes.notes WHERE id = :id", id=uuid.UUID(note_id))


# --- Step 1 ---------------------------------------------------------------------------------------
def check_tables(lab: Lab) -> None:
    """Step 1: migrate() creates lab_notes.notes and lab_notes.note_shares with the columns
    README.md lists, each with a foreign key to the table it points at."""
    columns = {
        (row["table_name"], row["column_name"])
        for row in lab.sql(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'lab_notes'"
        )
    }
    expected = {
        ("notes", column)
        for column in ("id", "owner_id", "title", "content", "is_public", "created_at")
    } | {
        ("note_shares", column)
        for column in ("id", "note_id", "shared_with", "shared_by", "permission", "created_at")
    }
    missing = sorted(f"lab_notes.{table}.{column}" for table, column in expected - columns)
    assert not missing, f"missing: {', '.join(missing)}"
    foreign_keys = {
        (row["child"], row["parent"])
        for row in lab.sql(
            "SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent "
            "FROM pg_constraint WHERE contype = 'f' AND connamespace = 'lab_notes'::regnamespace"
        )
    }
    for child, parent in [
        ("lab_notes.notes", "users"),
        ("lab_notes.note_shares", "lab_notes.notes"),
        ("lab_notes.note_shares", "users"),
    ]:
        assert (child, parent) in foreign_keys, f"no foreign key from {child} to {parent}"


# --- the guide's three tests --------------------------------------------------------------------
def check_create_note_returns_201(lab: Lab) -> None:
    """Steps 2-3: POST /api/v1/lab/notes answers 201 with the new note in `data` (your id as
    owner_id, access "owner") and stores it in lab_notes.notes."""
    alice = lab.person("alice")
    response = alice.client.post(
        lab.path(NOTES), json={"title": "My first note", "content": "Hello, notes!"}
    )
    note = lab.expect(response, 201)
    assert note["title"] == "My first note", f"title is {note['title']!r}"
    assert note["owner_id"] == alice.id, "owner_id is not the signed-in user's id"
    assert note["access"] == "owner", f"access is {note['access']!r}, expected 'owner'"
    assert note["is_public"] is False, "a note is private unless asked otherwise"
    [stored] = stored_notes(lab, note["id"])
    assert stored["owner_id"] == uuid.UUID(alice.id), "the stored row has another owner"
    assert stored["content"] == "Hello, notes!", "the stored row has other content"


def check_create_note_requires_sign_in(lab: Lab) -> None:
    """Step 3: without a session token POST /api/v1/lab/notes answers 401 UNAUTHORIZED (the
    `CurrentUser` dependency does it) and writes nothing."""
    response = lab.anonymous().post(lab.path(NOTES), json={"title": "sneaky", "content": "c"})
    lab.expect(response, 401)
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    written = lab.sql("SELECT id FROM lab_notes.notes WHERE title = 'sneaky'")
    assert not written, "a note was stored without a signed-in user"


def check_others_cannot_see_your_note(lab: Lab) -> None:
    """Step 2: a note you may not see does not exist for you — another user's private note
    answers 404 (not 403) and is not in your list."""
    alice, bob = lab.person("alice"), lab.person("bob")
    note = new_note(lab, alice, "Alice's diary")
    lab.expect(bob.client.get(note_url(lab, note)), 404)
    listed = lab.expect(bob.client.get(lab.path(NOTES)), 200)
    assert note["id"] not in {n["id"] for n in listed}, "bob's list shows alice's private note"
    mine = lab.expect(alice.client.get(note_url(lab, note)), 200)
    assert mine["access"] == "owner", "the owner reads the note with access 'owner'"


# --- owning, listing, sharing ---------------------------------------------------------------------
def check_owner_updates_and_deletes(lab: Lab) -> None:
    """Steps 2-3: the owner may PUT changes (200, the changed note; fields not sent stay) and
    DELETE the note (204, empty body); then it is gone from the API (404) and the table."""
    alice = lab.person("alice")
    note = new_note(lab, alice, "Draft", "first version")
    updated = lab.expect(alice.client.put(note_url(lab, note), json={"content": "second"}), 200)
    assert updated["content"] == "second", "PUT did not change the content"
    assert updated["title"] == "Draft", "PUT changed a field that was not sent"
    [stored] = stored_notes(lab, note["id"])
    assert stored["content"] == "second", "the change is not in lab_notes.notes"
    deleted = alice.client.delete(note_url(lab, note))
    lab.expect(deleted, 204)
    assert deleted.content == b"", "a 204 answer has no body"
    lab.expect(alice.client.get(note_url(lab, note)), 404)
    assert not stored_notes(lab, note["id"]), "the row is still in lab_notes.notes"


def check_list_shows_own_and_shared_notes(lab: Lab) -> None:
    """Step 2: GET /api/v1/lab/notes lists your notes and those shared with you, each with
    your access, most recently updated first, and the total in X-Total-Count."""
    erin, bob = lab.person("erin"), lab.person("bob")  # erin: no notes in any other check
    first = new_note(lab, erin, "first")
    second = new_note(lab, erin, "second")
    shared = new_note(lab, bob, "bob's, shared with erin")
    new_note(lab, bob, "bob's private note")
    lab.expect(share(lab, bob, shared["id"], username=erin.username), 201)

    response = erin.client.get(lab.path(NOTES))
    listed = lab.expect(response, 200)

    access = {n["id"]: n["access"] for n in listed}
    assert access == {first["id"]: "owner", second["id"]: "owner", shared["id"]: "read"}, (
        f"erin's list (id -> access): {access}"
    )
    assert [n["id"] for n in listed] == [shared["id"], second["id"], first["id"]], (
        "not most recently updated first"
    )
    assert response.headers.get("x-total-count") == "3", "X-Total-Count should be 3"


def check_read_share_reads_but_cannot_write(lab: Lab) -> None:
    """Steps 2-3: POST /notes/{id}/share {username, permission: "read"} answers 201 with the
    share; the recipient may then GET the note (access "read") but PUT and DELETE give 403."""
    alice, bob = lab.person("alice"), lab.person("bob")
    note = new_note(lab, alice)
    created = lab.expect(share(lab, alice, note["id"], username=bob.username), 201)
    assert created["shared_with"] == bob.id, "the share's shared_with is not bob's id"
    assert created["permission"] == "read", "a share is `read` unless asked otherwise"
    seen = lab.expect(bob.client.get(note_url(lab, note)), 200)
    assert seen["access"] == "read", f"bob's access is {seen['access']!r}, expected 'read'"
    lab.expect(bob.client.put(note_url(lab, note), json={"title": "mine now"}), 403)
    lab.expect(bob.client.delete(note_url(lab, note)), 403)
    assert stored_notes(lab, note["id"]), "the note was deleted by a reader"


def check_revoking_ends_access(lab: Lab) -> None:
    """Steps 2-3: DELETE /notes/{id}/share/{user_id} answers 204; the recipient's access
    ends at once (404), and revoking again answers 404."""
    alice, bob = lab.person("alice"), lab.person("bob")
    note = new_note(lab, alice)
    lab.expect(share(lab, alice, note["id"], user_id=bob.id), 201)
    lab.expect(bob.client.get(note_url(lab, note)), 200)
    revoke = lab.path(f"{NOTES}/{note['id']}/share/{bob.id}")
    lab.expect(alice.client.delete(revoke), 204)
    lab.expect(bob.client.get(note_url(lab, note)), 404)
    lab.expect(alice.client.delete(revoke), 404)


def check_share_notifies_the_recipient_once(lab: Lab) -> None:
    """Step 4: sharing answers with `notification_task_id`; the worker runs your
    lab_note_shared handler, which writes ONE notification for the recipient only — shown by
    GET /api/v1/lab/notifications."""
    alice, bob = lab.person("alice"), lab.person("bob")
    note = new_note(lab, alice, "Trip plan")
    shared = lab.expect(
        share(lab, alice, note["id"], username=bob.username, permission="edit"), 201
    )
    task_id = shared.get("notification_task_id")
    assert task_id, "the share answer has no notification_task_id"

    def finished() -> dict[str, Any] | None:
        task: dict[str, Any] = lab.expect(alice.client.get(f"/api/v1/tasks/{task_id}"), 200)
        return task if task["status"] in {"completed", "failed", "cancelled"} else None

    task = lab.wait_until(finished, within=15, what="the notification task to finish")
    assert task["status"] == "completed", f"the task {task['status']}: {task['last_error']}"

    def about_note(person: Person) -> list[dict[str, Any]]:
        listed = lab.expect(person.client.get(lab.path("/notifications")), 200)
        return [n for n in listed if n.get("data", {}).get("note_id") == note["id"]]

    mine = about_note(bob)
    assert len(mine) == 1, f"bob has {len(mine)} notifications about the note, expected 1"
    assert "Trip plan" in mine[0]["title"], "the notification's title should name the note"
    assert mine[0]["data"].get("permission") == "edit", "data.permission should be 'edit'"
    assert about_note(alice) == [], "the one who shared was notified too"


### BEGIN HIDDEN TESTS
def check_edit_share_edits_but_does_not_own(lab: Lab) -> None:
    """Step 2: an `edit` recipient may change title and content, but not make the note public,
    share it on or delete it (403 each)."""
    alice, bob, carol = lab.person("alice"), lab.person("bob"), lab.person("carol")
    note = new_note(lab, alice)
    lab.expect(share(lab, alice, note["id"], user_id=bob.id, permission="edit"), 201)
    edited = lab.expect(bob.client.put(note_url(lab, note), json={"content": "by bob"}), 200)
    assert edited["access"] == "edit", f"bob's access is {edited['access']!r}"
    assert stored_notes(lab, note["id"])[0]["content"] == "by bob"
    lab.expect(bob.client.put(note_url(lab, note), json={"is_public": True}), 403)
    lab.expect(share(lab, bob, note["id"], username=carol.username), 403)
    lab.expect(bob.client.delete(note_url(lab, note)), 403)


def check_sharing_again_changes_the_permission(lab: Lab) -> None:
    """Step 2: sharing with the same user again changes the permission of the one share (no
    second row in lab_notes.note_shares)."""
    alice, bob = lab.person("alice"), lab.person("bob")
    note = new_note(lab, alice)
    lab.expect(share(lab, alice, note["id"], username=bob.username, permission="read"), 201)
    lab.expect(share(lab, alice, note["id"], username=bob.username, permission="edit"), 201)
    rows = lab.sql(
        "SELECT permission FROM lab_notes.note_shares WHERE note_id = :id",
        id=uuid.UUID(note["id"]),
    )
    assert [row["permission"] for row in rows] == ["edit"], f"shares: {rows}"


def check_share_errors(lab: Lab) -> None:
    """Step 2: sharing with yourself is 400 VALIDATION_FAILED, with an unknown user 404
    USER_NOT_FOUND, with both a username and a user_id 400 (a value rule: the body reads as
    the schema, one of its rules refuses it) — and nothing is stored."""
    alice = lab.person("alice")
    note = new_note(lab, alice)
    cases = [
        ({"username": alice.username}, 400, "VALIDATION_FAILED"),
        ({"username": "nobody_at_all"}, 404, "USER_NOT_FOUND"),
        ({"user_id": str(uuid.uuid4())}, 404, "USER_NOT_FOUND"),
        ({"username": alice.username, "user_id": alice.id}, 400, "VALIDATION_FAILED"),
    ]
    for body, status, code in cases:
        response = share(lab, alice, note["id"], **body)
        lab.expect(response, status)
        assert response.json()["error"]["code"] == code, f"{body}: {response.json()}"
    rows = lab.sql(
        "SELECT id FROM lab_notes.note_shares WHERE note_id = :id", id=uuid.UUID(note["id"])
    )
    assert rows == [], "a failed share left a row behind"


def check_note_validation(lab: Lab) -> None:
    """Step 3: an empty or blank title or one over 200 characters is 400 (a value rule), an
    unknown field 422 (the body does not fit the schema), and nothing is stored."""
    alice = lab.person("alice")
    before = lab.sql("SELECT count(*) AS n FROM lab_notes.notes")[0]["n"]
    for body, status in [
        ({"title": "", "content": "c"}, 400),
        ({"title": "   ", "content": "c"}, 400),
        ({"title": "x" * 201}, 400),
        ({"title": "t", "owner_id": alice.id}, 422),
    ]:
        lab.expect(alice.client.post(lab.path(NOTES), json=body), status)
    after = lab.sql("SELECT count(*) AS n FROM lab_notes.notes")[0]["n"]
    assert after == before, "an invalid note was stored"


def check_public_note_is_readable_not_writable(lab: Lab) -> None:
    """Step 2: any signed-in user may GET a public note (access "public") but not change it
    (403); it is listed for them only with ?include_public=true."""
    alice, carol = lab.person("alice"), lab.person("carol")
    note = new_note(lab, alice, "Announcement", is_public=True)
    seen = lab.expect(carol.client.get(note_url(lab, note)), 200)
    assert seen["access"] == "public", f"carol's access is {seen['access']!r}"
    lab.expect(carol.client.put(note_url(lab, note), json={"title": "x"}), 403)
    default = lab.expect(carol.client.get(lab.path(NOTES)), 200)
    assert note["id"] not in {n["id"] for n in default}, "public notes listed by default"
    with_public = lab.expect(
        carol.client.get(lab.path(NOTES), params={"include_public": True}), 200
    )
    assert {n["id"]: n["access"] for n in with_public}.get(note["id"]) == "public"


def check_notification_handler_is_idempotent(lab: Lab) -> None:
    """Step 4: running the handler twice for the same task (a retry) writes one notification."""
    from studypath.tasks import TaskContext

    alice, bob = lab.person("alice"), lab.person("bob")
    assert lab.module is not None
    payload = lab.module.ShareNotification(
        share_id=uuid.uuid4(),
        note_id=uuid.uuid4(),
        recipient_id=uuid.UUID(bob.id),
        shared_by=uuid.UUID(alice.id),
        permission="read",
        title="Retried",
    )
    task_id = uuid.uuid4()
    for attempt in (1, 2):
        ctx = TaskContext.build(
            task_id=task_id,
            task_type="lab_note_shared",
            attempt=attempt,
            created_by=uuid.UUID(alice.id),
            db=lab.wb.db,
            settings=lab.wb.settings,
        )
        lab.wb.run(lab.module.notify_share(payload, ctx))
    rows = lab.sql(
        "SELECT id FROM lab_notes.notifications WHERE data->>'note_id' = :note",
        note=str(payload.note_id),
    )
    assert len(rows) == 1, f"{len(rows)} notifications after a retry, expected 1"


def check_share_and_task_are_one_transaction(lab: Lab) -> None:
    """Step 2: if the notification task cannot be queued, the share is not stored either
    (write both in one transaction; create_task commits it)."""
    alice, bob = lab.person("alice"), lab.person("bob")
    note = new_note(lab, alice)
    lab.sql("UPDATE task_types SET is_active = false WHERE task_type = 'lab_note_shared'")
    try:
        response = share(lab, alice, note["id"], username=bob.username)
    finally:
        lab.sql("UPDATE task_types SET is_active = true WHERE task_type = 'lab_note_shared'")
    lab.expect(response, 400)
    rows = lab.sql(
        "SELECT id FROM lab_notes.note_shares WHERE note_id = :id", id=uuid.UUID(note["id"])
    )
    assert rows == [], "the share was stored although its notification could not be queued"


### END HIDDEN TESTS
