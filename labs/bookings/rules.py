"""The booking rules: a field's opening hours, what may be booked and when, and what conflicts.

:func:`problems` reports every problem of a request at once, per period, in the reader's language
(keys ``period-{n}-{rule}``, ``periods``, ``expected_people``, ``document-{kind}``). Nothing here
writes: the workflow runs these checks before it saves, submits, approves or reschedules, the last
two under the field's lock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from cocreate.db.base import utcnow
from cocreate.i18n import gettext as _
from cocreate.i18n import ngettext
from labs.models import (
    LOCAL_TIMEZONE,
    Blackout,
    Booking,
    BookingDocument,
    BookingPeriod,
    DocumentKind,
    TestField,
    TestFieldHours,
    TestFieldRequirement,
)

TZ = ZoneInfo(LOCAL_TIMEZONE)


# --- time and opening hours ----------------------------------------------------------------------


def to_local(value: datetime) -> datetime:
    return value.astimezone(TZ) if value.tzinfo else value.replace(tzinfo=UTC).astimezone(TZ)


def local_input(value: datetime | None) -> str:
    """``2026-12-01T09:00`` in local time, the value of a ``datetime-local`` input."""
    return to_local(value).strftime("%Y-%m-%dT%H:%M") if value is not None else ""


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


# --- what may be booked ------------------------------------------------------------------------


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
