"""The worker registry: one `workers` row per worker process that is (or was) alive.

A worker inserts its row when it starts (and again when its handlers change), touches
`heartbeat_at` on every heartbeat and stamps `stopped_at` when it stops. Health and
`GET /tasks/types` count the workers whose heartbeat is recent.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.core.clock import utcnow
from studypath.tasks.models import WorkerRecord


async def live_workers(session: AsyncSession, *, stale_after: timedelta) -> list[dict[str, Any]]:
    """Workers whose last heartbeat is more recent than `stale_after` and that have not stopped."""
    cutoff = utcnow() - stale_after
    rows = await session.scalars(
        select(WorkerRecord)
        .where(WorkerRecord.stopped_at.is_(None), WorkerRecord.heartbeat_at >= cutoff)
        .order_by(WorkerRecord.started_at)
    )
    return [
        {
            "id": worker.id,
            "hostname": worker.hostname,
            "pid": worker.pid,
            "task_types": list(worker.task_types),
            "concurrency": worker.concurrency,
            "heartbeat_at": worker.heartbeat_at.isoformat(),
        }
        for worker in rows
    ]


async def register_worker(
    session: AsyncSession,
    *,
    worker_id: str,
    hostname: str,
    pid: int,
    task_types: list[str],
    concurrency: int,
) -> None:
    """Record a worker as alive (insert or revive its row)."""
    stmt = pg_insert(WorkerRecord).values(
        id=worker_id, hostname=hostname, pid=pid, task_types=task_types, concurrency=concurrency
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[WorkerRecord.id],
        set_={
            "heartbeat_at": func.now(),
            "stopped_at": None,
            "task_types": task_types,
            "concurrency": concurrency,
        },
    )
    await session.execute(stmt)


async def heartbeat_worker(session: AsyncSession, worker_id: str) -> None:
    """The worker is still alive."""
    await session.execute(
        update(WorkerRecord).where(WorkerRecord.id == worker_id).values(heartbeat_at=func.now())
    )


async def deregister_worker(session: AsyncSession, worker_id: str) -> None:
    """The worker stopped (its row stays, for history)."""
    await session.execute(
        update(WorkerRecord).where(WorkerRecord.id == worker_id).values(stopped_at=func.now())
    )
