"""What the running application holds: one typed `AppState`, stored once by `create_app`.

Endpoints and dependencies read it through `app_state(request)` — or, as a parameter,
`state: State` — never through `request.app.state.<attribute>`: a misspelt attribute is a
type error here, not an `AttributeError` in the middle of a request.

    @router.get("/tasks/types")
    async def list_task_types(state: State, db: DbSession) -> ...:
        heartbeat = state.settings.worker_heartbeat_seconds
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, FastAPI, Request

if TYPE_CHECKING:  # annotations only: core does not import the domains at run time
    from studypath.config import Settings
    from studypath.core.db import Database
    from studypath.health.service import CachedDatabaseCheck
    from studypath.tasks.registry import TaskRegistry

# The one attribute of Starlette's untyped `app.state` that studypath uses.
_STATE_ATTRIBUTE = "studypath"


@dataclass
class AppState:
    """Everything one application instance shares between its requests."""

    settings: Settings
    registry: TaskRegistry  # the task types this system knows (creation rules, minimum roles)
    database: Database | None = None  # opened at startup (lifespan), unless given already
    clock: Callable[[], float] = time.monotonic  # for the uptime
    started: float = field(default_factory=time.monotonic)  # `clock()` at startup
    database_check: CachedDatabaseCheck | None = None  # health's cached check, made on first use

    @property
    def db(self) -> Database:
        """The open database; a clear error for code that runs before startup opened it."""
        if self.database is None:
            raise RuntimeError("the application's database is not open (its startup has not run)")
        return self.database

    def mark_database_suspect(self) -> None:
        """A request failed (or timed out) reaching the database: readiness looks again."""
        if self.database is not None:
            self.database.mark_suspect()

    def uptime(self) -> float:
        """Seconds since startup, to the millisecond."""
        return round(self.clock() - self.started, 3)


def install_state(app: FastAPI, state: AppState) -> None:
    """Store the application's state (`create_app` does, once)."""
    setattr(app.state, _STATE_ATTRIBUTE, state)


def state_of(app: FastAPI) -> AppState:
    """The state `create_app` stored on `app` (for code that holds the app, not a request)."""
    state = getattr(app.state, _STATE_ATTRIBUTE, None)
    if not isinstance(state, AppState):
        raise RuntimeError("this application was not made by studypath's create_app")
    return state


def app_state(request: Request) -> AppState:
    """The state of the application serving `request`."""
    return state_of(request.app)


async def request_state(request: Request) -> AppState:
    """`app_state` as the dependency `State`. Async on purpose: FastAPI runs a plain `def`
    dependency in its thread pool, a hand-over to another thread and back for every request
    (measured: about a third of a readiness probe's CPU), where this only reads an attribute."""
    return app_state(request)


State = Annotated[AppState, Depends(request_state)]
