"""What can be commented on: the commentable targets the components declare (Decidim's commentable concern).

Comments are the core's; what they are about is a component's. A component lists its targets in its
manifest (``Component.commentables="proposals.comment_targets:TARGETS"``, a list of
:class:`CommentTarget`), and comments ask a target, never the component's modules, what they need to
know: whether it exists and the actor may read its comments, its title and page, whose comments are
official, what counter to keep and who hears of every comment. Whether it takes comments now, and why
not, is a permission rule of the component: the declaration names its action (``challenge.comment``),
and the target's loader reads the facts that rule needs (:attr:`TargetInfo.facts`); the core's rules
(``comment.post`` and the others, :mod:`cocreate.accounts.policy`) ask it through
:func:`cocreate.permissions.can`, so the core never imports the component.

A comment's ``target_type`` is its target's :attr:`CommentTarget.name`; a type no manifest declares is
not found, whatever the id. Each target gets its comment pages under its own page's URL (see
:func:`cocreate.comments.routes.target_routes`): ``{prefix}/{id}/comments``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlmodel import Session

from cocreate import components
from cocreate.accounts.permissions import Principal
from cocreate.errors import NotFound


@dataclass(frozen=True)
class TargetInfo:
    """One target as comments see it, for one actor at one moment (built by its :class:`CommentTarget`)."""

    kind: CommentTarget
    id: int
    title: str
    facts: Any
    """What the rule of :attr:`CommentTarget.action` reads to say whether the target takes comments now
    (e.g. ``proposals.permissions.OnChallenge``: its phase)."""
    thing: Any = None
    """The component's own rows (for its hooks: :attr:`CommentTarget.official` and the others)."""

    @property
    def type(self) -> str:
        return self.kind.name

    @property
    def url(self) -> str:
        """The page that shows the comments section."""
        return self.kind.url(self.id)

    @property
    def list_url(self) -> str:
        """Its comments list (the route ``{type}-comments``), where its comment form posts too."""
        return self.kind.comments_url(self.id)

    @property
    def route_params(self) -> dict[str, int]:
        """The path parameters of its comment routes: ``url_for(target.kind.post_route, **target.route_params)``."""
        return {self.kind.param: self.id}

    @property
    def back_label(self) -> str:
        """The link back to the target's page from its comments list ("Back to the challenge")."""
        return str(self.kind.back_label)


@dataclass(frozen=True)
class CommentTarget:
    """One type of thing people comment on (``Comment.target_type`` is its :attr:`name`)."""

    name: str
    prefix: str
    """Where the target's pages are: its page is ``{prefix}/{id}``, its comments ``{prefix}/{id}/comments``."""
    param: str
    """The name of the id in the comment routes' paths (``challenge_id`` in ``/challenges/{challenge_id:int}``)."""
    action: str
    """The action (declared by the component's policy) whose rule says whether a target takes comments now,
    asked of its :attr:`TargetInfo.facts`; a refusal because of the target's state has a ``field``."""
    back_label: Any
    """A lazy_gettext string: the link back to the target's page."""
    load: Callable[..., TargetInfo]
    """``load(session, actor, target_id, *, lock=False)``: the target, with the facts :attr:`action` reads,
    if ``actor`` may read its comments, else :class:`NotFound`. ``lock``: for a change (a target that keeps
    a comment counter locks its row; it may skip the actor's own checks, as comments only change what is
    public)."""
    official: Callable[[Session, Principal, TargetInfo], str] = lambda session, actor, target: ""
    """How the actor's comment on the target is marked (``staff``, ``proposer`` or "")."""
    count_changed: Callable[[Session, int, int], None] | None = None
    """``(session, target_id, count)``: the target's comments and replies not deleted changed to ``count``
    (the target's row is locked by ``load(..., lock=True)``); None: the target keeps no counter."""
    audience: Callable[[Session, int], set[int]] | None = None
    """``(session, target_id)``: who hears of every comment on the target (``comment.posted``, besides those
    a reply tells); None: nobody does."""

    def url(self, target_id: int) -> str:
        """The target's page (declared by its ``prefix``; the component's route, checked by the tests)."""
        return f"{self.prefix}/{target_id}"

    @property
    def list_route(self) -> str:
        """The name of the route of its comments list (``challenge-comments``)."""
        return f"{self.name}-comments"

    @property
    def post_route(self) -> str:
        """The name of the route its comment form posts to (``challenge-comment-post``)."""
        return f"{self.name}-comment-post"

    @property
    def route_path(self) -> str:
        """The path of both routes, under the target's page: ``/challenges/{challenge_id:int}/comments``."""
        return f"{self.prefix}/{{{self.param}:int}}/comments"

    def comments_url(self, target_id: int) -> str:
        """The path of its comments list (:attr:`list_route`) for code without a request."""
        return f"{self.url(target_id)}/comments"


@cache
def _registry() -> dict[str, CommentTarget]:
    result: dict[str, CommentTarget] = {}
    for target in components.commentables():
        if target.name in result:
            raise ValueError(f"commentable target {target.name!r} is declared twice")
        result[target.name] = target
    return result


def all_targets() -> list[CommentTarget]:
    """Every commentable target, in manifest order."""
    return list(_registry().values())


def target(name: str) -> CommentTarget:
    """The target type ``name``; :class:`NotFound` for a type no manifest declares."""
    found = _registry().get(name)
    if found is None:
        raise NotFound()
    return found


def load(session: Session, actor: Principal, target_type: str, target_id: int, *, lock: bool = False) -> TargetInfo:
    """The target whose comments the actor reads (or, with ``lock``, changes); NotFound otherwise."""
    return target(target_type).load(session, actor, target_id, lock=lock)
