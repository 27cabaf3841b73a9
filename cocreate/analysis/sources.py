"""What the opinion analysis reads: the subjects the components declare (``Component.opinion_sources``).

The core knows no feature tables. A component lists :class:`OpinionSource` objects; each says how to find
one subject (a challenge by its id, or a period of dates) and how to read the texts residents wrote about
it, public ones only (nothing hidden, deleted or private), and carries the facts the permission rules read
(:class:`Subject`): the departments whose staff may analyse it, or ``None`` for any ward staff.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlmodel import Session

from cocreate import components
from cocreate.errors import NotFound


@dataclass(frozen=True)
class Subject:
    """One thing to analyse, as a source found it (the target of the ``analysis.*`` rules)."""

    source: str
    id: int | None
    title: str
    department_ids: tuple[int, ...] | None
    """The staff who may analyse it and review its runs: of these departments, or any staff (None)."""
    page_route: str | None = None
    """The route name of the subject's public page (with ``id`` as its ``page_param``), if it has one."""
    page_param: str = "id"
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class OpinionSource:
    name: str
    """Short name, stored on every run: "challenge", "voices"."""
    label: Callable[[], str]
    """The source's name in the current locale."""
    by_period: bool
    """Whether a subject is a period of dates (``start``, ``end``) rather than an id."""
    subject: Callable[[Session, int | None, date | None, date | None], Subject]
    """The subject of this id or period; :class:`~cocreate.errors.NotFound` if there is none."""
    texts: Callable[[Session, Subject], list[Opinion]]
    """The public texts about the subject, oldest first."""
    still_public: Callable[[Session, Collection[str]], set[str]]
    """Which of these :attr:`Opinion.ref` are still public (a quote whose text was hidden by the moderators,
    deleted or withdrawn since the run leaves the pages). A fixed number of queries, whatever their number."""


@dataclass(frozen=True)
class Opinion:
    """One text a resident wrote, and where it is (``"comment:12"``, ``"voice:3"``: its source's own key)."""

    ref: str
    text: str
    """Plain text or Markdown."""


@cache
def _by_name() -> dict[str, OpinionSource]:
    return {source.name: source for source in components.opinion_sources()}


def all_sources() -> list[OpinionSource]:
    return list(_by_name().values())


def source(name: str) -> OpinionSource:
    try:
        return _by_name()[name]
    except KeyError:
        raise NotFound() from None
