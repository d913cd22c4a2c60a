"""The tasks API's edges (issues #10 and #11): the reference system's payload shapes, who may
create which type, what `GET /tasks/types` shows to anyone, bounded request bodies, and
literal paths that are not task ids.

An API server without a worker is enough here: it registers the built-in types (with their
schemas) itself, and every check in this file happens when a task is created or read.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

import studypath.tasks.handlers  # noqa: F401  (registers the built-in task types)
from studypath.config import Settings
from studypath.core.db import Database
from studypath.core.validation import MAX_JSON_DEPTH
from studypath.identity.roles import Role
from studypath.tasks.handlers import builtin_registry
from studypath.tasks.registry import MIN_ROLE_KEY, TaskSpec, required_role
from studypath.testing.factories import DEFAULT_PASSWORD, make_task_type, make_user
from studypath.testing.server import app_of, client_for, running_system

pytestmark = pytest.mark.timeout(60)


@dataclass
class Api:
    client: httpx.AsyncClient
    session: AsyncSession
    db: Database

    async def sign_in(
        self, username: str, role: Role = Role.USER, email: str | None = None
    ) -> dict[str, str]:
        await make_user(self.session, username=username, role=role, email=email)
        response = await self.client.post(
            "/api/v1/auth/login", json={"username": username, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['data']['session_token']}"}

    async def create(
        self, headers: dict[str, str], task_type: str, payload: Any, **fields: Any
    ) -> httpx.Response:
        body = {"task_type": task_type, "payload": payload, **fields}
        return await self.client.post("/api/v1/tasks", json=body, headers=headers)

    async def count_tasks(self) -> int:
        async with self.db.engine.connect() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM tasks"))).scalar_one())


@pytest.fixture
def api(client: httpx.AsyncClient, session: AsyncSession, db: Database) -> Api:
    return Api(client, session, db)


def error_fields(response: httpx.Response) -> list[str]:
    return [detail["field"] for detail in response.json()["error"].get("details") or []]


# =========================================================================== item 1: shapes
# Each built-in type as the reference system's clients send it (its test script and tests).
REFERENCE_PAYLOADS: dict[str, dict[str, Any]] = {
    "email": {"to": "test@example.com", "subject": "Test Email", "body": "Hello from API test"},
    "data_processing": {"operation": "sum", "data": [1, 2, 3, 4, 5]},
    "webhook": {"url": "https://httpbin.org/post", "method": "POST", "payload": {"test": "data"}},
    "file_cleanup": {"file_path": "/tmp/test", "max_age_hours": 24},
    "report_generation": {
        "report_type": "tasks",
        "start_date": "2024-01-01",
        "end_date": "2024-01-31",
        "format": "pdf",
    },
    "delay_task": {"delay_seconds": 1, "task_id": "chaos_1", "test_scenario": "metadata_test"},
}
# ... and as studypath's own clients do.
OWN_PAYLOADS: dict[str, dict[str, Any]] = {
    "email": {"to": ["a@example.com", "b@example.com"], "subject": "S", "body": "B"},
    "data_processing": {"data": [1, 2.5], "operations": ["mean", "max"]},
    "webhook": {"url": "https://example.com/hook", "json": {"a": 1}, "timeout_seconds": 5.0},
    "file_cleanup": {"path": "reports", "max_age_days": 30, "pattern": "*.csv"},
    "report_generation": {"start": "2024-05-01", "end": "2024-05-31", "format": "markdown"},
    "delay_task": {"delay_seconds": 0.5},
}


@pytest.mark.parametrize("shapes", [REFERENCE_PAYLOADS, OWN_PAYLOADS], ids=["reference", "own"])
async def test_builtin_types_accept_the_reference_and_own_payload_shapes(
    api: Api, shapes: dict[str, dict[str, Any]]
) -> None:
    admin = await api.sign_in("root", Role.ADMIN)  # file_cleanup is for admins (item 2)

    for task_type, payload in shapes.items():
        response = await api.create(admin, task_type, payload)
        assert response.status_code == 200, (task_type, response.text)
        assert response.json()["data"]["payload"] == payload

    assert await api.count_tasks() == len(shapes)


@pytest.mark.parametrize(
    ("task_type", "payload", "field"),
    [
        ("data_processing", {"operation": "median", "data": [1]}, "payload.operation"),
        ("data_processing", {"operation": "sum", "data": [1, "2"]}, "payload.data[1]"),
        ("data_processing", {"operation": "sum", "operations": ["sum"], "data": [1]}, "payload"),
        ("webhook", {"url": "https://example.com", "payload": {}, "json": {}}, "payload"),
        (
            "webhook",
            {"url": "https://example.com", "method": "TRACE", "payload": {}},
            "payload.method",
        ),
        ("file_cleanup", {"file_path": "logs", "max_age_hours": -1}, "payload.max_age_hours"),
        ("file_cleanup", {"file_path": "logs", "max_age_hours": "24"}, "payload.max_age_hours"),
        (
            "report_generation",
            {"report_type": "tasks", "start_date": "2024-01-01", "end_date": "x", "format": "doc"},
            "payload.format",
        ),
        ("delay_task", {"delay_seconds": "1"}, "payload.delay_seconds"),
    ],
)
async def test_a_bad_payload_in_either_shape_names_the_field_of_that_shape(
    api: Api, task_type: str, payload: dict[str, Any], field: str
) -> None:
    admin = await api.sign_in("root", Role.ADMIN)

    response = await api.create(admin, task_type, payload)

    assert response.status_code == 400, response.text
    assert any(name.startswith(field) for name in error_fields(response)), response.text
    assert await api.count_tasks() == 0


async def test_other_report_types_are_accepted_as_the_reference_does(api: Api) -> None:
    user = await api.sign_in("ann")
    sales = dict(REFERENCE_PAYLOADS["report_generation"], report_type="sales")

    response = await api.create(user, "report_generation", sales)

    assert response.status_code == 200, response.text  # and fails when it runs (test_handlers)


async def test_task_types_show_each_accepted_shape(api: Api) -> None:
    listed = (await api.client.get("/api/v1/tasks/types")).json()["data"]
    schemas = {entry["task_type"]: entry["payload_schema"] for entry in listed}

    shapes = {
        "data_processing": ("operation", "SingleOperationPayload", "StatisticsPayload"),
        "webhook": ("payload", "ReferenceWebhookPayload", "WebhookPayload"),
        "file_cleanup": ("file_path", "ReferenceCleanupPayload", "FileCleanupPayload"),
        "report_generation": ("report_type", "ReferenceReportPayload", "ReportPayload"),
    }
    for task_type, (key, reference, own) in shapes.items():
        schema = schemas[task_type]
        assert schema["if"] == {"required": [key]}, task_type
        assert schema["then"] == {"$ref": f"#/$defs/{reference}"}
        assert schema["else"] == {"$ref": f"#/$defs/{own}"}
        assert {reference, own} <= set(schema["$defs"])
    report = schemas["report_generation"]["$defs"]
    assert report["ReportPayload"]["properties"]["format"]["enum"] == ["csv", "markdown", "pdf"]
    assert "pdf" in schemas["report_generation"]["description"]
    delay = schemas["delay_task"]["properties"]
    assert {"delay_seconds", "deadline", "task_id", "test_scenario"} <= set(delay)
    assert delay["delay_seconds"]["type"] == "number"  # an integer is a number too


# =========================================================================== item 2: roles
@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.USER, 403), (Role.MODERATOR, 403), (Role.ADMIN, 200)],
)
async def test_file_cleanup_is_admin_only_in_both_shapes(api: Api, role: Role, status: int) -> None:
    headers = await api.sign_in("someone", role)

    for payload in (REFERENCE_PAYLOADS["file_cleanup"], OWN_PAYLOADS["file_cleanup"]):
        response = await api.create(headers, "file_cleanup", payload)
        assert response.status_code == status, response.text
        if status == 403:
            assert "admin" in response.json()["error"]["message"]
            assert error_fields(response) == ["task_type"]
    assert await api.count_tasks() == (2 if status == 200 else 0)


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.USER, 403), (Role.MODERATOR, 403), (Role.ADMIN, 200)],
)
async def test_a_user_cannot_forge_a_share_notification_through_the_api(
    api: Api, role: Role, status: int
) -> None:
    """The notes feature queues `notification` tasks itself; its payload names any
    recipient, so through the API only an admin may queue one."""
    headers = await api.sign_in("forger", role)
    payload = {
        "recipient_id": str(uuid.uuid4()),
        "note_id": str(uuid.uuid4()),
        "share_id": str(uuid.uuid4()),
        "shared_by": str(uuid.uuid4()),
        "permission": "read",
        "title": "Quarterly plans",
    }

    response = await api.create(headers, "notification", payload)

    assert response.status_code == status, response.text
    assert await api.count_tasks() == (1 if status == 200 else 0)


async def test_task_types_show_each_types_minimum_role(api: Api) -> None:
    listed = (await api.client.get("/api/v1/tasks/types")).json()["data"]
    roles = {entry["task_type"]: entry["min_role"] for entry in listed}

    assert roles["file_cleanup"] == "admin"
    assert {roles[name] for name in OWN_PAYLOADS if name != "file_cleanup"} == {"user"}
    schema = next(e["payload_schema"] for e in listed if e["task_type"] == "file_cleanup")
    assert schema[MIN_ROLE_KEY] == "admin"


def test_the_minimum_role_is_the_stricter_of_the_handler_and_the_stored_schema() -> None:
    cleanup = builtin_registry().get("file_cleanup")
    assert cleanup is not None

    assert required_role(None, None) is Role.USER  # a type nobody said anything about
    assert required_role(cleanup, None) is Role.ADMIN  # registered by name only: built-in rule
    assert required_role(cleanup, {MIN_ROLE_KEY: "user"}) is Role.ADMIN  # never weakened
    assert required_role(None, {MIN_ROLE_KEY: "moderator"}) is Role.MODERATOR  # a worker's own
    assert required_role(None, {MIN_ROLE_KEY: "owner"}) is Role.ADMIN  # unknown: the strictest


async def test_file_cleanup_registered_by_name_only_is_still_admin_only(api: Api) -> None:
    """The reference's script registers types by name when no worker did; the built-in
    rule holds even though the stored row then has no schema."""
    await api.session.execute(text("UPDATE task_types SET payload_schema = NULL"))
    await api.session.commit()
    user = await api.sign_in("ann")

    response = await api.create(user, "file_cleanup", {"file_path": "x"})
    listed = (await api.client.get("/api/v1/tasks/types")).json()["data"]

    assert response.status_code == 403, response.text
    assert {e["task_type"]: e["min_role"] for e in listed}["file_cleanup"] == "admin"


async def test_email_rules_for_users_bound_recipients_and_sender(api: Api) -> None:
    ann = await api.sign_in("ann", email="ann@example.com")
    ten = [f"r{n}@example.com" for n in range(10)]
    base = {"subject": "S", "body": "B"}

    own_sender = await api.create(ann, "email", {**base, "to": ten, "from": "ANN@example.com"})
    system_sender = await api.create(ann, "email", {**base, "to": "x@example.com"})
    too_many = await api.create(ann, "email", {**base, "to": [*ten, "r10@example.com"]})
    other_sender = await api.create(
        ann, "email", {**base, "to": "x@example.com", "from": "ceo@example.com"}
    )

    assert (own_sender.status_code, system_sender.status_code) == (200, 200)
    assert too_many.status_code == 403
    assert error_fields(too_many) == ["payload.to"]
    assert "at most 10" in too_many.json()["error"]["message"]
    assert other_sender.status_code == 403
    assert error_fields(other_sender) == ["payload.from"]
    assert "ann@example.com" in other_sender.json()["error"]["message"]
    assert await api.count_tasks() == 2


async def test_email_rules_let_staff_send_widely(api: Api) -> None:
    moderator = await api.sign_in("mo", Role.MODERATOR)
    hundred = [f"r{n}@example.com" for n in range(100)]

    response = await api.create(
        moderator, "email", {"to": hundred, "from": "news@example.com", "subject": "S", "body": "B"}
    )

    assert response.status_code == 200, response.text


async def test_email_schema_documents_the_rules_for_users(api: Api) -> None:
    listed = (await api.client.get("/api/v1/tasks/types")).json()["data"]
    schema = next(e["payload_schema"] for e in listed if e["task_type"] == "email")

    assert "at most 10" in schema["description"] and "own address" in schema["description"]


# =========================================================================== item 3: public
async def test_task_types_are_public_and_name_no_machine(settings: Settings, db: Database) -> None:
    async with running_system(settings, workers=1) as system, client_for(system) as client:
        response = await client.get("/api/v1/tasks/types")  # no token
        openapi = app_of(system).openapi()
        async with db.engine.connect() as conn:
            workers = (await conn.execute(text("SELECT id, hostname, pid FROM workers"))).all()

    assert response.status_code == 200
    assert workers, "the worker registered itself"
    listed = response.json()["data"]
    keys = {key for entry in listed for key in entry}
    assert keys.isdisjoint({"hostname", "pid", "workers", "worker_id"})
    shown = response.text
    for worker_id, hostname, pid in workers:
        assert worker_id not in shown and hostname not in shown and f"{pid}" not in shown
    assert socket.gethostname() not in shown and str(os.getpid()) not in shown
    description = openapi["paths"]["/api/v1/tasks/types"]["get"]["description"]
    assert "public documentation" in description and "No sign-in" in description


# =========================================================================== item 5: bodies
def nested(depth: int) -> dict[str, Any]:
    """An object `depth` levels deep: {"d": {"d": … {}}}."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"d": value}
    return value


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"payload": nested(MAX_JSON_DEPTH + 1)}, "payload"),
        ({"metadata": nested(MAX_JSON_DEPTH + 1)}, "metadata"),
        ({"metadata": {"m": "x" * (64 * 1024)}}, "metadata"),
        ({"payload": {"tag": "x" * (1024 * 1024)}}, "payload"),
        ({"payload": {"tag": "nul \u0000 byte"}}, "payload"),
        ({"metadata": {"key \u0000": 1}}, "metadata"),
        ({"task_type": "authz\u0000probe"}, "task_type"),
        ({"max_attempts": 101}, "max_attempts"),
        ({"max_attempts": 10**30}, "max_attempts"),
        ({"retry_strategy": {"type": "fixed", "base_delay_seconds": 1e300}}, "retry_strategy"),
    ],
    ids=[
        "payload-depth",
        "metadata-depth",
        "metadata-size",
        "payload-size",
        "payload-nul",
        "metadata-key-nul",
        "type-nul",
        "attempts",
        "attempts-huge",
        "strategy-delay",
    ],
)
async def test_task_bodies_refuse_unbounded_or_unstorable_values_with_400(
    api: Api, body: dict[str, Any], field: str
) -> None:
    await make_task_type(api.session, "anything")
    user = await api.sign_in("ann")

    response = await api.client.post(
        "/api/v1/tasks", json={"task_type": "anything", "payload": {}, **body}, headers=user
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"
    assert any(name.startswith(field) for name in error_fields(response)), response.text
    assert await api.count_tasks() == 0


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("where", ["payload", "metadata"])
async def test_task_bodies_refuse_nan_and_infinity(api: Api, number: str, where: str) -> None:
    await make_task_type(api.session, "anything")
    user = await api.sign_in("ann")
    other = "metadata" if where == "payload" else "payload"
    raw = f'{{"task_type": "anything", "{where}": {{"x": {number}}}, "{other}": {{}}}}'

    response = await api.client.post(
        "/api/v1/tasks", content=raw, headers={**user, "Content-Type": "application/json"}
    )

    assert response.status_code == 400, response.text
    assert any(name.startswith(where) for name in error_fields(response)), response.text
    assert await api.count_tasks() == 0


async def test_task_list_filter_refuses_nul_and_overlong_type_names(api: Api) -> None:
    user = await api.sign_in("ann")

    nul = await api.client.get("/api/v1/tasks", params={"task_type": "a\u0000b"}, headers=user)
    long = await api.client.get("/api/v1/tasks", params={"task_type": "x" * 129}, headers=user)

    assert (nul.status_code, long.status_code) == (400, 400)
    assert "task_type" in str(nul.json()["error"]) and "task_type" in str(long.json()["error"])


def worst_allowed_payload() -> dict[str, Any]:
    """Everything the limits allow at once: 16 levels deep, close to 1 MiB, numbers at the
    edges of JSON, every kind of text PostgreSQL and UTF-8 can hold."""
    # Numbers that survive PostgreSQL's numeric as they are (a float like 1e308 comes back as
    # the integer it equals in decimal: equal in JSON, not in Python).
    deepest: Any = {"edge": [10**300, -(10**300), 0.1, 1.5e-10, 5e-324, -0.0, 0]}
    for level in range(MAX_JSON_DEPTH - 3):  # payload, 13 levels, edge, its list: 16
        deepest = {f"level{level}": deepest}
    awkward = 'é😀\u2028\u2029\t"\\ </script> \u00a0\uffff'
    payload = {
        "deep": deepest,
        "awkward": awkward,
        "keys": {awkward: True, "": None, "null": "null"},
    }
    size = len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    payload["filler"] = "x" * (1024 * 1024 - size - 64)
    return payload


async def test_the_worst_allowed_payload_round_trips_through_every_listing(api: Api) -> None:
    await make_task_type(api.session, "anything")
    user = await api.sign_in("ann")
    moderator = await api.sign_in("mo", Role.MODERATOR)
    payload = worst_allowed_payload()
    metadata = {"deep": nested(MAX_JSON_DEPTH - 1), "awkward": payload["awkward"]}

    created = await api.create(user, "anything", payload, metadata=metadata)
    assert created.status_code == 200, created.text[:500]
    task_id = created.json()["data"]["id"]

    answers = [
        await api.client.get("/api/v1/tasks", headers=user),
        await api.client.get("/api/v1/tasks", headers=moderator),
        await api.client.get("/api/v1/tasks?task_type=anything", headers=user),
        await api.client.get(f"/api/v1/tasks/{task_id}", headers=user),
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 200]
    for answer in answers[:3]:
        [task] = answer.json()["data"]
        assert task["payload"] == payload and task["metadata"] == metadata
    assert answers[3].json()["data"]["payload"] == payload
    cancelled = await api.client.post(f"/api/v1/tasks/{task_id}/cancel", headers=user)
    dead = await api.client.get("/api/v1/tasks/dead-letter", headers=moderator)
    assert (cancelled.status_code, dead.status_code) == (200, 200)


# =========================================================================== item 6: paths
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/tasks/stats", {"GET"}),
        ("POST", "/api/v1/tasks/stats", {"GET"}),
        ("DELETE", "/api/v1/tasks/dead-letter", {"GET"}),
        # GET and POST /types are two routes; Starlette's 405 names the first one's methods
        # (a complete Allow for such paths is the app-wide 405 handler's job).
        ("DELETE", "/api/v1/tasks/types", {"GET"}),
        ("PUT", "/api/v1/tasks/types", {"GET"}),
    ],
)
async def test_literal_task_paths_answer_405_with_allow(
    api: Api, method: str, path: str, allowed: set[str]
) -> None:
    """Task ids are UUIDs in the route (`{task_id:uuid}`), so `DELETE /tasks/stats` reaches
    the route that owns `/stats` instead of failing to parse "stats" as an id (422)."""
    admin = await api.sign_in("root", Role.ADMIN)

    response = await api.client.request(method, path, headers=admin)

    assert response.status_code == 405, response.text
    assert allowed <= {name.strip() for name in response.headers["allow"].split(",")}
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


async def test_a_task_path_that_is_no_uuid_is_not_found(api: Api) -> None:
    user = await api.sign_in("ann")

    for method, path in [
        ("GET", "/api/v1/tasks/not-a-uuid"),
        ("POST", "/api/v1/tasks/123/cancel"),
        ("DELETE", "/api/v1/tasks/me"),
    ]:
        response = await api.client.request(method, path, headers=user)
        assert response.status_code in (404, 405), (method, path, response.text)
        assert response.status_code != 422


# =========================================================================== item 7: LIKE
async def test_task_type_filter_is_literal_not_a_pattern(api: Api) -> None:
    """The filter is an equality, so `%` and `_` match only themselves (no LIKE to escape)."""
    for name in ("a_b", "axb"):
        await make_task_type(api.session, name)
    user = await api.sign_in("ann")
    for name in ("a_b", "axb"):
        assert (await api.create(user, name, {})).status_code == 200

    def listed(response: httpx.Response) -> list[str]:
        return [task["task_type"] for task in response.json()["data"]]

    exact = await api.client.get("/api/v1/tasks", params={"task_type": "a_b"}, headers=user)
    percent = await api.client.get("/api/v1/tasks", params={"task_type": "%"}, headers=user)

    assert listed(exact) == ["a_b"]
    assert listed(percent) == []


def test_every_builtin_type_has_a_schema_with_its_minimum_role() -> None:
    specs: list[TaskSpec] = builtin_registry().specs()
    for spec in specs:
        schema = spec.payload_schema()
        assert schema is not None and schema[MIN_ROLE_KEY] == spec.min_role.value, spec.name
    assert {spec.name for spec in specs} >= set(OWN_PAYLOADS)


@pytest.mark.parametrize(
    "fields",
    [{"max_attempts": True}, {"max_attempts": "3"}, {"scheduled_at": 1893456000}],
    ids=["bool-attempts", "text-attempts", "numeric-time"],
)
async def test_task_numbers_and_times_keep_their_json_types(
    api: Api, fields: dict[str, Any]
) -> None:
    """Lax pydantic read `true` as 1, `"3"` as 3 and a number as a Unix time; the schema says
    integer and date-time, so these are 422 and nothing is queued."""
    alice = await api.sign_in("alice")
    response = await api.create(alice, "delay_task", {"delay_seconds": 0}, **fields)
    assert response.status_code == 422, response.text
    assert error_fields(response) == list(fields)
    assert await api.count_tasks() == 0
