"""What "download my data" holds of the opinion analysis (listed in the core's manifest): the runs the person
started or published (staff only)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, or_, select

from cocreate.accounts.models import User
from cocreate.analysis.models import AnalysisRun


def export_analysis_runs(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(AnalysisRun).where(or_(AnalysisRun.created_by_id == user.id,
                                                      AnalysisRun.published_by_id == user.id))
                        .order_by(col(AnalysisRun.id))).all()
    return [{"id": row.id, "source": row.source, "subject_id": row.subject_id, "title": row.title,
             "period_start": row.period_start, "period_end": row.period_end, "status": row.status,
             "started_by_me": row.created_by_id == user.id, "published_by_me": row.published_by_id == user.id,
             "started_at": row.created_at, "finished_at": row.finished_at, "published_at": row.published_at}
            for row in rows]
