"""Follows and in-site notifications.

A notification stores its kind and parameters, not rendered text, so that it is shown in the
reader's language whenever it is read.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

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
        # The digest job's question: who has notifications waiting for a digest?
        sa.Index("ix_notification_digest_pending", "delivery", "digest_id", "user_id"),
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
    delivery: str = Field(default="immediate", max_length=20,
                          description="The e-mail delivery chosen when it was created (a Delivery value).")
    digest_id: int | None = Field(default=None, foreign_key="notification_digest.id", ondelete="SET NULL",
                                  description="The digest that carried it, once sent in one.")


class Delivery(StrEnum):
    """How a user hears of one kind of event by e-mail (the site always lists it)."""

    IMMEDIATE = "immediate"
    """One e-mail per event, right away."""
    DIGEST = "digest"
    """Gathered into one daily e-mail."""
    NONE = "none"
    """No e-mail; the notification is only listed in the site."""


class NotificationPreference(TimestampedModel, table=True):
    """A user's choice of e-mail delivery for one kind of notification; no row means the kind's default."""

    __tablename__ = "notification_preference"
    __table_args__ = (sa.UniqueConstraint("user_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    kind: str = Field(max_length=50)
    delivery: str = Field(max_length=20, description="A Delivery value.")


class NotificationDigest(TimestampedModel, table=True):
    """One daily digest of one user: its row makes a retried digest job send nothing twice."""

    __tablename__ = "notification_digest"
    __table_args__ = (sa.UniqueConstraint("user_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    period: str = Field(max_length=10, description="The Tokyo date the digest covers, YYYY-MM-DD.")
    email_id: int | None = Field(default=None, foreign_key="outbound_email.id", ondelete="SET NULL")
    item_count: int = Field(default=0, nullable=False)
