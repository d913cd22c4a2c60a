"""The `data_processing` task: count, sum, mean, min and max of a list of numbers.

Small on purpose — it is the task a learner traces end to end — but exact: the sum is
`math.fsum` (correctly rounded, so [0.1] * 10 sums to 1.0), and the payload is strict:
`true` or `"3"` is not a number, and the error names its index (`data.3`). Bad input fails
at once, without retries: the same list would fail the same way every time.

Empty data has a defined answer, as in SQL: count 0, sum 0, and mean/min/max `null`
(there is no smallest element of nothing).

Two payload shapes: studypath's `{data, operations: [...]}` (default: every statistic) and
the reference system's `{operation, data}` — one of its operations, `count`, `sum` or
`process` (every statistic), or one of ours. Both come to the same list of operations.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, RootModel

from studypath.core.validation import InputModel
from studypath.tasks.handlers.common import EitherShape, TwoShapes, shape_by_key
from studypath.tasks.registry import (
    PermanentError,
    TaskContext,
    builtin_task,
)

MAX_VALUES = 100_000

Operation = Literal["count", "sum", "mean", "min", "max"]
ALL_OPERATIONS: tuple[Operation, ...] = ("count", "sum", "mean", "min", "max")
# The reference's operations, plus ours one at a time; `process` asks for every statistic.
SingleOperation = Literal["count", "sum", "mean", "min", "max", "process"]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Numbers = Annotated[
    list[Number], Field(max_length=MAX_VALUES, description="At most 100 000 numbers.")
]


class StatisticsPayload(InputModel):
    """studypath's shape: any of the statistics at once."""

    model_config = ConfigDict(title="StatisticsPayload")

    data: Numbers
    operations: list[Operation] = Field(
        default_factory=lambda: list(ALL_OPERATIONS),
        min_length=1,
        max_length=len(ALL_OPERATIONS),
        description="Which of count, sum, mean, min, max (default: all).",
    )


class SingleOperationPayload(InputModel):
    """The reference system's shape: one operation."""

    model_config = ConfigDict(title="SingleOperationPayload")

    operation: SingleOperation = Field(
        description="count, sum, mean, min or max; process = all of them."
    )
    data: Numbers


DataShapes = Annotated[
    EitherShape[StatisticsPayload, SingleOperationPayload], shape_by_key("operation")
]


class DataProcessingPayload(TwoShapes, RootModel[DataShapes]):
    """{data, operations} (studypath) or {operation, data} (reference)."""

    def operations(self) -> list[Operation]:
        """The statistics to compute, in the order asked."""
        if isinstance(self.root, StatisticsPayload):
            return list(self.root.operations)
        if self.root.operation == "process":
            return list(ALL_OPERATIONS)
        return [self.root.operation]


@builtin_task(
    "data_processing",
    "Count, sum, mean, min and max of a list of numbers",
    payload=DataProcessingPayload,
    timeout=60,
)
async def process_data(
    payload: DataProcessingPayload, ctx: TaskContext
) -> dict[str, float | int | None]:
    """Compute the requested statistics (100 000 numbers take milliseconds: no thread)."""
    return summarize(payload.root.data, payload.operations())


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
