"""`poll_until`: the one way tests, labs and scripts wait for something to happen."""

from __future__ import annotations

import pytest

from studypath.core.clock import poll_until, poll_until_async


def test_poll_until_returns_the_first_truthy_answer() -> None:
    answers = iter([None, 0, "", "ready", "later"])

    assert poll_until(lambda: next(answers), within=5, what="an answer", every=0) == "ready"


def test_poll_until_fails_naming_what_it_waited_for_and_the_detail() -> None:
    tries: list[int] = []

    with pytest.raises(AssertionError, match=r"^waited 0 s for the moon, in vain\nlast: 1$"):
        poll_until(
            lambda: tries.append(1),
            within=0,
            what="the moon",
            detail=lambda: f"last: {len(tries)}",
        )
    assert tries == [1]  # asked once before giving up


async def test_poll_until_async_awaits_the_condition() -> None:
    answers = iter([False, False, True])

    async def condition() -> bool:
        return next(answers)

    assert await poll_until_async(condition, within=5, what="True", every=0) is True
    with pytest.raises(AssertionError, match="waited 0 s for nothing, in vain"):
        await poll_until_async(condition_never, within=0, what="nothing")


async def condition_never() -> bool:
    return False
