"""The statistics snapshot: what the refresh task computed, read by the pages in one query."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cocreate.db.base import UTCDateTime


class StatsSnapshot(SQLModel, table=True):
    """The latest statistics of one audience (``public`` or ``staff``) as JSON, and when they were computed.

    Public snapshots hold public numbers only, small counts of profile groups already suppressed: the page,
    its CSV downloads and the open dataset show them as they are."""

    __tablename__ = "stats_snapshot"

    scope: str = Field(primary_key=True, max_length=20)
    computed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    data: str = Field(sa_type=sa.Text, description="JSON (see cocreate.stats.compute).")
