"""Briefing sessions (説明会) on a challenge: staff add, edit and cancel them; people register and cancel.

Staff of a department that owns the challenge manage its sessions; every change is audited, and
registrants are told by e-mail (in their own language) when a session is cancelled or moves.

Places are counted in ``BriefingSession.registered_count``, changed only while the session row is
locked (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite every write transaction begins IMMEDIATE, so
writers queue one after the other). The check constraint ``registered_count <= capacity`` and the unique
(session, user) pair back the lock up in the database.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any
from urllib.parse import urlsplit

import icalendar
import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from cocreate import audit, mail
from cocreate.accounts.models import User
from cocreate.accounts.permissions import Forbidden, Principal, require_signed_in
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.i18n import N_, WARD_TIMEZONE, format_date, format_datetime, using_locale
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from cocreate.web.pagination import Page, paginate
from cocreate.web.templating import render_standalone
from proposals import lifecycle, phases
from proposals.models import BriefingRegistration, BriefingSession, Challenge, Phase
from proposals.phases import Action

TITLE_MAX = 200
PLACE_MAX = 300
URL_MAX = 500
NOTES_MAX = 5000
REASON_MAX = 1000
CAPACITY_MIN = 1
CAPACITY_MAX = 10_000
UPCOMING_LIMIT = 20
PAST_LIMIT = 5
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and newlines are fine
DATE_RE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::00)?$")
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Spreadsheets run a cell starting with one of these as a formula: such cells get a leading quote."""

FIELD_ORDER = ("title", "date", "start_time", "end_time", "place", "online_url", "capacity", "notes")
"""The staff form's fields in page order (the error summary lists them so)."""

NOTIFIED_FIELDS = ("starts_at", "ends_at", "place", "online_url")
"""Changes registrants are told about by e-mail."""


class NotFound(LookupError):
    """The challenge or session does not exist, or is not visible to the actor (HTTP 404 at a route)."""


@dataclass
class SessionInput:
    """What the staff form sends, as typed: the date and times are in the ward's time zone."""

    title: str = ""
    date: str = ""  # YYYY-MM-DD
    start_time: str = ""  # HH:MM
    end_time: str = ""  # HH:MM
    place: str = ""
    online_url: str = ""
    capacity: str = ""
    notes: str = ""

    @classmethod
    def from_session(cls, briefing: BriefingSession) -> SessionInput:
        starts = briefing.starts_at.astimezone(WARD_TIMEZONE)
        ends = briefing.ends_at.astimezone(WARD_TIMEZONE)
        return cls(title=briefing.title, date=starts.date().isoformat(), start_time=starts.strftime("%H:%M"),
                   end_time=ends.strftime("%H:%M"), place=briefing.place, online_url=briefing.online_url,
                   capacity=str(briefing.capacity), notes=briefing.notes)


@dataclass
class _Values:
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    online_url: str
    capacity: int
    notes: str


# --- validation ----------------------------------------------------------------------------------


def _text_error(value: str, limit: int, *, single_line: bool = False) -> str | None:
    if len(value) > limit:
        return _("Use at most %(max)s characters.", max=limit)
    if CONTROL_CHARS.search(value) or (single_line and ("\n" in value or "\r" in value)):
        return _("This field contains characters that cannot be used.")
    return None


def _normalise(value: str) -> str:
    """Full-width digits and colons (１４：００) as half-width, surrounding spaces removed."""
    return unicodedata.normalize("NFKC", value or "").strip()


def _parse_date(value: str) -> tuple[int, int, int] | None:
    match = DATE_RE.match(_normalise(value)[:20])
    if not match:
        return None
    year, month, day = (int(part) for part in match.groups())
    try:
        datetime(year, month, day)
    except ValueError:
        return None
    return year, month, day


def _parse_time(value: str) -> time | None:
    match = TIME_RE.match(_normalise(value)[:20])
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def url_error(url: str) -> str | None:
    """Why ``url`` is not an http(s) address we can link to, or None."""
    if len(url) > URL_MAX:
        return _("Use at most %(max)s characters.", max=URL_MAX)
    message = _("Enter a web address starting with https:// or http://.")
    if CONTROL_CHARS.search(url) or any(char.isspace() for char in url):
        return message
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return message
    if parts.scheme.lower() not in ("http", "https") or not host:
        return message
    return None


def _validate(data: SessionInput) -> tuple[_Values | None, dict[str, str]]:
    """The cleaned values, or the errors by form field."""
    errors: dict[str, str] = {}
    title = (data.title or "").strip()
    place = (data.place or "").strip()
    online_url = (data.online_url or "").strip()
    notes = (data.notes or "").replace("\r\n", "\n")
    if not title:
        errors["title"] = _("Enter the title of the session.")
    for name, value, limit, single_line in (("title", title, TITLE_MAX, True), ("place", place, PLACE_MAX, True),
                                            ("notes", notes, NOTES_MAX, False)):
        if message := _text_error(value, limit, single_line=single_line):
            errors[name] = message
    if not place and not online_url:
        errors["place"] = _("Enter the place, the online meeting address, or both.")
    if online_url and (message := url_error(online_url)):
        errors["online_url"] = message

    day = _parse_date(data.date)
    if not (data.date or "").strip():
        errors["date"] = _("Enter the date of the session.")
    elif day is None:
        errors["date"] = _("Enter a date like 2026-12-05.")
    start = _parse_time(data.start_time)
    end = _parse_time(data.end_time)
    for name, raw, parsed, missing in (("start_time", data.start_time, start, _("Enter the start time.")),
                                       ("end_time", data.end_time, end, _("Enter the end time."))):
        if not (raw or "").strip():
            errors[name] = missing
        elif parsed is None:
            errors[name] = _("Enter a time like 14:00.")
    if start is not None and end is not None and end <= start:
        errors["end_time"] = _("The end time must be after the start time.")

    capacity: int | None = None
    raw_capacity = _normalise(data.capacity).replace(",", "")
    if not raw_capacity:
        errors["capacity"] = _("Enter the number of places.")
    else:
        try:
            capacity = int(raw_capacity[:12])
        except ValueError:
            capacity = None
        if capacity is None or not CAPACITY_MIN <= capacity <= CAPACITY_MAX:
            errors["capacity"] = _("Enter a whole number from %(min)s to %(max)s.", min=CAPACITY_MIN,
                                   max=f"{CAPACITY_MAX:,}")
    if errors or day is None or start is None or end is None or capacity is None:
        return None, {name: errors[name] for name in FIELD_ORDER if name in errors}
    starts_at = datetime.combine(datetime(*day).date(), start, tzinfo=WARD_TIMEZONE).astimezone(UTC)
    ends_at = datetime.combine(datetime(*day).date(), end, tzinfo=WARD_TIMEZONE).astimezone(UTC)
    return _Values(title=title, starts_at=starts_at, ends_at=ends_at, place=place, online_url=online_url,
                   capacity=capacity, notes=notes), {}


# --- loading -------------------------------------------------------------------------------------


def _owned_challenge(session: Session, actor: Principal, challenge_id: int) -> Challenge:
    require_signed_in(actor)
    challenge = session.get(Challenge, challenge_id)
    if challenge is None:
        session.rollback()
        raise NotFound()
    if not lifecycle.is_owner(session, actor, challenge):
        session.rollback()
        raise Forbidden(_("Only staff of a department that owns this challenge can do this."))
    return challenge


def _session_of(session: Session, challenge_id: int, session_id: int, *, lock: bool = False) -> BriefingSession:
    briefing = session.get(BriefingSession, session_id, with_for_update=lock, populate_existing=lock)
    if briefing is None or briefing.challenge_id != challenge_id:
        session.rollback()
        raise NotFound()
    return briefing


def _visible_challenge(session: Session, actor: Principal, challenge_id: int) -> Challenge:
    challenge = session.get(Challenge, challenge_id)
    if challenge is None or (challenge.phase is Phase.DRAFT and not lifecycle.is_owner(session, actor, challenge)):
        session.rollback()
        raise NotFound()
    return challenge


def _label(actor: Principal) -> str:
    assert actor.user is not None
    return actor.user.display_name


# --- staff: add, edit, cancel --------------------------------------------------------------------


def create_session(session: Session, actor: Principal, challenge_id: int, data: SessionInput,
                   now: datetime | None = None) -> BriefingSession:
    """Add a session (it must start in the future); staff of an owning department only, audited."""
    now = now or utcnow()
    challenge = _owned_challenge(session, actor, challenge_id)
    if challenge.phase in phases.TERMINAL:
        session.rollback()
        raise Invalid({"challenge": _("This challenge has ended; sessions can no longer be added.")})
    values, errors = _validate(data)
    if values is not None and values.starts_at <= now:
        errors["date"] = _("The session must start in the future.")
    if errors or values is None:
        session.rollback()
        raise Invalid(errors)
    briefing = BriefingSession(challenge_id=challenge_id, **vars(values))
    session.add(briefing)
    session.flush()
    audit.record(session, actor_id=actor.user_id, actor_label=_label(actor), action="briefing.created",
                 target_type="briefing_session", target_id=str(briefing.id),
                 details={"challenge_id": challenge_id, "title": values.title,
                          "starts_at": values.starts_at.isoformat(), "capacity": values.capacity})
    session.commit()
    return briefing


def update_session(session: Session, settings: Settings, actor: Principal, challenge_id: int, session_id: int,
                   data: SessionInput, now: datetime | None = None) -> BriefingSession:
    """Save edits (audited). A new start must be in the future and the capacity cannot drop below the
    places taken; registrants are told by e-mail when the time, place or address changes."""
    now = now or utcnow()
    _owned_challenge(session, actor, challenge_id)
    briefing = _session_of(session, challenge_id, session_id, lock=True)
    if briefing.cancelled_at is not None:
        session.rollback()
        raise Invalid({"briefing": _("A cancelled session cannot be edited.")})
    values, errors = _validate(data)
    if values is not None:
        if values.starts_at != briefing.starts_at and values.starts_at <= now:
            errors["date"] = _("The session must start in the future.")
        if values.capacity < briefing.registered_count:
            errors["capacity"] = _("%(count)s people have registered already; the capacity cannot be lower.",
                                   count=briefing.registered_count)
    if errors or values is None:
        session.rollback()
        raise Invalid(errors)
    changes: dict[str, list[Any]] = {}
    for name, new in vars(values).items():
        old = getattr(briefing, name)
        if old != new:
            changes[name] = [old.isoformat() if isinstance(old, datetime) else old,
                             new.isoformat() if isinstance(new, datetime) else new]
            setattr(briefing, name, new)
    if not changes:
        session.rollback()
        return briefing
    notified = 0
    if any(name in changes for name in NOTIFIED_FIELDS):
        notified = _notify(session, settings, briefing, "briefing_changed",
                           N_("Briefing session changed: %(title)s"))
    audit.record(session, actor_id=actor.user_id, actor_label=_label(actor), action="briefing.updated",
                 target_type="briefing_session", target_id=str(briefing.id),
                 details={"challenge_id": challenge_id, "changes": changes, "notified": notified})
    session.commit()
    return briefing


def cancel_session(session: Session, settings: Settings, actor: Principal, challenge_id: int, session_id: int,
                   reason: str, now: datetime | None = None) -> int:
    """Cancel a session that has not started, with a reason e-mailed to each registrant; returns how many
    were told. Audited. Registrations stay, so the list shows who was expecting to come."""
    now = now or utcnow()
    _owned_challenge(session, actor, challenge_id)
    briefing = _session_of(session, challenge_id, session_id, lock=True)
    reason = (reason or "").replace("\r\n", "\n").strip()
    errors: dict[str, str] = {}
    if briefing.cancelled_at is not None:
        errors["briefing"] = _("This session is already cancelled.")
    elif briefing.starts_at <= now:
        errors["briefing"] = _("A session that has already started cannot be cancelled.")
    if not reason:
        errors["reason"] = _("Give the reason for cancelling; it is sent to the registrants.")
    elif message := _text_error(reason, REASON_MAX):
        errors["reason"] = message
    if errors:
        session.rollback()
        raise Invalid(errors)
    briefing.cancelled_at = now
    notified = _notify(session, settings, briefing, "briefing_cancelled",
                       N_("Briefing session cancelled: %(title)s"), reason=reason)
    audit.record(session, actor_id=actor.user_id, actor_label=_label(actor), action="briefing.cancelled",
                 target_type="briefing_session", target_id=str(briefing.id),
                 details={"challenge_id": challenge_id, "title": briefing.title, "reason": reason,
                          "notified": notified})
    session.commit()
    return notified


def when_text(briefing: BriefingSession) -> str:
    """「2026年12月5日土曜日 14:00–15:30」 in the current locale and the ward's time zone."""
    return _("%(date)s %(start)s–%(end)s", date=format_date(briefing.starts_at, "full"),
             start=format_datetime(briefing.starts_at, "HH:mm"), end=format_datetime(briefing.ends_at, "HH:mm"))


def _notify(session: Session, settings: Settings, briefing: BriefingSession, template: str, subject: str,
            **context: object) -> int:
    """E-mail everyone holding a place (each in their own language); returns how many."""
    challenge = session.get(Challenge, briefing.challenge_id)
    users = session.exec(
        select(User).join(BriefingRegistration, col(BriefingRegistration.user_id) == User.id)
        .where(BriefingRegistration.session_id == briefing.id, col(BriefingRegistration.cancelled_at).is_(None),
               col(User.email).is_not(None), col(User.deleted_at).is_(None))
        .order_by(User.id)
    ).all()
    link = f"{settings.base_url}/challenges/{briefing.challenge_id}/briefings"
    for user in users:
        assert user.email is not None
        with using_locale(user.locale):
            text = render_standalone(f"mail/{template}.txt", user=user, briefing=briefing, challenge=challenge,
                                     when=when_text(briefing), link=link, base_url=settings.base_url, **context)
            mail.queue_email(session, to=user.email, subject=_(subject, title=briefing.title[:120]), text=text)
    return len(users)


# --- registration --------------------------------------------------------------------------------


def register(session: Session, actor: Principal, challenge_id: int, session_id: int,
             now: datetime | None = None) -> BriefingRegistration:
    """Take a place at a session for the signed-in, confirmed actor.

    Registering twice (a double click, two tabs) keeps the one place; registering again after
    cancelling reuses the row. Refusals (phase, started, cancelled, full) raise Invalid with
    the reason under ``registration``.
    """
    now = now or utcnow()
    user = require_signed_in(actor)
    if not user.is_confirmed or not user.is_active:
        raise Forbidden(_("Confirm your e-mail address before registering."))
    briefing = _session_of(session, challenge_id, session_id, lock=True)
    challenge = _visible_challenge(session, actor, challenge_id)
    registration = session.exec(
        select(BriefingRegistration).where(BriefingRegistration.session_id == session_id,
                                           BriefingRegistration.user_id == user.id)
    ).first()
    if registration is not None and registration.cancelled_at is None:
        session.rollback()
        return registration
    reason = refusal(briefing, challenge, now)
    if reason:
        session.rollback()
        raise Invalid({"registration": reason})
    if registration is None:
        registration = BriefingRegistration(session_id=session_id, user_id=user.id)  # type: ignore[arg-type]
        session.add(registration)
    else:
        registration.cancelled_at = None
    briefing.registered_count += 1
    try:
        session.flush()
    except sa.exc.IntegrityError:  # only if a writer got past the row lock; the database still says no
        session.rollback()
        raise Invalid({"registration": _("This session is full.")}) from None
    session.commit()
    return registration


def refusal(briefing: BriefingSession, challenge: Challenge, now: datetime) -> str:
    """Why nobody can register for ``briefing`` now ("" when they can)."""
    if briefing.cancelled_at is not None:
        return _("This session has been cancelled.")
    if briefing.starts_at <= now:
        return _("This session has already started; registration is closed.")
    decision = phases.check(challenge.phase, Action.REGISTER_BRIEFING)
    if not decision:
        return decision.reason
    if briefing.registered_count >= briefing.capacity:
        return _("This session is full. Another session may still have places.")
    return ""


def cancel_registration(session: Session, actor: Principal, challenge_id: int, session_id: int,
                        now: datetime | None = None) -> bool:
    """Give the actor's place back (before the session starts); False when they held none."""
    now = now or utcnow()
    user = require_signed_in(actor)
    briefing = _session_of(session, challenge_id, session_id, lock=True)
    _visible_challenge(session, actor, challenge_id)
    registration = session.exec(
        select(BriefingRegistration).where(BriefingRegistration.session_id == session_id,
                                           BriefingRegistration.user_id == user.id)
    ).first()
    if registration is None or registration.cancelled_at is not None:
        session.rollback()
        return False
    if briefing.cancelled_at is None and briefing.starts_at <= now:
        session.rollback()
        raise Invalid({"registration": _(
            "This session has already started; the registration can no longer be cancelled.")})
    registration.cancelled_at = now
    briefing.registered_count -= 1
    session.commit()
    return True


# --- reading: the challenge page -----------------------------------------------------------------


@dataclass(frozen=True)
class SessionView:
    """A session as one viewer sees it."""

    briefing: BriefingSession
    registered: bool
    refusal: str  # why the viewer cannot register now ("" if they can)
    show_online_url: bool

    @property
    def seats_left(self) -> int:
        return max(0, self.briefing.capacity - self.briefing.registered_count)

    @property
    def is_full(self) -> bool:
        return self.seats_left == 0


@dataclass
class Section:
    challenge: Challenge
    upcoming: list[SessionView]
    past: Sequence[BriefingSession]
    past_total: int
    signed_in: bool
    is_owner: bool
    phase_reason: str
    back: str
    extra: dict[str, Any] = field(default_factory=dict)


def section(session: Session, actor: Principal, challenge: Challenge, *, back: str | None = None,
            always: bool = False, now: datetime | None = None, is_owner: bool | None = None) -> Section | None:
    """What the challenge page shows about its sessions (None when there is nothing to show).

    One query: the upcoming sessions, the latest past ones with their count, and which of them the
    viewer is registered for; ``is_owner`` (when the page already knows it) saves asking who owns the
    challenge.
    """
    now = now or utcnow()
    assert challenge.id is not None
    if is_owner is None:
        is_owner = lifecycle.is_owner(session, actor, challenge)
    upcoming, past, past_total = _sessions(session, challenge.id, actor.user_id, now)
    if not upcoming and not past and not is_owner and not always:
        return None
    views = [SessionView(briefing=b, registered=mine, refusal=refusal(b, challenge, now),
                         show_online_url=is_owner or mine) for b, mine in upcoming]
    decision = phases.check(challenge.phase, Action.REGISTER_BRIEFING)
    return Section(challenge=challenge, upcoming=views, past=past, past_total=past_total,
                   signed_in=actor.is_signed_in, is_owner=is_owner, phase_reason=decision.reason,
                   back=back or f"/challenges/{challenge.id}")


def _sessions(session: Session, challenge_id: int, user_id: int | None,
              now: datetime) -> tuple[list[tuple[BriefingSession, bool]], list[BriefingSession], int]:
    """(the first UPCOMING_LIMIT sessions not yet ended, soonest first, each with whether ``user_id`` holds
    a place; the PAST_LIMIT latest ended ones that were not cancelled; how many of those there are), in one
    query: each group is numbered and counted by a window over it."""
    upcoming = col(BriefingSession.ends_at) > now
    group = sa.case((upcoming, 0), else_=1)
    order = (sa.case((upcoming, col(BriefingSession.starts_at))).asc(),
             sa.case((~upcoming, col(BriefingSession.starts_at))).desc(),
             sa.case((upcoming, col(BriefingSession.id)), else_=-col(BriefingSession.id)).asc())
    ranked = (select(col(BriefingSession.id).label("id"), group.label("grp"),
                     func.row_number().over(partition_by=group, order_by=order).label("n"),
                     func.count().over(partition_by=group).label("total"))
              .where(BriefingSession.challenge_id == challenge_id,
                     sa.or_(upcoming, col(BriefingSession.cancelled_at).is_(None)))
              .subquery())
    mine: Any = sa.false()
    if user_id is not None:
        mine = sa.exists().where(col(BriefingRegistration.session_id) == BriefingSession.id,
                                 col(BriefingRegistration.user_id) == user_id,
                                 col(BriefingRegistration.cancelled_at).is_(None))
    rows = session.execute(
        select(BriefingSession, ranked.c.grp, ranked.c.total, mine.label("mine"))
        .join(ranked, ranked.c.id == BriefingSession.id)
        .where(ranked.c.n <= sa.case((ranked.c.grp == 0, UPCOMING_LIMIT), else_=PAST_LIMIT))
        .order_by(ranked.c.grp, ranked.c.n)
    ).all()
    coming = [(row[0], bool(row[3])) for row in rows if row[1] == 0]
    past = [row[0] for row in rows if row[1] == 1]
    return coming, past, next((int(row[2]) for row in rows if row[1] == 1), 0)


def visible_challenge(session: Session, actor: Principal, challenge_id: int) -> Challenge:
    """The challenge if the actor may see it (public, or a draft of their department); else NotFound."""
    return _visible_challenge(session, actor, challenge_id)


# --- reading: staff ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registrant:
    display_name: str
    email: str
    registered_at: datetime


def staff_sessions(session: Session, actor: Principal, challenge_id: int, page: int,
                   per_page: int) -> tuple[Challenge, Page[BriefingSession]]:
    """Every session of the challenge, newest start first, one page at a time."""
    challenge = _owned_challenge(session, actor, challenge_id)
    statement = (select(BriefingSession).where(BriefingSession.challenge_id == challenge_id)
                 .order_by(col(BriefingSession.starts_at).desc(), col(BriefingSession.id).desc()))
    return challenge, paginate(session, statement, page, per_page)


def staff_session(session: Session, actor: Principal, challenge_id: int,
                  session_id: int) -> tuple[Challenge, BriefingSession]:
    challenge = _owned_challenge(session, actor, challenge_id)
    return challenge, _session_of(session, challenge_id, session_id)


def _registrants_statement(session_id: int) -> sa.Select[Any]:
    return (sa.select(User.display_name, User.email, BriefingRegistration.updated_at)
            .join(User, col(User.id) == BriefingRegistration.user_id)
            .where(BriefingRegistration.session_id == session_id, col(BriefingRegistration.cancelled_at).is_(None))
            .order_by(BriefingRegistration.updated_at, BriefingRegistration.id))


def _registrant(row: Any) -> Registrant:
    # A place taken again after cancelling dates from the new registration (the row's last update).
    return Registrant(display_name=row.display_name, email=row.email or "", registered_at=row.updated_at)


def registrants(session: Session, actor: Principal, challenge_id: int, session_id: int, page: int,
                per_page: int) -> tuple[Challenge, BriefingSession, Page[Registrant]]:
    """Who holds a place (names and e-mail addresses): owning staff only."""
    challenge, briefing = staff_session(session, actor, challenge_id, session_id)
    result = paginate(session, _registrants_statement(session_id), page, per_page, scalars=False)
    items = [_registrant(row) for row in result.items]
    return challenge, briefing, Page(items=items, page=result.page, per_page=result.per_page, total=result.total)


def _csv_cell(value: str) -> str:
    return "'" + value if value.startswith(CSV_FORMULA_START) else value


def registrants_csv(session: Session, actor: Principal, challenge_id: int, session_id: int) -> tuple[BriefingSession, str]:
    """The registrant list as CSV (UTF-8 with a BOM so that Excel reads the Japanese right); audited,
    since it carries personal data out of the platform."""
    _challenge, briefing = staff_session(session, actor, challenge_id, session_id)
    rows = [_registrant(row) for row in session.execute(_registrants_statement(session_id)).all()]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_("Display name"), _("E-mail address"), _("Registered at")])
    for row in rows:
        writer.writerow([_csv_cell(row.display_name), _csv_cell(row.email),
                         row.registered_at.astimezone(WARD_TIMEZONE).strftime("%Y-%m-%d %H:%M")])
    audit.record(session, actor_id=actor.user_id, actor_label=_label(actor), action="briefing.registrants_exported",
                 target_type="briefing_session", target_id=str(briefing.id),
                 details={"challenge_id": challenge_id, "rows": len(rows)})
    session.commit()
    return briefing, "\ufeff" + buffer.getvalue()


# --- iCalendar -----------------------------------------------------------------------------------


def ics(session: Session, settings: Settings, actor: Principal, challenge_id: int, session_id: int) -> bytes:
    """One session as an iCalendar file. The online address is only in the file of people holding a
    place (and owning staff), as on the page; everyone else gets the challenge page as URL."""
    challenge = _visible_challenge(session, actor, challenge_id)
    briefing = _session_of(session, challenge_id, session_id)
    insider = lifecycle.is_owner(session, actor, challenge) or (actor.user_id is not None and session.exec(
        select(BriefingRegistration.id).where(BriefingRegistration.session_id == session_id,
                                              BriefingRegistration.user_id == actor.user_id,
                                              col(BriefingRegistration.cancelled_at).is_(None))
    ).first() is not None)
    page_url = f"{settings.base_url}/challenges/{challenge_id}"
    host = urlsplit(settings.base_url).hostname or "cocreate.localhost"

    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//cocreate Itabashi//briefing sessions//JA")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"briefing-{briefing.id}@{host}")
    event.add("dtstamp", briefing.updated_at.astimezone(UTC))
    event.add("last-modified", briefing.updated_at.astimezone(UTC))
    event.add("created", briefing.created_at.astimezone(UTC))
    # Each edit moves updated_at on, so this grows with every change, as calendar clients expect.
    event.add("sequence", max(0, int((briefing.updated_at - briefing.created_at).total_seconds())))
    event.add("dtstart", briefing.starts_at.astimezone(WARD_TIMEZONE))
    event.add("dtend", briefing.ends_at.astimezone(WARD_TIMEZONE))
    event.add("summary", f"{briefing.title}（{challenge.title}）")
    online = briefing.online_url if insider else ""
    if briefing.place:
        event.add("location", briefing.place)
    elif briefing.online_url:
        event.add("location", online or _("Online (the address is sent to registered participants)"))
    event.add("url", online or page_url)
    description = [briefing.notes.strip(), _("Challenge: %(title)s", title=challenge.title), page_url]
    if online:
        description.insert(1, _("Online: %(url)s", url=online))
    event.add("description", "\n\n".join(part for part in description if part))
    event.add("status", "CANCELLED" if briefing.cancelled_at is not None else "CONFIRMED")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
