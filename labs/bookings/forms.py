"""What the booking forms send, read and checked: the request form (with its rows of periods) and
the notes of the field's managers."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from cocreate.accounts.permissions import Principal
from cocreate.errors import Invalid
from cocreate.i18n import gettext as _
from labs import access
from labs.bookings.rules import TZ, local_input
from labs.models import Booking, BookingPeriod, TestField

MAX_PERIODS = 20
FORM_ROWS = 5
"""Period rows a form shows at least (blank rows are ignored)."""
MAX_TITLE = 200
MAX_TEXT = 5000
MAX_NOTE = 2000
MAX_PEOPLE = 100_000
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DATETIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::\d{2})?$")


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


def _note(text: str, *, required: bool, message: str) -> str:
    note = _clean(text)
    if required and not note:
        raise Invalid({"note": message})
    if len(note) > MAX_NOTE:
        raise Invalid({"note": _("Use at most %(max)s characters.", max=MAX_NOTE)})
    return note
