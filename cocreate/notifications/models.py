"""Follows and in-site notifications.

A notification stores its kind and parameters, not rendered text, so that it is shown in the
reader's language whenever it is read.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from cocreate.db.base import TimestampedModel, UTCDateTime


class Follow(TimestampedModel, table=True):
    """A user follows something: ``target_type`` is e.g. "challenge", "proposal", "trial", "field"."""

    __tablename__ = "follow"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "target_type", "target_id"),
        sa.Index("ix_follow_target", "target_type", "target_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    target_type: str = Field(max_length=30)
    target_id: int = Field(nullable=False)


class Notification(TimestampedModel, table=True):
    """Something a user should know about, listed in the site until read."""

    __tablename__ = "notification"
    __table_args__ = (
        sa.Index("ix_notification_user_unread", "user_id", "read_at", "id"),
        sa.UniqueConstraint("user_id", "event_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    kind: str = Field(max_length=50, description="e.g. question.answered")
    target_type: str = Field(max_length=30)
    target_id: int = Field(nullable=False)
    params_json: str = Field(default="{}", sa_type=sa.Text, description="Values for the message template.")
    url: str = Field(max_length=500)
    event_key: str = Field(max_length=200, description="Unique per user: one notification per event.")
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
