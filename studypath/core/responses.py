"""The success envelope: ``{"success": true, "data": ..., "message": ...}``."""

from __future__ import annotations

import uuid
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

T = TypeVar("T")


class Envelope(BaseModel, Generic[T]):
    """Every 200 answer of the API has this shape (the guide's clients rely on it)."""

    success: bool = True
    data: T
    message: str | None = None


class RowOut(BaseModel):
    """The base of a response model that answers with one stored row: it reads the row
    object's attributes (`RowOut.model_validate(row)`), and every row has its `id` first.
    A subclass lists the row's other fields; the OpenAPI document names the subclass."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID


def ok(data: T, message: str | None = None) -> Envelope[T]:
    return Envelope[T](data=data, message=message)


def json_answer(envelope: Envelope[Any]) -> Response:
    """`envelope` as a finished JSON response, the bytes FastAPI would have sent for it.

    A handler that returns an envelope has FastAPI check it against the route's
    `response_model` — validate it again, then serialize it. For an answer the handler built
    itself from a typed envelope (`Envelope[Liveness](data=...)`, validated as it was made),
    that second check can find nothing, and it is a fifth of a health probe's work. Returning
    a Response skips it; the route keeps its `response_model`, so the OpenAPI document still
    describes the answer."""
    return Response(envelope.model_dump_json(), media_type="application/json")


__all__ = [
    "Envelope",
    "RowOut",
    "json_answer",
    "ok",
]
