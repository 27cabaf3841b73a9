"""What the organisation's members and the field's coordinators are told when a request changes state,
in the site and by e-mail: the two notification kinds of bookings (listed in the labs manifest)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from cocreate.accounts.models import OrganisationMember
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from cocreate.notifications import services as notifications
from cocreate.settings import Settings
from labs import paths
from labs.models import Booking, BookingEvent, BookingStatus, TestField, TestFieldCoordinator

SUBMITTED_KIND = "booking.submitted"
STATUS_KIND = "booking.status"
TARGET = "booking"
"""``target_type`` of the notifications and audit entries of a booking."""


def _submitted_message(params: dict[str, Any]) -> str:
    return _("A booking request for “%(field)s” has been submitted: %(title)s",
             field=str(params.get("field_name", "")), title=str(params.get("title", "")))


def _submitted_subject(params: dict[str, Any]) -> str:
    return _("New booking request: %(title)s", title=str(params.get("title", "")))


def _status_label(params: dict[str, Any]) -> str:
    try:
        return BookingStatus(str(params.get("status", ""))).label
    except ValueError:
        return ""


def _status_message(params: dict[str, Any]) -> str:
    if params.get("rescheduled"):
        return _("The dates of your booking “%(title)s” have been changed.", title=str(params.get("title", "")))
    return _("Your booking request “%(title)s” is now: %(status)s",
             title=str(params.get("title", "")), status=_status_label(params))


def _status_subject(params: dict[str, Any]) -> str:
    if params.get("rescheduled"):
        return _("Booking dates changed: %(title)s", title=str(params.get("title", "")))
    return _("Booking request %(status)s: %(title)s", status=_status_label(params), title=str(params.get("title", "")))


KINDS = {
    SUBMITTED_KIND: notifications.Kind(_submitted_message, _submitted_subject, "mail/booking_submitted.txt",
                                       label=lazy_gettext("New booking requests for your test fields")),
    STATUS_KIND: notifications.Kind(_status_message, _status_subject, "mail/booking_status.txt",
                                    label=lazy_gettext("Your organisations' booking requests")),
}
"""The notification kinds of bookings (listed in the labs manifest)."""


booking_url = paths.booking
"""The link of a booking's notifications: the booking's page."""


def member_ids(session: Session, organisation_id: int) -> list[int]:
    return list(session.exec(select(OrganisationMember.user_id).where(
        OrganisationMember.organisation_id == organisation_id)).all())


def coordinator_ids(session: Session, field_id: int) -> list[int]:
    return list(session.exec(select(TestFieldCoordinator.user_id).where(
        TestFieldCoordinator.field_id == field_id)).all())


def tell(session: Session, settings: Settings, booking: Booking, event: BookingEvent, *, by_id: int | None,
         rescheduled: bool = False) -> None:
    """Tell the organisation's members (but the one who acted) of the change ``event`` records, and, for
    a submission, the field's coordinators (no commit)."""
    assert booking.id is not None
    target = event.to_status
    params = {"booking_id": booking.id, "title": booking.title, "status": target.value, "rescheduled": rescheduled}
    members = set(member_ids(session, booking.organisation_id)) - {by_id}
    if members:
        notifications.notify(session, user_ids=members, kind=STATUS_KIND, target_type=TARGET, target_id=booking.id,
                             params=params, url=booking_url(booking.id), event_key=f"{STATUS_KIND}:{event.id}",
                             settings=settings)
    if target is BookingStatus.SUBMITTED:
        field_row = session.get(TestField, booking.field_id)
        coordinators = set(coordinator_ids(session, booking.field_id)) - {by_id}
        if coordinators and field_row is not None:
            notifications.notify(session, user_ids=coordinators, kind=SUBMITTED_KIND, target_type=TARGET,
                                 target_id=booking.id, params=params | {"field_name": field_row.name},
                                 url=booking_url(booking.id), event_key=f"{SUBMITTED_KIND}:{event.id}",
                                 settings=settings)
