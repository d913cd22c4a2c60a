"""Labs: markers, the catalog, `Workbench.install`, the CLI — and that every lab is honest:
its solution passes every check (public and hidden) and its released copy fails them.

One Workbench serves the whole module (on a database cloned from the migrated template):
every lab run installs its copy into it and takes it out again, as `labs grade` does.
"""

from __future__ import annotations

import csv
import re
import shutil
import types
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from typer.testing import CliRunner

import studypath
from studypath.cli import app
from studypath.core.clock import poll_until
from studypath.labs.catalog import LabSpec, get_lab, list_labs, release
from studypath.labs.markers import MarkerError, find_blocks, hidden_lines, release_text
from studypath.labs.report import gradebook_columns, gradebook_csv, learner_markdown, text_report
from studypath.labs.runner import SANDBOX_SETTINGS, CheckResult, LabRun, load_checks, run_lab
from studypath.runtime import Workbench
from studypath.tasks.registry import BUILTINS, TaskContext, TaskRegistry
from studypath.testing.database import TestPostgres

LABS = ["lab-03-retry-and-handler", "lab-05-notes"]

SOURCE = '''\
def outer(x):
    """Docstring stays."""
    if x:
        ### BEGIN SOLUTION Step 2
        y = x * 2
        return y
        ### END SOLUTION
    return 0


async def top():
    ### BEGIN SOLUTION
    return 1
    ### END SOLUTION


def check_public(lab):
    """Shown to learners."""


### BEGIN HIDDEN TESTS
def check_secret(lab):
    """Only the grader runs this."""
### END HIDDEN TESTS
'''


# --------------------------------------------------------------------------- markers
def test_release_stubs_each_solution_with_its_indentation_and_a_pointer() -> None:
    released = release_text(SOURCE, "lab.py")

    assert "BEGIN SOLUTION" not in released and "y = x * 2" not in released
    assert (
        "        # YOUR CODE HERE\n"
        "        raise NotImplementedError('outer(): your code here (Step 2); see README.md')\n"
        "    return 0\n"
    ) in released
    assert "    raise NotImplementedError('top(): your code here; see README.md')\n" in released
    assert '"""Docstring stays."""' in released
    namespace: dict[str, object] = {}
    exec(compile(released, "lab.py", "exec"), namespace)  # still valid Python
    with pytest.raises(NotImplementedError, match=r"outer\(\)"):
        namespace["outer"](1)  # type: ignore[operator]
    assert namespace["outer"](0) == 0  # type: ignore[operator]


def test_release_removes_hidden_blocks_and_keeps_public_ones() -> None:
    released = release_text(SOURCE, "checks.py")

    assert "check_public" in released
    assert "check_secret" not in released and "HIDDEN" not in released
    lines = SOURCE.splitlines()
    hidden = hidden_lines(SOURCE)
    assert {lines[n - 1].split("(")[0] for n in hidden if "def " in lines[n - 1]} == {
        "def check_secret"
    }


def test_keep_leaves_the_named_solutions_in() -> None:
    released = release_text(SOURCE, keep={"top"})

    assert "    return 1\n" in released
    assert "y = x * 2" not in released


def test_blocks_know_their_function_and_step() -> None:
    blocks = find_blocks(SOURCE)

    assert [(b.kind, b.function, b.step) for b in blocks] == [
        ("solution", "outer", "Step 2"),
        ("solution", "top", ""),
        ("hidden", None, ""),
    ]
    assert (blocks[0].begin, blocks[0].end, blocks[0].indent) == (4, 7, " " * 8)


@pytest.mark.parametrize(
    ("source", "line", "problem"),
    [
        ("x = 1\n### BEGIN SOLUTION\ny = 2\n", 2, "never closed"),
        ("x = 1\n### END SOLUTION\n", 2, "without a matching BEGIN"),
        ("### BEGIN SOLUTION\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n", 2, "inside"),
        ("### BEGIN HIDDEN TESTS\nx = 1\n### END SOLUTION\n", 3, "closes"),
    ],
    ids=["unclosed", "stray-end", "nested", "mismatched"],
)
def test_unbalanced_markers_are_an_error_naming_file_and_line(
    source: str, line: int, problem: str
) -> None:
    with pytest.raises(MarkerError, match=rf"^lab\.py:{line}: .*{problem}") as raised:
        release_text(source, "lab.py")
    assert (raised.value.filename, raised.value.line) == ("lab.py", line)


# --------------------------------------------------------------------------- the catalog
def test_the_labs_folder_is_found_and_described_by_lab_toml() -> None:
    labs = {lab.name: lab for lab in list_labs()}

    assert set(LABS) <= set(labs)
    notes = labs["lab-05-notes"]
    assert (notes.week, notes.module, notes.files, notes.schemas) == (
        5,
        "notes_lab",
        ("notes_lab.py",),
        ("lab_notes",),
    )
    assert get_lab("lab-05") == notes
    with pytest.raises(LookupError, match="lab-03-retry-and-handler"):
        get_lab("lab-99")


@pytest.mark.parametrize("name", LABS)
def test_a_released_copy_has_stubs_and_no_solution_or_hidden_check(
    name: str, tmp_path: Path
) -> None:
    lab = get_lab(name)
    written = release(lab, tmp_path / "copy")

    assert {path.name for path in written} >= {*lab.files, lab.checks, "lab.toml", "README.md"}
    for path in written:
        if path.suffix != ".py":
            continue
        released = path.read_text()
        assert "### BEGIN" not in released and "### END" not in released, path
        compile(released, str(path), "exec")
        original = (lab.path / path.name).read_text()
        solutions = [b for b in find_blocks(original) if b.kind == "solution"]
        assert released.count("raise NotImplementedError(") == len(solutions), path
    assert not (tmp_path / "copy" / "__pycache__").exists()


@pytest.mark.parametrize("name", LABS)
def test_every_check_has_a_hint_and_public_checks_come_first(name: str) -> None:
    checks = load_checks(get_lab(name), hidden=True)

    assert all(check.hint and "\n" not in check.hint for check in checks)
    assert len({check.name for check in checks}) == len(checks)
    hidden = [check.hidden for check in checks]
    assert hidden == sorted(hidden) and any(hidden) and not all(hidden)
    public = load_checks(get_lab(name), hidden=False)
    assert [c.name for c in public] == [c.name for c in checks if not c.hidden]


# --------------------------------------------------------------------------- one Workbench
@pytest.fixture(scope="module")
def wb(postgres: TestPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workbench]:
    url = postgres.clone()
    workbench = studypath.start(
        database_url=url, data_dir=tmp_path_factory.mktemp("labs"), port=0, **SANDBOX_SETTINGS
    )
    yield workbench
    workbench.stop()
    postgres.drop(url)


class Echo(BaseModel):
    words: list[str]


def echo_extension() -> types.ModuleType:
    """An extension with all three parts: a table, a task handler and a router."""
    extension = types.ModuleType("echo_ext")
    extension.SCHEMA_SQL = (  # type: ignore[attr-defined]
        "CREATE SCHEMA IF NOT EXISTS ext_echo; CREATE TABLE IF NOT EXISTS ext_echo.said (word text)"
    )

    async def migrate(conn: AsyncConnection) -> None:
        await conn.execute(text("INSERT INTO ext_echo.said VALUES ('migrated')"))

    async def echo(payload: Echo, ctx: TaskContext) -> dict[str, object]:
        return {"echoed": payload.words, "attempt": ctx.attempt}

    def register(tasks: TaskRegistry) -> None:
        tasks.register("ext_echo", "Echo the words back", payload=Echo)(echo)

    router = APIRouter()

    @router.get("/echo/said")
    async def said() -> list[str]:
        return ["migrated"]

    extension.migrate = migrate  # type: ignore[attr-defined]
    extension.register = register  # type: ignore[attr-defined]
    extension.router = router  # type: ignore[attr-defined]
    return extension


def test_install_plugs_tables_handlers_and_routes_into_the_running_system(wb: Workbench) -> None:
    with wb.admin() as admin:
        check_install(wb, admin)


def check_install(wb: Workbench, admin: httpx.Client) -> None:
    assert admin.get("/api/v1/lab/echo/said").status_code == 404

    installation = wb.install(echo_extension())

    assert admin.get("/api/v1/lab/echo/said").json() == ["migrated"]  # the live app routes it
    assert "/api/v1/lab/echo/said" in wb.app.openapi()["paths"]
    assert wb.sql("SELECT word FROM ext_echo.said") == [{"word": "migrated"}]
    created = admin.post(
        "/api/v1/tasks", json={"task_type": "ext_echo", "payload": {"words": ["hi"]}}
    ).json()["data"]
    task = wait_for_task(admin, created["id"])
    assert (task["status"], task["result"]) == ("completed", {"echoed": ["hi"], "attempt": 1})
    bad = admin.post("/api/v1/tasks", json={"task_type": "ext_echo", "payload": {"words": 1}})
    assert bad.status_code == 400  # the handler's payload schema was registered too
    assert installation.task_types == ["ext_echo"]

    installation.uninstall()

    assert admin.get("/api/v1/lab/echo/said").status_code == 404
    assert "/api/v1/lab/echo/said" not in wb.app.openapi()["paths"]
    assert wb.registry.get("ext_echo") is None
    assert BUILTINS.get("ext_echo") is None  # the system's registry, never the catalogue
    assert wb.sql("SELECT count(*) AS n FROM ext_echo.said") == [{"n": 1}]  # tables stay
    wb.install(echo_extension()).uninstall()  # installing again is fine
    wb.sql("DROP SCHEMA ext_echo CASCADE")


def wait_for_task(admin: httpx.Client, task_id: str) -> dict[str, object]:
    def finished() -> dict[str, object] | None:
        task: dict[str, object] = admin.get(f"/api/v1/tasks/{task_id}").json()["data"]
        return task if task["status"] in {"completed", "failed"} else None

    return poll_until(finished, within=10, what=f"task {task_id} to finish")


async def do_nothing(payload: object, ctx: TaskContext) -> None:
    return None


def test_install_refuses_to_take_over_a_system_task_type(wb: Workbench) -> None:
    extension = types.SimpleNamespace(
        register=lambda tasks: tasks.register("notification")(do_nothing), router=APIRouter()
    )
    routes = list(wb.app.router.routes)
    builtin = wb.registry.get("notification")

    with pytest.raises(ValueError, match="notification"):
        wb.install(extension)

    assert wb.registry.get("notification") is builtin
    assert wb.app.router.routes == routes


def test_a_failed_install_takes_out_what_it_plugged_in(wb: Workbench) -> None:
    extension = types.SimpleNamespace(
        register=lambda tasks: tasks.register(f"ext_{uuid.uuid4().hex[:8]}")(do_nothing),
        router="not a router",
    )
    before = set(wb.registry.names())

    with pytest.raises(AttributeError):
        wb.install(extension)

    assert set(wb.registry.names()) == before


def test_a_task_claimed_just_as_its_handler_goes_away_is_handed_back(
    wb: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uninstalling races the worker: it may claim a task of the type a moment before the
    handler is unregistered. The task goes back to the queue; the worker lives on."""
    installation = wb.install(echo_extension())
    real_get = wb.registry.get
    monkeypatch.setattr(
        wb.registry, "get", lambda name: None if name == "ext_echo" else real_get(name)
    )
    with wb.admin() as admin:
        body = {"task_type": "ext_echo", "payload": {"words": ["later"]}}
        created = admin.post("/api/v1/tasks", json=body).json()["data"]
        poll_until(
            lambda: wb.logs(contains=f"task {created['id']} handed back"),
            within=10,
            what="the task to be handed back",
        )
        monkeypatch.undo()  # the handler is back: the same task now runs, on its first attempt
        task = wait_for_task(admin, created["id"])
    installation.uninstall()
    wb.sql("DROP SCHEMA ext_echo CASCADE")
    assert wb.running
    assert (task["status"], task["current_attempt"]) == ("completed", 1)


# --------------------------------------------------------------------------- honest labs
@pytest.mark.parametrize("name", LABS)
def test_the_solution_passes_every_check_public_and_hidden(name: str, wb: Workbench) -> None:
    run = run_lab(get_lab(name), hidden=True, wb=wb)

    assert run.all_passed, text_report(run)
    assert not run.setup_error
    assert any(result.hidden for result in run.results)


@pytest.mark.parametrize("name", LABS)
def test_the_released_copy_fails_every_check(name: str, wb: Workbench, tmp_path: Path) -> None:
    lab = get_lab(name)
    release(lab, tmp_path / "copy")

    run = run_lab(lab, tmp_path / "copy", hidden=True, wb=wb)

    assert run.passed == 0, text_report(run)
    assert run.total == len(load_checks(lab, hidden=True))
    if name == "lab-05-notes":  # migrate() is a stub: the copy cannot even be installed
        assert "migrate()" in run.setup_error


def test_a_copy_that_does_not_import_fails_every_check_and_says_why(
    wb: Workbench, tmp_path: Path
) -> None:
    lab = get_lab("lab-03-retry-and-handler")
    release(lab, tmp_path / "copy")
    (tmp_path / "copy" / "retry_lab.py").write_text("def backoff_delay(:\n")

    run = run_lab(lab, tmp_path / "copy", wb=wb)

    assert run.passed == 0 and run.total == len(load_checks(lab, hidden=False))
    assert run.setup_error.startswith("could not import retry_lab from ")
    assert "SyntaxError" in run.setup_error
    assert all(result.error == "not run" and not result.ran for result in run.results)


def test_lab_05_with_only_the_tables_done_fails_every_check_of_later_steps(
    wb: Workbench, tmp_path: Path
) -> None:
    """Step 1 done, the rest stubs: only the checks the given code answers on its own pass —
    the tables, the 401 of the `CurrentUser` dependency, the 422 of the request model."""
    lab = get_lab("lab-05-notes")
    release(lab, tmp_path / "copy", keep=("migrate",))

    run = run_lab(lab, tmp_path / "copy", hidden=True, wb=wb)

    passed = {result.name for result in run.results if result.passed}
    assert passed == {"tables", "create_note_requires_sign_in", "note_validation"}, text_report(run)
    failed = next(r for r in run.results if r.name == "create_note_returns_201")
    assert "the server raised NotImplementedError: create_note_route()" in failed.error


def test_two_copies_in_one_workbench_do_not_share_state(wb: Workbench, tmp_path: Path) -> None:
    """Each run starts from empty lab tables and leaves no routes, handlers or tasks behind."""
    lab = get_lab("lab-05-notes")
    routes = list(wb.app.router.routes)

    first = run_lab(lab, wb=wb)
    second = run_lab(lab, wb=wb)

    assert first.all_passed and second.all_passed, text_report(second)
    assert wb.app.router.routes == routes
    assert wb.registry.get("lab_note_shared") is None
    assert wb.sql("SELECT 1 FROM pg_namespace WHERE nspname = 'lab_notes'") == []
    waiting = wb.sql(
        "SELECT count(*) AS n FROM tasks WHERE task_type = 'lab_note_shared' "
        "AND status IN ('pending', 'retrying', 'running')"
    )
    assert waiting == [{"n": 0}]


# --------------------------------------------------------------------------- reports
def fake_run(passed: set[str]) -> LabRun:
    lab = LabSpec("lab-x", Path("/labs/lab-x"), "A lab", 9, "", ("x.py",), "x")
    results = [
        CheckResult(
            name, name in passed, f"hint for {name}", 0.01, "" if name in passed else "boom"
        )
        for name in ["first", "second"]
    ] + [CheckResult("secret", "secret" in passed, "hidden hint", 0.0, "", hidden=True)]
    return LabRun(lab, Path("/copies/x"), results)


def test_gradebook_columns_and_rows() -> None:
    runs = {"grace": fake_run({"first", "second", "secret"}), "ada": fake_run({"first"})}

    rows = list(csv.DictReader(gradebook_csv(runs).splitlines()))

    assert gradebook_columns(runs) == [
        "learner",
        "lab",
        "passed",
        "total",
        "score",
        "first",
        "second",
        "secret",
        "setup_error",
    ]
    assert [(r["learner"], r["passed"], r["score"], r["second"]) for r in rows] == [
        ("ada", "1", "33.3", "0"),
        ("grace", "3", "100.0", "1"),
    ]


def test_text_and_markdown_reports_show_hints_for_failures_only() -> None:
    run = fake_run({"first"})

    report = text_report(run)
    markdown = learner_markdown("ada", run)

    assert " PASS  first" in report and " FAIL  second" in report
    assert "hint:  hint for second" in report and "error: boom" in report
    assert "hint for first" not in report
    assert report.endswith("1/3 checks passed")
    assert "| `secret (hidden)` | ❌ | hidden hint |" in markdown
    assert "1/3 checks passed (33 %)" in markdown


def test_checks_that_could_not_run_say_not_run_setup_failed_not_fail() -> None:
    run = fake_run(set())
    run.setup_error = "could not import retry_lab from /copies/x: SyntaxError"
    run.results = [
        CheckResult(r.name, False, r.hint, 0.0, "not run", r.hidden, ran=False) for r in run.results
    ]

    report = text_report(run)
    markdown = learner_markdown("ada", run)

    assert "setup failed: could not import retry_lab" in report
    assert report.count("not run (setup failed)") == 3
    assert "FAIL" not in report and "0.00 s" not in report and "hint:" not in report
    assert "| `first` | not run (setup failed) | |" in markdown


# --------------------------------------------------------------------------- the CLI
runner = CliRunner()


def test_cli_lists_the_labs() -> None:
    result = runner.invoke(app, ["labs", "list"])

    assert result.exit_code == 0, result.output
    assert all(name in result.output for name in LABS)


def test_cli_release_then_check_shows_failures_with_hints_and_the_learners_own_checks(
    wb: Workbench, tmp_path: Path
) -> None:
    copy = tmp_path / "my-lab"
    released = runner.invoke(app, ["labs", "release", "lab-05", "--out", str(copy)])
    assert released.exit_code == 0, released.output
    assert f"next: studypath labs check lab-05-notes --path {copy}" in released.output
    again = runner.invoke(app, ["labs", "release", "lab-05", "--out", str(copy)])
    assert again.exit_code == 1 and "not empty" in again.output

    with (copy / "checks.py").open("a") as checks:  # a learner adds a check of their own
        checks.write('\n\ndef check_my_own(lab):\n    """My own check."""\n')
    checked = runner.invoke(app, ["labs", "check", "lab-05", "--path", str(copy)])

    assert checked.exit_code == 1
    assert "setup failed: could not install notes_lab" in checked.stdout
    assert re.search(r" create_note_returns_201 +not run \(setup failed\)", checked.stdout)
    assert re.search(r" my_own +not run \(setup failed\)", checked.stdout)
    assert " FAIL " not in checked.stdout
    assert "(hidden)" not in checked.stdout
    assert checked.stdout.rstrip().endswith("0/10 checks passed")


def test_cli_check_without_the_learners_files_says_how_to_get_them(tmp_path: Path) -> None:
    result = runner.invoke(app, ["labs", "check", "lab-05", "--path", str(tmp_path)])

    assert result.exit_code == 1
    assert "studypath labs release lab-05-notes" in result.output


def test_cli_grade_writes_a_gradebook_and_a_report_per_learner(
    wb: Workbench, tmp_path: Path
) -> None:
    lab = get_lab("lab-05-notes")
    submissions = tmp_path / "submitted"
    release(lab, submissions / "ada")
    shutil.copytree(lab.path, submissions / "grace" / lab.name)  # nbgrader's layout
    out = tmp_path / "grades"

    result = runner.invoke(app, ["labs", "grade", "lab-05", str(submissions), "--out", str(out)])

    assert result.exit_code == 0, result.output
    total = len(load_checks(lab, hidden=True))
    rows = {row["learner"]: row for row in csv.DictReader((out / "gradebook.csv").open())}
    assert set(rows) == {"ada", "grace"}
    assert (rows["ada"]["passed"], rows["grace"]["passed"]) == ("0", str(total))
    assert rows["grace"]["score"] == "100.0" and rows["ada"]["setup_error"]
    assert list(rows["ada"])[:5] == ["learner", "lab", "passed", "total", "score"]
    assert "share_and_task_are_one_transaction" in rows["ada"]  # hidden checks are graded
    assert "not run (setup failed)" in (out / "ada.md").read_text()  # migrate() is a stub
    assert f"{total}/{total} checks passed" in (out / "grace.md").read_text()
