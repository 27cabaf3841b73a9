"""Account use cases: register, confirm e-mail, sign in (throttled), reset the password.

Every function owns its checks; routes only parse forms and choose the response. Responses never
reveal whether an e-mail address has an account (registration, sign-in and reset all answer alike).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate import mail
from cocreate.accounts import consents, passwords
from cocreate.accounts.models import ConsentDocument, SignInThrottle, TokenPurpose, User, UserToken
from cocreate.db import read_apart
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.i18n import N_, using_locale
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from cocreate.web.templating import render_standalone

CONFIRM_EMAIL_TTL = timedelta(days=3)
RESET_PASSWORD_TTL = timedelta(hours=2)

ACCOUNT_FAILURES = 5
IP_FAILURES = 30
THROTTLE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)

EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$")
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def normalize_email(raw: str | None) -> str:
    return (raw or "").strip().lower()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_email(email: str) -> str | None:
    if not email:
        return _("Enter your e-mail address.")
    if len(email) > 254 or not EMAIL_RE.match(email):
        return _("Enter an e-mail address like name@example.jp.")
    return None


def check_password(password: str, email: str = "") -> str | None:
    if len(password) < passwords.MIN_LENGTH:
        return _("Use at least %(min)s characters for your password.", min=passwords.MIN_LENGTH)
    if len(password) > passwords.MAX_LENGTH:
        return _("Use at most %(max)s characters for your password.", max=passwords.MAX_LENGTH)
    if email and password.lower() == email.lower():
        return _("Your password must not be your e-mail address.")
    return None


def check_display_name(name: str) -> str | None:
    if not name:
        return _("Enter a display name (a nickname is fine).")
    if len(name) > 50:
        return _("Use at most %(max)s characters for your display name.", max=50)
    if CONTROL_CHARS.search(name):
        return _("The display name contains characters that cannot be used.")
    return None


# --- tokens --------------------------------------------------------------------------------------


def issue_token(session: Session, user: User, purpose: TokenPurpose, ttl: timedelta, new_email: str | None = None) -> str:
    token = secrets.token_urlsafe(32)
    session.add(UserToken(user_id=user.id, purpose=purpose, token_hash=_token_hash(token),  # type: ignore[arg-type]
                          new_email=new_email, expires_at=utcnow() + ttl))
    return token


def spend_tokens(session: Session, user_id: int, *purposes: TokenPurpose) -> None:
    """Make every unused link of these purposes unusable (e.g. after a password reset)."""
    for row in session.exec(select(UserToken).where(UserToken.user_id == user_id,
                                                    col(UserToken.purpose).in_(purposes),
                                                    col(UserToken.used_at).is_(None))).all():
        row.used_at = utcnow()


def _usable_token(session: Session, token: str, purpose: TokenPurpose, *, lock: bool = False) -> UserToken | None:
    if not token or len(token) > 200:
        return None
    statement = select(UserToken).where(UserToken.token_hash == _token_hash(token), UserToken.purpose == purpose)
    row = session.exec(statement.with_for_update() if lock else statement).first()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def redeem_token(session: Session, token: str, purpose: TokenPurpose) -> UserToken | None:
    """The unused, unexpired token of this purpose, marked used; None otherwise."""
    row = _usable_token(session, token, purpose, lock=True)
    if row is not None:
        row.used_at = utcnow()
    return row


# --- e-mail --------------------------------------------------------------------------------------


def _send(session: Session, settings: Settings, user: User, template: str, subject: str, **context: object) -> None:
    assert user.email is not None
    with using_locale(user.locale):
        text = render_standalone(f"mail/{template}.txt", user=user, base_url=settings.base_url, **context)
        mail.queue_email(session, to=user.email, subject=_(subject), text=text)


def send_confirmation(session: Session, settings: Settings, user: User) -> None:
    token = issue_token(session, user, TokenPurpose.CONFIRM_EMAIL, CONFIRM_EMAIL_TTL)
    _send(session, settings, user, "confirm_email", N_("Confirm your e-mail address for cocreate"),
          link=f"{settings.base_url}/account/confirm/{token}")


# --- registration --------------------------------------------------------------------------------


@dataclass
class Registration:
    email: str
    display_name: str
    password: str
    accept_terms: bool
    accept_privacy: bool
    locale: str = "ja"
    terms_version: str = ""
    """The versions the form showed (empty: whatever is published)."""
    privacy_version: str = ""


def register(session: Session, settings: Settings, form: Registration) -> User | None:
    """Create an unconfirmed account and send the confirmation link.

    Returns None (and sends a "you already have an account" e-mail instead) when the address is
    taken, so the answer on screen is the same either way.
    """
    email = normalize_email(form.email)
    display_name = (form.display_name or "").strip()
    errors: dict[str, str] = {}
    if message := check_email(email):
        errors["email"] = message
    if message := check_display_name(display_name):
        errors["display_name"] = message
    if message := check_password(form.password or "", email):
        errors["password"] = message
    if not form.accept_terms:
        errors["accept_terms"] = _("Agree to the terms of use to register.")
    if not form.accept_privacy:
        errors["accept_privacy"] = _("Agree to the privacy policy to register.")
    with read_apart(session) as reader:  # no transaction on ``session`` (so no lock) while argon2 works below
        versions = consents.current_versions(reader)
    try:
        consents.check_shown(versions, {ConsentDocument.TERMS: form.terms_version,
                                        ConsentDocument.PRIVACY: form.privacy_version})
    except consents.ConsentChanged as changed:
        name = "accept_terms" if changed.args[0] is ConsentDocument.TERMS else "accept_privacy"
        errors[name] = _("A new version was published while you were filling in the form. Read it and agree again.")
    if errors:
        raise Invalid(errors)

    # Hashed before the first query: no write lock is held while argon2 works, and a taken address
    # costs the same time as a new one.
    password_hash = passwords.hash_password(form.password)
    existing = session.exec(select(User).where(User.email == email)).first()
    if existing is not None:
        _send(session, settings, existing, "already_registered", N_("You already have a cocreate account"),
              link=f"{settings.base_url}/account/password/forgot")
        session.commit()
        return None
    user = User(email=email, display_name=display_name, password_hash=password_hash,
                locale=form.locale if form.locale in ("ja", "en") else "ja")
    session.add(user)
    try:
        session.flush()
    except sa.exc.IntegrityError:  # a concurrent registration of the same address won the race
        session.rollback()
        return None
    consents.record(session, user, versions)
    send_confirmation(session, settings, user)
    session.commit()
    return user


def confirm_email(session: Session, token: str) -> User | None:
    row = redeem_token(session, token, TokenPurpose.CONFIRM_EMAIL)
    if row is None:
        session.rollback()
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        session.rollback()
        return None
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    session.commit()
    return user


# --- sign-in -------------------------------------------------------------------------------------


class SignInFailed(Exception):
    def __init__(self, message: str, field: str = "email") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _throttle(session: Session, key: str) -> SignInThrottle:
    row = session.get(SignInThrottle, key, with_for_update=True)
    if row is None:
        row = SignInThrottle(key=key, failures=0, window_started_at=utcnow())
        session.add(row)
    elif row.window_started_at + THROTTLE_WINDOW < utcnow() and (row.locked_until is None or row.locked_until < utcnow()):
        row.failures = 0
        row.window_started_at = utcnow()
        row.locked_until = None
    return row


def _locked_message(row: SignInThrottle) -> str:
    minutes = max(1, int(((row.locked_until or utcnow()) - utcnow()).total_seconds() // 60) + 1)
    return _("Too many failed sign-in attempts. Try again in %(minutes)s minutes.", minutes=minutes)


def authenticate(session: Session, email: str, password: str, ip_address: str) -> User:
    """The active, confirmed user with these credentials, or :class:`SignInFailed`.

    Failures count per account and per IP address; past the limit both are locked for a while,
    whether or not the account exists, so the lock says nothing about which addresses are registered.
    The password is checked between two short transactions: argon2 takes a fifth of a second, and
    holding the write lock through it would make every other writer wait.
    """
    email = normalize_email(email)
    password = password or ""
    account_key, address_key = f"email:{email[:300]}", f"ip:{ip_address[:100]}"
    now = utcnow()
    for key in (account_key, address_key):
        row = session.get(SignInThrottle, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            session.commit()
            raise SignInFailed(_locked_message(row))
    user = session.exec(select(User).where(User.email == email)).first() if email else None
    stored_hash = user.password_hash if user is not None else None
    session.commit()  # no transaction (and no lock) while argon2 works

    verified = user is not None and passwords.verify_password(stored_hash, password)
    if user is None:
        passwords.burn_time(password)
    new_hash = passwords.hash_password(password) if verified and stored_hash and passwords.needs_rehash(
        stored_hash) else None

    try:
        return _record_sign_in(session, account_key, address_key, user, verified, new_hash)
    except sa.exc.IntegrityError:  # a concurrent first failure created the same throttle row
        session.rollback()
        return _record_sign_in(session, account_key, address_key, user, verified, new_hash)


def _record_sign_in(session: Session, account_key: str, address_key: str, user: User | None, verified: bool,
                    new_hash: str | None) -> User:
    account = _throttle(session, account_key)
    address = _throttle(session, address_key)
    now = utcnow()
    for row in (account, address):  # locked by a concurrent attempt while the password was checked
        if row.locked_until is not None and row.locked_until > now:
            session.commit()
            raise SignInFailed(_locked_message(row))
    if not verified or user is None:
        account.failures += 1
        address.failures += 1
        if account.failures >= ACCOUNT_FAILURES:
            account.locked_until = now + LOCKOUT
        if address.failures >= IP_FAILURES:
            address.locked_until = now + LOCKOUT
        session.commit()
        raise SignInFailed(_("The e-mail address or password is not correct."))
    user = session.get(User, user.id, populate_existing=True)
    if user is None or not user.is_active:
        session.commit()
        raise SignInFailed(_("This account cannot sign in. Contact the ward if you think this is a mistake."))
    if not user.is_confirmed:
        session.commit()
        raise SignInFailed(_("Confirm your e-mail address first: open the link we sent you."))
    account.failures = 0
    account.locked_until = None
    if new_hash is not None:
        user.password_hash = new_hash
    user.last_sign_in_at = now
    session.commit()
    return user


# --- password reset ------------------------------------------------------------------------------


def request_password_reset(session: Session, settings: Settings, email: str) -> None:
    """Send a reset link if the address has an account; the caller's answer is the same either way."""
    email = normalize_email(email)
    user = session.exec(select(User).where(User.email == email)).first() if email else None
    if user is not None and user.is_active:
        token = issue_token(session, user, TokenPurpose.RESET_PASSWORD, RESET_PASSWORD_TTL)
        _send(session, settings, user, "reset_password", N_("Reset your cocreate password"),
              link=f"{settings.base_url}/account/password/reset/{token}")
    session.commit()


def reset_password(session: Session, token: str, new_password: str) -> User:
    """Set a new password with a reset link; every existing session of the user is signed out."""
    expired = Invalid({"token": _("This link has expired or was already used. Ask for a new one.")})
    peek = _usable_token(session, token, TokenPurpose.RESET_PASSWORD)
    owner = session.get(User, peek.user_id) if peek else None
    email = owner.email if owner is not None else None
    session.rollback()  # no transaction while the new password is hashed
    if owner is None:
        raise expired
    if message := check_password(new_password or "", email or ""):
        raise Invalid({"password": message})
    password_hash = passwords.hash_password(new_password)
    row = redeem_token(session, token, TokenPurpose.RESET_PASSWORD)
    user = session.get(User, row.user_id) if row else None
    if user is None or not user.is_active:
        session.rollback()
        raise expired
    user.password_hash = password_hash
    user.session_epoch += 1
    # A change of address requested from a stolen session must not outlive the reset.
    spend_tokens(session, user.id, TokenPurpose.CHANGE_EMAIL, TokenPurpose.RESET_PASSWORD)  # type: ignore[arg-type]
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()  # the link proves the address
    session.commit()
    return user
