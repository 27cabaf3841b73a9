"""Account use cases: register, confirm e-mail, sign in (throttled), reset the password.

Every function owns its checks; routes only parse forms and choose the response. Responses never
reveal whether an e-mail address has an account (registration, sign-in and reset all answer alike).

The accounts' own field types live here too (:class:`Email`, :class:`DisplayName`, :class:`Password`,
:class:`AsSent`, :class:`Ticked`), for the typed forms of :mod:`cocreate.forms`. argon2 never runs
inside a unit of work: passwords are hashed before the first query, or between two units of work.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate import mail, paths
from cocreate.accounts import consents, passwords, throttle
from cocreate.accounts.models import ConsentDocument, SignInThrottle, TokenPurpose, User, UserToken
from cocreate.db import read_apart, transactional, unit_of_work
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.forms import FieldType, Flag, FormModel, Message, as_text, first, refuse, text_error
from cocreate.i18n import N_, lazy_gettext, using_locale
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from cocreate.tasks.queue import enqueue
from cocreate.web.templating import render_standalone

CONFIRM_EMAIL_TTL = timedelta(days=3)
RESET_PASSWORD_TTL = timedelta(hours=2)

ALREADY_REGISTERED_TASK = "cocreate.accounts.tell_already_registered"
RESET_LINK_TASK = "cocreate.accounts.send_reset_link"
"""The e-mails anyone can cause are decided by the worker (:mod:`cocreate.accounts.tasks`): the request
only queues the task, so it takes as long whether or not the address is registered."""

THROTTLE_WINDOW = throttle.WINDOW
LOCKOUT = timedelta(minutes=15)
"""How long wrong current passwords on the account pages lock them (:mod:`cocreate.accounts.self_service`)."""
DISPLAY_NAME_MAX = 50

EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$")
"""Only for modules outside accounts that still import it (``cocreate.pages.services``); accounts'
own text is checked by the field types below and :func:`cocreate.forms.text_error`."""


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
    if len(name) > DISPLAY_NAME_MAX:
        return _("Use at most %(max)s characters for your display name.", max=DISPLAY_NAME_MAX)
    if text_error(name, DISPLAY_NAME_MAX, single_line=True) is not None:  # control characters, line breaks
        return _("The display name contains characters that cannot be used.")
    return None


# --- field types ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Email(FieldType):
    """An e-mail address, lower case and without surrounding spaces (:func:`check_email`'s rules)."""

    def parse(self, value: Any) -> str:
        email = normalize_email(as_text(value))
        if message := check_email(email):
            raise refuse(message)
        return email


@dataclass(frozen=True)
class DisplayName(FieldType):
    """The name shown with what a person posts (:func:`check_display_name`'s rules)."""

    def parse(self, value: Any) -> str:
        name = as_text(value).strip()
        if message := check_display_name(name):
            raise refuse(message)
        return name


@dataclass(frozen=True)
class AsSent(FieldType):
    """Text exactly as sent (never stripped, nothing refused), cut to ``limit`` characters: passwords
    to verify, the address typed at sign-in, a ``next`` path; whoever uses it checks it."""

    limit: int = 1000

    def parse(self, value: Any) -> str:
        value = first(value)
        return "" if value is None else str(value)[: self.limit]


@dataclass(frozen=True)
class Password(AsSent):
    """A new password: as sent (never stripped), of an acceptable length. That it is not the
    account's e-mail address is checked by the service, which knows the address."""

    def parse(self, value: Any) -> str:
        password = super().parse(value)
        if message := check_password(password):
            raise refuse(message)
        return password


@dataclass(frozen=True)
class Ticked(FieldType):
    """A checkbox that must be ticked (``yes``, ``on``…); ``message`` says why when it is not."""

    message: Message

    def parse(self, value: Any) -> bool:
        if not Flag().parse(value):
            raise refuse(self.message)
        return True


AGREE_TO_TERMS = lazy_gettext("Agree to the terms of use to register.")
AGREE_TO_PRIVACY = lazy_gettext("Agree to the privacy policy to register.")


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
          link=paths.absolute(settings, paths.confirm_email(token)))


# --- registration --------------------------------------------------------------------------------


class RegistrationForm(FormModel):
    """What the registration form sends (``locale`` is the language the page was shown in)."""

    email: Annotated[str, Email()] = ""
    display_name: Annotated[str, DisplayName()] = ""
    password: Annotated[str, Password()] = ""
    accept_terms: Annotated[bool, Ticked(AGREE_TO_TERMS)] = False
    accept_privacy: Annotated[bool, Ticked(AGREE_TO_PRIVACY)] = False
    locale: Annotated[str, AsSent(10)] = "ja"
    terms_version: Annotated[str, AsSent(40)] = ""
    """The versions the form showed (empty: whatever is published)."""
    privacy_version: Annotated[str, AsSent(40)] = ""



class _AddressTaken(Exception):
    """A concurrent registration of the same address won the race: nothing is written."""


def register(session: Session, settings: Settings, form: RegistrationForm, *,
             password_hash: str | None = None) -> User | None:
    """Create an unconfirmed account and send the confirmation link.

    Returns None when the address is taken, so the answer on screen is the same either way; the
    worker then tells the owner with a "you already have an account" e-mail, at most once a day
    (:func:`tell_already_registered`: anyone can register any address, as often as they like). Either
    way the request hashes the password once and sends one task after commit (the confirmation's
    delivery, or the worker's decision), so it takes as long for a taken address. ``password_hash``: the hash of
    ``form.password``, made beforehand by a caller that registers many accounts with one password
    (the demo, whose password is published: argon2 takes about a fifth of a second per hash).
    """
    errors: dict[str, str] = {}
    if message := check_password(form.password, form.email):  # the length was checked; now the address
        errors["password"] = message
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

    # Hashed before the unit of work (and its first query): no write lock is held while argon2 works,
    # and a taken address costs the same time as a new one.
    password_hash = password_hash or passwords.hash_password(form.password)
    try:
        with unit_of_work(session):
            return _register(session, settings, form, password_hash, versions)
    except _AddressTaken:
        return None


def _register(session: Session, settings: Settings, form: RegistrationForm, password_hash: str,
              versions: dict[ConsentDocument, str]) -> User | None:
    existing = session.exec(select(User).where(User.email == form.email)).first()
    if existing is not None:
        enqueue(session, ALREADY_REGISTERED_TASK, existing.id)
        return None
    user = User(email=form.email, display_name=form.display_name, password_hash=password_hash,
                locale=form.locale if form.locale in ("ja", "en") else "ja")
    session.add(user)
    try:
        session.flush()
    except sa.exc.IntegrityError:  # a concurrent registration of the same address won the race
        raise _AddressTaken() from None
    consents.record(session, user, versions)
    send_confirmation(session, settings, user)
    return user


@transactional
def tell_already_registered(session: Session, settings: Settings, user_id: int) -> bool:
    """The worker's half of a registration with a taken address: the "you already have an account"
    e-mail, unless one went to the address in the last day; whether it was sent."""
    user = session.get(User, user_id)
    if user is None or user.email is None:
        return False
    if not throttle.take_mail_allowance(session, throttle.ALREADY_REGISTERED_MAILS, user.email):
        return False
    _send(session, settings, user, "already_registered", N_("You already have a cocreate account"),
          link=paths.absolute(settings, paths.password_forgot()))
    return True


class _LinkUnusable(Exception):
    """The link cannot be used: its unit of work ends without writing (its caller answers None)."""


def confirm_email(session: Session, token: str) -> User | None:
    """Confirm the address of the link's account; None when the link is unusable."""
    try:
        with unit_of_work(session):
            row = redeem_token(session, token, TokenPurpose.CONFIRM_EMAIL)
            user = session.get(User, row.user_id) if row is not None else None
            if user is None or not user.is_active:
                raise _LinkUnusable()
            if user.email_confirmed_at is None:
                user.email_confirmed_at = utcnow()
            return user
    except _LinkUnusable:
        return None


# --- sign-in -------------------------------------------------------------------------------------


class SignInFailed(Invalid):
    """Sign-in refused: the message is shown beside ``field`` (the e-mail address)."""

    def __init__(self, message: str, field: str = "email") -> None:
        super().__init__({field: message})
        self.message = message
        self.field = field


class SignInForm(FormModel):
    """What the sign-in form sends, as typed: :func:`authenticate` reads the address itself."""

    email: Annotated[str, AsSent(400)] = ""
    password: Annotated[str, AsSent(1000)] = ""
    next: Annotated[str, AsSent(500)] = ""
    lang: Annotated[str, AsSent(10)] = ""


def throttle_key(email: str) -> str:
    """The sign-in throttle row counting every client's failures against one address."""
    return throttle.account_key(email)


_throttle = throttle.row  # also counts wrong current passwords (cocreate.accounts.self_service)


def _locked_message(until: datetime) -> str:
    minutes = max(1, math.ceil((until - utcnow()).total_seconds() / 60))
    return _("Too many failed sign-in attempts. Try again in %(minutes)s minutes.", minutes=minutes)


def authenticate(session: Session, email: str, password: str, ip_address: str) -> User:
    """The active, confirmed user with these credentials, or :class:`SignInFailed`.

    Failures count per address and client, per client and per address (:mod:`cocreate.accounts.throttle`):
    a client that keeps guessing waits longer and longer, while the owner signs in from elsewhere; only a
    guess spread over very many clients locks the address everywhere. Unknown addresses count alike, so
    no lock says which addresses are registered, and they verify a dummy hash, so they take as long.
    The password is checked between two short units of work: argon2 takes a fifth of a second, and
    holding the write lock through it would make every other writer wait.
    """
    email = normalize_email(email)
    password = password or ""
    keys = throttle.SignInKeys.of(email, ip_address or "unknown")
    now = utcnow()
    with unit_of_work(session):  # reads only; it ends before argon2 works
        rows = [session.get(SignInThrottle, key) for key, _limit in keys.with_limits()]
        if (until := throttle.longest_lock(rows, now)) is not None:
            raise SignInFailed(_locked_message(until))
        user = session.exec(select(User).where(User.email == email)).first() if email else None
        stored_hash = user.password_hash if user is not None else None

    verified = user is not None and passwords.verify_password(stored_hash, password)
    if user is None:
        passwords.burn_time(password)
    new_hash = passwords.hash_password(password) if verified and stored_hash and passwords.needs_rehash(
        stored_hash) else None

    try:
        with unit_of_work(session):
            outcome = _record_sign_in(session, keys, user, verified, new_hash)
    except sa.exc.IntegrityError:  # a concurrent first failure created the same throttle row
        with unit_of_work(session):
            outcome = _record_sign_in(session, keys, user, verified, new_hash)
    if isinstance(outcome, str):  # refused: the failure counts were committed first
        raise SignInFailed(outcome)
    return outcome


def _record_sign_in(session: Session, keys: throttle.SignInKeys, user: User | None, verified: bool,
                    new_hash: str | None) -> User | str:
    """The signed-in user, or why sign-in is refused (the counts change either way, so both commit)."""
    rows = [(throttle.row(session, key), limit) for key, limit in keys.with_limits()]
    session.flush()  # a throttle row created concurrently fails here, inside the unit of work
    now = utcnow()
    # Locked by a concurrent attempt while the password was checked: refused, and not counted.
    if (until := throttle.longest_lock([row for row, _limit in rows], now)) is not None:
        return _locked_message(until)
    if not verified or user is None:
        for row, limit in rows:
            throttle.fail(row, limit, now)
        return _("The e-mail address or password is not correct.")
    user = session.get(User, user.id, populate_existing=True)
    if user is None or not user.is_active:
        return _("This account cannot sign in. Contact the ward if you think this is a mistake.")
    if not user.is_confirmed:
        return _("Confirm your e-mail address first: open the link we sent you.")
    pair, _limit = rows[0]  # this client knows the password: its own count starts again
    pair.failures = 0
    pair.locked_until = None
    pair.window_started_at = now
    if new_hash is not None:
        user.password_hash = new_hash
    user.last_sign_in_at = now
    return user


# --- password reset ------------------------------------------------------------------------------


class ForgotForm(FormModel):
    email: Annotated[str, Email()] = ""


@transactional
def request_password_reset(session: Session, email: str) -> None:
    """Have the worker send a reset link if the address has an active account (:func:`send_reset_link`).

    The request itself only queues that task, with the address as typed: it does the same, in the same
    time, whether or not the address is registered, and the caller's answer is the same either way.
    """
    enqueue(session, RESET_LINK_TASK, normalize_email(email)[:320])


@transactional
def send_reset_link(session: Session, settings: Settings, email: str) -> bool:
    """The worker's half of a reset request: a link to the address's active account, at most
    :data:`~cocreate.accounts.throttle.RESET_MAILS` an hour (anyone can ask for one, as often as they
    like); whether one was sent."""
    user = session.exec(select(User).where(User.email == email)).first() if email else None
    if user is None or not user.is_active:
        return False
    if not throttle.take_mail_allowance(session, throttle.RESET_MAILS, email):
        return False
    token = issue_token(session, user, TokenPurpose.RESET_PASSWORD, RESET_PASSWORD_TTL)
    _send(session, settings, user, "reset_password", N_("Reset your cocreate password"),
          link=paths.absolute(settings, paths.password_reset(token)))
    return True


class ResetForm(FormModel):
    """The new password, as sent: :func:`reset_password` checks it once it knows the link is usable."""

    password: Annotated[str, AsSent(1000)] = ""


def _link_expired() -> Invalid:
    return Invalid({"token": _("This link has expired or was already used. Ask for a new one.")})


def reset_password(session: Session, token: str, new_password: str) -> User:
    """Set a new password with a reset link; every existing session of the user is signed out."""
    with unit_of_work(session):  # reads only; it ends before the new password is hashed
        peek = _usable_token(session, token, TokenPurpose.RESET_PASSWORD)
        owner = session.get(User, peek.user_id) if peek else None
        email = owner.email if owner is not None else None
    if owner is None:
        raise _link_expired()
    if message := check_password(new_password or "", email or ""):
        raise Invalid({"password": message})
    password_hash = passwords.hash_password(new_password)
    with unit_of_work(session):
        row = redeem_token(session, token, TokenPurpose.RESET_PASSWORD)
        user = session.get(User, row.user_id) if row else None
        if user is None or not user.is_active:
            raise _link_expired()
        user.password_hash = password_hash
        user.session_epoch += 1
        if user.email:  # the link proves the address: every sign-in lock on it is lifted
            throttle.forget_account(session, user.email)
        # A change of address requested from a stolen session must not outlive the reset.
        spend_tokens(session, user.id, TokenPurpose.CHANGE_EMAIL, TokenPurpose.RESET_PASSWORD)  # type: ignore[arg-type]
        if user.email_confirmed_at is None:
            user.email_confirmed_at = utcnow()  # the link proves the address
        return user
