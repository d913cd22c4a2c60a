"""THE authorization table: every endpoint × {anonymous, owner, other user, moderator,
admin} → the status each one gets. Add rows whenever an endpoint is added; the last test
fails if an endpoint of the live app has no row.

Each row runs against one database; each actor acts in a fresh "world" of its own (owner,
other user, moderator, admin, all signed in), so one actor's success (say, a deletion)
cannot change what the next actor sees.

Actors send their session as `Authorization: Bearer`, unless a row says otherwise: the
session cookie (as the web app does), from this server's origin or not (`Credentials`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.auth.cookies import SESSION_COOKIE
from studypath.config import Settings
from studypath.identity.roles import Role
from studypath.system import System
from studypath.testing.factories import DEFAULT_PASSWORD, make_user
from studypath.testing.server import app_of
from tests.support.factories import AUTHZ_TASK_TYPE, World, create_world

ACTORS = ("anonymous", "owner", "other", "moderator", "admin")
NEW_PASSWORD = "Fresh-Password-77"

Body = dict[str, Any] | Callable[[World], dict[str, Any]] | None
FOREIGN_ORIGIN = "http://evil.example"


class Credentials(StrEnum):
    """How an actor sends its session."""

    BEARER = "bearer"
    COOKIE = "cookie, same Origin"
    COOKIE_REFERER = "cookie, same-origin Referer"
    COOKIE_FOREIGN = "cookie, foreign Origin"
    COOKIE_NO_ORIGIN = "cookie, no Origin or Referer"
    BOTH_FOREIGN = "bearer and cookie, foreign Origin"

    def headers(self, token: str | None, own_origin: str) -> dict[str, str]:
        if token is None:
            return {}
        bearer = {"Authorization": f"Bearer {token}"}
        cookie = {"Cookie": f"{SESSION_COOKIE}={token}"}
        return {
            Credentials.BEARER: bearer,
            Credentials.COOKIE: {**cookie, "Origin": own_origin},
            Credentials.COOKIE_REFERER: {**cookie, "Referer": f"{own_origin}/notes?page=2"},
            Credentials.COOKIE_FOREIGN: {**cookie, "Origin": FOREIGN_ORIGIN},
            Credentials.COOKIE_NO_ORIGIN: cookie,
            Credentials.BOTH_FOREIGN: {**bearer, **cookie, "Origin": FOREIGN_ORIGIN},
        }[self]


@dataclass(frozen=True)
class Row:
    method: str
    template: str  # the route as the app declares it (OpenAPI path)
    expect: tuple[int, int, int, int, int]  # anonymous, owner, other, moderator, admin
    path: str = ""  # with {placeholders} from World.ids(); defaults to the template
    body: Body = None
    note: str = field(default="", compare=False)
    credentials: Credentials = Credentials.BEARER

    def url(self, world: World) -> str:
        return (self.path or self.template).format(**world.ids())

    def json(self, world: World) -> dict[str, Any] | None:
        return self.body(world) if callable(self.body) else self.body

    @property
    def id(self) -> str:
        note = f" {self.note}" if self.note else ""
        sent = "" if self.credentials is Credentials.BEARER else f" [{self.credentials}]"
        return f"{self.method} {self.path or self.template}{note}{sent}"


def new_account(world: World) -> dict[str, Any]:
    return {
        "username": f"newbie{world.tag}",
        "email": f"newbie{world.tag}@example.com",
        "password": NEW_PASSWORD,
    }


ALL_OK = (200, 200, 200, 200, 200)
SIGNED_IN = (401, 200, 200, 200, 200)
MODERATORS = (401, 403, 403, 200, 200)
ADMINS = (401, 403, 403, 403, 200)
OWNER_OR_STAFF = (401, 200, 404, 200, 200)
OWNER_ONLY = (401, 200, 404, 404, 404)
CROSS_SITE = (401, 403, 403, 403, 403)  # a cookie write from elsewhere: refused for everyone

TABLE: list[Row] = [
    # --- health: public, except the admin report ------------------------------------------
    Row("GET", "/api/v1/health", ALL_OK),
    Row("GET", "/api/v1/health/detailed", ALL_OK),
    Row("GET", "/api/v1/health/live", ALL_OK),
    Row("GET", "/api/v1/health/ready", ALL_OK),
    Row("GET", "/api/v1/health/startup", ALL_OK),
    Row("GET", "/api/v1/admin/health", ADMINS),
    # --- auth -------------------------------------------------------------------------------
    Row("POST", "/api/v1/auth/register", ALL_OK, body=new_account),
    Row(
        "POST",
        "/api/v1/auth/login",
        ALL_OK,
        body=lambda w: {"username": w.owner.username, "password": DEFAULT_PASSWORD},
    ),
    Row("POST", "/api/v1/auth/logout", SIGNED_IN),
    Row("POST", "/api/v1/auth/logout-all", SIGNED_IN),
    Row("GET", "/api/v1/auth/me", SIGNED_IN),
    Row("POST", "/api/v1/auth/refresh", SIGNED_IN, note="(a session never refreshed)"),
    # --- API keys: personal; someone else's key is invisible ----------------------------------
    Row("POST", "/api/v1/api-keys", SIGNED_IN, body={"name": "ci"}),
    Row("GET", "/api/v1/api-keys", SIGNED_IN),
    Row(
        "DELETE",
        "/api/v1/api-keys/{key_id}",
        (401, 200, 404, 404, 404),
        path="/api/v1/api-keys/{owner_key_id}",
    ),
    # --- users: self-service ------------------------------------------------------------------
    Row("GET", "/api/v1/users/me/profile", SIGNED_IN),
    Row("PUT", "/api/v1/users/me/profile", SIGNED_IN, body={}),
    Row(
        "PUT",
        "/api/v1/users/me/password",
        SIGNED_IN,
        body={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    ),
    Row(
        "DELETE",
        "/api/v1/users/me",
        SIGNED_IN,
        body={"password": DEFAULT_PASSWORD, "confirmation": "DELETE"},
    ),
    # --- users: viewing (hidden = 404) --------------------------------------------------------
    Row("GET", "/api/v1/users", MODERATORS),
    Row(
        "GET", "/api/v1/users/{user_id}", (401, 200, 404, 200, 200), path="/api/v1/users/{owner_id}"
    ),
    Row(
        "GET",
        "/api/v1/users/{user_id}",
        (401, 404, 404, 404, 200),
        path="/api/v1/users/{admin_id}",
        note="(an admin)",
    ),
    Row(
        "GET",
        "/api/v1/users/{user_id}",
        (401, 404, 404, 404, 404),
        path="/api/v1/users/{missing_id}",
        note="(no such user)",
    ),
    # --- users: moderation (moderators cannot act on admins) ---------------------------------
    Row(
        "PUT",
        "/api/v1/users/{user_id}/status",
        MODERATORS,
        path="/api/v1/users/{owner_id}/status",
        body={"is_active": False},
    ),
    Row(
        "PUT",
        "/api/v1/users/{user_id}/status",
        (401, 403, 403, 404, 409),
        path="/api/v1/users/{admin_id}/status",
        body={"is_active": False},
        note="(an admin; the admin acts on itself)",
    ),
    Row(
        "POST",
        "/api/v1/users/{user_id}/reset-password",
        MODERATORS,
        path="/api/v1/users/{owner_id}/reset-password",
        body={"new_password": NEW_PASSWORD},
    ),
    Row(
        "POST",
        "/api/v1/users/{user_id}/reset-password",
        (401, 403, 403, 404, 400),
        path="/api/v1/users/{admin_id}/reset-password",
        body={"new_password": NEW_PASSWORD},
        note="(an admin; the admin resets itself: use PUT /users/me/password)",
    ),
    Row(
        "POST",
        "/api/v1/users/{user_id}/reset-password",
        (401, 403, 403, 400, 200),
        path="/api/v1/users/{moderator_id}/reset-password",
        body={"new_password": NEW_PASSWORD},
        note="(a moderator; the moderator resets itself)",
    ),
    Row(
        "PUT",
        "/api/v1/users/{user_id}/status",
        (401, 403, 403, 409, 200),
        path="/api/v1/users/{moderator_id}/status",
        body={"is_active": False},
        note="(a moderator; the moderator acts on itself)",
    ),
    # --- users: administration -------------------------------------------------------------------
    Row("POST", "/api/v1/users", ADMINS, body=new_account),
    Row(
        "PUT",
        "/api/v1/users/{user_id}/profile",
        ADMINS,
        path="/api/v1/users/{owner_id}/profile",
        body={"email_verified": True},
    ),
    Row(
        "PUT",
        "/api/v1/users/{user_id}/role",
        ADMINS,
        path="/api/v1/users/{owner_id}/role",
        body={"role": "moderator"},
    ),
    Row("DELETE", "/api/v1/users/{user_id}", ADMINS, path="/api/v1/users/{owner_id}"),
    Row("GET", "/api/v1/admin/users/stats", ADMINS),
    # --- tasks: your own, or anyone's for staff; someone else's task is invisible ------------
    Row("GET", "/api/v1/tasks/types", ALL_OK),
    Row(
        "POST",
        "/api/v1/tasks/types",
        ADMINS,
        body=lambda w: {"task_type": f"registered{w.tag}", "description": "via HTTP"},
    ),
    Row("POST", "/api/v1/tasks", SIGNED_IN, body={"task_type": AUTHZ_TASK_TYPE, "payload": {}}),
    Row(
        "POST",
        "/api/v1/tasks",
        ADMINS,
        body={"task_type": "file_cleanup", "payload": {"path": "reports", "max_age_days": 30}},
        note="(file_cleanup: admins only)",
    ),
    Row(
        "POST",
        "/api/v1/tasks",
        (401, 403, 403, 200, 200),
        body={
            "task_type": "email",
            "payload": {
                "to": [f"reader{n}@example.com" for n in range(11)],
                "subject": "News",
                "body": "…",
            },
        },
        note="(email to 11 recipients: staff only)",
    ),
    Row(
        "POST",
        "/api/v1/tasks",
        (401, 403, 403, 200, 200),
        body={
            "task_type": "email",
            "payload": {
                "to": "reader@example.com",
                "from": "ceo@example.com",
                "subject": "News",
                "body": "…",
            },
        },
        note="(email from another address: staff only)",
    ),
    Row("GET", "/api/v1/tasks", SIGNED_IN),
    Row("GET", "/api/v1/tasks/stats", MODERATORS),
    Row("GET", "/api/v1/tasks/dead-letter", SIGNED_IN),
    Row("GET", "/api/v1/tasks/{task_id}", OWNER_OR_STAFF, path="/api/v1/tasks/{owner_task_id}"),
    Row(
        "GET",
        "/api/v1/tasks/{task_id}",
        (401, 404, 404, 404, 404),
        path="/api/v1/tasks/{missing_id}",
        note="(no such task)",
    ),
    Row(
        "POST",
        "/api/v1/tasks/{task_id}/cancel",
        OWNER_OR_STAFF,
        path="/api/v1/tasks/{owner_task_id}/cancel",
    ),
    Row(
        "POST",
        "/api/v1/tasks/{task_id}/cancel",
        (401, 409, 404, 409, 409),
        path="/api/v1/tasks/{owner_done_task_id}/cancel",
        note="(already completed)",
    ),
    Row(
        "POST",
        "/api/v1/tasks/{task_id}/retry",
        OWNER_OR_STAFF,
        path="/api/v1/tasks/{owner_failed_task_id}/retry",
    ),
    Row(
        "DELETE",
        "/api/v1/tasks/{task_id}",
        OWNER_OR_STAFF,
        path="/api/v1/tasks/{owner_done_task_id}",
    ),
    Row(
        "DELETE",
        "/api/v1/tasks/{task_id}",
        (401, 409, 404, 409, 409),
        path="/api/v1/tasks/{owner_task_id}",
        note="(still pending)",
    ),
    # --- monitoring: events are their writers' (staff see all); alerts are staff's to write ----
    Row(
        "POST",
        "/api/v1/monitoring/events",
        SIGNED_IN,
        body={"event_type": "log", "source": "client", "message": "hello"},
    ),
    Row("GET", "/api/v1/monitoring/events", SIGNED_IN),
    Row(
        "GET",
        "/api/v1/monitoring/events/{event_id}",
        OWNER_OR_STAFF,
        path="/api/v1/monitoring/events/{owner_event_id}",
    ),
    Row(
        "POST",
        "/api/v1/monitoring/metrics",
        SIGNED_IN,
        body={"name": "client_clicks", "metric_type": "counter", "value": 1},
    ),
    Row("GET", "/api/v1/monitoring/metrics", SIGNED_IN),
    Row("GET", "/api/v1/monitoring/metrics/prometheus", ALL_OK),
    Row("GET", "/api/v1/monitoring/alerts", SIGNED_IN),
    Row(
        "POST",
        "/api/v1/monitoring/alerts",
        MODERATORS,
        body={"name": "slow", "metric_name": "client_latency", "threshold": 2.5},
    ),
    Row("GET", "/api/v1/monitoring/alerts/{alert_id}", SIGNED_IN),
    Row("PUT", "/api/v1/monitoring/alerts/{alert_id}", MODERATORS, body={"threshold": 3}),
    Row("DELETE", "/api/v1/monitoring/alerts/{alert_id}", MODERATORS),
    Row("POST", "/api/v1/monitoring/incidents", SIGNED_IN, body={"title": "db slow"}),
    Row("GET", "/api/v1/monitoring/incidents", SIGNED_IN),
    Row(
        "GET",
        "/api/v1/monitoring/incidents/{incident_id}",
        SIGNED_IN,
        path="/api/v1/monitoring/incidents/{owner_incident_id}",
    ),
    Row(
        "PUT",
        "/api/v1/monitoring/incidents/{incident_id}",
        (401, 200, 403, 200, 200),
        path="/api/v1/monitoring/incidents/{owner_incident_id}",
        body={"status": "investigating"},
    ),
    Row(
        "GET",
        "/api/v1/monitoring/incidents/{incident_id}/timeline",
        SIGNED_IN,
        path="/api/v1/monitoring/incidents/{owner_incident_id}/timeline",
    ),
    Row("GET", "/api/v1/monitoring/stats", MODERATORS),
    # --- notes: the owner, share recipients, the public — everyone else sees nothing (404) ---
    Row("GET", "/api/v1/notes", SIGNED_IN),
    Row("POST", "/api/v1/notes", (401, 201, 201, 201, 201), body={"title": "t", "content": "c"}),
    Row("GET", "/api/v1/notes/{note_id}", OWNER_ONLY, path="/api/v1/notes/{owner_note_id}"),
    Row(
        "GET",
        "/api/v1/notes/{note_id}",
        (401, 200, 200, 404, 404),
        path="/api/v1/notes/{owner_shared_note_id}",
        note="(shared with other, read)",
    ),
    Row(
        "PUT",
        "/api/v1/notes/{note_id}",
        OWNER_ONLY,
        path="/api/v1/notes/{owner_note_id}",
        body={"title": "renamed"},
    ),
    Row(
        "PUT",
        "/api/v1/notes/{note_id}",
        (401, 200, 403, 404, 404),
        path="/api/v1/notes/{owner_shared_note_id}",
        body={"title": "renamed"},
        note="(shared with other, read)",
    ),
    Row(
        "DELETE",
        "/api/v1/notes/{note_id}",
        (401, 204, 404, 404, 404),
        path="/api/v1/notes/{owner_note_id}",
    ),
    Row(
        "GET",
        "/api/v1/notes/{note_id}/shares",
        OWNER_ONLY,
        path="/api/v1/notes/{owner_note_id}/shares",
    ),
    Row(
        "POST",
        "/api/v1/notes/{note_id}/share",
        (401, 201, 404, 404, 404),
        path="/api/v1/notes/{owner_note_id}/share",
        body=lambda w: {"username": w.moderator.username, "permission": "edit"},
    ),
    Row(
        "DELETE",
        "/api/v1/notes/{note_id}/share/{user_id}",
        (401, 204, 403, 404, 404),
        path="/api/v1/notes/{owner_shared_note_id}/share/{other_id}",
    ),
    # --- notifications: your own -----------------------------------------------------------
    Row("GET", "/api/v1/notifications", SIGNED_IN),
    Row(
        "POST",
        "/api/v1/notifications/{notification_id}/read",
        OWNER_ONLY,
        path="/api/v1/notifications/{owner_notification_id}/read",
    ),
    Row("POST", "/api/v1/notifications/read-all", SIGNED_IN),
    # --- the session cookie (the web app): as the bearer token from this origin; a write from
    # --- another origin, or one that does not say where it comes from, is refused (403) --------
    Row("GET", "/api/v1/auth/me", SIGNED_IN, credentials=Credentials.COOKIE_NO_ORIGIN),
    Row("GET", "/api/v1/tasks", SIGNED_IN, credentials=Credentials.COOKIE_FOREIGN),
    Row("GET", "/api/v1/admin/users/stats", ADMINS, credentials=Credentials.COOKIE_NO_ORIGIN),
    Row(
        "GET",
        "/api/v1/notes/{note_id}",
        OWNER_ONLY,
        path="/api/v1/notes/{owner_note_id}",
        credentials=Credentials.COOKIE_FOREIGN,
    ),
    Row(
        "POST",
        "/api/v1/notes",
        (401, 201, 201, 201, 201),
        body={"title": "t", "content": "c"},
        credentials=Credentials.COOKIE,
    ),
    Row(
        "POST",
        "/api/v1/notes",
        (401, 201, 201, 201, 201),
        body={"title": "t", "content": "c"},
        credentials=Credentials.COOKIE_REFERER,
    ),
    Row(
        "POST",
        "/api/v1/notes",
        CROSS_SITE,
        body={"title": "t", "content": "c"},
        credentials=Credentials.COOKIE_FOREIGN,
    ),
    Row(
        "POST",
        "/api/v1/notes",
        CROSS_SITE,
        body={"title": "t", "content": "c"},
        credentials=Credentials.COOKIE_NO_ORIGIN,
    ),
    Row(
        "POST",
        "/api/v1/notes",
        (401, 201, 201, 201, 201),
        body={"title": "t", "content": "c"},
        credentials=Credentials.BOTH_FOREIGN,
        note="(the bearer token decides)",
    ),
    Row("PUT", "/api/v1/users/me/profile", SIGNED_IN, body={}, credentials=Credentials.COOKIE),
    Row(
        "PUT",
        "/api/v1/users/me/profile",
        CROSS_SITE,
        body={},
        credentials=Credentials.COOKIE_FOREIGN,
    ),
    Row(
        "DELETE",
        "/api/v1/notes/{note_id}",
        (401, 204, 404, 404, 404),
        path="/api/v1/notes/{owner_note_id}",
        credentials=Credentials.COOKIE,
    ),
    Row(
        "DELETE",
        "/api/v1/notes/{note_id}",
        CROSS_SITE,
        path="/api/v1/notes/{owner_note_id}",
        credentials=Credentials.COOKIE_FOREIGN,
        note="(refused before the note is looked up)",
    ),
    Row(
        "POST",
        "/api/v1/api-keys",
        SIGNED_IN,
        body={"name": "ci"},
        credentials=Credentials.COOKIE,
        note="(the cookie is a session)",
    ),
    Row(
        "PUT",
        "/api/v1/users/{user_id}/role",
        ADMINS,
        path="/api/v1/users/{owner_id}/role",
        body={"role": "moderator"},
        credentials=Credentials.COOKIE,
    ),
    Row(
        "PUT",
        "/api/v1/users/{user_id}/role",
        CROSS_SITE,
        path="/api/v1/users/{owner_id}/role",
        body={"role": "moderator"},
        credentials=Credentials.COOKIE_FOREIGN,
    ),
    Row("POST", "/api/v1/auth/logout", SIGNED_IN, credentials=Credentials.COOKIE),
    Row("POST", "/api/v1/auth/logout", CROSS_SITE, credentials=Credentials.COOKIE_NO_ORIGIN),
    Row("POST", "/api/v1/auth/refresh", SIGNED_IN, credentials=Credentials.COOKIE_REFERER),
]


@pytest.mark.parametrize("row", TABLE, ids=[row.id for row in TABLE])
async def test_authorization_table(
    row: Row, client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    # A spare admin, so no world's admin is ever "the last active admin".
    await make_user(session, username="spare-admin", role=Role.ADMIN)
    outcomes = {}
    own_origin = str(client.base_url).rstrip("/")
    for actor_name in ACTORS:
        world = await create_world(session, settings)
        actor = world.actor(actor_name)
        headers = row.credentials.headers(actor.token, own_origin)
        response = await client.request(
            row.method, row.url(world), json=row.json(world), headers=headers
        )
        outcomes[actor_name] = response.status_code
        if response.status_code >= 400:  # every refusal is the JSON envelope
            assert "error" in response.json(), response.text
    assert outcomes == dict(zip(ACTORS, row.expect, strict=True))


def test_every_endpoint_has_a_row(system: System) -> None:
    spec = app_of(system).openapi()
    endpoints = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
    }
    covered = {(row.method, row.template) for row in TABLE}
    assert endpoints - covered == set(), "endpoints without a row in the authorization table"
    assert covered - endpoints == set(), "rows for endpoints the app does not have"
