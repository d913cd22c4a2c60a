"""The success envelope: ``{"success": true, "data": ..., "message": ...}``."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class Envelope(BaseModel, Generic[T]):
    """Every 200 answer of the API has this shape (the guide's clients rely on it)."""

    success: bool = True
    data: T
    message: str | None = None


def ok(data: T, message: str | None = None) -> Envelope[T]:
    return Envelope[T](data=data, message=message)


__all__ = [
    "Envelope",
    "ok",
]
