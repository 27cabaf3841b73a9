"""Living labs: test fields (実証フィールド), bookings (利用申請), trials (実証プロジェクト),
resident notices (周辺住民への周知) and participant recruitment (モニター募集).

Times are stored in UTC; weekly bookable hours are minutes after local midnight (Asia/Tokyo),
because a field opening "Mon–Fri 9:00–17:00" means local time whatever the season.

No double booking: every period of an approved (or completed) booking keeps ``blocks`` true and ``blocked_until``
= end + the field's buffer, so two blocking periods of one field must not overlap as half-open
ranges ``[starts_at, blocked_until)``. The services check this under a lock on the field row; on
PostgreSQL an exclusion constraint (``booking_period_no_overlap``, created by the migration, see
:data:`EXCLUSION_CONSTRAINT_DDL`) makes it impossible even for code that forgets to.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cocreate.areas import AREA_LABELS, Area  # noqa: F401 (re-exported: labs.models.Area)
from cocreate.db.base import TimestampedModel, UTCDateTime, enum_type, utcnow
from cocreate.files.models import StoredFile
from cocreate.i18n import lazy_gettext as _l

LOCAL_TIMEZONE = "Asia/Tokyo"


class FieldKind(StrEnum):
    ROAD = "road"
    PARK = "park"
    FACILITY = "facility"
    INDOOR = "indoor"
    SENSOR_NETWORK = "sensor_network"

    @property
    def label(self) -> str:
        return str(FIELD_KIND_LABELS[self])


FIELD_KIND_LABELS = {
    FieldKind.ROAD: _l("Road"),
    FieldKind.PARK: _l("Park"),
    FieldKind.FACILITY: _l("Facility"),
    FieldKind.INDOOR: _l("Indoor space"),
    FieldKind.SENSOR_NETWORK: _l("Sensor network"),
}


class DocumentKind(StrEnum):
    """Documents a field may require with a booking request (chosen per field)."""

    SAFETY_PLAN = "safety_plan"
    INSURANCE = "insurance"
    ROAD_USE_PERMIT = "road_use_permit"  # 道路使用許可
    DRONE_FLIGHT_PLAN = "drone_flight_plan"
    PRIVACY_IMPACT = "privacy_impact"

    @property
    def label(self) -> str:
        return str(DOCUMENT_KIND_LABELS[self])


DOCUMENT_KIND_LABELS = {
    DocumentKind.SAFETY_PLAN: _l("Safety plan"),
    DocumentKind.INSURANCE: _l("Insurance certificate"),
    DocumentKind.ROAD_USE_PERMIT: _l("Road use permit (道路使用許可)"),
    DocumentKind.DRONE_FLIGHT_PLAN: _l("Drone flight plan"),
    DocumentKind.PRIVACY_IMPACT: _l("Privacy impact assessment"),
}


# --- test fields ---------------------------------------------------------------------------------


class TestField(TimestampedModel, table=True):
    """A place where companies try technology with residents. Long texts hold Markdown.

    Only ``published`` fields are shown to the public, in the API and in feeds. Booking rules are
    in minutes/hours/days as named; None means "no limit" for the maxima.
    """

    __tablename__ = "test_field"
    __table_args__ = (
        sa.Index("ix_test_field_published_kind", "published", "kind"),
        sa.CheckConstraint("min_booking_minutes > 0", name="min_booking_positive"),
        sa.CheckConstraint("max_booking_minutes IS NULL OR max_booking_minutes >= min_booking_minutes",
                           name="max_booking_not_below_min"),
        sa.CheckConstraint("buffer_minutes >= 0", name="buffer_not_negative"),
        sa.CheckConstraint("min_notice_hours >= 0", name="min_notice_not_negative"),
        sa.CheckConstraint("max_notice_days IS NULL OR max_notice_days > 0", name="max_notice_positive"),
        sa.CheckConstraint("latitude IS NULL OR (latitude >= -90 AND latitude <= 90)", name="latitude_range"),
        sa.CheckConstraint("longitude IS NULL OR (longitude >= -180 AND longitude <= 180)", name="longitude_range"),
    )
    __test__ = False  # not a pytest test class, whatever its name

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    kind: FieldKind = Field(sa_type=enum_type(FieldKind, 20))
    area: Area = Field(sa_type=enum_type(Area, 20), index=True)
    address: str = Field(max_length=300)
    latitude: float | None = Field(default=None)
    longitude: float | None = Field(default=None)
    summary: str = Field(default="", max_length=500)
    description: str = Field(default="", sa_type=sa.Text)
    rules: str = Field(default="", sa_type=sa.Text, description="Rules of use (Markdown).")
    cancellation_rule: str = Field(default="", sa_type=sa.Text, description="Shown when an organisation cancels.")
    contact: str = Field(default="", max_length=500, description="Public contact for residents' notices.")
    capacity: int | None = Field(default=None, description="Most people on the field at once.")
    min_booking_minutes: int = Field(default=60, nullable=False)
    max_booking_minutes: int | None = Field(default=None)
    buffer_minutes: int = Field(default=0, nullable=False, description="Free time required after a booking.")
    min_notice_hours: int = Field(default=0, nullable=False, description="Request at least this long ahead.")
    max_notice_days: int | None = Field(default=None, description="Request at most this far ahead.")
    approval_required: bool = Field(default=True, nullable=False,
                                    description="False: a valid submitted request is approved at once.")
    published: bool = Field(default=False, nullable=False)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True, ondelete="SET NULL")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class TestFieldCoordinator(SQLModel, table=True):
    """A coordinator responsible for a field: reviews its bookings, gets its requests notified."""

    __tablename__ = "test_field_coordinator"
    __test__ = False

    field_id: int = Field(foreign_key="test_field.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", primary_key=True, index=True, ondelete="CASCADE")


class TestFieldHours(SQLModel, table=True):
    """One bookable window of a weekday (0 = Monday), in minutes after local midnight."""

    __tablename__ = "test_field_hours"
    __table_args__ = (
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        sa.CheckConstraint("opens_minute >= 0 AND closes_minute <= 1440 AND opens_minute < closes_minute",
                           name="window_valid"),
    )
    __test__ = False

    id: int | None = Field(default=None, primary_key=True)
    field_id: int = Field(foreign_key="test_field.id", index=True, ondelete="CASCADE")
    weekday: int = Field(nullable=False)
    opens_minute: int = Field(nullable=False)
    closes_minute: int = Field(nullable=False)


class TestFieldRequirement(SQLModel, table=True):
    """A document the field requires with every booking request."""

    __tablename__ = "test_field_requirement"
    __test__ = False

    field_id: int = Field(foreign_key="test_field.id", primary_key=True, ondelete="CASCADE")
    document: DocumentKind = Field(sa_type=enum_type(DocumentKind, 30), primary_key=True)


class Blackout(TimestampedModel, table=True):
    """A period when a field cannot be booked (festival, maintenance), with its reason."""

    __tablename__ = "test_field_blackout"
    __table_args__ = (
        sa.Index("ix_test_field_blackout_field_time", "field_id", "starts_at", "ends_at"),
        sa.CheckConstraint("starts_at < ends_at", name="period_valid"),
    )

    id: int | None = Field(default=None, primary_key=True)
    field_id: int = Field(foreign_key="test_field.id", ondelete="CASCADE")
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    reason: str = Field(max_length=200)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class TestFieldPhoto(StoredFile, TimestampedModel, table=True):
    """A photo of a field (PNG/JPEG/GIF/WebP checked by content; see cocreate.files)."""

    __tablename__ = "test_field_photo"
    __test__ = False

    id: int | None = Field(default=None, primary_key=True)
    field_id: int = Field(foreign_key="test_field.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0, nullable=False)
    alt_text: str = Field(max_length=200)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


# --- bookings ------------------------------------------------------------------------------------


class BookingStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    COMPLETED = "completed"

    @property
    def label(self) -> str:
        return str(BOOKING_STATUS_LABELS[self])


BOOKING_STATUS_LABELS = {
    BookingStatus.DRAFT: _l("Draft"),
    BookingStatus.SUBMITTED: _l("Request submitted"),
    BookingStatus.UNDER_REVIEW: _l("Under review"),
    BookingStatus.CHANGES_REQUESTED: _l("Changes requested"),
    BookingStatus.APPROVED: _l("Approved"),
    BookingStatus.REJECTED: _l("Not approved"),
    BookingStatus.CANCELLED: _l("Cancelled"),
    BookingStatus.COMPLETED: _l("Completed"),
}


class Booking(TimestampedModel, table=True):
    """A request by an organisation to use a field for one or more periods.

    ``purpose``, ``equipment`` and the documents are private to the organisation and the field's
    coordinators; ``public_description`` is what residents read on the notice page ("what will
    happen"). ``revision`` rises each time an approved booking changes, so every change has its
    own notice event.
    """

    __tablename__ = "booking"
    __table_args__ = (
        sa.Index("ix_booking_field_status", "field_id", "status"),
        sa.Index("ix_booking_organisation_status", "organisation_id", "status"),
        sa.Index("ix_booking_status_submitted", "status", "submitted_at"),
        sa.CheckConstraint("expected_people IS NULL OR expected_people >= 0", name="people_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    field_id: int = Field(foreign_key="test_field.id", ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id")
    trial_id: int | None = Field(default=None, foreign_key="trial.id", index=True, ondelete="SET NULL")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    status: BookingStatus = Field(default=BookingStatus.DRAFT, sa_type=enum_type(BookingStatus, 20))
    title: str = Field(max_length=200, description="Public: shown in calendars and notices.")
    purpose: str = Field(default="", sa_type=sa.Text)
    public_description: str = Field(default="", sa_type=sa.Text, description="What residents will see happen.")
    expected_people: int | None = Field(default=None)
    equipment: str = Field(default="", sa_type=sa.Text)
    review_note: str = Field(default="", sa_type=sa.Text, description="The coordinator's last message.")
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_reason: str = Field(default="", max_length=2000)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revision: int = Field(default=0, nullable=False)


class BookingPeriod(SQLModel, table=True):
    """One period of a booking. ``field_id`` is copied from the booking for the overlap constraint.

    ``blocks`` is true while the booking is approved, and stays true once it is completed (its time has
    passed); cancelling releases it. ``blocked_until`` is ``ends_at`` plus the field's buffer at approval time.
    """

    __tablename__ = "booking_period"
    __table_args__ = (
        sa.Index("ix_booking_period_field_time", "field_id", "starts_at", "ends_at"),
        sa.Index("ix_booking_period_blocking", "field_id", "blocks", "starts_at"),
        sa.CheckConstraint("starts_at < ends_at", name="period_valid"),
        sa.CheckConstraint("blocked_until >= ends_at", name="blocked_after_end"),
    )

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="booking.id", index=True, ondelete="CASCADE")
    field_id: int = Field(foreign_key="test_field.id", ondelete="CASCADE")
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    blocked_until: datetime = Field(sa_type=UTCDateTime, nullable=False)
    blocks: bool = Field(default=False, nullable=False)


EXCLUSION_CONSTRAINT_DDL = (
    "ALTER TABLE booking_period ADD CONSTRAINT booking_period_no_overlap "
    "EXCLUDE USING gist (field_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&) WHERE (blocks)"
)
"""PostgreSQL only (needs the btree_gist extension); SQLite relies on the services' locked check."""


class BookingDocument(StoredFile, TimestampedModel, table=True):
    """A document uploaded with a booking request (PDF or image, checked by content). Private."""

    __tablename__ = "booking_document"

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="booking.id", index=True, ondelete="CASCADE")
    document: DocumentKind = Field(sa_type=enum_type(DocumentKind, 30))
    uploaded_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class BookingEvent(SQLModel, table=True):
    """The booking's history: every state change, who made it and the note given."""

    __tablename__ = "booking_event"

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="booking.id", index=True, ondelete="CASCADE")
    from_status: BookingStatus | None = Field(default=None, sa_type=enum_type(BookingStatus, 20))
    to_status: BookingStatus = Field(sa_type=enum_type(BookingStatus, 20))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    note: str = Field(default="", sa_type=sa.Text)


# --- resident notices ----------------------------------------------------------------------------


class NoticeKind(StrEnum):
    APPROVED = "approved"
    CHANGED = "changed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(NOTICE_KIND_LABELS[self])


NOTICE_KIND_LABELS = {
    NoticeKind.APPROVED: _l("New activity"),
    NoticeKind.CHANGED: _l("Changed"),
    NoticeKind.CANCELLED: _l("Cancelled"),
}


class BookingNotice(TimestampedModel, table=True):
    """One event residents near a field are told about; sent by a Celery task, once per subscriber.

    Subscribers are residents following the field (``Follow`` target "test_field") or its area
    (target "area", id :attr:`Area.number`). ``sent_at`` is set when the task has notified everyone.
    """

    __tablename__ = "booking_notice"
    __table_args__ = (sa.UniqueConstraint("booking_id", "kind", "revision"),)

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="booking.id", index=True, ondelete="CASCADE")
    kind: NoticeKind = Field(sa_type=enum_type(NoticeKind, 20))
    revision: int = Field(default=0, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recipient_count: int = Field(default=0, nullable=False)


# --- trials --------------------------------------------------------------------------------------


class TrialStatus(StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    COMPLETED = "completed"

    @property
    def label(self) -> str:
        return str(TRIAL_STATUS_LABELS[self])


TRIAL_STATUS_LABELS = {
    TrialStatus.PLANNED: _l("Planned"),
    TrialStatus.RUNNING: _l("Running"),
    TrialStatus.COMPLETED: _l("Completed"),
}


class Trial(TimestampedModel, table=True):
    """A trial (実証プロジェクト): from a selected proposal, or run by the ward itself.

    ``results`` is the final report (Markdown), public once ``results_published_at`` is set.
    Participants' personal data is deleted ``participant_data_retention_days`` after ``ends_on``.
    """

    __tablename__ = "trial"
    __table_args__ = (sa.Index("ix_trial_published_status", "published", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int | None = Field(default=None, foreign_key="proposal.id", unique=True, ondelete="SET NULL")
    challenge_id: int | None = Field(default=None, foreign_key="challenge.id", index=True, ondelete="SET NULL")
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True, ondelete="SET NULL")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    title: str = Field(max_length=200)
    summary: str = Field(default="", max_length=500)
    description: str = Field(default="", sa_type=sa.Text)
    status: TrialStatus = Field(default=TrialStatus.PLANNED, sa_type=enum_type(TrialStatus, 20))
    starts_on: date | None = Field(default=None)
    ends_on: date | None = Field(default=None, index=True)
    published: bool = Field(default=False, nullable=False)
    results: str = Field(default="", sa_type=sa.Text)
    results_published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    participant_data_retention_days: int = Field(default=90, nullable=False)
    participant_data_deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TrialOrganisation(SQLModel, table=True):
    """An organisation running the trial (the proposal's authors, or chosen by a coordinator)."""

    __tablename__ = "trial_organisation"

    trial_id: int = Field(foreign_key="trial.id", primary_key=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True, index=True)
    is_lead: bool = Field(default=False, nullable=False)


class TrialKpi(SQLModel, table=True):
    """A KPI of the trial (taken over from the proposal): baseline, target, and the result at the end."""

    __tablename__ = "trial_kpi"

    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0, nullable=False)
    indicator: str = Field(max_length=200)
    unit: str = Field(default="", max_length=50)
    baseline: str = Field(default="", max_length=100)
    target: str = Field(default="", max_length=100)
    result: str = Field(default="", max_length=100)
    result_note: str = Field(default="", max_length=2000)
    baseline_value: float | None = Field(default=None, description="The baseline as a number, for charts.")
    target_value: float | None = Field(default=None, description="The target as a number, for charts.")


class KpiMeasurementStatus(StrEnum):
    SUBMITTED = "submitted"
    """Entered by the trial's organisation, waiting for the owning department."""
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class TrialKpiMeasurement(TimestampedModel, table=True):
    """A dated measurement of a trial's KPI: entered by the trial's organisation, confirmed (or sent back with
    a reason) by the department that owns the trial's challenge. Confirmed measurements are public."""

    __tablename__ = "trial_kpi_measurement"
    __table_args__ = (sa.Index("ix_trial_kpi_measurement_kpi_date", "kpi_id", "measured_on", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    kpi_id: int = Field(foreign_key="trial_kpi.id", ondelete="CASCADE")
    measured_on: date = Field(nullable=False)
    value: float = Field(nullable=False)
    note: str = Field(default="", max_length=1000)
    status: KpiMeasurementStatus = Field(default=KpiMeasurementStatus.SUBMITTED,
                                         sa_type=enum_type(KpiMeasurementStatus, 20))
    entered_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    reviewed_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    review_reason: str = Field(default="", max_length=1000)


class TrialUpdate(TimestampedModel, table=True):
    """A dated progress post (Markdown) on a trial."""

    __tablename__ = "trial_update"
    __table_args__ = (sa.Index("ix_trial_update_trial_posted", "trial_id", "posted_on", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", ondelete="CASCADE")
    posted_on: date = Field(nullable=False)
    title: str = Field(max_length=200)
    body: str = Field(default="", sa_type=sa.Text)
    author_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class TrialUpdatePhoto(StoredFile, TimestampedModel, table=True):
    """A photo in a progress post."""

    __tablename__ = "trial_update_photo"

    id: int | None = Field(default=None, primary_key=True)
    update_id: int = Field(foreign_key="trial_update.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0, nullable=False)
    alt_text: str = Field(max_length=200)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


# --- participant recruitment ---------------------------------------------------------------------


class RecruitmentStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(RECRUITMENT_STATUS_LABELS[self])


RECRUITMENT_STATUS_LABELS = {
    RecruitmentStatus.DRAFT: _l("Draft"),
    RecruitmentStatus.OPEN: _l("Open for applications"),
    RecruitmentStatus.CLOSED: _l("Closed"),
}


class RecruitmentCall(TimestampedModel, table=True):
    """A call for participants (モニター募集). ``accepted_count`` never exceeds ``places``.

    Changing ``consent_text`` raises ``consent_version``; applications record the version agreed to.
    """

    __tablename__ = "recruitment_call"
    __table_args__ = (
        sa.CheckConstraint("places > 0", name="places_positive"),
        sa.CheckConstraint("accepted_count >= 0 AND accepted_count <= places", name="accepted_within_places"),
        sa.Index("ix_recruitment_call_status_apply_by", "status", "apply_by"),
    )

    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=200)
    eligibility: str = Field(default="", sa_type=sa.Text, description="Who can join.")
    activities: str = Field(default="", sa_type=sa.Text, description="What participants do.")
    places: int = Field(nullable=False)
    accepted_count: int = Field(default=0, nullable=False)
    starts_on: date | None = Field(default=None)
    ends_on: date | None = Field(default=None)
    apply_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consent_text: str = Field(sa_type=sa.Text)
    consent_version: int = Field(default=1, nullable=False)
    status: RecruitmentStatus = Field(default=RecruitmentStatus.DRAFT, sa_type=enum_type(RecruitmentStatus, 20))
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class ApplicationStatus(StrEnum):
    APPLIED = "applied"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return str(APPLICATION_STATUS_LABELS[self])


APPLICATION_STATUS_LABELS = {
    ApplicationStatus.APPLIED: _l("Applied"),
    ApplicationStatus.ACCEPTED: _l("Accepted"),
    ApplicationStatus.DECLINED: _l("Not accepted"),
    ApplicationStatus.WITHDRAWN: _l("Consent withdrawn"),
}


class RecruitmentApplication(TimestampedModel, table=True):
    """A resident's application. The personal data (name, contact, message) is blanked when the
    consent is withdrawn, and the whole row is deleted once the trial's retention time has passed.
    """

    __tablename__ = "recruitment_application"
    __table_args__ = (
        sa.UniqueConstraint("call_id", "user_id"),
        sa.Index("ix_recruitment_application_call_status", "call_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="recruitment_call.id", ondelete="CASCADE")
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    status: ApplicationStatus = Field(default=ApplicationStatus.APPLIED, sa_type=enum_type(ApplicationStatus, 20))
    consent_version: int = Field(nullable=False)
    consented_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    full_name: str = Field(default="", max_length=100)
    contact: str = Field(default="", max_length=320, description="E-mail or telephone for the organisation.")
    message: str = Field(default="", max_length=2000)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- calendar feeds ------------------------------------------------------------------------------


class CalendarFeedToken(TimestampedModel, table=True):
    """A coordinator's private iCalendar feed. Only the token's SHA-256 is stored; revoking deletes it."""

    __tablename__ = "calendar_feed_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", unique=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
