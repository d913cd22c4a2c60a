"""Chaos engineering on a laptop: real faults, injected into the real system, counted.

    from studypath import chaos
    report = chaos.run(level=1, duration=10)        # or scenario="db-failure"
    print(report.to_markdown()); report.passed

A run starts its own system (`cluster.Cluster`): an embedded PostgreSQL behind a fault
proxy, an API server process and worker processes — so a fault can really kill a process,
freeze it, stop the database or cut the network — or attaches to one that runs
(`url=`, `database_url=`). It submits tasks whose effects land in a ledger
(`effects`), injects the plan's faults (`faults`, `scenarios`) while it times API traffic,
restores everything however it ends, and reports (`report.ChaosReport`).

Terminal: `studypath chaos list`, `studypath chaos run --level 3`. Notebook: `wb.chaos(...)`.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studypath.chaos.cluster import Cluster, ClusterConfig
from studypath.chaos.report import RECOVERY_BOUND_SECONDS, ChaosReport
from studypath.chaos.runner import ChaosRun, Live
from studypath.chaos.scenarios import LEVELS, SCENARIOS, Plan, plan_for


def describe() -> list[tuple[str, str]]:
    """(name, what it does) of every level and scenario, for `studypath chaos list`."""
    rows = [(f"level {n}", plan_for(level=n).description) for n in LEVELS]
    rows += [(name, description) for name, (description, _, _) in SCENARIOS.items()]
    return rows


async def run_async(
    *,
    level: int | None = None,
    scenario: str | None = None,
    duration: float | None = None,
    cluster: Cluster | None = None,
    url: str | None = None,
    database_url: str | None = None,
    admin_password: str | None = None,
    root: Path | None = None,
    on_update: Callable[[Live], None] | None = None,
    seed: int = 0,
) -> ChaosReport:
    """Run one level or scenario and return its report (see `run`)."""
    plan = plan_for(level=level, scenario=scenario, duration=duration, seed=seed)
    if cluster is not None:
        return await _run(plan, cluster, level, on_update, seed)
    if (url is None) != (database_url is None):
        raise ValueError("attaching to a running system needs both url and database_url")
    with tempfile.TemporaryDirectory(prefix="studypath-chaos-", dir=root) as work:
        own = Cluster(Path(work), ClusterConfig(workers=plan.workers))
        try:
            if url is not None and database_url is not None:
                if not admin_password:
                    raise ValueError("attaching needs the admin's password (admin_password=)")
                await asyncio.to_thread(own.attach, url, database_url, admin_password)
            else:
                await asyncio.to_thread(own.start)
            return await _run(plan, own, level, on_update, seed)
        finally:
            await asyncio.shield(asyncio.to_thread(own.stop))


async def _run(
    plan: Plan,
    cluster: Cluster,
    level: int | None,
    on_update: Callable[[Live], None] | None,
    seed: int,
) -> ChaosReport:
    threshold = LEVELS[level].reference_threshold if level is not None else None
    chaos_run = ChaosRun(
        plan, cluster, level=level, reference_threshold=threshold, on_update=on_update, seed=seed
    )
    return await chaos_run.run()


def run(**options: Any) -> ChaosReport:
    """Run one level (`level=1..6`) or scenario (`scenario="db-failure"`) for `duration`
    seconds (default: the level's or scenario's own) on a system of its own, started in a
    temporary directory and stopped afterwards — or on `cluster=` (one you started), or
    attached to a running system (`url=`, `database_url=`, `admin_password=`). Returns the
    report.

    The run goes on its own event loop in a thread, so this works where a loop is running
    already (a notebook). Ctrl-C (a kernel interrupt) cancels it: the faults are undone and
    its system restored and stopped before `KeyboardInterrupt` reaches you."""
    loop = asyncio.new_event_loop()
    outcome: dict[str, Any] = {}
    started = threading.Event()

    async def main() -> ChaosReport:
        outcome["task"] = asyncio.current_task()
        started.set()
        return await run_async(**options)

    def thread_main() -> None:
        try:
            outcome["report"] = loop.run_until_complete(main())
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            started.set()
            loop.close()

    thread = threading.Thread(target=thread_main, name="studypath chaos run", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)
    except KeyboardInterrupt:
        started.wait()
        task = outcome.get("task")
        if task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)
        thread.join()  # the restore and the clean-up run before we give up
        raise
    if "error" in outcome:
        raise outcome["error"]
    report: ChaosReport = outcome["report"]
    return report


__all__ = [
    "LEVELS",
    "RECOVERY_BOUND_SECONDS",
    "SCENARIOS",
    "ChaosReport",
    "Cluster",
    "ClusterConfig",
    "Live",
    "describe",
    "plan_for",
    "run",
    "run_async",
]
