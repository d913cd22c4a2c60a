"""Lab 3 · retries with backoff, and a task handler of your own.

`studypath labs check lab-03-retry-and-handler` installs this module into a live Workbench
(`wb.install(retry_lab)`: `register` adds the `word_count` task type, and the running workers
take its tasks at once), then runs tasks through the real queue and worker:

- Step 1 · `backoff_delay`: how long a failed task waits before its next attempt. The system's
  own policy is `studypath.tasks.retry.RetryStrategy` (read it once yours works): the checker
  compares your function with the delays the live worker really waits.
- Step 2 · `count_words`: the handler's pure core, easy to test on its own.
- Step 3 · the `word_count` handler: its payload is checked by `WordCountPayload` (a bad
  payload fails permanently, with no retry); the text comes in the payload or from a URL — a
  URL that fails *for now* (5xx, no answer) is worth retrying, one that fails for good (4xx)
  is not.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from typing import Any, Self

import httpx
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from studypath.tasks import PermanentError, TaskContext, TaskRegistry

TASK_TYPE = "word_count"
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")  # letters and digits, inner apostrophes (don't)
FETCH_TIMEOUT = 5.0  # seconds


# --- Step 1 · the backoff policy ----------------------------------------------------------------
def backoff_delay(
    attempt: int,
    *,
    base: float = 1.0,
    multiplier: float = 2.0,
    cap: float = 300.0,
    jitter: bool = False,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 = the first attempt):
    `base × multiplier^(attempt − 1)`, never more than `cap`; attempt numbers below 1 count
    as 1. With `jitter`, a random delay between 0 and that value instead ("full jitter",
    drawn with `rng` if one is given), so tasks that failed together do not retry together."""
    ### BEGIN SOLUTION Step 1
    delay = min(base * multiplier ** (max(attempt, 1) - 1), cap)
    if jitter:
        return (rng or random).uniform(0.0, delay)
    return delay
    ### END SOLUTION


# --- Step 2 · counting --------------------------------------------------------------------------
def count_words(text: str, top: int) -> dict[str, Any]:
    """`{"words": total, "unique": distinct, "top": [[word, count], ...]}`. A word is a run of
    letters and digits (inner apostrophes allowed: `don't`, see `WORD`), counted without
    regard to case (`The` is `the`); `top` lists the `top` most frequent words, the most
    frequent first, ties in alphabetical order."""
    ### BEGIN SOLUTION Step 2
    counts = Counter(word.lower() for word in WORD.findall(text))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return {
        "words": sum(counts.values()),
        "unique": len(counts),
        "top": [[word, count] for word, count in ranked[:top]],
    }
    ### END SOLUTION


# --- Step 3 · the handler -----------------------------------------------------------------------
class WordCountPayload(BaseModel):
    """A `word_count` task's payload: `text` or `url` (exactly one), and how many of the most
    frequent words to report."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, min_length=1, max_length=1_000_000)
    url: HttpUrl | None = None
    top: int = Field(default=3, ge=1, le=50)

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Self:
        """Exactly one of `text` and `url`, else raise ValueError (pydantic turns it into a
        validation error, which the worker treats as a permanent failure)."""
        ### BEGIN SOLUTION Step 3
        if (self.text is None) == (self.url is None):
            raise ValueError("give exactly one of text or url")
        return self
        ### END SOLUTION


async def fetch_text(url: str) -> str:
    """The text at `url`. A 5xx answer or no answer at all is worth another try: raise any
    exception. A 4xx answer will not get better: raise `PermanentError`."""
    ### BEGIN SOLUTION Step 3
    async with httpx.AsyncClient(timeout=FETCH_TIMEOUT) as client:
        response = await client.get(url)  # no answer: httpx.TransportError, retried
    if response.status_code >= 500:
        raise RuntimeError(f"{url} answered {response.status_code}; it may work next time")
    if response.status_code >= 400:
        raise PermanentError(f"{url} answered {response.status_code}; retrying will not help")
    return response.text
    ### END SOLUTION


async def word_count(payload: WordCountPayload, ctx: TaskContext) -> dict[str, Any]:
    """Count the words of `payload.text`, or of the text at `payload.url`."""
    ### BEGIN SOLUTION Step 3
    if payload.url is not None:
        text = await fetch_text(str(payload.url))
    else:
        text = payload.text or ""
    return count_words(text, payload.top)
    ### END SOLUTION


def register(registry: TaskRegistry) -> None:
    """(Given.) `word_count` runs the tasks of type `word_count`."""
    registry.register(
        TASK_TYPE,
        "Lab 3: count the words of a text, or of the text at a URL",
        payload=WordCountPayload,
        timeout=30,
    )(word_count)
