"""The learner's workspace: their own copies of the course notebooks, without outputs and
with the self-check answers blank (`...`), so predictions are theirs to make.

The course ships inside the package (`studypath/course/`, copied there when the wheel is
built) or, in a source checkout, is the `notebooks/` folder next to the package. The
workspace is the learner's: a manifest records the hash of every copy we wrote, so a
course update refreshes the notebooks the learner has not touched and never overwrites
one they changed (the new version is written beside it, as `<name>.new.ipynb`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

import studypath
from studypath.course.selfcheck import blank_answers

MANIFEST = ".studypath-course.json"  # {"notebooks": {name: sha256 of the copy we wrote}}
NEW_SUFFIX = ".new.ipynb"


def default_workspace() -> Path:
    """`<user data dir>/studypath/workspace`, e.g. ~/.local/share/studypath/workspace."""
    return platformdirs.user_data_path("studypath") / "workspace"


def course_dir() -> Path | None:
    """Where the course notebooks are: a checkout's `notebooks/` (an editable install reads
    the source itself), else the copy shipped in the package."""
    package = Path(studypath.__file__).resolve().parent
    for candidate in (package.parent / "notebooks", package / "course"):
        if any(candidate.glob("*.ipynb")):
            return candidate
    return None


def stripped(notebook: dict[str, Any]) -> dict[str, Any]:
    """The notebook without what running it produced: outputs, execution counts, cell
    timings and widget state. The learner's copy starts clean; they run it themselves."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    notebook.get("metadata", {}).pop("widgets", None)
    return notebook


def notebook_bytes(notebook: dict[str, Any]) -> bytes:
    """JSON as Jupyter writes it (indent 1, sorted keys), so a saved-unchanged copy hashes
    the same as the one we wrote."""
    return (json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class SyncReport:
    """What `sync` did, notebook by notebook (file names)."""

    workspace: Path
    copied: list[str] = field(default_factory=list)  # new in the workspace
    updated: list[str] = field(default_factory=list)  # untouched by the learner, refreshed
    beside: list[tuple[str, str]] = field(default_factory=list)  # (theirs kept, new version)
    unchanged: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        said = [f"workspace: {self.workspace}"]
        if self.copied:
            said.append(f"copied {len(self.copied)} notebook(s): {', '.join(self.copied)}")
        if self.updated:
            said.append(f"updated (you had not changed them): {', '.join(self.updated)}")
        for theirs, new in self.beside:
            said.append(f"kept your {theirs}; the course's new version is {new}")
        return said


def sync(course: Path, workspace: Path) -> SyncReport:
    """Copy the course's notebooks (stripped) into `workspace`; see the module docstring."""
    workspace.mkdir(parents=True, exist_ok=True)
    manifest_path = workspace / MANIFEST
    manifest = _read_manifest(manifest_path)
    report = SyncReport(workspace)
    for source in sorted(course.glob("*.ipynb")):
        course_copy = blank_answers(json.loads(source.read_text(encoding="utf-8")))
        data = notebook_bytes(stripped(course_copy))
        name, target = source.name, workspace / source.name
        if not target.exists():
            target.write_bytes(data)
            report.copied.append(name)
        else:
            current = digest(target.read_bytes())
            if current == digest(data):
                report.unchanged.append(name)
            elif current == manifest.get(name):  # ours, untouched: refresh it
                target.write_bytes(data)
                report.updated.append(name)
            else:  # the learner's work: never overwritten
                beside = target.with_name(target.name.removesuffix(".ipynb") + NEW_SUFFIX)
                beside.write_bytes(data)
                report.beside.append((name, beside.name))
                continue  # the manifest keeps the hash of the copy we wrote before
        manifest[name] = digest(data)
    manifest_path.write_text(json.dumps({"notebooks": manifest}, indent=1, sort_keys=True))
    return report


def _read_manifest(path: Path) -> dict[str, str]:
    try:
        recorded = json.loads(path.read_text())["notebooks"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # no manifest (or a broken one): every differing copy counts as theirs
    return {str(name): str(value) for name, value in dict(recorded).items()}


def jupyterlab_command(
    python: str, workspace: Path, extra: list[str], *, as_root: bool
) -> list[str]:
    """The JupyterLab command line: opened on the workspace, the learner's extra arguments
    passed through, `--allow-root` added when running as root (Jupyter refuses otherwise)."""
    command = [python, "-m", "jupyterlab", f"--notebook-dir={workspace}"]
    if as_root and "--allow-root" not in extra:
        command.append("--allow-root")
    return [*command, *extra]
