"""Resident notices (周辺住民への周知): who is told about an approved, changed or cancelled booking.

The booking services call :func:`announce` in the transaction that approves, changes or cancels a
booking. It records the event once (``booking_notice`` is unique per booking, kind and revision)
and enqueues the sending task for after commit; :func:`send` (run by the task) notifies each
subscriber once, even when the task runs again.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from cocreate.db.base import utcnow
from cocreate.settings import Settings
from cocreate.tasks.queue import enqueue
from labs.models import Booking, BookingNotice, NoticeKind


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
        from labs.tasks import SEND_NOTICE_TASK

        enqueue(session, SEND_NOTICE_TASK, notice.id)
    return notice


def send(session: Session, settings: Settings, notice_id: int) -> int:
    """Notify the notice's subscribers (each once, in the site and by e-mail); returns how many now.

    Written by the notices work: see the module docstring.
    """
    raise NotImplementedError
