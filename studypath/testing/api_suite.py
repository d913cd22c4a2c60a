"""A black-box contract suite: what any deployment of the studypath API must answer.

    studypath check-api --url http://localhost:3000 [--admin-password …]

It knows nothing but the URL: it registers two throwaway accounts, then walks every
endpoint group — health, auth, users, notes (with sharing), notifications, tasks,
monitoring — checking the happy path, a validation error, and the 401/403/404 rules, and
deletes its notes and accounts at the end. With the admin's password it also checks what
only an admin may do. Nothing here imports the system: the same checks run against a
server in a test, `studypath up` on a laptop, or a fresh deployment (week 8's post-deploy
smoke test), and exit 1 on any failure.

Each check is a small function registered with `@check(group, name)`; it raises
`ContractError` (or AssertionError) with a message saying what the server answered.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

API = "/api/v1"
MISSING_ID = "00000000-0000-4000-8000-000000000000"
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyz"


class ContractError(AssertionError):
    """The server answered something the contract does not allow."""


@dataclass(frozen=True)
class Outcome:
    group: str
    name: str
    passed: bool
    detail: str = ""
    seconds: float = 0.0
    skipped: bool = False  # needs the admin's password, which was not given


@dataclass
class Report:
    url: str
    outcomes: list[Outcome] = field(default_factory=list)
    setup_error: str = ""

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed and not o.skipped]

    @property
    def passed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.passed]

    @property
    def ok(self) -> bool:
        return not self.setup_error and bool(self.passed) and not self.failed

    def text(self) -> str:
        """Every check, PASS / FAIL / SKIP, grouped; under a failure, what the server said."""
        lines = [f"API contract checks against {self.url}", ""]
        if self.setup_error:
            lines += [f"could not start: {self.setup_error}", ""]
        group = ""
        for outcome in self.outcomes:
            if outcome.group != group:
                group = outcome.group
                lines.append(group)
            mark = "SKIP" if outcome.skipped else "PASS" if outcome.passed else "FAIL"
            lines.append(f"  {mark}  {outcome.name}")
            if outcome.detail and not outcome.passed:
                lines.append(f"        {outcome.detail}")
        skipped = sum(o.skipped for o in self.outcomes)
        verdict = "contract holds" if self.ok else "CONTRACT BROKEN"
        lines += [
            "",
            f"{verdict}: {len(self.passed)} passed, {len(self.failed)} failed"
            + (f", {skipped} skipped (give --admin-password to run them)" if skipped else ""),
        ]
        return "\n".join(lines)


# ---------------------------------------------------------------------- talking to it
def _client(base_url: str, token: str | None = None, timeout: float = 10.0) -> httpx.Client:
    """A client that keeps no cookies: each one is exactly who its token says it is."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(
        base_url=base_url,
        headers=headers,
        timeout=timeout,
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    )


def expect(response: httpx.Response, *statuses: int) -> Any:
    """The body's `data` if the status is one of `statuses`; else a ContractError naming
    the request, the status and the start of the body."""
    if response.status_code not in statuses:
        request = response.request
        wanted = " or ".join(str(status) for status in statuses)
        raise ContractError(
            f"{request.method} {request.url.path} answered {response.status_code}, "
            f"expected {wanted}: {response.text[:200]}"
        )
    if not response.content:
        return None
    try:
        body = response.json()
    except ValueError:
        raise ContractError(
            f"{response.request.method} {response.request.url.path}: the body is not JSON"
        ) from None
    return body.get("data") if isinstance(body, dict) else body


def expect_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """`status` with the error envelope `{"error": {"code", "message"}}`."""
    expect(response, status)
    error = response.json().get("error") if response.content else None
    if not (isinstance(error, dict) and error.get("code") and error.get("message")):
        raise ContractError(f"{response.request.url.path}: {status} without the error envelope")
    return error


def require(condition: bool, message: str) -> None:
    if not condition:
        raise ContractError(message)


@dataclass
class Account:
    username: str
    password: str
    id: str
    client: httpx.Client


class Context:
    """What a check gets: the URL, an anonymous client, two signed-in people (`alice`,
    `bob`), the admin if its password was given, and what the checks made (to clean up)."""

    def __init__(self, url: str, admin_password: str | None, admin_username: str) -> None:
        self.url = url.rstrip("/")
        self.tag = secrets.token_hex(3)
        self.anonymous = _client(self.url)
        self.clients = [self.anonymous]
        self.admin_password = admin_password
        self.admin_username = admin_username
        self.admin: httpx.Client | None = None
        self.people: dict[str, Account] = {}
        self.notes: list[tuple[httpx.Client, str]] = []
        self.values: dict[str, Any] = {}  # what one check leaves for the next

    def client(self, token: str) -> httpx.Client:
        made = _client(self.url, token)
        self.clients.append(made)
        return made

    def login(self, username: str, password: str) -> httpx.Client:
        response = self.anonymous.post(
            f"{API}/auth/login", json={"username": username, "password": password}
        )
        return self.client(expect(response, 200)["session_token"])

    def person(self, name: str) -> Account:
        """A fresh account (registered through the API), signed in; one per name per run."""
        if name not in self.people:
            username = f"check_{name}_{self.tag}"
            password = "Ck-" + "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(12)) + "9"
            body = {"username": username, "email": f"{username}@example.com", "password": password}
            created = expect(self.anonymous.post(f"{API}/auth/register", json=body), 200, 201)
            self.people[name] = Account(
                username, password, str(created["id"]), self.login(username, password)
            )
        return self.people[name]

    def note(self, owner: Account, **fields: Any) -> dict[str, Any]:
        body = {"title": f"contract {self.tag}", "content": "checked by check-api", **fields}
        created: dict[str, Any] = expect(owner.client.post(f"{API}/notes", json=body), 201)
        self.notes.append((owner.client, created["id"]))
        return created

    def clean_up(self) -> list[str]:
        """Delete the notes and the accounts this run made (for good with the admin's
        password; else each account deletes itself, which disables it and keeps the row
        for audit); returns what could not be deleted."""
        problems = []
        for client, note_id in self.notes:
            response = client.delete(f"{API}/notes/{note_id}")
            if response.status_code not in (204, 404):
                problems.append(f"note {note_id}: {response.status_code}")
        for account in self.people.values():
            if self.admin is not None:  # gone for good
                body = {"hard_delete": True, "reason": "check-api clean-up"}
                response = self.admin.request("DELETE", f"{API}/users/{account.id}", json=body)
            else:  # deleting your own account is soft: the row stays for audit, disabled
                body = {"password": account.password, "confirmation": "DELETE"}
                response = account.client.request("DELETE", f"{API}/users/me", json=body)
            if response.status_code != 200:
                problems.append(f"account {account.username}: {response.status_code}")
        for client in self.clients:
            client.close()
        return problems


Check = Callable[[Context], None]


@dataclass(frozen=True)
class Registered:
    group: str
    name: str
    function: Check
    admin: bool  # needs the admin's password


CHECKS: list[Registered] = []


def check(group: str, name: str, *, admin: bool = False) -> Callable[[Check], Check]:
    """Register a check under `group` (the report's heading) as `name` (its line)."""

    def register(function: Check) -> Check:
        CHECKS.append(Registered(group, name, function, admin))
        return function

    return register


# ---------------------------------------------------------------------- health
@check("health", "GET /health answers 200 with status and version")
def health(ctx: Context) -> None:
    data = expect(ctx.anonymous.get(f"{API}/health"), 200)
    require({"status", "version"} <= set(data), f"health has no status/version: {data}")


@check("health", "the liveness probe answers 200 and every answer has X-Request-ID")
def liveness(ctx: Context) -> None:
    response = ctx.anonymous.get(f"{API}/health/live")
    expect(response, 200)
    require("x-request-id" in response.headers, "no X-Request-ID header")


@check("health", "an unknown path is 404 with the error envelope")
def unknown_path(ctx: Context) -> None:
    expect_error(ctx.anonymous.get(f"{API}/no-such-thing-{ctx.tag}"), 404)


# ---------------------------------------------------------------------- auth
@check("auth", "register and log in two accounts; /auth/me says who they are")
def sign_in(ctx: Context) -> None:
    alice, bob = ctx.person("alice"), ctx.person("bob")
    me = expect(alice.client.get(f"{API}/auth/me"), 200)
    require(me["username"] == alice.username, f"/auth/me is {me.get('username')!r}")
    require(me["role"] == "user", f"a registered account has role {me.get('role')!r}")
    require(alice.id != bob.id, "two accounts got one id")


@check("auth", "no token, or a made-up one: 401")
def unauthenticated(ctx: Context) -> None:
    expect_error(ctx.anonymous.get(f"{API}/auth/me"), 401)
    expect_error(ctx.client("not-a-real-token").get(f"{API}/auth/me"), 401)


@check("auth", "a wrong password is 401, and says nothing of which part was wrong")
def wrong_password(ctx: Context) -> None:
    alice = ctx.person("alice")
    body = {"username": alice.username, "password": alice.password + "x"}
    wrong = expect_error(ctx.anonymous.post(f"{API}/auth/login", json=body), 401)
    nobody = {"username": f"nobody_{ctx.tag}", "password": alice.password}
    unknown = expect_error(ctx.anonymous.post(f"{API}/auth/login", json=nobody), 401)
    require(wrong["message"] == unknown["message"], "the two 401s differ: accounts can be probed")


@check("auth", "a weak password is refused at registration (400)")
def weak_password(ctx: Context) -> None:
    name = f"check_weak_{ctx.tag}"
    body = {"username": name, "email": f"{name}@example.com", "password": "password"}
    expect_error(ctx.anonymous.post(f"{API}/auth/register", json=body), 400)


# ---------------------------------------------------------------------- users and roles
@check("users", "a user reads their own profile, and no one else's (404)")
def own_profile(ctx: Context) -> None:
    alice, bob = ctx.person("alice"), ctx.person("bob")
    expect(alice.client.get(f"{API}/users/{alice.id}"), 200)
    expect_error(alice.client.get(f"{API}/users/{bob.id}"), 404)


@check("users", "listing users needs a moderator (403), and a sign-in (401)")
def list_users_forbidden(ctx: Context) -> None:
    expect_error(ctx.person("alice").client.get(f"{API}/users"), 403)
    expect_error(ctx.anonymous.get(f"{API}/users"), 401)


@check("users", "the admin lists users and reads the stats", admin=True)
def admin_lists_users(ctx: Context) -> None:
    assert ctx.admin is not None
    users = expect(ctx.admin.get(f"{API}/users", params={"limit": 5}), 200)
    require(isinstance(users, list) and len(users) <= 5, "GET /users?limit=5 is not a page")
    expect(ctx.admin.get(f"{API}/admin/users/stats"), 200)
    expect_error(ctx.person("alice").client.get(f"{API}/admin/users/stats"), 403)


# ---------------------------------------------------------------------- notes
@check("notes", "create answers 201 with the note, owned by its creator")
def create_note(ctx: Context) -> None:
    alice = ctx.person("alice")
    note = ctx.note(alice, title="groceries")
    require(note["owner_id"] == alice.id and note["title"] == "groceries", f"note is {note}")
    require(note["access"] == "owner", f"the creator's access is {note.get('access')!r}")
    ctx.values["note"] = note


@check("notes", "a note needs a title (400/422) and a sign-in (401)")
def note_validation(ctx: Context) -> None:
    alice = ctx.person("alice")
    for body in ({"title": ""}, {"content": "no title"}, {"title": "x" * 201}):
        _validation(alice.client.post(f"{API}/notes", json=body))
    expect_error(ctx.anonymous.post(f"{API}/notes", json={"title": "t"}), 401)


def _validation(response: httpx.Response) -> None:
    """Refused input: 422 (the shape is wrong) or 400 (a value rule), with the envelope."""
    path = response.request.url.path
    require(
        response.status_code in (400, 422), f"{path}: bad input answered {response.status_code}"
    )
    expect_error(response, response.status_code)


@check("notes", "the list has your notes, a total in X-Total-Count, and honours limit")
def list_notes(ctx: Context) -> None:
    alice = ctx.person("alice")
    ctx.note(alice, title="second")
    response = alice.client.get(f"{API}/notes", params={"limit": 1})
    page = expect(response, 200)
    total = int(response.headers.get("x-total-count", "-1"))
    require(len(page) == 1 and total >= 2, f"limit=1 gave {len(page)} notes of {total}")
    _validation(alice.client.get(f"{API}/notes", params={"limit": 0}))


@check("notes", "another user cannot see, change or delete a private note (404)")
def private_notes(ctx: Context) -> None:
    alice, bob = ctx.person("alice"), ctx.person("bob")
    note = ctx.note(alice, title="private")
    path = f"{API}/notes/{note['id']}"
    expect_error(bob.client.get(path), 404)
    expect_error(bob.client.put(path, json={"title": "mine now"}), 404)
    expect_error(bob.client.delete(path), 404)
    listed = expect(bob.client.get(f"{API}/notes"), 200)
    require(note["id"] not in {n["id"] for n in listed}, "bob's list shows alice's note")
    expect_error(alice.client.get(f"{API}/notes/{MISSING_ID}"), 404)


@check("notes", "shared to read: the recipient reads (200) but cannot edit (403)")
def share_read(ctx: Context) -> None:
    alice, bob = ctx.person("alice"), ctx.person("bob")
    note = ctx.note(alice, title="shared")
    share = {"username": bob.username, "permission": "read"}
    expect(alice.client.post(f"{API}/notes/{note['id']}/share", json=share), 201)
    read = expect(bob.client.get(f"{API}/notes/{note['id']}"), 200)
    require(read["access"] == "read", f"the recipient's access is {read.get('access')!r}")
    expect_error(bob.client.put(f"{API}/notes/{note['id']}", json={"title": "x"}), 403)
    expect_error(
        bob.client.post(f"{API}/notes/{note['id']}/share", json={"username": alice.username}),
        403,
    )
    ctx.values["shared"] = note


@check("notes", "a share's permission must be read or edit; sharing with yourself is 400")
def share_validation(ctx: Context) -> None:
    alice, bob = ctx.person("alice"), ctx.person("bob")
    note = ctx.note(alice)
    path = f"{API}/notes/{note['id']}/share"
    owner = {"username": bob.username, "permission": "owner"}
    _validation(alice.client.post(path, json=owner))
    expect_error(alice.client.post(path, json={"username": alice.username}), 400)
    expect_error(alice.client.post(path, json={"username": f"nobody_{ctx.tag}"}), 404)


@check("notes", "a public note is readable by any signed-in user, not anonymously")
def public_note(ctx: Context) -> None:
    alice, bob = ctx.person("alice"), ctx.person("bob")
    note = ctx.note(alice, title="for everyone", is_public=True)
    read = expect(bob.client.get(f"{API}/notes/{note['id']}"), 200)
    require(read["access"] == "public", f"access to a public note is {read.get('access')!r}")
    expect_error(bob.client.put(f"{API}/notes/{note['id']}", json={"title": "x"}), 403)
    expect_error(ctx.anonymous.get(f"{API}/notes/{note['id']}"), 401)


@check("notes", "the owner deletes (204); the note is gone (404)")
def delete_note(ctx: Context) -> None:
    alice = ctx.person("alice")
    note = ctx.note(alice, title="short-lived")
    expect(alice.client.delete(f"{API}/notes/{note['id']}"), 204)
    expect_error(alice.client.get(f"{API}/notes/{note['id']}"), 404)


# ---------------------------------------------------------------------- notifications
@check("notifications", "the recipient of a share is notified (by a background task)")
def notified(ctx: Context) -> None:
    alice, bob = ctx.person("alice"), ctx.person("bob")
    note = ctx.values.get("shared") or ctx.note(alice)
    if "shared" not in ctx.values:
        share = {"username": bob.username}
        expect(alice.client.post(f"{API}/notes/{note['id']}/share", json=share), 201)
    deadline = time.monotonic() + 15
    while True:
        found = expect(bob.client.get(f"{API}/notifications"), 200)
        if any(n.get("data", {}).get("note_id") == note["id"] for n in found):
            return
        if time.monotonic() > deadline:
            raise ContractError("no notification within 15 s: is a worker running?")
        time.sleep(0.2)


@check("notifications", "notifications need a sign-in (401)")
def notifications_need_sign_in(ctx: Context) -> None:
    expect_error(ctx.anonymous.get(f"{API}/notifications"), 401)


# ---------------------------------------------------------------------- tasks
@check("tasks", "the task types are listed publicly")
def task_types(ctx: Context) -> None:
    types = expect(ctx.anonymous.get(f"{API}/tasks/types"), 200)
    require(isinstance(types, list) and len(types) > 0, "GET /tasks/types listed no type")


@check("tasks", "an unknown task type is 400; no sign-in is 401; a missing task is 404")
def task_rules(ctx: Context) -> None:
    alice = ctx.person("alice")
    body = {"task_type": f"no_such_type_{ctx.tag}", "payload": {}}
    expect_error(alice.client.post(f"{API}/tasks", json=body), 400)
    expect_error(ctx.anonymous.post(f"{API}/tasks", json=body), 401)
    expect_error(alice.client.get(f"{API}/tasks/{MISSING_ID}"), 404)


@check("tasks", "queue statistics need a moderator (403)")
def task_stats(ctx: Context) -> None:
    expect_error(ctx.person("alice").client.get(f"{API}/tasks/stats"), 403)


@check("tasks", "the admin reads the queue statistics", admin=True)
def admin_task_stats(ctx: Context) -> None:
    assert ctx.admin is not None
    expect(ctx.admin.get(f"{API}/tasks/stats"), 200)


# ---------------------------------------------------------------------- monitoring
@check("monitoring", "a user records an event under their own source")
def record_event(ctx: Context) -> None:
    alice = ctx.person("alice")
    body = {"event_type": "log", "source": f"user:{alice.username}", "message": "check-api"}
    event = expect(alice.client.post(f"{API}/monitoring/events", json=body), 200, 201)
    require(event["event_type"] == "log", f"event is {event}")
    expect_error(alice.client.post(f"{API}/monitoring/events", json={"source": "x"}), 422)


@check("monitoring", "monitoring statistics need a moderator (403); alerts are readable")
def monitoring_rules(ctx: Context) -> None:
    alice = ctx.person("alice")
    expect_error(alice.client.get(f"{API}/monitoring/stats"), 403)
    expect(alice.client.get(f"{API}/monitoring/alerts"), 200)


# ---------------------------------------------------------------------- running
@contextmanager
def _timed() -> Iterator[Callable[[], float]]:
    started = time.perf_counter()
    yield lambda: time.perf_counter() - started


def run_suite(
    url: str,
    *,
    admin_password: str | None = None,
    admin_username: str = "admin",
    progress: Callable[[Outcome], None] | None = None,
) -> Report:
    """Run every check against the server at `url`, then clean up; the report says how
    each went. Never raises for what the server answers: a broken contract is a FAIL."""
    report = Report(url)
    ctx = Context(url, admin_password, admin_username)
    try:
        expect(ctx.anonymous.get(f"{API}/health/live"), 200)
        if admin_password is not None:
            ctx.admin = ctx.login(admin_username, admin_password)
    except (httpx.HTTPError, ContractError) as exc:
        report.setup_error = f"{url} did not answer as a studypath API: {exc}"
        ctx.clean_up()
        return report
    try:
        for registered in CHECKS:
            outcome = _run_one(registered, ctx)
            report.outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    finally:
        leftovers = ctx.clean_up()
    if leftovers:
        report.outcomes.append(
            Outcome("clean-up", "the checks' notes and accounts are deleted", False, str(leftovers))
        )
    return report


def _run_one(registered: Registered, ctx: Context) -> Outcome:
    if registered.admin and ctx.admin is None:
        return Outcome(registered.group, registered.name, False, skipped=True)
    with _timed() as elapsed:
        try:
            registered.function(ctx)
        except (AssertionError, httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
            detail = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ContractError) else ""
            return Outcome(registered.group, registered.name, False, detail or str(exc), elapsed())
    return Outcome(registered.group, registered.name, True, seconds=elapsed())


__all__ = [
    "CHECKS",
    "ContractError",
    "Outcome",
    "Report",
    "check",
    "run_suite",
]
