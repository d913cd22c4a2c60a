"""The labs: one folder each under `labs/`, described by its `lab.toml`.

    title   = "Build a notes feature"
    week    = 5                       # the guide's week it belongs to
    summary = "Schema, service, endpoints and a notification task, plugged into the system"
    files   = ["notes_lab.py"]        # what the learner writes (solutions inside markers)
    module  = "notes_lab"             # the extension the checker installs in the Workbench
    checks  = "checks.py"             # check_* functions; hidden ones inside markers
    schemas = ["lab_notes"]           # database schemas the lab owns (reset for every run)

A lab of `kind = "tests"` turns this around: the learner writes *tests* (`files`), and
they are graded by *mutants* (`mutants = "mutants.py"`: small deliberate bugs in a
reference feature, each with a hint) — see `mutation.py`. Files named in
`instructor_only` (the mutants) stay out of the learner's copy.

Like `notebooks/`, `labs/` is repository content, not part of the package: it is found in
the current directory or next to the package (a source checkout).
"""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

from studypath.labs.markers import release_text

LAB_FILE = "lab.toml"
KINDS = ("checks", "tests")
SKIPPED = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}


@dataclass(frozen=True)
class LabSpec:
    """One lab, as its `lab.toml` describes it."""

    name: str  # the folder's name, e.g. lab-05-notes
    path: Path
    title: str
    week: int
    summary: str
    files: tuple[str, ...]
    module: str = ""  # a checks lab: the extension the checker installs
    checks: str = "checks.py"
    schemas: tuple[str, ...] = ()
    kind: str = "checks"  # "checks": check_* functions grade the learner's code;
    # "tests": mutants grade the learner's tests
    mutants: str = ""  # a tests lab: the file of mutants
    instructor_only: tuple[str, ...] = ()  # not released to learners

    @property
    def grades_tests(self) -> bool:
        return self.kind == "tests"

    @property
    def mutants_path(self) -> Path:
        return self.path / self.mutants

    @property
    def checks_path(self) -> Path:
        return self.path / self.checks


def find_labs_dir(directory: Path | None = None) -> Path | None:
    """`labs/` in the current directory, else next to the package (a source checkout), else
    the copy a wheel ships in `studypath/course/labs`."""
    if directory is not None:
        return directory if directory.is_dir() else None
    package = Path(__file__).resolve().parents[1]
    candidates = [Path.cwd() / "labs", package.parent / "labs", package / "course" / "labs"]
    return next((path for path in candidates if path.is_dir()), None)


def load_lab(folder: Path) -> LabSpec:
    """Read one lab folder's `lab.toml`; a missing or incomplete file is a ValueError."""
    config_file = folder / LAB_FILE
    try:
        config = tomllib.loads(config_file.read_text(encoding="utf-8"))
        kind = str(config.get("kind", "checks"))
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        return LabSpec(
            name=folder.name,
            path=folder.resolve(),
            title=str(config["title"]),
            week=int(config["week"]),
            summary=str(config.get("summary", "")),
            files=tuple(str(name) for name in config["files"]),
            # a checks lab must name its module; a tests lab must name its mutants
            module=str(config["module"]) if kind == "checks" else "",
            checks=str(config.get("checks", "checks.py")),
            schemas=tuple(str(name) for name in config.get("schemas", ())),
            kind=kind,
            mutants=str(config["mutants"]) if kind == "tests" else "",
            instructor_only=tuple(str(name) for name in config.get("instructor_only", ())),
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{config_file}: not a valid lab description ({exc!r})") from None


def list_labs(labs_dir: Path | None = None) -> list[LabSpec]:
    """Every lab folder (one with a `lab.toml`), by name."""
    root = find_labs_dir(labs_dir)
    if root is None:
        return []
    return [load_lab(folder) for folder in sorted(root.iterdir()) if (folder / LAB_FILE).is_file()]


def get_lab(name: str, labs_dir: Path | None = None) -> LabSpec:
    """A lab by its folder name, or by an unambiguous start of it (`lab-05`)."""
    labs = list_labs(labs_dir)
    exact = [lab for lab in labs if lab.name == name]
    matches = exact or [lab for lab in labs if lab.name.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(lab.name for lab in labs) or "none (no labs/ folder found)"
    problem = "matches several labs" if matches else "is not a lab"
    raise LookupError(f"{name!r} {problem}; labs: {known}")


def release(lab: LabSpec, out: Path, *, keep: tuple[str, ...] = ()) -> list[Path]:
    """Write the learner's copy of `lab` into `out`: every file of the lab folder but the
    instructor's own, Python files with their solutions stubbed and their hidden checks
    removed. Returns the files.

    `keep` names functions whose solutions stay in (a copy with some steps done)."""
    sources = sorted(
        path
        for path in lab.path.rglob("*")
        if path.is_file()
        and not SKIPPED & set(path.relative_to(lab.path).parts)
        and path.relative_to(lab.path).as_posix() not in lab.instructor_only
    )
    released = {  # every file processed before anything is written: a marker error writes nothing
        source: release_text(source.read_text(encoding="utf-8"), str(source), keep=keep)
        for source in sources
        if source.suffix == ".py"
    }
    written: list[Path] = []
    for source in sources:
        target = out / source.relative_to(lab.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source in released:
            target.write_text(released[source], encoding="utf-8")
        else:
            shutil.copyfile(source, target)
        written.append(target)
    return written
