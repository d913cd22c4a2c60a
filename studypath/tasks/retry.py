"""Retry strategies: how long a failed task waits before its next attempt.

Exponential by default (1 s, ×2, capped at 300 s, 5 attempts) with full jitter: the
delay is drawn uniformly from [0, d], so tasks that failed together do not all come back
together and hammer the same broken dependency in lockstep.
"""

from __future__ import annotations

import random
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from studypath.core.validation import FiniteFloat, InputModel, StrictBool


class Backoff(StrEnum):
    EXPONENTIAL = "exponential"
    LINEAR = "linear"
    FIXED = "fixed"
    NONE = "none"


class RetryStrategy(InputModel):
    """Stored with each task (`tasks.retry_strategy`), so a task keeps the policy it was
    created with even if defaults change later."""

    model_config = ConfigDict(frozen=True)

    type: Backoff = Backoff.EXPONENTIAL
    base_delay_seconds: FiniteFloat = Field(default=1.0, ge=0.0, le=86400)
    multiplier: FiniteFloat = Field(default=2.0, ge=1.0, le=100.0)
    max_delay_seconds: FiniteFloat = Field(default=300.0, ge=0.0, le=7 * 86400)
    jitter: StrictBool = True

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        """Accept the bare name too: `"linear"` is `{"type": "linear"}`."""
        return {"type": value} if isinstance(value, str) else value

    def retries(self) -> bool:
        return self.type is not Backoff.NONE

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1 = the first attempt)."""
        if self.type is Backoff.NONE:
            return 0.0
        steps = max(attempt, 1)
        if self.type is Backoff.EXPONENTIAL:
            raw = self.base_delay_seconds * self.multiplier ** (steps - 1)
        elif self.type is Backoff.LINEAR:
            raw = self.base_delay_seconds * steps
        else:
            raw = self.base_delay_seconds
        capped = min(raw, self.max_delay_seconds)
        if not self.jitter:
            return capped
        return (rng or random).uniform(0.0, capped)


DEFAULT_STRATEGY = RetryStrategy()
