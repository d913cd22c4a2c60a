"""Monitoring: events and tag filters, stored metrics, the Prometheus page, alerts that fire
and resolve, incidents and their timelines, retention."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.config import Settings
from studypath.core.clock import utcnow
from studypath.core.db import Database
from studypath.monitoring.alerts import evaluate_all
from studypath.monitoring.models import Alert, Event, Incident, Metric
from studypath.monitoring.retention import delete_old_rows
from studypath.rbac.roles import Role
from tests.factories import DEFAULT_PASSWORD, create_user
from tests.helpers import client_for, running_system
from tests.tasking import wait_until

Headers = dict[str, str]


async def sign_in(
    client: httpx.AsyncClient, session: AsyncSession, username: str, role: Role = Role.USER
) -> Headers:
    await create_user(session, username=username, role=role)
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": DEFAULT_PASSWORD}
    )
    return {"Authorization": f"Bearer {response.json()['data']['session_token']}"}


@pytest.fixture
async def people(client: httpx.AsyncClient, session: AsyncSession) -> dict[str, Headers]:
    return {
        "alice": await sign_in(client, session, "alice"),
        "bob": await sign_in(client, session, "bob"),
        "mod": await sign_in(client, session, "mod", Role.MODERATOR),
    }


async def post(
    client: httpx.AsyncClient, path: str, headers: Headers, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"/api/v1/monitoring/{path}", json=body, headers=headers)


# --- events -----------------------------------------------------------------------------------
async def test_event_sources_users_may_write(
    client: httpx.AsyncClient, people: dict[str, Headers]
) -> None:
    outcomes = {}
    for source in (
        "user:alice",
        "user:alice/checkout",
        "client",
        "frontend",
        "user:bob",
        "alerts",
        "system",
        "payments",
    ):
        response = await post(
            client,
            "events",
            people["alice"],
            {"event_type": "log", "source": source, "message": "m"},
        )
        outcomes[source] = response.status_code
    assert outcomes == {
        "user:alice": 200,
        "user:alice/checkout": 200,
        "client": 200,
        "frontend": 200,
        "user:bob": 403,
        "alerts": 403,
        "system": 403,
        "payments": 403,
    }
    staff = await post(client, "events", people["mod"], {"event_type": "log", "source": "payments"})
    assert staff.status_code == 200


async def test_events_filter_by_tags_level_source_and_time(
    client: httpx.AsyncClient, people: dict[str, Headers]
) -> None:
    alice = people["alice"]
    for tags, level in (
        ({"env": "prod", "team": "search"}, "error"),
        ({"env": "prod", "team": "ads"}, "info"),
        ({"env": "dev", "count": 3}, "info"),
    ):
        await post(
            client,
            "events",
            alice,
            {"event_type": "log", "source": "client", "level": level, "tags": tags},
        )

    async def listed(query: str) -> list[dict[str, Any]]:
        response = await client.get(f"/api/v1/monitoring/events?{query}", headers=alice)
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    assert len(await listed("tags=env:prod")) == 2
    assert [e["tags"]["team"] for e in await listed("tags=env:prod,team:ads")] == ["ads"]
    assert len(await listed("tags=count:3")) == 1  # numbers match by their text
    assert len(await listed("level=error")) == 1
    assert len(await listed("source=client&event_type=log")) == 3
    future = (utcnow() + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert await listed(f"start_time={future}") == []


@pytest.mark.parametrize("bad", ["env", "env:", ":prod", "env:prod,,", "a:1,a:2", "k:v," * 21])
async def test_malformed_tag_filter_is_400(
    client: httpx.AsyncClient, people: dict[str, Headers], bad: str
) -> None:
    response = await client.get(
        "/api/v1/monitoring/events", params={"tags": bad}, headers=people["alice"]
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"


async def test_users_see_their_own_events_staff_see_all(
    client: httpx.AsyncClient, people: dict[str, Headers]
) -> None:
    mine = (
        await post(client, "events", people["alice"], {"event_type": "log", "source": "client"})
    ).json()
    await post(client, "events", people["bob"], {"event_type": "log", "source": "client"})
    alice_list = await client.get("/api/v1/monitoring/events", headers=people["alice"])
    mod_list = await client.get("/api/v1/monitoring/events", headers=people["mod"])
    assert alice_list.headers["x-total-count"] == "1"
    assert mod_list.headers["x-total-count"] == "2"
    other = await client.get(
        f"/api/v1/monitoring/events/{mine['data']['id']}", headers=people["bob"]
    )
    assert other.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"event_type": "gossip", "source": "client"},
        {"event_type": "log", "source": "has space"},
        {"event_type": "log", "source": "client", "tags": {f"k{i}": i for i in range(21)}},
        {"event_type": "log", "source": "client", "tags": {"bad key!": 1}},
        {"event_type": "log", "source": "client", "payload": {"x": "y" * 70_000}},
        {"event_type": "log", "source": "client", "message": "m" * 10_001},
    ],
    ids=["type", "source", "too-many-tags", "tag-key", "payload-size", "message-size"],
)
async def test_event_validation(
    client: httpx.AsyncClient,
    people: dict[str, Headers],
    body: dict[str, Any],
    session: AsyncSession,
) -> None:
    response = await post(client, "events", people["alice"], body)
    assert response.status_code == 422, response.text
    assert await session.scalar(select(func.count()).select_from(Event)) == 0


# --- stored metrics ---------------------------------------------------------------------------
async def test_metric_name_rules(client: httpx.AsyncClient, people: dict[str, Headers]) -> None:
    def body(name: str) -> dict[str, Any]:
        return {"name": name, "metric_type": "gauge", "value": 1.5}

    outcomes = {
        name: (await post(client, "metrics", people["alice"], body(name))).status_code
        for name in (
            "user_alice_cart_size",
            "client_page_load_seconds",
            "user_bob_x",
            "orders_total",
            "studypath_tasks_created",
            "process_open_fds",
            "bad-name",
            "9lives",
        )
    }
    assert outcomes == {
        "user_alice_cart_size": 200,
        "client_page_load_seconds": 200,
        "user_bob_x": 403,
        "orders_total": 403,
        "studypath_tasks_created": 403,
        "process_open_fds": 403,
        "bad-name": 422,
        "9lives": 422,
    }
    assert (await post(client, "metrics", people["mod"], body("orders_total"))).status_code == 200
    reserved = await post(client, "metrics", people["mod"], body("process_open_fds"))
    assert reserved.status_code == 403  # the process's own family: the page would break


@pytest.mark.parametrize(
    "extra",
    [
        {"labels": {"__name__": "x"}},
        {"labels": {"bad-label": "x"}},
        {"value": "lots"},
        {"metric_type": "meter"},
        {"labels": {"k": "v" * 201}},
    ],
    ids=["reserved-label", "label-name", "value", "type", "label-value"],
)
async def test_metric_validation(
    client: httpx.AsyncClient, people: dict[str, Headers], extra: dict[str, Any]
) -> None:
    body = {"name": "client_x", "metric_type": "gauge", "value": 1, **extra}
    assert (await post(client, "metrics", people["alice"], body)).status_code == 422


async def test_infinite_value_is_rejected(
    client: httpx.AsyncClient, people: dict[str, Headers]
) -> None:
    response = await client.post(
        "/api/v1/monitoring/metrics",
        headers={**people["alice"], "content-type": "application/json"},
        content=b'{"name": "client_x", "metric_type": "gauge", "value": 1e999}',
    )
    assert response.status_code == 422


# --- the Prometheus page ----------------------------------------------------------------------
async def test_prometheus_page_parses_and_has_http_task_and_stored_families(
    client: httpx.AsyncClient, people: dict[str, Headers]
) -> None:
    mod = people["mod"]
    await client.get("/api/v1/tasks/00000000-0000-4000-8000-000000000000", headers=mod)
    await client.get("/api/v1/nope")
    for value in (0.02, 0.3, 4.0):
        await post(
            client,
            "metrics",
            mod,
            {
                "name": "checkout_seconds",
                "metric_type": "histogram",
                "value": value,
                "labels": {"shop": "eu"},
            },
        )
    for value in (3, 7):
        await post(
            client,
            "metrics",
            mod,
            {
                "name": "queue_size",
                "metric_type": "gauge",
                "value": value,
                "labels": {"queue": "mail"},
            },
        )
    await post(client, "metrics", mod, {"name": "orders", "metric_type": "counter", "value": 12})

    response = await client.get("/api/v1/monitoring/metrics/prometheus")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(response.text)}

    http = families["studypath_http_requests"]
    routes = {sample.labels["route"] for sample in http.samples}
    assert "/api/v1/tasks/{task_id}" in routes  # templates, never raw ids
    assert "<unknown api route>" in routes
    assert not any("00000000" in route for route in routes)
    assert {
        "studypath_http_request_duration_seconds",
        "studypath_http_requests_in_flight",
        "studypath_queue_depth",
        "studypath_db_pool_connections",
        "studypath_tasks_created",
    } <= set(families)
    assert any(name.startswith("process_") for name in families)

    gauge = [s for s in families["queue_size"].samples if s.labels == {"queue": "mail"}]
    assert [s.value for s in gauge] == [7.0]  # the latest sample
    histogram = {
        s.name + repr(sorted(s.labels.items())): s.value
        for s in families["checkout_seconds"].samples
    }
    assert histogram["checkout_seconds_count[('shop', 'eu')]"] == 3
    assert histogram["checkout_seconds_bucket[('le', '0.025'), ('shop', 'eu')]"] == 1
    assert histogram["checkout_seconds_bucket[('le', '0.5'), ('shop', 'eu')]"] == 2
    assert histogram["checkout_seconds_sum[('shop', 'eu')]"] == pytest.approx(4.32)
    assert families["orders"].type == "counter"


# --- alerts -----------------------------------------------------------------------------------
async def add_sample(
    db: Database, name: str, value: float, ago: float = 0.0, labels: dict[str, str] | None = None
) -> None:
    async with db.sessionmaker() as session:
        session.add(
            Metric(
                name=name,
                metric_type="gauge",
                value=value,
                labels=labels or {},
                recorded_at=utcnow() - timedelta(seconds=ago),
            )
        )
        await session.commit()


async def make_alert(db: Database, **rule: Any) -> Alert:
    async with db.sessionmaker() as session:
        alert = Alert(
            **{
                "name": "slow checkout",
                "metric_name": "latency",
                "threshold": 1.0,
                "window_seconds": 60,
                **rule,
            }
        )
        session.add(alert)
        await session.commit()
        return alert


async def alert_events(db: Database, alert: Alert) -> list[str]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT tags->>'status' FROM events WHERE tags->>'alert_id' = :id "
                "AND source = 'alerts' ORDER BY recorded_at"
            ),
            {"id": str(alert.id)},
        )
        return [row[0] for row in rows]


async def status_of(db: Database, alert: Alert) -> str:
    async with db.engine.connect() as conn:
        return str(
            (
                await conn.execute(
                    text("SELECT status FROM alerts WHERE id = :id"), {"id": alert.id}
                )
            ).scalar_one()
        )


async def test_alert_fires_and_resolves_as_the_metric_crosses(db: Database) -> None:
    alert = await make_alert(db, aggregation="max", window_seconds=2)
    await add_sample(db, "latency", 0.5)
    await evaluate_all(db)
    assert await status_of(db, alert) == "ok"

    await add_sample(db, "latency", 3.0)
    await evaluate_all(db)
    assert await status_of(db, alert) == "firing"

    await asyncio.sleep(2.1)  # the high sample leaves the window
    await add_sample(db, "latency", 0.2)
    await evaluate_all(db)
    assert await status_of(db, alert) == "resolved"
    assert await alert_events(db, alert) == ["firing", "resolved"]


async def test_for_duration_holds_in_pending_first(db: Database) -> None:
    alert = await make_alert(db, for_seconds=1)
    await add_sample(db, "latency", 5.0)
    await evaluate_all(db)
    assert await status_of(db, alert) == "pending"
    await evaluate_all(db)
    assert await status_of(db, alert) == "pending"  # not held long enough yet
    await asyncio.sleep(1.05)
    await evaluate_all(db)
    assert await status_of(db, alert) == "firing"
    assert await alert_events(db, alert) == ["pending", "firing"]


async def test_pending_that_clears_goes_back_to_ok(db: Database) -> None:
    alert = await make_alert(db, for_seconds=60, window_seconds=1)
    await add_sample(db, "latency", 5.0)
    await evaluate_all(db)
    await asyncio.sleep(1.1)
    await evaluate_all(db)
    assert await alert_events(db, alert) == ["pending", "ok"]


@pytest.mark.parametrize(
    ("aggregation", "comparator", "threshold", "fires"),
    [
        ("avg", ">", 4.9, True),
        ("avg", ">", 5.1, False),
        ("min", ">=", 2, True),
        ("sum", "==", 15, True),
        ("count", "<", 3, False),
        ("rate", ">", 0.5, True),
        ("max", "!=", 8, False),
    ],
)
async def test_aggregations(
    db: Database, aggregation: str, comparator: str, threshold: float, fires: bool
) -> None:
    for value, ago in ((2.0, 4.0), (5.0, 2.0), (8.0, 0.0)):  # rate: (8 - 2) / 4 s = 1.5/s
        await add_sample(db, "latency", value, ago=ago, labels={"shop": "eu"})
    await add_sample(db, "latency", 100.0, labels={"shop": "us"})  # other labels: ignored
    alert = await make_alert(
        db,
        aggregation=aggregation,
        comparator=comparator,
        threshold=threshold,
        label_match={"shop": "eu"},
    )
    await evaluate_all(db)
    assert (await status_of(db, alert) == "firing") is fires


async def test_firing_alert_opens_one_incident(db: Database) -> None:
    alert = await make_alert(db, opens_incident=True, severity="high", window_seconds=1)
    for _ in range(2):  # two firing periods while the incident is still open
        await add_sample(db, "latency", 9.0)
        await evaluate_all(db)
        await asyncio.sleep(1.1)
        await evaluate_all(db)
    async with db.sessionmaker() as session:
        incidents = list(await session.scalars(select(Incident)))
    assert len(incidents) == 1
    assert incidents[0].alert_id == alert.id
    assert incidents[0].severity.value == "high"
    assert await alert_events(db, alert) == ["firing", "resolved", "firing", "resolved"]


async def test_the_server_evaluates_alerts_by_itself(
    settings: Settings, session: AsyncSession
) -> None:
    fast = settings.model_copy(update={"alert_evaluation_seconds": 0.1})
    async with running_system(fast) as system, client_for(system) as client:
        mod = await sign_in(client, session, "mod", Role.MODERATOR)
        alert = (
            await post(
                client,
                "alerts",
                mod,
                {
                    "name": "too many orders",
                    "metric_name": "orders_per_minute",
                    "threshold": 100,
                    "aggregation": "max",
                    "window_seconds": 60,
                },
            )
        ).json()["data"]
        await post(
            client,
            "metrics",
            mod,
            {"name": "orders_per_minute", "metric_type": "gauge", "value": 250},
        )

        async def firing() -> bool:
            got = await client.get(f"/api/v1/monitoring/alerts/{alert['id']}", headers=mod)
            return bool(got.json()["data"]["status"] == "firing")

        await wait_until(firing, within=5)
        data = (await client.get(f"/api/v1/monitoring/alerts/{alert['id']}", headers=mod)).json()[
            "data"
        ]
        assert data["last_value"] == 250
        assert data["triggered_at"] is not None


# --- incidents --------------------------------------------------------------------------------
async def test_incident_lifecycle_and_timeline(
    client: httpx.AsyncClient, people: dict[str, Headers], session: AsyncSession
) -> None:
    opened = (
        await post(
            client, "incidents", people["alice"], {"title": "checkout errors", "severity": "high"}
        )
    ).json()["data"]
    iid = opened["id"]
    assert opened["status"] == "open"

    by_other = await client.put(
        f"/api/v1/monitoring/incidents/{iid}", headers=people["bob"], json={"status": "closed"}
    )
    assign_self = await client.put(
        f"/api/v1/monitoring/incidents/{iid}",
        headers=people["alice"],
        json={"assigned_to": opened["created_by"]},
    )
    assert (by_other.status_code, assign_self.status_code) == (403, 403)

    mod_id = await session.scalar(text("SELECT id FROM users WHERE username = 'mod'"))
    await client.put(
        f"/api/v1/monitoring/incidents/{iid}",
        headers=people["mod"],
        json={"status": "investigating", "assigned_to": str(mod_id)},
    )
    resolved = await client.put(
        f"/api/v1/monitoring/incidents/{iid}",
        headers=people["alice"],
        json={"status": "resolved", "root_cause": "expired TLS cert"},
    )
    assert resolved.json()["data"]["resolved_at"] is not None

    timeline = (
        await client.get(f"/api/v1/monitoring/incidents/{iid}/timeline", headers=people["bob"])
    ).json()["data"]
    messages = [event["message"] for event in timeline]
    assert messages[0] == "incident opened: checkout errors"
    assert "status → investigating" in messages[1]
    assert "status → resolved" in messages[2] and "root_cause" in messages[2]


# --- retention and stats ----------------------------------------------------------------------
async def test_retention_deletes_only_old_rows(db: Database, session: AsyncSession) -> None:
    old, new = utcnow() - timedelta(days=40), utcnow() - timedelta(days=1)
    for when in (old, new):
        session.add(Event(event_type="log", source="client", recorded_at=when))
        session.add(Metric(name="m", metric_type="gauge", value=1, recorded_at=when))
    await session.commit()

    deleted = await delete_old_rows(db, timedelta(days=30))

    assert deleted == {"events": 1, "metrics": 1}
    remaining = list(await session.scalars(select(Event.recorded_at)))
    assert remaining == [new]


async def test_retention_runs_inside_the_server(settings: Settings, session: AsyncSession) -> None:
    session.add(Event(event_type="log", source="client", recorded_at=utcnow() - timedelta(days=2)))
    await session.commit()
    quick = settings.model_copy(
        update={"retention_interval_seconds": 0.1, "monitoring_retention_days": 1}
    )
    async with running_system(quick):

        async def emptied() -> bool:
            return await session.scalar(select(func.count()).select_from(Event)) == 0

        await wait_until(emptied, within=5)


async def test_stats(client: httpx.AsyncClient, people: dict[str, Headers]) -> None:
    await post(
        client,
        "events",
        people["alice"],
        {"event_type": "log", "source": "client", "level": "error"},
    )
    await post(
        client, "metrics", people["alice"], {"name": "client_x", "metric_type": "gauge", "value": 1}
    )
    await post(client, "incidents", people["alice"], {"title": "t"})
    stats = (await client.get("/api/v1/monitoring/stats", headers=people["mod"])).json()["data"]
    assert stats["events"] == {"total": 2, "last_hour": 2}  # + the incident's own event
    assert stats["events_by_level"]["error"] == 1
    assert stats["metrics"] == {"total": 1, "last_hour": 1}
    assert stats["incidents"]["open"] == 1
