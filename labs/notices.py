"""Resident notices (周辺住民への周知): who is told about an approved, changed or cancelled booking.

The booking services call :func:`announce` in the transaction that approves, changes or cancels a
booking. It records the event once (``booking_notice`` is unique per booking, kind and revision)
and enqueues the sending task for after commit; :func:`send` (run by the task) notifies each
subscriber once, even when the task runs again.

Residents subscribe to a published field (``Follow`` target "test_field") or to one of the ward's
areas (target "area", id :attr:`labs.models.Area.number`). A notice goes to the followers of the
booking's field and of the field's area, each person once: :func:`cocreate.notifications.services.notify`
stores one notification per (user, ``event_key``) with INSERT … ON CONFLICT DO NOTHING and writes the
e-mails of the newly notified only, so a task that runs twice, or is retried after it died halfway
(each batch of subscribers is committed on its own), tells nobody twice. The public notice page shows
a booking once residents have been told about it, without its private details.
"""


from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, and_, col, func, or_, select

from cocreate import i18n, permissions
from cocreate.accounts.models import Organisation
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.db import transactional, unit_of_work
from cocreate.db.base import utcnow
from cocreate.errors import NotFound
from cocreate.forms import Choices, FormModel
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from cocreate.notifications import services as notifications
from cocreate.notifications.models import Follow, Notification
from cocreate.settings import Settings
from cocreate.tasks.queue import enqueue
from cocreate.web.markdown import markdown_to_text
from cocreate.web.pagination import Page, paginate
from labs import paths
from labs.models import Area, Booking, BookingNotice, BookingPeriod, BookingStatus, NoticeKind, TestField

FIELD = "test_field"
AREA = "area"
"""``target_type`` of residents' follows: a field (its id) or an area (:attr:`Area.number`)."""
BOOKING = "booking"
"""``target_type`` of the notifications."""
NOTICE_KIND = "booking.notice"
SEND_BATCH = 500
SEND_NOTICE_TASK = "labs.send_booking_notice"
"""The task that tells the subscribers of one notice (in :mod:`labs.tasks`)."""
"""Subscribers notified (and committed) per batch; a retry skips those already told."""
DESCRIPTION_MAX = 2000
"""The e-mail carries at most this much of the public description (the page has all of it)."""
PUBLIC_STATUSES = (BookingStatus.APPROVED, BookingStatus.COMPLETED, BookingStatus.CANCELLED)
"""A booking has a public notice page in these states (and once a notice was recorded)."""


def _insert(session: Session, table: sa.Table):  # type: ignore[no-untyped-def]
    dialect = session.get_bind().dialect.name
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def announce(session: Session, booking: Booking, kind: NoticeKind) -> BookingNotice:
    """Record that residents must be told ``kind`` about ``booking`` at its current revision (no commit).

    Announcing the same event twice records and sends it once.
    """
    assert booking.id is not None
    now = utcnow()
    statement = (
        _insert(session, BookingNotice.__table__)  # type: ignore[arg-type]
        .values(booking_id=booking.id, kind=kind.value, revision=booking.revision, created_at=now, updated_at=now,
                recipient_count=0)
        .on_conflict_do_nothing(index_elements=["booking_id", "kind", "revision"])
        .returning(BookingNotice.__table__.c.id)  # type: ignore[attr-defined]
    )
    new_id = session.execute(statement).scalar()
    notice = session.exec(select(BookingNotice).where(
        BookingNotice.booking_id == booking.id, BookingNotice.kind == kind,
        BookingNotice.revision == booking.revision)).one()
    if new_id is not None:
        enqueue(session, SEND_NOTICE_TASK, notice.id)
    return notice


def event_key(notice_id: int) -> str:
    return f"booking-notice:{notice_id}"


# --- the notification kind -----------------------------------------------------------------------


def _names(params: dict[str, Any]) -> dict[str, str]:
    return {"title": str(params.get("booking_title", "")), "field": str(params.get("field_name", ""))}


def _notice_message(params: dict[str, Any]) -> str:
    kind = params.get("notice_kind")
    if kind == NoticeKind.CANCELLED:
        return _("“%(title)s” at %(field)s has been cancelled.", **_names(params))
    if kind == NoticeKind.CHANGED:
        return _("The plans for “%(title)s” at %(field)s have changed.", **_names(params))
    return _("New activity at %(field)s: “%(title)s”.", **_names(params))


def _notice_subject(params: dict[str, Any]) -> str:
    kind = params.get("notice_kind")
    if kind == NoticeKind.CANCELLED:
        return _("Cancelled: %(title)s at %(field)s", **_names(params))
    if kind == NoticeKind.CHANGED:
        return _("Changed: %(title)s at %(field)s", **_names(params))
    return _("Notice of activity at %(field)s: %(title)s", **_names(params))


KINDS = {
    NOTICE_KIND: notifications.Kind(_notice_message, _notice_subject, "mail/booking_notice.txt",
                                    label=lazy_gettext("Notices about test fields and areas you follow")),
}
"""This module's notification kinds (listed in the labs manifest)."""


# --- sending -------------------------------------------------------------------------------------


def _periods(session: Session, booking_ids: Sequence[int]) -> dict[int, list[BookingPeriod]]:
    """The periods of several bookings in time order, in one query."""
    result: dict[int, list[BookingPeriod]] = {booking_id: [] for booking_id in booking_ids}
    if not booking_ids:
        return result
    for period in session.exec(select(BookingPeriod).where(col(BookingPeriod.booking_id).in_(booking_ids))
                               .order_by(col(BookingPeriod.starts_at), col(BookingPeriod.id))).all():
        result[period.booking_id].append(period)
    return result


def _iso(value: datetime) -> str:
    """Stored as text (the parameters are JSON); templates show it with ``|from_iso``."""
    return value.astimezone(i18n.WARD_TIMEZONE).isoformat()


def notice_params(session: Session, notice: BookingNotice, booking: Booking, field: TestField) -> dict[str, Any]:
    """What the notification and e-mail say: plain values only (they are stored as JSON)."""
    assert booking.id is not None
    organisation = session.get(Organisation, booking.organisation_id)
    return {
        "notice_kind": notice.kind.value,
        "field_id": field.id,
        "field_name": field.name,
        "field_address": field.address,
        "booking_title": booking.title,
        "periods": [{"starts_at": _iso(p.starts_at), "ends_at": _iso(p.ends_at)}
                    for p in _periods(session, [booking.id])[booking.id]],
        "description": markdown_to_text(booking.public_description, limit=DESCRIPTION_MAX),
        "contact": field.contact,
        "organisation": organisation.name if organisation is not None else "",
        "subscriptions_path": paths.notice_subscriptions(),  # where the e-mail says to stop them
    }


def subscriber_ids(session: Session, field: TestField) -> list[int]:
    """Followers of the field and of its area, each once, in id order (one query)."""
    statement = (
        select(Follow.user_id).distinct()
        .where(or_(and_(col(Follow.target_type) == FIELD, col(Follow.target_id) == field.id),
                   and_(col(Follow.target_type) == AREA, col(Follow.target_id) == field.area.number)))
        .order_by(col(Follow.user_id))
    )
    return list(session.exec(statement).all())


def send(session: Session, settings: Settings, notice_id: int, *, batch: int = SEND_BATCH) -> int:
    """Notify the notice's subscribers (each once, in the site and by e-mail); returns how many now.

    Each batch of subscribers is notified in a unit of work of its own (their e-mails leave after its
    commit); a run that dies halfway is rerun by the task, and :func:`notifications.notify` skips
    whoever was told already. Once everyone has been told, ``sent_at`` and ``recipient_count`` are
    set (in a last unit of work) and a further run does nothing. A notice of a missing booking or of an
    unpublished field sends nothing.
    """
    notice = session.get(BookingNotice, notice_id)
    if notice is None or notice.sent_at is not None:
        return 0
    booking = session.get(Booking, notice.booking_id)
    field = session.get(TestField, booking.field_id) if booking is not None else None
    if booking is None or field is None or not field.published:
        return 0
    assert booking.id is not None
    params = notice_params(session, notice, booking, field)
    key = event_key(notice_id)
    users = subscriber_ids(session, field)
    told = 0
    for start in range(0, len(users), batch):
        with unit_of_work(session):
            told += len(notifications.notify(
                session, user_ids=users[start:start + batch], kind=NOTICE_KIND, target_type=BOOKING,
                target_id=booking.id, params=params, url=paths.booking_notice(booking.id), event_key=key,
                settings=settings))
    with unit_of_work(session):
        notice = session.get(BookingNotice, notice_id)
        assert notice is not None
        notice.recipient_count = session.exec(
            select(func.count()).select_from(Notification).where(Notification.event_key == key)).one()
        notice.sent_at = utcnow()
        session.add(notice)
    return told


# --- subscriptions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSubscription:
    """The subscribe button of a field page: whether the viewer follows it, and how many do."""

    field_id: int
    subscribed: bool
    subscriber_count: int


def published_field(session: Session, field_id: int) -> TestField:
    field = session.get(TestField, field_id)
    if field is None or not field.published:
        raise NotFound()
    return field


def field_subscription(session: Session, actor: Principal, field: TestField) -> FieldSubscription:
    assert field.id is not None
    return FieldSubscription(
        field_id=field.id,
        subscribed=notifications.is_following(session, actor.user_id, FIELD, field.id),
        subscriber_count=notifications.follower_count(session, FIELD, field.id))


@transactional
def set_field_subscription(session: Session, actor: Principal, field_id: int, subscribed: bool) -> FieldSubscription:
    """Subscribe to a published field's notices, or stop (``notice.subscribe``). Stopping works on any field."""
    user = require_signed_in(actor)
    permissions.require(actor, "notice.subscribe")
    assert user.id is not None
    if subscribed:
        field = published_field(session, field_id)
        notifications.follow(session, user.id, FIELD, field_id)
    else:
        field_or_none = session.get(TestField, field_id)
        if field_or_none is None:
            raise NotFound()
        field = field_or_none
        notifications.unfollow(session, user.id, FIELD, field_id)
    return field_subscription(session, actor, field)


def subscribed_areas(session: Session, user_id: int) -> set[Area]:
    numbers = session.exec(select(Follow.target_id).where(Follow.user_id == user_id,
                                                          Follow.target_type == AREA)).all()
    return {area for area in (Area.from_number(number) for number in numbers) if area is not None}


class AreasForm(FormModel):
    """The areas a resident follows (checkboxes); an unknown value is refused."""

    areas: Annotated[list[Area], Choices(Area, lazy_gettext("Choose areas from the list."))] = Field(
        default_factory=list)


@transactional
def set_area_subscriptions(session: Session, actor: Principal, areas: Iterable[Area]) -> set[Area]:
    """Follow exactly the areas chosen (``notice.subscribe``)."""
    user = require_signed_in(actor)
    permissions.require(actor, "notice.subscribe")
    assert user.id is not None
    chosen = set(areas)
    current = subscribed_areas(session, user.id)
    for area in chosen - current:
        notifications.follow(session, user.id, AREA, area.number)
    for area in current - chosen:
        notifications.unfollow(session, user.id, AREA, area.number)
    return chosen


def subscribed_fields(session: Session, user_id: int) -> list[TestField]:
    """The published fields the user follows, by name (one query)."""
    return list(session.exec(
        select(TestField)
        .join(Follow, and_(col(Follow.target_id) == col(TestField.id), col(Follow.target_type) == FIELD))
        .where(Follow.user_id == user_id, col(TestField.published).is_(True))
        .order_by(col(TestField.name), col(TestField.id))).all())


# --- public pages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicNotice:
    """What residents may see of a booking: no purpose, equipment, documents or expected people."""

    booking_id: int
    title: str
    public_description: str
    status: BookingStatus
    field: TestField
    organisation_name: str
    periods: list[BookingPeriod]
    history: list[BookingNotice]

    @property
    def cancelled(self) -> bool:
        return self.status is BookingStatus.CANCELLED


def public_notice(session: Session, booking_id: int) -> PublicNotice:
    """The public notice of a booking residents have been told about (404 otherwise)."""
    row = session.exec(
        select(Booking, TestField, Organisation.name)
        .join(TestField, col(TestField.id) == col(Booking.field_id))
        .join(Organisation, col(Organisation.id) == col(Booking.organisation_id))
        .where(col(Booking.id) == booking_id, col(TestField.published).is_(True),
               col(Booking.status).in_(PUBLIC_STATUSES))).first()
    if row is None:
        raise NotFound()
    booking, field, organisation_name = row
    history = list(session.exec(select(BookingNotice).where(BookingNotice.booking_id == booking_id)
                                .order_by(col(BookingNotice.created_at), col(BookingNotice.id))).all())
    if not history:
        raise NotFound()
    return PublicNotice(booking_id=booking_id, title=booking.title, public_description=booking.public_description,
                        status=booking.status, field=field, organisation_name=organisation_name,
                        periods=_periods(session, [booking_id])[booking_id], history=history)


@dataclass(frozen=True)
class NoticeItem:
    """One line of the list of recent notices."""

    notice: BookingNotice
    booking_id: int
    title: str
    status: BookingStatus
    field_id: int
    field_name: str
    area: Area
    starts_at: datetime | None
    ends_at: datetime | None


def recent_notices(session: Session, *, area: Area | None = None, page: int = 1,
                   per_page: int = 20) -> Page[NoticeItem]:
    """Notices of published fields, newest first, one page in three queries (count, page, dates)."""
    statement = (
        select(BookingNotice, Booking.title, Booking.status, TestField.id, TestField.name, TestField.area)
        .join(Booking, col(Booking.id) == col(BookingNotice.booking_id))
        .join(TestField, col(TestField.id) == col(Booking.field_id))
        .where(col(TestField.published).is_(True), col(Booking.status).in_(PUBLIC_STATUSES))
        .order_by(col(BookingNotice.created_at).desc(), col(BookingNotice.id).desc())
    )
    if area is not None:
        statement = statement.where(col(TestField.area) == area)
    result = paginate(session, statement, page, per_page, scalars=False)  # type: ignore[arg-type]
    booking_ids = sorted({row[0].booking_id for row in result.items})
    spans: dict[int, tuple[datetime, datetime]] = {}
    if booking_ids:
        for booking_id, first, last in session.exec(
                select(BookingPeriod.booking_id, func.min(BookingPeriod.starts_at), func.max(BookingPeriod.ends_at))
                .where(col(BookingPeriod.booking_id).in_(booking_ids)).group_by(col(BookingPeriod.booking_id))).all():
            spans[booking_id] = (first, last)
    items = []
    for notice, title, status, field_id, field_name, field_area in result.items:
        first, last = spans.get(notice.booking_id, (None, None))
        items.append(NoticeItem(notice=notice, booking_id=notice.booking_id, title=title,
                                status=BookingStatus(status), field_id=field_id, field_name=field_name,
                                area=Area(field_area), starts_at=first, ends_at=last))
    return Page(items=items, page=result.page, per_page=result.per_page, total=result.total)
