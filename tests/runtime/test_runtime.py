"""The Workbench: `studypath.start()` runs the whole system in a background thread.

It must behave in a notebook: idempotent, silent, fast to fail with the real error, quick
to stop, and never leave a PostgreSQL behind or a data directory it cannot open again.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

import studypath
from studypath import runtime
from studypath.core.clock import poll_until
from studypath.core.db import DatabaseUnavailable
from studypath.core.embedded import (
    HANDLE_LIST,
    POSTMASTER_PID,
    EmbeddedPostgres,
    make_ephemeral_dir,
)
from studypath.core.embedded import postgres_processes as postgres_on
from studypath.runtime import Workbench

pytestmark = pytest.mark.timeout(120)

PASSWORD = "pw-never-shown-7"
HIDDEN_BY_DEFAULT = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


def pgdata_of(data_dir: Path) -> Path:
    return (data_dir / "postgres").resolve()


def get(wb: Workbench, path: str, **kwargs: Any) -> httpx.Response:
    with wb.client() as http:
        return http.get(path, **kwargs)


def clean_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("STUDYPATH_")}


def stop_current() -> None:
    leftover = runtime.current()
    if leftover is not None:
        leftover.stop()


@pytest.fixture(autouse=True)
def no_workbench_outlives_its_test() -> Iterator[None]:
    """`start()` returns a running Workbench if there is one: each test begins without."""
    stop_current()
    yield
    stop_current()


@pytest.fixture(scope="module")
def shared_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data directory for the module: the cluster is created once, as on a learner's
    machine, and each test starts and stops the Workbench on it again."""
    return tmp_path_factory.mktemp("wb") / "data"


@pytest.fixture
def data_dir(shared_data_dir: Path) -> Iterator[Path]:
    """The shared data directory, with no server running on it before or after the test."""
    pgdata = pgdata_of(shared_data_dir)
    assert postgres_on(pgdata) == [], "a previous test left a server running"
    yield shared_data_dir
    stop_current()
    if postgres_on(pgdata):  # only after a failure: do not leak a server into the next test
        EmbeddedPostgres.force_stop(pgdata)


def refused_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()  # bound, never listened, now closed: connecting is refused
    return port


# --------------------------------------------------------------------------- lifecycle


def test_start_serves_and_a_second_start_returns_the_same_handle() -> None:
    wb = studypath.start(ephemeral=True)
    try:
        again = studypath.start(ephemeral=True)
        response = get(wb, "/api/v1/health")
    finally:
        wb.stop()

    assert isinstance(wb, Workbench)
    assert again is wb
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "healthy"


def test_stop_leaves_no_postgres_and_no_temp_dir() -> None:
    wb = studypath.start(ephemeral=True)
    pgdata = wb.settings.pgdata_dir.resolve()
    assert postgres_on(pgdata), "the Workbench should run its own embedded server"

    wb.stop()

    assert postgres_on(pgdata) == []
    assert not wb.settings.data_dir.exists(), "ephemeral data should be deleted by stop()"
    assert not wb.running
    assert runtime.current() is None


def test_a_new_start_after_stop_gives_a_new_running_workbench(data_dir: Path) -> None:
    first = studypath.start(data_dir=data_dir, port=0)
    first.stop()

    second = studypath.start(data_dir=data_dir, port=0)
    try:
        status = get(second, "/api/v1/health/ready").status_code
    finally:
        second.stop()

    assert second is not first
    assert status == 200
    assert postgres_on(pgdata_of(data_dir)) == []


def test_context_manager_stops_the_system(data_dir: Path) -> None:
    with studypath.start(data_dir=data_dir, port=0) as wb:
        inside = get(wb, "/api/v1/health/live").status_code
        url = wb.url

    assert inside == 200
    assert not wb.running
    assert runtime.current() is None
    assert postgres_on(pgdata_of(data_dir)) == []
    with pytest.raises(ConnectionRefusedError):  # nothing listens any more
        socket.create_connection(("127.0.0.1", make_url(url).port or 0), timeout=1).close()


def test_run_executes_a_coroutine_on_the_system_loop_and_returns_its_result(
    database_url: str, tmp_path: Path
) -> None:
    wb = studypath.start(database_url=database_url, data_dir=tmp_path, port=0)

    async def current_database() -> str:
        async with wb.db.engine.connect() as conn:  # the pool lives on the system's loop
            return str((await conn.execute(text("SELECT current_database()"))).scalar_one())

    try:
        name = wb.run(current_database())
        rows = wb.sql("SELECT 6 * 7 AS answer")
    finally:
        wb.stop()

    assert name == make_url(database_url).database
    assert rows == [{"answer": 42}]


def test_run_after_stop_raises_instead_of_hanging(database_url: str, tmp_path: Path) -> None:
    wb = studypath.start(database_url=database_url, data_dir=tmp_path, port=0)
    wb.stop()

    async def nothing() -> None:
        return None

    with pytest.raises(RuntimeError, match="not running"):
        wb.run(nothing())


def test_logs_hold_the_request_lines(database_url: str, tmp_path: Path) -> None:
    wb = studypath.start(database_url=database_url, data_dir=tmp_path, port=0)
    try:
        response = get(wb, "/api/v1/health", headers={"X-Request-ID": "logs-probe-1"})
        poll_until(
            lambda: any("GET /api/v1/health" in line for line in wb.logs()),
            within=5,
            what="the request line in wb.logs()",
            detail=lambda: "\n".join(wb.logs()),
        )
        lines = wb.logs()
        of_request = wb.logs(request_id="logs-probe-1")
    finally:
        wb.stop()

    assert response.status_code == 200
    assert any("GET /api/v1/health -> 200" in line for line in lines)
    assert of_request and all("logs-probe-1" in line for line in of_request)


def test_nothing_is_printed_while_starting_serving_and_stopping(
    data_dir: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    recwarn: pytest.WarningsRecorder,
) -> None:
    capfd.readouterr()  # start from empty buffers
    caplog.set_level(logging.DEBUG)

    wb = studypath.start(data_dir=data_dir, port=0)
    with wb.client() as http:
        for path in ("/api/v1/health", "/api/v1/health/detailed", "/", "/api/v1/missing"):
            http.get(path)
    wb.run(wb.db.ping())
    wb.stop()
    out, err = capfd.readouterr()

    assert out == ""
    assert err == ""
    # Records that reach the root logger would print in a kernel (logging's last resort).
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    # Warnings pytest intercepted would print in a kernel too, except the categories Python
    # hides by default.
    shown = [w for w in recwarn if not issubclass(w.category, HIDDEN_BY_DEFAULT)]
    assert [f"{w.category.__name__}: {w.message}" for w in shown] == []


# --------------------------------------------------------------------------- failing fast


def test_port_in_use_fails_naming_the_port_and_cleans_up(data_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]

        with pytest.raises(OSError, match=f"127.0.0.1:{port}") as caught:
            studypath.start(data_dir=data_dir, port=port)

    assert "in use" in str(caught.value).lower()
    assert runtime.current() is None
    assert postgres_on(pgdata_of(data_dir)) == [], "the failed start left its database running"


def test_unreachable_database_gives_up_at_the_connect_timeout(
    silent_port: int, tmp_path: Path
) -> None:
    url = f"postgresql://alice:{PASSWORD}@127.0.0.1:{silent_port}/coursework"

    with pytest.raises(DatabaseUnavailable) as caught:
        studypath.start(database_url=url, data_dir=tmp_path, port=0)

    message = str(caught.value)
    assert "timeout expired" in message  # gave up at the connect timeout: no endless wait
    assert "127.0.0.1" in message and "coursework" in message
    assert PASSWORD not in message
    assert runtime.current() is None


def test_refused_database_fails_at_once_naming_host_and_database(tmp_path: Path) -> None:
    port = refused_port()
    url = f"postgresql://alice:{PASSWORD}@127.0.0.1:{port}/coursework"

    with pytest.raises(DatabaseUnavailable) as caught:
        studypath.start(database_url=url, data_dir=tmp_path, port=0)

    message = str(caught.value)
    assert "Connection refused" in message  # the first refusal is the answer: no retry loop
    assert "127.0.0.1" in message and str(port) in message and "coursework" in message
    assert PASSWORD not in message


def test_invalid_setting_fails_at_start_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="STUDYPATH_WORKER_CONCURRENCY"):
        studypath.start(data_dir=tmp_path, worker_concurrency=0)

    assert runtime.current() is None


# --------------------------------------------------------------------------- crash recovery

CRASHING_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import studypath

    wb = studypath.start(data_dir=sys.argv[1], port=0)
    assert wb.client().get("/api/v1/health").status_code == 200
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_process_killed_with_sigkill_leaves_a_usable_data_dir(data_dir: Path) -> None:
    pgdata = pgdata_of(data_dir)
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_SCRIPT, str(data_dir)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert postgres_on(pgdata), "expected the killed process to leave its server running"
    assert json.loads((pgdata / HANDLE_LIST).read_text()) != []

    wb = studypath.start(data_dir=data_dir, port=0)
    try:
        status = get(wb, "/api/v1/health/ready").status_code
    finally:
        wb.stop()

    assert status == 200
    poll_until(lambda: postgres_on(pgdata) == [], within=5, what="the reused server to stop")


def a_dead_pid() -> int:
    finished = subprocess.Popen(["true"])
    finished.wait()
    return finished.pid


@pytest.mark.parametrize("owner", ["another-program", "dead-process"])
def test_a_stale_postmaster_pid_is_detected_and_removed(data_dir: Path, owner: str) -> None:
    # Arrange: a real postmaster.pid from a run of this cluster, now pointing at a pid that
    # is not a postgres server.
    pgdata = pgdata_of(data_dir)
    with studypath.start(data_dir=data_dir, port=0):
        real = (pgdata / POSTMASTER_PID).read_text().splitlines()
    with subprocess.Popen(["sleep", "60"]) as other:
        pid = other.pid if owner == "another-program" else a_dead_pid()
        (pgdata / POSTMASTER_PID).write_text("\n".join([str(pid), *real[1:]]) + "\n")

        try:
            wb = studypath.start(data_dir=data_dir, port=0)
            try:
                status = get(wb, "/api/v1/health/ready").status_code
                server_pid = int((pgdata / POSTMASTER_PID).read_text().splitlines()[0])
            finally:
                wb.stop()
        finally:
            other.kill()

    assert status == 200
    assert server_pid != pid
    assert postgres_on(pgdata) == []


def test_a_stale_handle_list_does_not_keep_the_server_alive(data_dir: Path) -> None:
    # Arrange: the handle list names a process that died without signing off; if it
    # counted, our stop() would think someone else still uses the server.
    pgdata = pgdata_of(data_dir)
    with studypath.start(data_dir=data_dir, port=0):
        pass
    (pgdata / HANDLE_LIST).write_text(json.dumps([a_dead_pid()]))

    wb = studypath.start(data_dir=data_dir, port=0)
    wb.stop()

    assert postgres_on(pgdata) == []
    assert json.loads((pgdata / HANDLE_LIST).read_text()) == []


# --------------------------------------------------------------------------- start() again


def test_start_with_other_settings_names_them_and_restart_true_replaces_the_system() -> None:
    wb = studypath.start(ephemeral=True)
    try:
        assert studypath.start(ephemeral=True) is wb  # the same settings: the live handle
        with pytest.raises(runtime.SettingsMismatch) as mismatch:
            studypath.start(ephemeral=True, workers=2, alert_evaluation_seconds=0.5)
        assert wb.running, "a refused start must leave the running system alone"

        replaced = studypath.start(ephemeral=True, alert_evaluation_seconds=0.5, restart=True)
    finally:
        wb.stop()
    try:
        assert "alert_evaluation_seconds, workers differ" in str(mismatch.value)
        assert "restart=True" in str(mismatch.value)
        assert replaced is not wb and replaced.running and not wb.running
        assert replaced.settings.alert_evaluation_seconds == 0.5
        assert runtime.current() is replaced
        with pytest.raises(runtime.SettingsMismatch, match="ephemeral differ"):
            studypath.start(data_dir=wb.settings.data_dir)
    finally:
        replaced.stop()


# --------------------------------------------------------------------------- ephemeral leftovers
EPHEMERAL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import studypath

    wb = studypath.start(ephemeral=True)
    print(wb.settings.data_dir, flush=True)
    time.sleep(600)  # a kernel doing nothing, until it is killed
    """
)

LEFTOVER_SCRIPT = textwrap.dedent(
    """
    import os, signal
    from studypath.core.embedded import EmbeddedPostgres, make_ephemeral_dir

    data_dir = make_ephemeral_dir()  # as an older studypath (no watchdog) left them behind
    EmbeddedPostgres(data_dir / "postgres", durable=False, ephemeral=True).start()
    print(data_dir, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def env_with_tmpdir(tmp_path: Path) -> dict[str, str]:
    """Ephemeral data directories of the child go under `tmp_path`, not the shared /tmp."""
    return {**clean_env(), "TMPDIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}


def test_the_ephemeral_database_stops_when_its_kernel_is_killed(tmp_path: Path) -> None:
    kernel = subprocess.Popen(
        [sys.executable, "-c", EPHEMERAL_SCRIPT],
        env=env_with_tmpdir(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert kernel.stdout is not None
        data_dir = Path(kernel.stdout.readline().strip())
        pgdata = pgdata_of(data_dir)
        assert data_dir.parent == tmp_path.resolve() and postgres_on(pgdata)
    finally:
        kernel.kill()
        kernel.wait(10)

    try:
        poll_until(
            lambda: not postgres_on(pgdata) and not data_dir.exists(),
            within=30,
            what="the watchdog to stop the database of the killed kernel",
        )
    except AssertionError:
        EmbeddedPostgres.force_stop(pgdata)  # do not leave it for the next test
        raise


def test_db_stop_all_ephemeral_cleans_leftovers_and_spares_live_ones(tmp_path: Path) -> None:
    env = env_with_tmpdir(tmp_path)
    killed = subprocess.run(
        [sys.executable, "-c", LEFTOVER_SCRIPT], env=env, capture_output=True, text=True
    )
    leftover = Path(killed.stdout.strip())
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert postgres_on(pgdata_of(leftover)), "expected the killed process to leave its server"
    in_use = make_ephemeral_dir(tmp_path)  # owned by this (live) process

    stopped = subprocess.run(
        [sys.executable, "-m", "studypath", "db", "stop", "--all-ephemeral"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert stopped.returncode == 0, stopped.stderr
    assert f"stopped and removed {leftover}" in stopped.stdout
    assert postgres_on(pgdata_of(leftover)) == [] and not leftover.exists()
    assert in_use.exists(), "a directory whose owner still runs must be kept"
