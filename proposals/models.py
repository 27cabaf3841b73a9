"""Challenges (課題), and later questions, proposals, comments, votes and reviews."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, Relationship

from cocreate.accounts.models import Department
from cocreate.db.base import TimestampedModel, UTCDateTime, enum_type
from cocreate.web.i18n import lazy_gettext as _l


class Phase(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ACCEPTING = "accepting"
    VOTING = "voting"
    REVIEW = "review"
    DECIDED = "decided"
    TRIAL = "trial"
    COMPLETED = "completed"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(PHASE_LABELS[self])


PHASE_LABELS = {
    Phase.DRAFT: _l("Draft"),
    Phase.PUBLISHED: _l("Q&A open"),
    Phase.ACCEPTING: _l("Accepting proposals"),
    Phase.VOTING: _l("Comments and voting"),
    Phase.REVIEW: _l("Under review"),
    Phase.DECIDED: _l("Decided"),
    Phase.TRIAL: _l("Trial running"),
    Phase.COMPLETED: _l("Completed"),
    Phase.CLOSED: _l("Closed without selection"),
}


class Category(StrEnum):
    ENVIRONMENT_ENERGY = "environment_energy"
    DISASTER_SAFETY = "disaster_safety"
    TRANSPORT_MOBILITY = "transport_mobility"
    HEALTH_WELFARE = "health_welfare"
    CHILDCARE_EDUCATION = "childcare_education"
    INDUSTRY_COMMERCE = "industry_commerce"
    ADMIN_DX = "admin_dx"
    URBAN_DEVELOPMENT = "urban_development"

    @property
    def label(self) -> str:
        return str(CATEGORY_LABELS[self])


CATEGORY_LABELS = {
    Category.ENVIRONMENT_ENERGY: _l("Environment and energy"),
    Category.DISASTER_SAFETY: _l("Disaster prevention and safety"),
    Category.TRANSPORT_MOBILITY: _l("Transport and mobility"),
    Category.HEALTH_WELFARE: _l("Health and welfare"),
    Category.CHILDCARE_EDUCATION: _l("Childcare and education"),
    Category.INDUSTRY_COMMERCE: _l("Industry and commerce"),
    Category.ADMIN_DX: _l("Digital administration"),
    Category.URBAN_DEVELOPMENT: _l("Urban development"),
}


class Challenge(TimestampedModel, table=True):
    """A concrete challenge a ward department posts, written as a wish (「…を実現したい」)."""

    __tablename__ = "challenge"
    __table_args__ = (sa.Index("ix_challenge_phase_published_at", "phase", "published_at"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    summary: str = Field(max_length=1000)
    category: Category = Field(sa_type=enum_type(Category), index=True)
    area: str = Field(default="", max_length=100, index=True)
    phase: Phase = Field(default=Phase.DRAFT, sa_type=enum_type(Phase, 20))
    department_id: int = Field(foreign_key="department.id", index=True)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    proposals_close_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    department: Department = Relationship(sa_relationship_kwargs={"lazy": "raise"})
