"""Monitoring endpoints (`/api/v1/monitoring/*`). Thin: rules live in the service."""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated

from fastapi import Depends, Request, Response

from studypath.auth.dependencies import (
    CurrentUser,
    optional_principal,
    read_credential,
    reads_credentials_itself,
)
from studypath.core.db import DbSession
from studypath.core.pagination import Page, paged
from studypath.core.responses import Envelope, ok
from studypath.core.state import State, app_state
from studypath.identity.roles import Role
from studypath.monitoring import prometheus, service
from studypath.monitoring.filters import EventsWanted, MetricsWanted
from studypath.monitoring.models import (
    AlertStatus,
    IncidentStatus,
)
from studypath.monitoring.schemas import (
    AlertOut,
    AlertRule,
    CreateEvent,
    CreateIncident,
    CreateMetric,
    EventOut,
    IncidentOut,
    MetricOut,
    MonitoringStats,
    UpdateAlert,
    UpdateIncident,
)
from studypath.rbac.dependencies import Moderator
from studypath.telemetry.tracing import traced_router

router = traced_router("monitoring")


# --- events ---------------------------------------------------------------------------------
@router.post("/events", response_model=Envelope[EventOut])
async def create_event(
    body: CreateEvent, principal: CurrentUser, db: DbSession
) -> Envelope[EventOut]:
    """Record an event. Users write under their own source (`user:<username>`,
    `<username>-…`, `user-<id>-…`) or a generic one (no `-`, or a generic prefix such as
    `client-`); other sources answer 403, and `alerts`, `incidents` and `system` are the
    system's own. `recorded_at` must fall within the last 30 days (400 otherwise)."""
    event = await service.create_event(db, principal, principal.username, **body.model_dump())
    return ok(EventOut.model_validate(event), "Event recorded")


@router.get("/events", response_model=Envelope[list[EventOut]])
async def list_events(
    principal: CurrentUser, db: DbSession, page: Page, response: Response, wanted: EventsWanted
) -> Envelope[list[EventOut]]:
    """Newest first. Yours, or everyone's for moderators and admins."""
    events, total = await service.list_events(db, principal, page, wanted)
    return paged(response, [EventOut.model_validate(event) for event in events], total)


@router.get("/events/{event_id:uuid}", response_model=Envelope[EventOut])
async def get_event(
    event_id: uuid.UUID, principal: CurrentUser, db: DbSession
) -> Envelope[EventOut]:
    return ok(EventOut.model_validate(await service.get_event(db, principal, event_id)))


# --- stored metrics ---------------------------------------------------------------------------
@router.post("/metrics", response_model=Envelope[MetricOut])
async def create_metric(
    body: CreateMetric, principal: CurrentUser, db: DbSession
) -> Envelope[MetricOut]:
    """Store a sample. Users write names `<username>_…` (or `user_<username>_…`) or a generic
    name (`cpu_usage…`, `client_…`, …); other names answer 403. `recorded_at` must fall
    within the last 30 days (400 otherwise)."""
    metric = await service.create_metric(db, principal, principal.username, **body.model_dump())
    return ok(MetricOut.model_validate(metric), "Metric recorded")


@router.get("/metrics", response_model=Envelope[list[MetricOut]])
async def list_metrics(
    principal: CurrentUser, db: DbSession, page: Page, response: Response, wanted: MetricsWanted
) -> Envelope[list[MetricOut]]:
    metrics, total = await service.list_metrics(db, principal, page, wanted)
    return paged(response, [MetricOut.model_validate(metric) for metric in metrics], total)


@reads_credentials_itself
async def may_read_stored_metrics(request: Request, db: DbSession) -> bool:
    """True for the scrape token or an admin; anyone else reads only the process's metrics
    (stored metrics hold what users wrote: names and label values are theirs)."""
    credential = read_credential(request)
    if credential is None:
        return False
    token = app_state(request).settings.metrics_scrape_token
    if token is not None and hmac.compare_digest(
        credential.value.encode(), token.get_secret_value().encode()
    ):
        return True
    principal = await optional_principal(request, db)
    return principal is not None and principal.role is Role.ADMIN


@router.get(
    "/metrics/prometheus",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def prometheus_metrics(
    state: State, with_stored: Annotated[bool, Depends(may_read_stored_metrics)]
) -> Response:
    """Prometheus exposition of this process: HTTP, tasks, queue, breakers, pool, process.
    Scrape every server process (each exposes its own counters). Public; the metrics users
    stored are added for an admin or a scraper sending the scrape token
    (`STUDYPATH_METRICS_SCRAPE_TOKEN`) as `Authorization: Bearer <token>`."""
    body = await prometheus.exposition(state.db, with_stored=with_stored)
    return Response(content=body, media_type=prometheus.CONTENT_TYPE)


# --- alerts ------------------------------------------------------------------------------------
@router.get("/alerts", response_model=Envelope[list[AlertOut]])
async def list_alerts(
    principal: CurrentUser,
    db: DbSession,
    page: Page,
    response: Response,
    status: AlertStatus | None = None,
) -> Envelope[list[AlertOut]]:
    alerts, total = await service.list_alerts(db, page, status=status)
    return paged(response, [AlertOut.model_validate(alert) for alert in alerts], total)


@router.post("/alerts", response_model=Envelope[AlertOut])
async def create_alert(body: AlertRule, actor: Moderator, db: DbSession) -> Envelope[AlertOut]:
    """A rule: aggregate `metric_name` (matching `label_match`) over `window_seconds`,
    compare with `threshold`; fire once that holds for `for_seconds`. The guide's body
    (`query: "cpu_usage > 80"`, `threshold_value`) sets `metric_name`, `comparator` and
    `threshold` from its query."""
    alert = await service.create_alert(db, actor, **body.rule())
    return ok(AlertOut.model_validate(alert), "Alert created")


@router.get("/alerts/{alert_id:uuid}", response_model=Envelope[AlertOut])
async def get_alert(
    alert_id: uuid.UUID, principal: CurrentUser, db: DbSession
) -> Envelope[AlertOut]:
    return ok(AlertOut.model_validate(await service.get_alert(db, alert_id)))


@router.put("/alerts/{alert_id:uuid}", response_model=Envelope[AlertOut])
async def update_alert(
    alert_id: uuid.UUID, body: UpdateAlert, actor: Moderator, db: DbSession
) -> Envelope[AlertOut]:
    """Change a rule (a changed condition starts again from `ok`)."""
    alert = await service.update_alert(db, alert_id, body.changes())
    return ok(AlertOut.model_validate(alert), "Alert updated")


@router.delete("/alerts/{alert_id:uuid}", response_model=Envelope[None])
async def delete_alert(alert_id: uuid.UUID, actor: Moderator, db: DbSession) -> Envelope[None]:
    await service.delete_alert(db, alert_id)
    return ok(None, "Alert deleted")


# --- incidents ------------------------------------------------------------------------------------
@router.post("/incidents", response_model=Envelope[IncidentOut])
async def create_incident(
    body: CreateIncident, principal: CurrentUser, db: DbSession
) -> Envelope[IncidentOut]:
    incident = await service.create_incident(
        db, created_by=principal.user_id, alert_id=None, **body.model_dump()
    )
    return ok(IncidentOut.model_validate(incident), "Incident opened")


@router.get("/incidents", response_model=Envelope[list[IncidentOut]])
async def list_incidents(
    principal: CurrentUser,
    db: DbSession,
    page: Page,
    response: Response,
    status: IncidentStatus | None = None,
) -> Envelope[list[IncidentOut]]:
    incidents, total = await service.list_incidents(db, page, status=status)
    return paged(response, [IncidentOut.model_validate(incident) for incident in incidents], total)


@router.get("/incidents/{incident_id:uuid}", response_model=Envelope[IncidentOut])
async def get_incident(
    incident_id: uuid.UUID, principal: CurrentUser, db: DbSession
) -> Envelope[IncidentOut]:
    return ok(IncidentOut.model_validate(await service.get_incident(db, incident_id)))


@router.put("/incidents/{incident_id:uuid}", response_model=Envelope[IncidentOut])
async def update_incident(
    incident_id: uuid.UUID, body: UpdateIncident, principal: CurrentUser, db: DbSession
) -> Envelope[IncidentOut]:
    """The creator, moderators and admins; only moderators and admins set `assigned_to`."""
    incident = await service.update_incident(
        db, principal, incident_id, body.model_dump(exclude_unset=True)
    )
    return ok(IncidentOut.model_validate(incident), "Incident updated")


@router.get("/incidents/{incident_id:uuid}/timeline", response_model=Envelope[list[EventOut]])
async def incident_timeline(
    incident_id: uuid.UUID, principal: CurrentUser, db: DbSession
) -> Envelope[list[EventOut]]:
    """The incident's events and its alert's, oldest first."""
    events = await service.incident_timeline(db, incident_id)
    return ok([EventOut.model_validate(event) for event in events])


# --- stats ---------------------------------------------------------------------------------------
@router.get("/stats", response_model=Envelope[MonitoringStats])
async def monitoring_stats(actor: Moderator, db: DbSession) -> Envelope[MonitoringStats]:
    """Totals and last-hour counts of events and metrics; alerts and incidents by status."""
    return ok(MonitoringStats.model_validate(await service.stats(db)))
