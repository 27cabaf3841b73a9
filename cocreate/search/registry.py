"""What the search index holds: each component registers a :class:`Source` per document type.

The core knows no feature tables. A component lists its sources in ``Component.search_sources``
(``module:attribute`` of a list of :class:`Source`). A source says how to load the public form of
its documents, and which model changes make which documents stale; the indexer does the rest.

Visibility is decided in exactly one place per type, the source's ``load``: it returns a
:class:`SearchDoc` only for what anyone may see (published, not hidden, not withdrawn, not deleted,
and without confidential parts). Anything it does not return is removed from the index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from cocreate import components


@dataclass(frozen=True)
class SearchDoc:
    """The public, indexable form of one thing (a challenge, a proposal, a question with its answer, …)."""

    type: str
    """The source's type, e.g. "challenge"."""
    id: int
    title: str
    body: str
    """Plain text (Markdown is fine: it is only tokenised, never shown as HTML)."""
    url: str
    """A path on this site."""
    updated_at: datetime
    phase: str | None = None
    """The challenge phase (the owning challenge's, for proposals and questions)."""
    category: str | None = None
    area: str | None = None
    """An area slug (labs.models.Area value), when the thing has one."""
    challenge_id: int | None = None
    """The owning challenge, for documents that belong to one (similar proposals ask for these)."""
    extra: str = ""
    """Further searchable text of lower weight (organisation names, KPI names, …)."""

    @property
    def key(self) -> str:
        return doc_key(self.type, self.id)


@dataclass(frozen=True)
class Source:
    type: str
    """Short name, also the first half of every document key: "challenge", "proposal", …"""
    label: Callable[[], str]
    """The type's name in the current locale (for filters and result lists)."""
    load: Callable[[Session, Sequence[int]], dict[int, SearchDoc]]
    """The public documents among these ids; ids left out are not (or no longer) public."""
    all_ids: Callable[[Session], Iterator[int]]
    """Every id that might be public (for a rebuild; ``load`` still decides)."""
    watches: dict[type, Callable[[Session, Any], Iterable[str]]] = field(default_factory=dict)
    """Model class → the document keys a change to one of its rows (insert, update, delete) makes stale.

    E.g. ``{Proposal: lambda s, p: [doc_key("proposal", p.id)], Challenge: challenge_and_children}``.
    Called during flush with the changed instance: read its attributes, and query only when needed.
    """


def touched(session: Session, instance: Any, fields: Sequence[str]) -> bool:
    """Whether a flush adds or deletes ``instance`` or changes one of ``fields`` (not just a counter)."""
    if instance in session.new or instance in session.deleted:
        return True
    state = sa.inspect(instance)
    return any(state.attrs[name].history.has_changes() for name in fields)


def watch_when(fields: Sequence[str],
               keys: Callable[[Session, Any], Iterable[str]]) -> Callable[[Session, Any], list[str]]:
    """A ``Source.watches`` entry: ``keys`` of the row, but only when the flush touched one of ``fields``."""
    def watch(session: Session, instance: Any) -> list[str]:
        return list(keys(session, instance)) if touched(session, instance, fields) else []
    return watch


def scalar_ids(session: Session, statement: Any) -> list[int]:
    """The non-null values of a one-column SELECT."""
    return [row for row in session.exec(statement).all() if row is not None]


def doc_key(type_: str, id_: int) -> str:
    return f"{type_}:{id_}"


def split_key(key: str) -> tuple[str, int]:
    type_, _, number = key.partition(":")
    return type_, int(number)


def sources() -> dict[str, Source]:
    """Every component's sources, by type (resolved once; components are fixed at start)."""
    if not _cache:
        for source in components.search_sources():
            if source.type in _cache:
                raise ValueError(f"search source {source.type!r} is registered twice")
            _cache[source.type] = source
    return _cache


_cache: dict[str, Source] = {}
