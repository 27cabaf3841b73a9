"""People and their standing on the platform: users, roles, departments, consents and tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cocreate.db.base import TimestampedModel, UTCDateTime, enum_type, utcnow
from cocreate.web.i18n import get_locale
from cocreate.web.i18n import lazy_gettext as _l


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


ROLE_LABELS = {
    Role.STAFF: _l("Ward staff"),
    Role.REVIEWER: _l("Reviewer"),
    Role.COORDINATOR: _l("Field coordinator"),
    Role.MODERATOR: _l("Moderator"),
    Role.ADMIN: _l("Administrator"),
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
    """Failed sign-ins per account or per IP address within a window (shared by every web process)."""

    __tablename__ = "sign_in_throttle"

    key: str = Field(primary_key=True, max_length=400)
    failures: int = Field(default=0, nullable=False)
    window_started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
