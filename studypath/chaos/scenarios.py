"""Scenarios and levels: which faults a run injects, and when.

The names are the reference system's. Unlike its schedule, every fault here starts inside
the run's window — in its first 75 %, so the rest of the window shows the recovery — and the
number of kills a level promises is scaled to the window it is given, never silently zero.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass

from studypath.chaos.faults import (
    DatabaseOutage,
    ExhaustConnections,
    Fault,
    FlakyDependency,
    KillWorker,
    Network,
    PauseWorker,
    ResetConnections,
    RestartServer,
    Scale,
    TerminateBackends,
)
from studypath.chaos.proxy import NetworkFault
from studypath.chaos.target import TargetBehaviour

FAULT_SPAN = 0.75  # faults start within this share of the window


@dataclass(frozen=True)
class Planned:
    """A fault to inject `at` seconds into the run, undone `duration` seconds later."""

    at: float
    duration: float
    fault: Fault


@dataclass(frozen=True)
class Plan:
    """What one run does: its tasks (how many, what share calls the flaky dependency,
    all at once or spread over the window), its workers and its faults. A scenario's builder
    leaves `name` and `description` empty: `scenario_plan` fills them from `SCENARIOS`."""

    tasks: int
    duration: float
    faults: tuple[Planned, ...] = ()
    name: str = ""
    description: str = ""
    workers: int = 2
    call_share: float = 0.0
    flood: bool = False
    work_ms: float = 20.0
    drain_seconds: float = 60.0  # after the window, how long the tasks may take to finish
    api_rate: float = 5.0


@dataclass(frozen=True)
class Level:
    """A difficulty level: tasks, how often a worker is killed, and which other faults join."""

    number: int
    tasks: int
    kill_every: tuple[float, float]  # seconds between worker kills (min, max)
    duration: float  # the window at the reference's pace (the benchmark's)
    reference_threshold: float  # the reference's success threshold (None-like: 0 = "to fail")
    # The other faults, in the order they happen. The API server's restart comes last: a
    # restart takes seconds (longer on a busy machine), and a fault that overlaps it — a
    # database outage, terminated connections — would meet no server to show its effect.
    extras: tuple[str, ...]


LEVELS: dict[int, Level] = {
    1: Level(1, 20, (20, 30), 60, 0.90, ()),
    2: Level(2, 50, (15, 20), 60, 0.85, ("server-restart",)),
    3: Level(3, 100, (10, 15), 90, 0.80, ("terminate", "pause", "server-restart")),
    4: Level(
        4, 200, (5, 10), 120, 0.70, ("terminate", "pause", "latency", "flaky", "server-restart")
    ),
    5: Level(
        5,
        500,
        (3, 6),
        180,
        0.60,
        ("terminate", "pause", "latency", "flaky", "db-outage", "exhaust", "server-restart"),
    ),
    6: Level(
        6,
        1000,
        (2, 5),
        300,
        0.0,
        (
            "terminate",
            "pause",
            "latency",
            "flaky",
            "db-outage",
            "exhaust",
            "storm",
            "scale",
            "server-restart",
        ),
    ),
}


def _spread(count: int, window: float, rng: random.Random) -> list[float]:
    """`count` start times inside the first FAULT_SPAN of `window`, roughly even, jittered."""
    if count <= 0:
        return []
    span = window * FAULT_SPAN
    step = span / count
    return sorted(round(min(span, (i + rng.uniform(0.3, 0.9)) * step), 2) for i in range(count))


def kill_times(kill_every: tuple[float, float], window: float, rng: random.Random) -> list[float]:
    """Worker kills at the level's pace — at least one, all inside the window."""
    low, high = kill_every
    times, at = [], rng.uniform(low, high) * 0.5
    while at < window * FAULT_SPAN:
        times.append(round(at, 2))
        at += rng.uniform(low, high)
    if not times:  # a window shorter than the level's interval still gets its kill
        times = _spread(1, window, rng)
    return times


def level_plan(number: int, duration: float | None = None, *, seed: int = 0) -> Plan:
    if number not in LEVELS:
        raise ValueError(f"no level {number}: levels are 1 to {max(LEVELS)}")
    level = LEVELS[number]
    window = duration or level.duration
    rng = random.Random(seed or number)
    down = min(2.0, window * 0.1)  # how long a killed process stays down, a fault lasts
    planned = [Planned(at, down, KillWorker()) for at in kill_times(level.kill_every, window, rng)]
    extra_faults: dict[str, Callable[[], list[Fault]]] = {
        "server-restart": lambda: [RestartServer()],
        "terminate": lambda: [TerminateBackends()],
        "pause": lambda: [PauseWorker()],
        "latency": lambda: [Network(NetworkFault(latency_ms=50, jitter_ms=30))],
        "flaky": lambda: [FlakyDependency(TargetBehaviour(error_rate=0.6, delay_ms=50))],
        "db-outage": lambda: [DatabaseOutage()],
        "exhaust": lambda: [ExhaustConnections()],
        "storm": lambda: [RestartServer(), KillWorker(), KillWorker()],
        "scale": lambda: [Scale(4)],
    }
    extras = [fault for name in level.extras for fault in extra_faults[name]()]
    for at, fault in zip(_spread(len(extras), window, rng), extras, strict=True):
        planned.append(Planned(at, down, fault))
    return Plan(
        name=f"level-{number}",
        description=f"level {number}: {level.tasks} tasks, a worker killed every "
        f"{level.kill_every[0]:g}–{level.kill_every[1]:g} s"
        + (f", plus {', '.join(level.extras)}" if level.extras else ""),
        tasks=level.tasks,
        duration=window,
        faults=tuple(sorted(planned, key=lambda p: p.at)),
        workers=3 if number >= 3 else 2,
        call_share=0.2 if "flaky" in level.extras else 0.0,
        drain_seconds=max(60.0, level.tasks * 0.1),
    )


def _at(window: float, share: float) -> float:
    return round(window * share, 2)


def scenario_plan(name: str, duration: float | None = None, *, seed: int = 0) -> Plan:
    if name not in SCENARIOS:
        raise ValueError(f"no scenario {name!r}; there are: {', '.join(SCENARIOS)}")
    description, default_duration, build = SCENARIOS[name]
    window = duration or default_duration
    plan = build(window, random.Random(seed or 7))
    return dataclasses.replace(plan, name=name, description=description, duration=window)


def _baseline(window: float, rng: random.Random) -> Plan:
    return Plan(tasks=30, duration=window)


def _db_failure(window: float, rng: random.Random) -> Plan:
    down = min(2.0, window * 0.15)
    return Plan(
        tasks=40,
        duration=window,
        faults=(
            Planned(_at(window, 0.15), 0.0, TerminateBackends()),
            Planned(_at(window, 0.35), down, DatabaseOutage()),
        ),
    )


def _server_restart(window: float, rng: random.Random) -> Plan:
    return Plan(
        tasks=40,
        duration=window,
        faults=(
            Planned(_at(window, 0.2), min(1.0, window * 0.1), RestartServer()),
            Planned(_at(window, 0.7), 0.0, RestartServer(graceful=True)),
        ),
    )


def _worker_restart(window: float, rng: random.Random) -> Plan:
    return Plan(
        tasks=40,
        duration=window,
        work_ms=100,
        faults=(
            Planned(_at(window, 0.15), min(1.0, window * 0.1), KillWorker()),
            Planned(_at(window, 0.4), min(3.0, window * 0.25), PauseWorker()),
        ),
    )


def _task_flood(window: float, rng: random.Random) -> Plan:
    return Plan(tasks=300, duration=window, flood=True, work_ms=5, api_rate=10)


def _circuit_breaker(window: float, rng: random.Random) -> Plan:
    return Plan(
        tasks=30,
        duration=window,
        call_share=1.0,
        work_ms=5,
        faults=(
            Planned(
                _at(window, 0.05), min(3.0, window * 0.35), FlakyDependency(TargetBehaviour(1.0))
            ),
        ),
    )


def _mixed(window: float, rng: random.Random) -> Plan:
    kinds: list[tuple[float, Fault]] = [
        (1.0, Network(NetworkFault(latency_ms=40, jitter_ms=20))),
        (0.0, ResetConnections()),
        (1.0, KillWorker()),
        (0.0, TerminateBackends()),
        (1.0, FlakyDependency(TargetBehaviour(error_rate=0.5))),
        (1.0, Network(NetworkFault(blackhole=True))),
    ]
    times = _spread(len(kinds), window, rng)
    return Plan(
        tasks=60,
        duration=window,
        call_share=0.3,
        workers=3,
        faults=tuple(
            Planned(at, length, fault) for at, (length, fault) in zip(times, kinds, strict=True)
        ),
    )


def _recovery(window: float, rng: random.Random) -> Plan:
    at, down = _at(window, 0.2), min(2.0, window * 0.2)
    together = (DatabaseOutage(), KillWorker(), RestartServer())  # all down at once
    return Plan(tasks=40, duration=window, faults=tuple(Planned(at, down, f) for f in together))


def _multi_worker(window: float, rng: random.Random) -> Plan:
    kills = kill_times((window / 5, window / 4), window, rng)
    return Plan(
        tasks=60,
        duration=window,
        workers=3,
        work_ms=60,
        faults=tuple(Planned(at, 0.5, KillWorker()) for at in kills),
    )


def _scaling(window: float, rng: random.Random) -> Plan:
    return Plan(
        tasks=80,
        duration=window,
        workers=1,
        work_ms=50,
        faults=(
            Planned(_at(window, 0.1), window * 0.4, Scale(3)),
            Planned(_at(window, 0.6), window * 0.15, Scale(1)),
        ),
    )


SCENARIOS: dict[str, tuple[str, float, Callable[[float, random.Random], Plan]]] = {
    "baseline": ("no faults: what normal looks like", 10.0, _baseline),
    "db-failure": (
        "every connection terminated, then PostgreSQL stopped and started",
        12.0,
        _db_failure,
    ),
    "server-restart": (
        "the API server killed (SIGKILL) and restarted, then stopped cleanly and restarted",
        12.0,
        _server_restart,
    ),
    "worker-restart": (
        "a worker killed mid-task and restarted; another frozen (SIGSTOP) past its lease",
        12.0,
        _worker_restart,
    ),
    "task-flood": ("300 tasks at once while the API is read 10 times a second", 10.0, _task_flood),
    "circuit-breaker": (
        "the webhook dependency fails every call, then recovers: the breaker "
        "opens, probes and closes",
        12.0,
        _circuit_breaker,
    ),
    "mixed-chaos": (
        "latency, resets, a kill, terminated backends, a flaky dependency and a partition",
        15.0,
        _mixed,
    ),
    "recovery": (
        "database, a worker and the server down at once; how long until all is well",
        12.0,
        _recovery,
    ),
    "multi-worker-chaos": ("three workers, killed one after another", 12.0, _multi_worker),
    "dynamic-scaling": ("one worker, scaled to three and back while work runs", 12.0, _scaling),
}


def plan_for(
    *,
    level: int | None = None,
    scenario: str | None = None,
    duration: float | None = None,
    seed: int = 0,
) -> Plan:
    """The plan of `--level N` or `--scenario NAME` (exactly one)."""
    if (level is None) == (scenario is None):
        raise ValueError("give a level or a scenario (one of them)")
    if duration is not None and duration <= 0:
        raise ValueError("duration must be > 0 seconds")
    if level is not None:
        return level_plan(level, duration, seed=seed)
    assert scenario is not None
    return scenario_plan(scenario, duration, seed=seed)
