"""`studypath notebooks`: the learner's own workspace of course notebooks, without outputs,
kept up to date without ever overwriting what the learner changed."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from studypath.cli import app
from studypath.cli.workspace import (
    MANIFEST,
    course_dir,
    jupyterlab_command,
    notebook_bytes,
    sync,
)
from studypath.course.selfcheck import SELF_CHECK_TAG

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def notebook(*sources: str, output: str = "") -> dict[str, Any]:
    """A small notebook: one code cell per source, each with `output` as its result."""
    outputs = [{"output_type": "stream", "name": "stdout", "text": [output]}] if output else []
    cells = [
        {
            "cell_type": "code",
            "execution_count": 1 if output else None,
            "metadata": {"execution": {"iopub.status.idle": "2026-01-01T00:00:00Z"}},
            "outputs": outputs,
            "source": [source],
        }
        for source in sources
    ]
    widget_state: dict[str, Any] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    metadata = {"widgets": widget_state}
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def write(path: Path, content: dict[str, Any]) -> None:
    path.write_bytes(notebook_bytes(content))


def code_cells(path: Path) -> list[dict[str, Any]]:
    cells = json.loads(path.read_text())["cells"]
    return [cell for cell in cells if cell["cell_type"] == "code"]


def test_the_workspace_copy_of_the_course_has_no_outputs(tmp_path: Path) -> None:
    course = course_dir()
    assert course is not None
    names = sorted(path.name for path in course.glob("*.ipynb"))
    assert any(cell["outputs"] for cell in code_cells(course / names[0])), "expected outputs"

    result = runner.invoke(app, ["notebooks", "--workspace", str(tmp_path), "--dry-run"])

    assert result.exit_code == 0, result.output
    assert f"copied {len(names)} notebook(s)" in result.output
    assert sorted(path.name for path in tmp_path.glob("*.ipynb")) == names
    for name in names:
        copy = json.loads((tmp_path / name).read_text())
        assert "widgets" not in copy["metadata"]
        for cell in code_cells(tmp_path / name):
            assert cell["outputs"] == [] and cell["execution_count"] is None, name
            assert "execution" not in cell["metadata"]


def test_the_workspace_copy_has_blank_self_check_answers(tmp_path: Path) -> None:
    course = course_dir()
    assert course is not None
    result = runner.invoke(app, ["notebooks", "--workspace", str(tmp_path), "--dry-run"])
    assert result.exit_code == 0, result.output
    for path in sorted(tmp_path.glob("*.ipynb")):
        answers = [
            cell
            for cell in code_cells(path)
            if SELF_CHECK_TAG in cell.get("metadata", {}).get("tags", [])
        ]
        assert len(answers) == 1, path.name
        tree = ast.parse("".join(answers[0]["source"]))
        (answers_dict,) = [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "my_answers" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ]
        assert answers_dict.keys, path.name
        filled = [
            value
            for value in answers_dict.values
            if not (isinstance(value, ast.Constant) and value.value is Ellipsis)
        ]
        assert not filled, f"{path.name}: an answer is filled in"


def test_an_edited_notebook_survives_an_update_and_the_new_version_lands_beside_it(
    tmp_path: Path,
) -> None:
    course, workspace = tmp_path / "course", tmp_path / "workspace"
    course.mkdir()
    write(course / "week-01.ipynb", notebook("print('v1')", output="v1"))
    write(course / "week-02.ipynb", notebook("x = 1", output="1"))
    first = sync(course, workspace)
    assert first.copied == ["week-01.ipynb", "week-02.ipynb"]
    learners = notebook("print('my own answer')", output="my own answer")
    write(workspace / "week-01.ipynb", learners)  # the learner works in week 1 (autosave)

    write(course / "week-01.ipynb", notebook("print('v2')", output="v2"))  # a course update
    write(course / "week-02.ipynb", notebook("x = 2", output="2"))
    second = sync(course, workspace)

    assert json.loads((workspace / "week-01.ipynb").read_text()) == learners
    assert code_cells(workspace / "week-01.new.ipynb")[0]["source"] == ["print('v2')"]
    assert code_cells(workspace / "week-02.ipynb")[0]["source"] == ["x = 2"]  # refreshed
    assert second.updated == ["week-02.ipynb"]
    assert second.beside == [("week-01.ipynb", "week-01.new.ipynb")]
    assert "kept your week-01.ipynb; the course's new version is week-01.new.ipynb" in (
        second.lines()
    )
    third = sync(course, workspace)  # nothing new: nothing changes, theirs still kept
    assert third.updated == [] and third.copied == []
    assert json.loads((workspace / "week-01.ipynb").read_text()) == learners
    assert (workspace / MANIFEST).exists()


def test_root_adds_allow_root_and_extra_arguments_pass_through(tmp_path: Path) -> None:
    extra = ["--port", "9999", "--no-browser"]

    as_root = jupyterlab_command("py", tmp_path, extra, as_root=True)
    as_user = jupyterlab_command("py", tmp_path, extra, as_root=False)
    asked = jupyterlab_command("py", tmp_path, ["--allow-root"], as_root=True)

    opened = ["py", "-m", "jupyterlab", f"--notebook-dir={tmp_path}"]
    assert as_root == [*opened, "--allow-root", *extra]
    assert "--allow-root" not in as_user and as_user[-3:] == extra
    assert asked.count("--allow-root") == 1


def test_notebooks_passes_unknown_arguments_through_to_jupyterlab(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["notebooks", "--workspace", str(tmp_path), "--dry-run", "--port", "9999", "--no-browser"],
    )

    assert result.exit_code == 0, result.output
    [command] = [line for line in result.output.splitlines() if line.startswith("would run: ")]
    root_flag = " --allow-root" if os.geteuid() == 0 else ""
    opened = f"-m jupyterlab --notebook-dir={tmp_path.resolve()}{root_flag}"
    assert command.endswith(f"{opened} --port 9999 --no-browser"), command


def test_a_wheel_build_ships_the_course_notebooks_and_labs(tmp_path: Path) -> None:
    """setup.py's build step copies the course into studypath/course/ of the wheel."""
    out = str(tmp_path)  # egg_info and build both go there: nothing written into the checkout
    built = subprocess.run(
        [sys.executable, "setup.py", "-q", "egg_info", "--egg-base", out, "build_py", "-d", out],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert built.returncode == 0, built.stderr
    shipped = tmp_path / "studypath" / "course"
    assert sorted(p.name for p in shipped.glob("*.ipynb")) == sorted(
        p.name for p in (ROOT / "notebooks").glob("*.ipynb")
    )
    assert (shipped / "labs" / "lab-05-notes" / "lab.toml").is_file()
