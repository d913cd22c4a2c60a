"""Labs of `kind = "tests"` (lab 6): the learner writes tests, mutants grade them. The lab is
honest: the solution's tests pass on the real notes feature and kill every mutant; the
released copy kills none; a copy with some tests written is graded on those."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from studypath.cli import app
from studypath.labs.catalog import get_lab, release
from studypath.labs.markers import find_blocks
from studypath.labs.mutants import load_mutants
from studypath.labs.report import text_report
from studypath.labs.runner import LabRun, run_lab

LAB = "lab-06-testing-notes"
pytestmark = pytest.mark.timeout(600)

# Each mutant's area, by the words of its hint: the issue asks for all of these.
AREAS = {
    "validation": ("title", "permission 'owner'", "201"),
    "ownership": ("another user",),
    "sharing": ("recipient", "revoking"),
    "public notes": ("public",),
    "pagination": ("offset", "X-Total-Count"),
    "the notification task": ("notified",),
}


def test_the_lab_is_a_tests_lab_with_ten_or_more_mutants_in_every_area() -> None:
    lab = get_lab(LAB)
    mutants = load_mutants(lab)

    assert lab.grades_tests and lab.week == 6 and lab.instructor_only == ("mutants.py",)
    assert len(mutants) >= 10
    assert len({mutant.name for mutant in mutants}) == len(mutants)
    for area, words in AREAS.items():
        assert any(word in m.hint for m in mutants for word in words), area


def test_the_released_copy_has_stubs_and_no_mutants(tmp_path: Path) -> None:
    lab = get_lab(LAB)

    written = release(lab, tmp_path / "copy")

    names = {path.name for path in written}
    assert "mutants.py" not in names
    assert {"test_notes_lab.py", "README.md", "lab.toml", "pytest.ini"} <= names
    released = (tmp_path / "copy" / "test_notes_lab.py").read_text()
    solutions = find_blocks((lab.path / "test_notes_lab.py").read_text())
    assert released.count("raise NotImplementedError(") == len(solutions)
    for name in ("test_create_note_success", "test_create_note_unauthorized"):
        assert f"async def {name}(app: TestApp)" in released


@pytest.fixture(scope="module")
def solution() -> tuple[LabRun, float]:
    started = time.perf_counter()
    run = run_lab(get_lab(LAB))
    return run, time.perf_counter() - started


def test_the_solution_passes_on_the_reference_and_kills_every_mutant(
    solution: tuple[LabRun, float],
) -> None:
    run, seconds = solution

    assert not run.setup_error, text_report(run)
    assert run.all_passed and run.total == len(load_mutants(get_lab(LAB))), text_report(run)
    assert all(result.detail.startswith("killed by test_") for result in run.results)
    report = text_report(run)
    assert report.endswith(f"mutation score: {run.total}/{run.total} mutants killed (100 %)")
    print(f"\nlab 6 graded (reference + {run.total} mutants) in {seconds:.1f} s")


def test_cli_check_of_the_released_copy_kills_no_mutant_and_says_why(tmp_path: Path) -> None:
    lab = get_lab(LAB)
    release(lab, tmp_path / "copy")

    result = CliRunner().invoke(app, ["labs", "check", "lab-06", "--path", str(tmp_path / "copy")])

    total = len(load_mutants(lab))
    assert result.exit_code == 1
    assert "not graded: your tests must pass against the reference" in result.stdout
    assert "no test written yet (13 still raise NotImplementedError)" in result.stdout
    assert result.stdout.rstrip().endswith(f"mutation score: 0/{total} mutants killed (0 %)")


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`studypath labs grade` on two learners: ada wrote the guide's first and third tests;
    bob wrote one test of his own, which fails on the real feature."""
    lab = get_lab(LAB)
    root = tmp_path_factory.mktemp("lab06")
    submissions = root / "submitted"
    release(
        lab,
        submissions / "ada",
        keep=("test_create_note_success", "test_user_can_only_see_own_notes"),
    )
    release(lab, submissions / "bob")
    with (submissions / "bob" / "test_notes_lab.py").open("a") as tests:
        tests.write(
            "\n\nasync def test_wrong(app: TestApp) -> None:\n"
            "    assert (await app.get('/api/v1/notes')).status_code == 200\n"
        )
    result = CliRunner().invoke(
        app, ["labs", "grade", "lab-06", str(submissions), "--out", str(root / "grades")]
    )
    assert result.exit_code == 0, result.output
    return root / "grades"


def test_grading_counts_the_mutants_the_written_tests_kill_and_names_the_survivors(
    graded: Path,
) -> None:
    rows = {row["learner"]: row for row in csv.DictReader((graded / "gradebook.csv").open())}
    ada = rows["ada"]
    killed = {name for name, value in ada.items() if value == "1" and name not in ("passed",)}

    assert killed == {"create_answers_200", "private_notes_readable", "list_shows_everyones_notes"}
    assert ada["passed"] == "3" and ada["setup_error"] == ""
    report = (graded / "ada.md").read_text()
    assert (
        "| `offset_ignored` | ❌ | the list ignores `offset`: every page is the first page"
        in report
    )


def test_a_test_that_fails_on_the_reference_means_nothing_is_graded(graded: Path) -> None:
    rows = {row["learner"]: row for row in csv.DictReader((graded / "gradebook.csv").open())}

    assert rows["bob"]["passed"] == "0"
    assert "failing there: test_wrong: assert 401 == 200" in rows["bob"]["setup_error"]
