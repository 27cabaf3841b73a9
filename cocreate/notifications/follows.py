"""Following things: what can be followed, by whom, and the list of what a user follows.

Each component declares its followable types (``Component.followables``, a list of :class:`Followable`):
how to say the type's name, whether an actor may see one target (nobody follows what they cannot
see; the answer for an unknown id is the same as for an invisible one) and, for a batch of ids, the
titles and links of the targets an actor may see (the "Following" page reads one page of follows
and then one batch per type, never one query per follow).

The rows themselves are written by :mod:`cocreate.notifications.services` (``follow`` / ``unfollow``,
idempotent); this module adds the checks and the pages' view of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlmodel import Session, col, select

from cocreate import components
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.db import transactional
from cocreate.errors import NotFound
from cocreate.notifications import services
from cocreate.notifications.models import Follow
from cocreate.web.pagination import DEFAULT_PER_PAGE, Page, paginate


@dataclass(frozen=True)
class Target:
    """A followed thing as a list shows it."""

    title: str
    url: str


@dataclass(frozen=True)
class Followable:
    """One type of thing users can follow (``type`` is :attr:`Follow.target_type`)."""

    type: str
    label: Callable[[], str]
    """The type's name in the current locale, e.g. "Challenge"."""
    visible: Callable[[Session, Principal, int], bool]
    """Whether the actor may see (and so follow) the target; False for unknown ids."""
    describe: Callable[[Session, Principal, Sequence[int]], dict[int, Target]]
    """Titles and links of those of the ids the actor may see, in a fixed number of queries."""


@cache
def _registry() -> dict[str, Followable]:
    result: dict[str, Followable] = {}
    for followable in components.followables():
        if followable.type in result:
            raise ValueError(f"followable type {followable.type!r} is declared twice")
        result[followable.type] = followable
    return result


def types() -> dict[str, Followable]:
    """Every followable type by name."""
    return dict(_registry())


def followable(target_type: str) -> Followable:
    spec = _registry().get(target_type)
    if spec is None:
        raise NotFound()
    return spec


# --- the button ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    """What the follow button of one target shows one viewer (macros/follow.html builds its form's address from
    the routes ``follow`` and ``unfollow``)."""

    target_type: str
    target_id: int
    signed_in: bool
    following: bool
    follower_count: int
    next: str = ""
    """Where a plain (non-htmx) form goes back to, when not the target's own page."""

    @property
    def dom_id(self) -> str:
        return f"follow-{self.target_type}-{self.target_id}"


def button(session: Session, actor: Principal, target_type: str, target_id: int, *, next_url: str = "") -> Button:
    """The follow button of a target the caller has already shown to ``actor`` (one small query)."""
    count, following = services.follow_state(session, actor.user_id, target_type, target_id)
    return Button(target_type=target_type, target_id=target_id, signed_in=actor.is_signed_in,
                  following=following, follower_count=count, next=next_url)


# --- following and unfollowing -------------------------------------------------------------------


@transactional
def follow(session: Session, actor: Principal, target_type: str, target_id: int) -> bool:
    """Follow a target the actor may see (commits); returns whether the follow is new.

    Unknown types, unknown targets and targets the actor may not see all raise
    :class:`cocreate.errors.NotFound`.
    """
    user = require_signed_in(actor)
    assert user.id is not None
    spec = followable(target_type)
    if not spec.visible(session, actor, target_id):
        raise NotFound()
    return services.follow(session, user.id, target_type, target_id)


@transactional
def unfollow(session: Session, actor: Principal, target_type: str, target_id: int) -> bool:
    """Stop following (commits); returns whether a follow was removed.

    Works whether or not the target is still visible (something followed may since have been
    hidden), and tells nothing about targets: a follow that does not exist is simply not removed.
    """
    user = require_signed_in(actor)
    assert user.id is not None
    followable(target_type)
    return services.unfollow(session, user.id, target_type, target_id)


def follow_as_author(session: Session, user_ids: Sequence[int | None], target_type: str, target_id: int) -> None:
    """The people who created something follow it (no commit, no visibility check: they made it)."""
    for user_id in sorted({user_id for user_id in user_ids if user_id is not None}):
        services.follow(session, user_id, target_type, target_id)


# --- the "Following" page ------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowedItem:
    target_type: str
    target_id: int
    type_label: str
    followed_at: datetime
    target: Target | None
    """None when the target no longer exists or is no longer visible to the user."""

    def button(self, next_url: str) -> Button:
        """Its unfollow button (it is followed: it is on the list), going back to ``next_url``."""
        return Button(target_type=self.target_type, target_id=self.target_id, signed_in=True, following=True,
                      follower_count=0, next=next_url)


def following_page(session: Session, actor: Principal, page: int = 1,
                   per_page: int = DEFAULT_PER_PAGE) -> Page[FollowedItem]:
    """What the actor follows, newest first: two queries for the page plus one batch per type on it."""
    user = require_signed_in(actor)
    registry = _registry()
    statement = (select(Follow).where(Follow.user_id == user.id, col(Follow.target_type).in_(sorted(registry)))
                 .order_by(col(Follow.created_at).desc(), col(Follow.id).desc()))
    result = paginate(session, statement, page, per_page)  # type: ignore[arg-type]
    ids_by_type: dict[str, list[int]] = defaultdict(list)
    for row in result.items:
        ids_by_type[row.target_type].append(row.target_id)
    described = {target_type: registry[target_type].describe(session, actor, ids)
                 for target_type, ids in ids_by_type.items()}
    items = [FollowedItem(target_type=row.target_type, target_id=row.target_id,
                          type_label=registry[row.target_type].label(), followed_at=row.created_at,
                          target=described[row.target_type].get(row.target_id))
             for row in result.items]
    return Page(items=items, page=result.page, per_page=result.per_page, total=result.total)
