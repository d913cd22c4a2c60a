"""The success envelope: ``{"success": true, "data": ..., "message": ...}``."""

from __future__ import annotations

import uuid
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

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


__all__ = [
    "Envelope",
    "RowOut",
    "ok",
]
