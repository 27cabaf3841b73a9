"""What the core publishes as open data (its manifest's ``datasets``): the comments.

A comment is published when the site shows it to a visitor: not deleted, not hidden by moderation, on a
target the visitor may read (its :class:`cocreate.comments.targets.CommentTarget` loads it for an anonymous
visitor: a draft challenge's or a hidden proposal's comments are not), and, when the support desk typed it
for a resident, once the resident's consent is recorded. The author is a stable pseudonym
(:mod:`cocreate.opendata.pseudonyms`), never a name or an account id; an assisted entry has no author but
the channel it came from; the desk's note never appears. ``official`` says when the owning department
(``staff``) or the proposing organisation (``proposer``) spoke.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from cocreate.accounts.permissions import Principal
from cocreate.comments import targets
from cocreate.comments.models import Channel, Comment
from cocreate.errors import NotFound
from cocreate.i18n import lazy_gettext as _l
from cocreate.opendata.datasets import Column, Dataset, stream
from cocreate.opendata.pseudonyms import pseudonym


def comment_rows(session: Session) -> Iterator[dict[str, Any]]:
    visitor = Principal.anonymous()
    readable: dict[tuple[str, int], str | None] = {}  # (type, id) -> the target's page, None if not public

    def page_of(target_type: str, target_id: int) -> str | None:
        key = (target_type, target_id)
        if key not in readable:
            try:
                readable[key] = targets.load(session, visitor, target_type, target_id).url
            except NotFound:
                readable[key] = None
        return readable[key]

    statement = (sa.select(Comment.id, Comment)
                 .where(col(Comment.deleted_at).is_(None), col(Comment.hidden_at).is_(None),
                        sa.or_(col(Comment.channel) == Channel.ONLINE.value, col(Comment.consent_at).is_not(None))))
    for _id, comment in stream(session, statement, col(Comment.id)):
        page = page_of(comment.target_type, comment.target_id)
        if page is None:
            continue
        assisted = comment.channel != Channel.ONLINE.value
        yield {
            "id": comment.id, "target_type": comment.target_type, "target_id": comment.target_id,
            "parent_id": comment.parent_id, "author": "" if assisted else pseudonym(comment.author_id),
            "official": comment.official, "channel": comment.channel, "body": comment.body,
            "created_at": comment.created_at, "edited_at": comment.edited_at, "like_count": comment.like_count,
            "url": f"{page}#comment-{comment.id}",
        }


DATASETS = [
    Dataset(
        name="comments", title=_l("Comments"),
        description=_l("Comments on challenges, proposals and residents' voices, as shown on the site. Deleted "
                       "and hidden comments are left out; authors appear as a pseudonym (the same for one person "
                       "across all files), never by name."),
        columns=(
            Column("id", _l("Identifier on this site (stable)."), "integer"),
            Column("target_type", _l("What the comment is on: challenge, proposal or voice.")),
            Column("target_id", _l("The identifier of what it is on (see that dataset)."), "integer"),
            Column("parent_id", _l("The comment it replies to, if any."), "integer"),
            Column("author", _l("A pseudonym of the author (p- and 16 hex digits), the same in every file; "
                                "empty for entries the support desk made for a resident.")),
            Column("official", _l("staff when the department in charge wrote it, proposer when the proposing "
                                  "organisation did, else empty.")),
            Column("channel", _l("How it reached the ward (online, paper, workshop, phone).")),
            Column("body", _l("The comment (Markdown).")),
            Column("created_at", _l("When it was written (UTC)."), "datetime"),
            Column("edited_at", _l("When it was last edited (UTC), if it was."), "datetime"),
            Column("like_count", _l("Number of likes."), "integer"),
            Column("url", _l("Its place on this site."), "url"),
        ),
        rows=comment_rows, keywords=("コメント", "意見", "comments"),
    ),
]
"""The core's open datasets."""
