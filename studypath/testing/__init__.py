"""studypath.testing: test a studypath system the way the study guide's week 6 does.

    async def test_create_note_success(app):                 # the `app` fixture
        user, token = await authenticated_user(app)
        response = await app.post_json("/api/v1/notes", {"title": "Hi"}, token=token)
        assert response.status_code == 201

- `spawn_app()` / the `app` fixture: a real server on a free port over a database cloned
  from a migrated template, dropped afterwards (`TestApp`); `app.run_tasks()` drains the
  task queue through a real worker;
- factories with unique data per call: `make_user`, `authenticated_user`, `make_note`,
  `make_task`;
- the pytest plugin (`studypath.testing.plugin`, installed as a `pytest11` entry point):
  the fixtures `app`, `postgres`, `database_url`, `settings`, `system`, `client`, `db`,
  `session`;
- `studypath.testing.api_suite`: a black-box contract suite for any running server
  (`studypath check-api --url …`).

Importing this package is cheap: the system's modules load when a name is first used, so
the pytest plugin costs nothing in a test run that does not use it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from studypath.testing.app import TestApp, spawn_app
    from studypath.testing.database import DatabaseTimings, TestPostgres, start_test_postgres
    from studypath.testing.factories import (
        DEFAULT_PASSWORD,
        authenticated_user,
        make_note,
        make_task,
        make_task_type,
        make_user,
        start_session,
        unique,
    )
    from studypath.testing.server import (
        client_for,
        running_system,
        settings_for_tests,
        use_test_hashing,
    )

_WHERE = {
    "TestApp": "app",
    "spawn_app": "app",
    "DatabaseTimings": "database",
    "TestPostgres": "database",
    "start_test_postgres": "database",
    "DEFAULT_PASSWORD": "factories",
    "authenticated_user": "factories",
    "make_note": "factories",
    "make_task": "factories",
    "make_task_type": "factories",
    "make_user": "factories",
    "start_session": "factories",
    "unique": "factories",
    "client_for": "server",
    "running_system": "server",
    "settings_for_tests": "server",
    "use_test_hashing": "server",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'studypath.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(f"studypath.testing.{module}"), name)


__all__ = [
    "DEFAULT_PASSWORD",
    "DatabaseTimings",
    "TestApp",
    "TestPostgres",
    "authenticated_user",
    "client_for",
    "make_note",
    "make_task",
    "make_task_type",
    "make_user",
    "running_system",
    "settings_for_tests",
    "spawn_app",
    "start_session",
    "start_test_postgres",
    "unique",
    "use_test_hashing",
]
