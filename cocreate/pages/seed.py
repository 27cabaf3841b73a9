"""The first revision of every site page, from the Markdown files in ``seed/`` (``<page>.<locale>.md``).

Each file starts with a ``title: …`` line and a blank line; the rest is the page's Markdown. The
migration that creates the pages table writes these revisions, so a new site has every page from its
first start; the terms and the privacy policy start at version :data:`FIRST_VERSION`, the version
every consent recorded before the pages existed refers to.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from cocreate.db.base import utcnow
from cocreate.i18n import WARD_TIMEZONE
from cocreate.pages.models import VERSIONED_PAGES, PageRevision, SitePage

SEED_DIR = Path(__file__).resolve().parent / "seed"
FIRST_VERSION = "2026-11"
FIRST_VERSION_PUBLISHED = datetime(2026, 11, 1, tzinfo=WARD_TIMEZONE)
"""When version 2026-11 took effect: what the terms and the privacy policy say, and what consents since refer to."""
FIRST_NOTE = ""


def _read(page: SitePage, locale: str) -> tuple[str, str]:
    text = (SEED_DIR / f"{page.value}.{locale}.md").read_text(encoding="utf-8")
    first, _, body = text.partition("\n")
    if not first.startswith("title:"):
        raise ValueError(f"{page.value}.{locale}.md must start with a 'title:' line")
    return first.removeprefix("title:").strip(), body.strip()


def seed_rows() -> list[dict[str, Any]]:
    """One row per page: both languages, and the first version where the page is versioned."""
    rows = []
    now = utcnow()
    for page in SitePage:
        title_ja, body_ja = _read(page, "ja")
        title_en, body_en = _read(page, "en")
        versioned = page in VERSIONED_PAGES
        rows.append({"page": page.value, "title_ja": title_ja, "title_en": title_en, "body_ja": body_ja,
                     "body_en": body_en, "version": FIRST_VERSION if versioned else None,
                     "new_version": versioned, "note": FIRST_NOTE, "created_by_id": None,
                     "created_at": FIRST_VERSION_PUBLISHED if versioned else now})
    return rows


def seed_missing(connection: sa.Connection) -> int:
    """Write the first revision of every page that has none; how many were written."""
    present = set(connection.execute(sa.select(PageRevision.page).distinct()).scalars())  # type: ignore[call-overload]
    rows = [row for row in seed_rows() if SitePage(row["page"]) not in present]
    if rows:
        connection.execute(sa.insert(PageRevision.__table__), rows)  # type: ignore[attr-defined]
    return len(rows)
