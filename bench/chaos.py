"""Chaos levels 1–6 at the reference's windows (or `--duration S` for all), one after
another on one cluster, and the table: completion, lost, duplicates, recovery, API success
during faults — beside the reference system's thresholds.

    python -m bench.chaos                 # the reference's windows: about 20 minutes
    python -m bench.chaos --duration 20   # every level in 20 s
    python -m bench.chaos --levels 1 3 5 --json reports.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path

from studypath import chaos
from studypath.chaos import ChaosReport, Cluster, ClusterConfig


def row(report: ChaosReport) -> str:
    threshold = report.reference_threshold
    reference = "designed to fail" if threshold == 0 else f">= {threshold:.0%}"
    during = report.api_during.success_rate
    recovery = report.max_recovery_seconds
    return (
        f"| {report.level} | {report.accepted} | {report.completion_rate:.1%} | {report.lost} "
        f"| {report.duplicate_effects} | {report.redeliveries} "
        f"| {'–' if recovery is None else f'{recovery:.1f}'} "
        f"| {'–' if during is None else f'{during:.0%}'} | {reference} "
        f"| {'pass' if report.passed else 'FAIL'} |"
    )


async def run_levels(levels: list[int], duration: float | None) -> list[ChaosReport]:
    reports = []
    with tempfile.TemporaryDirectory(prefix="studypath-chaos-bench-") as work:
        cluster = Cluster(Path(work), ClusterConfig(workers=3))
        await asyncio.to_thread(cluster.start)
        try:
            for level in levels:
                report = await chaos.run_async(level=level, duration=duration, cluster=cluster)
                reports.append(report)
                print(f"level {level}: {'passed' if report.passed else 'FAILED'}", flush=True)
        finally:
            await asyncio.to_thread(cluster.stop)
    return reports


def main(levels: list[int], duration: float | None, out: Path | None) -> None:
    reports = asyncio.run(run_levels(levels, duration))
    print()
    print(
        "| level | tasks | completed | lost | duplicate effects | redeliveries "
        "| recovery s (max) | API success during faults | reference | verdict |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for report in reports:
        print(row(report))
    if out is not None:
        out.write_text(json.dumps([r.as_dict() for r in reports], indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", type=int, nargs="*", default=list(chaos.LEVELS))
    parser.add_argument("--duration", type=float, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    main(args.levels, args.duration, args.json)
