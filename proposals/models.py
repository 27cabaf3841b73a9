"""Challenges (課題), and later questions, proposals, votes and reviews (comments and reports are the core's:
:mod:`cocreate.comments.models`, :mod:`cocreate.moderation.models`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from cocreate.accounts.models import Department
from cocreate.channels import (
    Channel as VoiceChannel,  # how a voice reached the platform (shared with comments)
)
from cocreate.db.base import TimestampedModel, UTCDateTime, enum_type, utcnow
from cocreate.files.models import StoredFile
from cocreate.i18n import lazy_gettext as _l


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
    vote_limit: int = Field(default=3, nullable=False, description="Votes a resident may give per challenge.")
    votes_require_verified: bool = Field(default=False, nullable=False, description="Only verified residents vote.")
    decisions_published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

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


class ChallengeAttachment(StoredFile, TimestampedModel, table=True):
    """A PDF or image attached to a challenge; the file lives in the upload folder under ``storage_key``."""

    __tablename__ = "challenge_attachment"

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True, ondelete="CASCADE")
    kind: AttachmentKind = Field(sa_type=enum_type(AttachmentKind, 20))
    title: str = Field(default="", max_length=200)
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


# --- proposals (提案) ----------------------------------------------------------------------------


class ProposalStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"


class DecisionOutcome(StrEnum):
    SELECTED = "selected"  # 採択
    NOT_SELECTED = "not_selected"  # 不採択
    ON_HOLD = "on_hold"  # 保留


class Proposal(TimestampedModel, table=True):
    """A solution proposed for a challenge by one organisation or a consortium.

    ``confidential`` is seen only by the challenge's reviewers and owning staff. Counters are kept
    exact by the services under row locks. A decision is private until the challenge's decisions
    are published (``Challenge.decisions_published_at``).
    """

    __tablename__ = "proposal"
    __table_args__ = (
        sa.Index("ix_proposal_challenge_status", "challenge_id", "status", "submitted_at"),
        sa.CheckConstraint("vote_count >= 0", name="vote_count_not_negative"),
        sa.CheckConstraint("cost_estimate_yen IS NULL OR cost_estimate_yen >= 0", name="cost_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", ondelete="CASCADE")
    lead_organisation_id: int = Field(foreign_key="organisation.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    status: ProposalStatus = Field(default=ProposalStatus.DRAFT, sa_type=enum_type(ProposalStatus, 20))
    title: str = Field(max_length=200)
    summary: str = Field(default="", max_length=500)
    description: str = Field(default="", sa_type=sa.Text)
    team: str = Field(default="", sa_type=sa.Text)
    cost_estimate_yen: int | None = Field(default=None, sa_type=sa.BigInteger)
    schedule: str = Field(default="", sa_type=sa.Text)
    test_field_needs: str = Field(default="", sa_type=sa.Text)
    confidential: str = Field(default="", sa_type=sa.Text, description="Reviewers and owning staff only.")
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=0, nullable=False, description="Number of submitted versions.")
    vote_count: int = Field(default=0, nullable=False)
    comment_count: int = Field(default=0, nullable=False)
    report_count: int = Field(default=0, nullable=False)
    hidden_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hidden_reason: str = Field(default="", max_length=500)
    hidden_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    decision: DecisionOutcome | None = Field(default=None, sa_type=enum_type(DecisionOutcome, 20))
    decision_rationale: str = Field(default="", sa_type=sa.Text)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class ProposalOrganisation(SQLModel, table=True):
    """An organisation authoring a proposal; co-authors of a consortium confirm before submission."""

    __tablename__ = "proposal_organisation"

    proposal_id: int = Field(foreign_key="proposal.id", primary_key=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True, index=True)
    is_lead: bool = Field(default=False, nullable=False)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    confirmed_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class ProposalKpi(SQLModel, table=True):
    """A KPI the proposal commits to (trials take these over with baseline and target)."""

    __tablename__ = "proposal_kpi"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0, nullable=False)
    indicator: str = Field(max_length=200)
    baseline: str = Field(default="", max_length=100)
    target: str = Field(max_length=100)
    unit: str = Field(default="", max_length=50)


class ProposalVersion(SQLModel, table=True):
    """Every submitted version, in full (confidential part included), for reviewers' diffs."""

    __tablename__ = "proposal_version"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True, ondelete="CASCADE")
    number: int = Field(nullable=False)
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    submitted_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    content_json: str = Field(sa_type=sa.Text)


class ProposalAttachment(StoredFile, TimestampedModel, table=True):
    """A PDF attached to a proposal (``confidential`` ones follow the confidential part's rules)."""

    __tablename__ = "proposal_attachment"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True, ondelete="CASCADE")
    title: str = Field(default="", max_length=200)
    confidential: bool = Field(default=False, nullable=False)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


# --- votes (応援) --------------------------------------------------------------------------------


class Vote(SQLModel, table=True):
    """A resident's support for a proposal: one per resident per proposal, never shown publicly."""

    __tablename__ = "vote"
    __table_args__ = (
        sa.UniqueConstraint("proposal_id", "user_id"),
        sa.Index("ix_vote_challenge_user", "challenge_id", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", ondelete="CASCADE")
    challenge_id: int = Field(foreign_key="challenge.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


# --- review (審査) --------------------------------------------------------------------------------


class ReviewerAssignment(TimestampedModel, table=True):
    """A reviewer assigned by staff to a challenge."""

    __tablename__ = "reviewer_assignment"
    __table_args__ = (sa.UniqueConstraint("challenge_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="challenge.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    assigned_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class ConflictDeclaration(TimestampedModel, table=True):
    """A reviewer's declaration of a conflict of interest (or none) for one proposal."""

    __tablename__ = "conflict_declaration"

    reviewer_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    proposal_id: int = Field(foreign_key="proposal.id", primary_key=True, index=True, ondelete="CASCADE")
    has_conflict: bool = Field(nullable=False)
    note: str = Field(default="", max_length=1000)


class Review(TimestampedModel, table=True):
    """A reviewer's review of one proposal: a comment and per-criterion scores; private until submitted."""

    __tablename__ = "review"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "reviewer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True, ondelete="CASCADE")
    reviewer_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    comment: str = Field(default="", sa_type=sa.Text)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReviewScore(SQLModel, table=True):
    __tablename__ = "review_score"
    __table_args__ = (sa.CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)

    review_id: int = Field(foreign_key="review.id", primary_key=True, ondelete="CASCADE")
    criterion_id: int = Field(foreign_key="challenge_criterion.id", primary_key=True, ondelete="CASCADE")
    score: int = Field(nullable=False)


# --- residents' voices (まちの声) ----------------------------------------------------------------------


class VoiceStatus(StrEnum):
    """Where a voice stands in the owning department's triage (受付 → 検討中 → 課題化 / 対応済み / 対応しない);
    ``merged`` voices live on in the one they were merged into."""

    RECEIVED = "received"
    CONSIDERING = "considering"
    CHALLENGE = "challenge"
    RESOLVED = "resolved"
    DECLINED = "declined"
    MERGED = "merged"

    @property
    def label(self) -> str:
        return str(VOICE_STATUS_LABELS[self])


VOICE_STATUS_LABELS = {
    VoiceStatus.RECEIVED: _l("Received"),
    VoiceStatus.CONSIDERING: _l("Under consideration"),
    VoiceStatus.CHALLENGE: _l("Became a challenge"),
    VoiceStatus.RESOLVED: _l("Addressed"),
    VoiceStatus.DECLINED: _l("Not taken up"),
    VoiceStatus.MERGED: _l("Merged"),
}


class Voice(TimestampedModel, table=True):
    """A local need, problem or idea a resident raises (まちの声). ``body`` holds Markdown.

    ``area`` is an area slug (the values of :class:`cocreate.areas.Area`)
    or empty. A point on the map is optional (``latitude``/``longitude``, WGS 84). An assisted entry has no
    ``author_id``: ``entered_by_id`` is the support-desk member who typed it, ``channel`` says from what,
    and ``consent_at`` when the resident's consent to publish was recorded. ``department_id`` is the owning
    department (chosen from category and area, reassignable); ``challenge_id`` the challenge the voice is
    linked to or became; ``merged_into_id`` the voice it was merged into (status ``merged``).
    """

    __tablename__ = "voice"
    __table_args__ = (
        sa.Index("ix_voice_status_created", "status", "created_at"),
        sa.CheckConstraint("support_count >= 0", name="support_count_not_negative"),
        sa.CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="point_complete"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=120)
    body: str = Field(sa_type=sa.Text)
    category: Category = Field(sa_type=enum_type(Category), index=True)
    area: str = Field(default="", max_length=40, index=True)
    latitude: float | None = Field(default=None)
    longitude: float | None = Field(default=None)
    address: str = Field(default="", max_length=200)
    status: VoiceStatus = Field(default=VoiceStatus.RECEIVED, sa_type=enum_type(VoiceStatus, 20))
    status_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    channel: VoiceChannel = Field(default=VoiceChannel.ONLINE, sa_type=enum_type(VoiceChannel, 20))
    entered_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    consent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    desk_note: str = Field(default="", max_length=200,
                           description="An assisted entry's private note for the ward (never public).")
    challenge_id: int | None = Field(default=None, foreign_key="challenge.id", index=True, ondelete="SET NULL")
    merged_into_id: int | None = Field(default=None, foreign_key="voice.id", index=True, ondelete="SET NULL")
    support_count: int = Field(default=0, nullable=False, index=True)
    comment_count: int = Field(default=0, nullable=False)
    report_count: int = Field(default=0, nullable=False)
    hidden_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hidden_reason: str = Field(default="", max_length=500)
    hidden_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class VoiceSupport(SQLModel, table=True):
    """One person's support of a voice (one per person; carried over when the voice is merged)."""

    __tablename__ = "voice_support"

    voice_id: int = Field(foreign_key="voice.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", primary_key=True, index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class VoiceUpdate(SQLModel, table=True):
    """One public entry of a voice's trail: a status change (with its reason), a public answer from the
    owning department, a reassignment, a merge or a link to a challenge. Shown on the voice page with its date."""

    __tablename__ = "voice_update"
    __table_args__ = (sa.Index("ix_voice_update_voice_created", "voice_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    voice_id: int = Field(foreign_key="voice.id", ondelete="CASCADE")
    kind: str = Field(max_length=20, description="status, answer, department, merge, link")
    status: VoiceStatus | None = Field(default=None, sa_type=enum_type(VoiceStatus, 20))
    body: str = Field(default="", sa_type=sa.Text, description="The reason or the public answer (Markdown).")
    department_id: int | None = Field(default=None, foreign_key="department.id")
    other_voice_id: int | None = Field(default=None, foreign_key="voice.id", ondelete="SET NULL")
    challenge_id: int | None = Field(default=None, foreign_key="challenge.id", ondelete="SET NULL")
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class VoicePhoto(StoredFile, TimestampedModel, table=True):
    """A photo of a voice, content-checked; its EXIF position is stripped unless ``kept_location``."""

    __tablename__ = "voice_photo"

    id: int | None = Field(default=None, primary_key=True)
    voice_id: int = Field(foreign_key="voice.id", index=True, ondelete="CASCADE")
    alt_text: str = Field(default="", max_length=200)
    kept_location: bool = Field(default=False, nullable=False)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
