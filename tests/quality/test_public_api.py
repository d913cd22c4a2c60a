"""The notebooks and labs use studypath's declared public API, nothing else.

What learners copy from a notebook or a lab must keep working when the system's insides
change: so every `import` in a notebook's code cells or a lab's files names a module
declared public here, and every name it takes from a module is in that module's
`__all__` — never a private (`_name`) one. Reading a private function's *source* in a
notebook (`inspect.getsource(service._visible)`) is fine: that is not an import.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import subprocess
import sys
import textwrap
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

import studypath
from studypath import runtime

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
LAB_FILES = sorted((ROOT / "labs").rglob("*.py"))

PUBLIC_MODULES = frozenset(
    {
        # Running the system, and the course's own tools.
        "studypath",
        "studypath.course",
        "studypath.labs",
        "studypath.viz",
        "studypath.viz.monitoring",
        "studypath.viz.deploy",
        # Week 8: a fleet of server processes, the settings, the migrations it checks.
        "studypath.fleet",
        "studypath.config",
        "studypath.migrations",
        "studypath.cli",
        # Week 7 part 2: chaos runs, their levels and reports.
        "studypath.chaos",
        "studypath.testing",  # the test harness: lab 6 and the week-6 notebook write tests
        "studypath.testing.plugin",  # its pytest fixtures (the week-6 notebook reads them)
        "studypath.testing.api_suite",  # `studypath check-api`
        # Tasks: the lifecycle and handler surface, and the modules the notebooks read.
        "studypath.tasks",
        "studypath.tasks.service",
        "studypath.tasks.queue",
        "studypath.tasks.worker",
        "studypath.tasks.handlers.notification",
        # The building blocks a feature (a lab) is made of, as the system's own are.
        "studypath.auth.dependencies",
        "studypath.core.clock",
        "studypath.core.db",
        "studypath.core.errors",
        "studypath.core.logging",
        "studypath.core.pagination",
        "studypath.core.responses",
        "studypath.core.security",
        "studypath.models",
        "studypath.identity.roles",
        "studypath.identity.errors",
        "studypath.identity.service",
        "studypath.telemetry.tracing",
        # Domain modules the notebooks open and read (imported whole, as modules).
        "studypath.auth.api",
        "studypath.notes.api",
        "studypath.notes.models",
        "studypath.notes.service",
        "studypath.notifications.service",  # lab 6's mutants patch it
        "studypath.rbac.dependencies",
        "studypath.rbac.policy",
        "studypath.users.api",
        "studypath.users.service",
        "studypath.monitoring.alerts",
        "studypath.monitoring.models",
        "studypath.monitoring.service",
    }
)


@dataclass(frozen=True)
class Use:
    """One import in a notebook cell or a lab file: `module`, or `name` from `module`."""

    where: str
    module: str
    name: str | None = None  # None: the module itself is imported


def _is_submodule(package: str, name: str) -> bool:
    """Does `from package import name` give a module? (`from studypath.viz import mermaid`
    gives the function that `studypath.viz` exports, not its module of that name.)"""
    try:
        found = getattr(importlib.import_module(package), name, None)
    except ModuleNotFoundError:
        return False
    if found is not None:
        return isinstance(found, types.ModuleType)
    return importlib.util.find_spec(f"{package}.{name}") is not None


def uses_in(source: str, where: str) -> Iterator[Use]:
    """The studypath imports in `source` (a cell's IPython magics and shell lines dropped)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    tree = ast.parse(textwrap.dedent("\n".join(lines)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "studypath":
                    yield Use(where, alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            if node.level or node.module.split(".")[0] != "studypath":
                continue
            for alias in node.names:
                if _is_submodule(node.module, alias.name):
                    yield Use(where, f"{node.module}.{alias.name}")  # `from ...notes import api`
                else:
                    yield Use(where, node.module, alias.name)


def all_uses() -> list[Use]:
    found: list[Use] = []
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                found += uses_in(cell.source, f"{path.name} cell {index}")
    for path in LAB_FILES:
        found += uses_in(path.read_text(), str(path.relative_to(ROOT)))
    return found


def problem(use: Use) -> str | None:
    """Why `use` is not public API, or None when it is."""
    if any(part.startswith("_") for part in use.module.split(".")):
        return f"{use.module} is a private module"
    if use.module not in PUBLIC_MODULES:
        return f"{use.module} is not a public module (see PUBLIC_MODULES)"
    if use.name is None:
        return None
    if use.name.startswith("_"):
        return f"{use.name} is private"
    exported = getattr(importlib.import_module(use.module), "__all__", None)
    if exported is None:
        return f"{use.module} declares no __all__"
    if use.name not in exported:
        return f"{use.name} is not in {use.module}.__all__"
    return None


def test_the_notebooks_and_labs_are_found() -> None:
    assert len(NOTEBOOKS) >= 5 and len(LAB_FILES) >= 4
    modules = {use.module for use in all_uses()}
    assert {"studypath", "studypath.tasks", "studypath.viz"} <= modules


def test_notebooks_and_labs_import_only_public_names() -> None:
    problems = sorted(
        {f"{use.where}: {reason}" for use in all_uses() if (reason := problem(use)) is not None}
    )
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("from studypath.tasks.registry import TaskContext", "not a public module"),
        ("import studypath.tasks.registry", "not a public module"),
        ("from studypath.tasks import _private", "private"),
        ("from studypath.tasks import utcnow", "not in studypath.tasks.__all__"),
        ("from studypath.core.embedded import make_ephemeral_dir", "not a public module"),
    ],
)
def test_the_check_refuses_what_is_not_public(source: str, reason: str) -> None:
    reasons = [problem(use) for use in uses_in(source, "example")]
    assert len(reasons) == 1 and reasons[0] is not None and reason in reasons[0]


def test_the_check_accepts_public_imports() -> None:
    source = "import studypath\nfrom studypath.tasks import TaskStatus, service\n"
    assert [problem(use) for use in uses_in(source, "example")] == [None, None, None]


@pytest.mark.parametrize("module", sorted(PUBLIC_MODULES))
def test_every_public_module_exports_only_what_it_has(module: str) -> None:
    imported = importlib.import_module(module)
    missing = [name for name in getattr(imported, "__all__", ()) if not hasattr(imported, name)]
    assert missing == []


def test_start_spells_out_its_arguments_as_the_runtime_takes_them() -> None:
    """`help(studypath.start)` shows the options; they are `runtime.start`'s, one for one."""
    wrapper = inspect.signature(studypath.start).parameters
    real = inspect.signature(runtime.start).parameters
    assert list(wrapper) != ["kwargs"]
    assert {name: p.default for name, p in wrapper.items()} == {
        name: p.default for name, p in real.items()
    }


def test_importing_studypath_stays_cheap() -> None:
    """`import studypath` loads no web framework or database driver (start() does)."""
    heavy = "('fastapi', 'sqlalchemy', 'studypath.runtime')"
    script = f"import sys, studypath; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"
