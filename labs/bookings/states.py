"""The states of a booking request and the moves between them, declared once.

Every change goes through :func:`labs.bookings.workflow.move`, which refuses anything
:data:`ALLOWED` does not list. Who makes which move, in which states, is the labs policy's
(:mod:`labs.permissions`, which reads these sets).
"""

from __future__ import annotations

from cocreate.errors import Invalid
from cocreate.i18n import gettext as _
from labs.models import Booking, BookingStatus

S = BookingStatus

ALLOWED: dict[BookingStatus, frozenset[BookingStatus]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.UNDER_REVIEW, S.CHANGES_REQUESTED, S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.UNDER_REVIEW: frozenset({S.CHANGES_REQUESTED, S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.CHANGES_REQUESTED: frozenset({S.SUBMITTED, S.REJECTED, S.CANCELLED}),
    S.APPROVED: frozenset({S.APPROVED, S.CANCELLED, S.COMPLETED}),  # approved → approved: rescheduled
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.COMPLETED: frozenset(),
}
"""Every state change a booking may make; anything else is refused."""

EDITABLE = frozenset({S.DRAFT, S.CHANGES_REQUESTED})
"""The organisation edits its request and its documents only in these states."""
OPEN = frozenset({S.SUBMITTED, S.UNDER_REVIEW})
"""Waiting for the field's managers."""
NOTE_REQUIRED = frozenset({S.CHANGES_REQUESTED, S.REJECTED, S.CANCELLED})


def can_move(current: BookingStatus, target: BookingStatus) -> bool:
    return target in ALLOWED[current]


def illegal(status: BookingStatus) -> str:
    """Why a booking in ``status`` cannot be changed this way."""
    return _("This request is “%(status)s”; it cannot be changed this way.", status=status.label)


def refuse_move(booking: Booking, target: BookingStatus) -> None:
    if not can_move(booking.status, target):
        raise Invalid({"status": illegal(booking.status)})
