"""Challenges (課題), and later questions, proposals, comments, votes and reviews."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from cocreate.accounts.models import Department
from cocreate.db.base import TimestampedModel, UTCDateTime, enum_type, utcnow
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
    """A concrete challenge a ward department posts, written as a wish (「…を実現したい」).

    ``department_id`` is the lead department; co-owners (the lead included) are in
    :class:`ChallengeDepartment`. Long fields hold Markdown. ``next_transition_at`` is the earliest
    scheduled phase start still ahead, kept up to date by the services so that the beat job finds
    due challenges with one indexed query.
    """

    __tablename__ = "challenge"
    __table_args__ = (
        sa.Index("ix_challenge_phase_published_at", "phase", "published_at"),
        sa.CheckConstraint("budget_cap_yen IS NULL OR budget_cap_yen >= 0", name="budget_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    summary: str = Field(max_length=1000)
    category: Category = Field(sa_type=enum_type(Category), index=True)
    area: str = Field(default="", max_length=100, index=True)
    phase: Phase = Field(default=Phase.DRAFT, sa_type=enum_type(Phase, 20))
    department_id: int = Field(foreign_key="department.id", index=True)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    proposals_close_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)

    contact_name: str = Field(default="", max_length=100)
    contact_email: str = Field(default="", max_length=320)
    contact_phone: str = Field(default="", max_length=40)
    background: str = Field(default="", sa_type=sa.Text)
    current_situation: str = Field(default="", sa_type=sa.Text)
    desired_outcome: str = Field(default="", sa_type=sa.Text)
    constraints: str = Field(default="", sa_type=sa.Text)
    eligibility: str = Field(default="", sa_type=sa.Text)
    budget_cap_yen: int | None = Field(default=None, sa_type=sa.BigInteger)
    support_facilities: str = Field(default="", sa_type=sa.Text)
    support_data: str = Field(default="", sa_type=sa.Text)
    support_other: str = Field(default="", sa_type=sa.Text)

    phase_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_transition_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    closed_reason: str = Field(default="", max_length=2000)
    revision: int = Field(default=0, nullable=False, description="Number of published edits.")
    proposal_count: int = Field(default=0, nullable=False, index=True, description="Submitted proposals.")
    question_count: int = Field(default=0, nullable=False, description="Public questions.")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")

    department: Department = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class ChallengeDepartment(SQLModel, table=True):
    """A department that owns a challenge (several may co-own one; the lead is one of them)."""

    __tablename__ = "challenge_department"

    challenge_id: int = Field(foreign_key="challenge.id", primary_key=True, ondelete="CASCADE")
    department_id: int = Field(foreign_key="department.id", primary_key=True, index=True)


class ChallengePhaseDate(SQLModel, table=True):
    """When a phase of a challenge starts (its planned date; the timeline shows these)."""

    __tablename__ = "challenge_phase_date"

    challenge_id: int = Field(foreign_key="challenge.id", primary_key=True, ondelete="CASCADE")
    phase: Phase = Field(sa_type=enum_type(Phase, 20), primary_key=True)
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class PhaseChange(SQLModel, table=True):
    """Every phase change: by the schedule (``changed_by_id`` None) or by staff with a reason."""

    __tablename__ = "challenge_phase_change"

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True, ondelete="CASCADE")
    from_phase: Phase = Field(sa_type=enum_type(Phase, 20))
    to_phase: Phase = Field(sa_type=enum_type(Phase, 20))
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    changed_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    reason: str = Field(default="", max_length=2000)


class ChallengeCriterion(SQLModel, table=True):
    """An evaluation criterion with its weight; a challenge's weights sum to 100."""

    __tablename__ = "challenge_criterion"
    __table_args__ = (sa.CheckConstraint("weight >= 0 AND weight <= 100", name="weight_range"),)

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0, nullable=False)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    weight: int = Field(nullable=False)


class ChallengeKpi(SQLModel, table=True):
    """A KPI target: indicator, baseline, target and unit (free text, as the ward writes them)."""

    __tablename__ = "challenge_kpi"

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0, nullable=False)
    indicator: str = Field(max_length=200)
    baseline: str = Field(default="", max_length=100)
    target: str = Field(max_length=100)
    unit: str = Field(default="", max_length=50)


class AttachmentKind(StrEnum):
    DOCUMENT = "document"
    IMAGE = "image"
    COVER = "cover"


class ChallengeAttachment(TimestampedModel, table=True):
    """A PDF or image attached to a challenge; the file lives in the upload folder under ``storage_key``."""

    __tablename__ = "challenge_attachment"

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True, ondelete="CASCADE")
    kind: AttachmentKind = Field(sa_type=enum_type(AttachmentKind, 20))
    title: str = Field(default="", max_length=200)
    filename: str = Field(max_length=255, description="The name it was uploaded with (display only).")
    content_type: str = Field(max_length=100, description="Detected from the content, not the name.")
    size_bytes: int = Field(nullable=False)
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=200, unique=True)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class ChallengeRevision(SQLModel, table=True):
    """What an edit after publication changed (field -> [before, after]); shown publicly."""

    __tablename__ = "challenge_revision"
    __table_args__ = (sa.UniqueConstraint("challenge_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True, ondelete="CASCADE")
    number: int = Field(nullable=False)
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    changed_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    changes_json: str = Field(sa_type=sa.Text, description="JSON object: field -> [before, after].")
    note: str = Field(default="", max_length=500)


# --- dialogue (質疑応答) ---------------------------------------------------------------------------


class QuestionVisibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"  # asker hidden; the answer is published without the asker's identity


class QuestionStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    MERGED = "merged"
    HIDDEN = "hidden"


class Question(TimestampedModel, table=True):
    """A question on a published challenge and the ward's answer."""

    __tablename__ = "challenge_question"
    __table_args__ = (sa.Index("ix_challenge_question_challenge_status", "challenge_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", ondelete="CASCADE")
    asker_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", ondelete="SET NULL")
    visibility: QuestionVisibility = Field(sa_type=enum_type(QuestionVisibility, 20))
    status: QuestionStatus = Field(default=QuestionStatus.OPEN, sa_type=enum_type(QuestionStatus, 20))
    body: str = Field(sa_type=sa.Text)
    answer: str = Field(default="", sa_type=sa.Text)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    answer_department_id: int | None = Field(default=None, foreign_key="department.id")
    pinned: bool = Field(default=False, nullable=False)
    merged_into_id: int | None = Field(default=None, foreign_key="challenge_question.id", ondelete="SET NULL")
    hidden_reason: str = Field(default="", max_length=500)


# --- briefing sessions (説明会) -------------------------------------------------------------------


class BriefingSession(TimestampedModel, table=True):
    """A briefing on a challenge, in a place or online, with a capacity."""

    __tablename__ = "briefing_session"
    __table_args__ = (
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
        sa.CheckConstraint("registered_count >= 0 AND registered_count <= capacity", name="within_capacity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True, ondelete="CASCADE")
    title: str = Field(default="", max_length=200)
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    place: str = Field(default="", max_length=300)
    online_url: str = Field(default="", max_length=500)
    capacity: int = Field(nullable=False)
    registered_count: int = Field(default=0, nullable=False, description="Kept under a row lock.")
    notes: str = Field(default="", sa_type=sa.Text)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BriefingRegistration(TimestampedModel, table=True):
    """A user's place at a briefing session; cancelling frees it."""

    __tablename__ = "briefing_registration"
    __table_args__ = (sa.UniqueConstraint("session_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="briefing_session.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
