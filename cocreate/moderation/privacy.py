"""What "download my data" holds of moderation (listed in the core's manifest): the reports the person made.
What moderators did (``resolved_by_id``, ``hidden_by_id``) is their act on someone else's content, not this
person's data; the audit log keeps it."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from cocreate.accounts.models import User
from cocreate.moderation.models import Report


def export_reports(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(Report).where(Report.reporter_id == user.id).order_by(col(Report.id))).all()
    return [{"id": row.id, "on": row.target_type, "on_id": row.target_id, "reason": row.reason, "note": row.note,
             "reported_at": row.created_at, "resolved_at": row.resolved_at, "resolution": row.resolution}
            for row in rows]
