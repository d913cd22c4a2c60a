"""The `data_processing` task: count, sum, mean, min and max of a list of numbers.

Small on purpose — it is the task a learner traces end to end — but exact: the sum is
`math.fsum` (correctly rounded, so [0.1] * 10 sums to 1.0), and the payload is strict:
`true` or `"3"` is not a number, and the error names its index (`data.3`). Bad input fails
at once, without retries: the same list would fail the same way every time.

Empty data has a defined answer, as in SQL: count 0, sum 0, and mean/min/max `null`
(there is no smallest element of nothing).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from studypath.tasks.registry import PermanentError, TaskContext, task_handler

MAX_VALUES = 100_000

Operation = Literal["count", "sum", "mean", "min", "max"]
ALL_OPERATIONS: tuple[Operation, ...] = ("count", "sum", "mean", "min", "max")
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class DataProcessingPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: list[Number] = Field(max_length=MAX_VALUES, description="At most 100 000 numbers.")
    operations: list[Operation] = Field(
        default_factory=lambda: list(ALL_OPERATIONS),
        min_length=1,
        max_length=len(ALL_OPERATIONS),
        description="Which of count, sum, mean, min, max (default: all).",
    )


@task_handler(
    "data_processing",
    "Count, sum, mean, min and max of a list of numbers",
    payload=DataProcessingPayload,
    timeout=60,
)
async def process_data(
    payload: DataProcessingPayload, ctx: TaskContext
) -> dict[str, float | int | None]:
    """Compute the requested statistics (100 000 numbers take milliseconds: no thread)."""
    return summarize(payload.data, payload.operations)


def summarize(data: list[float], operations: list[Operation]) -> dict[str, float | int | None]:
    """The statistics, in the order asked; mean/min/max of no data are None."""
    results: dict[str, float | int | None] = {}
    for operation in dict.fromkeys(operations):  # each once, in the order given
        if operation == "count":
            results["count"] = len(data)
        elif operation == "sum":
            results["sum"] = _finite(math.fsum(data), "sum")
        elif operation == "mean":
            results["mean"] = _mean(data) if data else None
        elif operation == "min":
            results["min"] = min(data) if data else None
        else:
            results["max"] = max(data) if data else None
    return results


def _mean(data: list[float]) -> float:
    total = math.fsum(data)
    if math.isfinite(total):
        return total / len(data)
    return math.fsum(value / len(data) for value in data)  # the sum overflowed; the mean cannot


def _finite(value: float, operation: str) -> float:
    if not math.isfinite(value):
        raise PermanentError(f"the {operation} of data overflows a 64-bit float")
    return value
