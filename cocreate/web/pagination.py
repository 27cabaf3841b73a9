"""Pagination done by the database: one LIMIT/OFFSET query per page, its total alongside."""

from __future__ import annotations

import collections
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlmodel import Session

T = TypeVar("T")

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_OFFSET = 2**31  # farther than any list goes; a bigger page number is "past the end" without asking


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.page * self.per_page, self.total)

    def window(self, size: int = 2) -> list[int | None]:
        """Page numbers around the current one, with ``None`` for gaps: 1 … 4 5 6 … 12."""
        shown = {1, self.pages} | set(range(max(1, self.page - size), min(self.pages, self.page + size) + 1))
        result: list[int | None] = []
        previous = 0
        for number in sorted(shown):
            if number - previous > 1:
                result.append(None)
            result.append(number)
            previous = number
        return result


def clamp_page(page: Any, per_page: Any = DEFAULT_PER_PAGE) -> tuple[int, int]:
    """Tolerant parsing of page parameters: junk falls back to defaults instead of an error."""
    try:
        page_number = max(1, int(page))
    except (TypeError, ValueError):
        page_number = 1
    try:
        size = min(MAX_PER_PAGE, max(1, int(per_page)))
    except (TypeError, ValueError):
        size = DEFAULT_PER_PAGE
    return page_number, size


def paginate(
    session: Session, statement: sa.Select[Any], page: int, per_page: int, *, scalars: bool = True
) -> Page[Any]:
    """Run ``statement`` for one page, in one query: ``total`` rides along as an uncorrelated scalar
    subquery (a COUNT over the same filters, which both SQLite and PostgreSQL evaluate once). A page past
    the end (no rows) costs a COUNT and, when there is anything, the last page."""
    count_statement = sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
    total_column = count_statement.correlate(None).scalar_subquery().label("page_total")
    items: Sequence[Any] = []
    total = 0
    if (page - 1) * per_page <= MAX_OFFSET:
        items, total = _one_page(session, statement.add_columns(total_column), page, per_page, scalars=scalars)
    if items or page == 1:
        return Page(items=items, page=page, per_page=per_page, total=total)
    total = session.execute(count_statement).scalar_one()
    last = max(1, math.ceil(total / per_page))
    if total:
        items, _total = _one_page(session, statement.add_columns(total_column), last, per_page, scalars=scalars)
    return Page(items=items, page=last, per_page=per_page, total=total)


def _one_page(session: Session, statement: sa.Select[Any], page: int, per_page: int, *,
              scalars: bool) -> tuple[Sequence[Any], int]:
    result = session.execute(statement.limit(per_page).offset((page - 1) * per_page))
    rows = result.all()
    if not rows:
        return [], 0
    total = int(rows[0][-1])
    if scalars:
        return [row[0] for row in rows], total
    shape = _row_shape(tuple(result.keys())[:-1])  # the rows without the total: by index, name or unpacking
    return [shape._make(row[:-1]) for row in rows], total


@functools.lru_cache(maxsize=256)
def _row_shape(names: tuple[str, ...]) -> Any:
    return collections.namedtuple("PageRow", names, rename=True)  # type: ignore[misc]


@dataclass
class PageInfo:
    """A page's position in a list, as the JSON API shows it."""

    page: int
    per_page: int
    total: int
    pages: int
    next: str | None
    previous: str | None
