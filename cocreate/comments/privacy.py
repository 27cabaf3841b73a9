"""What "download my data" holds of comments (listed in the core's manifest): the person's own comments."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from cocreate.accounts.models import User
from cocreate.comments.models import Comment


def export_comments(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(Comment).where(Comment.author_id == user.id).order_by(col(Comment.id))).all()
    return [{"id": row.id, "on": row.target_type, "on_id": row.target_id, "reply_to": row.parent_id,
             "body": row.body, "official": row.official, "written_at": row.created_at, "edited_at": row.edited_at,
             "deleted_at": row.deleted_at, "hidden_at": row.hidden_at, "hidden_reason": row.hidden_reason}
            for row in rows]
