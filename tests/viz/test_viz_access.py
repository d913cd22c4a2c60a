"""The access matrix is read from the routes' dependencies: it must agree with what the
running app answers, route by route, and change when a route's dependencies change."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Annotated

import fastapi.routing
import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.auth import keys as auth_keys
from studypath.auth.dependencies import CurrentUser, Principal, SessionUser, optional_principal
from studypath.config import Settings
from studypath.core.errors import AppError, ErrorCode
from studypath.core.routing import API_PREFIX
from studypath.identity.roles import Role
from studypath.rbac.dependencies import Admin, Moderator, RoleRequirement, require_role
from studypath.system import System
from studypath.testing.factories import start_session
from studypath.testing.server import app_of, client_for, running_system
from studypath.viz import AccessRule, access_diagram, access_markdown, access_matrix, may_call
from tests.support.factories import create_world


def rules_by_route(app: FastAPI) -> dict[tuple[str, str], AccessRule]:
    return {(rule.method, rule.path): rule for rule in access_matrix(app)}


# ----------------------------------------------------------------------------- the real app


async def test_rules_of_known_endpoints(system: System) -> None:
    rules = rules_by_route(app_of(system))
    expected = {
        ("GET", "/api/v1/health"): "public",
        ("POST", "/api/v1/auth/login"): "public",
        ("GET", "/api/v1/auth/me"): "signed-in",
        ("GET", "/api/v1/users/me/profile"): "signed-in",  # via own_account → current_principal
        ("POST", "/api/v1/auth/logout"): "session only",
        ("POST", "/api/v1/api-keys"): "session only",
        ("GET", "/api/v1/users"): "moderator",
        ("PUT", "/api/v1/users/{user_id}/status"): "moderator",
        ("POST", "/api/v1/users"): "admin",
        ("GET", "/api/v1/admin/users/stats"): "admin",
        ("POST", "/api/v1/tasks/types"): "admin",  # `admin_or_worker` declares its role
    }
    assert {route: rules[route].requirement for route in expected} == expected
    assert rules[("GET", "/api/v1/users/me/profile")].decided_by == (
        "own_account",
        "current_principal",
    )
    assert rules[("GET", "/api/v1/users")].decided_by == ("require_moderator",)
    assert rules[("GET", "/api/v1/users")].minimum_role is Role.MODERATOR
    unreadable = [(r.method, r.path, r.custom_checks) for r in rules.values() if r.custom_checks]
    assert unreadable == [], "make these dependencies `RoleRequirement`s"


async def test_every_api_route_appears_once_per_method(system: System) -> None:
    app = app_of(system)
    matrix = access_matrix(app)
    counts = Counter((rule.method, rule.path) for rule in matrix)
    assert counts and max(counts.values()) == 1
    mounted = {
        (method, route.path_format)
        for route in fastapi.routing.iter_route_contexts(app.routes)
        if (route.path or "").startswith(API_PREFIX + "/")
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert set(counts) == mounted
    operations = {
        (method.upper(), path)
        for path, ops in app.openapi()["paths"].items()
        if path.startswith(API_PREFIX)
        for method in ops
    }
    assert operations <= set(counts)


def concrete(path: str) -> str:
    """A template path with every `{parameter}` filled by an id that matches no row."""
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)


async def test_matrix_agrees_with_what_every_route_answers(
    system: System, client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    """Each actor calls each route (no body, ids that match nothing): the route's own
    dependencies refuse exactly the callers the matrix says they refuse, with 401 or 403."""
    world = await create_world(session, settings)
    actors = {None: world.anonymous, Role.USER: world.owner}
    actors |= {Role.MODERATOR: world.moderator, Role.ADMIN: world.admin}
    disagreements = []
    for rule in access_matrix(app_of(system)):
        for role, actor in actors.items():
            headers = {}
            if actor.user is not None:  # a fresh session: logout must not end the next call's
                token = await start_session(session, actor.user, settings)
                headers["Authorization"] = f"Bearer {token}"
            response = await client.request(rule.method, concrete(rule.path), headers=headers)
            refused = response.status_code in {401, 403}
            expected = None if may_call(rule, role) else (401 if role is None else 403)
            if (expected is None and refused) or (
                expected is not None and response.status_code != expected
            ):
                disagreements.append(
                    f"{rule.method} {rule.path} as {role}: matrix says {rule.requirement}, "
                    f"app answered {response.status_code}"
                )
    assert disagreements == []


async def test_api_keys_are_refused_where_the_matrix_says_session_only(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, system: System
) -> None:
    world = await create_world(session, settings)
    assert world.owner.user is not None
    key, _row = await auth_keys.create_key(session, world.owner.user.id, "script", None)
    await session.commit()
    rules = rules_by_route(app_of(system))
    for route in [("GET", "/api/v1/auth/me"), ("GET", "/api/v1/api-keys")]:
        rule = rules[route]
        response = await client.request(rule.method, rule.path, headers={"X-API-Key": key})
        assert (response.status_code == 200) is may_call(rule, Role.USER, via="api_key")
    assert not may_call(rules[("GET", "/api/v1/api-keys")], Role.ADMIN, via="api_key")


async def test_markdown_and_diagram_show_every_rule(system: System) -> None:
    app = app_of(system)
    matrix = access_matrix(app)
    table = access_markdown(app).splitlines()
    assert table[0] == (
        "| method | path | needs | decided by | anonymous | user | moderator | admin |"
    )
    assert len(table) == 2 + len(matrix)
    stats = next(line for line in table if "`/api/v1/admin/users/stats`" in line)
    assert stats.endswith("| admin | `require_admin` | — | — | — | ✅ |")
    diagram = access_diagram(app).source
    assert diagram.startswith("graph TD\n")
    for upper, lower in [("admin", "moderator"), ("moderator", "user"), ("user", "anonymous")]:
        assert f"    {upper} -->|includes| {lower}" in diagram
    # Each endpoint is gained at exactly one level of the hierarchy.
    gained = [
        item.removesuffix(" (session)")
        for label in re.findall(r'_gains\["([^"]*)"\]', diagram)
        for item in label.split("<br/>")
    ]
    assert sorted(gained) == sorted(f"{rule.method} {rule.path}" for rule in matrix)


# ----------------------------------------------------------------------------- a route's rule


async def staff_only(actor: Moderator) -> Principal:
    return actor


probe = APIRouter(tags=["probe"])


@probe.get("/open")
async def open_route(maybe: Annotated[Principal | None, Depends(optional_principal)]) -> str:
    return "anyone"


@probe.get("/mine")
async def mine(user: CurrentUser) -> str:
    return user.username


@probe.post("/session")
async def session_route(user: SessionUser) -> str:
    return user.username


@probe.get("/nested")
async def nested(actor: Annotated[Principal, Depends(staff_only)]) -> str:
    return actor.username


@probe.get("/strictest")
async def strictest(moderator: Moderator, admin: Admin) -> str:
    return admin.username


async def staff_by_hand(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    """Decides in code, declares nothing: the matrix cannot read it."""
    if principal is None or principal.role is Role.USER:
        raise AppError(ErrorCode.FORBIDDEN, "staff only")
    return principal


@dataclass(frozen=True)
class DeclaredByHand(RoleRequirement):
    """Decides in code, and declares its rule as a `RoleRequirement`: the matrix reads it."""

    async def __call__(
        self, principal: Annotated[Principal | None, Depends(optional_principal)]
    ) -> None:
        if principal is None or not principal.role.at_least(self.minimum):
            raise AppError(ErrorCode.FORBIDDEN, "admins only")

    @property
    def __name__(self) -> str:
        return "declared_by_hand"


declared_by_hand = DeclaredByHand(Role.ADMIN)


@probe.get("/custom")
async def custom(actor: Annotated[Principal, Depends(staff_by_hand)]) -> str:
    return actor.username


@probe.get("/declared", dependencies=[Depends(declared_by_hand)])
async def declared() -> str:
    return "admins"


@probe.delete("/decorated", dependencies=[Depends(require_role(Role.ADMIN))])
async def decorated() -> str:
    return "gone"


guarded = APIRouter(dependencies=[Depends(require_role(Role.MODERATOR))])


@guarded.get("/inside")
async def inside() -> str:
    return "router-level rule"


def mount_probe(app: FastAPI) -> None:
    app.include_router(probe, prefix="/api/v1/probe")
    app.include_router(guarded, prefix="/api/v1/guarded")


PROBE_RULES = {
    ("GET", "/api/v1/probe/open"): ("public", ()),
    ("GET", "/api/v1/probe/mine"): ("signed-in", ("current_principal",)),
    ("POST", "/api/v1/probe/session"): ("session only", ("session_principal",)),
    ("GET", "/api/v1/probe/nested"): ("moderator", ("staff_only", "require_moderator")),
    ("GET", "/api/v1/probe/strictest"): ("admin", ("require_admin",)),
    ("DELETE", "/api/v1/probe/decorated"): ("admin", ("require_admin",)),
    ("GET", "/api/v1/guarded/inside"): ("moderator", ("require_moderator",)),
    ("GET", "/api/v1/probe/declared"): ("admin", ("declared_by_hand",)),
    ("GET", "/api/v1/probe/custom"): ("public + custom check staff_by_hand", ()),
}


async def test_rules_follow_the_dependencies_a_route_declares(
    settings: Settings, session: AsyncSession
) -> None:
    world = await create_world(session, settings)
    async with running_system(settings, app_hooks=[mount_probe]) as system:
        rules = rules_by_route(app_of(system))
        computed = {
            route: (rules[route].requirement, rules[route].decided_by) for route in PROBE_RULES
        }
        assert computed == PROBE_RULES
        assert rules[("GET", "/api/v1/probe/custom")].custom_checks == ("staff_by_hand",)
        custom_row = next(
            line
            for line in access_markdown(app_of(system)).splitlines()
            if "`/api/v1/probe/custom`" in line
        )
        assert custom_row.endswith("| ? | ? | ? | ? |")  # may pass, as far as the matrix knows
        async with client_for(system) as client:
            for route in PROBE_RULES:
                rule = rules[route]
                if rule.custom_checks:
                    continue
                for actor in (world.anonymous, world.owner, world.moderator, world.admin):
                    role = actor.user.role if actor.user is not None else None
                    response = await client.request(*route, headers=actor.headers)
                    assert (response.status_code == 200) is may_call(rule, role), (route, role)


@pytest.mark.parametrize(
    ("rule", "anonymous", "user", "moderator", "admin", "api_key_user"),
    [
        (AccessRule("GET", "/p", "e"), True, True, True, True, True),
        (AccessRule("GET", "/p", "e", signed_in=True), False, True, True, True, True),
        (
            AccessRule("GET", "/p", "e", signed_in=True, session_only=True),
            False,
            True,
            True,
            True,
            False,
        ),
        (
            AccessRule("GET", "/p", "e", Role.MODERATOR, signed_in=True),
            False,
            False,
            True,
            True,
            False,
        ),
        (
            AccessRule("GET", "/p", "e", Role.ADMIN, signed_in=True),
            False,
            False,
            False,
            True,
            False,
        ),
    ],
)
def test_may_call(
    rule: AccessRule, anonymous: bool, user: bool, moderator: bool, admin: bool, api_key_user: bool
) -> None:
    assert may_call(rule, None) is anonymous
    assert may_call(rule, "anonymous") is anonymous
    assert may_call(rule, Role.USER) is user
    assert may_call(rule, "moderator") is moderator
    assert may_call(rule, Role.ADMIN) is admin
    assert may_call(rule, Role.USER, via="api_key") is api_key_user
