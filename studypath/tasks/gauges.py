"""The queue's gauges on the metrics page: tasks by status, and each circuit breaker's state.

Read from the database when the API answers a scrape (`monitoring.prometheus`), and only
then: counting the tasks table by status is a scan, not something every worker should do on
every heartbeat. The gauges themselves are declared with the other metrics, in
`telemetry.metrics`.
"""

from __future__ import annotations

from studypath.core.db import Database
from studypath.tasks import breakers, stats
from studypath.tasks.states import BreakerState
from studypath.telemetry.metrics import BREAKER_STATE, QUEUE_DEPTH

BREAKER_VALUES = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


async def refresh_queue_gauges(db: Database) -> None:
    async with db.engine.connect() as conn:
        counts = await stats.count_by_status(conn)
        breaker_states = await breakers.states(conn)
    for status, count in counts.by_status.items():
        QUEUE_DEPTH.labels(status=status.value).set(count)
    for task_type, state in breaker_states:
        BREAKER_STATE.labels(task_type=task_type).set(BREAKER_VALUES[state])
