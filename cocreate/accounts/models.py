"""People and their standing on the platform: users, roles, departments, consents and tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cocreate.db.base import TimestampedModel, UTCDateTime, enum_type, utcnow
from cocreate.i18n import get_locale
from cocreate.i18n import lazy_gettext as _l


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


class AgeBand(StrEnum):
    UNDER_20 = "under_20"
    AGE_20S = "20s"
    AGE_30S = "30s"
    AGE_40S = "40s"
    AGE_50S = "50s"
    AGE_60S = "60s"
    OVER_70 = "70_plus"


AGE_BAND_LABELS = {
    AgeBand.UNDER_20: _l("Under 20"),
    AgeBand.AGE_20S: _l("20s"),
    AgeBand.AGE_30S: _l("30s"),
    AgeBand.AGE_40S: _l("40s"),
    AgeBand.AGE_50S: _l("50s"),
    AgeBand.AGE_60S: _l("60s"),
    AgeBand.OVER_70: _l("70 or over"),
}


class User(TimestampedModel, table=True):
    """An account. The display name is a nickname, kept apart from any real name."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str | None = Field(default=None, max_length=320, unique=True, description="Lower-cased; None once deleted.")
    email_confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    display_name: str = Field(max_length=50)
    password_hash: str | None = Field(default=None, max_length=255)
    locale: str = Field(default="ja", max_length=5)
    area: str = Field(default="", max_length=100, description="町丁目 or postal code, optional.")
    age_band: AgeBand | None = Field(default=None, sa_type=enum_type(AgeBand, 20))
    residency_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    residency_method: str | None = Field(default=None, max_length=40)
    blocked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    blocked_reason: str | None = Field(default=None, max_length=500)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_sign_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    session_epoch: int = Field(default=0, nullable=False, description="Raised to sign out every session.")
    # The versions last agreed to, beside the full record in Consent: every signed-in request compares them
    # with the published versions, and the user row is loaded anyway, so the check costs no query.
    terms_version: str | None = Field(default=None, max_length=20)
    privacy_version: str | None = Field(default=None, max_length=20)

    @property
    def is_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None and self.blocked_at is None

    @property
    def is_verified_resident(self) -> bool:
        return self.residency_verified_at is not None

    @property
    def public_name(self) -> str:
        """The name shown beside contributions; deleted accounts show as 退会したユーザー."""
        if self.deleted_at is not None:
            return str(_l("Deleted user"))
        return self.display_name


class Role(StrEnum):
    STAFF = "staff"
    REVIEWER = "reviewer"
    COORDINATOR = "coordinator"
    MODERATOR = "moderator"
    ADMIN = "admin"
    SUPPORT_DESK = "support_desk"
    """Ward staff at a community centre (地域センター) who enter residents' voices and opinions on their
    behalf, from a paper form, a workshop or a phone call (代理入力)."""


ROLE_LABELS = {
    Role.STAFF: _l("Ward staff"),
    Role.REVIEWER: _l("Reviewer"),
    Role.COORDINATOR: _l("Field coordinator"),
    Role.MODERATOR: _l("Moderator"),
    Role.ADMIN: _l("Administrator"),
    Role.SUPPORT_DESK: _l("Support desk"),
}


class RoleAssignment(TimestampedModel, table=True):
    """A role a user holds; ward staff hold it per department. A user may hold several."""

    __tablename__ = "role_assignment"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "role", "department_id"),
        sa.CheckConstraint("role != 'staff' OR department_id IS NOT NULL", name="staff_has_department"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    role: Role = Field(sa_type=enum_type(Role, 20))
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    granted_by_id: int | None = Field(default=None, foreign_key="user_account.id")


class ConsentDocument(StrEnum):
    TERMS = "terms"
    PRIVACY = "privacy"


class Consent(TimestampedModel, table=True):
    """A user's consent to one version of the terms or the privacy policy."""

    __tablename__ = "consent"
    __table_args__ = (sa.UniqueConstraint("user_id", "document", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    document: ConsentDocument = Field(sa_type=enum_type(ConsentDocument, 20))
    version: str = Field(max_length=20)


class TokenPurpose(StrEnum):
    CONFIRM_EMAIL = "confirm_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a token purpose, not a password
    CHANGE_EMAIL = "change_email"
    STAFF_INVITATION = "staff_invitation"


class UserToken(TimestampedModel, table=True):
    """A single-use link token; only its SHA-256 is stored, so a database leak reveals no live link."""

    __tablename__ = "user_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    purpose: TokenPurpose = Field(sa_type=enum_type(TokenPurpose, 30))
    token_hash: str = Field(max_length=64, unique=True)
    new_email: str | None = Field(default=None, max_length=320)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SignInThrottle(SQLModel, table=True):
    """Failed sign-ins (or wrong current passwords) counted under one key within a window, shared by
    every web process: see :mod:`cocreate.accounts.throttle` for the keys and what each count does.

    A row whose window has ended and which is not locked counts nothing any more: the next attempt
    starts it afresh, and the nightly ``cocreate.expire_throttles`` job deletes it. A sign-in lock
    moves the window's start to the lock's end, so failures keep counting for a window after it."""

    __tablename__ = "sign_in_throttle"

    key: str = Field(primary_key=True, max_length=400)
    failures: int = Field(default=0, nullable=False)
    window_started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MailQuota(SQLModel, table=True):
    """How often, in the current period, something that anyone can start (a registration with a taken
    address, a password-reset request) asked for an e-mail to one address; only the first few are sent,
    so nobody can flood an inbox through the site. Expired rows are deleted nightly."""

    __tablename__ = "mail_quota"

    key: str = Field(primary_key=True, max_length=400, description="'<purpose>:<address>'.")
    attempts: int = Field(default=0, nullable=False)
    period_ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


# --- organisations -------------------------------------------------------------------------------


class OrganisationKind(StrEnum):
    COMPANY = "company"
    UNIVERSITY = "university"
    NPO = "npo"
    STARTUP = "startup"
    OTHER = "other"


ORGANISATION_KIND_LABELS = {
    OrganisationKind.COMPANY: _l("Company"),
    OrganisationKind.UNIVERSITY: _l("University or research institute"),
    OrganisationKind.NPO: _l("NPO"),
    OrganisationKind.STARTUP: _l("Startup"),
    OrganisationKind.OTHER: _l("Other"),
}


class Organisation(TimestampedModel, table=True):
    """A company, university, NPO or startup that asks, proposes and books test fields.

    Only a verified organisation (checked by a ward admin against its 法人番号) may submit proposals
    and request bookings.
    """

    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    kind: OrganisationKind = Field(sa_type=enum_type(OrganisationKind, 20), index=True)
    corporate_number: str | None = Field(
        default=None, max_length=13, unique=True, description="法人番号: 13 digits with a check digit."
    )
    address: str = Field(default="", max_length=300)
    website: str = Field(default="", max_length=500)
    description: str = Field(default="", max_length=5000, description="Markdown.")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    verified_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class OrganisationMember(TimestampedModel, table=True):
    """A user's membership of an organisation; admins manage the profile and the members."""

    __tablename__ = "organisation_member"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    is_admin: bool = Field(default=False, nullable=False)


class OrganisationInvitation(TimestampedModel, table=True):
    """An invitation sent by e-mail to join an organisation; only the token's SHA-256 is stored."""

    __tablename__ = "organisation_invitation"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=320, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    as_admin: bool = Field(default=False, nullable=False)
    invited_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- OpenID Connect ------------------------------------------------------------------------------


class OidcIdentity(TimestampedModel, table=True):
    """An account at an OpenID Connect provider linked to a user (provider slug + ``sub``)."""

    __tablename__ = "oidc_identity"
    __table_args__ = (sa.UniqueConstraint("provider", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    provider: str = Field(max_length=64)
    subject: str = Field(max_length=255)
    email: str | None = Field(default=None, max_length=320, description="The e-mail claim when linked.")
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- residency verification (区民確認) ----------------------------------------------------------


class ResidencyStatus(StrEnum):
    REQUESTED = "requested"  # the resident asked for a code by post
    CODE_ISSUED = "code_issued"  # a code was generated and exported for mailing
    VERIFIED = "verified"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class ResidencyRequest(TimestampedModel, table=True):
    """A resident's request to be verified, and the one-time code mailed to their address.

    The postal address is kept only while needed for mailing and is erased once the request ends.
    """

    __tablename__ = "residency_request"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    status: ResidencyStatus = Field(sa_type=enum_type(ResidencyStatus, 20), index=True)
    method: str = Field(max_length=40, description="Name of the verification method (pluggable).")
    full_name: str = Field(default="", max_length=100, description="For the envelope only.")
    postal_code: str = Field(default="", max_length=8)
    address: str = Field(default="", max_length=300)
    code_hash: str | None = Field(default=None, max_length=64, unique=True)
    code_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    code_attempts: int = Field(default=0, nullable=False)
    issued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    issued_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    note: str = Field(default="", max_length=500)


class DataExportStatus(StrEnum):
    REQUESTED = "requested"
    READY = "ready"
    EXPIRED = "expired"
    FAILED = "failed"


class DataExport(TimestampedModel, table=True):
    """One "download my data" request: the worker builds the zip into the data folder and mails a link.

    ``nonce`` is the file's random name and, signed with the site's key, the link's token
    (:mod:`cocreate.accounts.data_export`); the link works for the signed-in owner only, until
    ``expires_at``. A beat task then deletes the file and marks the row expired.
    """

    __tablename__ = "data_export"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    status: DataExportStatus = Field(sa_type=enum_type(DataExportStatus, 20), index=True)
    nonce: str = Field(max_length=64, unique=True)
    ready_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    size_bytes: int | None = Field(default=None)
