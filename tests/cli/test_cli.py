"""The `studypath` command, run as real processes: up, server + worker, Ctrl-C, health-check,
export-openapi, migrate, db url/stop, and startup errors an operator can act on."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import typer
from prometheus_client.parser import text_string_to_metric_families
from psycopg import sql
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from studypath import migrations
from studypath.app import create_app
from studypath.config import Settings
from studypath.core.clock import poll_until
from studypath.core.db import libpq_url
from studypath.core.embedded import EmbeddedPostgres
from studypath.core.embedded import postgres_processes as postgres_on
from studypath.openapi import openapi_text
from studypath.tasks import service as tasks_service
from studypath.testing.database import TestPostgres

pytestmark = pytest.mark.timeout(120)

PASSWORD = "pw-never-shown-9"


# --------------------------------------------------------------------------- running the CLI


def studypath_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m studypath`."""
    found = shutil.which("studypath", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "studypath"]


def cli_env(**variables: str) -> dict[str, str]:
    """This environment without any STUDYPATH_* variable, plus `variables`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("STUDYPATH_")}
    env.update(PYTHONUNBUFFERED="1", NO_COLOR="1", STUDYPATH_EMBEDDED_DURABLE="false")
    env.update(variables)
    return env


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*studypath_command(), *args],
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get_json(url: str) -> Any:
    return httpx.get(url, timeout=5).json()


def answers_200(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class Service:
    """A long-running command (`up`, `server`, `worker`) in its own process group, as in a
    terminal; its output (stdout and stderr together) is collected as it comes."""

    def __init__(self, *args: str, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.process = subprocess.Popen(
            [*studypath_command(), *args, "--data-dir", str(data_dir)],
            env=env or cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.append(line)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def pgdata(self) -> Path:
        return (self.data_dir / "postgres").resolve()

    @property
    def output(self) -> str:
        return "".join(self._lines)

    def ctrl_c(self, timeout: float = 15) -> int:
        """What Ctrl-C in a terminal does: SIGINT to the foreground process group."""
        os.killpg(self.process.pid, signal.SIGINT)
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def close(self) -> None:
        """Stop it whatever state it is in, and any server it left on its data directory."""
        if self.process.poll() is None:
            try:
                self.ctrl_c(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if postgres_on(self.pgdata):
            EmbeddedPostgres.force_stop(self.pgdata)


@dataclass
class Up:
    service: Service
    url: str


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    """One `studypath up` shared by the tests that only look at it."""
    port = free_port()
    service = Service("up", "--port", str(port), data_dir=tmp_path_factory.mktemp("up") / "data")
    url = f"http://127.0.0.1:{port}"
    try:
        poll_until(
            lambda: answers_200(f"{url}/api/v1/health"),
            within=40,
            what="`studypath up` to answer /health",
            detail=lambda: service.output,
        )
        yield Up(service, url)
    finally:
        service.close()


@pytest.fixture
def services() -> Iterator[list[Service]]:
    """Services a test starts; all of them are stopped after it, even when it fails."""
    started: list[Service] = []
    yield started
    for service in started:
        service.close()


# --------------------------------------------------------------------------- up


def test_up_serves_healthy_on_the_given_port(up: Up) -> None:
    body = get_json(f"{up.url}/api/v1/health")

    assert body["data"]["status"] == "healthy"
    assert f"studypath is up at {up.url}" in up.service.output


def test_up_starts_quietly_a_line_per_step_then_the_banner(up: Up) -> None:
    """Fresh data dir: database, migrations, server + worker — no Alembic chatter."""
    banner = "studypath is up at"
    poll_until(
        lambda: banner in up.service.output,
        within=10,
        what="the banner",
        detail=lambda: up.service.output,
    )
    before = up.service.output.split(banner)[0].strip().splitlines()

    assert len(before) < 15, "\n".join(before)
    assert not [line for line in before if "alembic" in line.lower()], "\n".join(before)
    assert not [line for line in before if "Context impl" in line or "Will assume" in line]
    steps = ["starting embedded PostgreSQL", "applying migrations", "starting the API server"]
    assert all(any(step in line for line in before) for step in steps), "\n".join(before)
    assert "Press Ctrl-C to stop." in up.service.output.split(banner)[1]


def test_up_on_a_fresh_data_dir_creates_the_admin_and_says_how_to_log_in(up: Up) -> None:
    output = up.service.output
    assert "Created the first admin" in output
    [password] = re.findall(r"^  password  (\S+)$", output, re.MULTILINE)
    login = httpx.post(
        f"{up.url}/api/v1/auth/login", timeout=10, json={"username": "admin", "password": password}
    )
    assert login.status_code == 200
    assert login.json()["data"]["user"]["role"] == "admin"


def test_up_runs_a_live_worker_in_its_process(up: Up) -> None:
    detailed = get_json(f"{up.url}/api/v1/health/detailed")["data"]
    [password] = re.findall(r"^  password  (\S+)$", up.service.output, re.MULTILINE)
    login = httpx.post(
        f"{up.url}/api/v1/auth/login", timeout=10, json={"username": "admin", "password": password}
    )
    token = login.json()["data"]["session_token"]
    full = httpx.get(
        f"{up.url}/api/v1/admin/health", timeout=5, headers={"Authorization": f"Bearer {token}"}
    ).json()["data"]

    assert detailed["status"] == "healthy"
    assert detailed["checks"]["worker"]["details"]["live_workers"] == 1
    assert full["checks"]["worker"]["details"]["workers"][0]["pid"] == up.service.pid


def test_health_check_exits_0_against_a_running_server(up: Up) -> None:
    result = run_cli("health-check", "--url", up.url)

    assert result.returncode == 0, result.stderr
    assert "healthy" in result.stdout


def test_check_api_passes_against_studypath_up(up: Up) -> None:
    """The post-deploy smoke test, run on a real `studypath up`: every check, the admin's too
    (the password through the environment, so it is not on a command line)."""
    [password] = re.findall(r"^  password  (\S+)$", up.service.output, re.MULTILINE)
    env = cli_env(STUDYPATH_CHECK_ADMIN_PASSWORD=password)

    result = run_cli("check-api", "--url", up.url, env=env, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^contract holds: \d+ passed, 0 failed$", result.stdout, re.MULTILINE)
    assert "SKIP" not in result.stdout


def test_db_url_prints_the_running_embedded_url(up: Up) -> None:
    result = run_cli("db", "url", "--data-dir", str(up.service.data_dir))

    url = result.stdout.strip()
    assert result.returncode == 0, result.stderr
    with psycopg.connect(url, connect_timeout=5) as conn:
        data_directory = conn.execute("SHOW data_directory").fetchone()
    assert data_directory is not None
    assert Path(data_directory[0]).resolve() == up.service.pgdata


def test_up_without_workers_reports_no_live_worker_and_stops_on_ctrl_c(
    services: list[Service], tmp_path: Path
) -> None:
    port = free_port()
    up = Service("up", "--workers", "0", "--port", str(port), data_dir=tmp_path / "data")
    services.append(up)
    url = f"http://127.0.0.1:{port}"
    poll_until(
        lambda: answers_200(f"{url}/api/v1/health"),
        within=40,
        what="`studypath up --workers 0` to answer /health",
        detail=lambda: up.output,
    )

    worker = get_json(f"{url}/api/v1/health/detailed")["data"]["checks"]["worker"]
    code = up.ctrl_c()

    assert worker["status"] == "degraded"
    assert worker["details"]["live_workers"] == 0
    assert code == 0, up.output
    assert "stopped." in up.output
    assert "Traceback" not in up.output
    assert postgres_on(up.pgdata) == []


def test_server_and_worker_processes_share_one_embedded_database(
    services: list[Service], tmp_path: Path
) -> None:
    # Arrange: both started at once on a new data directory, as a script or a process
    # manager would start them; they must agree on one cluster and one schema.
    data_dir = tmp_path / "data"
    port = free_port()
    server = Service("server", "--port", str(port), data_dir=data_dir)
    worker = Service("worker", data_dir=data_dir)
    services.extend([worker, server])
    url = f"http://127.0.0.1:{port}"

    def worker_is_live() -> bool:
        if worker.process.poll() is not None or not answers_200(f"{url}/api/v1/health"):
            return False
        # Anonymous health shows how many workers are live, not which (no pids to strangers);
        # the worker process is the only one that could be.
        check = get_json(f"{url}/api/v1/health/detailed")["data"]["checks"]["worker"]
        return bool(check["details"]["live_workers"] == 1)

    poll_until(
        worker_is_live,
        within=40,
        every=0.25,
        what="the worker process to be live",
        detail=lambda: f"server:\n{server.output}\nworker:\n{worker.output}",
    )

    # Act + assert: the worker leaves first, the server keeps the database; the last one
    # out stops it.
    assert worker.ctrl_c() == 0, worker.output
    assert answers_200(f"{url}/api/v1/health/ready")
    assert postgres_on(server.pgdata) != []
    assert server.ctrl_c() == 0, server.output
    poll_until(
        lambda: postgres_on(server.pgdata) == [], within=5, what="the database to be stopped"
    )


# --------------------------------------------------------------------------- one-shot commands


def test_health_check_exits_1_when_nothing_listens() -> None:
    result = run_cli("health-check", "--url", f"http://127.0.0.1:{free_port()}", "--timeout", "2")

    assert result.returncode == 1
    assert "unhealthy" in result.stderr


def test_export_openapi_writes_the_document_without_a_database(tmp_path: Path) -> None:
    output = tmp_path / "openapi.json"
    data_dir = tmp_path / "data"
    env = cli_env(
        STUDYPATH_DATA_DIR=str(data_dir),
        # If the command touched the database it would fail on this URL.
        STUDYPATH_DATABASE_URL=f"postgresql://nobody:{PASSWORD}@127.0.0.1:{free_port()}/none",
    )

    result = run_cli("export-openapi", "--output", str(output), env=env)

    assert result.returncode == 0, result.stderr
    assert output.read_text() == openapi_text(create_app(Settings()))  # sorted, stable
    document = json.loads(output.read_text())
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "studypath API"
    assert "/api/v1/health" in document["paths"]
    assert not data_dir.exists()


def test_db_url_fails_clearly_when_the_database_is_not_running(tmp_path: Path) -> None:
    result = run_cli("db", "url", "--data-dir", str(tmp_path))

    assert result.returncode == 1
    assert "not running" in result.stderr
    assert str(tmp_path) in result.stderr
    assert result.stdout == ""


def test_db_stop_stops_a_server_left_running(tmp_path: Path) -> None:
    pgdata = (tmp_path / "postgres").resolve()
    started = run_cli("db", "start", "--data-dir", str(tmp_path))
    try:
        assert started.returncode == 0, started.stderr
        assert postgres_on(pgdata), "`db start` should leave the server running"

        stopped = run_cli("db", "stop", "--data-dir", str(tmp_path))

        assert stopped.returncode == 0, stopped.stderr
        assert "stopped" in stopped.stdout
        assert postgres_on(pgdata) == []
    finally:
        EmbeddedPostgres.force_stop(pgdata)


EXPECTED_REASON = {"refused": "Connection refused", "silent": "connection timeout expired"}


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_bad_database_url_fails_fast_naming_host_and_database_not_password(
    tmp_path: Path, silent_port: int, kind: str
) -> None:
    # Fast means: one try, bounded by the connect timeout (a silent server costs all of it),
    # then a message that says which of the two happened; no retry loop.
    port = silent_port if kind == "silent" else free_port()
    env = cli_env(STUDYPATH_DATABASE_URL=f"postgresql://alice:{PASSWORD}@127.0.0.1:{port}/grades")

    result = run_cli("up", "--port", str(free_port()), "--data-dir", str(tmp_path), env=env)

    assert result.returncode != 0
    assert result.stderr.count("Cannot connect to PostgreSQL") == 1, result.stderr
    assert EXPECTED_REASON[kind] in result.stderr, result.stderr
    assert "127.0.0.1" in result.stderr and "grades" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_setting_exits_naming_the_variable(tmp_path: Path) -> None:
    env = cli_env(STUDYPATH_PORT="99999")

    result = run_cli("up", "--data-dir", str(tmp_path), env=env)

    assert result.returncode != 0
    assert "STUDYPATH_PORT" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "postgres").exists(), "no database should start on bad settings"


# --------------------------------------------------------------------------- migrate


@pytest.fixture
def empty_database_url(postgres: TestPostgres) -> Iterator[str]:
    name = f"cli_{os.getpid()}_{time.monotonic_ns()}"
    postgres.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)).as_string())
    url = postgres.url_for(name)
    yield url
    postgres.drop(url)


def tables_in(url: str) -> set[str]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'alembic_version'"
        ).fetchall()
    return {row[0] for row in rows}


def test_migrate_up_down_and_current(empty_database_url: str) -> None:
    env = cli_env(STUDYPATH_DATABASE_URL=empty_database_url)
    history = [revision for revision, _ in migrations.history()]
    head = history[-1]
    below_head = history[-2] if len(history) > 1 else "(none)"

    upgraded = run_cli("migrate", "up", env=env)
    tables_at_head = tables_in(empty_database_url)
    downgraded = run_cli("migrate", "down", env=env)
    current = run_cli("migrate", "current", env=env)

    assert upgraded.returncode == 0, upgraded.stderr
    assert f"current revision: {head} " in upgraded.stdout
    assert {"users", "tasks", "workers"} <= tables_at_head
    assert downgraded.returncode == 0, downgraded.stderr
    assert f"current revision: {below_head} " in downgraded.stdout
    assert current.returncode == 0, current.stderr
    assert f"current revision: {below_head}  (head: {head})" in current.stdout
    assert migrations.current_revision(empty_database_url) == (
        None if below_head == "(none)" else below_head
    )


async def test_a_worker_process_serves_its_own_task_metrics(
    services: list[Service], tmp_path: Path, database_url: str, session: AsyncSession
) -> None:
    """`studypath worker` has no API to scrape: with --metrics-port its task counters are on
    a page of its own (and the database-derived gauges are left to the API's page)."""
    port = free_port()
    worker = Service(
        "worker",
        "--metrics-port",
        str(port),
        data_dir=tmp_path / "data",
        env=cli_env(STUDYPATH_DATABASE_URL=database_url),
    )
    services.append(worker)
    await asyncio.to_thread(
        poll_until,
        lambda: "worker running" in worker.output,
        within=40,
        what="the worker to say it is running",
        detail=lambda: worker.output,
    )
    assert f"metrics at http://127.0.0.1:{port}/metrics" in worker.output

    await tasks_service.enqueue_many(
        session, task_type="delay_task", payloads=[{"delay_seconds": 0}] * 3, created_by=None
    )
    await session.commit()

    def succeeded() -> float:
        page = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        families = {family.name: family for family in text_string_to_metric_families(page)}
        assert "studypath_queue_depth" not in families  # the API's page has it
        return sum(
            sample.value
            for sample in families["studypath_tasks_succeeded"].samples
            if sample.labels.get("task_type") == "delay_task"
        )

    await asyncio.to_thread(
        poll_until,
        lambda: succeeded() == 3,
        within=20,
        what="3 delay_task successes on the worker's page",
        detail=lambda: worker.output,
    )
    assert worker.ctrl_c() == 0, worker.output
    assert "Traceback" not in worker.output


# --------------------------------------------------------------------------- --help


def every_command_path(command: Any, path: tuple[str, ...] = ()) -> list[list[str]]:
    """[[], ["up"], ["db"], ["db", "url"], …]: the app and each of its (sub)commands."""
    paths = [list(path)]
    for name, sub in getattr(command, "commands", {}).items():
        paths += every_command_path(sub, (*path, name))
    return paths


def test_help_of_every_command_has_no_bool_style_metavars() -> None:
    from studypath.cli import app

    paths = every_command_path(typer.main.get_command(app))
    assert ["db", "stop"] in paths and ["labs", "check"] in paths and ["notebooks"] in paths

    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "<bool>" not in result.output, (path, result.output)
        assert re.search(r"--help\s+Show this message", result.output), (path, result.output)
