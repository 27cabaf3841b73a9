"""What "download my data" holds of comments (listed in the core's manifest): the person's own comments, the
comments they liked, and the comments they entered at the support desk for others."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from cocreate.accounts.models import User
from cocreate.comments.models import Comment, CommentLike


def export_comments(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(Comment).where(Comment.author_id == user.id).order_by(col(Comment.id))).all()
    return [{"id": row.id, "on": row.target_type, "on_id": row.target_id, "reply_to": row.parent_id,
             "body": row.body, "official": row.official, "written_at": row.created_at, "edited_at": row.edited_at,
             "deleted_at": row.deleted_at, "hidden_at": row.hidden_at, "hidden_reason": row.hidden_reason}
            for row in rows]


def export_comment_likes(session: Session, user: User) -> list[dict[str, Any]]:
    """The comments the person liked (which comment; its text is its author's)."""
    rows = session.exec(select(CommentLike, Comment.target_type, Comment.target_id)
                        .join(Comment, col(Comment.id) == CommentLike.comment_id)
                        .where(CommentLike.user_id == user.id).order_by(col(CommentLike.comment_id))).all()
    return [{"comment_id": like.comment_id, "on": target_type, "on_id": target_id}
            for like, target_type, target_id in rows]


def export_comments_entered(session: Session, user: User) -> list[dict[str, Any]]:
    """Comments the person typed in at the support desk for someone else (paper, phone, workshop)."""
    rows = session.exec(select(Comment).where(Comment.entered_by_id == user.id).order_by(col(Comment.id))).all()
    return [{"id": row.id, "on": row.target_type, "on_id": row.target_id, "channel": row.channel, "body": row.body,
             "desk_note": row.desk_note, "entered_at": row.created_at} for row in rows]
