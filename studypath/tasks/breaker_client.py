"""What a worker knows of its task types' circuit breakers (the rules are in `breakers.py`).

While every breaker is closed, the worker claims on its fast path (`queue.claim_ready`);
once one may be open, its claims go through `queue.claim`, which also takes probe tasks.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from studypath.tasks import breakers
from studypath.tasks.states import BreakerState


class BreakerClient:
    """One state: whether a breaker of this worker's types may be open or half-open."""

    def __init__(self) -> None:
        self.may_be_open = True  # until the first look says otherwise

    async def refresh(self, conn: AsyncConnection, task_types: list[str]) -> None:
        self.may_be_open = await breakers.any_not_closed(conn, task_types)

    async def record_failure(
        self, conn: AsyncConnection, task_type: str, task_id: uuid.UUID
    ) -> bool:
        """Count a failed attempt against its type's breaker (in the caller's transaction);
        True if the breaker is open now."""
        opened = await breakers.record_failure(conn, task_type, task_id) is BreakerState.OPEN
        self.may_be_open = self.may_be_open or opened
        return opened
