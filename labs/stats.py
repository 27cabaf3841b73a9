"""What the labs component counts for the statistics (``Component.statistics``, see
:mod:`cocreate.stats.sources`): the last steps of the funnel (trials from proposals, results published) and
the test fields' utilisation (days with an approved booking against the days the field can be booked, per
month). Four queries."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from cocreate.i18n import WARD_TIMEZONE
from cocreate.i18n import lazy_gettext as _l
from cocreate.stats.sources import Counts, Measure, StatsSource, Window
from labs.models import Blackout, Booking, BookingPeriod, BookingStatus, TestField, TestFieldHours, Trial

BOOKED = (BookingStatus.APPROVED, BookingStatus.COMPLETED)


def _count(session: Session, window: Window) -> Counts:
    return Counts(funnel=_funnel(session, window), fields=_utilisation(session, window))


def _funnel(session: Session, window: Window) -> dict[str, int]:
    """Trials born from a proposal, and those whose results are published (the public: published trials)."""
    from_proposal = col(Trial.proposal_id).is_not(None)
    if not window.staff:
        from_proposal = sa.and_(from_proposal, col(Trial.published).is_(True))
    row = session.execute(sa.select(
        sa.func.count(),
        sa.func.count(col(Trial.results_published_at)),
    ).select_from(Trial).where(from_proposal)).one()
    return {"trials": int(row[0]), "results": int(row[1])}


def _days(start: datetime, end: datetime) -> list[date]:
    """The ward's calendar days that [start, end) touches."""
    first = start.astimezone(WARD_TIMEZONE).date()
    last = (end - timedelta(microseconds=1)).astimezone(WARD_TIMEZONE).date()
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def _utilisation(session: Session, window: Window) -> list[dict[str, Any]]:
    fields_where = sa.true() if window.staff else col(TestField.published).is_(True)
    weekdays: dict[int, set[int]] = {}
    names: dict[int, str] = {}
    for field_id, name, weekday in session.execute(
        sa.select(TestField.id, TestField.name, TestFieldHours.weekday)
        .select_from(TestField).outerjoin(TestFieldHours, col(TestFieldHours.field_id) == TestField.id)
        .where(fields_where).order_by(col(TestField.id))
    ).all():
        names[field_id] = name
        days = weekdays.setdefault(field_id, set())
        if weekday is not None:
            days.add(weekday)
    if not names:
        return []
    ids = list(names)
    blackouts = session.execute(
        sa.select(Blackout.field_id, Blackout.starts_at, Blackout.ends_at)
        .where(col(Blackout.field_id).in_(ids), Blackout.starts_at < window.until, Blackout.ends_at > window.since)
    ).all()
    periods = session.execute(
        sa.select(BookingPeriod.field_id, BookingPeriod.starts_at, BookingPeriod.ends_at)
        .join(Booking, col(Booking.id) == BookingPeriod.booking_id)
        .where(col(BookingPeriod.field_id).in_(ids), col(Booking.status).in_(BOOKED),
               BookingPeriod.starts_at < window.until, BookingPeriod.ends_at > window.since)
    ).all()
    first, end = window.first_day(), window.until.astimezone(WARD_TIMEZONE).date()
    closed: dict[int, set[date]] = {}
    for field_id, starts_at, ends_at in blackouts:
        for day in _days(starts_at, ends_at):
            day_start = datetime.combine(day, time(), tzinfo=WARD_TIMEZONE)
            if starts_at <= day_start and ends_at >= day_start + timedelta(days=1):  # the whole day
                closed.setdefault(field_id, set()).add(day)
    booked: dict[int, set[date]] = {}
    for field_id, starts_at, ends_at in periods:
        booked.setdefault(field_id, set()).update(day for day in _days(starts_at, ends_at) if first <= day < end)
    index = {month: position for position, month in enumerate(window.months)}
    result = []
    for field_id in ids:
        available = [0] * len(window.months)
        days_booked = [0] * len(window.months)
        day = first
        while day < end:
            if day.weekday() in weekdays[field_id] and day not in closed.get(field_id, set()):
                available[index[f"{day.year:04d}-{day.month:02d}"]] += 1
            day += timedelta(days=1)
        for day in booked.get(field_id, set()):
            days_booked[index[f"{day.year:04d}-{day.month:02d}"]] += 1
        result.append({"id": field_id, "name": names[field_id], "booked": days_booked, "available": available})
    return result


SOURCE = StatsSource(
    name="labs",
    count=_count,
    funnel=(Measure("trials", _l("Trials"), 40), Measure("results", _l("Results published"), 50)),
)
