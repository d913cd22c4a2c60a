"""Every scenario, at a short window, on the shared cluster: nothing lost, no effect twice,
every task done, the API back within the bound after each fault — and each scenario's
faults really happened."""

from __future__ import annotations

import asyncio

import pytest

from studypath import chaos
from studypath.chaos import Cluster
from studypath.chaos.report import RECOVERY_BOUND_SECONDS
from studypath.chaos.scenarios import plan_for
from tests.chaos.conftest import assert_healthy

# Short windows: long enough for each scenario's faults to start, end and be recovered from.
WINDOWS = {
    "baseline": 3.0,
    "db-failure": 6.0,
    "server-restart": 6.0,
    "worker-restart": 6.0,
    "task-flood": 4.0,
    "circuit-breaker": 6.0,
    "mixed-chaos": 6.0,
    "recovery": 6.0,
    "multi-worker-chaos": 6.0,
    "dynamic-scaling": 6.0,
}


def test_every_scenario_has_a_test_window() -> None:
    assert set(WINDOWS) == set(chaos.SCENARIOS)


# Scenarios that hurt no process: the same processes must see them through — a worker that
# died of a database outage would be replaced by the restore step, so its pid would change.
NO_PROCESS_FAULTS = {"baseline", "db-failure", "task-flood", "circuit-breaker"}


@pytest.mark.parametrize("name", list(WINDOWS))
async def test_scenario_keeps_its_invariants(cluster: Cluster, name: str) -> None:
    await asyncio.to_thread(cluster.scale, plan_for(scenario=name).workers)
    pids = sorted(node.pid for node in [*cluster.workers, cluster.server] if node is not None)
    report = await chaos.run_async(scenario=name, duration=WINDOWS[name], cluster=cluster)
    summary = report.to_markdown()
    assert report.accepted == report.submitted > 0, summary
    assert report.lost == 0, summary
    assert report.duplicate_effects == 0, summary
    assert report.completed == report.accepted, summary
    assert report.interrupted is None, summary
    planned = plan_for(scenario=name, duration=WINDOWS[name]).faults
    assert len(report.faults) == len(planned), summary  # every planned fault happened
    assert all(f.fault.error is None for f in report.faults), summary
    assert all(f.fault.ended is not None for f in report.faults), summary
    assert all(f.fault.started <= WINDOWS[name] for f in report.faults), summary  # inside
    recovery = report.max_recovery_seconds
    assert recovery is not None and recovery < RECOVERY_BOUND_SECONDS, summary
    assert report.passed, summary
    assert_healthy(cluster)
    if name in NO_PROCESS_FAULTS:  # e.g. the workers survived the database restart
        after = sorted(node.pid for node in [*cluster.workers, cluster.server] if node is not None)
        assert after == pids
    if name == "circuit-breaker":  # the failing dependency opened it; it closed again
        states = [to for _, kind, _, to in report.breaker_transitions if kind == "chaos_call"]
        assert "open" in states and states[-1] == "closed", report.breaker_transitions


async def test_a_level_puts_its_kills_inside_a_short_window(cluster: Cluster) -> None:
    """Level 1 kills every 20–30 s; a 5 s window still gets its kill, inside the window."""
    plan = plan_for(level=1, duration=5.0)
    kills = [p for p in plan.faults if p.fault.kind == "kill-worker"]
    assert kills and all(p.at < 5.0 for p in plan.faults)
    report = await chaos.run_async(level=1, duration=5.0, cluster=cluster)
    assert [f.fault.kind for f in report.faults].count("kill-worker") == len(kills)
    assert report.lost == 0 and report.duplicate_effects == 0
    assert report.reference_threshold == 0.90
    assert "reference system's threshold" in report.to_markdown()


async def test_an_interrupted_run_leaves_the_system_healthy(cluster: Cluster) -> None:
    """Cancelled while the database is down and a worker is frozen: everything comes back."""
    run = asyncio.create_task(chaos.run_async(scenario="recovery", duration=10.0, cluster=cluster))
    await asyncio.sleep(3.0)  # the recovery scenario's faults start at 2 s and last 2 s
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert_healthy(cluster)


def test_a_plan_refuses_unknown_names_and_levels() -> None:
    with pytest.raises(ValueError, match="no scenario"):
        plan_for(scenario="nope")
    with pytest.raises(ValueError, match="no level 7"):
        plan_for(level=7)
    with pytest.raises(ValueError, match="one of them"):
        plan_for()
