"""`studypath labs …`: list, release, check and grade the labs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from studypath.labs.catalog import LabSpec

from studypath.cli.common import command_group, echo, explained_errors, fail, rendered

# --- labs -----------------------------------------------------------------------------------
labs_app = command_group(
    "labs",
    help="Exercises with checkers: list them, release learner copies, check, grade.",
)
LabArg = Annotated[str, typer.Argument(help="The lab's folder name, or its start: lab-05.")]


def find_lab(name: str, copy: Path | None = None) -> LabSpec:
    """A lab of the `labs/` folder; else, for a learner's copy, the copy's own lab.toml."""
    from studypath.labs.catalog import LAB_FILE, get_lab, load_lab

    try:
        return get_lab(name)
    except LookupError as exc:
        if copy is not None and (copy / LAB_FILE).is_file():
            return load_lab(copy)
        raise fail(str(exc)) from None
    except ValueError as exc:
        raise fail(str(exc)) from None


def progress(message: str) -> None:
    echo(message, err=True)


@labs_app.command("list")
def labs_list() -> None:
    """The labs, with the guide's week each belongs to."""
    from rich.table import Table

    from studypath.labs.catalog import list_labs

    labs = list_labs()
    if not labs:
        raise fail("no labs/ folder found; run this from a studypath checkout")
    table = Table("lab", "week", "title", "summary")
    for lab in labs:
        table.add_row(lab.name, str(lab.week), lab.title, lab.summary)
    echo(rendered(table))


@labs_app.command("release")
def labs_release(
    lab: LabArg,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the copy (default ./<lab>).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Write into a folder that is not empty.")] = False,
) -> None:
    """Write the learner's copy: solutions replaced by stubs, hidden checks removed."""
    from studypath.labs.catalog import release
    from studypath.labs.markers import MarkerError

    spec = find_lab(lab)
    target = (out or Path.cwd() / spec.name).resolve()
    if target == spec.path:
        raise fail("the copy cannot replace the lab itself; pick another --out")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise fail(f"{target} is not empty; pass --force to write into it anyway")
    try:
        files = release(spec, target)
    except MarkerError as exc:
        raise fail(str(exc)) from None
    for file in files:
        echo(f"wrote {file}")
    echo(f"next: studypath labs check {spec.name} --path {target}")


@labs_app.command("check")
def labs_check(
    lab: LabArg,
    path: Annotated[
        Path, typer.Option("--path", help="The learner's copy (default: this folder).")
    ] = Path("."),
) -> None:
    """Run the public checks on a learner's copy: each check, PASS or FAIL, and a hint.
    Checks you added to the copy's own check file run too. Exit 1 unless all pass."""
    from studypath.labs.report import text_report
    from studypath.labs.runner import run_lab

    copy = path.resolve()
    spec = find_lab(lab, copy)
    missing = [name for name in spec.files if not (copy / name).is_file()]
    if missing:
        raise fail(
            f"{copy} has no {', '.join(missing)}; "
            f"make your copy with: studypath labs release {spec.name}"
        )
    own_checks = copy / spec.checks
    checks_from = own_checks if own_checks.is_file() and copy != spec.path else None
    with explained_errors():
        run = run_lab(spec, copy, checks_from=checks_from, progress=progress)
    echo(text_report(run))
    raise typer.Exit(0 if run.all_passed else 1)


@labs_app.command("grade")
def labs_grade(
    lab: LabArg,
    submissions: Annotated[
        Path,
        typer.Argument(
            exists=True,
            file_okay=False,
            help="One folder per learner (or <learner>/<lab>/, as nbgrader's submitted/).",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the grades (default ./grades/<lab>)."),
    ] = None,
) -> None:
    """Instructors: public and hidden checks for every submission, then gradebook.csv and a
    markdown report per learner."""
    from rich.table import Table

    from studypath.labs.report import write_grades
    from studypath.labs.runner import run_submissions

    spec = find_lab(lab)
    target = (out or Path.cwd() / "grades" / spec.name).resolve()
    folders = sorted(
        folder
        for folder in submissions.iterdir()
        if folder.is_dir() and not folder.name.startswith(".") and folder.resolve() != target
    )
    if not folders:
        raise fail(f"no submissions in {submissions} (one folder per learner)")
    copies = {
        folder.name: folder / spec.name if (folder / spec.name).is_dir() else folder
        for folder in folders
    }
    with explained_errors():
        runs = run_submissions(spec, copies, progress=progress)
    written = write_grades(runs, target)
    table = Table("learner", "passed", "score", "setup")
    for learner, run in sorted(runs.items()):
        setup = "failed" if run.setup_error else "ok"
        table.add_row(learner, f"{run.passed}/{run.total}", f"{run.score:.0f} %", setup)
    echo(rendered(table))
    echo(f"wrote {written[0]} and {len(written) - 1} learner report(s) in {target}")
