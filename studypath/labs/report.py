"""Reports of lab runs: readable text for a learner, a CSV gradebook and markdown per learner."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from studypath.labs.runner import LabRun

PASS, FAIL = "PASS", "FAIL"
NOT_RUN = "not run (setup failed)"  # a check that never ran did not fail: nothing was there


def text_report(run: LabRun) -> str:
    """Each check with PASS/FAIL; under a failure, its hint and what went wrong. Checks that
    could not run (the copy did not import or install) say so instead of a 0.00 s FAIL.
    (A tests lab: each mutant, killed or survived — see `mutation_report`.)"""
    if run.lab.grades_tests:
        return mutation_report(run)
    lines = _heading(run, "checked", "setup failed")
    width = _name_width(run)
    for result in run.results:
        hidden = " (hidden)" if result.hidden else ""
        if not result.ran:
            lines.append(f" ----  {result.name:<{width}}  {NOT_RUN}{hidden}")
            continue
        mark = PASS if result.passed else FAIL
        lines.append(f" {mark}  {result.name:<{width}}  {result.duration:5.2f} s{hidden}")
        if not result.passed:
            lines.append(f"       hint:  {result.hint}")
            if result.error:
                lines.append(f"       error: {_indented(result.error, 14)}")
    lines += ["", f"{run.passed}/{run.total} checks passed"]
    return "\n".join(lines)


KILLED, SURVIVED = "killed", "SURVIVED"


def mutation_report(run: LabRun) -> str:
    """A tests lab: each mutant, killed (and by which test) or survived (with its hint:
    the bug none of the tests noticed); then the mutation score."""
    lines = _heading(run, "tests in", "not graded")
    width = _name_width(run)
    for result in run.results:
        if not result.ran:
            lines.append(f" ----     {result.name:<{width}}  not run")
            continue
        mark = KILLED if result.passed else SURVIVED
        lines.append(f" {mark:<8} {result.name:<{width}}  {result.detail}".rstrip())
        if not result.passed:
            lines.append(f"          bug your tests missed: {result.hint}")
    lines += [
        "",
        f"mutation score: {run.passed}/{run.total} mutants killed ({run.score:.0f} %)",
    ]
    return "\n".join(lines)


def _heading(run: LabRun, path_label: str, setup_label: str) -> list[str]:
    """A report's first lines: the lab, where its copy is, and why setup failed (if it did)."""
    lab = run.lab
    lines = [f"{lab.name} · {lab.title} (guide week {lab.week})", f"{path_label}: {run.path}", ""]
    if run.setup_error:
        lines += [f"{setup_label}: {run.setup_error}", ""]
    return lines


def _name_width(run: LabRun) -> int:
    """The longest check name: the column the results line up in."""
    return max((len(result.name) for result in run.results), default=10)


def _indented(text: str, spaces: int) -> str:
    return text.replace("\n", "\n" + " " * spaces)


def gradebook_columns(runs: dict[str, LabRun]) -> list[str]:
    """learner, lab, passed, total, score, one column per check (1 or 0), setup_error."""
    checks: list[str] = []
    for run in runs.values():
        for result in run.results:
            if result.name not in checks:
                checks.append(result.name)
    return ["learner", "lab", "passed", "total", "score", *checks, "setup_error"]


def gradebook_csv(runs: dict[str, LabRun]) -> str:
    columns = gradebook_columns(runs)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for learner, run in sorted(runs.items()):
        row: dict[str, object] = {
            "learner": learner,
            "lab": run.lab.name,
            "passed": run.passed,
            "total": run.total,
            "score": f"{run.score:.1f}",
            "setup_error": run.setup_error,
        }
        row.update({result.name: int(result.passed) for result in run.results})
        writer.writerow(row)
    return out.getvalue()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def learner_markdown(learner: str, run: LabRun) -> str:
    """One learner's report: score, then every check with its hint and error if it failed."""
    lab = run.lab
    lines = [
        f"# {lab.title} — {learner}",
        "",
        f"Lab `{lab.name}` (guide week {lab.week}) · **{run.passed}/{run.total} checks passed "
        f"({run.score:.0f} %)**",
        "",
    ]
    if run.setup_error:
        lines += [f"> **The lab could not be set up:** {_cell(run.setup_error)}", ""]
    lines += ["| check | result | hint / error |", "|---|---|---|"]
    for result in run.results:
        name = f"{result.name} (hidden)" if result.hidden else result.name
        if result.passed:
            lines.append(f"| `{name}` | ✅ | |")
        elif not result.ran:
            lines.append(f"| `{name}` | {NOT_RUN} | |")
        else:
            error = f"<br>`{_cell(result.error)}`" if result.error else ""
            lines.append(f"| `{name}` | ❌ | {_cell(result.hint)}{error} |")
    return "\n".join(lines) + "\n"


def write_grades(runs: dict[str, LabRun], out: Path) -> list[Path]:
    """`gradebook.csv` and `<learner>.md` per learner in `out`; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    gradebook = out / "gradebook.csv"
    gradebook.write_text(gradebook_csv(runs), encoding="utf-8")
    written = [gradebook]
    for learner, run in sorted(runs.items()):
        report = out / f"{learner}.md"
        report.write_text(learner_markdown(learner, run), encoding="utf-8")
        written.append(report)
    return written
