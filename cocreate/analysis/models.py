"""Tables of the opinion analysis: one run over a subject's texts, and the topics it found."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from cocreate.db.base import TimestampedModel, UTCDateTime, enum_type
from cocreate.i18n import lazy_gettext as _l


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return str(RUN_STATUS_LABELS[self])


RUN_STATUS_LABELS = {
    RunStatus.QUEUED: _l("Waiting to start"),
    RunStatus.RUNNING: _l("Analysing"),
    RunStatus.DONE: _l("Ready for review"),
    RunStatus.FAILED: _l("Failed"),
}


class AnalysisRun(TimestampedModel, table=True):
    """One analysis of one subject (a source's ``subject_id``, or a period for sources scoped by dates).

    ``title`` is the subject's title when the run started; the run is public once ``published_at`` is set.
    """

    __tablename__ = "analysis_run"
    __table_args__ = (sa.Index("ix_analysis_run_subject", "source", "subject_id", "published_at"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=30)
    subject_id: int | None = Field(default=None)
    period_start: date | None = Field(default=None)
    period_end: date | None = Field(default=None)
    title: str = Field(default="", max_length=300)
    status: RunStatus = Field(default=RunStatus.QUEUED, sa_type=enum_type(RunStatus, 20))
    progress: int = Field(default=0, nullable=False)
    stage: str = Field(default="", max_length=20)
    text_count: int = Field(default=0, nullable=False)
    unassigned_count: int = Field(default=0, nullable=False)
    method: str = Field(default="", max_length=60)
    error: str = Field(default="", max_length=500)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class AnalysisTopic(TimestampedModel, table=True):
    """A topic of a run: its label (the characteristic words until staff rename it), words, size and quotes."""

    __tablename__ = "analysis_topic"
    __table_args__ = (sa.Index("ix_analysis_topic_run_position", "run_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="analysis_run.id", ondelete="CASCADE")
    position: int = Field(default=0, nullable=False)
    label: str = Field(default="", max_length=200)
    words: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    quotes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    quote_refs: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    """Where each quote comes from (its source's :attr:`~cocreate.analysis.sources.Opinion.ref`), in order."""
    size: int = Field(default=0, nullable=False)
