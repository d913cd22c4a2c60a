"""The caller owns the transaction: services flush, the request (or CLI command, worker step,
periodic job, Workbench) commits once — and a commit that fails is an error answer.

See docs/architecture.md, "Transactions: the caller owns them".
"""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.config import Settings
from studypath.core.db import Database, after_commit
from studypath.notes import service as notes_service
from studypath.notes.models import Note, NoteShare, SharePermission
from studypath.notes.service import NOTIFICATION_TASK
from studypath.tasks.models import Task
from studypath.testing.factories import make_task_type, make_user, start_session

PACKAGE = Path(__file__).resolve().parents[2] / "studypath"

# The scopes that own a transaction: every `.commit(` in these modules is allowed.
COMMITTING_MODULES = {
    "core/db.py": "the request's unit of work (get_session)",
    "core/periodic.py": "the periodic job runner",
    "tasks/worker.py": "the worker's steps",
    "runtime.py": "the Workbench",
    "migrations/env.py": "Alembic",
    "testing/factories.py": "a test's factories: each row is committed for the server to see",
}
COMMITTING_PACKAGES = ("cli/",)  # each command is its own scope

# The exceptions, function by function: bookkeeping committed ahead of the request's work.
COMMITTING_FUNCTIONS = {
    ("auth/throttle.py", "commit_now"): "failed-login/registration counts outlive the 401/429",
    ("auth/keys.py", "resolve_key"): "key-use mark: no row lock held for the request",
}


def commit_calls(source: str) -> list[str]:
    """The name of the function around each `.commit(...)` call in `source`."""
    found: list[str] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = child.name if function == "<module>" else function
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr == "commit"
            ):
                found.append(function)
            visit(child, inner)

    visit(ast.parse(source), "<module>")
    return found


def test_only_the_designated_scopes_commit() -> None:
    offenders, exceptions_seen = [], set()
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        if module in COMMITTING_MODULES or module.startswith(COMMITTING_PACKAGES):
            continue
        for function in commit_calls(path.read_text()):
            if (module, function) in COMMITTING_FUNCTIONS:
                exceptions_seen.add((module, function))
            else:
                offenders.append(f"studypath/{module}: {function}() calls .commit(")
    assert offenders == [], "services flush; the caller commits:\n" + "\n".join(offenders)
    assert exceptions_seen == set(COMMITTING_FUNCTIONS)  # the list names no stale exception


def test_the_commit_finder_sees_a_commit_inside_a_service() -> None:
    source = "async def create(session):\n    session.add(1)\n    await session.commit()\n"
    assert commit_calls(source) == ["create"]


# --- a commit that fails answers an error, never a 200 ----------------------------------------
FAIL_AT_COMMIT = (
    """CREATE FUNCTION fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'refused at commit' USING ERRCODE = '{errcode}'; END $$""",
    """CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT ON {table}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_at_commit()""",
)


async def refuse_commits_of(session: AsyncSession, table: str, errcode: str = "P0001") -> None:
    """Make every transaction that inserts into `table` fail at COMMIT (a deferred trigger),
    after the handler has returned and its response was built."""
    for statement in FAIL_AT_COMMIT:
        await session.execute(text(statement.format(table=table, errcode=errcode)))
    await session.commit()


async def signed_in(session: AsyncSession, settings: Settings) -> dict[str, str]:
    user = await make_user(session)
    return {"Authorization": f"Bearer {await start_session(session, user, settings)}"}


async def count_notes(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Note)) or 0)


async def test_a_commit_that_fails_answers_503_not_200(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    headers = await signed_in(session, settings)
    await refuse_commits_of(session, "notes")

    response = await client.post(
        "/api/v1/notes", headers=headers, json={"title": "lost", "content": "never stored"}
    )

    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert "nothing was saved" in response.json()["error"]["message"]
    assert await count_notes(session) == 0
    after = await client.get("/api/v1/notes", headers=headers)  # the server is fine after it
    assert after.status_code == 200 and after.json()["data"] == []


async def test_a_constraint_only_the_commit_sees_answers_500_not_200(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    headers = await signed_in(session, settings)
    await refuse_commits_of(session, "notes", errcode="23505")  # unique_violation

    response = await client.post(
        "/api/v1/notes", headers=headers, json={"title": "lost", "content": "never stored"}
    )

    assert response.status_code == 500, response.text
    assert response.json()["error"]["code"] == "INTERNAL_ERROR"
    assert await count_notes(session) == 0


async def test_a_request_that_writes_nothing_is_unaffected_by_the_commit(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    headers = await signed_in(session, settings)
    await refuse_commits_of(session, "notes")

    assert (await client.get("/api/v1/notes", headers=headers)).status_code == 200


# --- after_commit: what must not happen for work never stored --------------------------------
async def test_after_commit_runs_on_commit_and_is_forgotten_on_rollback(db: Database) -> None:
    ran: list[str] = []
    async with db.sessionmaker() as session:
        after_commit(session, lambda: ran.append("rolled back"))
        await session.execute(text("SELECT 1"))
        await session.rollback()
        after_commit(session, lambda: ran.append("committed"))
        assert ran == []
        await session.execute(text("SELECT 1"))
        await session.commit()
        await session.commit()  # a second commit does not run it again
    assert ran == ["committed"]


async def test_a_failing_after_commit_callback_does_not_fail_the_commit(db: Database) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("side effect failed")

    async with db.sessionmaker() as session:
        after_commit(session, broken)
        after_commit(session, lambda: ran.append("next"))
        await session.execute(text("SELECT 1"))
        await session.commit()
    assert ran == ["next"]


async def test_after_commit_survives_a_savepoint_rollback(db: Database) -> None:
    ran: list[str] = []
    async with db.sessionmaker() as session:
        after_commit(session, lambda: ran.append("outer"))
        async with session.begin_nested() as savepoint:
            await savepoint.rollback()
        await session.commit()
    assert ran == ["outer"]


# --- a note share and its notification task: one transaction ---------------------------------
async def count_shares_and_tasks(session: AsyncSession) -> tuple[int, int]:
    shares = await session.scalar(select(func.count()).select_from(NoteShare))
    tasks = await session.scalar(
        select(func.count()).select_from(Task).where(Task.task_type == NOTIFICATION_TASK)
    )
    return int(shares or 0), int(tasks or 0)


async def test_a_share_whose_transaction_fails_after_the_enqueue_leaves_neither(
    db: Database, session: AsyncSession
) -> None:
    await make_task_type(session, NOTIFICATION_TASK)  # as a worker registers it
    owner, recipient = await make_user(session), await make_user(session)
    note = Note(owner_id=owner.id, title="plans", content="secret")
    session.add(note)
    await session.commit()

    try:
        async with db.sessionmaker.begin() as caller:  # the caller's transaction
            shared = await notes_service.share_note(
                caller,
                owner.id,
                note.id,
                username=recipient.username,
                user_id=None,
                permission=SharePermission.READ,
            )
            assert shared.notification_task_id is not None  # queued, in this transaction
            raise RuntimeError("something after the enqueue fails")
    except RuntimeError:
        pass

    assert await count_shares_and_tasks(session) == (0, 0)


@pytest.mark.parametrize(
    ("commit_of_tasks_fails", "status", "shares_and_tasks"),
    [(False, 201, (1, 1)), (True, 503, (0, 0))],
    ids=["both-commit", "enqueue-fails-503-neither"],
)
async def test_a_share_commits_with_its_task_or_not_at_all(
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    commit_of_tasks_fails: bool,
    status: int,
    shares_and_tasks: tuple[int, int],
) -> None:
    owner, recipient = await make_user(session), await make_user(session)
    headers = {"Authorization": f"Bearer {await start_session(session, owner, settings)}"}
    note = await client.post("/api/v1/notes", headers=headers, json={"title": "t", "content": "c"})
    if commit_of_tasks_fails:
        await refuse_commits_of(session, "tasks")  # the enqueue itself fails, at the commit

    response = await client.post(
        f"/api/v1/notes/{note.json()['data']['id']}/share",
        headers=headers,
        json={"username": recipient.username},
    )

    assert response.status_code == status, response.text
    assert await count_shares_and_tasks(session) == shares_and_tasks
