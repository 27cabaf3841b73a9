"""Loading a booking for someone who acts on it, and the one order in which a booking is locked.

Who may do what is the labs policy's (:mod:`labs.permissions`, asked with the facts of
:func:`labs.access.on_booking`): the members of the requesting organisation, and (but for drafts) the
field's managers, see a request; everyone else is told it does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from cocreate import permissions
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.errors import NotFound
from labs import access
from labs.access import OnBooking
from labs.models import Booking, BookingStatus, TestField


def visible_booking(session: Session, actor: Principal, booking_id: int,
                    actions: Iterable[str] = ("booking.see",)) -> tuple[Booking, OnBooking]:
    """The booking and its facts for asking ``actions``, if the actor sees it (``booking.see``);
    :class:`NotFound` for anyone else."""
    require_signed_in(actor)
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound()
    target = access.on_booking(session, actor, booking, ("booking.see", *actions))
    if not permissions.can(actor, "booking.see", target):
        raise NotFound()
    return booking, target


def for_member(session: Session, actor: Principal, booking_id: int, action: str) -> tuple[Booking, OnBooking]:
    """The booking for people who may do ``action`` as its organisation (NotFound for those who do not
    see it, the rule's refusal of who acts otherwise); the caller checks its state, under a lock if need be."""
    booking, target = visible_booking(session, actor, booking_id, (action,))
    access.require_who(actor, action, target)
    return booking, target


def for_manager(session: Session, actor: Principal, booking_id: int, action: str) -> tuple[Booking, OnBooking]:
    """The booking for the field's managers' ``action`` (drafts do not exist for anyone here; the rule
    refuses others); the caller checks its state under the lock."""
    require_signed_in(actor)
    booking = session.get(Booking, booking_id)
    if booking is None or booking.status is BookingStatus.DRAFT:
        raise NotFound()
    target = access.on_booking(session, actor, booking, (action,))
    access.require_who(actor, action, target)
    return booking, target


def require_any_membership(session: Session, actor: Principal) -> OnBooking:
    """A new request (``booking.request``): the actor must be a member of an organisation."""
    require_signed_in(actor)
    target = access.new_booking(access.organisations_of(session, actor))
    permissions.require(actor, "booking.request", target)
    return target


def locked(session: Session, booking_id: int) -> tuple[TestField, Booking]:
    """The field row, then the booking row, locked in that order and read afresh."""
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound()
    field_row = session.get(TestField, booking.field_id, with_for_update=True, populate_existing=True)
    booking_row = session.get(Booking, booking_id, with_for_update=True, populate_existing=True)
    if field_row is None or booking_row is None:
        raise NotFound()
    return field_row, booking_row
