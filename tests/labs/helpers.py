"""Builders for labs test data (owned by the fields part; every labs test may import them).

Real rows through the real models, committed, like :mod:`tests.factories` (re-exported here so a labs
test needs one import line).

- :func:`create_field`: a published park in 高島平, bookable Mon–Fri 9:00–17:00 (local time), 60–480 min
  bookings, 30 min buffer, 48 h – 180 days notice, approval required, safety plan required.
- :func:`create_booking`: a booking with its periods inserted directly (no service rules checked).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from cocreate.accounts.models import Organisation, User
from cocreate.db.base import utcnow
from labs.models import (
    Area,
    Booking,
    BookingPeriod,
    BookingStatus,
    DocumentKind,
    FieldKind,
    TestField,
    TestFieldCoordinator,
    TestFieldHours,
    TestFieldRequirement,
)
from tests.factories import create_department, create_organisation, create_user, sign_in

__all__ = ["WEEKDAY_HOURS", "create_booking", "create_department", "create_field", "create_organisation",
           "create_user", "sign_in"]

WEEKDAY_HOURS: tuple[tuple[int, int, int], ...] = tuple((weekday, 9 * 60, 17 * 60) for weekday in range(5))
"""Mon–Fri 9:00–17:00 as (weekday 0=Monday, opens_minute, closes_minute), local time."""


def create_field(session: Session, coordinator: User | None = None, *,
                 hours: Iterable[tuple[int, int, int]] = WEEKDAY_HOURS,
                 requirements: Iterable[DocumentKind] = (DocumentKind.SAFETY_PLAN,),
                 **overrides: Any) -> TestField:
    """A published test field; ``coordinator`` (if given) is assigned to it.

    ``overrides`` set any :class:`TestField` attribute (``published=False``, ``buffer_minutes=0``, …);
    ``hours`` is a list of (weekday, opens_minute, closes_minute); ``requirements`` a list of DocumentKind.
    """
    values: dict[str, Any] = {
        "name": "高島平 実証フィールド",
        "kind": FieldKind.PARK,
        "area": Area.TAKASHIMADAIRA,
        "address": "東京都板橋区高島平8丁目",
        "latitude": 35.789,
        "longitude": 139.661,
        "summary": "高島平の公園で実証実験ができます。",
        "min_booking_minutes": 60,
        "max_booking_minutes": 480,
        "buffer_minutes": 30,
        "min_notice_hours": 48,
        "max_notice_days": 180,
        "approval_required": True,
        "published": True,
        "created_by_id": coordinator.id if coordinator else None,
    }
    values.update(overrides)
    field = TestField(**values)
    session.add(field)
    session.flush()
    assert field.id is not None
    for weekday, opens, closes in hours:
        session.add(TestFieldHours(field_id=field.id, weekday=weekday, opens_minute=opens, closes_minute=closes))
    for document in requirements:
        session.add(TestFieldRequirement(field_id=field.id, document=DocumentKind(document)))
    if coordinator is not None:
        assert coordinator.id is not None
        session.add(TestFieldCoordinator(field_id=field.id, user_id=coordinator.id))
    session.commit()
    session.refresh(field)
    return field


def create_booking(session: Session, field: TestField, organisation: Organisation, *,
                   periods: Sequence[tuple[datetime, datetime]] | None = None,
                   status: BookingStatus = BookingStatus.SUBMITTED, author: User | None = None,
                   **overrides: Any) -> Booking:
    """A booking of ``field`` by ``organisation`` with ``periods`` (UTC (start, end) pairs).

    Default: one period 10 days ahead, 1 hour. An APPROVED booking's periods block (``blocks`` true,
    ``blocked_until`` = end + the field's buffer); others do not (``blocked_until`` = end). Inserted
    directly: no service rule (hours, notice, overlap) is checked; the PostgreSQL exclusion constraint is.
    """
    if periods is None:
        start = (utcnow() + timedelta(days=10)).replace(hour=1, minute=0, second=0, microsecond=0)
        periods = [(start, start + timedelta(hours=1))]
    now = utcnow()
    values: dict[str, Any] = {
        "field_id": field.id,
        "organisation_id": organisation.id,
        "created_by_id": author.id if author else None,
        "status": status,
        "title": "自動配送ロボットの走行実験",
        "purpose": "歩道での走行性能を確かめます。",
        "public_description": "小型ロボットが公園内をゆっくり走行します。",
        "submitted_at": None if status == BookingStatus.DRAFT else now,
        "decided_at": now if status in (BookingStatus.APPROVED, BookingStatus.REJECTED) else None,
    }
    values.update(overrides)
    booking = Booking(**values)
    session.add(booking)
    session.flush()
    assert booking.id is not None and field.id is not None
    blocks = status == BookingStatus.APPROVED
    for starts_at, ends_at in periods:
        blocked_until = ends_at + timedelta(minutes=field.buffer_minutes) if blocks else ends_at
        session.add(BookingPeriod(booking_id=booking.id, field_id=field.id, starts_at=starts_at, ends_at=ends_at,
                                  blocked_until=blocked_until, blocks=blocks))
    session.commit()
    session.refresh(booking)
    return booking
