"""Telling people about comments (notification kinds and their fan-out).

:func:`cocreate.comments.services.post` announces an event with :func:`announce` inside its own
transaction; once that commits, one task (:data:`TASK`, in :mod:`cocreate.comments.tasks`) runs the
event's handler here, which reads the comment again, checks that it and its target are still public,
and calls :func:`cocreate.notifications.services.notify` for the people concerned, never the person who
wrote it. Each event has its own ``event_key``, so a retried or duplicated task notifies nobody twice.

Events:

- ``comment.replied``: a reply to a comment; the author of the thread's first comment and of the comment
  replied to.
- ``comment.posted``: a comment on a target that names an audience (a proposal: the members of its
  organisations and its followers), except those the reply notification already reaches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, col, select

from cocreate import paths
from cocreate.accounts.models import User
from cocreate.accounts.permissions import Principal
from cocreate.comments import targets
from cocreate.comments.models import Comment
from cocreate.comments.targets import TargetInfo
from cocreate.errors import NotFound
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from cocreate.notifications import services as notifications
from cocreate.settings import Settings
from cocreate.tasks.queue import enqueue
from cocreate.web.markdown import markdown_to_text

TASK = "cocreate.comments.notify_event"
COMMENT = "comment"
EXCERPT = 200

COMMENT_REPLIED = "comment.replied"
COMMENT_POSTED = "comment.posted"


def announce(session: Session, event: str, object_id: int, *, actor_id: int | None = None,
             related_id: int | None = None) -> None:
    """Have the people concerned told about ``event`` once the session commits (nothing when it rolls back)."""
    if event not in HANDLERS:
        raise ValueError(f"unknown comments event {event!r}")
    enqueue(session, TASK, event, int(object_id), actor_id, related_id)


def run(session: Session, settings: Settings, event: str, object_id: int, actor_id: int | None = None,
        related_id: int | None = None) -> int:
    """Notify the people concerned by ``event`` (commits); returns how many were notified now."""
    handler = HANDLERS.get(event)
    if handler is None:
        raise ValueError(f"unknown comments event {event!r}")
    notified = handler(session, settings, object_id, actor_id, related_id)
    session.commit()
    return notified


def _public_target(session: Session, comment: Comment) -> TargetInfo | None:
    """The target the comment is on, or None when its comments are not public (anyone may read them)."""
    try:
        return targets.load(session, Principal.anonymous(), comment.target_type, comment.target_id)
    except NotFound:
        return None


def _answered_authors(session: Session, reply: Comment, replied_to_id: int | None) -> set[int | None]:
    """The authors a reply answers: of its thread's first comment and of the comment replied to."""
    ids = {reply.parent_id} | ({replied_to_id} if replied_to_id is not None else set())
    answered = [c for c in session.exec(select(Comment).where(col(Comment.id).in_(ids))).all()
                if c.deleted_at is None and c.hidden_at is None
                and (c.id == reply.parent_id or c.parent_id == reply.parent_id)]
    return {c.author_id for c in answered if c.author_id is not None}


# --- comment replied -----------------------------------------------------------------------------


def _replied_message(params: dict[str, Any]) -> str:
    return _("%(name)s replied to your comment on “%(title)s”.", name=str(params.get("author_name", "")),
             title=str(params.get("target_title", "")))


def _replied_subject(params: dict[str, Any]) -> str:
    return _("New reply to your comment: %(title)s", title=str(params.get("target_title", "")))


def comment_replied(session: Session, settings: Settings, reply_id: int, actor_id: int | None,
                    replied_to_id: int | None = None) -> int:
    """``replied_to_id`` is the comment the author answered (a reply in the thread, or the thread itself)."""
    reply = session.get(Comment, reply_id)
    if reply is None or reply.parent_id is None or reply.deleted_at is not None or reply.hidden_at is not None:
        return 0
    target = _public_target(session, reply)
    if target is None:
        return 0
    people = _answered_authors(session, reply, replied_to_id) - {reply.author_id, actor_id}
    author = session.get(User, reply.author_id) if reply.author_id is not None else None
    params = {"target_type": reply.target_type, "target_id": reply.target_id, "target_title": target.title,
              "comment_id": reply_id, "author_name": author.display_name if author is not None else "",
              "excerpt": markdown_to_text(reply.body, EXCERPT)}
    return len(notifications.notify(
        session, user_ids=people, kind=COMMENT_REPLIED, target_type=COMMENT, target_id=reply_id, params=params,
        url=paths.comment_replies(reply.parent_id), event_key=f"{COMMENT_REPLIED}:{reply_id}", settings=settings))


# --- comment on a target with an audience (a proposal) -------------------------------------------


def _posted_message(params: dict[str, Any]) -> str:
    if params.get("official") == "staff":
        return _("The department in charge answered on the proposal “%(title)s”.",
                 title=str(params.get("target_title", "")))
    return _("%(name)s commented on the proposal “%(title)s”.", name=str(params.get("author_name", "")),
             title=str(params.get("target_title", "")))


def _posted_subject(params: dict[str, Any]) -> str:
    return _("New comment on a proposal: %(title)s", title=str(params.get("target_title", "")))


def comment_posted(session: Session, settings: Settings, comment_id: int, actor_id: int | None,
                   replied_to_id: int | None = None) -> int:
    """A comment on a target with an audience (a proposal): that audience (its authors, the members of its
    organisations, and its followers) hears of it, except the commenter and those a reply already tells
    (``comment.replied``: one notification each)."""
    comment = session.get(Comment, comment_id)
    if comment is None or comment.deleted_at is not None or comment.hidden_at is not None:
        return 0
    target = _public_target(session, comment)
    if target is None or target.kind.audience is None:
        return 0
    people: set[int | None] = set(target.kind.audience(session, comment.target_id))
    people -= {comment.author_id, actor_id}
    if comment.parent_id is not None:
        people -= _answered_authors(session, comment, replied_to_id)
    writer = session.get(User, comment.author_id) if comment.author_id is not None else None
    params = {"target_type": comment.target_type, "target_id": comment.target_id, "target_title": target.title,
              "comment_id": comment_id, "author_name": writer.display_name if writer is not None else "",
              "excerpt": markdown_to_text(comment.body, EXCERPT),
              "official": comment.official}
    url = (paths.comment_replies(comment.parent_id) if comment.parent_id is not None
           else f"{target.url}#comment-{comment_id}")
    return len(notifications.notify(
        session, user_ids={p for p in people if p is not None}, kind=COMMENT_POSTED, target_type=COMMENT,
        target_id=comment_id, params=params, url=url, event_key=f"{COMMENT_POSTED}:{comment_id}", settings=settings))


# --- registry ------------------------------------------------------------------------------------

Handler = Callable[[Session, Settings, int, "int | None", "int | None"], int]

HANDLERS: dict[str, Handler] = {
    COMMENT_REPLIED: comment_replied,
    COMMENT_POSTED: comment_posted,
}

KINDS = {
    COMMENT_REPLIED: notifications.Kind(
        _replied_message, _replied_subject, "mail/comment_replied.txt", label=lazy_gettext("Replies to your comments")),
    COMMENT_POSTED: notifications.Kind(
        _posted_message, _posted_subject, "mail/comment_posted.txt",
        label=lazy_gettext("Comments on proposals you wrote or follow")),
}
"""The comments' notification kinds (listed in the core's manifest)."""
