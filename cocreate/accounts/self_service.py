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
from typing import Annotated, Any

import sqlalchemy as sa
from babel.support import LazyProxy
from sqlmodel import Session, col, delete, select

from cocreate import audit, components, mail, paths
from cocreate.accounts import passwords, residency, services, throttle
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
from cocreate.accounts.services import AsSent, DisplayName, FormModel
from cocreate.db import transactional, unit_of_work
from cocreate.db.base import utcnow
from cocreate.db.engine import erase_freed
from cocreate.errors import Invalid
from cocreate.forms import Choice, FieldType, Flag, as_text, refuse, text_error
from cocreate.i18n import N_, SUPPORTED_LOCALES, lazy_gettext, using_locale
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from cocreate.tasks.queue import enqueue
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


@dataclass
class _Reauth:
    """The current password, checked between two units of work so that argon2 runs in neither: the
    first reads the hash with the user locked, the second locks the user again, checks that the hash
    did not change meanwhile and counts a failure (wrong passwords are throttled like sign-ins)."""

    key: str
    stored_hash: str | None
    refusal: str | None = None
    verified: bool = False


def _reauth_start(session: Session, user: User, password: str) -> _Reauth:
    """In the first unit of work: what is refused without argon2, and the hash to check against."""
    check = _Reauth(key=f"reauth:{user.id}", stored_hash=user.password_hash)
    if not user.password_hash:
        check.refusal = _("Your account has no password yet. Set one first with “Forgot your password?” on the "
                          "sign-in page.")
    elif not password:
        check.refusal = _("Enter your current password.")
    else:
        check.refusal = _reauth_locked(session.get(SignInThrottle, check.key))
    return check


def _reauth_verify(check: _Reauth, password: str) -> None:
    """Between the two units of work: argon2, without any transaction (so without any lock)."""
    if check.refusal is None:
        check.verified = passwords.verify_password(check.stored_hash, password)


def _reauth_finish(session: Session, user: User, check: _Reauth) -> str | None:
    """In the second unit of work: None when the password was the user's; else the message, with the
    failure counted (the caller's unit of work commits the count even though it then refuses)."""
    session.refresh(user, with_for_update=True)
    if check.refusal is not None:
        return check.refusal
    row = services._throttle(session, check.key)
    if message := _reauth_locked(row):
        return message
    if not check.verified or user.password_hash != check.stored_hash:
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


# --- profile -------------------------------------------------------------------------------------


def normalise_area(raw: str) -> str:
    """Full-width digits and half-width kana made plain; a postal code written ``173-0004``."""
    text = unicodedata.normalize("NFKC", (raw or "").strip())
    return residency.normalise_postal_code(text) or text


@dataclass(frozen=True)
class Area(FieldType):
    """Where a person lives, roughly (町丁目 or a postal code), as :func:`normalise_area` writes it."""

    max_length: int = 100

    def parse(self, value: Any) -> str:
        area = normalise_area(as_text(value))
        if message := text_error(area, self.max_length, single_line=True):
            raise refuse(message)
        return area


@dataclass(frozen=True)
class Language(FieldType):
    """One of the site's languages (``ja``, ``en``)."""

    def parse(self, value: Any) -> str:
        locale = as_text(value).strip()
        if locale not in SUPPORTED_LOCALES:
            raise refuse(_("Choose a language from the list."))
        return locale


class ProfileForm(FormModel):
    """Display name, area (町丁目 or postal code), age band and language; all but the name optional."""

    display_name: Annotated[str, DisplayName()] = ""
    area: Annotated[str, Area()] = ""
    age_band: Annotated[AgeBand | None, Choice(AgeBand, lazy_gettext("Choose an age band from the list."),
                                               required=False)] = None
    locale: Annotated[str, Language()] = "ja"


@transactional
def update_profile(session: Session, actor: Principal, form: ProfileForm) -> User:
    """Save the profile of the signed-in user."""
    user = _own_user(session, actor)
    user.display_name = form.display_name
    user.area = form.area
    user.age_band = form.age_band
    user.locale = form.locale
    return user


# --- password ------------------------------------------------------------------------------------


class PasswordChangeForm(FormModel):
    """As sent: :func:`change_password` checks both, so that both errors show at once."""

    current_password: Annotated[str, AsSent(1000)] = ""
    new_password: Annotated[str, AsSent(1000)] = ""


def change_password(session: Session, settings: Settings, actor: Principal, current: str, new: str) -> User:
    """Set a new password. Every other session is signed out (the caller signs this one in again)."""
    # Hashed before the first unit of work, so no write lock is held while argon2 works.
    new_hash = passwords.hash_password(new) if new and len(new) <= passwords.MAX_LENGTH else ""
    with unit_of_work(session):
        user = _own_user(session, actor, lock=True)
        errors: dict[str, str] = {}
        if message := services.check_password(new or "", user.email or ""):
            errors["new_password"] = message
        elif current and new == current:
            errors["new_password"] = _("Choose a password different from the current one.")
        check = _reauth_start(session, user, current or "")
    _reauth_verify(check, current or "")
    with unit_of_work(session):
        if message := _reauth_finish(session, user, check):
            errors["current_password"] = message
        if not errors:
            user.password_hash = new_hash
            user.session_epoch += 1
            _spend_email_change_links(session, user)  # a change of address asked from a stolen session dies too
            if user.email:
                _send_to(session, settings, user.email, user.locale, "password_changed",
                         N_("Your cocreate password was changed"), user=user,
                         link=paths.absolute(settings, paths.password_forgot()))
    if errors:  # only the failure count was kept
        raise Invalid(errors)
    return user


# --- e-mail address ------------------------------------------------------------------------------


def _spend_email_change_links(session: Session, user: User) -> None:
    for row in session.exec(select(UserToken).where(UserToken.user_id == user.id,
                                                    UserToken.purpose == TokenPurpose.CHANGE_EMAIL,
                                                    col(UserToken.used_at).is_(None))).all():
        row.used_at = utcnow()


class EmailChangeForm(FormModel):
    """As sent: :func:`request_email_change` checks the address and the password together."""

    new_email: Annotated[str, AsSent(400)] = ""
    password: Annotated[str, AsSent(1000)] = ""


def request_email_change(session: Session, settings: Settings, actor: Principal, new_email: str, password: str) -> str:
    """Send a confirmation link to the new address and a notice to the old one.

    When the new address already has an account, that address gets a note instead of a link, and
    the caller answers exactly as if the link had been sent: nobody learns who is registered.
    Returns the normalised new address.
    """
    with unit_of_work(session):
        user = _own_user(session, actor, lock=True)
        email = services.normalize_email(new_email)[:400]
        errors: dict[str, str] = {}
        if message := services.check_email(email):
            errors["new_email"] = message
        elif email == user.email:
            errors["new_email"] = _("This is already your e-mail address.")
        check = _reauth_start(session, user, password or "")
    _reauth_verify(check, password or "")
    with unit_of_work(session):
        if message := _reauth_finish(session, user, check):
            errors["password"] = message
        if not errors:
            _send_email_change(session, settings, user, email)
    if errors:  # only the failure count was kept
        raise Invalid(errors)
    return email


def _send_email_change(session: Session, settings: Settings, user: User, email: str) -> None:
    _spend_email_change_links(session, user)  # only the newest link works
    owner = session.exec(select(User).where(User.email == email)).first()
    if owner is not None:  # written in the language of that address's own account
        _send_to(session, settings, email, owner.locale, "email_change_taken",
                 N_("Someone tried to use this address for cocreate"),
                 link=paths.absolute(settings, paths.password_forgot()))
    else:
        token = services.issue_token(session, user, TokenPurpose.CHANGE_EMAIL, CHANGE_EMAIL_TTL, new_email=email)
        _send_to(session, settings, email, user.locale, "change_email",
                 N_("Confirm your new e-mail address for cocreate"), user=user,
                 link=paths.absolute(settings, paths.email_change_confirm(token)))
    assert user.email is not None
    _send_to(session, settings, user.email, user.locale, "email_change_notice",
             N_("A change of your cocreate e-mail address was requested"), user=user, new_email=email,
             link=paths.absolute(settings, paths.account_password()))


class _LinkUnusable(Exception):
    """The link cannot be used: its unit of work ends without writing."""


def confirm_email_change(session: Session, token: str) -> User | None:
    """Apply the change of the link's token; None when the link is unusable or the address was taken meanwhile."""
    try:
        with unit_of_work(session):
            row = services.redeem_token(session, token, TokenPurpose.CHANGE_EMAIL)
            user = session.get(User, row.user_id) if row is not None else None
            if row is None or user is None or not user.is_active or not row.new_email:
                raise _LinkUnusable()
            if session.exec(select(User.id).where(User.email == row.new_email, User.id != user.id)).first() is not None:
                raise _LinkUnusable()
            user.email = row.new_email
            user.email_confirmed_at = utcnow()
            session.flush()  # the address registered in the same instant fails here, inside the unit of work
            return user
    except (_LinkUnusable, sa.exc.IntegrityError):
        return None


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
    return export_data_of(session, _own_user(session, actor))


def export_data_of(session: Session, user: User) -> dict[str, Any]:
    """Every section of "download my data" for ``user`` (the worker's zip: :mod:`cocreate.accounts.data_export`)."""
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


class DeletionForm(FormModel):
    """As sent: :func:`delete_account` checks the box and the password together."""

    password: Annotated[str, AsSent(1000)] = ""
    confirm: Annotated[bool, Flag()] = False


def delete_account(session: Session, settings: Settings, actor: Principal, password: str, confirmed: bool) -> None:
    """Delete the signed-in user's account; the caller signs the request out.

    Sign-in data and personal details go (e-mail, password, names, profile, linked providers, links,
    memberships, roles, residency details, the e-mail outbox to the address); the user row stays so
    that public contributions, audit entries and ``created_by`` references still resolve, shown as
    退会したユーザー. The address is free to register again at once.

    Consent rows are kept: once the account is anonymised they hold no personal data (a user id, a
    document and a version), and they record the terms under which the contributions that stay
    published (CC BY 4.0) were made.
    """
    with unit_of_work(session):
        user = _own_user(session, actor, lock=True)
        check = _reauth_start(session, user, password or "")
    _reauth_verify(check, password or "")
    old_email = user.email or ""
    with unit_of_work(session):
        errors = _deletion_refused(session, user, check, confirmed)
        if not errors:
            _delete(session, user)
    if errors:  # only the failure count (or its reset) was kept
        raise Invalid(errors)
    _erase_traces(session, settings, old_email)


def _erase_traces(session: Session, settings: Settings, old_email: str) -> None:
    """What the database no longer holds should not linger beside it: the mail folder's copies of
    messages to the person, and older copies of their rows in SQLite's write-ahead log (emptied now
    if readers allow, else by the worker, see :func:`cocreate.jobs.erase_freed`)."""
    mail.forget_address(settings, old_email)
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, sa.Connection) else bind
    if not erase_freed(engine):  # type: ignore[arg-type]
        with unit_of_work(session):
            enqueue(session, "cocreate.erase_freed")


def _deletion_refused(session: Session, user: User, check: _Reauth, confirmed: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not confirmed:
        errors["confirm"] = _("Tick the box to confirm that you want to delete your account.")
    if message := _reauth_finish(session, user, check):
        errors["password"] = message
    if errors:
        return errors
    blocking = _sole_admin_organisations(session, user)
    if blocking:
        names = "、".join(organisation.name for organisation in blocking)
        return {"confirm": _(
            "You are the only administrator of %(names)s, which has other members. Make another member "
            "an administrator first, or remove the other members.", names=names)}
    if _is_last_system_admin(session, user):
        return {"confirm": _(
            "You are the only system administrator. Give another account the administrator role first.")}
    return {}


def _delete(session: Session, user: User) -> None:
    for hook in components.deletion_hooks():
        hook(session, user)
    residency.erase_for_deleted_account(session, user)
    old_email = user.email
    for model in (OidcIdentity, UserToken, OrganisationMember, RoleAssignment):
        session.exec(delete(model).where(model.user_id == user.id))  # type: ignore[call-overload, attr-defined]
    if old_email:
        session.exec(delete(mail.OutboundEmail).where(mail.OutboundEmail.to_address == old_email))  # type: ignore[call-overload]
        throttle.forget_account(session, old_email)
        throttle.forget_mail_quotas(session, old_email)
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
