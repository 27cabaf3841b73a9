"""Calendars of the test fields: month and week grids in Asia/Tokyo, the public iCalendar feed of a
field, a coordinator's private feed behind a revocable token, and the query of the bookings API.

Who sees what:

- everyone: the periods of approved and completed bookings of published fields (their title and the
  organisation's name, nothing private) and blackouts with their reason;
- the coordinators managing a field, and site admins: also its pending requests (submitted, under
  review, changes requested), marked as pending;
- a coordinator's private feed: their fields' approved and pending bookings with the organisation and
  purpose, since the feed is theirs (the token in its address is the key; only its SHA-256 is stored).

The labs policy answers who (:mod:`labs.permissions`: ``field.see``, ``calendar.see_pending``,
``calendar.export``); the fields whose pending requests a calendar shows are
:func:`labs.access.managed_field_ids`.

Times are stored in UTC and shown in Asia/Tokyo (no daylight saving time). A period crossing
midnight appears on every day it touches. Every query is bounded by the shown range and served by
the ``(field_id, starts_at, ends_at)`` indexes of periods and blackouts: a page costs the same few
queries however many entries it shows.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

import icalendar
import sqlalchemy as sa
from babel import dates as babel_dates
from pydantic import Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cocreate import audit, permissions
from cocreate.accounts.models import Organisation, User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.db import transactional, write_apart
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.forms import Choice, Date, FormModel, RowId, parse_date
from cocreate.i18n import WARD_TIMEZONE, get_locale, lazy_gettext
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from labs import access, paths
from labs.models import Blackout, Booking, BookingPeriod, BookingStatus, CalendarFeedToken, TestField

PUBLIC_STATUSES = (BookingStatus.APPROVED, BookingStatus.COMPLETED)
"""Bookings everyone sees in calendars, feeds and the API."""
PENDING_STATUSES = (BookingStatus.SUBMITTED, BookingStatus.UNDER_REVIEW, BookingStatus.CHANGES_REQUESTED)
"""Requests only the field's coordinators (and site admins) see, marked as pending."""

FEED_PAST = timedelta(days=90)
FEED_FUTURE = timedelta(days=365)
API_DEFAULT_SPAN = timedelta(days=31)
API_MAX_SPAN = timedelta(days=366)
UPCOMING_LIMIT = 5
MIN_YEAR = 2000
MAX_YEAR = 2100
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


class View(StrEnum):
    MONTH = "month"
    WEEK = "week"


# --- entries -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A booking period or a blackout on a calendar (times in UTC)."""

    kind: str
    """``booking`` or ``blackout``."""
    id: int
    """The :class:`BookingPeriod` id, or the :class:`Blackout` id."""
    field_id: int
    field_name: str
    field_address: str
    title: str
    """The booking's public title, or the blackout's reason."""
    starts_at: datetime
    ends_at: datetime
    updated_at: datetime
    booking_id: int | None = None
    organisation: str = ""
    status: BookingStatus | None = None
    purpose: str = ""
    """Only filled for the coordinator's private feed."""

    @property
    def is_blackout(self) -> bool:
        return self.kind == "blackout"

    @property
    def pending(self) -> bool:
        return self.status in PENDING_STATUSES

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.id}"


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=WARD_TIMEZONE).astimezone(UTC)


def _visibility(managed: AbstractSet[int] | None) -> Any:
    """Bookings shown to someone managing ``managed`` fields (None: every field, i.e. site admins)."""
    public = col(Booking.status).in_(PUBLIC_STATUSES)
    if managed is None:
        return col(Booking.status).in_(PUBLIC_STATUSES + PENDING_STATUSES)
    if not managed:
        return public
    return sa.or_(public, sa.and_(col(Booking.status).in_(PENDING_STATUSES),
                                  col(BookingPeriod.field_id).in_(sorted(managed))))


def _field_filter(column: Any, field_ids: Iterable[int] | None, published_only: bool) -> list[Any]:
    conditions: list[Any] = []
    if field_ids is not None:
        conditions.append(column.in_(sorted(field_ids)))
    if published_only:
        conditions.append(col(TestField.published).is_(True))
    return conditions


def booking_entries(session: Session, *, start: datetime | None, end: datetime | None,
                    field_ids: Iterable[int] | None = None, published_only: bool = True,
                    managed: AbstractSet[int] | None = frozenset(),
                    private: bool = False, limit: int | None = None) -> list[Entry]:
    """Periods overlapping ``[start, end)`` (either side open when None), ordered by start: one query."""
    columns: list[Any] = [BookingPeriod.id, BookingPeriod.field_id, TestField.name, TestField.address,
                          Booking.title, BookingPeriod.starts_at, BookingPeriod.ends_at, Booking.updated_at,
                          Booking.id, Organisation.name, Booking.status]
    if private:
        columns.append(Booking.purpose)
    statement = (select(*columns)
                 .join(Booking, col(Booking.id) == col(BookingPeriod.booking_id))
                 .join(TestField, col(TestField.id) == col(BookingPeriod.field_id))
                 .join(Organisation, col(Organisation.id) == col(Booking.organisation_id))
                 .where(_visibility(managed),
                        *_field_filter(col(BookingPeriod.field_id), field_ids, published_only)))
    if end is not None:
        statement = statement.where(col(BookingPeriod.starts_at) < end)
    if start is not None:
        statement = statement.where(col(BookingPeriod.ends_at) > start)
    statement = statement.order_by(col(BookingPeriod.starts_at), col(BookingPeriod.id))
    if limit is not None:
        statement = statement.limit(limit)
    return [Entry("booking", row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], booking_id=row[8],
                  organisation=row[9], status=BookingStatus(row[10]), purpose=row[11] if private else "")
            for row in session.exec(statement).all()]  # type: ignore[call-overload]


def blackout_entries(session: Session, *, start: datetime | None, end: datetime | None,
                     field_ids: Iterable[int] | None = None, published_only: bool = True,
                     limit: int | None = None) -> list[Entry]:
    """Blackouts overlapping ``[start, end)``, ordered by start: one query."""
    statement = (select(Blackout.id, Blackout.field_id, TestField.name, TestField.address, Blackout.reason,
                        Blackout.starts_at, Blackout.ends_at, Blackout.updated_at)
                 .join(TestField, col(TestField.id) == col(Blackout.field_id))
                 .where(*_field_filter(col(Blackout.field_id), field_ids, published_only)))
    if end is not None:
        statement = statement.where(col(Blackout.starts_at) < end)
    if start is not None:
        statement = statement.where(col(Blackout.ends_at) > start)
    statement = statement.order_by(col(Blackout.starts_at), col(Blackout.id))
    if limit is not None:
        statement = statement.limit(limit)
    return [Entry("blackout", *row) for row in session.exec(statement).all()]  # type: ignore[call-overload]


def _ordered(entries: Iterable[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: (e.starts_at, e.kind != "blackout", e.id))


# --- grids ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayEntry:
    """An entry as shown on one day: its local start and end on that day ("" = continues)."""

    entry: Entry
    starts: str
    ends: str

    @property
    def from_previous_day(self) -> bool:
        return not self.starts

    @property
    def to_next_day(self) -> bool:
        return not self.ends

    @property
    def all_day(self) -> bool:
        return self.starts in ("", "00:00") and self.ends in ("", "24:00")


@dataclass
class Day:
    date: date
    in_period: bool
    """False for the days of the previous or next month that fill the month grid's weeks."""
    is_today: bool
    entries: list[DayEntry] = field(default_factory=list)

    @property
    def iso(self) -> str:
        return self.date.isoformat()

    @property
    def weekend(self) -> bool:
        return self.date.weekday() >= 5


@dataclass
class CalendarPage:
    view: View
    anchor: date
    today: date
    weeks: list[list[Day]]
    previous: date
    next: date
    field: TestField | None
    fields: Sequence[TestField]
    shows_pending: bool

    @property
    def days(self) -> list[Day]:
        return [day for week in self.weeks for day in week]

    @property
    def weekdays(self) -> list[tuple[str, str]]:
        """(short, long) weekday names from Monday, in the current locale."""
        monday = self.weeks[0][0].date
        return [(format_day(monday + timedelta(days=i), "EEE"), format_day(monday + timedelta(days=i), "EEEE"))
                for i in range(7)]

    @property
    def title(self) -> str:
        if self.view is View.MONTH:
            return babel_dates.format_skeleton("yMMMM", self.anchor, locale=get_locale())
        first, last = self.weeks[0][0].date, self.weeks[0][-1].date
        return _("%(first)s – %(last)s", first=format_day(first, "long"), last=format_day(last, "long"))

    @property
    def entry_count(self) -> int:
        return len({day_entry.entry.key for day in self.days for day_entry in day.entries})


def format_day(value: date, pattern: str) -> str:
    return babel_dates.format_date(value, format=pattern, locale=get_locale())


def today_in_tokyo(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(WARD_TIMEZONE).date()


class CalendarQuery(FormModel):
    """What a calendar page is asked for (its query): the month or week (``view``, month when empty)
    around ``date`` (today when empty), and on the overall calendar one field (``field_id``)."""

    view: Annotated[View | None, Choice(View, lazy_gettext("Choose the month view or the week view."),
                                        required=False)] = None
    day: Annotated[date | None, Date(message=lazy_gettext(
        "Enter the date as YYYY-MM-DD, for example 2026-11-01."))] = Field(default=None, alias="date")
    field_id: Annotated[int | None, RowId(lazy_gettext("Choose a test field from the list."))] = None

    @property
    def shown_view(self) -> View:
        return self.view or View.MONTH

    def anchor(self, today: date) -> date:
        return self.day or today


def _bounds(view: View, anchor: date) -> tuple[date, date, date, date]:
    """(first shown day, day after the last shown, previous anchor, next anchor); weeks start on Monday."""
    if view is View.WEEK:
        start = anchor - timedelta(days=anchor.weekday())
        return start, start + timedelta(days=7), anchor - timedelta(days=7), anchor + timedelta(days=7)
    first = anchor.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    last = following - timedelta(days=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    return (first - timedelta(days=first.weekday()), last + timedelta(days=7 - last.weekday()), previous,
            following)


def _spread(entries: Iterable[Entry], days: dict[date, Day]) -> None:
    """Put each entry on every shown day it touches, with its start and end on that day."""
    if not days:
        return
    first_day, last_day = min(days), max(days)
    for entry in entries:
        starts = entry.starts_at.astimezone(WARD_TIMEZONE)
        ends = entry.ends_at.astimezone(WARD_TIMEZONE)
        final = (ends - timedelta(microseconds=1)).date()  # ending at midnight: the day before is the last
        current = max(starts.date(), first_day)
        while current <= min(final, last_day):
            start_label = starts.strftime("%H:%M") if starts.date() == current else ""
            if ends.date() == current:
                end_label = ends.strftime("%H:%M")
            elif ends.date() == current + timedelta(days=1) and ends.time() == time():
                end_label = "24:00"
            else:
                end_label = ""
            days[current].entries.append(DayEntry(entry, start_label, end_label))
            current += timedelta(days=1)


def _grid(session: Session, view: View, anchor: date, today: date, *, field_ids: Iterable[int] | None,
          published_only: bool, managed: set[int] | None) -> tuple[list[list[Day]], date, date]:
    start, end, previous, following = _bounds(view, anchor)
    weeks: list[list[Day]] = []
    days: dict[date, Day] = {}
    current = start
    while current < end:
        week = []
        for _i in range(7):
            in_period = view is View.WEEK or current.month == anchor.month
            day = Day(current, in_period, current == today)
            days[current] = day
            week.append(day)
            current += timedelta(days=1)
        weeks.append(week)
    field_list = None if field_ids is None else list(field_ids)
    begin, finish = _local_midnight(start), _local_midnight(end)
    entries = booking_entries(session, start=begin, end=finish, field_ids=field_list, published_only=published_only,
                              managed=managed)
    entries += blackout_entries(session, start=begin, end=finish, field_ids=field_list, published_only=published_only)
    _spread(_ordered(entries), days)
    return weeks, previous, following


def _visible(session: Session, actor: Principal, field_id: int,
             actions: tuple[str, ...] = ("field.see",)) -> tuple[TestField, access.OnField]:
    """The field (``field.see``) and its facts for asking ``actions``."""
    found = session.get(TestField, field_id)
    facts = access.on_field(session, actor, field_id, published=found is not None and found.published,
                            actions=actions)
    if found is None or not permissions.can(actor, "field.see", facts):
        raise NotFound()
    return found, facts


def visible_field(session: Session, actor: Principal, field_id: int) -> TestField:
    """A published field, or any field its managers (and site admins) look at (``field.see``)."""
    return _visible(session, actor, field_id)[0]


def field_calendar(session: Session, actor: Principal, field_id: int, view: View, anchor: date,
                   today: date) -> CalendarPage:
    """One field's month or week, with its pending requests for the people managing it."""
    shown, facts = _visible(session, actor, field_id, ("field.see", "calendar.see_pending"))
    managed = {field_id} if permissions.can(actor, "calendar.see_pending", facts) else set()
    weeks, previous, following = _grid(session, view, anchor, today, field_ids=[field_id], published_only=False,
                                       managed=managed)
    return CalendarPage(view, anchor, today, weeks, previous, following, shown, [], bool(managed))


def published_fields(session: Session) -> list[TestField]:
    return list(session.exec(select(TestField).where(col(TestField.published).is_(True))
                             .order_by(col(TestField.name), col(TestField.id))).all())


def overall_calendar(session: Session, actor: Principal, field_id: int | None, view: View, anchor: date,
                     today: date) -> CalendarPage:
    """Every published field's month or week (or one of them, chosen by ``field_id``)."""
    fields = published_fields(session)
    chosen: TestField | None = None
    if field_id is not None:
        chosen = next((f for f in fields if f.id == field_id), None)
        if chosen is None:
            raise Invalid({"field_id": _("Choose a test field from the list.")})
    field_ids = None if chosen is None else [chosen.id]
    managed = access.managed_field_ids(session, actor, "calendar.see_pending")
    weeks, previous, following = _grid(session, view, anchor, today, field_ids=field_ids,  # type: ignore[arg-type]
                                       published_only=True, managed=managed)
    if managed is None:
        shows_pending = True
    else:
        shows_pending = bool(managed & ({chosen.id} if chosen is not None else {f.id for f in fields}))  # type: ignore[arg-type]
    return CalendarPage(view, anchor, today, weeks, previous, following, chosen, fields, shows_pending)


def upcoming(session: Session, actor: Principal, field: TestField, now: datetime | None = None,
             limit: int = UPCOMING_LIMIT, *, blackouts: bool = True) -> list[Entry]:
    """The field's next bookings (pending ones for its managers) and blackouts: bounded queries."""
    moment = now or utcnow()
    field_id = field.id
    assert field_id is not None
    facts = access.on_field(session, actor, field_id, published=field.published, actions=("calendar.see_pending",))
    managed = {field_id} if permissions.can(actor, "calendar.see_pending", facts) else set()
    entries = booking_entries(session, start=moment, end=None, field_ids=[field_id], published_only=False,
                              managed=managed, limit=limit)
    if blackouts:
        entries += blackout_entries(session, start=moment, end=None, field_ids=[field_id], published_only=False,
                                    limit=limit)
    return _ordered(entries)[:limit]


# --- iCalendar -----------------------------------------------------------------------------------


def _host(settings: Settings) -> str:
    return urlsplit(settings.base_url).hostname or "cocreate.localhost"


def _new_calendar(name: str) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//cocreate Itabashi//test field calendars//JA")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Tokyo")
    return calendar


def _event(entry: Entry, settings: Settings, *, private: bool) -> icalendar.Event:
    base = settings.base_url.rstrip("/")
    event = icalendar.Event()
    event.add("uid", f"{'booking-period' if entry.kind == 'booking' else 'blackout'}-{entry.id}@{_host(settings)}")
    event.add("dtstamp", entry.updated_at.astimezone(UTC))
    event.add("last-modified", entry.updated_at.astimezone(UTC))
    event.add("dtstart", entry.starts_at.astimezone(UTC))
    event.add("dtend", entry.ends_at.astimezone(UTC))
    event.add("location", f"{entry.field_name} {entry.field_address}".strip())
    if entry.is_blackout:
        event.add("summary", _("Unavailable: %(reason)s", reason=entry.title))
        event.add("transp", "TRANSPARENT")
        event.add("status", "CONFIRMED")
        event.add("url", base + paths.field(entry.field_id))
        return event
    assert entry.booking_id is not None
    if entry.pending:
        event.add("summary", _("%(title)s (pending review)", title=entry.title))
        event.add("status", "TENTATIVE")
    else:
        event.add("summary", entry.title)
        event.add("status", "CONFIRMED")
    if private:
        url = base + paths.booking(entry.booking_id)
        assert entry.status is not None
        description = [_("Organisation: %(name)s", name=entry.organisation),
                       _("Status: %(status)s", status=entry.status.label)]
        if entry.purpose.strip():
            description.append(_("Purpose: %(purpose)s", purpose=entry.purpose.strip()))
        description.append(url)
    else:
        url = base + paths.booking_notice(entry.booking_id)
        description = [_("Organisation: %(name)s", name=entry.organisation), url]
    event.add("url", url)
    event.add("description", "\n\n".join(description))
    return event


def _to_ical(calendar: icalendar.Calendar, entries: Iterable[Entry], settings: Settings, *, private: bool) -> bytes:
    for entry in entries:
        calendar.add_component(_event(entry, settings, private=private))
    return calendar.to_ical()


def field_feed(session: Session, settings: Settings, field_id: int, now: datetime | None = None) -> bytes:
    """A published field's public feed: approved and completed bookings (no private details) and
    blackouts, from 90 days ago to a year ahead."""
    found = session.get(TestField, field_id)
    if found is None or not found.published:
        raise NotFound()
    moment = now or utcnow()
    start, end = moment - FEED_PAST, moment + FEED_FUTURE
    entries = booking_entries(session, start=start, end=end, field_ids=[field_id], published_only=True)
    entries += blackout_entries(session, start=start, end=end, field_ids=[field_id], published_only=True)
    return _to_ical(_new_calendar(found.name), _ordered(entries), settings, private=False)


# --- the coordinator's private feed --------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(settings: Settings, path: str) -> str:
    """The full address of a private feed at ``path`` (the route's, with the token in it)."""
    return settings.base_url.rstrip("/") + path


def require_coordinator(actor: Principal) -> User:
    """The user, if they may have a private feed (``calendar.export``)."""
    user = require_signed_in(actor)
    permissions.require(actor, "calendar.export")
    return user


def feed_token_of(session: Session, actor: Principal) -> CalendarFeedToken | None:
    """The coordinator's current feed (its token is never shown again), or None."""
    user = require_coordinator(actor)
    return session.exec(select(CalendarFeedToken).where(CalendarFeedToken.user_id == user.id)).first()


def create_feed_token(session: Session, actor: Principal) -> str:
    """A new token for the actor's private feed (the previous one stops working); audited.

    Two requests at once (a double click) may both find no row: the loser's INSERT breaks the unique
    user constraint (its unit of work rolls back), and it tries again, now replacing the winner's token.
    """
    try:
        return _create_feed_token(session, actor)
    except IntegrityError:
        return _create_feed_token(session, actor)


@transactional
def _create_feed_token(session: Session, actor: Principal) -> str:
    user = require_coordinator(actor)
    token = secrets.token_urlsafe(32)
    row = session.exec(select(CalendarFeedToken).where(CalendarFeedToken.user_id == user.id)).first()
    action = "calendar_feed.regenerated" if row is not None else "calendar_feed.created"
    if row is None:
        row = CalendarFeedToken(user_id=user.id, token_hash=_hash(token))  # type: ignore[arg-type]
    else:
        row.token_hash = _hash(token)
        row.created_at = utcnow()
        row.last_used_at = None
    session.add(row)
    session.flush()
    audit.record(session, actor_id=user.id, actor_label=user.display_name, action=action,
                 target_type="calendar_feed_token", target_id=str(row.id))
    return token


@transactional
def revoke_feed_token(session: Session, actor: Principal) -> bool:
    """Delete the actor's feed token; False when there was none. Audited."""
    user = require_coordinator(actor)
    row = session.exec(select(CalendarFeedToken).where(CalendarFeedToken.user_id == user.id)).first()
    if row is None:
        return False
    audit.record(session, actor_id=user.id, actor_label=user.display_name, action="calendar_feed.revoked",
                 target_type="calendar_feed_token", target_id=str(row.id))
    session.delete(row)
    return True


def private_feed(session: Session, settings: Settings, token: str, now: datetime | None = None) -> bytes:
    """The feed of the token's owner: their fields' approved and pending bookings with organisation
    and purpose, and blackouts. Unknown or revoked tokens, and owners who are no longer coordinators
    (or whose account is blocked or deleted), are :class:`NotFound`."""
    if not TOKEN_RE.match(token):
        raise NotFound()
    row = session.exec(select(CalendarFeedToken).where(CalendarFeedToken.token_hash == _hash(token))).first()
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or user is None or not user.is_active:
        raise NotFound()
    actor = Principal.load(session, user)
    if not permissions.can(actor, "calendar.export"):
        raise NotFound()
    managed = access.managed_field_ids(session, actor, "calendar.see_pending")
    moment = now or utcnow()
    start, end = moment - FEED_PAST, moment + FEED_FUTURE
    entries: list[Entry] = []
    if managed is None or managed:
        entries = booking_entries(session, start=start, end=end, field_ids=managed, published_only=False,
                                  managed=managed, private=True)
        entries += blackout_entries(session, start=start, end=end, field_ids=managed, published_only=False)
    with write_apart(session) as writer:  # a fetch of the feed is a read; only its time is recorded
        writer.execute(sa.update(CalendarFeedToken).where(col(CalendarFeedToken.id) == row.id)
                       .values(last_used_at=moment))
    name = _("Test field bookings (%(name)s)", name=user.display_name)
    return _to_ical(_new_calendar(name), _ordered(entries), settings, private=True)


# --- the bookings API ----------------------------------------------------------------------------


def parse_instant(text: str, name: str, *, end_of_day: bool = False) -> datetime:
    """An ISO date (local midnight in Tokyo; with ``end_of_day`` the midnight after it) or an ISO
    date and time, with an offset or without one (Tokyo time). Raises :class:`Invalid` for anything
    else: the API's ``from`` and ``to`` (:func:`cocreate.forms.parse_date` reads the dates)."""
    value = text.strip()
    day = parse_date(value)
    if day is not None:
        return _local_midnight(day + timedelta(days=1) if end_of_day else day)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid({name: _(
            "“%(name)s” must be a date (2026-11-01) or a date and time (2026-11-01T09:00:00+09:00).",
            name=name)}) from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise Invalid({name: _("Choose a date between %(first)s and %(last)s.", first=MIN_YEAR,
                                        last=MAX_YEAR)})
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=WARD_TIMEZONE)
    return moment.astimezone(UTC)


API_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?", re.ASCII)
"""What the API takes for ``from``/``to``, as its schema says: an ISO date or date-time, nothing around it
(the pages' forms are more lenient: full-width digits, 2026年11月1日)."""


def _api_instant(text: str, name: str, *, end_of_day: bool = False) -> datetime:
    if not API_INSTANT.fullmatch(text):
        raise Invalid({name: _(
            "“%(name)s” must be a date (2026-11-01) or a date and time (2026-11-01T09:00:00+09:00).", name=name)})
    return parse_instant(text, name, end_of_day=end_of_day)


def api_range(from_text: str | None, to_text: str | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The API's ``from``/``to`` (None: not given): default today (Tokyo) to 31 days later; at most 366 days.
    A parameter given empty is refused like any other value that is not a date."""
    start = (_api_instant(from_text, "from") if from_text is not None
             else _local_midnight(today_in_tokyo(now)))
    end = _api_instant(to_text, "to", end_of_day=True) if to_text is not None else start + API_DEFAULT_SPAN
    if end <= start:
        raise Invalid({"to": _("“to” must be after “from”.")})
    if end - start > API_MAX_SPAN:
        raise Invalid({"to": _("Ask for at most %(days)s days at a time.", days=API_MAX_SPAN.days)})
    return start, end


def public_bookings(session: Session, field_id: int, start: datetime, end: datetime) -> list[Entry]:
    """Approved and completed periods of a published field overlapping ``[start, end)``."""
    found = session.get(TestField, field_id)
    if found is None or not found.published:
        raise NotFound()
    return booking_entries(session, start=start, end=end, field_ids=[field_id], published_only=True)
