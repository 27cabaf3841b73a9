"""Site pages and their revisions: each save is a new row, so the history is the table itself."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cocreate.accounts.models import ConsentDocument
from cocreate.db.base import enum_type, timestamp_field
from cocreate.i18n import lazy_gettext as _l


class SitePage(StrEnum):
    """A page every public site has; its value is also its address (``/terms``)."""

    TERMS = "terms"
    PRIVACY = "privacy"
    ABOUT = "about"
    HELP = "help"
    ACCESSIBILITY = "accessibility"
    CONTACT = "contact"


PAGE_LABELS = {
    SitePage.TERMS: _l("Terms of use"),
    SitePage.PRIVACY: _l("Privacy policy"),
    SitePage.ABOUT: _l("About this site"),
    SitePage.HELP: _l("Help"),
    SitePage.ACCESSIBILITY: _l("Accessibility"),
    SitePage.CONTACT: _l("Contact us"),
}

VERSIONED_PAGES: dict[SitePage, ConsentDocument] = {
    SitePage.TERMS: ConsentDocument.TERMS,
    SitePage.PRIVACY: ConsentDocument.PRIVACY,
}
"""Pages people agree to: their revisions carry a version, and a new version asks everyone again."""


class PageRevision(SQLModel, table=True):
    """One saved state of a page in both languages; the newest revision of a page is what it shows.

    Revisions are never changed or deleted. On the terms and the privacy policy every revision carries
    the version it belongs to: a correction keeps the version people agreed to, a revision marked as a
    new version starts one (and everyone is asked to agree again).
    """

    __tablename__ = "page_revision"
    __table_args__ = (
        sa.Index("ix_page_revision_page_id", "page", "id"),
        # One successor per revision: of two editors saving on top of the same text at once, one wins
        # and the other is told, whatever the database's locking does.
        sa.UniqueConstraint("page", "based_on_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    page: SitePage = Field(sa_type=enum_type(SitePage, 20))
    title_ja: str = Field(max_length=100)
    title_en: str = Field(max_length=100)
    body_ja: str = Field(sa_type=sa.Text, description="Markdown.")
    body_en: str = Field(sa_type=sa.Text, description="Markdown.")
    version: str | None = Field(default=None, max_length=20, description="Terms and privacy only.")
    new_version: bool = Field(default=False, nullable=False, description="This revision started its version.")
    note: str = Field(default="", max_length=300, description="What changed, for the history.")
    based_on_id: int | None = Field(default=None, foreign_key="page_revision.id",
                                    description="The revision this one replaced; None for a page's first.")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = timestamp_field()

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_ja

    def body(self, locale: str) -> str:
        return self.body_en if locale == "en" else self.body_ja
