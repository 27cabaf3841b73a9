"""Tables of comments: a comment on any commentable target (:mod:`cocreate.comments.targets`) and its likes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cocreate.channels import CHANNEL_LABELS, Channel  # noqa: F401 (re-exported: cocreate.comments.models.Channel)
from cocreate.db.base import TimestampedModel, UTCDateTime


class Comment(TimestampedModel, table=True):
    """A comment on a commentable target (a challenge or a proposal); replies go one level down (depth 0 or 1).

    ``target_type`` is the name of a registered :class:`cocreate.comments.targets.CommentTarget`.
    ``official`` marks the voice of the owning department or the proposing organisation. An assisted entry
    (代理入力) has no ``author_id``: ``entered_by_id`` is the support-desk member who typed it, ``channel`` says
    from what (shown publicly instead of an author), ``consent_at`` when the resident's consent to publish was
    recorded and ``desk_note`` a private note for the ward (e.g. the paper form's number), never public.
    """

    __tablename__ = "comment"
    __table_args__ = (
        sa.Index("ix_comment_target_thread", "target_type", "target_id", "parent_id", "created_at"),
        sa.CheckConstraint("depth IN (0, 1)", name="depth_limit"),
        sa.CheckConstraint("like_count >= 0", name="like_count_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    target_type: str = Field(max_length=20, description="challenge or proposal")
    target_id: int = Field(nullable=False)
    parent_id: int | None = Field(default=None, foreign_key="comment.id", index=True, ondelete="CASCADE")
    depth: int = Field(default=0, nullable=False)
    author_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    body: str = Field(sa_type=sa.Text)
    official: str = Field(default="", max_length=20, description="'' or 'staff' or 'proposer'")
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    like_count: int = Field(default=0, nullable=False)
    reply_count: int = Field(default=0, nullable=False)
    report_count: int = Field(default=0, nullable=False)
    hidden_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hidden_reason: str = Field(default="", max_length=500)
    hidden_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    channel: str = Field(default=Channel.ONLINE.value, max_length=20)
    entered_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    consent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    desk_note: str = Field(default="", max_length=200)

    @property
    def is_assisted(self) -> bool:
        return self.channel != Channel.ONLINE.value


class CommentLike(SQLModel, table=True):
    __tablename__ = "comment_like"

    comment_id: int = Field(foreign_key="comment.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", primary_key=True, index=True, ondelete="CASCADE")
