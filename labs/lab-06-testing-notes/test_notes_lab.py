"""Lab 6: tests for the notes feature, the guide's week-6 way (README.md).

Each test arranges (factories: `make_user`, `authenticated_user`, `make_note`), acts (one
request through `app`, a real server over a database of the test's own) and asserts on the
answer. `studypath labs check lab-06 --path .` grades them: they must pass on the real
notes feature and fail on each of its mutants — copies with one small bug each.
"""

from __future__ import annotations

from dataclasses import dataclass

from studypath.testing import TestApp, authenticated_user, make_note

NOTES = "/api/v1/notes"


# ---------------------------------------------------------------------- the guide's three
async def test_create_note_success(app: TestApp) -> None:
    """A signed-in user creates a note: 201 Created, and the note is theirs."""
    ### BEGIN SOLUTION Step 1
    user, token = await authenticated_user(app)

    response = await app.post_json(NOTES, {"title": "Groceries", "content": "milk"}, token=token)

    assert response.status_code == 201
    note = response.json()["data"]
    assert (note["title"], note["content"], note["owner_id"]) == ("Groceries", "milk", str(user.id))
    assert note["access"] == "owner"
    ### END SOLUTION


async def test_create_note_unauthorized(app: TestApp) -> None:
    """Without a token: 401, and nothing is stored."""
    ### BEGIN SOLUTION Step 1
    response = await app.post_json(NOTES, {"title": "Groceries"})

    assert response.status_code == 401
    _user, token = await authenticated_user(app)
    assert (await app.get_with_auth(NOTES, token)).headers["X-Total-Count"] == "0"
    ### END SOLUTION


async def test_user_can_only_see_own_notes(app: TestApp) -> None:
    """Another user's private note is not in your list, and reading it is 404."""
    ### BEGIN SOLUTION Step 1
    alice, _alice_token = await authenticated_user(app)
    _bob, bob_token = await authenticated_user(app)
    private = await make_note(app, alice)

    listed = await app.get_with_auth(NOTES, bob_token)
    read = await app.get_with_auth(f"{NOTES}/{private.id}", bob_token)

    assert listed.status_code == 200 and listed.json()["data"] == []
    assert read.status_code == 404
    ### END SOLUTION


# ---------------------------------------------------------------------- public notes
async def test_a_public_note_is_readable_by_everyone_signed_in(app: TestApp) -> None:
    """Any signed-in user reads a public note (access "public") and can list it with
    `?include_public=true`."""
    ### BEGIN SOLUTION Step 2
    alice, _alice_token = await authenticated_user(app)
    _bob, bob_token = await authenticated_user(app)
    note = await make_note(app, alice, is_public=True)

    read = await app.get_with_auth(f"{NOTES}/{note.id}", bob_token)
    listed = await app.get_with_auth(NOTES, bob_token, params={"include_public": "true"})

    assert read.status_code == 200 and read.json()["data"]["access"] == "public"
    assert [n["id"] for n in listed.json()["data"]] == [str(note.id)]
    ### END SOLUTION


# ---------------------------------------------------------------------- pagination
async def test_pages_neither_repeat_nor_skip_notes(app: TestApp) -> None:
    """Three notes, pages of two: two pages, every note once; X-Total-Count is 3."""
    ### BEGIN SOLUTION Step 3
    alice, token = await authenticated_user(app)
    made = {str((await make_note(app, alice)).id) for _ in range(3)}

    first = await app.get_with_auth(NOTES, token, params={"limit": 2, "offset": 0})
    second = await app.get_with_auth(NOTES, token, params={"limit": 2, "offset": 2})

    pages = [[n["id"] for n in page.json()["data"]] for page in (first, second)]
    assert [len(page) for page in pages] == [2, 1]
    assert set(pages[0]) | set(pages[1]) == made
    assert first.headers["X-Total-Count"] == second.headers["X-Total-Count"] == "3"
    ### END SOLUTION


# ---------------------------------------------------------------------- the notification task
async def test_sharing_notifies_the_recipient_once_the_task_runs(app: TestApp) -> None:
    """The share queues a task; after `app.run_tasks()` the recipient (not the owner) has
    one notification about the note."""
    ### BEGIN SOLUTION Step 4
    alice, alice_token = await authenticated_user(app)
    bob, bob_token = await authenticated_user(app)
    note = await make_note(app, alice)
    share = {"username": bob.username}
    assert (await app.post_json(f"{NOTES}/{note.id}/share", share, token=alice_token)).is_success

    await app.run_tasks()

    bobs = (await app.get_with_auth("/api/v1/notifications", bob_token)).json()["data"]
    alices = (await app.get_with_auth("/api/v1/notifications", alice_token)).json()["data"]
    assert [n["data"]["note_id"] for n in bobs] == [str(note.id)]
    assert alices == []
    ### END SOLUTION


# ---------------------------------------------------------------------- validation
async def test_a_note_needs_a_title(app: TestApp) -> None:
    """An empty title is refused with a validation error (400 or 422)."""
    ### BEGIN SOLUTION Step 5
    _user, token = await authenticated_user(app)

    response = await app.post_json(NOTES, {"title": ""}, token=token)

    assert response.status_code in (400, 422)
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"
    ### END SOLUTION


# ---------------------------------------------------------------------- ownership
async def test_only_the_owner_deletes_a_note(app: TestApp) -> None:
    """Someone else's DELETE is 404 and the note stays; the owner's is 204."""
    ### BEGIN SOLUTION Step 6
    alice, alice_token = await authenticated_user(app)
    _bob, bob_token = await authenticated_user(app)
    note = await make_note(app, alice)

    by_bob = await app.delete(f"{NOTES}/{note.id}", token=bob_token)
    still_there = await app.get_with_auth(f"{NOTES}/{note.id}", alice_token)
    by_alice = await app.delete(f"{NOTES}/{note.id}", token=alice_token)

    assert by_bob.status_code == 404
    assert still_there.status_code == 200
    assert by_alice.status_code == 204
    ### END SOLUTION


# ---------------------------------------------------------------------- sharing
@dataclass
class Shared:
    """What most sharing tests start from: Alice's note, shared with Bob."""

    note_url: str  # /api/v1/notes/{id}
    alice_token: str
    bob_id: str
    bob_token: str


async def alice_shares_a_note_with_bob(app: TestApp, permission: str = "read") -> Shared:
    """Arrange, for the sharing tests that act after the share: two signed-in users, and
    Alice's note shared with Bob through `POST /notes/{id}/share` (a test of the share
    request itself writes the request out)."""
    alice, alice_token = await authenticated_user(app)
    bob, bob_token = await authenticated_user(app)
    note = await make_note(app, alice)
    share = {"username": bob.username, "permission": permission}
    shared = await app.post_json(f"{NOTES}/{note.id}/share", share, token=alice_token)
    assert shared.is_success, shared.text
    return Shared(f"{NOTES}/{note.id}", alice_token, str(bob.id), bob_token)


async def test_a_read_share_lets_the_recipient_read_but_not_edit(app: TestApp) -> None:
    """Shared to read: GET is 200 with access "read"; PUT is 403."""
    ### BEGIN SOLUTION Step 7
    alice, alice_token = await authenticated_user(app)
    bob, bob_token = await authenticated_user(app)
    note = await make_note(app, alice, title="plans")
    share = {"username": bob.username, "permission": "read"}

    shared = await app.post_json(f"{NOTES}/{note.id}/share", share, token=alice_token)
    read = await app.get_with_auth(f"{NOTES}/{note.id}", bob_token)
    edit = await app.put_json(f"{NOTES}/{note.id}", {"title": "mine"}, token=bob_token)

    assert shared.status_code == 201
    assert read.status_code == 200 and read.json()["data"]["access"] == "read"
    assert edit.status_code == 403
    ### END SOLUTION


async def test_a_share_permission_is_read_or_edit(app: TestApp) -> None:
    """`permission: "owner"` is refused (400 or 422): there is no such permission."""
    ### BEGIN SOLUTION Step 7
    alice, alice_token = await authenticated_user(app)
    bob, _bob_token = await authenticated_user(app)
    note = await make_note(app, alice)

    response = await app.post_json(
        f"{NOTES}/{note.id}/share",
        {"username": bob.username, "permission": "owner"},
        token=alice_token,
    )

    assert response.status_code in (400, 422)
    ### END SOLUTION


async def test_a_recipient_cannot_share_on_or_delete(app: TestApp) -> None:
    """Even with `edit`, a recipient may not share the note or delete it: 403."""
    ### BEGIN SOLUTION Step 7
    shared = await alice_shares_a_note_with_bob(app, permission="edit")
    carol, _carol_token = await authenticated_user(app)

    share_on = await app.post_json(
        f"{shared.note_url}/share", {"username": carol.username}, token=shared.bob_token
    )
    delete = await app.delete(shared.note_url, token=shared.bob_token)

    assert share_on.status_code == 403
    assert delete.status_code == 403
    ### END SOLUTION


async def test_revoking_a_share_ends_the_access(app: TestApp) -> None:
    """After DELETE /notes/{id}/share/{user_id}, the recipient gets 404."""
    ### BEGIN SOLUTION Step 7
    shared = await alice_shares_a_note_with_bob(app)

    revoked = await app.delete(f"{shared.note_url}/share/{shared.bob_id}", token=shared.alice_token)
    read = await app.get_with_auth(shared.note_url, shared.bob_token)

    assert revoked.status_code == 204
    assert read.status_code == 404
    ### END SOLUTION


async def test_only_the_owner_makes_a_note_public(app: TestApp) -> None:
    """An `edit` recipient changes the title, but `is_public` is the owner's: 403."""
    ### BEGIN SOLUTION Step 7
    shared = await alice_shares_a_note_with_bob(app, permission="edit")

    retitled = await app.put_json(shared.note_url, {"title": "ours"}, token=shared.bob_token)
    published = await app.put_json(shared.note_url, {"is_public": True}, token=shared.bob_token)

    assert retitled.status_code == 200
    assert published.status_code == 403
    ### END SOLUTION
