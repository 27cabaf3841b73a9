"""What can be reported and moderated: the reportable content the components declare.

Moderation is the core's; the content is a component's (a proposal) or another core feature's (a
comment). Each lists its types in its manifest (``Component.reportables``, a list of :class:`Reportable`),
and moderation asks a type, never its module, what it needs: the item (only while it may be reported),
its page, its author, and how the queue and the pages name it. Who may report an item is a permission
rule of its owner: the declaration names the action (``proposal.report``, ``comment.report``) and reads
the facts that rule needs (:attr:`Reportable.facts`); moderation asks it through
:func:`cocreate.permissions.require`, so the core never imports the component.

An item is any row with the moderation fields ``hidden_at``, ``hidden_reason``, ``hidden_by_id`` and
``report_count``; moderation sets those and nothing else. ``Report.target_type`` is the type's
:attr:`Reportable.name`; a type no manifest declares is not found, whatever the id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlmodel import Session

from cocreate import components
from cocreate.accounts.permissions import Principal
from cocreate.errors import NotFound
from cocreate.forms import CHOOSE_AN_OPTION, FieldType, Message, as_text, refuse

EXCERPT = 200
"""Characters of a text shown as its excerpt (:func:`excerpt`)."""


def excerpt(text: str) -> str:
    """The start of a text, for content without a title (a comment)."""
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "…"


@dataclass(frozen=True)
class Reportable:
    """One type of reportable content."""

    name: str
    label: Any
    """A lazy_gettext string naming the type in the queue ("Proposal")."""
    report_heading: Any
    """The report page's heading ("Report a proposal")."""
    item_heading: Any
    """The moderator's page heading ("Reported proposal")."""
    load: Callable[[Session, int, bool], Any]
    """``(session, item_id, lock)``: the item while it may be reported and moderated, locked with ``lock``
    (its ``report_count`` and ``hidden_*`` change); else :class:`NotFound`."""
    url: Callable[[Any], str]
    """Where the item is shown."""
    author_id: Callable[[Any], int | None]
    action: str
    """The action whose rule says who may report an item (nobody reports their own content)."""
    facts: Callable[[Session, Principal, Any], Any]
    """``(session, actor, item)``: what the rule of :attr:`action` reads about the item and the actor."""
    excerpt: Callable[[Any], str]
    """What the report page and the queue show of it (a title, or the start of its text)."""
    title: Callable[[Any], str]
    """The title on the moderator's page ("" for content without one)."""
    body: Callable[[Any], str]
    """The text a moderator reads."""
    describe: Callable[[Session, Sequence[int]], dict[int, tuple[Any, str]]]
    """For a page of the queue: id → (item, the name its author is shown by), in one query."""


@cache
def _registry() -> dict[str, Reportable]:
    result: dict[str, Reportable] = {}
    for reportable in components.reportables():
        if reportable.name in result:
            raise ValueError(f"reportable type {reportable.name!r} is declared twice")
        result[reportable.name] = reportable
    return result


def names() -> list[str]:
    """Every reportable type's name."""
    return list(_registry())


def find(name: str) -> Reportable | None:
    return _registry().get(name)


def reportable(name: str) -> Reportable:
    """The type ``name``; :class:`NotFound` for a type no manifest declares."""
    found = _registry().get(name)
    if found is None:
        raise NotFound()
    return found


@dataclass(frozen=True)
class ReportableType(FieldType):
    """A form field naming a reportable type (``proposal``, ``comment``); ``message`` when it names none."""

    message: Message | None = None
    required: bool = True

    def parse(self, value: Any) -> str | None:
        text = as_text(value).strip()
        if not text and not self.required:
            return None
        if text not in _registry():
            raise refuse(self.message or CHOOSE_AN_OPTION)
        return text
