"""Input types every request model uses: text, numbers and free-form JSON a database can hold.

PostgreSQL refuses a NUL character in text and Python refuses to encode a lone UTF-16
surrogate (`"\\ud800"` is valid JSON); `NaN` and `Infinity` are accepted by Python's JSON
parser but are not JSON and overflow aggregates. Refusing them here, at the edge, turns what
would be a 500 deep in the stack into a 400 that names the field.

The status rule (one place: `core.errors`): a body that cannot be read as the endpoint's
schema (wrong JSON types, missing fields) answers 422; a value the schema can read but a rule
refuses (too long, not one of the choices, NUL byte, too deep) answers 400.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    Strict,
    StringConstraints,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

MAX_JSON_DEPTH = 16
"""Nesting a free-form JSON field may have: deep enough for any real document."""
DEFAULT_JSON_BYTES = 64 * 1024


def check_text(value: str) -> str:
    """Refuse what PostgreSQL or UTF-8 cannot store: NUL and lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value


Text = Annotated[str, AfterValidator(check_text)]
"""A string a client sends: any length, never NUL or a surrogate. For limits use `text(...)`."""


def text(
    *,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    strip_whitespace: bool = False,
) -> Any:
    """`Text` with limits, checked in the right order: stripped first, then measured.

    (`Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1)]` measures the
    string before stripping it, so "   " would pass as "": build constrained text here.)"""
    return Annotated[
        str,
        StringConstraints(
            strip_whitespace=strip_whitespace,
            min_length=min_length,
            max_length=max_length,
            pattern=pattern,
        ),
        AfterValidator(check_text),
    ]


FiniteFloat = Annotated[float, Strict(), Field(allow_inf_nan=False)]
"""A JSON number that is a number: NaN and ±Infinity are refused, and so are `true` and
`"1.5"` (pydantic's lax mode would read them as 1.0 and 1.5; the schema says `number`).
Strict still takes an integer (`3` → 3.0). For JSON bodies: a query string is text."""


def _json_integer(value: Any) -> Any:
    """Refuse what lax mode would turn into an int but JSON Schema's `integer` is not."""
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


INTEGER_ONLY = BeforeValidator(_json_integer)
"""Put last in `Annotated[int, Field(ge=…, le=…), INTEGER_ONLY]` (after the bounds, so the
schema shows them as `minimum`/`maximum`): an integer in a JSON body is not `true` or `"5"`
(both pass pydantic's lax mode); an integral float (`5.0`, an integer to JSON Schema) is."""
JsonInt = Annotated[int, INTEGER_ONLY]
"""An integer in a JSON body (see `INTEGER_ONLY`); bounds in the field's own `Field(...)`."""

StrictBool = Annotated[bool, Strict()]
"""`true` or `false` in a JSON body; not 0/1 or "yes" (a typed client never sends those)."""


def check_json_value(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Walk a decoded JSON value without recursion: bounded depth, text and numbers storable."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise ValueError(f"must not be nested more than {max_depth} levels deep")
            if isinstance(item, dict):
                for key, child in item.items():
                    if not isinstance(key, str):
                        raise ValueError("object keys must be strings")
                    check_text(key)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            check_text(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("must not contain NaN or Infinity")
        elif item is not None and not isinstance(item, bool | int | float):
            raise ValueError(f"must be JSON, not {type(item).__name__}")


def json_size(value: Any) -> int:
    """Bytes of the value as compact JSON (call after `check_json_value`)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def bounded_json(max_bytes: int = DEFAULT_JSON_BYTES, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A validator for a free-form JSON field: depth, size, storable text, finite numbers."""

    def check(value: Any) -> Any:
        check_json_value(value, max_depth=max_depth)
        size = json_size(value)
        if size > max_bytes:
            raise ValueError(f"must be at most {max_bytes} bytes as JSON (got {size})")
        return value

    return AfterValidator(check)


JSONObject = Annotated[dict[str, Any], bounded_json()]
"""A free-form JSON object (tags, labels, metadata, payloads): ≤ 64 KiB, ≤ 16 levels."""


def _no_default_in_schema(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def absent(**field: Any) -> Any:
    """The default of a field in a partial update (PUT/PATCH): changed only when sent.

    Give the field the *create* model's type (`title: Title = absent()`, not
    `Title | None = None`): a value that is sent — `null` included — is then validated
    exactly as on create, so `{"title": null}` is refused like a missing title would be on
    create, instead of reaching a NOT NULL column. Pydantic does not validate defaults, so
    leaving the field out is fine; read the model with `model_dump(exclude_unset=True)`.
    Keyword arguments go to `Field` (a description, say).
    """
    return Field(default=None, json_schema_extra=_no_default_in_schema, **field)


# --- date-times -------------------------------------------------------------------------------
ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?P<zone>[Zz]|[+-]\d{2}:?\d{2})?$"
)


def iso_datetime(*, require_zone: bool) -> Any:
    """A date-time given as ISO 8601 text (`2024-05-01T12:00:00Z`), as `format: date-time` says.

    Pydantic alone also reads a number (`0.5`) or a numeric string as a Unix timestamp, which
    the schema does not promise and no client means: those are refused here (422, like any
    text that is not a date-time). `require_zone`: a time without `Z` or an offset is refused
    too (RFC 3339 needs one; a filter on a naive time would depend on the server's zone)."""

    def check(value: Any) -> Any:
        if isinstance(value, datetime):
            return value
        if not isinstance(value, str):
            raise PydanticCustomError(
                "datetime_type", "Input should be an ISO 8601 date-time string"
            )
        match = ISO_DATETIME.fullmatch(value)
        if match is None or (require_zone and match["zone"] is None):
            zone = " with a time zone (Z or ±hh:mm)" if require_zone else ""
            raise PydanticCustomError(
                "datetime_parsing",
                "Input should be an ISO 8601 date-time{zone}, e.g. 2024-05-01T12:00:00Z",
                {"zone": zone},
            )
        return value

    return Annotated[datetime, BeforeValidator(check)]


IsoDateTime = iso_datetime(require_zone=False)
"""A date-time in a JSON body: ISO 8601 text, never a number (the field's rules say more)."""
ZonedDateTime = iso_datetime(require_zone=True)
"""A date-time in a query parameter: RFC 3339, with `Z` or an offset."""


class SchemaSays:
    """An `Annotated` marker adding JSON Schema keywords to a type's generated schema: the
    rules a validator enforces in code, stated where a client reads them.

        LabelName = Annotated[str, AfterValidator(check), SchemaSays(pattern=r"^[a-z]+$")]

    (Unlike `Field(json_schema_extra=...)`, it composes with a field's own `Field(...)`.)"""

    def __init__(self, **keywords: Any) -> None:
        self.keywords = keywords

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.update(self.keywords)
        return schema


class InputModel(BaseModel):
    """The base of a model for what a client sends (a request body, a task's payload): a
    field it does not declare is an error naming it, never silently dropped — a typo such
    as `"priorty"` is a 400, not a task at the default priority. The JSON schema says so
    (`additionalProperties: false`). A subclass adds to `model_config`; this key stays."""

    model_config = ConfigDict(extra="forbid")


# --- rules across fields, in the JSON schema ----------------------------------------------------
def exactly_one_of(*fields: str) -> Callable[[dict[str, Any]], None]:
    """`json_schema_extra` for a model that takes exactly one of `fields` (each optional and
    nullable): the schema gets `oneOf`, one branch per field, each requiring it as a
    non-null value — so a client (and a schema-driven fuzzer) sees the rule the model's own
    validator enforces."""

    def extra(schema: dict[str, Any]) -> None:
        properties = schema.get("properties", {})
        schema["oneOf"] = [
            {"required": [name], "properties": {name: non_null_schema(properties.get(name, {}))}}
            for name in fields
        ]

    return extra


def require_exactly_one(*fields: str) -> Any:
    """A model validator that takes exactly one of `fields` (each optional, None when
    absent): assign it in the class body, `_one_age = require_exactly_one("a", "b")`. 400
    "give exactly one of a or b" otherwise. In a request body, pair it with `exactly_one_of`
    in `json_schema_extra`, so the schema shows the rule too."""

    def check(model: Any) -> Any:
        if sum(getattr(model, name) is not None for name in fields) != 1:
            raise ValueError(f"give exactly one of {' or '.join(fields)}")
        return model

    return model_validator(mode="after")(check)


def non_null_schema(property_schema: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, {type: null}]` → X (the branch of a nullable property that holds a value)."""
    options = [
        option for option in property_schema.get("anyOf", []) if option.get("type") != "null"
    ]
    described = {k: v for k, v in property_schema.items() if k in ("title", "description")}
    if len(options) == 1:
        return {**options[0], **described}
    return {"not": {"type": "null"}, **described}
