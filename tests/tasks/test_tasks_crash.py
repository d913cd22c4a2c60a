"""A worker killed with SIGKILL mid-task loses nothing: another worker finishes its tasks,
each exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.config import Settings
from studypath.core.clock import poll_until_async
from studypath.core.db import Database
from studypath.tasks import service
from studypath.testing.factories import make_user
from studypath.testing.server import running_system
from tests.support.tasking import executions, registered_work

ROOT = Path(__file__).resolve().parents[2]


async def start_worker_process(
    database_url: str, data_dir: Path
) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.worker_process",
        database_url,
        str(data_dir),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if not k.startswith("STUDYPATH_")},
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
    assert line.startswith("ready "), line
    return process, line.split()[1]


@pytest.mark.timeout(90)
async def test_sigkilled_worker_loses_no_task(
    settings: Settings, db: Database, session: AsyncSession, database_url: str, tmp_path: Path
) -> None:
    registry = await registered_work(db)
    user = await make_user(session, username="alice")

    victim, victim_id = await start_worker_process(database_url, tmp_path / "victim")
    try:
        tasks = [
            await service.create_task(
                session,
                task_type="work",
                created_by=user.id,
                payload={"seconds": 2.0, "tag": str(n)},
            )
            for n in range(3)
        ]
        await session.commit()

        async def all_running_in_victim() -> bool:
            async with db.engine.connect() as conn:
                held = (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM tasks WHERE status = 'running' AND locked_by = :w"
                        ),
                        {"w": victim_id},
                    )
                ).scalar_one()
            return bool(held == 3) and len(await executions(db)) == 3  # handlers under way

        await poll_until_async(
            all_running_in_victim, within=10, what="every task running in the victim"
        )
        victim.send_signal(signal.SIGKILL)  # mid-task: no cleanup, no goodbye
        await asyncio.wait_for(victim.wait(), timeout=10)
    finally:
        if victim.returncode is None:
            victim.kill()

    # A second worker notices the expired leases and finishes the work.
    async with running_system(settings, workers=1, registry=registry):

        async def all_completed() -> bool:
            async with db.engine.connect() as conn:
                done = (
                    await conn.execute(
                        text("SELECT count(*) FROM tasks WHERE status = 'completed'")
                    )
                ).scalar_one()
            return bool(done == 3)

        await poll_until_async(all_completed, within=30, what="every task completed")

    async with db.engine.connect() as conn:
        rows = (
            (
                await conn.execute(
                    text("SELECT id, status, current_attempt, error_history FROM tasks")
                )
            )
            .mappings()
            .all()
        )
    assert {row["status"] for row in rows} == {"completed"}
    for row in rows:
        assert row["current_attempt"] == 2  # the crashed attempt counted
        assert [e["error"] for e in row["error_history"]] == ["lease expired"]
        assert row["error_history"][0]["worker"] == victim_id
    runs = await executions(db)
    finished = [run for run in runs if run["finished_at"] is not None]
    assert sorted(str(run["task_id"]) for run in finished) == sorted(str(t.id) for t in tasks)
    assert len(runs) == 6  # each task started twice (killed once), finished once
