"""What "download my data" holds of the site's pages (listed in the core's manifest): the revisions the person
wrote (administrators only)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from cocreate.accounts.models import User
from cocreate.pages.models import PageRevision


def export_page_revisions(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(PageRevision).where(PageRevision.created_by_id == user.id)
                        .order_by(col(PageRevision.id))).all()
    return [{"id": row.id, "page": row.page, "version": row.version, "title_ja": row.title_ja,
             "title_en": row.title_en, "body_ja": row.body_ja, "body_en": row.body_en, "note": row.note,
             "written_at": row.created_at} for row in rows]
