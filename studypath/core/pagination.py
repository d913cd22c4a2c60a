"""Bounded lists: every list endpoint takes `limit` (1-100, default 50) and `offset`, and
answers one page of rows with the total across all pages in `X-Total-Count`.

A service reads the page with `one_page` (the page's rows and the total, in one way for
every list), and the endpoint answers with `paged`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Response
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from studypath.core.responses import Envelope, ok

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
TOTAL_COUNT_HEADER = "X-Total-Count"

Row = TypeVar("Row")


@dataclass(frozen=True)
class PageParams:
    limit: int = DEFAULT_LIMIT
    offset: int = 0


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page (max 100)")] = (
        DEFAULT_LIMIT
    ),
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Rows to skip")] = 0,
) -> PageParams:
    """The page a list request asks for. Async, as every dependency here: FastAPI runs a
    plain `def` dependency in its thread pool, a thread hand-over per request."""
    return PageParams(limit=limit, offset=offset)


Page = Annotated[PageParams, Depends(page_params)]


async def one_page(
    session: AsyncSession, query: Select[Row], page: PageParams, *order: Any
) -> tuple[list[Row], int]:
    """One page of `query`'s rows, sorted by `order`, and how many rows every page holds
    together (counted over the same query, so the total matches the filter)."""
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(*order).limit(page.limit).offset(page.offset))
    return list(rows), int(total or 0)


def paged(response: Response, rows: list[Row], total: int) -> Envelope[list[Row]]:
    """The answer of a list endpoint: this page's `rows` in the envelope, and `total` (the
    rows on every page) in `X-Total-Count`, so a client can draw its pager."""
    response.headers[TOTAL_COUNT_HEADER] = str(total)
    return ok(rows)


__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "TOTAL_COUNT_HEADER",
    "Page",
    "PageParams",
    "Row",
    "one_page",
    "page_params",
    "paged",
]
