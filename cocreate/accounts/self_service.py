"""A user's own account: profile, password, e-mail address, data download and account deletion.

Changes that could lock the owner out (password, e-mail, deletion) need the current password, and
wrong passwords are throttled like sign-ins, so a borrowed or stolen session cannot guess it.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from babel.support import LazyProxy
from sqlmodel import Session, col, delete, select

from cocreate import audit, components, mail
from cocreate.accounts import passwords, residency, services
from cocreate.accounts.models import (
    AgeBand,
    Consent,
    Department,
    OidcIdentity,
    Organisation,
    OrganisationMember,
    ResidencyRequest,
    Role,
    RoleAssignment,
    SignInThrottle,
    TokenPurpose,
    User,
    UserToken,
)
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.i18n import N_, SUPPORTED_LOCALES, using_locale
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from cocreate.web.templating import render_standalone

CHANGE_EMAIL_TTL = services.CONFIRM_EMAIL_TTL
REAUTH_FAILURES = 5


def _own_user(session: Session, actor: Principal, *, lock: bool = False) -> User:
    user_id = require_signed_in(actor).id
    statement = select(User).where(User.id == user_id)
    user = session.exec(statement.with_for_update() if lock else statement).one()
    return user


def _send_to(session: Session, settings: Settings, to: str, locale: str, template: str, subject: str,
             **context: object) -> None:
    with using_locale(locale):
        text = render_standalone(f"mail/{template}.txt", base_url=settings.base_url, **context)
        mail.queue_email(session, to=to, subject=_(subject), text=text)


def check_current_password(session: Session, user: User, password: str, field: str = "current_password") -> str | None:
    """None when ``password`` is the user's; else a message. Failures count towards a short lock.

    The throttle row is changed (not committed): callers commit it before raising, so the count
    survives the refusal.
    """
    if not user.password_hash:
        return _("Your account has no password yet. Set one first with “Forgot your password?” on the sign-in page.")
    if not password:
        return _("Enter your current password.")
    key = f"reauth:{user.id}"
    if message := _reauth_locked(session.get(SignInThrottle, key)):
        return message
    # argon2 runs between two transactions (holding the write lock through it would make every other
    # writer wait); the second locks the user again and checks the hash did not change meanwhile.
    stored_hash = user.password_hash
    session.commit()
    verified = passwords.verify_password(stored_hash, password)
    session.refresh(user, with_for_update=True)
    row = services._throttle(session, key)
    if message := _reauth_locked(row):
        return message
    if not verified or user.password_hash != stored_hash:
        row.failures += 1
        if row.failures >= REAUTH_FAILURES:
            row.locked_until = utcnow() + services.LOCKOUT
        return _("The current password is not correct.")
    row.failures = 0
    row.locked_until = None
    return None


def _reauth_locked(row: SignInThrottle | None) -> str | None:
    now = utcnow()
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    minutes = max(1, int((row.locked_until - now).total_seconds() // 60) + 1)
    return _("Too many wrong passwords. Try again in %(minutes)s minutes.", minutes=minutes)


def refuse(session: Session, errors: dict[str, str]) -> Invalid:
    """Keep only the throttle count (the user rows are untouched), then report."""
    session.commit()
    return Invalid(errors)


# --- profile -------------------------------------------------------------------------------------


@dataclass
class ProfileForm:
    display_name: str
    area: str = ""
    age_band: str = ""
    locale: str = "ja"


def normalise_area(raw: str) -> str:
    """Full-width digits and half-width kana made plain; a postal code written ``173-0004``."""
    text = unicodedata.normalize("NFKC", (raw or "").strip())
    return residency.normalise_postal_code(text) or text


def update_profile(session: Session, actor: Principal, form: ProfileForm) -> User:
    """Display name, area (町丁目 or postal code), age band and language; all but the name optional."""
    user = _own_user(session, actor)
    display_name = (form.display_name or "").strip()
    area = normalise_area(form.area)
    errors: dict[str, str] = {}
    if message := services.check_display_name(display_name):
        errors["display_name"] = message
    if len(area) > 100:
        errors["area"] = _("Use at most %(max)s characters.", max=100)
    elif services.CONTROL_CHARS.search(area):
        errors["area"] = _("The text contains characters that cannot be used.")
    age_band: AgeBand | None = None
    if form.age_band:
        try:
            age_band = AgeBand(form.age_band)
        except ValueError:
            errors["age_band"] = _("Choose an age band from the list.")
    if form.locale not in SUPPORTED_LOCALES:
        errors["locale"] = _("Choose a language from the list.")
    if errors:
        session.rollback()
        raise Invalid(errors)
    user.display_name = display_name
    user.area = area
    user.age_band = age_band
    user.locale = form.locale
    session.commit()
    return user


# --- password ------------------------------------------------------------------------------------


def change_password(session: Session, settings: Settings, actor: Principal, current: str, new: str) -> User:
    """Set a new password. Every other session is signed out (the caller signs this one in again)."""
    # Hashed before the first query, so no write lock is held while argon2 works.
    new_hash = passwords.hash_password(new) if new and len(new) <= passwords.MAX_LENGTH else ""
    user = _own_user(session, actor, lock=True)
    errors: dict[str, str] = {}
    if message := services.check_password(new or "", user.email or ""):
        errors["new_password"] = message
    elif current and new == current:
        errors["new_password"] = _("Choose a password different from the current one.")
    if message := check_current_password(session, user, current or ""):
        errors["current_password"] = message
    if errors:
        raise refuse(session, errors)
    user.password_hash = new_hash
    user.session_epoch += 1
    _spend_email_change_links(session, user)  # a change of address asked from a stolen session dies too
    if user.email:
        _send_to(session, settings, user.email, user.locale, "password_changed",
                 N_("Your cocreate password was changed"), user=user,
                 link=f"{settings.base_url}/account/password/forgot")
    session.commit()
    return user


# --- e-mail address ------------------------------------------------------------------------------


def _spend_email_change_links(session: Session, user: User) -> None:
    for row in session.exec(select(UserToken).where(UserToken.user_id == user.id,
                                                    UserToken.purpose == TokenPurpose.CHANGE_EMAIL,
                                                    col(UserToken.used_at).is_(None))).all():
        row.used_at = utcnow()


def request_email_change(session: Session, settings: Settings, actor: Principal, new_email: str, password: str) -> str:
    """Send a confirmation link to the new address and a notice to the old one.

    When the new address already has an account, that address gets a note instead of a link, and
    the caller answers exactly as if the link had been sent: nobody learns who is registered.
    Returns the normalised new address.
    """
    user = _own_user(session, actor, lock=True)
    email = services.normalize_email(new_email)[:400]
    errors: dict[str, str] = {}
    if message := services.check_email(email):
        errors["new_email"] = message
    elif email == user.email:
        errors["new_email"] = _("This is already your e-mail address.")
    if message := check_current_password(session, user, password or ""):
        errors["password"] = message
    if errors:
        raise refuse(session, errors)

    _spend_email_change_links(session, user)  # only the newest link works
    owner = session.exec(select(User).where(User.email == email)).first()
    if owner is not None:  # written in the language of that address's own account
        _send_to(session, settings, email, owner.locale, "email_change_taken",
                 N_("Someone tried to use this address for cocreate"),
                 link=f"{settings.base_url}/account/password/forgot")
    else:
        token = services.issue_token(session, user, TokenPurpose.CHANGE_EMAIL, CHANGE_EMAIL_TTL, new_email=email)
        _send_to(session, settings, email, user.locale, "change_email",
                 N_("Confirm your new e-mail address for cocreate"), user=user,
                 link=f"{settings.base_url}/account/email/confirm/{token}")
    assert user.email is not None
    _send_to(session, settings, user.email, user.locale, "email_change_notice",
             N_("A change of your cocreate e-mail address was requested"), user=user, new_email=email,
             link=f"{settings.base_url}/account/password")
    session.commit()
    return email


def confirm_email_change(session: Session, token: str) -> User | None:
    """Apply the change of the link's token; None when the link is unusable or the address was taken meanwhile."""
    row = services.redeem_token(session, token, TokenPurpose.CHANGE_EMAIL)
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or user is None or not user.is_active or not row.new_email:
        session.rollback()
        return None
    if session.exec(select(User.id).where(User.email == row.new_email, User.id != user.id)).first() is not None:
        session.rollback()
        return None
    user.email = row.new_email
    user.email_confirmed_at = utcnow()
    try:
        session.commit()
    except sa.exc.IntegrityError:  # the address was registered in the same instant
        session.rollback()
        return None
    return user


# --- download my data ----------------------------------------------------------------------------

ExportSection = Callable[[Session, User], Any]
"""``build(session, user)`` returns JSON-able data: only the user's own data, never other people's
personal data, never password or token hashes. Each component lists its sections in its manifest
(``Component.export_sections``)."""


def export_profile(session: Session, user: User) -> dict[str, Any]:
    return {
        "id": user.id, "email": user.email, "email_confirmed_at": user.email_confirmed_at,
        "display_name": user.display_name, "locale": user.locale, "area": user.area,
        "age_band": user.age_band, "residency_verified_at": user.residency_verified_at,
        "residency_method": user.residency_method, "created_at": user.created_at,
        "last_sign_in_at": user.last_sign_in_at,
    }


def export_consents(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(Consent).where(Consent.user_id == user.id).order_by(col(Consent.id))).all()
    return [{"document": row.document, "version": row.version, "agreed_at": row.created_at} for row in rows]


def export_roles(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(
        select(RoleAssignment, Department).join(Department, isouter=True)
        .where(RoleAssignment.user_id == user.id).order_by(col(RoleAssignment.id))
    ).all()
    return [{"role": role.role, "department": department.code if department else None,
             "department_name": department.display_name() if department else None, "granted_at": role.created_at}
            for role, department in rows]


def export_organisations(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(
        select(OrganisationMember, Organisation).join(Organisation)
        .where(OrganisationMember.user_id == user.id).order_by(col(OrganisationMember.id))
    ).all()
    return [{"organisation_id": organisation.id, "name": organisation.name, "kind": organisation.kind,
             "is_admin": member.is_admin, "member_since": member.created_at} for member, organisation in rows]


def export_oidc_identities(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(OidcIdentity).where(OidcIdentity.user_id == user.id).order_by(col(OidcIdentity.id))).all()
    return [{"provider": row.provider, "subject": row.subject, "email": row.email, "linked_at": row.created_at,
             "last_used_at": row.last_used_at} for row in rows]


def export_residency_requests(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(
        select(ResidencyRequest).where(ResidencyRequest.user_id == user.id).order_by(col(ResidencyRequest.id))
    ).all()
    return [{"id": row.id, "status": row.status, "method": row.method, "full_name": row.full_name,
             "postal_code": row.postal_code, "address": row.address, "requested_at": row.created_at,
             "code_issued_at": row.issued_at, "code_expires_at": row.code_expires_at,
             "code_attempts": row.code_attempts, "decided_at": row.decided_at, "note": row.note} for row in rows]




def export_data(session: Session, actor: Principal) -> dict[str, Any]:
    """Everything the platform holds about the signed-in user, section by section."""
    user = _own_user(session, actor)
    data: dict[str, Any] = {"format": "cocreate-personal-data", "version": 1, "exported_at": utcnow()}
    for name, build in components.export_sections().items():
        data[name] = build(session, user)
    return data


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, LazyProxy):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def export_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, default=_json_default, ensure_ascii=False, indent=2).encode("utf-8")


# --- delete my account ---------------------------------------------------------------------------

DeletionHook = Callable[[Session, User], None]
"""``hook(session, user)`` runs inside the deletion transaction, before the account is wiped.

Components erase or anonymise what only they know about (e.g. trial participants' details) and list
their hooks in their manifests (``Component.deletion_hooks``). Public contributions stay: they show as
退会したユーザー through ``User.public_name``.
"""


def _sole_admin_organisations(session: Session, user: User) -> list[Organisation]:
    """Organisations where the user is the only admin while other members remain."""
    other = sa.orm.aliased(OrganisationMember)
    other_admin = sa.orm.aliased(OrganisationMember)
    statement = (
        select(Organisation)
        .join(OrganisationMember, col(OrganisationMember.organisation_id) == Organisation.id)
        .where(OrganisationMember.user_id == user.id, col(OrganisationMember.is_admin).is_(True))
        .where(sa.exists().where(other.organisation_id == Organisation.id, other.user_id != user.id))
        .where(~sa.exists().where(other_admin.organisation_id == Organisation.id, other_admin.user_id != user.id,
                                  other_admin.is_admin.is_(True)))
        .order_by(col(Organisation.name))
    )
    return list(session.exec(statement).all())


def _is_last_system_admin(session: Session, user: User) -> bool:
    holds = session.exec(select(RoleAssignment.id).where(RoleAssignment.user_id == user.id,
                                                         RoleAssignment.role == Role.ADMIN)).first()
    if holds is None:
        return False
    others = session.exec(
        select(RoleAssignment.id).join(User, col(User.id) == RoleAssignment.user_id)
        .where(RoleAssignment.role == Role.ADMIN, RoleAssignment.user_id != user.id,
               col(User.deleted_at).is_(None), col(User.blocked_at).is_(None))
    ).first()
    return others is None


def delete_account(session: Session, actor: Principal, password: str, confirmed: bool) -> None:
    """Delete the signed-in user's account; the caller signs the request out.

    Sign-in data and personal details go (e-mail, password, names, profile, linked providers, links,
    memberships, roles, residency details, the e-mail outbox to the address); the user row stays so
    that public contributions, audit entries and ``created_by`` references still resolve, shown as
    退会したユーザー. The address is free to register again at once.

    Consent rows are kept: once the account is anonymised they hold no personal data (a user id, a
    document and a version), and they record the terms under which the contributions that stay
    published (CC BY 4.0) were made.
    """
    user = _own_user(session, actor, lock=True)
    errors: dict[str, str] = {}
    if not confirmed:
        errors["confirm"] = _("Tick the box to confirm that you want to delete your account.")
    if message := check_current_password(session, user, password or "", "password"):
        errors["password"] = message
    if errors:
        raise refuse(session, errors)
    blocking = _sole_admin_organisations(session, user)
    if blocking:
        names = "、".join(organisation.name for organisation in blocking)
        raise refuse(session, {"confirm": _(
            "You are the only administrator of %(names)s, which has other members. Make another member "
            "an administrator first, or remove the other members.", names=names)})
    if _is_last_system_admin(session, user):
        raise refuse(session, {"confirm": _(
            "You are the only system administrator. Give another account the administrator role first.")})

    for hook in components.deletion_hooks():
        hook(session, user)
    residency.erase_for_deleted_account(session, user)
    old_email = user.email
    for model in (OidcIdentity, UserToken, OrganisationMember, RoleAssignment):
        session.exec(delete(model).where(model.user_id == user.id))  # type: ignore[call-overload, attr-defined]
    if old_email:
        session.exec(delete(mail.OutboundEmail).where(mail.OutboundEmail.to_address == old_email))  # type: ignore[call-overload]
    user.deleted_at = utcnow()
    user.email = None
    user.email_confirmed_at = None
    user.password_hash = None
    user.display_name = ""
    user.area = ""
    user.age_band = None
    user.residency_verified_at = None
    user.residency_method = None
    user.last_sign_in_at = None
    user.session_epoch += 1
    audit.record(session, actor_id=user.id, actor_label=f"user #{user.id}", action="account.deleted",
                 target_type="user", target_id=str(user.id))
    session.commit()
