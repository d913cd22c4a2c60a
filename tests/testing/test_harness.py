"""`studypath.testing`: the TestApp, its factories, the plugin — what learners and this
project's own tests stand on, so it is tested like the rest."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from studypath.identity.roles import Role
from studypath.testing import (
    DEFAULT_PASSWORD,
    TestApp,
    TestPostgres,
    authenticated_user,
    make_note,
    make_task,
    make_user,
    spawn_app,
)
from studypath.testing.plugin import database_report

ROOT = Path(__file__).resolve().parents[2]


async def test_the_app_is_a_real_server_on_its_own_database(app: TestApp) -> None:
    _user, token = await authenticated_user(app)

    created = await app.post_json("/api/v1/notes", {"title": "first"}, token=token)
    listed = await app.get_with_auth("/api/v1/notes", token)
    anonymous = await app.get("/api/v1/notes")

    assert created.status_code == 201
    assert [note["title"] for note in listed.json()["data"]] == ["first"]
    assert anonymous.status_code == 401
    assert app.address.startswith("http://127.0.0.1:") and app.port > 0
    async with app.db.engine.connect() as conn:
        database = (await conn.execute(text("SELECT current_database()"))).scalar_one()
    assert database in app.database_url and database.startswith("test_")


async def test_factories_make_unique_rows_with_the_roles_asked_for(app: TestApp) -> None:
    first, second = await make_user(app), await make_user(app)
    admin, token = await authenticated_user(app, role=Role.ADMIN)
    note = await make_note(app, first, is_public=True)
    other_note = await make_note(app, first)

    assert first.username != second.username and first.email != second.email
    assert note.title != other_note.title and note.owner_id == first.id and note.is_public
    assert admin.role == Role.ADMIN
    me = await app.get_with_auth("/api/v1/auth/me", token)
    assert me.json()["data"]["role"] == "admin"
    assert await app.login(first.username, DEFAULT_PASSWORD)


async def test_run_tasks_drains_the_queue_through_a_real_worker(app: TestApp) -> None:
    """Sharing queues a notification task; nothing runs it until the test drains the queue."""
    owner, owner_token = await authenticated_user(app)
    reader, reader_token = await authenticated_user(app)
    note = await make_note(app, owner)
    shared = await app.post_json(
        f"/api/v1/notes/{note.id}/share", {"username": reader.username}, token=owner_token
    )
    assert shared.status_code == 201
    before = await app.get_with_auth("/api/v1/notifications", reader_token)
    assert before.json()["data"] == []

    ran = await app.run_tasks()

    after = await app.get_with_auth("/api/v1/notifications", reader_token)
    assert ran == 1
    assert [n["kind"] for n in after.json()["data"]] == ["note_shared"]
    assert await app.run_tasks() == 0  # drained: nothing left to run


async def test_run_tasks_leaves_a_task_of_an_unknown_type_alone(app: TestApp) -> None:
    """A task no handler of this system serves is not waited for (it would never finish)."""
    await make_task(app, "nobody_runs_this")

    assert await app.run_tasks(within=5) == 0


async def test_spawn_app_drops_its_database_on_the_way_out(
    postgres: TestPostgres, tmp_path: Path
) -> None:
    async with spawn_app(postgres, data_dir=tmp_path) as app:
        name = app.database_url.rsplit("/", 1)[-1].split("?")[0]
        during = postgres.databases()
        assert (await app.get("/api/v1/health")).status_code == 200

    steps = [step for step, _seconds in app.trace]
    assert steps == [
        "database cloned",
        "server listening",
        "test done",
        "server stopped",
        "database dropped",
    ]
    assert name in during
    assert name not in postgres.databases()


def test_the_database_report_says_what_a_test_database_cost() -> None:
    summaries: list[dict[str, Any]] = [
        {
            "processes": 1,
            "databases": 4,
            "clone_seconds": 0.2,
            "drop_seconds": 0.08,
            "template_seconds": 1.5,
        },
        {
            "processes": 1,
            "databases": 0,
            "clone_seconds": 0,
            "drop_seconds": 0,
            "template_seconds": 0,
        },
    ]

    assert database_report(summaries) == (
        "studypath.testing: 4 test database(s) in 2 process(es); "
        "per test 50 ms to clone + 20 ms to drop; template built and migrated in 1.5 s"
    )
    assert database_report(summaries[1:]) is None


XDIST_TESTS = """
import pytest

@pytest.mark.parametrize("n", range(4))
async def test_each_has_its_own_database(app, n):
    from studypath.testing import authenticated_user
    user, token = await authenticated_user(app, username="same_name_everywhere")
    notes = await app.get_with_auth("/api/v1/notes", token)
    assert notes.json()["data"] == []
"""


@pytest.mark.timeout(240)
def test_the_plugin_works_under_pytest_xdist(tmp_path: Path) -> None:
    """Two worker processes, each with its own server and template: the same username in
    every test never collides, and the report counts both processes' databases."""
    (tmp_path / "test_parallel.py").write_text(textwrap.dedent(XDIST_TESTS))
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "studypath.testing.plugin",
            "-p",
            "no:cacheprovider",
            "-n",
            "2",
            "-q",
            f"--basetemp={tmp_path / 'run'}",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**_environment(), "PYTHONPATH": str(ROOT)},
        timeout=220,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
    assert "studypath.testing: 4 test database(s) in 2 process(es)" in result.stdout


def _environment() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if not key.startswith("STUDYPATH_")}
