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
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Annotated, Any
from urllib.parse import urlsplit

import icalendar
import sqlalchemy as sa
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError
from sqlmodel import Session, col, func, select

from cocreate import audit, mail, permissions
from cocreate.accounts.models import User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.db import transactional
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.forms import (
    Date,
    FormModel,
    Line,
    Problems,
    Text,
    TimeOfDay,
    WholeNumber,
    as_text,
    parse_time,
)
from cocreate.i18n import N_, WARD_TIMEZONE, format_date, format_datetime, lazy_gettext, using_locale
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from cocreate.web.pagination import Page, paginate
from cocreate.web.templating import render_standalone
from proposals import paths, phases
from proposals.models import BriefingRegistration, BriefingSession, Challenge
from proposals.permissions import OnBriefing, OnChallenge, on_challenge, visible
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
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Spreadsheets run a cell starting with one of these as a formula: such cells get a leading quote."""

FIELD_ORDER = ("title", "date", "start_time", "end_time", "place", "online_url", "capacity", "notes")
"""The staff form's fields in page order (the error summary lists them so)."""

NOTIFIED_FIELDS = ("starts_at", "ends_at", "place", "online_url")
"""Changes registrants are told about by e-mail."""


# --- what the staff forms send -------------------------------------------------------------------


def url_error(url: str) -> str | None:
    """Why ``url`` is not an http(s) address we can link to, or None."""
    if len(url) > URL_MAX:
        return _("Use at most %(max)s characters.", max=URL_MAX)
    message = _("Enter a web address starting with https:// or http://.")
    if not url.isprintable() or " " in url:  # control characters and spaces of any kind
        return message
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return message
    if parts.scheme.lower() not in ("http", "https") or not host:
        return message
    return None


def _web_address(url: str) -> str:
    if url and (message := url_error(url)):
        raise PydanticCustomError("cocreate", "{message}", {"message": message})
    return url


class SessionForm(FormModel):
    """What the staff form sends; the date and times are in the ward's time zone.

    Every field is checked, and the rules between fields too (a place or an address, the end after
    the start), so that the form shows all its errors at once."""

    title: Annotated[str, Line(TITLE_MAX, required=lazy_gettext("Enter the title of the session."))] = ""
    date: Annotated[dt.date | None, Date(required=lazy_gettext("Enter the date of the session."),
                                      message=lazy_gettext("Enter a date like 2026-12-05."))] = None
    start_time: Annotated[time | None, TimeOfDay(required=lazy_gettext("Enter the start time."),
                                                 message=lazy_gettext("Enter a time like 14:00."))] = None
    end_time: Annotated[time | None, TimeOfDay(required=lazy_gettext("Enter the end time."),
                                               message=lazy_gettext("Enter a time like 14:00."))] = None
    place: Annotated[str, Line(PLACE_MAX)] = ""
    online_url: Annotated[str, Line(URL_MAX), AfterValidator(_web_address)] = ""
    capacity: Annotated[int | None, WholeNumber(
        lazy_gettext("Enter a whole number from %(min)s to %(max)s.", min=CAPACITY_MIN, max=f"{CAPACITY_MAX:,}"),
        minimum=CAPACITY_MIN, maximum=CAPACITY_MAX, required=lazy_gettext("Enter the number of places."))] = None
    notes: Annotated[str, Text(NOTES_MAX, strip=False)] = ""

    def __init__(self, **data: Any) -> None:
        problems = Problems()
        try:
            super().__init__(**data)
        except Invalid as failed:
            problems.extend(failed.errors)
        problems.extend(_between_fields(data))
        if problems:
            errors = problems.errors
            raise Invalid({name: errors[name] for name in sorted(errors, key=_page_order)})

    @property
    def starts_at(self) -> datetime:
        assert self.date is not None and self.start_time is not None
        return datetime.combine(self.date, self.start_time, tzinfo=WARD_TIMEZONE).astimezone(UTC)

    @property
    def ends_at(self) -> datetime:
        assert self.date is not None and self.end_time is not None
        return datetime.combine(self.date, self.end_time, tzinfo=WARD_TIMEZONE).astimezone(UTC)

    def values(self) -> dict[str, Any]:
        """The session's columns as this form sets them."""
        return {"title": self.title, "starts_at": self.starts_at, "ends_at": self.ends_at, "place": self.place,
                "online_url": self.online_url, "capacity": self.capacity, "notes": self.notes}


def _page_order(name: str) -> int:
    return FIELD_ORDER.index(name) if name in FIELD_ORDER else len(FIELD_ORDER)


def _between_fields(data: Mapping[str, Any]) -> dict[str, str]:
    """The rules between the staff form's fields, on what was sent (each field may have failed on its own)."""
    errors: dict[str, str] = {}
    if not as_text(data.get("place")).strip() and not as_text(data.get("online_url")).strip():
        errors["place"] = _("Enter the place, the online meeting address, or both.")
    start, end = parse_time(data.get("start_time")), parse_time(data.get("end_time"))
    if start is not None and end is not None and end <= start:
        errors["end_time"] = _("The end time must be after the start time.")
    return errors


def form_values(briefing: BriefingSession) -> dict[str, str]:
    """A session as its edit form shows it (the ward's date and times)."""
    starts = briefing.starts_at.astimezone(WARD_TIMEZONE)
    ends = briefing.ends_at.astimezone(WARD_TIMEZONE)
    return {"title": briefing.title, "date": starts.date().isoformat(), "start_time": starts.strftime("%H:%M"),
            "end_time": ends.strftime("%H:%M"), "place": briefing.place, "online_url": briefing.online_url,
            "capacity": str(briefing.capacity), "notes": briefing.notes}


class CancelForm(FormModel):
    reason: Annotated[str, Text(REASON_MAX, required=lazy_gettext(
        "Give the reason for cancelling; it is sent to the registrants."))] = ""


# --- loading -------------------------------------------------------------------------------------


def _owned_challenge(session: Session, actor: Principal, challenge_id: int,
                     action: str = "briefing.manage") -> Challenge:
    """The challenge, if the actor may do ``action`` to it (by default: its owning staff's pages)."""
    require_signed_in(actor)
    challenge = session.get(Challenge, challenge_id)
    if challenge is None:
        raise NotFound()
    permissions.require(actor, action, on_challenge(session, actor, challenge))
    return challenge


def _session_of(session: Session, challenge_id: int, session_id: int, *, lock: bool = False) -> BriefingSession:
    briefing = session.get(BriefingSession, session_id, with_for_update=lock, populate_existing=lock)
    if briefing is None or briefing.challenge_id != challenge_id:
        raise NotFound()
    return briefing


def _visible_challenge(session: Session, actor: Principal, challenge_id: int) -> Challenge:
    challenge = session.get(Challenge, challenge_id)
    if challenge is None or not visible(session, actor, challenge):
        raise NotFound()
    return challenge


def _label(actor: Principal) -> str:
    assert actor.user is not None
    return actor.user.display_name


# --- staff: add, edit, cancel --------------------------------------------------------------------


@transactional
def create_session(session: Session, actor: Principal, challenge_id: int, form: SessionForm,
                   now: datetime | None = None) -> BriefingSession:
    """Add a session (it must start in the future); staff of an owning department only, audited."""
    now = now or utcnow()
    _owned_challenge(session, actor, challenge_id, "briefing.add")
    if form.starts_at <= now:
        raise Invalid({"date": _("The session must start in the future.")})
    values = form.values()
    briefing = BriefingSession(challenge_id=challenge_id, **values)
    session.add(briefing)
    session.flush()
    audit.record(session, actor_id=actor.user_id, actor_label=_label(actor), action="briefing.created",
                 target_type="briefing_session", target_id=str(briefing.id),
                 details={"challenge_id": challenge_id, "title": form.title,
                          "starts_at": values["starts_at"].isoformat(), "capacity": form.capacity})
    return briefing


@transactional
def update_session(session: Session, settings: Settings, actor: Principal, challenge_id: int, session_id: int,
                   form: SessionForm, now: datetime | None = None) -> BriefingSession:
    """Save edits (audited). A new start must be in the future and the capacity cannot drop below the
    places taken; registrants are told by e-mail when the time, place or address changes."""
    now = now or utcnow()
    _owned_challenge(session, actor, challenge_id)
    briefing = _session_of(session, challenge_id, session_id, lock=True)
    if briefing.cancelled_at is not None:
        raise Invalid({"briefing": _("A cancelled session cannot be edited.")})
    values = form.values()
    problems = Problems()
    if values["starts_at"] != briefing.starts_at and values["starts_at"] <= now:
        problems.add("date", _("The session must start in the future."))
    if values["capacity"] < briefing.registered_count:
        problems.add("capacity", _("%(count)s people have registered already; the capacity cannot be lower.",
                                   count=briefing.registered_count))
    problems.raise_any()
    changes: dict[str, list[Any]] = {}
    for name, new in values.items():
        old = getattr(briefing, name)
        if old != new:
            changes[name] = [old.isoformat() if isinstance(old, datetime) else old,
                             new.isoformat() if isinstance(new, datetime) else new]
            setattr(briefing, name, new)
    if not changes:
        return briefing
    notified = 0
    if any(name in changes for name in NOTIFIED_FIELDS):
        notified = _notify(session, settings, briefing, "briefing_changed",
                           N_("Briefing session changed: %(title)s"))
    audit.record(session, actor_id=actor.user_id, actor_label=_label(actor), action="briefing.updated",
                 target_type="briefing_session", target_id=str(briefing.id),
                 details={"challenge_id": challenge_id, "changes": changes, "notified": notified})
    return briefing


@transactional
def cancel_session(session: Session, settings: Settings, actor: Principal, challenge_id: int, session_id: int,
                   form: CancelForm, now: datetime | None = None) -> int:
    """Cancel a session that has not started, with a reason e-mailed to each registrant; returns how many
    were told. Audited. Registrations stay, so the list shows who was expecting to come."""
    now = now or utcnow()
    _owned_challenge(session, actor, challenge_id)
    briefing = _session_of(session, challenge_id, session_id, lock=True)
    if briefing.cancelled_at is not None:
        raise Invalid({"briefing": _("This session is already cancelled.")})
    if briefing.starts_at <= now:
        raise Invalid({"briefing": _("A session that has already started cannot be cancelled.")})
    reason = form.reason
    briefing.cancelled_at = now
    notified = _notify(session, settings, briefing, "briefing_cancelled",
                       N_("Briefing session cancelled: %(title)s"), reason=reason)
    audit.record(session, actor_id=actor.user_id, actor_label=_label(actor), action="briefing.cancelled",
                 target_type="briefing_session", target_id=str(briefing.id),
                 details={"challenge_id": challenge_id, "title": briefing.title, "reason": reason,
                          "notified": notified})
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


@transactional
def register(session: Session, actor: Principal, challenge_id: int, session_id: int,
             now: datetime | None = None) -> BriefingRegistration:
    """Take a place at a session for the signed-in, confirmed actor.

    Registering twice (a double click, two tabs) keeps the one place; registering again after
    cancelling reuses the row. Refusals (phase, started, cancelled, full) raise Invalid with
    the reason under ``registration``.
    """
    now = now or utcnow()
    user = require_signed_in(actor)
    permissions.require(actor, "briefing.register")
    briefing = _session_of(session, challenge_id, session_id, lock=True)
    challenge = _visible_challenge(session, actor, challenge_id)
    registration = session.exec(
        select(BriefingRegistration).where(BriefingRegistration.session_id == session_id,
                                           BriefingRegistration.user_id == user.id)
    ).first()
    if registration is not None and registration.cancelled_at is None:
        return registration
    reason = refusal(briefing, on_challenge(session, actor, challenge), now)
    if reason:
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
        raise Invalid({"registration": _("This session is full.")}) from None
    return registration


def refusal(briefing: BriefingSession, challenge: OnChallenge, now: datetime) -> str:
    """Why nobody can register for ``briefing`` now ("" when they can): ``briefing.open``."""
    return permissions.can(Principal.anonymous(), "briefing.open", OnBriefing.of(briefing, challenge, now)).reason


@transactional
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
        return False
    if briefing.cancelled_at is None and briefing.starts_at <= now:
        raise Invalid({"registration": _(
            "This session has already started; the registration can no longer be cancelled.")})
    registration.cancelled_at = now
    briefing.registered_count -= 1
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
    on: OnChallenge
    """The challenge as the rules see it for the viewer (``can("briefing.manage", s.on)``)."""
    phase_reason: str
    back: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_owner(self) -> bool:
        return self.on.owned


def section(session: Session, actor: Principal, challenge: Challenge, *, back: str | None = None,
            always: bool = False, now: datetime | None = None, on: OnChallenge | None = None) -> Section | None:
    """What the challenge page shows about its sessions (None when there is nothing to show, but to the
    staff who manage them).

    One query: the upcoming sessions, the latest past ones with their count, and which of them the
    viewer is registered for; ``on`` (the challenge as the rules see the viewer, when the page already
    knows it) saves asking who owns the challenge.
    """
    now = now or utcnow()
    assert challenge.id is not None
    if on is None:
        on = on_challenge(session, actor, challenge)
    upcoming, past, past_total = _sessions(session, challenge.id, actor.user_id, now)
    if not upcoming and not past and not always and not permissions.can(actor, "briefing.manage", on):
        return None
    views = [SessionView(briefing=b, registered=mine, refusal=refusal(b, on, now),
                         show_online_url=bool(permissions.can(actor, "briefing.see_online_address",
                                                              OnBriefing.of(b, on, now, registered=mine))))
             for b, mine in upcoming]
    decision = phases.check(challenge.phase, Action.REGISTER_BRIEFING)
    return Section(challenge=challenge, upcoming=views, past=past, past_total=past_total,
                   signed_in=actor.is_signed_in, on=on, phase_reason=decision.reason,
                   back=back or paths.challenge(challenge.id))


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


@transactional
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
    return briefing, "\ufeff" + buffer.getvalue()


# --- iCalendar -----------------------------------------------------------------------------------


def ics(session: Session, settings: Settings, actor: Principal, challenge_id: int, session_id: int) -> bytes:
    """One session as an iCalendar file. The online address is only in the file of people holding a
    place (and owning staff), as on the page; everyone else gets the challenge page as URL."""
    challenge = _visible_challenge(session, actor, challenge_id)
    briefing = _session_of(session, challenge_id, session_id)
    registered = actor.user_id is not None and session.exec(
        select(BriefingRegistration.id).where(BriefingRegistration.session_id == session_id,
                                              BriefingRegistration.user_id == actor.user_id,
                                              col(BriefingRegistration.cancelled_at).is_(None))
    ).first() is not None
    insider = permissions.can(actor, "briefing.see_online_address",
                              OnBriefing.of(briefing, on_challenge(session, actor, challenge), utcnow(),
                                            registered=registered))
    page_url = settings.base_url + paths.challenge(challenge_id)
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
