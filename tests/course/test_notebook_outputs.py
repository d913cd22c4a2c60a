"""Committed notebook outputs and nbval agree whatever JupyterLab's mermaid renderer adds."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MERMAID = "graph LR\n    A --> B"

pytestmark = pytest.mark.timeout(120)


def mermaid_notebook(*, rendered_svg: bool, committed: str = MERMAID) -> dict[str, object]:
    """One checked cell that displays a mermaid diagram, with `committed` as its output;
    with `rendered_svg`, as JupyterLab saves it after drawing it (an SVG copy added)."""
    data = {"text/plain": ["<Mermaid diagram>"], "text/vnd.mermaid": [committed]}
    if rendered_svg:
        data["image/svg+xml"] = ['<svg xmlns="http://www.w3.org/2000/svg"><g/></svg>']
    source = (
        "# NBVAL_CHECK_OUTPUT\n"
        "from IPython.display import display\n"
        f"display({{'text/vnd.mermaid': {MERMAID!r}, 'text/plain': '<Mermaid diagram>'}},"
        " raw=True)"
    )
    cell = {
        "id": "diagram",
        "cell_type": "code",
        "execution_count": 1,
        "metadata": {},
        "outputs": [{"output_type": "display_data", "data": data, "metadata": {}}],
        "source": [source],
    }
    kernel = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return {"cells": [cell], "metadata": {"kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 5}


def run_nbval(tmp_path: Path, notebook: dict[str, object]) -> subprocess.CompletedProcess[str]:
    """nbval as the project runs it (pyproject's options, notebooks/conftest.py and
    sanitize.cfg), on a notebook in a copy of the notebooks folder."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in ("conftest.py", "sanitize.cfg"):
        shutil.copy(ROOT / "notebooks" / name, folder / name)
    (folder / "diagram.ipynb").write_text(json.dumps(notebook))
    project_options = ["-c", str(ROOT / "pyproject.toml"), "--rootdir", "."]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *project_options, "notebooks/diagram.ipynb"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=100,
    )


def test_nbval_passes_when_the_mermaid_renderer_added_an_svg(tmp_path: Path) -> None:
    result = run_nbval(tmp_path, mermaid_notebook(rendered_svg=True))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_nbval_still_compares_the_diagram_itself(tmp_path: Path) -> None:
    """The SVG is ignored, not the output: a different committed diagram still fails."""
    notebook = mermaid_notebook(rendered_svg=True, committed="graph LR\n    A --> C")

    result = run_nbval(tmp_path, notebook)

    assert result.returncode == 1 and "1 failed" in result.stdout, result.stdout
    assert "image/svg+xml" not in result.stdout
