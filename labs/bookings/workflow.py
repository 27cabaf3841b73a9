"""The life of a booking request (利用申請): its state changes, each in one transaction.

States and who moves a request between them are declared once, in :mod:`labs.bookings.states`; every
change goes through :func:`move`, which records a :class:`BookingEvent` and tells the organisation's
members (and, for a submission, the field's coordinators) in the site and by e-mail.

Members of an organisation write drafts; only a verified organisation submits. The field's managers
(its coordinators and site admins) review, ask for changes, approve, reject, reschedule and cancel; each
of those is audited. Who may do which, in which state, is the labs policy's (:mod:`labs.permissions`):
each service asks it, who acts before any lock and the request's state again under the lock.

No double booking: approving (by a manager, or at once on submit when the field needs no approval)
and rescheduling run in one transaction that first locks the field row (on SQLite every write
transaction begins IMMEDIATE, which serialises writers anyway), re-checks the periods against the
field's blocking periods, then makes its own periods block. On PostgreSQL the exclusion constraint
``booking_period_no_overlap`` says no as well; its IntegrityError becomes the same validation error.

Each service runs in a unit of work (:func:`cocreate.db.transactional`): it refuses by raising, and
whatever it wrote before is rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from cocreate import audit, permissions
from cocreate.accounts.models import Organisation, User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.db import transactional, unit_of_work
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.forms import Problems
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from labs import access, notices
from labs.access import OnBooking
from labs.bookings.access import for_manager, for_member, locked
from labs.bookings.forms import (
    ApproveForm,
    BookingForm,
    CancelForm,
    ChangesForm,
    Period,
    RejectForm,
    RescheduleForm,
)
from labs.bookings.notifications import TARGET, tell
from labs.bookings.rules import booking_problems, local_input, numbered, overlap_message, periods_of, problems
from labs.bookings.states import refuse_move
from labs.models import (
    Booking,
    BookingEvent,
    BookingPeriod,
    BookingStatus,
    NoticeKind,
    TestField,
)

S = BookingStatus


# --- state changes -------------------------------------------------------------------------------


def move(session: Session, settings: Settings, booking: Booking, target: BookingStatus, *, by: User | None,
          note: str = "", rescheduled: bool = False) -> BookingEvent:
    """Change the status (checked against :data:`~labs.bookings.states.ALLOWED`), record the event and
    notify."""
    assert booking.id is not None
    refuse_move(booking, target)
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
    tell(session, settings, booking, event, by_id=by.id if by else None, rescheduled=rescheduled)
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


def _blocking(session: Session, booking_id: int, work: Callable[[], None]) -> None:
    """Run ``work`` (which makes periods block) in a unit of work of its own (a savepoint of the
    service's); a PostgreSQL exclusion violation, at any flush, becomes the same overlap error the
    locked check gives."""
    try:
        with unit_of_work(session):
            work()
    except sa.exc.IntegrityError as error:
        if "booking_period_no_overlap" not in str(error.orig):
            raise
        raise Invalid(_overlap_errors(session, booking_id)) from None


def _overlap_errors(session: Session, booking_id: int) -> dict[str, str]:
    """After a lost race: which periods now overlap (every period when none can be told apart)."""
    booking = session.get(Booking, booking_id)
    field_row = session.get(TestField, booking.field_id) if booking else None
    if booking is None or field_row is None:
        return {"periods": _("This booking overlaps an approved booking.")}
    periods = numbered(periods_of(session, booking_id))
    found = {key: message for key, message in problems(
        session, field_row, periods, booking_id=booking_id, check_notice=False).items() if key.endswith("-overlap")}
    return found or {f"period-{n}-overlap": overlap_message(n, field_row) for n, _s, _e in periods}


def _approve_locked(session: Session, settings: Settings, field_row: TestField, booking: Booking, *,
                    by: User | None, note: str) -> None:
    """Under the field lock: re-check, block, mark approved and announce."""
    errors = booking_problems(session, booking, field_row, for_approval=True)
    if errors:
        raise Invalid(errors)
    _block(session, field_row, booking)
    booking.review_note = note or booking.review_note
    move(session, settings, booking, S.APPROVED, by=by, note=note)
    notices.announce(session, booking, NoticeKind.APPROVED)


# --- use cases: the organisation -----------------------------------------------------------------


def _store_periods(session: Session, booking: Booking, periods: Sequence[Period]) -> None:
    session.execute(sa.delete(BookingPeriod).where(col(BookingPeriod.booking_id) == booking.id))
    for _number, starts_at, ends_at in sorted(periods, key=lambda p: (p.starts_at, p.ends_at)):
        session.add(BookingPeriod(booking_id=booking.id, field_id=booking.field_id, starts_at=starts_at,  # type: ignore[arg-type]
                                  ends_at=ends_at, blocked_until=ends_at, blocks=False))


@dataclass
class Saved:
    booking: Booking
    problems: dict[str, str]
    """What must still be fixed before the request can be submitted (empty when submitted)."""


def save(session: Session, settings: Settings, actor: Principal, form: BookingForm, *,
         booking_id: int | None = None, submit: bool = False) -> Saved:
    """Create (``booking_id`` None) or edit a request and optionally submit it.

    A field, organisation or trial the actor may not choose refuses everything, as the form's own
    errors did. The booking rules do not stop a draft from being saved; they are returned as
    ``problems``. ``submit`` refuses unless the request keeps every rule (nothing changed).

    The request is stored in one unit of work and submitted in a second one, which locks the field
    before the booking as every state change does.
    """
    booking, rule_problems = _store(session, actor, form, booking_id=booking_id, submit=submit)
    if not submit:
        return Saved(booking, rule_problems)
    assert booking.id is not None
    return Saved(_submit(session, settings, actor, booking.id), {})


def _chosen(session: Session, actor: Principal, form: BookingForm, existing: Booking | None,
            mine: Sequence[Organisation]) -> tuple[TestField, Organisation, int | None]:
    """The field, organisation and trial of the request, if the actor may choose them: a field they see,
    one of ``mine`` (their organisations; a request's field and organisation stay those it was made for)."""
    problems_found = Problems()
    field_id = existing.field_id if existing is not None else form.field_id
    field_row = session.get(TestField, field_id) if field_id is not None else None
    if field_row is None or not permissions.can(actor, "field.see", access.on_field(
            session, actor, field_row.id, published=field_row.published, actions=("field.see",))):  # type: ignore[arg-type]
        problems_found.add("field_id", _("Choose a test field."))
    if existing is not None:
        organisation = session.get(Organisation, existing.organisation_id)
    else:
        organisation = next((o for o in mine if o.id == form.organisation_id), None)
    if organisation is None:
        problems_found.add("organisation_id", _("Choose one of your organisations."))
    if form.trial_id is not None and (organisation is None or organisation.id not in access.trial_organisation_ids(
            session, form.trial_id)):
        problems_found.add("trial_id", _("Choose one of your organisation's trials, or none."))
    problems_found.raise_any()
    assert field_row is not None and organisation is not None
    return field_row, organisation, form.trial_id


@transactional
def _store(session: Session, actor: Principal, form: BookingForm, *, booking_id: int | None,
           submit: bool) -> tuple[Booking, dict[str, str]]:
    """Store the request as a draft (refused when ``submit`` and a rule is broken); returns it with the
    problems that keep it from being submitted."""
    user = require_signed_in(actor)
    existing: Booking | None = None
    mine: list[Organisation] = []
    if booking_id is None:
        mine = access.organisations_of(session, actor)
        target = access.new_booking(mine)
        permissions.require(actor, "booking.request", target)
    else:
        existing, target = for_member(session, actor, booking_id, "booking.edit")
        permissions.require(actor, "booking.edit", target)
    field_row, organisation, trial_id = _chosen(session, actor, form, existing, mine)
    organisation_id = organisation.id
    if submit:
        permissions.require(actor, "booking.submit", target if existing is not None else access.new_booking(
            [organisation]))
    rule_problems = problems(session, field_row, form.periods, booking_id=existing.id if existing else None,
                             expected_people=form.expected_people, check_documents=submit)
    if submit and rule_problems:
        raise Invalid(rule_problems)
    booking = existing or Booking(field_id=field_row.id, organisation_id=organisation_id,  # type: ignore[arg-type]
                                  created_by_id=user.id, title=form.title)
    booking.trial_id = trial_id
    booking.title = form.title
    booking.purpose = form.purpose
    booking.public_description = form.public_description
    booking.expected_people = form.expected_people
    booking.equipment = form.equipment
    session.add(booking)
    session.flush()
    _store_periods(session, booking, form.periods)
    session.flush()
    return booking, rule_problems


@transactional
def submit(session: Session, settings: Settings, actor: Principal, booking_id: int) -> Booking:
    """Submit a draft or a request sent back for changes (verified organisations only)."""
    _booking, target = for_member(session, actor, booking_id, "booking.submit")
    permissions.require(actor, "booking.submit", target)
    return _submit(session, settings, actor, booking_id)


@transactional
def _submit(session: Session, settings: Settings, actor: Principal, booking_id: int) -> Booking:
    user = require_signed_in(actor)
    field_row, booking = locked(session, booking_id)
    refuse_move(booking, S.SUBMITTED)
    errors = booking_problems(session, booking, field_row)
    if errors:
        raise Invalid(errors)

    def work() -> None:
        move(session, settings, booking, S.SUBMITTED, by=user)
        if not field_row.approval_required:  # approved at once, under the same lock and checks
            _approve_locked(session, settings, field_row, booking, by=None, note="")

    _blocking(session, booking_id, work)
    return booking


@transactional
def cancel(session: Session, settings: Settings, actor: Principal, booking_id: int, form: CancelForm) -> Booking:
    """The organisation cancels its request, also an approved one; the field is free again."""
    user = require_signed_in(actor)
    _booking, target = for_member(session, actor, booking_id, "booking.cancel")
    _field_row, booking = _locked_for(session, actor, booking_id, "booking.cancel", target)
    return _cancel(session, settings, user, booking, form.reason, as_manager=False)


def _locked_for(session: Session, actor: Principal, booking_id: int, action: str,
                target: OnBooking) -> tuple[TestField, Booking]:
    """The field and the booking locked, once the actor may do ``action`` to the booking as it is now."""
    field_row, booking = locked(session, booking_id)
    permissions.require(actor, action, replace(target, status=booking.status))
    return field_row, booking


def _cancel(session: Session, settings: Settings, user: User, booking: Booking, reason: str, *,
            as_manager: bool) -> Booking:
    """Cancel the booking (locked by the caller)."""
    was_approved = booking.status is S.APPROVED
    if was_approved:
        _release(session, booking)
    move(session, settings, booking, S.CANCELLED, by=user, note=reason)
    if as_manager:
        _audit(session, user, "cancelled", booking, reason=reason, was_approved=was_approved)
    if was_approved:
        notices.announce(session, booking, NoticeKind.CANCELLED)
    return booking


# --- use cases: the field's managers -------------------------------------------------------------


def _as_manager(session: Session, actor: Principal, booking_id: int, action: str) -> tuple[TestField, Booking]:
    """The field and the booking locked, for a manager's ``action``: who acts is checked before the lock,
    the booking's state under it."""
    _booking, target = for_manager(session, actor, booking_id, action)
    return _locked_for(session, actor, booking_id, action, target)


@transactional
def start_review(session: Session, settings: Settings, actor: Principal, booking_id: int) -> Booking:
    user = require_signed_in(actor)
    _field_row, booking = _as_manager(session, actor, booking_id, "booking.review")
    move(session, settings, booking, S.UNDER_REVIEW, by=user)
    _audit(session, user, "review_started", booking)
    return booking


def _decide(session: Session, settings: Settings, actor: Principal, booking_id: int, target: BookingStatus,
            note: str, action: str, audited: str) -> Booking:
    user = require_signed_in(actor)
    _field_row, booking = _as_manager(session, actor, booking_id, action)
    booking.review_note = note
    move(session, settings, booking, target, by=user, note=note)
    _audit(session, user, audited, booking, note=note)
    return booking


@transactional
def request_changes(session: Session, settings: Settings, actor: Principal, booking_id: int,
                    form: ChangesForm) -> Booking:
    return _decide(session, settings, actor, booking_id, S.CHANGES_REQUESTED, form.note, "booking.request_changes",
                   "changes_requested")


@transactional
def reject(session: Session, settings: Settings, actor: Principal, booking_id: int, form: RejectForm) -> Booking:
    return _decide(session, settings, actor, booking_id, S.REJECTED, form.note, "booking.reject", "rejected")


@transactional
def approve(session: Session, settings: Settings, actor: Principal, booking_id: int,
            form: ApproveForm | None = None) -> Booking:
    """Approve under the field lock: refused (nothing changed) when any rule is broken now."""
    user = require_signed_in(actor)
    note = form.note if form is not None else ""
    field_row, booking = _as_manager(session, actor, booking_id, "booking.approve")

    def work() -> None:
        _approve_locked(session, settings, field_row, booking, by=user, note=note)
        _audit(session, user, "approved", booking, note=note)

    _blocking(session, booking_id, work)
    return booking


@transactional
def reschedule(session: Session, settings: Settings, actor: Principal, booking_id: int,
               form: RescheduleForm) -> Booking:
    """A manager moves an approved booking to new periods, under the field lock.

    The new periods must keep every rule but the notice; the booking's revision rises and residents
    are told of the change.
    """
    user = require_signed_in(actor)
    field_row, booking = _as_manager(session, actor, booking_id, "booking.reschedule")
    errors = problems(session, field_row, form.periods, booking_id=booking_id,
                      expected_people=booking.expected_people, check_notice=False)
    if errors:
        raise Invalid(errors)
    _blocking(session, booking_id,
              lambda: _reschedule_locked(session, settings, user, field_row, booking, form.periods, form.note))
    return booking


def _reschedule_locked(session: Session, settings: Settings, user: User, field_row: TestField, booking: Booking,
                       periods: Sequence[Period], note: str) -> None:
    booking_id = booking.id
    assert booking_id is not None
    before = [(local_input(p.starts_at), local_input(p.ends_at)) for p in periods_of(session, booking_id)]
    session.execute(sa.delete(BookingPeriod).where(col(BookingPeriod.booking_id) == booking_id))
    session.flush()
    buffer = timedelta(minutes=field_row.buffer_minutes)
    for _number, starts_at, ends_at in sorted(periods, key=lambda p: (p.starts_at, p.ends_at)):
        session.add(BookingPeriod(booking_id=booking_id, field_id=booking.field_id, starts_at=starts_at,
                                  ends_at=ends_at, blocked_until=ends_at + buffer, blocks=True))
    booking.revision += 1
    booking.review_note = note
    move(session, settings, booking, S.APPROVED, by=user, note=note, rescheduled=True)
    _audit(session, user, "rescheduled", booking, note=note, before=before,
           after=[(local_input(s), local_input(e)) for _n, s, e in periods], revision=booking.revision)
    notices.announce(session, booking, NoticeKind.CHANGED)


@transactional
def manager_cancel(session: Session, settings: Settings, actor: Principal, booking_id: int,
                   form: CancelForm) -> Booking:
    user = require_signed_in(actor)
    _field_row, booking = _as_manager(session, actor, booking_id, "booking.manager_cancel")
    return _cancel(session, settings, user, booking, form.reason, as_manager=True)
