"""Booking requests (利用申請) for test fields, and the rule that two approved bookings never overlap.

States and who moves a request between them are declared once, in :data:`ALLOWED` and
:data:`BY_ORGANISATION` / :data:`BY_MANAGER`; every change goes through :func:`_move`, which records a
:class:`BookingEvent` and tells the organisation's members (and, for a submission, the field's
coordinators) in the site and by e-mail.

Members of an organisation write drafts; only a verified organisation submits. The field's managers
(its coordinators and site admins, :mod:`labs.access`) review, ask for changes, approve, reject,
reschedule and cancel; each of those is audited.

No double booking: approving (by a manager, or at once on submit when the field needs no approval)
and rescheduling run in one transaction that first locks the field row (on SQLite every write
transaction begins IMMEDIATE, which serialises writers anyway), re-checks the periods against the
field's blocking periods, then makes its own periods block. On PostgreSQL the exclusion constraint
``booking_period_no_overlap`` says no as well; its IntegrityError becomes the same validation error.

:func:`problems` reports every problem of a request at once, per period, in the reader's language.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from litestar.exceptions import NotFoundException
from sqlmodel import Session, col, func, select

from cocreate import audit
from cocreate.accounts.models import Organisation, OrganisationMember, User
from cocreate.accounts.permissions import (
    Forbidden,
    Principal,
    require_organisation_member,
    require_signed_in,
    require_verified_organisation,
)
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.files import storage
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext, ngettext
from cocreate.notifications import services as notifications
from cocreate.settings import Settings
from cocreate.web.pagination import Page, paginate
from labs import access, notices
from labs.models import (
    LOCAL_TIMEZONE,
    Blackout,
    Booking,
    BookingDocument,
    BookingEvent,
    BookingPeriod,
    BookingStatus,
    DocumentKind,
    NoticeKind,
    TestField,
    TestFieldCoordinator,
    TestFieldHours,
    TestFieldRequirement,
    Trial,
    TrialOrganisation,
)

log = logging.getLogger(__name__)

TZ = ZoneInfo(LOCAL_TIMEZONE)
MAX_PERIODS = 20
FORM_ROWS = 5
"""Period rows a form shows at least (blank rows are ignored)."""
MAX_TITLE = 200
MAX_TEXT = 5000
MAX_NOTE = 2000
MAX_PEOPLE = 100_000
MAX_DOCUMENTS = 20
MAX_FILE_BYTES = 10 * 1024 * 1024
STORAGE_FOLDER = "bookings"
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DATETIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::\d{2})?$")

SUBMITTED_KIND = "booking.submitted"
STATUS_KIND = "booking.status"
TARGET = "booking"

S = BookingStatus

ALLOWED: dict[BookingStatus, frozenset[BookingStatus]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.UNDER_REVIEW, S.CHANGES_REQUESTED, S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.UNDER_REVIEW: frozenset({S.CHANGES_REQUESTED, S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.CHANGES_REQUESTED: frozenset({S.SUBMITTED, S.REJECTED, S.CANCELLED}),
    S.APPROVED: frozenset({S.APPROVED, S.CANCELLED, S.COMPLETED}),  # approved → approved: rescheduled
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.COMPLETED: frozenset(),
}
"""Every state change a booking may make; anything else is refused."""

BY_ORGANISATION = frozenset({S.SUBMITTED, S.CANCELLED})
"""States the organisation's members move a request to."""
BY_MANAGER = frozenset({S.UNDER_REVIEW, S.CHANGES_REQUESTED, S.APPROVED, S.REJECTED, S.CANCELLED})
"""States the field's managers move a request to."""
EDITABLE = frozenset({S.DRAFT, S.CHANGES_REQUESTED})
"""The organisation edits its request and its documents only in these states."""
OPEN = frozenset({S.SUBMITTED, S.UNDER_REVIEW})
"""Waiting for the field's managers."""
NOTE_REQUIRED = frozenset({S.CHANGES_REQUESTED, S.REJECTED, S.CANCELLED})


def can_move(current: BookingStatus, target: BookingStatus) -> bool:
    return target in ALLOWED[current]


class NotFound(NotFoundException):
    """The booking does not exist or the actor may not see it (HTTP 404)."""


# --- notification kinds --------------------------------------------------------------------------


def _submitted_message(params: dict[str, Any]) -> str:
    return _("A booking request for “%(field)s” has been submitted: %(title)s",
             field=str(params.get("field_name", "")), title=str(params.get("title", "")))


def _submitted_subject(params: dict[str, Any]) -> str:
    return _("New booking request: %(title)s", title=str(params.get("title", "")))


def _status_label(params: dict[str, Any]) -> str:
    try:
        return BookingStatus(str(params.get("status", ""))).label
    except ValueError:
        return ""


def _status_message(params: dict[str, Any]) -> str:
    if params.get("rescheduled"):
        return _("The dates of your booking “%(title)s” have been changed.", title=str(params.get("title", "")))
    return _("Your booking request “%(title)s” is now: %(status)s",
             title=str(params.get("title", "")), status=_status_label(params))


def _status_subject(params: dict[str, Any]) -> str:
    if params.get("rescheduled"):
        return _("Booking dates changed: %(title)s", title=str(params.get("title", "")))
    return _("Booking request %(status)s: %(title)s", status=_status_label(params), title=str(params.get("title", "")))


KINDS = {
    SUBMITTED_KIND: notifications.Kind(_submitted_message, _submitted_subject, "mail/booking_submitted.txt",
                                       label=lazy_gettext("New booking requests for your test fields")),
    STATUS_KIND: notifications.Kind(_status_message, _status_subject, "mail/booking_status.txt",
                                    label=lazy_gettext("Your organisations' booking requests")),
}
"""This module's notification kinds (listed in the labs manifest)."""


# --- time helpers --------------------------------------------------------------------------------


def to_local(value: datetime) -> datetime:
    return value.astimezone(TZ) if value.tzinfo else value.replace(tzinfo=UTC).astimezone(TZ)


def local_input(value: datetime | None) -> str:
    """``2026-12-01T09:00`` in local time, the value of a ``datetime-local`` input."""
    return to_local(value).strftime("%Y-%m-%dT%H:%M") if value is not None else ""


def parse_local(text: str) -> datetime | None:
    """A local date and time typed in a form (``2026-12-01T09:00`` or ``2026-12-01 09:00``) in UTC."""
    raw = unicodedata.normalize("NFKC", text or "").strip()
    match = _DATETIME.match(raw)
    if match is None:
        return None
    year, month, day, hour, minute = (int(part) for part in match.groups())
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=TZ)
    except ValueError:
        return None
    return local.astimezone(UTC)


def duration_text(minutes: int) -> str:
    if minutes % 60 == 0:
        return ngettext("%(num)s hour", "%(num)s hours", minutes // 60, num=minutes // 60)
    return _("%(minutes)s minutes", minutes=minutes)


def weekday_names() -> list[str]:
    return [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]


def _clock(minute: int) -> str:
    return f"{minute // 60}:{minute % 60:02d}"


def merged_windows(hours: Sequence[TestFieldHours]) -> dict[int, list[tuple[int, int]]]:
    """Per weekday, the bookable windows with touching or overlapping ones merged, in order."""
    by_day: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for row in sorted(hours, key=lambda h: (h.weekday, h.opens_minute)):
        windows = by_day[row.weekday]
        if windows and row.opens_minute <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], row.closes_minute))
        else:
            windows.append((row.opens_minute, row.closes_minute))
    return dict(by_day)


def describe_hours(hours: Sequence[TestFieldHours]) -> str:
    """``Mon–Fri 9:00–17:00`` (consecutive days with the same windows grouped), in the reader's language."""
    windows = merged_windows(hours)
    if not windows:
        return _("no bookable hours")
    names = weekday_names()
    groups: list[tuple[int, int, list[tuple[int, int]]]] = []
    for day in range(7):
        day_windows = windows.get(day)
        if not day_windows:
            continue
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == day_windows:
            groups[-1] = (groups[-1][0], day, day_windows)
        else:
            groups.append((day, day, day_windows))
    parts = []
    for first, last, day_windows in groups:
        days = names[first] if first == last else f"{names[first]}–{names[last]}"
        spans = ", ".join(f"{_clock(a)}–{_clock(b)}" for a, b in day_windows)
        parts.append(f"{days} {spans}")
    return "; ".join(parts)


def hours_text(session: Session, field_id: int | None) -> str:
    return describe_hours(session.exec(select(TestFieldHours).where(TestFieldHours.field_id == field_id)).all())


def within_hours(windows: dict[int, list[tuple[int, int]]], starts_at: datetime, ends_at: datetime) -> bool:
    """Every local day the period touches has one window covering the period's part on that day."""
    start, end = to_local(starts_at), to_local(ends_at)
    day = start.date()
    while True:
        day_start = datetime.combine(day, time(0), tzinfo=TZ)
        part_start = max(start, day_start)
        part_end = min(end, day_start + timedelta(days=1))
        if part_start >= part_end:
            break
        first = int((part_start - day_start).total_seconds() // 60)
        last = int(-(-(part_end - day_start).total_seconds() // 60))  # rounded up
        if not any(opens <= first and last <= closes for opens, closes in windows.get(day.weekday(), [])):
            return False
        day += timedelta(days=1)
    return True


# --- input ---------------------------------------------------------------------------------------


@dataclass
class BookingInput:
    """What the request form sends, as typed (the services parse and check it)."""

    field_id: str = ""
    organisation_id: str = ""
    trial_id: str = ""
    title: str = ""
    purpose: str = ""
    public_description: str = ""
    expected_people: str = ""
    equipment: str = ""
    periods: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    """(start, end) as typed, local time; rows with both blank are ignored."""


@dataclass
class Parsed:
    field: TestField | None = None
    organisation_id: int | None = None
    trial_id: int | None = None
    title: str = ""
    purpose: str = ""
    public_description: str = ""
    expected_people: int | None = None
    equipment: str = ""
    periods: list[tuple[int, datetime, datetime]] = dataclasses.field(default_factory=list)
    """(row number as shown in the form, start UTC, end UTC)."""


def _clean(text: str) -> str:
    return CONTROL_CHARS.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n")).strip()


def _int(text: str) -> int | None:
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    if not raw or len(raw) > 12 or not raw.lstrip("-").isdigit():
        return None
    return int(raw)


def form_of(booking: Booking, periods: Sequence[BookingPeriod]) -> BookingInput:
    return BookingInput(
        field_id=str(booking.field_id), organisation_id=str(booking.organisation_id),
        trial_id=str(booking.trial_id or ""), title=booking.title, purpose=booking.purpose,
        public_description=booking.public_description,
        expected_people="" if booking.expected_people is None else str(booking.expected_people),
        equipment=booking.equipment,
        periods=[(local_input(p.starts_at), local_input(p.ends_at)) for p in periods])


def _parse(session: Session, actor: Principal, data: BookingInput, *, fixed_field_id: int | None = None,
           fixed_organisation_id: int | None = None) -> tuple[Parsed, dict[str, str]]:
    """Read the form; errors here keep even a draft from being saved (it could not be stored)."""
    errors: dict[str, str] = {}
    parsed = Parsed()
    field_id = fixed_field_id if fixed_field_id is not None else _int(data.field_id)
    found = session.get(TestField, field_id) if field_id is not None and field_id > 0 else None
    if found is None or (not found.published and not access.manages_field(session, actor, found.id)):  # type: ignore[arg-type]
        errors["field_id"] = _("Choose a test field.")
    else:
        parsed.field = found
    organisation_id = fixed_organisation_id if fixed_organisation_id is not None else _int(data.organisation_id)
    if organisation_id is None or organisation_id not in access.member_organisation_ids(session, actor.user_id):
        errors["organisation_id"] = _("Choose one of your organisations.")
    else:
        parsed.organisation_id = organisation_id
    if (data.trial_id or "").strip():
        trial_id = _int(data.trial_id)
        if trial_id is None or organisation_id is None or organisation_id not in access.trial_organisation_ids(
                session, trial_id):
            errors["trial_id"] = _("Choose one of your organisation's trials, or none.")
        else:
            parsed.trial_id = trial_id
    parsed.title = _clean(data.title)
    if not parsed.title:
        errors["title"] = _("Enter a title.")
    elif len(parsed.title) > MAX_TITLE or "\n" in parsed.title:
        errors["title"] = _("Use at most %(max)s characters on one line.", max=MAX_TITLE)
    for name in ("purpose", "public_description", "equipment"):
        value = _clean(getattr(data, name))
        if len(value) > MAX_TEXT:
            errors[name] = _("Use at most %(max)s characters.", max=MAX_TEXT)
        setattr(parsed, name, value)
    if (data.expected_people or "").strip():
        people = _int(data.expected_people)
        if people is None or people < 0 or people > MAX_PEOPLE:
            errors["expected_people"] = _("Enter the number of people as a whole number from 0 to %(max)s.",
                                          max=MAX_PEOPLE)
        else:
            parsed.expected_people = people
    rows = list(data.periods)
    if len([row for row in rows if (row[0] or "").strip() or (row[1] or "").strip()]) > MAX_PERIODS:
        errors["periods"] = _("A request can have at most %(max)s periods.", max=MAX_PERIODS)
        return parsed, errors
    for number, (start_text, end_text) in enumerate(rows, start=1):
        if not (start_text or "").strip() and not (end_text or "").strip():
            continue
        starts_at, ends_at = parse_local(start_text), parse_local(end_text)
        if starts_at is None:
            errors[f"period-{number}-start"] = _(
                "Period %(n)s: enter the start as a date and time, like 2026-12-01 09:00.", n=number)
        if ends_at is None:
            errors[f"period-{number}-end"] = _(
                "Period %(n)s: enter the end as a date and time, like 2026-12-01 17:00.", n=number)
        if starts_at is not None and ends_at is not None:
            if ends_at <= starts_at:
                errors[f"period-{number}-order"] = _("Period %(n)s: the end must be after the start.", n=number)
            else:
                parsed.periods.append((number, starts_at, ends_at))
    return parsed, errors


# --- the booking rules ---------------------------------------------------------------------------


def problems(session: Session, field_row: TestField, periods: Sequence[tuple[int, datetime, datetime]], *,
             booking_id: int | None = None, expected_people: int | None = None, check_notice: bool = True,
             check_documents: bool = False, now: datetime | None = None) -> dict[str, str]:
    """Every way these periods break the field's rules, one message per problem and period.

    Keys: ``period-{n}-{rule}``, ``periods``, ``expected_people``, ``document-{kind}``. Overlaps are
    checked against the field's blocking periods other than the booking's own (``booking_id``).
    """
    assert field_row.id is not None
    now = now or utcnow()
    errors: dict[str, str] = {}
    if not periods:
        errors["periods"] = _("Add at least one period.")
    hours = session.exec(select(TestFieldHours).where(TestFieldHours.field_id == field_row.id)).all()
    windows = merged_windows(hours)
    hours_text = describe_hours(hours)
    if periods:
        first = min(start for _n, start, _e in periods)
        last = max(end for _n, _s, end in periods)
        buffer = timedelta(minutes=field_row.buffer_minutes)
        blackouts = session.exec(select(Blackout).where(
            Blackout.field_id == field_row.id, col(Blackout.starts_at) < last,
            col(Blackout.ends_at) > first).order_by(col(Blackout.starts_at))).all()
        blocking_query = select(BookingPeriod).where(
            BookingPeriod.field_id == field_row.id, col(BookingPeriod.blocks).is_(True),
            col(BookingPeriod.starts_at) < last + buffer, col(BookingPeriod.blocked_until) > first)
        if booking_id is not None:
            blocking_query = blocking_query.where(BookingPeriod.booking_id != booking_id)
        blocking = session.exec(blocking_query).all()
    for number, starts_at, ends_at in periods:
        key = f"period-{number}"
        if starts_at < now:
            errors[f"{key}-past"] = _("Period %(n)s: the start is in the past.", n=number)
        if not within_hours(windows, starts_at, ends_at):
            errors[f"{key}-hours"] = _("Period %(n)s: outside bookable hours (%(hours)s).", n=number, hours=hours_text)
        minutes = (ends_at - starts_at).total_seconds() / 60
        if minutes < field_row.min_booking_minutes:
            errors[f"{key}-length"] = _("Period %(n)s: too short (at least %(length)s).", n=number,
                                        length=duration_text(field_row.min_booking_minutes))
        elif field_row.max_booking_minutes is not None and minutes > field_row.max_booking_minutes:
            errors[f"{key}-length"] = _("Period %(n)s: too long (at most %(length)s).", n=number,
                                        length=duration_text(field_row.max_booking_minutes))
        if check_notice and starts_at >= now:
            if starts_at - now < timedelta(hours=field_row.min_notice_hours):
                errors[f"{key}-notice"] = _("Period %(n)s: too little notice (request at least %(hours)s hours "
                                            "ahead).", n=number, hours=field_row.min_notice_hours)
            elif field_row.max_notice_days is not None and starts_at - now > timedelta(days=field_row.max_notice_days):
                errors[f"{key}-notice"] = _("Period %(n)s: too far ahead (request at most %(days)s days ahead).",
                                            n=number, days=field_row.max_notice_days)
        for blackout in blackouts:
            if starts_at < blackout.ends_at and blackout.starts_at < ends_at:
                errors[f"{key}-blackout"] = _("Period %(n)s: the field is closed then (%(reason)s).", n=number,
                                              reason=blackout.reason)
                break
        blocked_until = ends_at + buffer
        if any(starts_at < other.blocked_until and other.starts_at < blocked_until for other in blocking):
            errors[f"{key}-overlap"] = overlap_message(number, field_row)
        for other_number, other_start, other_end in periods:
            if other_number < number and starts_at < other_end and other_start < ends_at:
                errors[f"{key}-same"] = _("Period %(n)s: overlaps period %(other)s of this request.", n=number,
                                          other=other_number)
                break
    if expected_people is not None and field_row.capacity is not None and expected_people > field_row.capacity:
        errors["expected_people"] = _("Expected people: more than the field's capacity (%(capacity)s people).",
                                      capacity=field_row.capacity)
    if check_documents:
        for kind in missing_documents(session, field_row.id, booking_id):
            errors[f"document-{kind.value}"] = _("Document missing: %(document)s.", document=kind.label)
    return errors


def overlap_message(number: int, field_row: TestField) -> str:
    if field_row.buffer_minutes:
        return _("Period %(n)s: overlaps an approved booking (including the %(buffer)s minutes' buffer between "
                 "bookings).", n=number, buffer=field_row.buffer_minutes)
    return _("Period %(n)s: overlaps an approved booking.", n=number)


def required_documents(session: Session, field_id: int) -> list[DocumentKind]:
    rows = session.exec(select(TestFieldRequirement.document).where(TestFieldRequirement.field_id == field_id)).all()
    return [kind for kind in DocumentKind if kind in set(rows)]


def missing_documents(session: Session, field_id: int, booking_id: int | None) -> list[DocumentKind]:
    required = required_documents(session, field_id)
    if not required:
        return []
    uploaded: set[DocumentKind] = set()
    if booking_id is not None:
        uploaded = set(session.exec(select(BookingDocument.document).where(
            BookingDocument.booking_id == booking_id)).all())
    return [kind for kind in required if kind not in uploaded]


def periods_of(session: Session, booking_id: int) -> list[BookingPeriod]:
    return list(session.exec(select(BookingPeriod).where(BookingPeriod.booking_id == booking_id)
                             .order_by(col(BookingPeriod.starts_at), col(BookingPeriod.id))).all())


def numbered(periods: Sequence[BookingPeriod]) -> list[tuple[int, datetime, datetime]]:
    return [(number, p.starts_at, p.ends_at) for number, p in enumerate(periods, start=1)]


def booking_problems(session: Session, booking: Booking, field_row: TestField, *, for_approval: bool = False,
                     now: datetime | None = None) -> dict[str, str]:
    """What keeps this stored request from being submitted (or, ``for_approval``, approved)."""
    assert booking.id is not None
    return problems(session, field_row, numbered(periods_of(session, booking.id)), booking_id=booking.id,
                    expected_people=booking.expected_people, check_notice=not for_approval,
                    check_documents=True, now=now)


# --- loading and permissions ---------------------------------------------------------------------


def is_member(session: Session, actor: Principal, booking: Booking) -> bool:
    return booking.organisation_id in access.member_organisation_ids(session, actor.user_id)


def visible_booking(session: Session, actor: Principal, booking_id: int) -> tuple[Booking, bool, bool]:
    """The booking with (is a member of its organisation, manages its field); NotFound for anyone else.

    The field's managers do not see drafts.
    """
    require_signed_in(actor)
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound()
    member = is_member(session, actor, booking)
    manager = booking.status is not S.DRAFT and access.manages_field(session, actor, booking.field_id)
    if not member and not manager:
        raise NotFound()
    return booking, member, manager


def _for_member(session: Session, actor: Principal, booking_id: int) -> Booking:
    booking, member, _manager = visible_booking(session, actor, booking_id)
    if not member:
        raise Forbidden(_("Only members of the organisation that made this request can do this."))
    return booking


def _for_manager(session: Session, actor: Principal, booking_id: int) -> Booking:
    require_signed_in(actor)
    booking = session.get(Booking, booking_id)
    if booking is None or booking.status is S.DRAFT:
        raise NotFound()
    access.require_field_manager(session, actor, booking.field_id)
    return booking


def _illegal(booking: Booking) -> str:
    return _("This request is “%(status)s”; it cannot be changed this way.", status=booking.status.label)


def _refuse_move(booking: Booking, target: BookingStatus) -> None:
    if not can_move(booking.status, target):
        raise Invalid({"status": _illegal(booking)})


def _locked(session: Session, booking_id: int) -> tuple[TestField, Booking]:
    """The field row, then the booking row, locked in that order and read afresh."""
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound()
    field_row = session.get(TestField, booking.field_id, with_for_update=True, populate_existing=True)
    locked = session.get(Booking, booking_id, with_for_update=True, populate_existing=True)
    if field_row is None or locked is None:
        raise NotFound()
    return field_row, locked


# --- state changes -------------------------------------------------------------------------------


def _member_ids(session: Session, organisation_id: int) -> list[int]:
    return list(session.exec(select(OrganisationMember.user_id).where(
        OrganisationMember.organisation_id == organisation_id)).all())


def _coordinator_ids(session: Session, field_id: int) -> list[int]:
    return list(session.exec(select(TestFieldCoordinator.user_id).where(
        TestFieldCoordinator.field_id == field_id)).all())


def booking_url(booking_id: int) -> str:
    return f"/bookings/{booking_id}"


def _move(session: Session, settings: Settings, booking: Booking, target: BookingStatus, *, by: User | None,
          note: str = "", rescheduled: bool = False) -> BookingEvent:
    """Change the status (checked against :data:`ALLOWED`), record the event and notify (no commit)."""
    assert booking.id is not None
    _refuse_move(booking, target)
    now = utcnow()
    event = BookingEvent(booking_id=booking.id, from_status=booking.status, to_status=target,
                         by_id=by.id if by else None, note=note, at=now)
    booking.status = target
    if target is S.SUBMITTED:
        booking.submitted_at = now
    elif target in (S.APPROVED, S.REJECTED) and not rescheduled:
        booking.decided_at = now
        booking.decided_by_id = by.id if by else None
    elif target is S.CANCELLED:
        booking.cancelled_at = now
        booking.cancel_reason = note[:2000]
    elif target is S.COMPLETED:
        booking.completed_at = now
    session.add(booking)
    session.add(event)
    session.flush()
    by_id = by.id if by else None
    params = {"booking_id": booking.id, "title": booking.title, "status": target.value, "rescheduled": rescheduled}
    members = set(_member_ids(session, booking.organisation_id)) - {by_id}
    if members:
        notifications.notify(session, user_ids=members, kind=STATUS_KIND, target_type=TARGET, target_id=booking.id,
                             params=params, url=booking_url(booking.id), event_key=f"{STATUS_KIND}:{event.id}",
                             settings=settings)
    if target is S.SUBMITTED:
        field_row = session.get(TestField, booking.field_id)
        coordinators = set(_coordinator_ids(session, booking.field_id)) - {by_id}
        if coordinators and field_row is not None:
            notifications.notify(session, user_ids=coordinators, kind=SUBMITTED_KIND, target_type=TARGET,
                                 target_id=booking.id, params=params | {"field_name": field_row.name},
                                 url=booking_url(booking.id), event_key=f"{SUBMITTED_KIND}:{event.id}",
                                 settings=settings)
    return event


def _audit(session: Session, user: User, action: str, booking: Booking, **details: Any) -> None:
    audit.record(session, actor_id=user.id, actor_label=user.display_name, action=f"booking.{action}",
                 target_type=TARGET, target_id=str(booking.id),
                 details={"field_id": booking.field_id, "organisation_id": booking.organisation_id,
                          "status": booking.status.value, **details})


def _block(session: Session, field_row: TestField, booking: Booking) -> None:
    """Make the booking's periods block the field (ends + the field's buffer)."""
    for period in periods_of(session, booking.id):  # type: ignore[arg-type]
        period.blocks = True
        period.blocked_until = period.ends_at + timedelta(minutes=field_row.buffer_minutes)
        session.add(period)


def _release(session: Session, booking: Booking) -> None:
    for period in periods_of(session, booking.id):  # type: ignore[arg-type]
        period.blocks = False
        period.blocked_until = period.ends_at
        session.add(period)


def _commit_blocking(session: Session, booking_id: int, work: Callable[[], None]) -> None:
    """Run ``work`` (which makes periods block) and commit; a PostgreSQL exclusion violation, at any flush,
    becomes the same overlap error the locked check gives (nothing changed)."""
    try:
        work()
        session.commit()
    except sa.exc.IntegrityError as error:
        session.rollback()
        if "booking_period_no_overlap" not in str(error.orig):
            raise
        raise Invalid(_overlap_errors(session, booking_id)) from None
    except BaseException:
        session.rollback()
        raise


def _overlap_errors(session: Session, booking_id: int) -> dict[str, str]:
    """After a lost race: which periods now overlap (every period when none can be told apart)."""
    booking = session.get(Booking, booking_id)
    field_row = session.get(TestField, booking.field_id) if booking else None
    if booking is None or field_row is None:
        return {"periods": _("This booking overlaps an approved booking.")}
    periods = numbered(periods_of(session, booking_id))
    found = {key: message for key, message in problems(
        session, field_row, periods, booking_id=booking_id, check_notice=False).items() if key.endswith("-overlap")}
    session.rollback()
    return found or {f"period-{n}-overlap": overlap_message(n, field_row) for n, _s, _e in periods}


def _approve_locked(session: Session, settings: Settings, field_row: TestField, booking: Booking, *,
                    by: User | None, note: str) -> None:
    """Under the field lock: re-check, block, mark approved and announce (no commit)."""
    errors = booking_problems(session, booking, field_row, for_approval=True)
    if errors:
        session.rollback()
        raise Invalid(errors)
    _block(session, field_row, booking)
    booking.review_note = note or booking.review_note
    _move(session, settings, booking, S.APPROVED, by=by, note=note)
    notices.announce(session, booking, NoticeKind.APPROVED)


# --- use cases: the organisation -----------------------------------------------------------------


def my_organisations(session: Session, actor: Principal) -> list[Organisation]:
    ids = access.member_organisation_ids(session, actor.user_id)
    if not ids:
        return []
    return list(session.exec(select(Organisation).where(col(Organisation.id).in_(ids))
                             .order_by(col(Organisation.name))).all())


def bookable_fields(session: Session) -> list[tuple[int, str]]:
    return [(row[0], row[1]) for row in session.exec(
        select(TestField.id, TestField.name).where(col(TestField.published).is_(True))
        .order_by(col(TestField.name), col(TestField.id))).all()]


def trials_of(session: Session, organisation_ids: set[int]) -> list[tuple[int, str]]:
    if not organisation_ids:
        return []
    return [(row[0], row[1]) for row in session.exec(
        select(Trial.id, Trial.title).join(TrialOrganisation, col(TrialOrganisation.trial_id) == Trial.id)
        .where(col(TrialOrganisation.organisation_id).in_(organisation_ids)).distinct()
        .order_by(col(Trial.title), col(Trial.id))).all()]


def require_any_membership(session: Session, actor: Principal) -> None:
    require_signed_in(actor)
    if not access.member_organisation_ids(session, actor.user_id):
        raise Forbidden(_("Only members of an organisation can request a booking. Join or register your "
                          "organisation first."))


def _store_periods(session: Session, booking: Booking, periods: Sequence[tuple[int, datetime, datetime]]) -> None:
    session.execute(sa.delete(BookingPeriod).where(col(BookingPeriod.booking_id) == booking.id))
    for _number, starts_at, ends_at in sorted(periods, key=lambda p: (p[1], p[2])):
        session.add(BookingPeriod(booking_id=booking.id, field_id=booking.field_id, starts_at=starts_at,  # type: ignore[arg-type]
                                  ends_at=ends_at, blocked_until=ends_at, blocks=False))


@dataclass
class Saved:
    booking: Booking
    problems: dict[str, str]
    """What must still be fixed before the request can be submitted (empty when submitted)."""


def save(session: Session, settings: Settings, actor: Principal, data: BookingInput, *,
         booking_id: int | None = None, submit: bool = False) -> Saved:
    """Create (``booking_id`` None) or edit a request and optionally submit it (commits).

    Form errors (unreadable dates, no title, …) refuse everything. The booking rules do not stop a
    draft from being saved; they are returned as ``problems``. ``submit`` refuses unless the request
    keeps every rule (400, nothing changed).
    """
    user = require_signed_in(actor)
    existing: Booking | None = None
    if booking_id is None:
        require_any_membership(session, actor)
    else:
        existing = _for_member(session, actor, booking_id)
        if existing.status not in EDITABLE:
            session.rollback()
            raise Invalid({"status": _("This request is “%(status)s” and can no longer be edited.",
                                                status=existing.status.label)})
    parsed, errors = _parse(session, actor, data,
                            fixed_field_id=existing.field_id if existing else None,
                            fixed_organisation_id=existing.organisation_id if existing else None)
    if errors:
        session.rollback()
        raise Invalid(errors)
    assert parsed.field is not None and parsed.organisation_id is not None
    require_organisation_member(session, actor, parsed.organisation_id)
    if submit:
        require_verified_organisation(session, actor, parsed.organisation_id)
    rule_problems = problems(session, parsed.field, parsed.periods, booking_id=existing.id if existing else None,
                             expected_people=parsed.expected_people, check_documents=submit)
    if submit and rule_problems:
        session.rollback()
        raise Invalid(rule_problems)
    booking = existing or Booking(field_id=parsed.field.id, organisation_id=parsed.organisation_id,  # type: ignore[arg-type]
                                  created_by_id=user.id, title=parsed.title)
    booking.trial_id = parsed.trial_id
    booking.title = parsed.title
    booking.purpose = parsed.purpose
    booking.public_description = parsed.public_description
    booking.expected_people = parsed.expected_people
    booking.equipment = parsed.equipment
    session.add(booking)
    session.flush()
    _store_periods(session, booking, parsed.periods)
    session.flush()
    if not submit:
        session.commit()
        return Saved(booking, rule_problems)
    assert booking.id is not None
    session.commit()
    return Saved(_submit(session, settings, actor, booking.id), {})


def submit(session: Session, settings: Settings, actor: Principal, booking_id: int) -> Booking:
    """Submit a draft or a request sent back for changes (verified organisations only; commits)."""
    booking = _for_member(session, actor, booking_id)
    require_verified_organisation(session, actor, booking.organisation_id)
    return _submit(session, settings, actor, booking_id)


def _submit(session: Session, settings: Settings, actor: Principal, booking_id: int) -> Booking:
    user = require_signed_in(actor)
    field_row, booking = _locked(session, booking_id)
    try:
        _refuse_move(booking, S.SUBMITTED)
    except Invalid:
        session.rollback()
        raise
    errors = booking_problems(session, booking, field_row)
    if errors:
        session.rollback()
        raise Invalid(errors)

    def work() -> None:
        _move(session, settings, booking, S.SUBMITTED, by=user)
        if not field_row.approval_required:  # approved at once, under the same lock and checks
            _approve_locked(session, settings, field_row, booking, by=None, note="")

    _commit_blocking(session, booking_id, work)
    return booking


def cancel(session: Session, settings: Settings, actor: Principal, booking_id: int, reason: str) -> Booking:
    """The organisation cancels its request, also an approved one (commits); the field is free again."""
    user = require_signed_in(actor)
    _for_member(session, actor, booking_id)
    return _cancel(session, settings, user, booking_id, reason, as_manager=False)


def _cancel(session: Session, settings: Settings, user: User, booking_id: int, reason: str, *,
            as_manager: bool) -> Booking:
    note = _clean(reason)
    _field_row, booking = _locked(session, booking_id)
    errors: dict[str, str] = {}
    if not can_move(booking.status, S.CANCELLED):
        errors["status"] = _illegal(booking)
    if not note:
        errors["reason"] = _("Give a reason for cancelling.")
    elif len(note) > MAX_NOTE:
        errors["reason"] = _("Use at most %(max)s characters.", max=MAX_NOTE)
    if errors:
        session.rollback()
        raise Invalid(errors)
    was_approved = booking.status is S.APPROVED
    if was_approved:
        _release(session, booking)
    _move(session, settings, booking, S.CANCELLED, by=user, note=note)
    if as_manager:
        _audit(session, user, "cancelled", booking, reason=note, was_approved=was_approved)
    if was_approved:
        notices.announce(session, booking, NoticeKind.CANCELLED)
    session.commit()
    return booking


# --- documents -----------------------------------------------------------------------------------


def path_of(settings: Settings, document: BookingDocument) -> Path:
    return storage.stored_path(settings, document.storage_key, STORAGE_FOLDER)


def documents_of(session: Session, booking_id: int) -> list[BookingDocument]:
    return list(session.exec(select(BookingDocument).where(BookingDocument.booking_id == booking_id)
                             .order_by(col(BookingDocument.created_at), col(BookingDocument.id))).all())


def add_document(session: Session, settings: Settings, actor: Principal, booking_id: int, *, kind: str,
                 source: BinaryIO | None, filename: str) -> BookingDocument:
    """Upload a document of the request (the organisation's members, while editable; commits)."""
    user = require_signed_in(actor)
    booking = _for_member(session, actor, booking_id)
    if booking.status not in EDITABLE:
        session.rollback()
        raise Invalid({"file": _("Documents can be changed only while the request is a draft or "
                                          "changes are requested.")})
    session.rollback()  # hold no transaction while the file is copied
    errors: dict[str, str] = {}
    if kind not in {k.value for k in DocumentKind}:
        errors["document"] = _("Choose which document this is.")
    received = None
    if source is None or not filename:
        errors["file"] = _("Choose a file to upload.")
    else:
        try:
            received = storage.receive(settings, source, MAX_FILE_BYTES, folder=STORAGE_FOLDER)
        except Invalid as failed:
            errors.update(failed.errors)
    if errors:
        if received is not None:
            storage.remove_file(received.path)
        raise Invalid(errors)
    assert received is not None
    try:
        _field_row, booking = _locked(session, booking_id)
        count = session.exec(select(func.count()).select_from(BookingDocument).where(
            BookingDocument.booking_id == booking_id)).one()
        if booking.status not in EDITABLE:
            raise Invalid({"file": _("Documents can be changed only while the request is a draft or "
                                              "changes are requested.")})
        if count >= MAX_DOCUMENTS:
            raise Invalid({"file": _("A request can have at most %(max)s documents. Delete one first.",
                                              max=MAX_DOCUMENTS)})
        document = BookingDocument(booking_id=booking_id, document=DocumentKind(kind),
                                   filename=storage.clean_filename(filename, received.file_type),
                                   content_type=received.file_type.content_type, size_bytes=received.size_bytes,
                                   sha256=received.sha256, storage_key=received.storage_key, uploaded_by_id=user.id)
        session.add(document)
        session.commit()
    except BaseException:
        session.rollback()
        storage.remove_file(received.path)
        raise
    return document


def delete_document(session: Session, settings: Settings, actor: Principal, booking_id: int,
                    document_id: int) -> None:
    booking = _for_member(session, actor, booking_id)
    document = session.get(BookingDocument, document_id)
    if document is None or document.booking_id != booking_id:
        session.rollback()
        raise NotFound()
    if booking.status not in EDITABLE:
        session.rollback()
        raise Invalid({"file": _("Documents can be changed only while the request is a draft or "
                                          "changes are requested.")})
    path = path_of(settings, document)
    session.delete(document)
    session.commit()
    storage.remove_file(path)


def for_download(session: Session, settings: Settings, actor: Principal, booking_id: int,
                 document_id: int) -> tuple[BookingDocument, Path] | None:
    """The document and its file for the organisation's members and the field's managers only."""
    try:
        visible_booking(session, actor, booking_id)
    except NotFound:
        return None
    document = session.get(BookingDocument, document_id)
    if document is None or document.booking_id != booking_id:
        return None
    path = path_of(settings, document)
    if not path.is_file():
        log.error("booking document %s has no file at %s", document_id, path)
        return None
    return document, path


# --- use cases: the field's managers -------------------------------------------------------------


def _note(text: str, *, required: bool, message: str) -> str:
    note = _clean(text)
    if required and not note:
        raise Invalid({"note": message})
    if len(note) > MAX_NOTE:
        raise Invalid({"note": _("Use at most %(max)s characters.", max=MAX_NOTE)})
    return note


def start_review(session: Session, settings: Settings, actor: Principal, booking_id: int) -> Booking:
    user = require_signed_in(actor)
    _for_manager(session, actor, booking_id)
    _field_row, booking = _locked(session, booking_id)
    try:
        _move(session, settings, booking, S.UNDER_REVIEW, by=user)
    except Invalid:
        session.rollback()
        raise
    _audit(session, user, "review_started", booking)
    session.commit()
    return booking


def _decide(session: Session, settings: Settings, actor: Principal, booking_id: int, target: BookingStatus,
            note_text: str, action: str, missing_note: str) -> Booking:
    user = require_signed_in(actor)
    _for_manager(session, actor, booking_id)
    try:
        note = _note(note_text, required=True, message=missing_note)
        _field_row, booking = _locked(session, booking_id)
        booking.review_note = note
        _move(session, settings, booking, target, by=user, note=note)
    except Invalid:
        session.rollback()
        raise
    _audit(session, user, action, booking, note=note)
    session.commit()
    return booking


def request_changes(session: Session, settings: Settings, actor: Principal, booking_id: int, note: str) -> Booking:
    return _decide(session, settings, actor, booking_id, S.CHANGES_REQUESTED, note, "changes_requested",
                   _("Say what the organisation should change."))


def reject(session: Session, settings: Settings, actor: Principal, booking_id: int, note: str) -> Booking:
    return _decide(session, settings, actor, booking_id, S.REJECTED, note, "rejected",
                   _("Give the reason for rejecting the request."))


def approve(session: Session, settings: Settings, actor: Principal, booking_id: int, note: str = "") -> Booking:
    """Approve under the field lock: refused (nothing changed) when any rule is broken now (commits)."""
    user = require_signed_in(actor)
    _for_manager(session, actor, booking_id)
    try:
        clean_note = _note(note, required=False, message="")
        field_row, booking = _locked(session, booking_id)
        if booking.status not in OPEN:
            raise Invalid({"status": _illegal(booking)})
    except Invalid:
        session.rollback()
        raise

    def work() -> None:
        _approve_locked(session, settings, field_row, booking, by=user, note=clean_note)
        _audit(session, user, "approved", booking, note=clean_note)

    _commit_blocking(session, booking_id, work)
    return booking


def reschedule(session: Session, settings: Settings, actor: Principal, booking_id: int,
               rows: list[tuple[str, str]], note: str) -> Booking:
    """A manager moves an approved booking to new periods, under the field lock (commits).

    The new periods must keep every rule but the notice; the booking's revision rises and residents
    are told of the change.
    """
    user = require_signed_in(actor)
    booking = _for_manager(session, actor, booking_id)
    try:
        clean_note = _note(note, required=True, message=_("Say why the dates change."))
        parsed, errors = _parse(session, actor, BookingInput(periods=rows, title=booking.title),
                                fixed_field_id=booking.field_id, fixed_organisation_id=booking.organisation_id)
        errors = {key: value for key, value in errors.items() if key.startswith("period")}
        if errors:
            raise Invalid(errors)
        field_row, booking = _locked(session, booking_id)
        if booking.status is not S.APPROVED:
            raise Invalid({"status": _("Only approved bookings can be rescheduled.")})
        errors = problems(session, field_row, parsed.periods, booking_id=booking_id,
                          expected_people=booking.expected_people, check_notice=False)
        if errors:
            raise Invalid(errors)
    except Invalid:
        session.rollback()
        raise
    _commit_blocking(session, booking_id,
                     lambda: _reschedule_locked(session, settings, user, field_row, booking, parsed, clean_note))
    return booking


def _reschedule_locked(session: Session, settings: Settings, user: User, field_row: TestField, booking: Booking,
                       parsed: Parsed, clean_note: str) -> None:
    booking_id = booking.id
    assert booking_id is not None
    before = [(local_input(p.starts_at), local_input(p.ends_at)) for p in periods_of(session, booking_id)]
    session.execute(sa.delete(BookingPeriod).where(col(BookingPeriod.booking_id) == booking_id))
    session.flush()
    buffer = timedelta(minutes=field_row.buffer_minutes)
    for _number, starts_at, ends_at in sorted(parsed.periods, key=lambda p: (p[1], p[2])):
        session.add(BookingPeriod(booking_id=booking_id, field_id=booking.field_id, starts_at=starts_at,
                                  ends_at=ends_at, blocked_until=ends_at + buffer, blocks=True))
    booking.revision += 1
    booking.review_note = clean_note
    _move(session, settings, booking, S.APPROVED, by=user, note=clean_note, rescheduled=True)
    _audit(session, user, "rescheduled", booking, note=clean_note, before=before,
           after=[(local_input(s), local_input(e)) for _n, s, e in parsed.periods], revision=booking.revision)
    notices.announce(session, booking, NoticeKind.CHANGED)


def manager_cancel(session: Session, settings: Settings, actor: Principal, booking_id: int, reason: str) -> Booking:
    user = require_signed_in(actor)
    _for_manager(session, actor, booking_id)
    return _cancel(session, settings, user, booking_id, reason, as_manager=True)


# --- the scheduled job ---------------------------------------------------------------------------


def complete_finished(session: Session, now: datetime | None = None) -> int:
    """Approved bookings whose every period has ended become completed (commits); returns how many."""
    now = now or utcnow()
    still_running = select(BookingPeriod.id).where(BookingPeriod.booking_id == Booking.id,
                                                   col(BookingPeriod.ends_at) > now)
    has_periods = select(BookingPeriod.id).where(BookingPeriod.booking_id == Booking.id)
    ids = session.exec(select(Booking.id).where(Booking.status == S.APPROVED, has_periods.exists(),
                                                ~still_running.exists()).order_by(col(Booking.id))).all()
    done = 0
    for booking_id in ids:
        changed = session.execute(
            sa.update(Booking).where(col(Booking.id) == booking_id, col(Booking.status) == S.APPROVED)
            .values(status=S.COMPLETED, completed_at=now, updated_at=now).returning(col(Booking.id))).first()
        if changed is None:
            continue
        session.add(BookingEvent(booking_id=booking_id, from_status=S.APPROVED, to_status=S.COMPLETED, at=now))  # type: ignore[arg-type]
        done += 1
    session.commit()
    return done


# --- pages ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListItem:
    booking: Booking
    field_name: str
    organisation_name: str
    first_start: datetime | None
    last_end: datetime | None


def _first_start() -> Any:
    return (select(func.min(BookingPeriod.starts_at)).where(BookingPeriod.booking_id == Booking.id)
            .correlate(Booking).scalar_subquery())


def _last_end() -> Any:
    return (select(func.max(BookingPeriod.ends_at)).where(BookingPeriod.booking_id == Booking.id)
            .correlate(Booking).scalar_subquery())


def _listing(session: Session, statement: Any, page: int, per_page: int) -> Page[ListItem]:
    result = paginate(session, statement, page, per_page, scalars=False)
    items = [ListItem(row[0], row[1], row[2], _utc(row[3]), _utc(row[4])) for row in result.items]
    return Page(items=items, page=result.page, per_page=result.per_page, total=result.total)


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite returns MIN() over a custom type as text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _base_listing() -> Any:
    return (select(Booking, TestField.name, Organisation.name, _first_start(), _last_end())
            .join(TestField, col(TestField.id) == Booking.field_id)
            .join(Organisation, col(Organisation.id) == Booking.organisation_id))


def my_bookings(session: Session, actor: Principal, page: int, per_page: int,
                status: str = "") -> Page[ListItem]:
    """The bookings of the actor's organisations, newest first (three queries)."""
    require_signed_in(actor)
    ids = access.member_organisation_ids(session, actor.user_id)
    statement = _base_listing().where(col(Booking.organisation_id).in_(list(ids) or [-1]))
    if status in {s.value for s in BookingStatus}:
        statement = statement.where(Booking.status == BookingStatus(status))
    return _listing(session, statement.order_by(col(Booking.updated_at).desc(), col(Booking.id).desc()),
                    page, per_page)


PENDING_FILTER = "pending"
ALL_FILTER = "all"


def managed_fields(session: Session, actor: Principal) -> list[tuple[int, str]]:
    ids = access.managed_field_ids(session, actor)
    statement = select(TestField.id, TestField.name).order_by(col(TestField.name), col(TestField.id))
    if ids is not None:
        if not ids:
            return []
        statement = statement.where(col(TestField.id).in_(ids))
    return [(row[0], row[1]) for row in session.exec(statement).all()]


def queue(session: Session, actor: Principal, page: int, per_page: int, *, status: str = PENDING_FILTER,
          field_id: int | None = None) -> Page[ListItem]:
    """Requests for the fields the actor manages, oldest waiting first (drafts never; three queries)."""
    require_signed_in(actor)
    if not access.is_coordinator(actor):
        raise Forbidden()
    ids = access.managed_field_ids(session, actor)
    statement = _base_listing().where(Booking.status != S.DRAFT)
    if ids is not None:
        statement = statement.where(col(Booking.field_id).in_(list(ids) or [-1]))
    if field_id is not None:
        statement = statement.where(Booking.field_id == field_id)
    if status == PENDING_FILTER:
        statement = statement.where(col(Booking.status).in_(list(OPEN)))
    elif status in {s.value for s in BookingStatus if s is not S.DRAFT}:
        statement = statement.where(Booking.status == BookingStatus(status))
    statement = statement.order_by(col(Booking.submitted_at).asc().nulls_last(), col(Booking.id))
    return _listing(session, statement, page, per_page)


@dataclass
class EventView:
    event: BookingEvent
    by_name: str


@dataclass
class Detail:
    booking: Booking
    field: TestField
    organisation: Organisation
    trial: Trial | None
    periods: list[BookingPeriod]
    events: list[EventView]
    documents: list[BookingDocument]
    required: list[DocumentKind]
    problems: dict[str, str]
    is_member: bool
    is_manager: bool
    hours_text: str

    @property
    def can_edit(self) -> bool:
        return self.is_member and self.booking.status in EDITABLE

    @property
    def can_submit(self) -> bool:
        return self.can_edit and self.organisation.is_verified

    @property
    def can_cancel(self) -> bool:
        return self.is_member and can_move(self.booking.status, S.CANCELLED)

    @property
    def manager_actions(self) -> set[str]:
        if not self.is_manager:
            return set()
        status = self.booking.status
        actions = set()
        if can_move(status, S.UNDER_REVIEW):
            actions.add("review")
        if status in OPEN:
            actions |= {"request-changes", "approve"}
        if can_move(status, S.REJECTED):
            actions.add("reject")
        if status is S.APPROVED:
            actions.add("reschedule")
        if can_move(status, S.CANCELLED):
            actions.add("cancel")
        return actions

    def uploaded(self, kind: DocumentKind) -> list[BookingDocument]:
        return [d for d in self.documents if d.document is kind]


def detail(session: Session, actor: Principal, booking_id: int) -> Detail:
    booking, member, manager = visible_booking(session, actor, booking_id)
    field_row = session.get(TestField, booking.field_id)
    organisation = session.get(Organisation, booking.organisation_id)
    assert field_row is not None and organisation is not None and booking.id is not None
    trial = session.get(Trial, booking.trial_id) if booking.trial_id else None
    rows = session.exec(select(BookingEvent, User.display_name).join(
        User, col(User.id) == BookingEvent.by_id, isouter=True).where(BookingEvent.booking_id == booking.id)
        .order_by(col(BookingEvent.at), col(BookingEvent.id))).all()
    events = [EventView(event, name or "") for event, name in rows]
    hours = session.exec(select(TestFieldHours).where(TestFieldHours.field_id == field_row.id)).all()
    found = Detail(booking=booking, field=field_row, organisation=organisation, trial=trial,
                   periods=periods_of(session, booking.id), events=events, documents=documents_of(session, booking.id),
                   required=required_documents(session, field_row.id), problems={}, is_member=member,  # type: ignore[arg-type]
                   is_manager=manager, hours_text=describe_hours(hours))
    if booking.status in EDITABLE and member:
        found.problems = booking_problems(session, booking, field_row)
    elif booking.status in OPEN and manager:
        found.problems = booking_problems(session, booking, field_row, for_approval=True)
    return found


def trial_bookings(session: Session, trial_id: int) -> list[tuple[Booking, str, list[BookingPeriod]]]:
    """The approved (and completed) bookings of a trial with their field's name and periods (two queries)."""
    rows = session.exec(select(Booking, TestField.name).join(TestField, col(TestField.id) == Booking.field_id)
                        .where(Booking.trial_id == trial_id, col(Booking.status).in_([S.APPROVED, S.COMPLETED]))
                        .order_by(col(Booking.id))).all()
    if not rows:
        return []
    ids = [row[0].id for row in rows]
    periods: dict[int, list[BookingPeriod]] = defaultdict(list)
    for period in session.exec(select(BookingPeriod).where(col(BookingPeriod.booking_id).in_(ids))
                               .order_by(col(BookingPeriod.starts_at))).all():
        periods[period.booking_id].append(period)
    items = [(booking, name, periods[booking.id]) for booking, name in rows]  # type: ignore[index]
    return sorted(items, key=lambda item: item[2][0].starts_at if item[2] else datetime.max.replace(tzinfo=UTC))
