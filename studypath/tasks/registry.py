"""The task registry: which task types exist and which handler runs each.

    registry = TaskRegistry()

    @registry.register("resize_image", "Make a thumbnail", payload=ResizePayload, timeout=60)
    async def resize_image(payload: ResizePayload, ctx: TaskContext) -> dict[str, Any]:
        ...

Each running system owns one registry (`System.registry`, `wb.registry`): the built-in types
are copied into it (`studypath.tasks.handlers.register_builtins`), a Workbench or a lab adds
its own, and the system's API and workers read that one. `BUILTINS`, the catalogue the
built-in handlers declare themselves in (`@builtin_task`), is only ever copied.

A worker upserts its registry's types into `task_types` when it starts, so the API can
refuse tasks nobody could run (400), and health can tell which types have a live worker.

Who may create a task of a type is part of its registration: `min_role` (a type that deletes
files is for admins), published in the stored schema as `x-studypath-min-role` so an API
process that does not run the handler still knows it, and an optional `creation_rule` that
looks at the payload and its creator (the `email` type bounds what a plain user may send).
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from studypath.config import Settings
from studypath.core.clock import utcnow
from studypath.core.db import Database
from studypath.identity.roles import Role

log = logging.getLogger("studypath.tasks")

TASK_TYPE_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")

MIN_ROLE_KEY = "x-studypath-min-role"
"""The stored payload schema's extension keyword that says who may create the type's tasks."""

# Tags of a payload accepted in two shapes (studypath's own and the reference system's);
# validation errors name the field, not the tag, so the parser drops them from locations.
OWN_SHAPE = "studypath shape"
REFERENCE_SHAPE = "reference shape"
SHAPE_TAGS = frozenset({OWN_SHAPE, REFERENCE_SHAPE})


class PermanentError(Exception):
    """A failure retrying cannot fix (bad input): the task goes to the dead letters at once."""


class TaskCancelled(Exception):
    """Raised inside a handler by `ctx.check_cancelled()` once cancellation was requested."""


class CreationRefused(Exception):
    """A creation rule's verdict: this creator may not queue this payload (the API: 403)."""

    def __init__(self, message: str, field: str = "payload") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Creator:
    """Who is queueing a task through the API: what creation rules look at."""

    user_id: uuid.UUID
    role: Role
    email: str


CreationRule = Callable[[dict[str, Any], Creator], None]


@dataclass
class TaskContext:
    """What a handler gets besides its payload. Made by `TaskContext.build` — by the worker
    for each attempt, and by code that calls a handler itself (a lab's check, a test)."""

    task_id: uuid.UUID
    task_type: str
    attempt: int
    max_attempts: int
    created_by: uuid.UUID | None
    data_dir: Path
    db: Database
    settings: Settings
    deadline: datetime | None = None  # when the worker stops the attempt (the type's timeout)
    cancel_event: asyncio.Event = field(default_factory=asyncio.Event)
    log: logging.Logger = log

    @classmethod
    def build(
        cls,
        *,
        task_id: uuid.UUID,
        task_type: str,
        db: Database,
        settings: Settings,
        attempt: int = 1,
        max_attempts: int = 5,
        created_by: uuid.UUID | None = None,
        timeout_seconds: float | None = None,
        deadline: datetime | None = None,
    ) -> TaskContext:
        """The context of one attempt. Its `deadline` is `deadline` if given, else now plus
        `timeout_seconds` (the worker passes the type's timeout), else none; files go under
        the settings' data directory."""
        if deadline is None and timeout_seconds is not None:
            deadline = utcnow() + timedelta(seconds=timeout_seconds)
        return cls(
            task_id=task_id,
            task_type=task_type,
            attempt=attempt,
            max_attempts=max_attempts,
            created_by=created_by,
            data_dir=Path(settings.data_dir),
            db=db,
            settings=settings,
            deadline=deadline,
        )

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def seconds_left(self) -> float | None:
        """Seconds until the deadline (negative once passed), or None without one: work that
        cannot finish in time can say so instead of being cut off."""
        if self.deadline is None:
            return None
        return (self.deadline - utcnow()).total_seconds()

    def check_cancelled(self) -> None:
        """Call between steps of long work: stops the handler once cancellation is asked."""
        if self.cancel_event.is_set():
            raise TaskCancelled(f"task {self.task_id} was cancelled")


class Handler(Protocol):
    """The code that runs one task type: `async def handler(payload, ctx) -> result`.

    `payload` is the type's payload model (validated) or the raw JSON without one; the
    result must be JSON-serialisable. Raise `PermanentError` for input no retry can fix."""

    def __call__(self, payload: Any, ctx: TaskContext, /) -> Awaitable[Any]: ...


H = TypeVar("H", bound=Handler)  # a handler, its own signature kept by `register`


@dataclass(frozen=True)
class BreakerConfig:
    failure_threshold: int = 5
    recovery_timeout_seconds: float = 30.0


@dataclass(frozen=True)
class TaskSpec:
    name: str
    description: str
    handler: Handler
    payload_model: type[BaseModel] | None = None
    timeout_seconds: float = 300.0
    breaker: BreakerConfig = BreakerConfig()
    min_role: Role = Role.USER
    creation_rule: CreationRule | None = None

    def parse_payload(self, payload: Any) -> Any:
        """Validate the payload; a bad one is a PermanentError that names the field."""
        if self.payload_model is None:
            return payload
        try:
            return self.payload_model.model_validate(payload)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'] if p not in SHAPE_TAGS) or 'payload'}: "
                f"{err['msg']}"
                for err in exc.errors()
            )
            raise PermanentError(f"invalid payload for {self.name}: {problems}") from None

    def payload_schema(self) -> dict[str, Any] | None:
        """The JSON Schema the API checks payloads against, with the minimum role in it.

        A payload model may write its own schema (a `payload_json_schema` classmethod), as
        the models that accept two shapes do: pydantic alone would describe a union whose
        errors name no field."""
        model = self.payload_model
        if model is None:
            return None if self.min_role is Role.USER else {MIN_ROLE_KEY: self.min_role.value}
        custom = getattr(model, "payload_json_schema", None)
        schema: dict[str, Any] = custom() if callable(custom) else model.model_json_schema()
        return {**schema, MIN_ROLE_KEY: self.min_role.value}


def required_role(spec: TaskSpec | None, stored_schema: dict[str, Any] | None) -> Role:
    """The stricter of the two places a type's minimum role is said: the handler's
    registration in this process, and the schema its worker stored. A type registered only
    by name (no worker yet) still gets its built-in rule."""
    roles = [Role.USER]
    if spec is not None:
        roles.append(spec.min_role)
    declared = (stored_schema or {}).get(MIN_ROLE_KEY)
    if isinstance(declared, str) and declared in {role.value for role in Role}:
        roles.append(Role(declared))
    elif declared is not None:  # a schema that names no role we know: the strictest
        roles.append(Role.ADMIN)
    return max(roles, key=lambda role: role.rank)


class RegistryListener(Protocol):
    """Something that must know when the registry changes (a running worker)."""

    async def registry_changed(self) -> None: ...


class TaskRegistry:
    """Task types by name: each one's handler, payload model, timeout, breaker and rules."""

    def __init__(self) -> None:
        self._specs: dict[str, TaskSpec] = {}
        self._listeners: weakref.WeakSet[Any] = weakref.WeakSet()

    def listen(self, listener: RegistryListener) -> None:
        """Tell `listener` about changes (workers listen while they run; weakly held)."""
        self._listeners.add(listener)

    def unlisten(self, listener: RegistryListener) -> None:
        self._listeners.discard(listener)

    async def announce(self) -> None:
        """Wait until every listening worker has acted on a change: a handler registered
        after the workers started is listed in their `workers` rows when this returns, so
        `/tasks/types` counts them at once rather than after their next heartbeat."""
        for listener in list(self._listeners):
            await listener.registry_changed()

    def register(
        self,
        name: str,
        description: str = "",
        *,
        payload: type[BaseModel] | None = None,
        timeout: float = 300.0,
        breaker: BreakerConfig | None = None,
        min_role: Role = Role.USER,
        creation_rule: CreationRule | None = None,
        replace: bool = False,
    ) -> Callable[[H], H]:
        """Decorator: make `handler` the code that runs tasks of type `name`.

        `min_role`: the lowest role that may create tasks of this type through the API.
        `creation_rule`: called with the payload and its creator; raises CreationRefused.

        Registering a name twice is a mistake (two handlers for one type), unless `replace`
        says it is meant — as when a notebook cell that defines a handler runs again."""

        if not TASK_TYPE_NAME.fullmatch(name):
            raise ValueError(
                f"task type {name!r}: 1-128 letters, digits, '_' or '-' (the API's rule)"
            )

        def decorate(handler: H) -> H:
            existing = self._specs.get(name)
            if existing is not None and existing.handler is not handler and not replace:
                raise ValueError(f"task type {name!r} is already registered")
            self._specs[name] = TaskSpec(
                name=name,
                description=description or (handler.__doc__ or "").strip().split("\n")[0],
                handler=handler,
                payload_model=payload,
                timeout_seconds=timeout,
                breaker=breaker or BreakerConfig(),
                min_role=min_role,
                creation_rule=creation_rule,
            )
            return handler

        return decorate

    def add(self, spec: TaskSpec, *, replace: bool = False) -> None:
        """Add a type as another registry declared it (`register_builtins` copies this way)."""
        self.register(
            spec.name,
            spec.description,
            payload=spec.payload_model,
            timeout=spec.timeout_seconds,
            breaker=spec.breaker,
            min_role=spec.min_role,
            creation_rule=spec.creation_rule,
            replace=replace,
        )(spec.handler)

    def unregister(self, name: str) -> None:
        self._specs.pop(name, None)

    def get(self, name: str) -> TaskSpec | None:
        return self._specs.get(name)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def specs(self) -> list[TaskSpec]:
        return [self._specs[name] for name in self.names()]


BUILTINS = TaskRegistry()
"""The built-in catalogue: the handlers in `studypath.tasks.handlers` declare themselves here
(`@builtin_task`) as they are imported. Systems copy it (`register_builtins`); nothing adds
to it or runs from it at run time."""
builtin_task = BUILTINS.register
