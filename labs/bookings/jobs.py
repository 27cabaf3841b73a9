"""The scheduled job of bookings: approved bookings whose every period has ended become completed."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate.db import transactional
from cocreate.db.base import utcnow
from labs.models import Booking, BookingEvent, BookingPeriod, BookingStatus

S = BookingStatus


@transactional
def complete_finished(session: Session, now: datetime | None = None) -> int:
    """Approved bookings whose every period has ended become completed; returns how many."""
    now = now or utcnow()
    still_running = select(BookingPeriod.id).where(BookingPeriod.booking_id == Booking.id,
                                                   col(BookingPeriod.ends_at) > now)
    has_periods = select(BookingPeriod.id).where(BookingPeriod.booking_id == Booking.id)
    ids = session.exec(select(Booking.id).where(Booking.status == S.APPROVED, has_periods.exists(),
                                                ~still_running.exists()).order_by(col(Booking.id))).all()
    done = 0
    for booking_id in ids:
        changed = session.execute(
            sa.update(Booking).where(col(Booking.id) == booking_id, col(Booking.status) == S.APPROVED)
            .values(status=S.COMPLETED, completed_at=now, updated_at=now).returning(col(Booking.id))).first()
        if changed is None:
            continue
        session.add(BookingEvent(booking_id=booking_id, from_status=S.APPROVED, to_status=S.COMPLETED, at=now))  # type: ignore[arg-type]
        done += 1
    return done
