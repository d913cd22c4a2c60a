"""Grading tests with mutants: do the learner's tests catch real bugs?

    run = grade_tests(get_lab("lab-06"), Path("my-lab-06"))
    print(text_report(run))       # killed / survived per mutant, hints, the mutation score

1. The learner's tests run against the reference feature (the system as it is): all must
   pass — a test that fails on correct code cannot tell a bug from no bug.
2. They run again once per mutant (`mutants.py`: the feature with one small deliberate
   bug, see `mutants.py` in this package). A mutant is *killed* when at least one test
   fails; it *survives* when every test still passes — the report then shows its hint.
3. The mutation score is the share of mutants killed.

All of it happens in one pytest session (`MutationPlugin`: each test parametrized with the
version of the feature it runs against), in one separate process
(`python -m studypath.labs.mutation`), on one PostgreSQL server: the caller (a notebook,
the CLI, a test suite) is never touched by pytest or by the mutants' patches.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from studypath.labs.catalog import LabSpec, load_lab
from studypath.labs.mutants import Mutant, load_mutants

if TYPE_CHECKING:
    from studypath.labs.runner import LabRun, Progress

PYTEST_INI = """\
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""
GRADING_TIMEOUT = 600.0  # seconds for the whole run: the reference and every mutant


# ---------------------------------------------------------------------- one pytest run
@dataclass
class TestRun:
    """The learner's tests against one version of the feature: how many passed, each
    failure in a line, and the time spent."""

    __test__ = False  # not a test class, despite the name

    passed: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    not_written: list[str] = field(default_factory=list)  # stubs: NotImplementedError

    @property
    def all_passed(self) -> bool:
        return self.passed > 0 and not self.failures


def _first_error_line(text: str) -> str:
    """pytest's `E   …` line (the assertion or the exception), else the last line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return (errors[0] if errors else lines[-1] if lines else "failed")[:300]


MUTANT_FIXTURE = "studypath_mutant"


class MutationPlugin:
    """Runs every test once against the reference, then once per mutant — all in one pytest
    session, so the database template and the imports are made once.

    Each test is parametrized with the version of the feature it runs against (an autouse
    fixture that applies the mutant's patches for that test and undoes them after). The
    reference runs first; a mutant's runs are skipped once one of its tests failed (it is
    killed: one failing test is enough), and all of them if the reference did not pass."""

    def __init__(self, mutants: list[Mutant], say: Progress) -> None:
        self.mutants = mutants
        self.say = say
        self.runs: dict[str, TestRun] = {"reference": TestRun()}
        self.runs.update({one.name: TestRun() for one in mutants})
        self.collection_errors: list[str] = []
        self.versions: dict[str, str] = {}  # test id -> the version it runs against

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if MUTANT_FIXTURE in metafunc.fixturenames:
            versions: list[Mutant | None] = [None, *self.mutants]
            names = ["reference", *(one.name for one in self.mutants)]
            metafunc.parametrize(MUTANT_FIXTURE, versions, ids=names, indirect=True)

    @staticmethod
    def version_of(item: pytest.Item) -> str:
        callspec = getattr(item, "callspec", None)
        mutant = callspec.params.get(MUTANT_FIXTURE) if callspec is not None else None
        return mutant.name if isinstance(mutant, Mutant) else "reference"

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        order = {name: index for index, name in enumerate(self.runs)}
        items.sort(key=lambda item: order[self.version_of(item)])  # stable: file order kept
        self.versions = {item.nodeid: self.version_of(item) for item in items}

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        version = self.version_of(item)
        if version == "reference":
            return
        if not self.runs["reference"].all_passed or self.collection_errors:
            pytest.skip("the tests do not pass on the reference feature")
        if self.runs[version].failures:
            pytest.skip(f"{version} is already killed")
        if item.name.split("[")[0] in self.runs["reference"].not_written:
            pytest.skip("not written yet")  # before its fixtures: no server for a stub

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """A test that raises NotImplementedError is a stub not written yet: skipped, so
        the tests written so far are graded without it."""
        report = yield
        if call.excinfo is not None and call.excinfo.errisinstance(NotImplementedError):
            report.outcome = "skipped"
            report.longrepr = (str(item.path), 0, "not written yet (NotImplementedError)")
            if self.version_of(item) == "reference" and call.when == "call":
                self.runs["reference"].not_written.append(item.name.split("[")[0])
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        version = self.versions.get(report.nodeid, "reference")
        run = self.runs[version]
        run.seconds += report.duration
        test = report.nodeid.rpartition("::")[2].split("[")[0]
        if report.failed:
            already_killed = bool(run.failures)
            run.failures.append(f"{test}: {_first_error_line(report.longreprtext)}")
            if version != "reference" and not already_killed:
                self.say(f"mutant {version}: killed by {run.failures[0]}")
        elif report.passed and report.when == "call":
            run.passed += 1

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            error = f"{report.nodeid or 'collection'}: {_first_error_line(report.longreprtext)}"
            self.collection_errors.append(error)
            self.runs["reference"].failures.append(error)

    def pytest_sessionfinish(self) -> None:
        for mutant in self.mutants:
            if self.runs["reference"].all_passed and not self.runs[mutant.name].failures:
                self.say(f"mutant {mutant.name}: SURVIVED")


def _mutant_fixture() -> Any:
    """The autouse fixture that applies the mutant a test is parametrized with."""

    @pytest.fixture(autouse=True, name=MUTANT_FIXTURE)
    def studypath_mutant(request: pytest.FixtureRequest) -> Iterator[None]:
        mutant = getattr(request, "param", None)
        if not isinstance(mutant, Mutant):
            yield
            return
        with pytest.MonkeyPatch.context() as patch:
            mutant.apply(patch)
            yield

    return studypath_mutant


def run_tests(
    files: list[Path], rootdir: Path, ini: Path, plugin: MutationPlugin
) -> pytest.ExitCode | int:
    """Run the tests in `files` with pytest, in this process, with `plugin` driving them."""
    import types

    fixtures = types.ModuleType("studypath_mutation_fixtures")
    fixtures.studypath_mutant = _mutant_fixture()  # type: ignore[attr-defined]
    args = [
        *(str(path) for path in files),
        "-c",
        str(ini),
        "--rootdir",
        str(rootdir),
        "--import-mode=importlib",
        "-p",
        "studypath.testing.plugin",
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        "-q",
    ]
    # Its own temporary root: a nested session numbering its directories under the default
    # root would prune the outer session's (and the databases they hold).
    with tempfile.TemporaryDirectory(prefix="studypath-mutants-") as basetemp:
        return pytest.main([*args, "--basetemp", basetemp], plugins=[plugin, fixtures])


# ---------------------------------------------------------------------- the grading process
def grade_in_this_process(lab: LabSpec, copy: Path, say: Progress) -> dict[str, Any]:
    """The learner's tests against the reference and every mutant, in one pytest session:
    everything the report needs, as plain data."""
    from studypath.testing.database import (
        EXTERNAL_URL_VARIABLE,
        TestPostgres,
        external_server_url,
    )

    files = [copy / name for name in lab.files]
    plugin = MutationPlugin(load_mutants(lab), say)
    with tempfile.TemporaryDirectory(prefix="studypath-mutation-") as scratch:
        ini = Path(scratch) / "pytest.ini"
        ini.write_text(PYTEST_INI, encoding="utf-8")
        # The server STUDYPATH_DATABASE_URL names, else an embedded one started here.
        server = TestPostgres(Path(scratch), external_server_url())
        os.environ[EXTERNAL_URL_VARIABLE] = server.server_url
        try:
            say(f"running your tests against the reference and {len(plugin.mutants)} mutants …")
            run_tests(files, copy, ini, plugin)
        finally:
            os.environ.pop(EXTERNAL_URL_VARIABLE, None)
            server.close()
    reference = plugin.runs["reference"]
    if reference.passed == 0 and not reference.failures:
        reference.failures.append(
            f"no test written yet ({len(reference.not_written)} still raise NotImplementedError)"
            if reference.not_written
            else "no tests were collected: name them test_…"
        )
    return {
        "reference": asdict(reference) | {"all_passed": reference.all_passed},
        "mutants": [
            {
                "name": one.name,
                "killed": bool(plugin.runs[one.name].failures),
                "by": plugin.runs[one.name].failures[:1],
                "seconds": plugin.runs[one.name].seconds,
            }
            for one in plugin.mutants
            if reference.all_passed
        ],
    }


def main(argv: list[str]) -> int:
    """`python -m studypath.labs.mutation LAB_DIR COPY_DIR OUT_JSON`."""
    lab_dir, copy, out = (Path(arg) for arg in argv)
    lab = load_lab(lab_dir)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result = grade_in_this_process(lab, copy.resolve(), say)
    out.write_text(json.dumps(result), encoding="utf-8")
    return 0


# ---------------------------------------------------------------------- the caller's side
def grade_tests(lab: LabSpec, copy: Path, *, progress: Progress | None = None) -> LabRun:
    """Grade the tests in `copy` (a learner's copy of a tests lab, or the lab itself: the
    solution) with the lab's mutants; one result per mutant, passed = killed."""
    from studypath.labs.runner import CheckResult, LabRun

    started = time.perf_counter()
    run = LabRun(lab, copy.resolve())
    mutants = load_mutants(lab)
    missing = [name for name in lab.files if not (run.path / name).is_file()]
    if missing:
        run.setup_error = f"{run.path} has no {', '.join(missing)}"
        data: dict[str, Any] = {}
    else:
        data, run.setup_error = _grade_in_a_process(lab, run.path, progress)
    reference = data.get("reference", {})
    if not run.setup_error and not reference.get("all_passed"):
        failures = reference.get("failures") or ["no test passed"]
        run.setup_error = (
            "your tests must pass against the reference (correct) feature before they can "
            "catch a bug; failing there: " + "; ".join(failures[:5])
        )
    graded = {entry["name"]: entry for entry in data.get("mutants", [])}
    for one in mutants:
        entry = graded.get(one.name)
        if entry is None:
            run.results.append(CheckResult(one.name, False, one.hint, 0.0, "not run", ran=False))
            continue
        killed_by = entry["by"][0] if entry["by"] else ""
        run.results.append(
            CheckResult(
                one.name,
                entry["killed"],
                one.hint,
                entry["seconds"],
                "survived: every test passed with this bug in place" if not entry["killed"] else "",
                detail=f"killed by {killed_by}" if killed_by else "",
            )
        )
    run.duration = time.perf_counter() - started
    return run


def _grade_in_a_process(
    lab: LabSpec, copy: Path, progress: Progress | None
) -> tuple[dict[str, Any], str]:
    """Run `main` in a child process, passing its progress lines on; (result, error)."""
    with tempfile.TemporaryDirectory(prefix="studypath-grade-") as scratch:
        out = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "studypath.labs.mutation", str(lab.path), str(copy)]
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])  # this copy of studypath
        env["PYTHONPATH"] = os.pathsep.join(
            part for part in (package_root, env.get("PYTHONPATH", "")) if part
        )
        child = subprocess.Popen(
            [*command, str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=scratch,
        )
        said: list[str] = []
        assert child.stderr is not None
        deadline = time.monotonic() + GRADING_TIMEOUT
        for line in child.stderr:
            said.append(line.rstrip())
            if progress is not None and not line.startswith((" ", "Traceback")):
                progress(line.rstrip())
            if time.monotonic() > deadline:
                child.kill()
                break
        code = child.wait()
        if code != 0 or not out.is_file():
            tail = "\n".join(said[-5:])
            return {}, f"the grading process failed (exit {code}): {tail}"
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return result, ""


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
