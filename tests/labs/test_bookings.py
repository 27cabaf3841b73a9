"""Booking requests (利用申請), the services: every validation rule with its exact message, the state
machine, notifications, notices, audit, reschedule, cancel and completion. Database-independent: SQLite
only (the race and the exclusion constraint are in test_bookings_race.py)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, func, select

from cocreate.accounts.models import Organisation, Role, User
from cocreate.accounts.permissions import Forbidden, Principal
from cocreate.audit.models import AuditEntry
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.i18n import using_locale
from cocreate.notifications.models import Notification
from cocreate.settings import Settings
from labs import bookings
from labs.models import (
    Blackout,
    Booking,
    BookingDocument,
    BookingEvent,
    BookingNotice,
    BookingPeriod,
    BookingStatus,
    DocumentKind,
    NoticeKind,
    TestField,
    TestFieldHours,
    Trial,
    TrialOrganisation,
)
from tests.labs.helpers import create_booking, create_field, create_organisation, create_user

pytestmark = pytest.mark.databases("sqlite", why="booking rules are Python; the overlap constraint is tested on both in test_bookings_race")

TOKYO = ZoneInfo("Asia/Tokyo")




@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with using_locale("en"):
        yield


def monday(weeks: int = 2) -> datetime:
    """Local midnight of a Monday at least ``weeks`` weeks ahead (past the notice, within 180 days)."""
    today = datetime.now(TOKYO).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=(7 - today.weekday()) % 7 + 7 * weeks)


def at(day: int, hour: int, minute: int = 0, *, weeks: int = 2) -> datetime:
    """UTC instant of local ``hour:minute`` on Monday + ``day`` days."""
    return (monday(weeks) + timedelta(days=day, hours=hour, minutes=minute)).astimezone(UTC)


def typed(value: datetime) -> str:
    return value.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M")


def rows(*periods: tuple[datetime, datetime]) -> list[tuple[str, str]]:
    return [(typed(s), typed(e)) for s, e in periods]


@dataclass
class World:
    field: TestField
    organisation: Organisation
    member: User
    coordinator: User
    other_coordinator: User
    outsider: User
    settings: Settings


@pytest.fixture
def world(session: Session, settings: Settings) -> World:
    member = create_user(session, "member@example.jp", display_name="申請 一郎")
    colleague = create_user(session, "colleague@example.jp", display_name="同僚 二郎")
    coordinator = create_user(session, "coord@example.jp", display_name="調整 花子", roles=[Role.COORDINATOR])
    organisation = create_organisation(session, admin=member, members=[colleague], verified=True)
    return World(field=create_field(session, coordinator, capacity=20, requirements=()), organisation=organisation, member=member,
                 coordinator=coordinator,
                 other_coordinator=create_user(session, "coord2@example.jp", roles=[Role.COORDINATOR]),
                 outsider=create_user(session, "outsider@example.jp"), settings=settings)


def actor(session: Session, user: User) -> Principal:
    return Principal.load(session, user)


def request_input(world: World, periods: list[tuple[str, str]] | None = None, **values: str) -> bookings.BookingForm:
    """The request form as a member fills it in (``values`` replace fields as typed)."""
    data = {"field_id": str(world.field.id), "organisation_id": str(world.organisation.id),
            "title": "配送ロボットの走行試験", "purpose": "歩道での走行性能の確認",
            "public_description": "小型ロボットがゆっくり走ります。", "expected_people": "5", "equipment": "ロボット2台",
            "periods": rows((at(0, 10), at(0, 12))) if periods is None else periods}
    return bookings.BookingForm(**(data | values))


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def add_document(session: Session, booking: Booking, kind: DocumentKind = DocumentKind.SAFETY_PLAN) -> None:
    session.add(BookingDocument(booking_id=booking.id, document=kind, filename="plan.pdf",  # type: ignore[arg-type]
                                content_type="application/pdf", size_bytes=10, sha256="0" * 64,
                                storage_key=f"bookings/{(booking.id or 0):032x}"))
    session.commit()


def draft(session: Session, world: World, periods: list[tuple[str, str]] | None = None, **values: str) -> Booking:
    saved = bookings.save(session, world.settings, actor(session, world.member), request_input(world, periods, **values))
    assert saved.booking.status is BookingStatus.DRAFT
    return saved.booking


def submitted(session: Session, world: World, periods: list[tuple[str, str]] | None = None) -> Booking:
    booking = draft(session, world, periods)
    add_document(session, booking)
    return bookings.submit(session, world.settings, actor(session, world.member), booking.id)  # type: ignore[arg-type]


def refused(session: Session, world: World, periods: list[tuple[str, str]], **values: str) -> dict[str, str]:
    """Submit a new request in one go; it must be refused with nothing saved."""
    before = (count(session, Booking), count(session, BookingPeriod))
    with pytest.raises(Invalid) as failure:
        bookings.save(session, world.settings, actor(session, world.member), request_input(world, periods, **values),
                      submit=True)
    assert (count(session, Booking), count(session, BookingPeriod)) == before
    return failure.value.errors


def reload(session: Session, booking: Booking) -> Booking:
    session.expire_all()
    found = session.get(Booking, booking.id)
    assert found is not None
    return found


# --- hours ---------------------------------------------------------------------------------------


def test_hours_are_described_and_checked_day_by_day() -> None:
    weekdays = [TestFieldHours(field_id=1, weekday=d, opens_minute=540, closes_minute=1020) for d in range(5)]
    saturday = [TestFieldHours(field_id=1, weekday=5, opens_minute=600, closes_minute=720),
                TestFieldHours(field_id=1, weekday=5, opens_minute=780, closes_minute=960)]
    assert bookings.describe_hours(weekdays) == "Mon–Fri 9:00–17:00"
    assert bookings.describe_hours(weekdays + saturday) == "Mon–Fri 9:00–17:00; Sat 10:00–12:00, 13:00–16:00"
    assert bookings.describe_hours([]) == "no bookable hours"
    windows = bookings.merged_windows(weekdays)
    assert bookings.within_hours(windows, at(0, 9), at(0, 17))
    assert not bookings.within_hours(windows, at(0, 8, 59), at(0, 10))
    assert not bookings.within_hours(windows, at(5, 10), at(5, 11))  # Saturday
    assert not bookings.within_hours(windows, at(0, 9), at(1, 17))  # a night inside
    always = bookings.merged_windows([TestFieldHours(field_id=1, weekday=d, opens_minute=0, closes_minute=1440)
                                      for d in range(7)])
    assert bookings.within_hours(always, at(0, 22), at(2, 6))  # multi-day works with 24-hour windows
    split = bookings.merged_windows([TestFieldHours(field_id=1, weekday=0, opens_minute=0, closes_minute=720),
                                     TestFieldHours(field_id=1, weekday=0, opens_minute=720, closes_minute=1440)])
    assert bookings.within_hours(split, at(0, 11), at(0, 13))  # touching windows are merged


# --- every validation rule, with its exact message and nothing saved ------------------------------


def test_outside_bookable_hours(session: Session, world: World) -> None:
    errors = refused(session, world, rows((at(0, 10), at(0, 12)), (at(1, 8), at(1, 10))))
    assert errors == {"period-2-hours": "Period 2: outside bookable hours (Mon–Fri 9:00–17:00)."}


def test_a_weekend_is_outside_bookable_hours(session: Session, world: World) -> None:
    errors = refused(session, world, rows((at(5, 10), at(5, 12))))
    assert errors == {"period-1-hours": "Period 1: outside bookable hours (Mon–Fri 9:00–17:00)."}


def test_a_multi_day_period_needs_every_day_covered(session: Session, world: World) -> None:
    errors = refused(session, world, rows((at(0, 10), at(1, 12))))
    assert errors["period-1-hours"] == "Period 1: outside bookable hours (Mon–Fri 9:00–17:00)."


def test_a_multi_day_period_on_a_round_the_clock_field(session: Session, world: World) -> None:
    field = create_field(session, hours=[(d, 0, 1440) for d in range(7)], requirements=(),
                         max_booking_minutes=None, name="センサー網")
    saved = bookings.save(session, world.settings, actor(session, world.member),
                          request_input(world, rows((at(0, 20), at(2, 8))), field_id=str(field.id)), submit=True)
    assert saved.booking.status is BookingStatus.SUBMITTED and saved.problems == {}


def test_too_short(session: Session, world: World) -> None:
    errors = refused(session, world, rows((at(0, 10), at(0, 10, 30))))
    assert errors == {"period-1-length": "Period 1: too short (at least 1 hour)."}


def test_too_long(session: Session, world: World) -> None:
    with_long = create_field(session, hours=[(d, 0, 1440) for d in range(7)], requirements=(),
                             max_booking_minutes=90, name="短時間フィールド")
    with pytest.raises(Invalid) as failure:
        bookings.save(session, world.settings, actor(session, world.member),
                      request_input(world, rows((at(0, 10), at(0, 12))), field_id=str(with_long.id)), submit=True)
    assert failure.value.errors == {"period-1-length": "Period 1: too long (at most 90 minutes)."}
    assert count(session, Booking) == 0


def test_too_little_notice(session: Session, world: World) -> None:
    soon = create_field(session, hours=[(d, 0, 1440) for d in range(7)], requirements=(), name="直前")
    start = (utcnow() + timedelta(hours=24)).replace(second=0, microsecond=0)
    with pytest.raises(Invalid) as failure:
        bookings.save(session, world.settings, actor(session, world.member),
                      request_input(world, rows((start, start + timedelta(hours=1))), field_id=str(soon.id)),
                      submit=True)
    assert failure.value.errors == {"period-1-notice": "Period 1: too little notice (request at least 48 hours ahead)."}
    assert count(session, Booking) == 0


def test_too_far_ahead(session: Session, world: World) -> None:
    errors = refused(session, world, rows((at(0, 10, weeks=30), at(0, 12, weeks=30))))
    assert errors == {"period-1-notice": "Period 1: too far ahead (request at most 180 days ahead)."}


def test_in_a_blackout_says_its_reason(session: Session, world: World) -> None:
    session.add(Blackout(field_id=world.field.id, starts_at=at(0, 0), ends_at=at(1, 0), reason="高島平まつり"))  # type: ignore[arg-type]
    session.commit()
    errors = refused(session, world, rows((at(0, 15), at(0, 17)), (at(1, 10), at(1, 12))))
    assert errors == {"period-1-blackout": "Period 1: the field is closed then (高島平まつり)."}


def test_overlapping_an_approved_booking_counts_the_buffer(session: Session, world: World) -> None:
    create_booking(session, world.field, world.organisation, status=BookingStatus.APPROVED,
                   periods=[(at(0, 9), at(0, 11))])  # blocks until 11:30 (30 minutes' buffer)
    message = "Period 1: overlaps an approved booking (including the 30 minutes' buffer between bookings)."
    assert refused(session, world, rows((at(0, 11, 15), at(0, 12, 30)))) == {"period-1-overlap": message}
    assert refused(session, world, rows((at(0, 8), at(0, 9, 30))), ) == {
        "period-1-overlap": message, "period-1-hours": "Period 1: outside bookable hours (Mon–Fri 9:00–17:00)."}
    # and the new period's own buffer: ending at 8:45 + 30 min runs into the 9:00 booking
    create_booking(session, world.field, world.organisation, status=BookingStatus.APPROVED,
                   periods=[(at(2, 13), at(2, 15))])
    assert refused(session, world, rows((at(2, 11, 45), at(2, 12, 45)))) == {"period-1-overlap": message}
    saved = bookings.save(session, world.settings, actor(session, world.member),
                          request_input(world, rows((at(0, 11, 30), at(0, 12, 30)))))
    assert saved.problems == {}  # exactly at the end of the buffer is fine (half-open ranges)


def test_pending_and_cancelled_bookings_do_not_block(session: Session, world: World) -> None:
    create_booking(session, world.field, world.organisation, status=BookingStatus.SUBMITTED,
                   periods=[(at(0, 9), at(0, 17))])
    create_booking(session, world.field, world.organisation, status=BookingStatus.CANCELLED,
                   periods=[(at(0, 9), at(0, 17))])
    saved = bookings.save(session, world.settings, actor(session, world.member), request_input(world))
    assert saved.problems == {}


def test_periods_of_one_request_must_not_overlap(session: Session, world: World) -> None:
    errors = refused(session, world, rows((at(0, 10), at(0, 12)), (at(0, 11), at(0, 13))))
    assert errors == {"period-2-same": "Period 2: overlaps period 1 of this request."}


def test_the_end_must_follow_the_start(session: Session, world: World) -> None:
    errors = refused(session, world, rows((at(0, 12), at(0, 10))))
    assert errors == {"period-1-order": "Period 1: the end must be after the start."}
    with pytest.raises(Invalid):  # a draft cannot store it either
        bookings.save(session, world.settings, actor(session, world.member), request_input(world, rows((at(0, 12), at(0, 12)))))
    assert count(session, Booking) == 0


def test_in_the_past(session: Session, world: World) -> None:
    start = at(0, 10, weeks=-2)
    errors = refused(session, world, rows((start, start + timedelta(hours=2))))
    assert errors == {"period-1-past": "Period 1: the start is in the past."}


def test_more_people_than_the_capacity(session: Session, world: World) -> None:
    errors = refused(session, world, rows((at(0, 10), at(0, 12))), expected_people="21")
    assert errors == {"expected_people": "Expected people: more than the field's capacity (20 people)."}


def with_documents(session: Session, world: World) -> str:
    """A field like the world's that requires a safety plan."""
    return str(create_field(session, world.coordinator, capacity=20, name="書類が必要なフィールド").id)


def test_a_required_document_missing_on_submit(session: Session, world: World) -> None:
    errors = refused(session, world, rows((at(0, 10), at(0, 12))), field_id=with_documents(session, world))
    assert errors == {"document-safety_plan": "Document missing: Safety plan."}


def test_no_period(session: Session, world: World) -> None:
    assert refused(session, world, [("", ""), ("", "")])["periods"] == "Add at least one period."


@pytest.mark.parametrize(("name", "value", "key", "message"), [
    ("periods", [("abc", "2026-13-01T10:00")], "period-1-start",
     "Period 1: enter the start as a date and time, like 2026-12-01 09:00."),
    ("periods", [("2026-12-01T10:00", "")], "period-1-end",
     "Period 1: enter the end as a date and time, like 2026-12-01 17:00."),
    ("expected_people", "-5", "expected_people", "Enter the number of people as a whole number from 0 to 100000."),
    ("expected_people", "abc", "expected_people", "Enter the number of people as a whole number from 0 to 100000."),
    ("expected_people", "9" * 40, "expected_people", "Enter the number of people as a whole number from 0 to 100000."),
    ("title", "", "title", "Enter a title."),
    ("title", "長" * 201, "title", "Use at most 200 characters."),
    ("title", "二行の\n題名", "title", "This field contains characters that cannot be used."),
    ("purpose", "x" * 5001, "purpose", "Use at most 5000 characters."),
    ("field_id", "abc", "field_id", "Choose a test field."),
    ("field_id", "999999", "field_id", "Choose a test field."),
    ("organisation_id", "-1", "organisation_id", "Choose one of your organisations."),
    ("trial_id", "12345", "trial_id", "Choose one of your organisation's trials, or none."),
])
def test_unreadable_input_saves_nothing_even_as_a_draft(session: Session, world: World, name: str, value: object,
                                                         key: str, message: str) -> None:
    with pytest.raises(Invalid) as failure:  # the form itself, or the service for the rows it looks up
        bookings.save(session, world.settings, actor(session, world.member), request_input(world, **{name: value}))
    assert failure.value.errors[key] == message
    assert count(session, Booking) == 0


def test_every_problem_is_reported_at_once(session: Session, world: World) -> None:
    errors = refused(session, world, rows((at(0, 8), at(0, 8, 30)), (at(5, 10), at(5, 12)), (at(0, 8, 15), at(0, 9))),
                     expected_people="50", field_id=with_documents(session, world))
    assert errors == {
        "period-1-hours": "Period 1: outside bookable hours (Mon–Fri 9:00–17:00).",
        "period-1-length": "Period 1: too short (at least 1 hour).",
        "period-2-hours": "Period 2: outside bookable hours (Mon–Fri 9:00–17:00).",
        "period-3-hours": "Period 3: outside bookable hours (Mon–Fri 9:00–17:00).",
        "period-3-length": "Period 3: too short (at least 1 hour).",
        "period-3-same": "Period 3: overlaps period 1 of this request.",
        "expected_people": "Expected people: more than the field's capacity (20 people).",
        "document-safety_plan": "Document missing: Safety plan.",
    }


def test_a_draft_keeps_its_problems_and_shows_them(session: Session, world: World) -> None:
    saved = bookings.save(session, world.settings, actor(session, world.member),
                          request_input(world, rows((at(0, 8), at(0, 10))), field_id=with_documents(session, world)))
    assert saved.booking.status is BookingStatus.DRAFT
    assert saved.problems == {"period-1-hours": "Period 1: outside bookable hours (Mon–Fri 9:00–17:00)."}
    view = bookings.detail(session, actor(session, world.member), saved.booking.id)  # type: ignore[arg-type]
    assert view.problems == saved.problems | {"document-safety_plan": "Document missing: Safety plan."}
    with pytest.raises(Invalid):
        bookings.submit(session, world.settings, actor(session, world.member), saved.booking.id)  # type: ignore[arg-type]
    assert reload(session, saved.booking).status is BookingStatus.DRAFT
    assert count(session, BookingEvent) == 0


# --- who may request ------------------------------------------------------------------------------


def test_drafts_need_membership_and_submitting_needs_verification(session: Session, world: World) -> None:
    with pytest.raises(Forbidden):
        bookings.save(session, world.settings, actor(session, world.outsider), request_input(world))
    unverified_member = create_user(session, "new@example.jp")
    newcomer = create_organisation(session, "新設株式会社", admin=unverified_member)
    data = request_input(world, organisation_id=str(newcomer.id))
    saved = bookings.save(session, world.settings, actor(session, unverified_member), data)
    add_document(session, saved.booking)
    with pytest.raises(Forbidden):
        bookings.submit(session, world.settings, actor(session, unverified_member), saved.booking.id)  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        bookings.save(session, world.settings, actor(session, unverified_member), data,
                      booking_id=saved.booking.id, submit=True)
    assert reload(session, saved.booking).status is BookingStatus.DRAFT
    # a member of one organisation cannot file for another
    with pytest.raises(Invalid) as failure:
        bookings.save(session, world.settings, actor(session, unverified_member), request_input(world))
    assert failure.value.errors == {"organisation_id": "Choose one of your organisations."}


def test_a_trial_of_the_organisation_can_be_chosen(session: Session, world: World) -> None:
    trial = Trial(title="マイクロモビリティ実証")
    other = Trial(title="他社の実証")
    session.add_all([trial, other])
    session.commit()
    session.add(TrialOrganisation(trial_id=trial.id, organisation_id=world.organisation.id, is_lead=True))  # type: ignore[arg-type]
    session.commit()
    booking = draft(session, world, trial_id=str(trial.id))
    assert booking.trial_id == trial.id
    with pytest.raises(Invalid):
        draft(session, world, trial_id=str(other.id))


# --- the state machine ----------------------------------------------------------------------------


def test_the_whole_journey(session: Session, world: World) -> None:
    member, coordinator = actor(session, world.member), actor(session, world.coordinator)
    booking = submitted(session, world)
    assert booking.status is BookingStatus.SUBMITTED and booking.submitted_at is not None
    to_coordinator = session.exec(select(Notification).where(Notification.user_id == world.coordinator.id)).one()
    assert to_coordinator.kind == "booking.submitted" and to_coordinator.url == f"/bookings/{booking.id}"
    bookings.start_review(session, world.settings, coordinator, booking.id)  # type: ignore[arg-type]
    bookings.request_changes(session, world.settings, coordinator, booking.id,  # type: ignore[arg-type]
                             bookings.ChangesForm(note="人数を確認してください。"))
    assert reload(session, booking).status is BookingStatus.CHANGES_REQUESTED
    edited = bookings.save(session, world.settings, member, request_input(world, expected_people="8"),
                           booking_id=booking.id, submit=True)
    assert edited.booking.status is BookingStatus.SUBMITTED and edited.booking.expected_people == 8
    approved = bookings.approve(session, world.settings, coordinator, booking.id,  # type: ignore[arg-type]
                                bookings.ApproveForm(note="当日はよろしくお願いします。"))
    assert approved.status is BookingStatus.APPROVED and approved.decided_by_id == world.coordinator.id
    period = session.exec(select(BookingPeriod).where(BookingPeriod.booking_id == booking.id)).one()
    assert period.blocks and period.blocked_until == period.ends_at + timedelta(minutes=30)
    notice = session.exec(select(BookingNotice)).one()
    assert (notice.kind, notice.revision) == (NoticeKind.APPROVED, 0)
    history = [(e.from_status, e.to_status) for e in session.exec(
        select(BookingEvent).where(BookingEvent.booking_id == booking.id).order_by(col(BookingEvent.id))).all()]
    assert history == [(BookingStatus.DRAFT, BookingStatus.SUBMITTED),
                       (BookingStatus.SUBMITTED, BookingStatus.UNDER_REVIEW),
                       (BookingStatus.UNDER_REVIEW, BookingStatus.CHANGES_REQUESTED),
                       (BookingStatus.CHANGES_REQUESTED, BookingStatus.SUBMITTED),
                       (BookingStatus.SUBMITTED, BookingStatus.APPROVED)]
    actions = session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))).all()
    assert actions == ["booking.review_started", "booking.changes_requested", "booking.approved"]
    colleague_kinds = session.exec(select(Notification.params_json).join(User, col(User.id) == Notification.user_id)
                                   .where(User.email == "colleague@example.jp")).all()
    assert len(colleague_kinds) == 5 and '"status": "approved"' in colleague_kinds[-1]

    # reschedule: new dates under the lock, revision up, residents told of the change
    moved = bookings.reschedule(session, world.settings, coordinator, booking.id,  # type: ignore[arg-type]
                                bookings.RescheduleForm(periods=rows((at(1, 13), at(1, 15))),
                                                        note="雨天のため翌日に変更します。"))
    assert moved.revision == 1 and moved.status is BookingStatus.APPROVED
    period = session.exec(select(BookingPeriod).where(BookingPeriod.booking_id == booking.id)).one()
    assert (period.starts_at, period.blocks) == (at(1, 13), True)
    assert {(n.kind, n.revision) for n in session.exec(select(BookingNotice)).all()} == {
        (NoticeKind.APPROVED, 0), (NoticeKind.CHANGED, 1)}

    # the organisation cancels: the field is free again and residents are told
    bookings.cancel(session, world.settings, member, booking.id, bookings.CancelForm(reason="機材の故障のため"))  # type: ignore[arg-type]
    cancelled = reload(session, booking)
    assert cancelled.status is BookingStatus.CANCELLED and cancelled.cancel_reason == "機材の故障のため"
    assert not session.exec(select(BookingPeriod).where(BookingPeriod.booking_id == booking.id)).one().blocks
    assert (NoticeKind.CANCELLED, 1) in {(n.kind, n.revision) for n in session.exec(select(BookingNotice)).all()}
    assert session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id).desc())).first() == "booking.rescheduled"


@pytest.mark.parametrize("status", [BookingStatus.APPROVED, BookingStatus.REJECTED, BookingStatus.CANCELLED,
                                    BookingStatus.COMPLETED, BookingStatus.CHANGES_REQUESTED])
def test_illegal_transitions_are_refused(session: Session, world: World, status: BookingStatus) -> None:
    booking = create_booking(session, world.field, world.organisation, status=status,
                             periods=[(at(0, 10), at(0, 12))])
    coordinator, member = actor(session, world.coordinator), actor(session, world.member)
    message = f"This request is “{status.label}”; it cannot be changed this way."
    attempts = [lambda: bookings.approve(session, world.settings, coordinator, booking.id),  # type: ignore[arg-type]
                lambda: bookings.start_review(session, world.settings, coordinator, booking.id)]  # type: ignore[arg-type]
    if status is not BookingStatus.CHANGES_REQUESTED:
        attempts += [lambda: bookings.submit(session, world.settings, member, booking.id),  # type: ignore[arg-type]
                     lambda: bookings.request_changes(session, world.settings, coordinator, booking.id,  # type: ignore[arg-type]
                                                      bookings.ChangesForm(note="x"))]
    if status is not BookingStatus.APPROVED:
        attempts.append(lambda: bookings.reschedule(session, world.settings, coordinator, booking.id,  # type: ignore[arg-type]
                                                    bookings.RescheduleForm(periods=rows((at(1, 10), at(1, 12))),
                                                                            note="x")))
    for attempt in attempts:
        with pytest.raises(Invalid) as failure:
            attempt()
        assert set(failure.value.errors) == {"status"}
        assert failure.value.errors["status"] in (message, "Only approved bookings can be rescheduled.")
    assert reload(session, booking).status is status
    assert count(session, BookingEvent) == 0 and count(session, AuditEntry) == 0
    assert bookings.ALLOWED[BookingStatus.REJECTED] == frozenset()


def test_notes_are_required_for_changes_rejection_and_cancelling(session: Session, world: World) -> None:
    booking = submitted(session, world)
    coordinator = actor(session, world.coordinator)
    with pytest.raises(Invalid) as failure:
        bookings.request_changes(session, world.settings, coordinator, booking.id, bookings.ChangesForm(note="  "))  # type: ignore[arg-type]
    assert failure.value.errors == {"note": "Say what the organisation should change."}
    with pytest.raises(Invalid) as failure:
        bookings.reject(session, world.settings, coordinator, booking.id, bookings.RejectForm(note=""))  # type: ignore[arg-type]
    assert failure.value.errors == {"note": "Give the reason for rejecting the request."}
    with pytest.raises(Invalid) as failure:
        bookings.manager_cancel(session, world.settings, coordinator, booking.id, bookings.CancelForm(reason=""))  # type: ignore[arg-type]
    assert failure.value.errors == {"reason": "Give a reason for cancelling."}
    with pytest.raises(Invalid) as failure:
        bookings.RescheduleForm(periods=rows((at(1, 10), at(1, 12))), note="")
    assert failure.value.errors == {"note": "Say why the dates change."}
    assert reload(session, booking).status is BookingStatus.SUBMITTED
    bookings.reject(session, world.settings, coordinator, booking.id, bookings.RejectForm(note="区の行事と重なります。"))  # type: ignore[arg-type]
    assert reload(session, booking).status is BookingStatus.REJECTED
    assert reload(session, booking).review_note == "区の行事と重なります。"


def test_approval_rechecks_the_rules(session: Session, world: World) -> None:
    booking = submitted(session, world)
    create_booking(session, world.field, world.organisation, status=BookingStatus.APPROVED,
                   periods=[(at(0, 11), at(0, 13))])
    with pytest.raises(Invalid) as failure:
        bookings.approve(session, world.settings, actor(session, world.coordinator), booking.id)  # type: ignore[arg-type]
    assert failure.value.errors == {
        "period-1-overlap": "Period 1: overlaps an approved booking (including the 30 minutes' buffer between bookings)."}
    assert reload(session, booking).status is BookingStatus.SUBMITTED
    assert not session.exec(select(BookingPeriod).where(BookingPeriod.booking_id == booking.id)).one().blocks
    assert count(session, BookingNotice) == 0 and count(session, AuditEntry) == 0


def test_a_field_without_approval_approves_a_valid_request_at_once(session: Session, world: World) -> None:
    field = create_field(session, world.coordinator, approval_required=False, requirements=(), name="自動承認")
    saved = bookings.save(session, world.settings, actor(session, world.member),
                          request_input(world, field_id=str(field.id)), submit=True)
    assert saved.booking.status is BookingStatus.APPROVED
    assert session.exec(select(BookingPeriod)).one().blocks
    assert session.exec(select(BookingNotice)).one().kind is NoticeKind.APPROVED


def test_managers_and_members_only(session: Session, world: World) -> None:
    booking = submitted(session, world)
    other = actor(session, world.other_coordinator)
    for attempt in (bookings.approve, bookings.start_review):
        with pytest.raises(Forbidden):
            attempt(session, world.settings, other, booking.id)  # type: ignore[arg-type]
    with pytest.raises(NotFound):  # not assigned: cannot even see it
        bookings.detail(session, other, booking.id)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        bookings.cancel(session, world.settings, actor(session, world.outsider), booking.id,  # type: ignore[arg-type]
                        bookings.CancelForm(reason="x"))
    mine = draft(session, world)
    with pytest.raises(NotFound):  # coordinators never see drafts
        bookings.detail(session, actor(session, world.coordinator), mine.id)  # type: ignore[arg-type]
    admin = create_user(session, "admin@example.jp", roles=[Role.ADMIN])
    bookings.start_review(session, world.settings, actor(session, admin), booking.id)  # type: ignore[arg-type]
    assert reload(session, booking).status is BookingStatus.UNDER_REVIEW
    assert reload(session, booking).status is BookingStatus.UNDER_REVIEW


def test_hostile_and_huge_text_is_stored_verbatim(session: Session, world: World, xss_payloads: list[str]) -> None:
    payload = xss_payloads[0]
    purpose = "\n".join(xss_payloads)[:5000]
    booking = draft(session, world, title=payload[:200], purpose=purpose, equipment="  機材\r\n2台  ")
    stored = reload(session, booking)
    assert stored.title == payload[:200].strip() and stored.purpose == purpose.strip()
    assert stored.equipment == "機材\n2台"
    with pytest.raises(Invalid) as failure:  # control characters are refused, not stored
        draft(session, world, equipment="機材\x00\x07名")
    assert failure.value.errors == {"equipment": "This field contains characters that cannot be used."}


# --- documents ------------------------------------------------------------------------------------


PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def stored_files(settings: Settings) -> set[str]:
    folder = settings.upload_dir / bookings.STORAGE_FOLDER  # type: ignore[operator]
    return {path.name for path in folder.iterdir()} if folder.is_dir() else set()


def test_a_document_is_stored_and_deleted_with_its_file(session: Session, world: World) -> None:
    booking = draft(session, world)
    member = actor(session, world.member)
    before = stored_files(world.settings)
    document = bookings.add_document(session, world.settings, member, booking.id,  # type: ignore[arg-type]
                                     kind=DocumentKind.INSURANCE, source=io.BytesIO(PDF), filename="保険.pdf")
    path = bookings.path_of(world.settings, document)
    assert path.read_bytes() == PDF and stored_files(world.settings) == before | {path.name}
    bookings.delete_document(session, world.settings, member, booking.id, document.id)  # type: ignore[arg-type]
    assert count(session, BookingDocument) == 0 and not path.exists()


def test_a_document_refused_under_the_lock_leaves_no_file(session: Session, world: World) -> None:
    booking = draft(session, world)
    session.add_all([BookingDocument(booking_id=booking.id, document=DocumentKind.INSURANCE, filename=f"{n}.pdf",  # type: ignore[arg-type]
                                     content_type="application/pdf", size_bytes=10, sha256="0" * 64,
                                     storage_key=f"bookings/{0xd0c0 + n:032x}") for n in range(bookings.MAX_DOCUMENTS)])
    session.commit()
    before = stored_files(world.settings)
    with pytest.raises(Invalid) as failure:
        bookings.add_document(session, world.settings, actor(session, world.member), booking.id,  # type: ignore[arg-type]
                              kind=DocumentKind.INSURANCE, source=io.BytesIO(PDF), filename="保険.pdf")
    assert failure.value.errors == {"file": "A request can have at most 20 documents. Delete one first."}
    assert stored_files(world.settings) == before and count(session, BookingDocument) == bookings.MAX_DOCUMENTS
    submitted_booking = submitted(session, world)  # no longer editable: refused before the file is received
    with pytest.raises(Invalid) as failure:
        bookings.add_document(session, world.settings, actor(session, world.member), submitted_booking.id,  # type: ignore[arg-type]
                              kind=DocumentKind.INSURANCE, source=io.BytesIO(PDF), filename="保険.pdf")
    assert set(failure.value.errors) == {"file"} and stored_files(world.settings) == before


def test_a_document_form_needs_its_kind_and_a_file() -> None:
    with pytest.raises(Invalid) as failure:
        bookings.DocumentForm.parse({"document": "passport"})
    assert failure.value.errors == {"document": "Choose which document this is.", "file": "Choose a file to upload."}


# --- completion -----------------------------------------------------------------------------------


def test_complete_finished(session: Session, world: World) -> None:
    now = utcnow()
    done = create_booking(session, world.field, world.organisation, status=BookingStatus.APPROVED,
                          periods=[(now - timedelta(days=2), now - timedelta(days=2) + timedelta(hours=2)),
                                   (now - timedelta(hours=3), now - timedelta(hours=1))])
    running = create_booking(session, world.field, world.organisation, status=BookingStatus.APPROVED,
                             periods=[(now - timedelta(days=1), now - timedelta(days=1) + timedelta(hours=1)),
                                      (now + timedelta(days=1), now + timedelta(days=1, hours=1))])
    pending = create_booking(session, world.field, world.organisation, status=BookingStatus.SUBMITTED,
                             periods=[(now - timedelta(days=3), now - timedelta(days=3) + timedelta(hours=1))])
    assert bookings.complete_finished(session) == 1
    assert bookings.complete_finished(session) == 0
    assert reload(session, done).status is BookingStatus.COMPLETED and reload(session, done).completed_at is not None
    assert reload(session, running).status is BookingStatus.APPROVED
    assert reload(session, pending).status is BookingStatus.SUBMITTED
    event = session.exec(select(BookingEvent)).one()
    assert (event.booking_id, event.to_status) == (done.id, BookingStatus.COMPLETED)
    with pytest.raises(Invalid):
        bookings.cancel(session, world.settings, actor(session, world.member), done.id, bookings.CancelForm(reason="x"))  # type: ignore[arg-type]
