"""The shared input types refuse what the database or JSON cannot hold, as a 400 naming it."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ValidationError

from studypath.core.errors import validation_status
from studypath.core.validation import (
    FiniteFloat,
    JSONObject,
    StrictBool,
    Text,
    bounded_json,
    text,
)


class Sample(BaseModel):
    text: Text = "x"
    number: FiniteFloat = 0.0
    flag: StrictBool = False
    extra: JSONObject = {}


def refused(**fields: object) -> list[dict[str, object]]:
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate(fields)
    return [dict(err) for err in caught.value.errors()]


@pytest.mark.parametrize("bad", ["a\x00b", "lone \ud800 surrogate"])
def test_text_refuses_nul_and_lone_surrogates_as_a_value_rule(bad: str) -> None:
    errors = refused(text=bad)
    assert errors[0]["loc"] == ("text",)
    assert validation_status(errors) == 400


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_finite_float_refuses_nan_and_infinity(bad: float) -> None:
    assert validation_status(refused(number=bad)) == 400


@pytest.mark.parametrize("bad", [0, 1, "true", "yes"])
def test_strict_bool_takes_only_true_or_false(bad: object) -> None:
    assert refused(flag=bad)


def test_json_object_refuses_deep_nesting_without_recursing() -> None:
    deep: dict[str, object] = {}
    node = deep
    for _ in range(5000):  # far past Python's recursion limit: the check must not recurse
        child: dict[str, object] = {}
        node["k"] = child
        node = child
    errors = refused(extra=deep)
    assert "nested" in str(errors[0]["msg"])
    assert validation_status(errors) == 400


@pytest.mark.parametrize(
    "bad",
    [{"k": "a\x00"}, {"a\x00": 1}, {"k": [1.0, float("nan")]}, {"k": "\udfff"}],
)
def test_json_object_refuses_unstorable_text_and_numbers_inside(bad: dict[str, object]) -> None:
    assert validation_status(refused(extra=bad)) == 400


def test_json_object_size_is_bounded() -> None:
    class Tiny(BaseModel):
        value: Annotated[dict[str, Any], bounded_json(max_bytes=20)]

    Tiny(value={"a": "b"})
    with pytest.raises(ValidationError, match="at most 20 bytes"):
        Tiny(value={"a": "b" * 30})


def test_valid_values_pass_unchanged() -> None:
    sample = Sample(text="héllo ✓", number=1.5, flag=True, extra={"a": [1, 2.5, None, True, "x"]})
    assert sample.extra == {"a": [1, 2.5, None, True, "x"]}


def test_constrained_text_strips_before_it_measures() -> None:
    class Named(BaseModel):
        name: text(strip_whitespace=True, min_length=1, max_length=5)  # type: ignore[valid-type]

    assert Named(name=" ab ").name == "ab"
    for bad in ("   ", "", "abcdef", "a\x00"):
        with pytest.raises(ValidationError):
            Named(name=bad)
