"""Health endpoints, no authentication: what load balancers and orchestrators poll.

The probes (`/live`, `/ready`, `/startup`, declared with `@probe`) are served by a `ProbeRoute`,
which skips FastAPI's request handling: a probe takes nothing from the request and builds its
answer itself (see `health.probe_route`).

Anonymous answers show each check's status and harmless numbers only (`service.public_view`);
the database target, pool and worker hosts/PIDs are in the admin view, `/admin/health`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from starlette.responses import Response

from studypath.core.clock import utcnow
from studypath.core.errors import AppError
from studypath.core.responses import Envelope, json_answer, ok
from studypath.core.state import AppState, State, app_state
from studypath.health import service
from studypath.health.errors import HealthErrorCode
from studypath.health.probe_route import ProbeRoute
from studypath.health.schemas import (
    Check,
    DetailedHealth,
    Documentation,
    HealthSummary,
    Liveness,
    Readiness,
    Startup,
)
from studypath.rbac.dependencies import Admin
from studypath.telemetry.tracing import traced_router
from studypath.version import __version__

router = traced_router("health")
admin_router = traced_router("admin")

UNHEALTHY: dict[int | str, dict[str, Any]] = {
    503: {"description": "Unhealthy: the error envelope, with the checks in `details`"}
}
# The orchestrators' probes: polled every few seconds by every load balancer, so they are
# cheap (`probe`), and access-logged at DEBUG while they pass
# (`RequestContextMiddleware(quiet_paths=...)`, wired in app.py).
PROBE_PATHS = tuple(f"{router.prefix}/{name}" for name in ("live", "ready", "startup"))
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def probe(path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
    """`@router.get(path, ...)` for a probe: a GET route of this router (the same place in
    the OpenAPI document), served by a `ProbeRoute`."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(
            path, endpoint, methods=["GET"], route_class_override=ProbeRoute, **options
        )
        return endpoint

    return register


def _cached_database_check(state: AppState) -> service.CachedDatabaseCheck:
    """The app's cached database check (made on first use, for the app's database)."""
    cached = state.database_check
    if cached is None or cached.db is not state.db:
        cached = state.database_check = service.CachedDatabaseCheck(state.db)
    return cached


ProbeT = TypeVar("ProbeT", Readiness, Startup)


def _unavailable(message: str, details: Any) -> AppError:
    return AppError(HealthErrorCode.SERVICE_UNHEALTHY, message, details=details)


@router.get("", response_model=Envelope[HealthSummary], responses=UNHEALTHY)
async def health(state: State) -> Envelope[HealthSummary]:
    """Basic health: 200 when the API and its database answer (`degraded` when the database
    is slow), 503 when the database fails."""
    database = await _cached_database_check(state).get_public()
    if database.status == "unhealthy":
        raise _unavailable(database.message, {"checks": {"database": database.model_dump()}})
    return ok(
        HealthSummary(
            status="degraded" if database.status == "degraded" else "healthy",
            version=__version__,
            uptime=state.uptime(),
            documentation=Documentation(
                openapi_json="/api-docs/openapi.json", api_docs="/api-docs"
            ),
        )
    )


async def detailed_report(state: AppState, *, public: bool) -> DetailedHealth:
    """Every check; `public` cuts the details down to what anonymous callers may see."""
    settings, db = state.settings, state.db
    checks = {
        "database": await service.check_database(db),
        "schema": await service.check_schema(db),
        "worker": await service.check_workers(
            db, heartbeat_seconds=settings.worker_heartbeat_seconds
        ),
    }
    if public:
        checks = service.public_checks(checks)
    return DetailedHealth(
        status=service.overall(checks),
        timestamp=utcnow(),
        version=__version__,
        uptime=state.uptime(),
        checks=checks,
    )


@router.get("/detailed", response_model=Envelope[DetailedHealth], responses=UNHEALTHY)
async def health_detailed(state: State) -> Envelope[DetailedHealth]:
    """Every check, with the details anonymous callers may see; `degraded` (e.g. no worker)
    still answers 200. The full report is `GET /admin/health`."""
    return _detailed_answer(await detailed_report(state, public=True))


def _detailed_answer(report: DetailedHealth) -> Envelope[DetailedHealth]:
    if report.status == "unhealthy":
        raise _unavailable("one or more checks failed", report.model_dump(mode="json"))
    return ok(report)


# The probes' answers, parametrised once (each `Envelope[X]` is a lookup in pydantic's cache).
LivenessAnswer = Envelope[Liveness]
ReadinessAnswer = Envelope[Readiness]
StartupAnswer = Envelope[Startup]


@probe("/live", response_model=LivenessAnswer)
async def health_live() -> Response:
    """Liveness: the process answers. Never touches the database (a DB outage must not
    make an orchestrator restart healthy API processes)."""
    alive = Liveness(status="alive", timestamp=utcnow(), probe="liveness")
    return json_answer(LivenessAnswer(data=alive))


def _probe_answer(
    answer: type[Envelope[ProbeT]],
    probe: str,
    checks: dict[str, Check],
    *,
    passed: bool,
    statuses: tuple[str, str],
    failure: str,
) -> Response:
    """Readiness and startup answer alike: `statuses[0]` and 200 when the probe passed, else
    `statuses[1]` and 503 (`failure`, with the same body in the error's details)."""
    body = {
        "status": statuses[0] if passed else statuses[1],
        "timestamp": utcnow(),
        "probe": probe,
        "checks": checks,
    }
    envelope = answer.model_validate({"data": body})
    if not passed:
        raise _unavailable(failure, envelope.data.model_dump(mode="json"))
    return json_answer(envelope)


@probe("/ready", response_model=ReadinessAnswer, responses=UNHEALTHY)
async def health_ready(request: Request) -> Response:
    """Readiness: send traffic here only if the database answers (checked at most about once
    a second, in the background: see `service.CachedDatabaseCheck`)."""
    cached = _cached_database_check(app_state(request))
    checks = {"database": await cached.get_public()}
    ready = checks["database"].status != "unhealthy"
    statuses = ("ready", "not_ready")
    return _probe_answer(
        ReadinessAnswer, "readiness", checks, passed=ready, statuses=statuses, failure="not ready"
    )


@probe("/startup", response_model=StartupAnswer, responses=UNHEALTHY)
async def health_startup(request: Request) -> Response:
    """Startup: the database answers and the schema is migrated to this code's revision."""
    state = app_state(request)
    checks = service.public_checks(
        {
            "database": await service.check_database(state.db),
            "schema": await service.check_schema(state.db),
        }
    )
    started = all(check.status == "healthy" for check in checks.values())
    statuses = ("started", "starting")
    return _probe_answer(
        StartupAnswer,
        "startup",
        checks,
        passed=started,
        statuses=statuses,
        failure="still starting",
    )


@admin_router.get("/health", response_model=Envelope[DetailedHealth], responses=UNHEALTHY)
async def admin_health(state: State, actor: Admin) -> Envelope[DetailedHealth]:
    """The detailed report with every detail, for admins: database target and pool, worker
    hosts and PIDs, the error text of failed checks."""
    return _detailed_answer(await detailed_report(state, public=False))
