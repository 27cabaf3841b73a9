"""Comments as reportable content (see :mod:`cocreate.moderation.targets`; listed in the core's manifest)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from cocreate.accounts.models import User
from cocreate.comments import targets
from cocreate.comments.models import Channel, Comment
from cocreate.errors import NotFound
from cocreate.i18n import lazy_gettext as _l
from cocreate.moderation.targets import Reportable, excerpt

COMMENT = "comment"


def _load(session: Session, comment_id: int, lock: bool) -> Comment:
    """A comment that is not deleted (hidden ones too: moderators restore them)."""
    comment = session.get(Comment, comment_id, with_for_update=lock, populate_existing=lock)
    if comment is None or comment.deleted_at is not None:
        raise NotFound()
    return comment


def _url(comment: Comment) -> str:
    """The comment in the page of what it is on."""
    return f"{targets.target(comment.target_type).url(comment.target_id)}#comment-{comment.id}"


def _describe(session: Session, ids: Sequence[int]) -> dict[int, tuple[Any, str]]:
    rows = session.exec(select(Comment, User).outerjoin(User, col(User.id) == Comment.author_id)
                        .where(col(Comment.id).in_(ids))).all()
    return {comment.id: (comment, _author_name(comment, author)) for comment, author in rows}  # type: ignore[misc]


def _author_name(comment: Comment, author: User | None) -> str:
    """The author's public name, or for a comment the support desk entered, how it reached the ward."""
    if author is not None:
        return author.public_name
    return Channel(comment.channel).label if comment.is_assisted else ""


REPORTABLES = [
    Reportable(
        name=COMMENT, label=_l("Comment"), report_heading=_l("Report a comment"), item_heading=_l("Reported comment"),
        load=_load, url=_url, author_id=lambda comment: comment.author_id, action="comment.report",
        facts=lambda session, actor, comment: comment,
        excerpt=lambda comment: excerpt(comment.body), title=lambda comment: "", body=lambda comment: comment.body,
        describe=_describe,
    ),
]
