"""Who may call what: the access rules of the live app, read from its dependency graph.

Every API route declares its rule as a FastAPI dependency (`CurrentUser`, `SessionUser`,
`Moderator`, `Admin`). `access_matrix(app)` walks each route's dependency tree and reports
what it finds, so the matrix is what the app enforces, never a table someone forgot to
update:

- `public`: no dependency asks for credentials (`optional_principal` alone still rejects a
  malformed header, but lets the anonymous in);
- `signed-in`: `current_principal` somewhere in the tree (a session or an API key);
- `session only`: `session_principal` (an API key is refused with 403);
- a minimum role: a dependency that is a `RoleRequirement` (`require_role(...)` makes one; a
  dependency with a rule of its own subclasses it), read from its `minimum`.

A dependency of its own that takes `optional_principal` and declares nothing (it decides in
code who passes) is listed in `custom_checks`: the matrix cannot read that rule, says so, and
`may_call` ignores it. Make such a dependency a `RoleRequirement` to make it readable.

What dependencies cannot show: rules about *which* resource, decided inside the services
(`studypath/rbac/policy.py`). A user may read their own profile but not someone else's; a
moderator may not act on an admin. Those answers depend on the row, not the route, and a
hidden row answers 404, not 403. Call the API to see them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Literal

import fastapi.routing
from fastapi import FastAPI

from studypath.auth.dependencies import current_principal, optional_principal, session_principal
from studypath.core.routing import API_PREFIX
from studypath.identity.roles import Role
from studypath.rbac.dependencies import RoleRequirement
from studypath.viz.mermaid import Mermaid, escape

PUBLIC = "public"
SIGNED_IN = "signed-in"
SESSION_ONLY = "session only"
ANONYMOUS = "anonymous"
_METHOD_ORDER = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}
_ROLE_ICONS = {Role.ADMIN: "👑", Role.MODERATOR: "👮", Role.USER: "👤"}
_ROLE_FILLS = {Role.ADMIN: "#ffcdd2", Role.MODERATOR: "#fff3e0", Role.USER: "#e8f5e8"}


@dataclass(frozen=True)
class AccessRule:
    """What a caller needs to get past one route's dependencies."""

    method: str
    path: str
    endpoint: str  # qualified name of the handler
    minimum_role: Role | None = None  # the highest `minimum` of a `RoleRequirement` on the way
    signed_in: bool = False  # any credential: a session or an API key
    session_only: bool = False  # a session; an API key gets 403
    decided_by: tuple[str, ...] = ()  # dependency chain to the deciding one, outermost first
    custom_checks: tuple[str, ...] = ()  # dependencies that decide in code: not readable here

    @property
    def requirement(self) -> str:
        """`public`, `signed-in`, `session only` or the minimum role (`moderator`), plus any
        custom checks the matrix cannot read."""
        if self.minimum_role is not None:
            role = self.minimum_role.value
            known = f"{role}, {SESSION_ONLY}" if self.session_only else role
        elif self.session_only:
            known = SESSION_ONLY
        else:
            known = SIGNED_IN if self.signed_in else PUBLIC
        if self.custom_checks:
            return f"{known} + custom check {', '.join(self.custom_checks)}"
        return known


def may_call(
    rule: AccessRule,
    role: Role | str | None,
    *,
    via: Literal["session", "api_key"] = "session",
) -> bool:
    """Would a caller with `role` (None: no credentials) get past the route's dependencies?

    True means "not refused with 401/403 by the rules the matrix can read"; the resource may
    still be hidden (404) by a rule the service applies to the row, and a rule's
    `custom_checks` may refuse more.
    """
    if not (rule.signed_in or rule.minimum_role or rule.session_only):
        return True
    if role is None or role == ANONYMOUS:
        return False
    if rule.session_only and via != "session":
        return False
    return rule.minimum_role is None or Role(role).at_least(rule.minimum_role)


def _name(call: Any) -> str:
    return str(getattr(call, "__name__", type(call).__name__))


def _declared_role(call: Any) -> Role | None:
    """The minimum role a dependency declares (it is a `RoleRequirement`), if any."""
    return call.minimum if isinstance(call, RoleRequirement) else None


def _calls(dependant: Any) -> list[Any]:
    return [getattr(dependency, "call", None) for dependency in dependant.dependencies]


def _walk(dependant: Any, chain: tuple[str, ...] = ()) -> Iterator[tuple[Any, tuple[str, ...]]]:
    """Every dependency below `dependant` (FastAPI's `Dependant` nodes), with the chain of
    names that leads to it."""
    for dependency in getattr(dependant, "dependencies", ()):
        here = (*chain, _name(dependency.call))
        yield dependency, here
        yield from _walk(dependency, here)


def rule_for(method: str, path: str, endpoint: str, dependant: Any) -> AccessRule:
    """Classify one route from its `dependant` tree (FastAPI's resolved dependencies)."""
    minimum: Role | None = None
    role_chain: tuple[str, ...] = ()
    session_chain: tuple[str, ...] = ()
    signed_in_chain: tuple[str, ...] = ()
    custom: list[str] = []
    for node, chain in _walk(dependant):
        call = node.call
        required = _declared_role(call)
        # Takes the optional principal, so it handles the anonymous caller itself: a rule in code.
        decides_itself = call is not current_principal and optional_principal in _calls(node)
        if decides_itself and required is None:
            custom.append(chain[-1])
        if required is not None and (minimum is None or required.rank > minimum.rank):
            minimum, role_chain = required, chain
        if call is session_principal and not session_chain:
            session_chain = chain
        if call is current_principal and not signed_in_chain:
            signed_in_chain = chain
    return AccessRule(
        method=method,
        path=path,
        endpoint=endpoint,
        minimum_role=minimum,
        signed_in=bool(minimum or session_chain or signed_in_chain),
        session_only=bool(session_chain),
        decided_by=role_chain or session_chain or signed_in_chain,
        custom_checks=tuple(dict.fromkeys(custom)),
    )


def _qualified(endpoint: Any) -> str:
    module = getattr(endpoint, "__module__", "?")
    return f"{module}.{getattr(endpoint, '__qualname__', _name(endpoint))}"


def _route_contexts(app: FastAPI) -> Iterable[Any]:
    """The mounted routes, included routers expanded (FastAPI 0.165 nests them)."""
    expand = getattr(fastapi.routing, "iter_route_contexts", None)
    return expand(app.routes) if expand is not None else app.routes


def access_matrix(app: FastAPI) -> list[AccessRule]:
    """One rule per (method, path) under the API prefix, computed from the live app.

    When two routes share a method and path, the first one is kept: it is the one the
    router matches.
    """
    rules: dict[tuple[str, str], AccessRule] = {}
    for route in _route_contexts(app):
        # The template as OpenAPI writes it: `{task_id}`, not the converter's `{task_id:uuid}`.
        path = getattr(route, "path_format", getattr(route, "path", None))
        if path is None or not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            continue
        endpoint = _qualified(getattr(route, "endpoint", None))
        dependant = getattr(route, "dependant", None)
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD" and (method, path) not in rules:
                rules[(method, path)] = rule_for(method, path, endpoint, dependant)
    return sorted(rules.values(), key=lambda r: (r.path, _METHOD_ORDER.get(r.method, 9)))


def roles_low_to_high() -> list[Role]:
    return sorted(Role, key=lambda role: role.rank)


def access_markdown(app: FastAPI) -> str:
    """The matrix as a markdown table: each route, its rule, and who gets past it."""
    roles = roles_low_to_high()
    header = ["method", "path", "needs", "decided by", ANONYMOUS, *(r.value for r in roles)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for rule in access_matrix(app):
        decided = " → ".join(rule.decided_by)
        allowed = [may_call(rule, None), *(may_call(rule, role) for role in roles)]
        passed = "?" if rule.custom_checks else "✅"  # a custom check may still refuse
        marks = " | ".join(passed if ok else "—" for ok in allowed)
        lines.append(
            f"| {rule.method} | `{rule.path}` | {rule.requirement} "
            f"| {f'`{decided}`' if decided else '—'} | {marks} |"
        )
    return "\n".join(lines)


def gained_by(rules: Iterable[AccessRule], role: Role | None) -> list[AccessRule]:
    """The rules `role` passes but the next role down does not (anonymous below `user`)."""
    roles: list[Role | None] = [None, *roles_low_to_high()]
    below = roles[roles.index(role) - 1] if role is not None else None
    return [
        rule
        for rule in rules
        if may_call(rule, role) and (role is None or not may_call(rule, below))
    ]


def access_diagram(app: FastAPI) -> Mermaid:
    """`graph TD` of the role hierarchy (each role includes the one below it) and, beside
    each role, the endpoints it gains over the role below."""
    rules = access_matrix(app)
    lines = ["graph TD"]
    levels: list[Role | None] = [*reversed(roles_low_to_high()), None]
    for level in levels:
        node = level.value if level is not None else ANONYMOUS
        title = (
            f"{_ROLE_ICONS.get(level, '')} {level.value}".strip()
            if level is not None
            else "anyone, no credentials"
        )
        gained = gained_by(rules, level)
        count = f"{len(gained)} endpoint{'s' if len(gained) != 1 else ''}"
        lines.append(f'    {node}["{escape(title)}<br/>gains {count}"]')
        if gained:
            shown = "<br/>".join(
                escape(f"{rule.method} {rule.path}") + (" (session)" if rule.session_only else "")
                for rule in gained
            )
            lines.append(f'    {node}_gains["{shown}"]')
            lines.append(f"    {node} -.-> {node}_gains")
    for upper, lower in pairwise(levels):
        upper_node = upper.value if upper is not None else ANONYMOUS
        lower_node = lower.value if lower is not None else ANONYMOUS
        lines.append(f"    {upper_node} -->|includes| {lower_node}")
    for role, fill in _ROLE_FILLS.items():
        lines.append(f"    style {role.value} fill:{fill}")
    return Mermaid("\n".join(lines))
