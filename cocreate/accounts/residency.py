"""Residency verification (区民確認): pluggable methods and the services residents and staff use.

A method is a small object registered here by name; ``User.residency_method`` stores that name, so
a method added later (say, a My Number card check) plugs in without touching the user table. Two are
built in:

- ``postal_code``: the resident asks for a one-time code, ward staff print the codes as a CSV for
  mailing to the resident's postal address, and the resident enters the code from the letter;
- ``staff_check``: a staff member checks the resident's address (at the counter, against the
  resident register) and marks them verified, with a note of what was checked.

The name and postal address are kept only while a request is open: every way a request ends
(verified, rejected, cancelled) erases them, together with the code's hash.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Annotated, Any, Protocol, runtime_checkable

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate import audit, mail, paths, permissions
from cocreate.accounts.models import ResidencyRequest, ResidencyStatus, User
from cocreate.accounts.permissions import Principal, require_signed_in, user_allowed_to
from cocreate.accounts.services import FormModel, normalize_email
from cocreate.db import transactional, unit_of_work
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.forms import FieldType, Line, Text, as_text, refuse
from cocreate.i18n import N_, WARD_TIMEZONE, format_date, lazy_gettext, ngettext, using_locale
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from cocreate.web.pagination import Page, paginate
from cocreate.web.templating import render_standalone

OPEN_STATUSES = (ResidencyStatus.REQUESTED, ResidencyStatus.CODE_ISSUED)
MAX_BATCH = 1000
"""Most requests one code generation may cover (a print run, not the whole table by accident)."""

_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d\uff70"
_POSTAL_JUNK = re.compile(f"[\\s{re.escape(_DASHES)}]")


# --- methods -------------------------------------------------------------------------------------


@runtime_checkable
class ResidencyMethod(Protocol):
    """A way to verify residency. ``name`` is what ``User.residency_method`` stores."""

    name: str
    resident_can_request: bool
    """Whether a resident starts it from their own page (otherwise only staff use it)."""

    @property
    def label(self) -> str:
        """The method's name for people, in the current locale."""
        ...


class PostalCodeMethod:
    """A one-time code printed by the ward and mailed to the resident's postal address."""

    name = "postal_code"
    resident_can_request = True
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L look-alikes on paper
    code_length = 8
    validity_days = 60
    max_attempts = 5
    # Itabashi's postal codes (板橋 173, 板橋北 174, 高島平 175): a code mailed elsewhere proves nothing.
    ward_postal_prefixes = ("173", "174", "175")

    @property
    def label(self) -> str:
        return _("One-time code sent by post")

    def new_code(self) -> str:
        return "".join(secrets.choice(self.alphabet) for _ in range(self.code_length))

    def format_code(self, code: str) -> str:
        """``ABCD-EFGH``: easier to read off a letter and type in."""
        return f"{code[:4]}-{code[4:]}"

    def normalise_code(self, raw: str) -> str:
        """What the resident typed, as stored: full-width, lower case, spaces and hyphens forgiven."""
        return _POSTAL_JUNK.sub("", unicodedata.normalize("NFKC", raw)).upper()

    def is_well_formed(self, code: str) -> bool:
        return len(code) == self.code_length and all(ch in self.alphabet for ch in code)

    def code_hash(self, code: str) -> str:
        # A plain SHA-256 is enough: a code works only for the signed-in owner of its request, so
        # recovering one from a leaked hash gives nothing without that account too.
        return hashlib.sha256(code.encode()).hexdigest()

    def expiry(self, now: datetime) -> datetime:
        """The end of the 60th day in the ward's time zone, so the date printed on the letter holds."""
        last_day = now.astimezone(WARD_TIMEZONE).date() + timedelta(days=self.validity_days)
        return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=WARD_TIMEZONE)

    def accepts_postal_code(self, postal_code: str) -> bool:
        return postal_code[:3] in self.ward_postal_prefixes


class StaffCheckMethod:
    """A staff member checked the resident's address themselves (counter, resident register)."""

    name = "staff_check"
    resident_can_request = False

    @property
    def label(self) -> str:
        return _("Checked by ward staff")


METHODS: dict[str, ResidencyMethod] = {}


def register_method(method: ResidencyMethod) -> ResidencyMethod:
    """Make a method known by its name (later registrations of the same name replace earlier ones)."""
    METHODS[method.name] = method
    return method


def get_method(name: str | None) -> ResidencyMethod | None:
    return METHODS.get(name or "")


def method_label(name: str | None) -> str:
    """A method's label; an unknown (retired) method shows its stored name."""
    method = get_method(name)
    return method.label if method is not None else (name or "")


POSTAL_CODE = PostalCodeMethod()
STAFF_CHECK = StaffCheckMethod()
register_method(POSTAL_CODE)
register_method(STAFF_CHECK)


# --- helpers -------------------------------------------------------------------------------------


def normalise_postal_code(raw: str) -> str | None:
    """``〒１７３－８５０１`` or ``1738501`` → ``173-8501``; None when it is not seven digits."""
    text = unicodedata.normalize("NFKC", raw or "").strip().removeprefix("〒")
    text = _POSTAL_JUNK.sub("", text)
    if not re.fullmatch(r"[0-9]{7}", text):
        return None
    return f"{text[:3]}-{text[3:]}"


def _nfc(text: str) -> str:
    """Stored composed (NFC), so the same name typed on two devices is the same text."""
    return unicodedata.normalize("NFC", text)


def _resident_label(user: User) -> str:
    # Entries a resident causes carry no name: the audit log is append-only and outlives accounts.
    return f"user #{user.id}"


def _load_user(session: Session, user_id: int | None, *, lock: bool = False) -> User:
    statement = select(User).where(User.id == user_id)
    user = session.exec(statement.with_for_update() if lock else statement).first()
    if user is None or user.deleted_at is not None:
        raise NotFound()
    return user


def open_request(session: Session, user_id: int | None, *, lock: bool = False) -> ResidencyRequest | None:
    """The user's request still in progress (requested or code issued), if any."""
    statement = (
        select(ResidencyRequest)
        .where(ResidencyRequest.user_id == user_id, col(ResidencyRequest.status).in_(OPEN_STATUSES))
        .order_by(col(ResidencyRequest.id).desc())
    )
    return session.exec(statement.with_for_update() if lock else statement).first()


def _end(request: ResidencyRequest, status: ResidencyStatus, *, by: User | None, note: str | None = None) -> None:
    """Close a request and erase what was kept only for mailing."""
    request.status = status
    request.decided_at = utcnow()
    request.decided_by_id = by.id if by is not None else None
    request.full_name = ""
    request.postal_code = ""
    request.address = ""
    request.code_hash = None
    if note is not None:
        request.note = note


def _mark_user_verified(user: User, method: ResidencyMethod) -> None:
    user.residency_verified_at = utcnow()
    user.residency_method = method.name


def _mail(session: Session, settings: Settings, user: User, template: str, subject: str, **context: object) -> None:
    if not user.email:
        return
    with using_locale(user.locale):
        text = render_standalone(f"mail/{template}.txt", user=user, base_url=settings.base_url, **context)
        mail.queue_email(session, to=user.email, subject=_(subject), text=text)


# --- the resident's side -------------------------------------------------------------------------


@dataclass(frozen=True)
class PostalCode(FieldType):
    """A postal code in the ward, as ``173-8501`` (see :func:`normalise_postal_code`)."""

    def parse(self, value: Any) -> str:
        raw = as_text(value)
        if not raw.strip():
            raise refuse(_("Enter your postal code."))
        postal_code = normalise_postal_code(raw[:40])
        if postal_code is None:
            raise refuse(_("Enter the postal code as 7 digits, like 173-8501."))
        if not POSTAL_CODE.accepts_postal_code(postal_code):
            raise refuse(_("Enter a postal code in Itabashi ward (it starts with 173, 174 or 175)."))
        return postal_code


class AddressForm(FormModel):
    """Where to mail the code: the name for the envelope, 〒 and the address."""

    full_name: Annotated[str, Line(100, lazy_gettext("Enter your name as it should appear on the envelope."))] = ""
    postal_code: Annotated[str, PostalCode()] = ""
    address: Annotated[str, Line(300, lazy_gettext(
        "Enter your address in the ward, with the building and room number."))] = ""


@dataclass(frozen=True)
class ResidentStatus:
    user: User
    open_request: ResidencyRequest | None
    last_ended: ResidencyRequest | None

    @property
    def method_label(self) -> str:
        return method_label(self.user.residency_method)

    @property
    def code_expired(self) -> bool:
        request = self.open_request
        return bool(request and request.code_expires_at and request.code_expires_at <= utcnow())

    @property
    def attempts_left(self) -> int:
        used = self.open_request.code_attempts if self.open_request else 0
        return max(0, POSTAL_CODE.max_attempts - used)


def resident_status(session: Session, actor: Principal) -> ResidentStatus:
    """What the resident's own page shows: verified or not, and the request in progress."""
    user = _load_user(session, require_signed_in(actor).id)
    current = open_request(session, user.id)
    last_ended = session.exec(
        select(ResidencyRequest)
        .where(ResidencyRequest.user_id == user.id, col(ResidencyRequest.status).not_in(OPEN_STATUSES))
        .order_by(col(ResidencyRequest.id).desc())
        .limit(1)
    ).first()
    return ResidentStatus(user=user, open_request=current, last_ended=last_ended)


@transactional
def request_code(session: Session, actor: Principal, form: AddressForm) -> ResidencyRequest:
    """Ask for a code by post; one open request per user, and not once verified."""
    user = _load_user(session, require_signed_in(actor).id, lock=True)  # serialises a user's requests
    if user.is_verified_resident:
        raise Invalid({"request": _("You are already verified as a resident.")})
    if open_request(session, user.id) is not None:
        raise Invalid({"request": _("You already have a request in progress. Cancel it first to change the address.")})
    request = ResidencyRequest(user_id=user.id, status=ResidencyStatus.REQUESTED, method=POSTAL_CODE.name,  # type: ignore[arg-type]
                               full_name=_nfc(form.full_name), postal_code=form.postal_code,
                               address=_nfc(form.address))
    session.add(request)
    return request


@transactional
def cancel_request(session: Session, actor: Principal) -> None:
    """The resident withdraws their open request; the address is erased."""
    user = _load_user(session, require_signed_in(actor).id, lock=True)
    request = open_request(session, user.id, lock=True)
    if request is None:
        raise Invalid({"request": _("You have no request in progress.")})
    _end(request, ResidencyStatus.CANCELLED, by=user)


def redeem_code(session: Session, actor: Principal, raw_code: str) -> User:
    """Enter the code from the letter. Wrong codes count (5 per issued code); expired codes are refused.

    A wrong code is committed as an attempt before :class:`Invalid` is raised.
    """
    with unit_of_work(session):
        outcome = _redeem_code(session, actor, raw_code)
    if isinstance(outcome, Invalid):  # a wrong code: the attempt it used up was committed
        raise outcome
    return outcome


def _redeem_code(session: Session, actor: Principal, raw_code: str) -> User | Invalid:
    user = _load_user(session, require_signed_in(actor).id, lock=True)
    request = open_request(session, user.id, lock=True)

    def fail(message: str) -> Invalid:
        return Invalid({"code": message})

    if user.is_verified_resident:
        raise fail(_("You are already verified as a resident."))
    if request is None or request.status != ResidencyStatus.CODE_ISSUED or request.code_hash is None:
        raise fail(_("No code has been sent to you yet. It arrives by post some days after you ask for it."))
    if request.code_attempts >= POSTAL_CODE.max_attempts:
        raise fail(_("The code was entered wrongly too many times and no longer works. "
                     "Cancel this request and ask for a new code."))
    if request.code_expires_at is not None and request.code_expires_at <= utcnow():
        raise fail(_("Your code expired on %(date)s. Cancel this request and ask for a new code.",
                     date=format_date(request.code_expires_at - timedelta(seconds=1))))
    code = POSTAL_CODE.normalise_code((raw_code or "")[:100])
    if not code:
        raise fail(_("Enter the code from the letter."))
    if not POSTAL_CODE.is_well_formed(code):
        raise fail(_("The code has 8 letters and digits, like ABCD-EFGH. Check what you typed."))
    if not hmac.compare_digest(POSTAL_CODE.code_hash(code), request.code_hash):
        request.code_attempts += 1
        left = POSTAL_CODE.max_attempts - request.code_attempts
        if left <= 0:
            return Invalid({"code": _("The code is not correct. It no longer works: "
                                      "cancel this request and ask for a new code.")})
        return Invalid({"code": ngettext("The code is not correct. You can try %(num)s more time.",
                                         "The code is not correct. You can try %(num)s more times.",
                                         left)})
    _end(request, ResidencyStatus.VERIFIED, by=None)
    _mark_user_verified(user, POSTAL_CODE)
    audit.record(session, actor_id=user.id, actor_label=_resident_label(user), action="residency.code_redeemed",
                 target_type="user", target_id=str(user.id), details={"request_id": request.id})
    return user


# --- the staff's side ----------------------------------------------------------------------------


STATUS_FILTERS = {"": OPEN_STATUSES, "requested": (ResidencyStatus.REQUESTED,),
                  "code_issued": (ResidencyStatus.CODE_ISSUED,)}


def pending_requests(session: Session, actor: Principal, status: str, page: int, per_page: int) -> Page[Any]:
    """Open requests, oldest first, each with its user: rows of ``(ResidencyRequest, User)``."""
    permissions.require(actor, "residency.manage")
    statuses = STATUS_FILTERS.get(status, OPEN_STATUSES)
    statement = (
        sa.select(ResidencyRequest, User)
        .join(User, col(User.id) == ResidencyRequest.user_id)
        .where(col(ResidencyRequest.status).in_(statuses))
        .order_by(col(ResidencyRequest.created_at), col(ResidencyRequest.id))
    )
    return paginate(session, statement, page, per_page, scalars=False)


def open_counts(session: Session, actor: Principal) -> dict[str, int]:
    """How many requests wait for a code, and how many codes wait to be entered."""
    permissions.require(actor, "residency.manage")
    rows = session.exec(
        select(ResidencyRequest.status, sa.func.count())
        .where(col(ResidencyRequest.status).in_(OPEN_STATUSES))
        .group_by(ResidencyRequest.status)
    ).all()
    counts = {status.value: 0 for status in OPEN_STATUSES}
    counts.update({ResidencyStatus(status).value: number for status, number in rows})
    return counts


@dataclass(frozen=True)
class IssuedCode:
    """One line of the mailing list: only here, once, is the code in plain text."""

    request_id: int
    full_name: str
    postal_code: str
    address: str
    code: str
    expires_at: datetime


@transactional
def issue_codes(session: Session, actor: Principal, request_ids: Sequence[int] | None) -> list[IssuedCode]:
    """Generate codes for the given open requests, or for every request still waiting for one.

    Generating again for a request replaces its code (the old letter stops working) and resets its
    attempts. Only the codes' hashes are stored; the returned list is the only copy of the codes.
    """
    staff = user_allowed_to(actor, "residency.manage")
    statement = select(ResidencyRequest).order_by(col(ResidencyRequest.id))
    if request_ids is None:
        statement = statement.where(ResidencyRequest.status == ResidencyStatus.REQUESTED)
    else:
        ids = sorted(set(request_ids))
        if not ids:
            raise Invalid({"request_ids": _("Select at least one request.")})
        if len(ids) > MAX_BATCH:
            raise Invalid({"request_ids": _("Select at most %(max)s requests at a time.", max=MAX_BATCH)})
        statement = statement.where(col(ResidencyRequest.id).in_(ids), col(ResidencyRequest.status).in_(OPEN_STATUSES))
    rows = session.exec(statement.limit(MAX_BATCH).with_for_update()).all()
    if not rows:
        raise Invalid({"request_ids": _("There are no open requests to generate codes for.")})
    now = utcnow()
    issued: list[IssuedCode] = []
    for row in rows:
        code = POSTAL_CODE.new_code()
        row.code_hash = POSTAL_CODE.code_hash(code)
        row.code_expires_at = POSTAL_CODE.expiry(now)
        row.code_attempts = 0
        row.status = ResidencyStatus.CODE_ISSUED
        row.issued_at = now
        row.issued_by_id = staff.id
        issued.append(IssuedCode(request_id=row.id, full_name=row.full_name, postal_code=row.postal_code,  # type: ignore[arg-type]
                                 address=row.address, code=code, expires_at=row.code_expires_at))
        audit.record(session, actor_id=staff.id, actor_label=staff.display_name, action="residency.code_issued",
                     target_type="residency_request", target_id=str(row.id), details={"user_id": row.user_id})
    return issued


def _csv_cell(value: str) -> str:
    """Keep spreadsheets from running a cell as a formula (=, +, -, @ …) when the file is opened."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def codes_csv(issued: Sequence[IssuedCode]) -> bytes:
    """The mailing list as CSV in UTF-8 with a BOM (so Excel reads the Japanese correctly)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_("Request ID"), _("Full name"), _("Postal code"), _("Home address"), _("One-time code"),
                     _("Valid until")])
    for item in issued:
        last_day = (item.expires_at - timedelta(seconds=1)).astimezone(WARD_TIMEZONE).date()
        writer.writerow([item.request_id, _csv_cell(item.full_name), item.postal_code, _csv_cell(item.address),
                         POSTAL_CODE.format_code(item.code), last_day.isoformat()])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def find_user(session: Session, actor: Principal, email: str) -> User | None:
    """The (not deleted) account with this e-mail address, for staff at the counter."""
    permissions.require(actor, "residency.manage")
    email = normalize_email(email)[:320]
    if not email:
        return None
    return session.exec(select(User).where(User.email == email, col(User.deleted_at).is_(None))).first()


@dataclass(frozen=True)
class UserResidency:
    user: User
    open_request: ResidencyRequest | None
    history: Sequence[ResidencyRequest]

    @property
    def method_label(self) -> str:
        return method_label(self.user.residency_method)


def user_residency(session: Session, actor: Principal, user_id: int) -> UserResidency:
    """A user's standing and every request they made, newest first (for the staff page)."""
    permissions.require(actor, "residency.manage")
    user = _load_user(session, user_id)
    history = session.exec(
        select(ResidencyRequest).where(ResidencyRequest.user_id == user.id)
        .order_by(col(ResidencyRequest.id).desc()).limit(50)
    ).all()
    current = next((row for row in history if row.status in OPEN_STATUSES), None)
    return UserResidency(user=user, open_request=current, history=history)


NOTE_MAX = 500
GIVE_THE_REASON = lazy_gettext("Give the reason; the resident is told it.")


class VerifyForm(FormModel):
    note: Annotated[str, Text(NOTE_MAX, required=lazy_gettext(
        "Note what you checked, for example the document you saw."))] = ""


class RejectForm(FormModel):
    reason: Annotated[str, Text(NOTE_MAX, required=GIVE_THE_REASON)] = ""


class RevokeForm(FormModel):
    revoke_reason: Annotated[str, Text(NOTE_MAX, required=GIVE_THE_REASON)] = ""


@transactional
def mark_verified(session: Session, actor: Principal, user_id: int, form: VerifyForm) -> User:
    """A staff member checked the user's address and verifies them (closing any open request)."""
    staff = user_allowed_to(actor, "residency.manage")
    user = _load_user(session, user_id, lock=True)
    note = _nfc(form.note)
    permissions.require(actor, "residency.verify", user)
    if user.is_verified_resident:
        raise Invalid({"note": _("This user is already verified as a resident.")})
    request = open_request(session, user.id, lock=True)
    if request is None:
        request = ResidencyRequest(user_id=user.id, status=ResidencyStatus.VERIFIED, method=STAFF_CHECK.name)  # type: ignore[arg-type]
        session.add(request)
    request.method = STAFF_CHECK.name
    _end(request, ResidencyStatus.VERIFIED, by=staff, note=note)
    _mark_user_verified(user, STAFF_CHECK)
    session.flush()
    audit.record(session, actor_id=staff.id, actor_label=staff.display_name, action="residency.verified",
                 target_type="user", target_id=str(user.id),
                 details={"request_id": request.id, "method": STAFF_CHECK.name, "note": note})
    return user


@transactional
def reject_request(session: Session, settings: Settings, actor: Principal, user_id: int,
                   form: RejectForm) -> ResidencyRequest:
    """Refuse the user's open request with a reason they are told by e-mail; the address is erased."""
    staff = user_allowed_to(actor, "residency.manage")
    user = _load_user(session, user_id, lock=True)
    reason = _nfc(form.reason)
    request = open_request(session, user.id, lock=True)
    if request is None:
        raise Invalid({"reason": _("This user has no request in progress.")})
    _end(request, ResidencyStatus.REJECTED, by=staff, note=reason)
    audit.record(session, actor_id=staff.id, actor_label=staff.display_name, action="residency.rejected",
                 target_type="residency_request", target_id=str(request.id),
                 details={"user_id": user.id, "reason": reason})
    _mail(session, settings, user, "residency_rejected", N_("Your residency verification request"),
          reason=reason, link=paths.absolute(settings, paths.account_residency()))
    return request


@transactional
def revoke(session: Session, settings: Settings, actor: Principal, user_id: int, form: RevokeForm) -> User:
    """Withdraw a user's verification (moved away, verified by mistake); they are told why."""
    staff = user_allowed_to(actor, "residency.manage")
    user = _load_user(session, user_id, lock=True)
    reason = _nfc(form.revoke_reason)
    if not user.is_verified_resident:
        raise Invalid({"revoke_reason": _("This user is not verified.")})
    previous_method = user.residency_method
    user.residency_verified_at = None
    user.residency_method = None
    audit.record(session, actor_id=staff.id, actor_label=staff.display_name, action="residency.revoked",
                 target_type="user", target_id=str(user.id),
                 details={"method": previous_method, "reason": reason})
    _mail(session, settings, user, "residency_revoked", N_("Your residency verification was withdrawn"),
          reason=reason, link=paths.absolute(settings, paths.account_residency()))
    return user


def erase_for_deleted_account(session: Session, user: User) -> None:
    """Account deletion: open requests are cancelled; every request loses its personal fields and note."""
    for request in session.exec(select(ResidencyRequest).where(ResidencyRequest.user_id == user.id)).all():
        if request.status in OPEN_STATUSES:
            _end(request, ResidencyStatus.CANCELLED, by=user)
        request.full_name = ""
        request.postal_code = ""
        request.address = ""
        request.code_hash = None
        request.note = ""
