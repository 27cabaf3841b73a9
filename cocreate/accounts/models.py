from __future__ import annotations

from sqlmodel import Field

from cocreate.db.base import TimestampedModel
from cocreate.web.i18n import get_locale


class Department(TimestampedModel, table=True):
    """A ward department (部署): a division (部) and section (課), named in both languages."""

    __tablename__ = "department"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, description="Stable identifier, e.g. 'env-policy'.")
    division_ja: str = Field(max_length=100)
    section_ja: str = Field(max_length=100)
    division_en: str = Field(max_length=150)
    section_en: str = Field(max_length=150)

    def display_name(self, locale: str | None = None) -> str:
        if (locale or get_locale()) == "en":
            return f"{self.section_en}, {self.division_en}"
        return f"{self.division_ja} {self.section_ja}"
