"""How long does studypath take to start? Median of N runs of each start-up, with CPU time.

- `studypath --help` and `python -c "import studypath"`: a fresh interpreter each run;
- `studypath up` until its ready probe (`/api/v1/health/ready`) answers 200, on an existing
  data directory (warm: made by one untimed run first) and on a fresh one each run (cold:
  `initdb`, migrations, the first admin); each run is then stopped as Ctrl-C stops it;
- `studypath.start()` in a subprocess on an existing data directory, timed from before
  `import studypath` to the Workbench's return — what a notebook kernel waits for.

Wall time moves with the machine's load; the CPU column is the studypath process's own user +
system time up to the moment it was ready (PostgreSQL's processes not included), the steadier
figure on a shared machine. Then the top import costs of `import studypath.system` and of the
CLI (`python -X importtime`, cumulative). A benchmark, not a test:

    python bench/startup.py              # median of 5, about a minute on 2 cores
    python bench/startup.py --runs 3 --imports 20
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/startup.py` puts bench/ first on the module search path, where a sibling
# script can shadow a standard module (bench/queue.py hides `queue`). Move bench/ to the end.
sys.path.sort(key=lambda entry: Path(entry or ".").resolve() == Path(__file__).resolve().parent)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import os
import statistics
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bench.studypath_process import free_port, stop

READY_TIMEOUT = 90.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Sample:
    wall: float  # seconds
    cpu: float | None  # seconds of the studypath process's own CPU, when known


def clean_env() -> dict[str, str]:
    """The caller's environment without STUDYPATH_* settings (cheap hashing, say): what a
    user starting studypath in a terminal has."""
    return {key: value for key, value in os.environ.items() if not key.startswith("STUDYPATH_")}


def process_cpu(pid: int) -> float:
    """utime + stime of a live process, from /proc/<pid>/stat (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def timed_command(command: list[str]) -> Sample:
    """A command run to its end; CPU from the children's rusage."""
    before = os.times()
    started = time.perf_counter()
    subprocess.run(command, env=clean_env(), check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return Sample(wall, cpu)


def timed_up(data_dir: Path, log_path: Path) -> Sample:
    """`studypath up` on `data_dir` until ready (polled every 20 ms), then Ctrl-C."""
    port = free_port()
    command = [sys.executable, "-m", "studypath", "up", "--port", str(port)]
    command += ["--data-dir", str(data_dir)]
    url = f"http://127.0.0.1:{port}/api/v1/health/ready"
    with log_path.open("w") as log:
        started = time.perf_counter()
        server = subprocess.Popen(command, env=clean_env(), stdout=log, stderr=subprocess.STDOUT)
        try:
            wall, cpu = wait_ready(server, url, started, log_path)
        finally:
            stop(server)
    return Sample(wall, cpu)


def wait_ready(
    server: subprocess.Popen[bytes], url: str, started: float, log_path: Path
) -> tuple[float, float]:
    with httpx.Client(timeout=2) as client:
        while time.perf_counter() - started < READY_TIMEOUT:
            if server.poll() is not None:
                raise RuntimeError(f"studypath up exited:\n{log_path.read_text()}")
            try:
                if client.get(url).status_code == 200:
                    return time.perf_counter() - started, process_cpu(server.pid)
            except httpx.TransportError:
                pass
            time.sleep(0.02)
    raise RuntimeError(f"studypath up was not ready in {READY_TIMEOUT} s:\n{log_path.read_text()}")


KERNEL_START = textwrap.dedent(
    """
    import sys, time
    started, cpu = time.perf_counter(), time.process_time()
    import studypath
    wb = studypath.start(data_dir=sys.argv[1], port=int(sys.argv[2]))
    print(time.perf_counter() - started, time.process_time() - cpu, flush=True)
    wb.stop()
    """
)


def timed_kernel_start(data_dir: Path) -> Sample:
    """`studypath.start()` in a fresh interpreter (a kernel that has not imported it yet)."""
    command = [sys.executable, "-c", KERNEL_START, str(data_dir), str(free_port())]
    output = subprocess.run(command, env=clean_env(), check=True, capture_output=True, text=True)
    wall, cpu = output.stdout.split()[-2:]
    return Sample(float(wall), float(cpu))


def median_of(runs: int, measure: Callable[[int], Sample]) -> tuple[Sample, list[Sample]]:
    samples = [measure(run) for run in range(runs)]
    cpus = [s.cpu for s in samples if s.cpu is not None]
    middle = Sample(
        statistics.median(s.wall for s in samples), statistics.median(cpus) if cpus else None
    )
    return middle, samples


def import_costs(module: str, top: int) -> list[tuple[float, str]]:
    """The `top` largest cumulative import times (seconds) of `import module`, fresh process."""
    command = [sys.executable, "-X", "importtime", "-c", f"import {module}"]
    stderr = subprocess.run(command, env=clean_env(), capture_output=True, text=True).stderr
    costs = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self, cumulative, name = line.removeprefix("import time:").split("|")
        costs.append((int(cumulative) / 1e6, name.rstrip()))
    return sorted(costs, reverse=True)[:top]


def load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="Runs of each start-up (median).")
    parser.add_argument("--imports", type=int, default=15, help="Import costs to list.")
    args = parser.parse_args()
    studypath_cli = [sys.executable, "-m", "studypath"]
    print(f"start: {load()}", flush=True)
    rows: list[tuple[str, Sample, list[Sample]]] = []
    with tempfile.TemporaryDirectory(prefix="studypath-startup-bench-") as work_dir:
        work = Path(work_dir)
        warm_dir = work / "warm"
        timed_up(warm_dir, work / "first.log")  # makes the existing data directory

        measures: list[tuple[str, Callable[[int], Sample]]] = [
            ("studypath --help", lambda _: timed_command([*studypath_cli, "--help"])),
            (
                'python -c "import studypath"',
                lambda _: timed_command([sys.executable, "-c", "import studypath"]),
            ),
            ("studypath up, existing data dir", lambda _: timed_up(warm_dir, work / "up.log")),
            (
                "studypath up, fresh data dir",
                lambda run: timed_up(work / f"fresh-{run}", work / "up.log"),
            ),
            ("studypath.start(), existing data dir", lambda _: timed_kernel_start(warm_dir)),
        ]
        for name, measure in measures:
            middle, samples = median_of(args.runs, measure)
            rows.append((name, middle, samples))
            print(f"  {name}: {middle.wall:.2f} s", flush=True)

    print(f"\nmedian of {args.runs} runs; end: {load()}\n")
    print("| start-up | wall (median) | CPU (median) | all runs, wall s |")
    print("|---|---:|---:|---|")
    for name, middle, samples in rows:
        cpu = "–" if middle.cpu is None else f"{middle.cpu:.2f} s"
        runs = ", ".join(f"{s.wall:.2f}" for s in samples)
        print(f"| {name} | {middle.wall:.2f} s | {cpu} | {runs} |")
    for module in ("studypath.cli", "studypath.system"):
        print(f"\ntop {args.imports} cumulative import costs of `import {module}`:")
        for seconds, name in import_costs(module, args.imports):
            print(f"  {seconds * 1000:7.1f} ms  {name}")


if __name__ == "__main__":
    main()
