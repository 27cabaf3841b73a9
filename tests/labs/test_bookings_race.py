"""No double booking, ever: concurrent approvals of overlapping requests leave exactly one approved, on
SQLite and PostgreSQL; on PostgreSQL the exclusion constraint refuses overlapping blocking periods even
for code that skips the services."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate.accounts.models import Role, User
from cocreate.accounts.permissions import Principal
from cocreate.db import Database
from cocreate.errors import Invalid
from cocreate.i18n import using_locale
from cocreate.settings import Settings
from labs import bookings
from labs.models import Booking, BookingPeriod, BookingStatus
from tests.labs.helpers import create_booking, create_field, create_organisation, create_user
from tests.labs.test_bookings import at

pytestmark = [
    pytest.mark.databases("sqlite", "postgresql", why="concurrent approvals and the database's own refusal of overlaps"),
    pytest.mark.committed("racing threads each use their own connection"),
]

RACERS = 8


def race(settings: Settings, user_id: int, booking_ids: list[int],
         action: str = "approve") -> tuple[list[int], list[dict[str, str]], list[BaseException]]:
    """Approve each booking in its own thread and database session, all released at once."""
    racing = Database(settings, pool_size=len(booking_ids) + 2, max_overflow=0)
    barrier = threading.Barrier(len(booking_ids))
    approved: list[int] = []
    refusals: list[dict[str, str]] = []
    errors: list[BaseException] = []

    def attempt(booking_id: int) -> None:
        try:
            with racing.session() as db, using_locale("en"):
                principal = Principal.load(db, db.get(User, user_id))
                db.commit()  # hold no transaction (nor SQLite's write lock) while waiting
                barrier.wait(timeout=30)
                try:
                    if action == "approve":
                        bookings.approve(db, settings, principal, booking_id)
                    else:
                        bookings.submit(db, settings, principal, booking_id)
                    approved.append(booking_id)
                except Invalid as failed:
                    refusals.append(failed.errors)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=attempt, args=(booking_id,)) for booking_id in booking_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    racing.dispose()
    return approved, refusals, errors


def blocking(session: Session, field_id: int) -> list[BookingPeriod]:
    session.expire_all()
    return list(session.exec(select(BookingPeriod).where(BookingPeriod.field_id == field_id,
                                                         col(BookingPeriod.blocks).is_(True))).all())


def test_concurrent_approvals_of_overlapping_requests_approve_exactly_one(session: Session,
                                                                         settings: Settings) -> None:
    coordinator = create_user(session, "coord@example.jp", roles=[Role.COORDINATOR])
    organisation = create_organisation(session, admin=create_user(session, "member@example.jp"), verified=True)
    field = create_field(session, coordinator, requirements=())
    # Eight requests, each overlapping the next (some only through the 30 minutes' buffer).
    requests = [create_booking(session, field, organisation, periods=[(at(0, 9, 30 + 5 * i), at(0, 11, 5 * i))])
                for i in range(RACERS)]
    approved, refusals, errors = race(settings, coordinator.id, [b.id for b in requests])  # type: ignore[arg-type, misc]
    assert errors == []
    assert len(approved) == 1 and len(refusals) == RACERS - 1
    assert all(set(r) == {"period-1-overlap"} for r in refusals), refusals
    assert all(r["period-1-overlap"].startswith("Period 1: overlaps an approved booking") for r in refusals)
    session.expire_all()
    statuses = [session.get(Booking, b.id).status for b in requests]  # type: ignore[union-attr]
    assert statuses.count(BookingStatus.APPROVED) == 1 and statuses.count(BookingStatus.SUBMITTED) == RACERS - 1
    periods = blocking(session, field.id)  # type: ignore[arg-type]
    assert len(periods) == 1 and periods[0].booking_id == approved[0]


def test_requests_racing_for_a_field_without_approval(session: Session, settings: Settings) -> None:
    member = create_user(session, "member@example.jp")
    organisation = create_organisation(session, admin=member, verified=True)
    field = create_field(session, requirements=(), approval_required=False, buffer_minutes=0)
    drafts = [create_booking(session, field, organisation, status=BookingStatus.DRAFT,
                             periods=[(at(1, 10), at(1, 12))]) for _ in range(RACERS)]
    approved, refusals, errors = race(settings, member.id, [b.id for b in drafts], action="submit")  # type: ignore[arg-type, misc]
    assert errors == []
    assert len(approved) == 1 and len(refusals) == RACERS - 1
    assert all(r == {"period-1-overlap": "Period 1: overlaps an approved booking."} for r in refusals)
    assert len(blocking(session, field.id)) == 1  # type: ignore[arg-type]


@pytest.mark.databases("postgresql", why="the exclusion constraint exists on PostgreSQL only")
def test_the_database_refuses_overlapping_blocking_periods(session: Session) -> None:
    organisation = create_organisation(session, admin=create_user(session, "member@example.jp"), verified=True)
    field = create_field(session, requirements=())
    first = create_booking(session, field, organisation, status=BookingStatus.APPROVED,
                           periods=[(at(0, 10), at(0, 12))])  # blocks until 12:30
    second = create_booking(session, field, organisation, periods=[(at(0, 12, 15), at(0, 13))])
    other_field = create_field(session, requirements=(), name="別のフィールド")
    elsewhere = create_booking(session, other_field, organisation, periods=[(at(0, 10), at(0, 12))])
    session.execute(sa.update(BookingPeriod).where(col(BookingPeriod.booking_id) == elsewhere.id)
                    .values(blocks=True))  # another field: no conflict
    session.commit()
    with pytest.raises(sa.exc.IntegrityError) as failure:
        session.execute(sa.update(BookingPeriod).where(col(BookingPeriod.booking_id) == second.id)
                        .values(blocks=True))
        session.commit()
    session.rollback()
    assert "booking_period_no_overlap" in str(failure.value.orig)
    # half-open ranges: starting exactly when the first one's buffer ends is fine
    session.execute(sa.update(BookingPeriod).where(col(BookingPeriod.booking_id) == second.id)
                    .values(starts_at=at(0, 12, 30), blocks=True))
    session.commit()
    assert len(blocking(session, field.id)) == 2 and first.id  # type: ignore[arg-type]
