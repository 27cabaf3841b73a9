"""What a component publishes as open data: :class:`Dataset`, declared in its manifest
(``Component.datasets=("proposals.datasets:DATASETS",)``).

A dataset is a table: named, described, its columns described (:class:`Column`), its rows produced by a
function of the database session. **Public parts only**: the function reads what any visitor may read on
the site (published, not hidden, not draft, not confidential) and never a person's e-mail, name of a
resident, private note or who voted; authors of residents' contributions appear as a stable pseudonym
(:func:`cocreate.opendata.pseudonyms.pseudonym`) at most. The open-data tests plant confidential text in
every such place and read every dataset of every manifest.

Rows are produced in a stable order (by id) and streamed (the function yields dicts, reading the
database in chunks), so a dataset of 200,000 comments never sits in memory at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from sqlmodel import Session

ColumnType = Literal["string", "integer", "number", "boolean", "date", "datetime", "url"]


@dataclass(frozen=True)
class Column:
    name: str
    """The key in each row and the CSV header (snake_case, English)."""
    description: Any
    """What the value means (a lazy_gettext string)."""
    type: ColumnType = "string"


@dataclass(frozen=True)
class Dataset:
    name: str
    """The file name without extension (``challenges`` → ``challenges.csv``); unique across components."""
    title: Any
    """A lazy_gettext string."""
    description: Any
    """A lazy_gettext string: what a row is, and what is left out and why."""
    columns: tuple[Column, ...]
    rows: Callable[[Session], Iterable[dict[str, Any]]]
    """Yields one dict per row, keyed by the columns' names (values: str, int, float, bool, date,
    datetime, None; enums as their value)."""
    keywords: tuple[str, ...] = ()
    """DCAT keywords (Japanese first)."""


CHUNK = 1000
"""Rows read from the database at a time by :func:`stream`."""


def stream(session: Session, statement: Any, key: Any, chunk: int = CHUNK) -> Iterator[Any]:
    """The rows of ``statement`` in order of ``key`` (a unique column, say ``Comment.id``), read ``chunk`` at a
    time by keyset pagination (``WHERE key > last ORDER BY key LIMIT chunk``): each read is short and
    indexed, and only one chunk is in memory however large the table. Rows are what ``session.execute``
    returns (tuples); ``key`` must be the first selected column."""
    last = None
    while True:
        page = statement if last is None else statement.where(key > last)
        rows = session.execute(page.order_by(key).limit(chunk)).all()
        yield from rows
        if len(rows) < chunk:
            return
        last = rows[-1][0]
