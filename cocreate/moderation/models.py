"""Tables of moderation: reports on reportable content (:mod:`cocreate.moderation.targets`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from cocreate.db.base import TimestampedModel, UTCDateTime, enum_type


class ReportReason(StrEnum):
    SPAM = "spam"
    OFFENSIVE = "offensive"
    OFF_TOPIC = "off_topic"
    PERSONAL_INFO = "personal_info"


class Report(TimestampedModel, table=True):
    """Someone signed in reports a proposal or comment; three open reports hide it pending review.

    ``target_type`` is the name of a registered :class:`cocreate.moderation.targets.Reportable`.
    """

    __tablename__ = "report"
    __table_args__ = (
        sa.UniqueConstraint("target_type", "target_id", "reporter_id"),
        sa.Index("ix_report_open", "resolved_at", "target_type", "target_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    target_type: str = Field(max_length=20, description="proposal or comment")
    target_id: int = Field(nullable=False)
    reporter_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    reason: ReportReason = Field(sa_type=enum_type(ReportReason, 20))
    note: str = Field(default="", max_length=1000)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    resolution: str = Field(default="", max_length=20, description="'' open, 'hidden' or 'dismissed'")
