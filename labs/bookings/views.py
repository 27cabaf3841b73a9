"""What the booking pages show: the lists (the organisation's requests, the managers' queue), the
detail page with its checklist and the facts the page asks the rules with (which actions the reader may
take: ``can("booking.edit", d.target)``), the choices of the request form, and the approved bookings
shown on a trial's page."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, func, select

from cocreate import permissions
from cocreate.accounts.models import Organisation, User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.web.pagination import Page, paginate
from labs import access
from labs.access import OnBooking
from labs.bookings.access import visible_booking
from labs.bookings.documents import documents_of
from labs.bookings.rules import booking_problems, describe_hours, local_input, periods_of, required_documents
from labs.bookings.states import OPEN
from labs.models import (
    Booking,
    BookingDocument,
    BookingEvent,
    BookingPeriod,
    BookingStatus,
    DocumentKind,
    TestField,
    TestFieldHours,
    Trial,
    TrialOrganisation,
)

S = BookingStatus


# --- the request form's choices ------------------------------------------------------------------


def my_organisations(session: Session, actor: Principal) -> list[Organisation]:
    return access.organisations_of(session, actor)


def bookable_fields(session: Session) -> list[tuple[int, str]]:
    return [(row[0], row[1]) for row in session.exec(
        select(TestField.id, TestField.name).where(col(TestField.published).is_(True))
        .order_by(col(TestField.name), col(TestField.id))).all()]


def form_values(booking: Booking, periods: Sequence[BookingPeriod]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """A stored request as its form shows it: the fields as they would be typed, and the rows of periods
    (local time)."""
    values = {"field_id": str(booking.field_id), "organisation_id": str(booking.organisation_id),
              "trial_id": str(booking.trial_id or ""), "title": booking.title, "purpose": booking.purpose,
              "public_description": booking.public_description,
              "expected_people": "" if booking.expected_people is None else str(booking.expected_people),
              "equipment": booking.equipment}
    return values, [(local_input(p.starts_at), local_input(p.ends_at)) for p in periods]


def trials_of(session: Session, organisation_ids: set[int]) -> list[tuple[int, str]]:
    if not organisation_ids:
        return []
    return [(row[0], row[1]) for row in session.exec(
        select(Trial.id, Trial.title).join(TrialOrganisation, col(TrialOrganisation.trial_id) == Trial.id)
        .where(col(TrialOrganisation.organisation_id).in_(organisation_ids)).distinct()
        .order_by(col(Trial.title), col(Trial.id))).all()]


# --- lists ---------------------------------------------------------------------------------------


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
    permissions.require(actor, "booking.queue")
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
    target: OnBooking
    """The booking as the rules see it for the reader (the page asks ``can("booking.edit", d.target)``)."""
    hours_text: str

    def uploaded(self, kind: DocumentKind) -> list[BookingDocument]:
        return [d for d in self.documents if d.document is kind]


PAGE_ACTIONS = ("booking.see", "booking.edit", "booking.submit", "booking.cancel", "booking.upload_document",
                "booking.review", "booking.approve", "booking.request_changes", "booking.reject", "booking.reschedule",
                "booking.manager_cancel")
"""What the booking's page asks about it for its reader."""


def detail(session: Session, actor: Principal, booking_id: int) -> Detail:
    booking, target = visible_booking(session, actor, booking_id, PAGE_ACTIONS)
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
                   required=required_documents(session, field_row.id), problems={},  # type: ignore[arg-type]
                   target=target, hours_text=describe_hours(hours))
    if permissions.can(actor, "booking.edit", target):  # what keeps the members from submitting
        found.problems = booking_problems(session, booking, field_row)
    elif permissions.can(actor, "booking.approve", target):  # what keeps the managers from approving
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
