"""Run a lab's checks against a copy of the lab, inside one live Workbench.

    run = run_lab(get_lab("lab-05-notes"), Path("my-copy"))   # the public checks
    print(text_report(run))

The copy's module is imported from its folder under a name of its own (two copies never
share state), plugged into the system with `wb.install` — the Workbench given, else the one
running in this process, else an ephemeral one started for the run — and every `check_*`
function of the lab's `checks.py` is called with a `Lab`. A check passes if it returns; the
first paragraph of its docstring is the hint a learner sees when it fails.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.machinery
import importlib.util
import inspect
import itertools
import re
import secrets
import ssl
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import httpx

from studypath import runtime
from studypath.core.clock import poll_until
from studypath.core.security import random_password
from studypath.labs.catalog import LabSpec
from studypath.labs.markers import hidden_lines
from studypath.runtime import EXTENSION_PREFIX, Installation, Workbench
from studypath.tasks import breakers, queue

T = TypeVar("T")
Progress = Callable[[str], None]

# A Workbench started just for checking is a throwaway sandbox: the worker looks for due
# tasks often (retry timings are measured), and passwords are hashed cheaply.
SANDBOX_SETTINGS: dict[str, Any] = {
    "worker_poll_seconds": 0.05,
    "worker_heartbeat_seconds": 0.5,
    "password_hash_time_cost": 1,
    "password_hash_memory_kib": 1024,
    "password_hash_parallelism": 1,
}
CHECK_TIMEOUT = 60.0
_copies = itertools.count(1)


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    hint: str
    duration: float  # seconds
    error: str = ""
    hidden: bool = False
    ran: bool = True  # False: the lab could not be set up, so the check never ran
    detail: str = ""  # what a passed result adds (a tests lab: the test that killed the mutant)


@dataclass
class LabRun:
    """The outcome of one lab copy: every check's result, and why setting it up failed."""

    lab: LabSpec
    path: Path
    results: list[CheckResult] = field(default_factory=list)
    setup_error: str = ""
    duration: float = 0.0

    @property
    def passed(self) -> int:
        return sum(result.passed for result in self.results)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def all_passed(self) -> bool:
        return bool(self.results) and self.passed == self.total

    @property
    def score(self) -> float:
        """Passed checks as a percentage."""
        return 100.0 * self.passed / self.total if self.total else 0.0


# ------------------------------------------------------------------ what a check gets
@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


@dataclass
class Person:
    """A signed-in user: `client` sends their session token with every request."""

    username: str
    id: str
    client: httpx.Client


class Lab:
    """What a check receives: the live Workbench, the learner's module, signed-in people.

    People are created once per run (`lab.person("alice")`), so checks must not assume
    they start with no data: each check makes its own notes, tasks, and so on."""

    def __init__(self, wb: Workbench, module: ModuleType | None, tag: str) -> None:
        self.wb = wb
        self.module = module
        self.prefix = EXTENSION_PREFIX
        self.tag = tag
        self._people: dict[str, Person] = {}
        self._admin: httpx.Client | None = None
        self._clients: list[httpx.Client] = []
        self._installations: list[Installation] = []

    def path(self, path: str) -> str:
        """`/notes` -> `/api/v1/lab/notes`: where the learner's router is mounted."""
        return f"{self.prefix}{path}"

    def person(self, name: str) -> Person:
        """A user of this run (created by the admin through the API), signed in."""
        if name not in self._people:
            username, password = f"{name}_{self.tag}", random_password()
            if self._admin is None:
                with self.wb.admin() as admin:
                    self._admin = self._client(headers=admin.headers)
            account = {"username": username, "email": f"{username}@example.com"}
            created = self.expect(
                self._admin.post("/api/v1/users", json={**account, "password": password}), 200
            )
            login = self.anonymous().post(
                "/api/v1/auth/login", json={"username": username, "password": password}
            )
            token = self.expect(login, 200)["session_token"]
            client = self._client(headers={"Authorization": f"Bearer {token}"})
            self._people[name] = Person(username, str(created["id"]), client)
        return self._people[name]

    def anonymous(self) -> httpx.Client:
        """A client that sends no credentials."""
        return self._client()

    def _client(self, **options: Any) -> httpx.Client:
        # One TLS context for all: httpx would load the CA bundle for each client (~0.1 s),
        # although these only talk plain HTTP to the Workbench.
        client = self.wb.client(verify=_tls_context(), **options)
        self._clients.append(client)
        return client

    def sql(self, query: str, **params: Any) -> list[dict[str, Any]]:
        return self.wb.sql(query, **params)

    def install(self, extension: Any, *, prefix: str = EXTENSION_PREFIX) -> Installation:
        """Plug a check's own helper (a probe endpoint, say) in; removed after the check."""
        installation = self.wb.install(extension, prefix=prefix)
        self._installations.append(installation)
        return installation

    def expect(self, response: httpx.Response, status: int) -> Any:
        """Assert the status code and return the body's `data` (or None). On a mismatch the
        message says what the server answered — and, for a 500, what it raised."""
        if response.status_code != status:
            request = response.request
            said = response.text[:300]
            raised = self.server_error(response) if response.status_code == 500 else ""
            detail = f"; the server raised {raised}" if raised else f": {said}"
            raise AssertionError(
                f"{request.method} {request.url.path} answered {response.status_code}, "
                f"expected {status}{detail}"
            )
        if not response.content:
            return None
        body = response.json()
        return body.get("data") if isinstance(body, dict) else body

    def server_error(self, response: httpx.Response) -> str:
        """The last line of the exception the server logged for this response's request."""
        request_id = response.headers.get("x-request-id", "")
        for entry in reversed(self.wb.log_entries(request_id=request_id, level="ERROR")):
            lines = [line for line in entry.text.splitlines() if line.strip()]
            if lines:
                return lines[-1].strip()
        return ""

    def wait_until(
        self, condition: Callable[[], T], *, within: float = 10.0, what: str = "the condition"
    ) -> T:
        """Poll `condition()` until it returns something truthy; that value is returned.
        Fails the check (AssertionError naming `what`) after `within` seconds."""
        return poll_until(condition, within=within, what=what)

    def end_check(self) -> None:
        """Take out what the check installed."""
        for installation in reversed(self._installations):
            installation.uninstall()
        self._installations.clear()

    def close(self) -> None:
        self.end_check()
        for client in self._clients:
            client.close()
        self._clients.clear()


# ------------------------------------------------------------------ loading code
@contextlib.contextmanager
def _no_bytecode() -> Iterator[None]:
    """Import without writing `__pycache__` into the learner's (or the lab's) folder."""
    before = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        yield
    finally:
        sys.dont_write_bytecode = before


def import_copy(directory: Path, module: str, label: str) -> ModuleType:
    """Import `module` from `directory` as `<package>.<module>`, in a package made for this
    copy alone: two copies of one lab never collide, and the files may import each other
    relatively (`from . import helpers`)."""
    safe_label = re.sub(r"\W", "_", label)
    package_name = f"_studypath_{safe_label}_{next(_copies)}"
    spec = importlib.machinery.ModuleSpec(package_name, None, is_package=True)
    spec.submodule_search_locations = [str(directory)]
    package = importlib.util.module_from_spec(spec)
    sys.modules[package_name] = package
    try:
        with _no_bytecode():
            return importlib.import_module(f"{package_name}.{module}")
    except BaseException:
        forget(package_name)
        raise


def forget(package_name: str) -> None:
    """Drop an imported copy (the package and its modules) from `sys.modules`."""
    for name in [n for n in sys.modules if n == package_name or n.startswith(package_name + ".")]:
        del sys.modules[name]


@dataclass(frozen=True)
class Check:
    name: str  # the function's name without `check_`
    function: Callable[[Lab], Any]
    hint: str
    hidden: bool


def load_checks(lab: LabSpec, *, hidden: bool, source: Path | None = None) -> list[Check]:
    """The checks in file order: public ones, and hidden ones too if `hidden`. From the lab's
    own check file, or from `source` (a learner's copy of it, with checks of their own)."""
    path = source or lab.checks_path
    module = import_copy(path.parent, path.stem, f"{lab.name}_checks")
    forget(module.__name__.rpartition(".")[0])  # its functions keep what they need
    hidden_at = hidden_lines(path.read_text(encoding="utf-8"), str(path))
    found: list[tuple[int, Check]] = []
    for name, function in vars(module).items():
        if not (name.startswith("check_") and inspect.isfunction(function)):
            continue
        if function.__module__ != module.__name__:
            continue  # imported from elsewhere
        line = function.__code__.co_firstlineno
        doc = inspect.getdoc(function)
        if not doc:
            raise ValueError(f"{path}:{line}: {name} needs a docstring (its hint)")
        hint = " ".join(doc.split("\n\n")[0].split())  # the first paragraph, on one line
        check = Check(name.removeprefix("check_"), function, hint, line in hidden_at)
        if hidden or not check.hidden:
            found.append((line, check))
    return [check for _, check in sorted(found, key=lambda item: item[0])]


# ------------------------------------------------------------------ running
def describe(exc: BaseException) -> str:
    """A failure in one line or two: the message, or else the check's line that failed."""
    message = str(exc).strip()
    if message and isinstance(exc, AssertionError):
        return message
    if message:
        return f"{type(exc).__name__}: {message}"
    frames = traceback.extract_tb(exc.__traceback__)
    line = frames[-1].line if frames else ""
    return f"{type(exc).__name__} at `{line}`" if line else type(exc).__name__


def run_check(check: Check, lab: Lab) -> CheckResult:
    started = time.perf_counter()
    error = ""
    try:
        outcome = check.function(lab)
        if inspect.iscoroutine(outcome):  # async checks run on the system's own loop
            lab.wb.run(outcome, timeout=CHECK_TIMEOUT)
    except Exception as exc:
        error = describe(exc)
    finally:
        lab.end_check()
    return CheckResult(
        check.name, not error, check.hint, time.perf_counter() - started, error, check.hidden
    )


@contextlib.contextmanager
def workbench(wb: Workbench | None = None, progress: Progress | None = None) -> Iterator[Workbench]:
    """`wb`; else the Workbench running in this process; else an ephemeral one, started for
    the run and stopped after it. (One Workbench per process: never a second one.)"""
    live = wb or runtime.current()
    if live is not None:
        yield live
        return
    if progress is not None:
        progress("starting an ephemeral Workbench for the checks …")
    started = runtime.start(ephemeral=True, **SANDBOX_SETTINGS)
    try:
        yield started
    finally:
        started.stop()


def reset_schemas(wb: Workbench, schemas: tuple[str, ...]) -> None:
    """Drop the lab's own schemas: every copy starts from an empty database of its own."""
    for schema in schemas:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
            raise ValueError(f"not a schema name: {schema!r}")
        wb.sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def close_breakers(wb: Workbench, task_types: list[str]) -> None:
    """Every check starts with the lab's circuit breakers closed: failures a previous check
    (or copy) caused on purpose must not hold back this one's tasks."""

    async def close() -> None:
        async with wb.db.engine.begin() as conn:
            await breakers.reset(conn, task_types)

    if task_types:
        wb.run(close())


def cancel_unfinished(wb: Workbench, task_types: list[str]) -> None:
    """Tasks of the lab's types still waiting when its run ends would be picked up by the
    next copy's handlers: cancel them, as `POST /tasks/{id}/cancel` does for waiting ones."""

    async def cancel() -> None:
        async with wb.db.engine.begin() as conn:
            await queue.cancel_waiting(conn, task_types=task_types, reason="the lab run ended")

    if task_types:
        wb.run(cancel())


def _run(lab: LabSpec, path: Path, checks: list[Check], wb: Workbench) -> LabRun:
    started = time.perf_counter()
    run = LabRun(lab, path.resolve())
    reset_schemas(wb, lab.schemas)
    module: ModuleType | None = None
    installation: Installation | None = None
    try:
        module = import_copy(run.path, lab.module, lab.name)
    except Exception as exc:
        run.setup_error = f"could not import {lab.module} from {run.path}: {describe(exc)}"
    if module is not None:
        try:
            installation = wb.install(module)
        except Exception as exc:
            run.setup_error = f"could not install {lab.module} into the system: {describe(exc)}"
    context = Lab(wb, module, tag=secrets.token_hex(3))
    try:
        for check in checks:
            if run.setup_error:
                result = CheckResult(
                    check.name, False, check.hint, 0.0, "not run", check.hidden, ran=False
                )
            else:
                close_breakers(wb, installation.task_types if installation else [])
                result = run_check(check, context)
            run.results.append(result)
    finally:
        context.close()
        if installation is not None:
            task_types = installation.task_types
            cancel_unfinished(wb, task_types)  # before and after: a task that was running
            installation.uninstall()  # when the handler went away may be waiting again
            cancel_unfinished(wb, task_types)
        reset_schemas(wb, lab.schemas)
        if module is not None:
            forget(module.__name__.rpartition(".")[0])
    run.duration = time.perf_counter() - started
    return run


def run_lab(
    lab: LabSpec,
    path: Path | None = None,
    *,
    hidden: bool = False,
    checks_from: Path | None = None,
    wb: Workbench | None = None,
    progress: Progress | None = None,
) -> LabRun:
    """Run the lab's public checks (and the hidden ones if `hidden`) on the copy in `path`
    (default: the lab's own folder, i.e. the solution); `checks_from` is another check file
    to take them from (a learner's, with their own checks added)."""
    if lab.grades_tests:  # the learner wrote tests: mutants grade them, no Workbench needed
        from studypath.labs.mutation import grade_tests

        return grade_tests(lab, path or lab.path, progress=progress)
    checks = load_checks(lab, hidden=hidden, source=checks_from)
    with workbench(wb, progress) as live:
        return _run(lab, path or lab.path, checks, live)


def run_submissions(
    lab: LabSpec,
    submissions: dict[str, Path],
    *,
    hidden: bool = True,
    wb: Workbench | None = None,
    progress: Progress | None = None,
) -> dict[str, LabRun]:
    """Check every learner's copy ({learner: folder}) in one Workbench, one after another
    (a tests lab: grade each copy's tests with the mutants)."""
    if lab.grades_tests:
        from studypath.labs.mutation import grade_tests

        graded: dict[str, LabRun] = {}
        for learner, path in submissions.items():
            if progress is not None:
                progress(f"grading {learner}'s tests …")
            graded[learner] = grade_tests(lab, path, progress=progress)
        return graded
    checks = load_checks(lab, hidden=hidden)
    runs: dict[str, LabRun] = {}
    with workbench(wb, progress) as live:
        for learner, path in submissions.items():
            if progress is not None:
                progress(f"checking {learner} …")
            runs[learner] = _run(lab, path, checks, live)
    return runs
