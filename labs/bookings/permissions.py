"""Who sees and acts on a booking: the members of its organisation, and (but for drafts) the field's
managers (its coordinators and site admins, :mod:`labs.access`). Everyone else is told it does not
exist. Also the one order in which a booking is locked: the field row first, then the booking."""

from __future__ import annotations

from sqlmodel import Session

from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.errors import Forbidden, NotFound
from cocreate.i18n import gettext as _
from labs import access
from labs.models import Booking, BookingStatus, TestField


def is_member(session: Session, actor: Principal, booking: Booking) -> bool:
    return booking.organisation_id in access.member_organisation_ids(session, actor.user_id)


def visible_booking(session: Session, actor: Principal, booking_id: int) -> tuple[Booking, bool, bool]:
    """The booking with (is a member of its organisation, manages its field); :class:`NotFound` for
    anyone else.

    The field's managers do not see drafts.
    """
    require_signed_in(actor)
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound()
    member = is_member(session, actor, booking)
    manager = booking.status is not BookingStatus.DRAFT and access.manages_field(session, actor, booking.field_id)
    if not member and not manager:
        raise NotFound()
    return booking, member, manager


def for_member(session: Session, actor: Principal, booking_id: int) -> Booking:
    """The booking, for the members of its organisation (others may not act as them: Forbidden)."""
    booking, member, _manager = visible_booking(session, actor, booking_id)
    if not member:
        raise Forbidden(_("Only members of the organisation that made this request can do this."))
    return booking


def for_manager(session: Session, actor: Principal, booking_id: int) -> Booking:
    """The booking, for the field's managers (Forbidden for others; drafts do not exist for anyone)."""
    require_signed_in(actor)
    booking = session.get(Booking, booking_id)
    if booking is None or booking.status is BookingStatus.DRAFT:
        raise NotFound()
    access.require_field_manager(session, actor, booking.field_id)
    return booking


def require_any_membership(session: Session, actor: Principal) -> None:
    require_signed_in(actor)
    if not access.member_organisation_ids(session, actor.user_id):
        raise Forbidden(_("Only members of an organisation can request a booking. Join or register your "
                          "organisation first."))


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
