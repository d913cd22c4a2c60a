"""How fast is the request path? studypath beside the FastAPI full-stack template, by `wrk`.

Starts two servers, each one process with its own embedded PostgreSQL on a fresh data
directory, production-like (durable PostgreSQL, argon2id defaults, tracing available):

- studypath: `studypath server` (the API alone, no workers, tracing on as the notebooks
  use it, sampling as configured: by default nothing is recorded unless a notebook collects);
- the template (fastapi/full-stack-fastapi-template, from a local clone given by
  `--template-dir`; nothing of it lives in this repository): `uvicorn app.main:app`, from a
  cached virtualenv built from its `backend/pyproject.toml` with the versions of FastAPI,
  pydantic, SQLAlchemy, psycopg and uvicorn pinned to this environment's.

Then drives each pair of endpoints with `wrk` (Debian package `wrk`), 16 connections, the
runs interleaved (studypath, template, template, studypath, …) so a noisy neighbour on a
shared machine hits both alike:

    GET /api/v1/auth/me         vs  GET /api/v1/users/me              (authenticated read)
    GET /api/v1/health/live     vs  GET /api/v1/utils/health-check/   (no database)
    GET /api/v1/health/ready    vs  GET /api/v1/utils/health-check/   (readiness)

For each: requests/s (median over the runs), p50/p99 latency (median over the runs, from wrk's
own histogram), and the server's CPU per request — utime+stime from /proc/<pid>/stat of the
server process *and* its PostgreSQL (postmaster and backends), divided by the requests served.
CPU per request is the steadier figure on a shared machine: it does not depend on how much of
the cores the neighbours left. The ratios are studypath / template (for CPU: template /
studypath, so above 1 means studypath is cheaper).

The template's shims (it targets Python 3.14 and a Docker Compose setup):
- in a copy of the backend, its 3.14-only code: `except A, B:` (PEP 758) is parenthesised,
  and a model annotation naming a class defined further down (fine under PEP 649's lazy
  annotations) is quoted;
- `requires-python` is ignored: its dependencies are installed from the list, on this Python;
- an empty `app/frontend/index.html` (its app mounts a built frontend folder);
- the embedded PostgreSQL has no `uuid-ossp` extension: the migration that creates it gets a
  `uuid_generate_v4()` SQL function over the built-in `gen_random_uuid()` instead;
- `DATABASE_URL` for the embedded server's socket, `alembic upgrade head` and
  `app/initial_data.py` (the first superuser), as its `prestart.sh` does.

    python bench/http.py --template-dir /tmp/fastapi-template
    python bench/http.py                          # studypath alone, same method
    python bench/http.py --env STUDYPATH_TRACE_SAMPLE_RATIO=1   # what recording everything costs
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/http.py` puts bench/ first on the module search path, where a sibling script
# can shadow a standard module (`bench/queue.py` hides `queue`). Move bench/ to the end.
sys.path.sort(key=lambda entry: Path(entry or ".").resolve() == Path(__file__).resolve().parent)

import argparse
import hashlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import httpx
import psutil

from studypath.core.clock import poll_until

USERNAME, EMAIL, PASSWORD = "bench_user", "bench@example.com", "Bench-Password-2024"
TEMPLATE_ADMIN, TEMPLATE_PASSWORD = "admin@example.com", "Bench-Template-Password-2024"
STARTUP_TIMEOUT = 120.0
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "studypath-bench"
# The embedded PostgreSQL has no contrib extensions; the template's migrations only need
# uuid-ossp's uuid_generate_v4(), which PostgreSQL 13+ has built in as gen_random_uuid().
UUID_OSSP = 'CREATE EXTENSION IF NOT EXISTS "uuid-ossp"'
UUID_GENERATE_V4 = (
    "CREATE OR REPLACE FUNCTION uuid_generate_v4() RETURNS uuid LANGUAGE sql "
    "AS $$SELECT gen_random_uuid()$$"
)
# The versions both servers must share, so the comparison is of the code, not the libraries.
SHARED = ("fastapi", "pydantic", "pydantic-core", "sqlalchemy", "psycopg", "psycopg-binary",
          "uvicorn", "uvloop", "httptools", "starlette")  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Wait for `url` to answer 200; fail at once, with the server's log, if the server exits."""

    def answers() -> bool:
        if server.poll() is not None:
            raise RuntimeError(
                f"{server.args!r} exited with {server.returncode}:\n{log.read_text()}"
            )
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    what = f"{url} to answer"
    poll_until(answers, within=STARTUP_TIMEOUT, what=what, every=0.2, detail=lambda: f"log: {log}")


@contextmanager
def running(
    command: list[str], *, env: dict[str, str], cwd: Path, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` until the block ends (SIGINT, as Ctrl-C, then SIGKILL)."""
    with log.open("w") as output:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=output, stderr=output)
        try:
            yield process
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Server:
    """One server under test: its base URL, the pids whose CPU counts, and its requests."""

    name: str
    url: str
    pids: list[int]
    paths: dict[str, str]  # scenario → path
    headers: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- CPU accounting
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, from /proc/<pid>/stat (0 if it has exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):  # it exited meanwhile
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14 and 15 of stat


def process_tree(pids: list[int]) -> list[int]:
    """The pids and all their descendants (PostgreSQL's backends are the postmaster's), each
    once."""
    found: dict[int, None] = {}
    for pid in pids:
        try:
            root = psutil.Process(pid)
            found.update(dict.fromkeys([root.pid, *(c.pid for c in root.children(recursive=True))]))
        except psutil.NoSuchProcess:
            pass
    return list(found)


def total_cpu(pids: list[int]) -> dict[int, float]:
    return {pid: cpu_seconds(pid) for pid in process_tree(pids)}


# --------------------------------------------------------------------------- studypath
@contextmanager
def studypath_server(work: Path, extra_env: dict[str, str]) -> Iterator[Server]:
    """`studypath server` on a fresh data directory: production settings (none of the
    caller's STUDYPATH_* overrides), plus `extra_env`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("STUDYPATH_")}
    env.update(extra_env)
    port = free_port()
    data_dir = work / "studypath-data"
    command = [sys.executable, "-m", "studypath", "server", "--port", str(port)]
    command += ["--data-dir", str(data_dir)]
    url = f"http://127.0.0.1:{port}"
    log = work / "studypath.log"
    with running(command, env=env, cwd=Path.cwd(), log=log) as process:
        wait_until(f"{url}/api/v1/health/ready", process, log)
        account = {"username": USERNAME, "email": EMAIL, "password": PASSWORD}
        httpx.post(f"{url}/api/v1/auth/register", json=account, timeout=30)
        login = httpx.post(
            f"{url}/api/v1/auth/login",
            json={"username": USERNAME, "password": PASSWORD},
            timeout=30,
        )
        login.raise_for_status()
        token = login.json()["data"]["session_token"]
        postmaster = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        yield Server(
            "studypath",
            url,
            [process.pid, postmaster],
            {
                "authenticated read": "/api/v1/auth/me",
                "liveness": "/api/v1/health/live",
                "readiness": "/api/v1/health/ready",
            },
            {"Authorization": f"Bearer {token}"},
        )


# --------------------------------------------------------------------------- the template
def template_venv(backend: Path) -> Path:
    """A virtualenv with the template's dependencies, cached by its pyproject's content;
    the libraries both servers use are pinned to this environment's versions."""
    import tomllib

    pyproject = (backend / "pyproject.toml").read_bytes()
    requirements = tomllib.loads(pyproject.decode())["project"]["dependencies"]
    from importlib import metadata

    pins = [f"{name}=={metadata.version(name)}" for name in SHARED if _installed(name)]
    key = hashlib.sha256(pyproject + "\n".join(pins).encode() + sys.version.encode()).hexdigest()
    venv = CACHE / f"template-venv-{key[:12]}"
    python = venv / "bin" / "python"
    if (venv / ".complete").exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    print(f"building the template's virtualenv in {venv} (once) …", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    constraints = venv / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n")
    installer = [shutil.which("uv"), "pip", "install", "--python", str(python)]
    if installer[0] is None:
        installer = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run([*installer, "-c", str(constraints), *requirements], check=True)  # type: ignore[list-item]
    (venv / ".complete").touch()
    return python


def _installed(name: str) -> bool:
    from importlib import metadata

    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def shimmed_backend(template_dir: Path, work: Path) -> Path:
    """A copy of the template's backend that runs on this Python (see the module docstring)."""
    backend = work / "template-backend"
    shutil.copytree(template_dir / "backend", backend, ignore=shutil.ignore_patterns(".venv"))
    pep758 = re.compile(r"^(\s*except )([\w.]+(?:, [\w.]+)+):", re.MULTILINE)
    for source in (backend / "app").rglob("*.py"):
        text = source.read_text()
        fixed = pep758.sub(lambda m: f"{m.group(1)}({m.group(2)}):", text)
        if fixed != text:
            source.write_text(fixed)
    for module in (backend / "app").rglob("models.py"):
        module.write_text(quote_forward_references(module.read_text()))
    for migration in (backend / "app" / "alembic" / "versions").glob("*.py"):
        text = migration.read_text()
        if UUID_OSSP in text:
            migration.write_text(text.replace(UUID_OSSP, UUID_GENERATE_V4))
    frontend = backend / "app" / "frontend"
    frontend.mkdir(exist_ok=True)
    (frontend / "index.html").write_text("<!doctype html><title>frontend</title>\n")
    return backend


def quote_forward_references(source: str) -> str:
    """Quote the classes a relationship annotation names before they are defined (`list[Item]`
    → `list["Item"]`):
    Python 3.14 evaluates annotations lazily (PEP 649), earlier versions at once."""
    lines = source.splitlines(keepends=True)
    defined_at = {
        match.group(1): number
        for number, line in enumerate(lines)
        if (match := re.match(r"class (\w+)\b", line))
    }
    relationship = re.compile(r"^(\s+\w+: )([^=\"']+?)( = Relationship\()")
    for number, line in enumerate(lines):
        match = relationship.match(line)
        if match is None:
            continue
        later = "|".join(name for name, where in defined_at.items() if where > number)
        annotation = re.sub(rf"\b({later})\b", r'"\1"', match.group(2)) if later else match.group(2)
        lines[number] = line.replace(match.group(2), annotation, 1)
    return "".join(lines)


@contextmanager
def template_server(template_dir: Path, work: Path) -> Iterator[Server]:
    from studypath.core.embedded import EmbeddedPostgres

    backend = shimmed_backend(template_dir, work)
    python = template_venv(backend)
    database = EmbeddedPostgres(work / "template-postgres", durable=True)
    database.start()
    try:
        socket_dir = database.url.split("host=", 1)[1]
        env = {
            **{key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"},
            "PATH": f"{python.parent}:{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(backend),  # its `uv sync` installs the app as a package
            "DATABASE_URL": f"postgresql+psycopg://postgres@localhost/postgres?host={socket_dir}",
            "SECRET_KEY": hashlib.sha256(os.urandom(16)).hexdigest(),
            "PROJECT_NAME": "template",
            "FIRST_SUPERUSER": TEMPLATE_ADMIN,
            "FIRST_SUPERUSER_PASSWORD": TEMPLATE_PASSWORD,
            "FRONTEND_HOST": "http://localhost:5173",
        }
        for step in (["-m", "alembic", "upgrade", "head"], ["-m", "app.initial_data"]):
            done = subprocess.run(
                [str(python), *step], cwd=backend, env=env, capture_output=True, text=True
            )
            if done.returncode != 0:
                raise RuntimeError(f"template: {' '.join(step)} failed:\n{done.stderr}")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [str(python), "-m", "uvicorn", "app.main:app", "--port", str(port)]
        command += ["--no-access-log", "--log-level", "warning"]
        log = work / "template.log"
        with running(command, env=env, cwd=backend, log=log) as process:
            wait_until(f"{url}/api/v1/utils/health-check/", process, log)
            login = httpx.post(
                f"{url}/api/v1/login/access-token",
                data={"username": TEMPLATE_ADMIN, "password": TEMPLATE_PASSWORD},
                timeout=30,
            )
            login.raise_for_status()
            postmaster = int((database.pgdata / "postmaster.pid").read_text().split()[0])
            yield Server(
                "template",
                url,
                [process.pid, postmaster],
                {
                    "authenticated read": "/api/v1/users/me",
                    "liveness": "/api/v1/utils/health-check/",
                    "readiness": "/api/v1/utils/health-check/",
                },
                {"Authorization": f"Bearer {login.json()['access_token']}"},
            )
    finally:
        database.stop()


# --------------------------------------------------------------------------- wrk
@dataclass
class Run:
    requests: int
    errors: int
    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float
    database_cpu_ms_per_request: float  # the part spent in PostgreSQL


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(server: Server, path: str, *, seconds: float, connections: int, threads: int) -> Run:
    """One wrk run against `path`; the server's CPU (its process and its PostgreSQL's)
    measured over the same interval."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    for name, value in server.headers.items():
        command += ["-H", f"{name}: {value}"]
    database = set(process_tree(server.pids[1:]))
    before = total_cpu(server.pids)
    output = subprocess.run(
        [*command, server.url + path], check=True, capture_output=True, text=True
    ).stdout
    after = total_cpu(server.pids)
    used = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
    cpu = sum(used.values())
    database_cpu = sum(seconds for pid, seconds in used.items() if pid in database)
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = 0
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(found.group(1))
    socket_errors = r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
    if found := re.search(socket_errors, output):
        errors += sum(int(group) for group in found.groups())
    return Run(
        requests=requests,
        errors=errors,
        per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(re.search(r"\s50%\s+(\S+)", output).group(1)),  # type: ignore[union-attr]
        p99_ms=_ms(re.search(r"\s99%\s+(\S+)", output).group(1)),  # type: ignore[union-attr]
        cpu_ms_per_request=1000 * cpu / max(1, requests),
        database_cpu_ms_per_request=1000 * database_cpu / max(1, requests),
    )


@dataclass
class Figures:
    runs: list[Run] = field(default_factory=list)

    def median(self, attribute: str) -> float:
        values: list[float] = [getattr(run, attribute) for run in self.runs]
        return statistics.median(values)


def measure(
    servers: list[Server], *, runs: int, seconds: float, connections: int, threads: int
) -> dict[tuple[str, str], Figures]:
    """Every scenario on every server, `runs` times, interleaved (the order alternates)."""
    results: dict[tuple[str, str], Figures] = {}
    scenarios = list(servers[0].paths)
    for server in servers:  # warm up: imports, pools, caches
        for scenario in scenarios:
            wrk(server, server.paths[scenario], seconds=1, connections=connections, threads=threads)
    for run in range(runs):
        for scenario in scenarios:
            order = servers if run % 2 == 0 else servers[::-1]
            for server in order:
                figures = results.setdefault((scenario, server.name), Figures())
                figures.runs.append(
                    wrk(
                        server,
                        server.paths[scenario],
                        seconds=seconds,
                        connections=connections,
                        threads=threads,
                    )
                )
        print(f"  run {run + 1}/{runs} done", flush=True)
    return results


def report(results: dict[tuple[str, str], Figures], servers: list[Server]) -> str:
    lines = [
        "| scenario | server | path | req/s | p50 ms | p99 ms | CPU ms/req | of which DB "
        "| errors |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario in servers[0].paths:
        for server in servers:
            figures = results[(scenario, server.name)]
            lines.append(
                f"| {scenario} | {server.name} | `{server.paths[scenario]}` "
                f"| {figures.median('per_second'):,.0f} | {figures.median('p50_ms'):.2f} "
                f"| {figures.median('p99_ms'):.2f} | {figures.median('cpu_ms_per_request'):.3f} "
                f"| {figures.median('database_cpu_ms_per_request'):.3f} "
                f"| {sum(run.errors for run in figures.runs)} |"
            )
        if len(servers) == 2:
            ours, theirs = (
                results[(scenario, servers[0].name)],
                results[(scenario, servers[1].name)],
            )
            lines.append(
                f"| {scenario} | **ratio** | studypath / template "
                f"| **{ours.median('per_second') / theirs.median('per_second'):.2f}×** "
                f"| {ours.median('p50_ms') / theirs.median('p50_ms'):.2f}× "
                f"| {ours.median('p99_ms') / theirs.median('p99_ms'):.2f}× "
                f"| {theirs.median('cpu_ms_per_request') / ours.median('cpu_ms_per_request'):.2f}× "
                "cheaper | | |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--template-dir", type=Path, help="a clone of full-stack-fastapi-template")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario and server")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="for studypath"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("needs wrk: apt-get install -y wrk")
    extra_env = dict(item.split("=", 1) for item in args.env)
    work = Path(tempfile.mkdtemp(prefix="studypath-http-bench-"))
    try:
        with ExitStack() as stack:
            print("starting studypath …", flush=True)
            servers = [stack.enter_context(studypath_server(work, extra_env))]
            if args.template_dir is not None:
                print("starting the template …", flush=True)
                servers.append(stack.enter_context(template_server(args.template_dir, work)))
            print(
                f"wrk: {args.connections} connections, {args.threads} thread(s), "
                f"{args.runs} × {args.seconds:g} s per scenario and server, interleaved",
                flush=True,
            )
            results = measure(
                servers,
                runs=args.runs,
                seconds=args.seconds,
                connections=args.connections,
                threads=args.threads,
            )
        print()
        print(report(results, servers))
        load = os.getloadavg()
        print(f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
              f"on {os.cpu_count()} cores")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
