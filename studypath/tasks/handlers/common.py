"""What the built-in handlers share: the data-directory sandbox, atomic writes, ISO times.

Every file a handler writes or deletes lives under the data directory. A task's payload is
input from a user, so a path in it is resolved (symbolic links followed) and must still be
inside the data directory afterwards — `..`, absolute paths and links that point elsewhere
are refused with a PermanentError, because retrying a path that escapes cannot help.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path, PurePath
from typing import Annotated, Any, TypeVar, get_args

from pydantic import BaseModel, Discriminator, PlainValidator, RootModel, Tag, WithJsonSchema
from pydantic.json_schema import models_json_schema

from studypath.tasks.registry import OWN_SHAPE, REFERENCE_SHAPE, PermanentError


def inside_data_dir(data_dir: Path, relative: str | PurePath) -> Path:
    """`data_dir / relative`, fully resolved; PermanentError if it would leave `data_dir`."""
    text = str(relative)
    path = PurePath(relative)
    if path.is_absolute() or text.startswith(("/", "\\")) or path.drive:
        raise PermanentError(f"path {text!r} must be relative to the data directory")
    if ".." in path.parts:
        raise PermanentError(f"path {text!r} must not contain '..'")
    root = data_dir.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root):
        raise PermanentError(
            f"path {text!r} leads outside the data directory (through a symbolic link)"
        )
    return target


def ensure_folder(data_dir: Path, relative: str) -> Path:
    """Create (if needed) a folder inside the data directory and return its resolved path."""
    folder = inside_data_dir(data_dir, relative)
    folder.mkdir(parents=True, exist_ok=True)
    return inside_data_dir(data_dir, relative)  # checked again: it may have been a link


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary name, then rename: a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temporary, "xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def file_stamp(moment: datetime) -> str:
    """A UTC timestamp that sorts as text and is safe in file names: 20240501T120000Z."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def as_utc(moment: datetime) -> datetime:
    """A naive datetime is taken to be UTC; an aware one is converted to UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _parse_day_or_moment(value: Any) -> date | datetime:
    if isinstance(value, date):  # a datetime is a date too
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(
        f"{value!r} is not an ISO 8601 date (2024-05-01) or datetime (2024-05-01T12:00:00Z)"
    )


def _parse_instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value.strip()))
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not an ISO 8601 datetime (2024-05-01T12:00:00Z)")


# A day ("2024-05-01") or a moment ("2024-05-01T12:00:00+02:00"), kept apart: a report that
# ends on a day includes that whole day. Plain strings only — a number is not a date.
DayOrMoment = Annotated[
    date | datetime,
    PlainValidator(_parse_day_or_moment),
    WithJsonSchema(
        {"type": "string", "description": "ISO 8601 date or datetime (naive means UTC)"}
    ),
]

# A moment in time, always timezone-aware UTC after validation (naive input means UTC).
Instant = Annotated[
    datetime,
    PlainValidator(_parse_instant),
    WithJsonSchema({"type": "string", "format": "date-time", "description": "naive means UTC"}),
]


# --- payloads accepted in two shapes ---------------------------------------------------------
# Clients written for the reference system send some types' payloads in its shape (webhook:
# `{url, method, payload}`), studypath's own clients in studypath's. A key that only the
# reference shape has tells them apart, in pydantic (a discriminator) and in the JSON Schema
# (`if`/`then`/`else`) alike, so an error names a field of the shape the client meant.
class ShapeByKey:
    """The discriminator's rule: the reference shape when `key` is in the payload, studypath's
    otherwise. (A class, not a closure, so `TwoShapes` can read the key back.)"""

    def __init__(self, key: str) -> None:
        self.key = key
        self.__name__ = "pick"  # pydantic names the union's validator after its function

    def __call__(self, value: Any) -> str:
        present = self.key in value if isinstance(value, dict) else hasattr(value, self.key)
        return REFERENCE_SHAPE if present else OWN_SHAPE


def shape_by_key(key: str) -> Discriminator:
    """Pick the reference shape when `key` is in the payload, studypath's otherwise."""
    return Discriminator(ShapeByKey(key))


OwnT = TypeVar("OwnT", bound=BaseModel)
ReferenceT = TypeVar("ReferenceT", bound=BaseModel)

# The two shapes, tagged for the discriminator: a handler's payload is
# `Annotated[EitherShape[Own, Reference], shape_by_key("key only the reference has")]`.
EitherShape = Annotated[OwnT, Tag(OWN_SHAPE)] | Annotated[ReferenceT, Tag(REFERENCE_SHAPE)]


class TwoShapes:
    """What a payload model accepted in two shapes shares, mixed into its RootModel:

        WebhookShapes = Annotated[
            EitherShape[WebhookPayload, ReferenceWebhookPayload], shape_by_key("payload")
        ]

        class WebhookRequest(TwoShapes, RootModel[WebhookShapes]):
            # its docstring: "{url, …} (studypath) or {url, method, payload} (reference)."

            def normalised(self) -> WebhookPayload: ...  # the one form the handler uses

    `payload_json_schema` writes the JSON Schema the API checks from that same declaration
    (the two models, the key, and the docstring as its description), so the API and the
    handler cannot disagree on a shape."""

    @classmethod
    def payload_json_schema(cls) -> dict[str, Any]:
        assert issubclass(cls, RootModel), "TwoShapes is mixed into a RootModel"
        root = cls.model_fields["root"]
        own, reference = (get_args(tagged)[0] for tagged in get_args(root.annotation))
        (by_key,) = (
            rule.discriminator for rule in root.metadata if isinstance(rule, Discriminator)
        )
        assert isinstance(by_key, ShapeByKey), "the shapes are told apart by shape_by_key"
        description = " ".join((cls.__doc__ or "").split())
        return two_shapes_schema(
            key=by_key.key, own=own, reference=reference, description=description
        )


def two_shapes_schema(
    *, key: str, own: type[BaseModel], reference: type[BaseModel], description: str
) -> dict[str, Any]:
    """The JSON Schema of a payload in either shape: both listed under `$defs`, chosen by
    whether `key` is present (as `shape_by_key` chooses)."""
    refs, top = models_json_schema(
        [(own, "validation"), (reference, "validation")], ref_template="#/$defs/{model}"
    )
    return {
        "description": description,
        "type": "object",
        "if": {"required": [key]},
        "then": refs[(reference, "validation")],
        "else": refs[(own, "validation")],
        "$defs": top["$defs"],
    }
