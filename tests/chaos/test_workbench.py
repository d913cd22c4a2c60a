"""`wb.chaos(...)`, as a notebook calls it: the run hurts a system of its own, reports, and
the Workbench it was called on — one process, the learner's kernel — is untouched by it."""

from __future__ import annotations

import time

import httpx

import studypath
from studypath.chaos import ChaosReport
from studypath.chaos.report import RECOVERY_BOUND_SECONDS

TASK_DEADLINE_SECONDS = 20.0


def wait_for_status(admin: httpx.Client, task_id: str, status: str) -> str:
    """Poll the task until it reaches `status` or the deadline passes; its last status."""
    deadline = time.monotonic() + TASK_DEADLINE_SECONDS
    seen = ""
    while time.monotonic() < deadline:
        seen = admin.get(f"/api/v1/tasks/{task_id}").json()["data"]["status"]
        if seen == status:
            break
        time.sleep(0.1)
    return seen


def test_wb_chaos_keeps_the_invariants_and_leaves_the_workbench_healthy() -> None:
    wb = studypath.start(ephemeral=True)
    try:
        report = wb.chaos(level=1, duration=4.0, dashboard=True)
        summary = report.to_markdown()

        assert isinstance(report, ChaosReport)
        assert report.name == "level-1" and report.interrupted is None, summary
        assert [f.fault.kind for f in report.faults] == ["kill-worker"], summary  # it happened
        assert all(f.fault.ended is not None and f.fault.error is None for f in report.faults)
        assert report.accepted == report.submitted == 20, summary
        assert report.completed == report.accepted, summary
        assert report.lost == 0 and report.duplicate_effects == 0, summary
        recovery = report.max_recovery_seconds
        assert recovery is not None and recovery < RECOVERY_BOUND_SECONDS, summary
        assert report.passed, summary
        # The run's own system lived in the Workbench's temporary directory, and is gone.
        assert not list(wb.settings.data_dir.glob("studypath-chaos-*"))

        with wb.client() as anonymous:
            ready = anonymous.get("/api/v1/health/ready")
        assert ready.status_code == 200, ready.text
        with wb.admin() as admin:
            created = admin.post(
                "/api/v1/tasks",
                json={"task_type": "delay_task", "payload": {"delay_seconds": 0}},
            )
            assert created.status_code == 200, created.text
            task_id = created.json()["data"]["id"]
            assert wait_for_status(admin, task_id, "completed") == "completed"
    finally:
        wb.stop()
    assert not wb.running
