"""The labs demo (``cocreate demo``): four published fields in 高島平, a running trial whose bookings keep
every booking rule (hours, blackouts, notice, length, no overlap with buffers), notices, follows and a
recruitment call; loading twice adds nothing; missing demo accounts leave out what needs them."""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import pairwise

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, func, select

from cocreate import components
from cocreate import demo as core_demo
from cocreate.accounts.models import Department, OrganisationMember, User
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.notifications.models import Follow, Notification
from cocreate.settings import Settings
from cocreate.web.i18n import WARD_TIMEZONE
from labs import bookings as booking_services
from labs import demo, notices
from labs.models import (
    ApplicationStatus,
    Area,
    Blackout,
    Booking,
    BookingDocument,
    BookingEvent,
    BookingNotice,
    BookingPeriod,
    BookingStatus,
    DocumentKind,
    FieldKind,
    NoticeKind,
    RecruitmentApplication,
    RecruitmentCall,
    RecruitmentStatus,
    TestField,
    TestFieldCoordinator,
    TestFieldHours,
    TestFieldRequirement,
    Trial,
    TrialKpi,
    TrialOrganisation,
    TrialStatus,
    TrialUpdate,
)
from proposals import demo as proposals_demo
from proposals.models import Challenge

pytestmark = pytest.mark.databases("sqlite", why="demo content goes through the services")




def load_all(database: Database, settings: Settings) -> list[str]:
    """What ``cocreate demo`` does: each component's loader in a transaction of its own."""
    summaries = []
    for loader in (core_demo.load, proposals_demo.load, demo.load):
        with database.transaction() as session:
            summaries.append(loader(session, settings))
    return summaries


def row_counts(database: Database) -> dict[str, int]:
    components.load_models()
    with database.engine.connect() as conn:
        return {table.name: conn.execute(sa.select(func.count()).select_from(table)).scalar_one()
                for table in SQLModel.metadata.sorted_tables}


def fields_by_name(session: Session) -> dict[str, TestField]:
    return {f.name: f for f in session.exec(select(TestField)).all()}


def test_demo_fields_are_published_with_hours_rules_and_requirements(database: Database, settings: Settings,
                                                                    session: Session) -> None:
    summaries = load_all(database, settings)
    assert summaries[2].startswith("4 test fields added, 0 already there; trial added with 4 bookings, 3 notices")
    fields = fields_by_name(session)
    assert set(fields) == {demo.PLAZA, demo.GARDEN, demo.ROOFTOP, demo.SENSORS}
    coordinator = session.exec(select(User).where(User.email == demo.COORDINATOR)).one()
    departments = {d.id: d.code for d in session.exec(select(Department)).all()}
    expected_requirements = {
        demo.PLAZA: {DocumentKind.ROAD_USE_PERMIT, DocumentKind.SAFETY_PLAN, DocumentKind.INSURANCE},
        demo.GARDEN: {DocumentKind.PRIVACY_IMPACT},
        demo.ROOFTOP: {DocumentKind.DRONE_FLIGHT_PLAN, DocumentKind.SAFETY_PLAN},
        demo.SENSORS: {DocumentKind.PRIVACY_IMPACT},
    }
    for name, field in fields.items():
        assert field.published and field.approval_required and field.area is Area.TAKASHIMADAIRA
        assert "高島平" in field.address and field.address.startswith("東京都板橋区")
        assert field.latitude is not None and abs(field.latitude - 35.789) < 0.01
        assert field.longitude is not None and abs(field.longitude - 139.661) < 0.01
        assert field.summary and field.description.startswith("## ") and field.rules.startswith("- ")
        assert field.cancellation_rule and "03-0000-0000" in field.contact
        assert field.department_id in departments and field.created_by_id == coordinator.id
        assert session.get(TestFieldCoordinator, (field.id, coordinator.id)) is not None
        requirements = set(session.exec(select(TestFieldRequirement.document)
                                        .where(TestFieldRequirement.field_id == field.id)).all())
        assert requirements == expected_requirements[name], name
        hours = session.exec(select(TestFieldHours).where(TestFieldHours.field_id == field.id)).all()
        assert hours and all(0 <= h.opens_minute < h.closes_minute <= 1440 for h in hours)
        assert field.max_booking_minutes is None or field.max_booking_minutes >= field.min_booking_minutes
    week = {name: {(h.weekday, h.opens_minute, h.closes_minute) for h in session.exec(
        select(TestFieldHours).where(TestFieldHours.field_id == field.id)).all()} for name, field in fields.items()}
    assert week[demo.PLAZA] == {(d, 7 * 60, 21 * 60) for d in range(7)}
    assert week[demo.GARDEN] == {(d, 10 * 60, 17 * 60) for d in range(1, 7)}  # closed on Mondays
    assert week[demo.SENSORS] == {(d, 0, 1440) for d in range(7)}
    assert fields[demo.PLAZA].buffer_minutes == 30
    assert fields[demo.PLAZA].kind is FieldKind.ROAD and fields[demo.SENSORS].kind is FieldKind.SENSOR_NETWORK
    assert departments[fields[demo.PLAZA].department_id] == "takashimadaira"  # type: ignore[index]

    now = utcnow()
    blackouts = session.exec(select(Blackout)).all()
    reasons = {b.reason for b in blackouts}
    assert any("高島平まつり" in r for r in reasons) and any("設備点検" in r for r in reasons)
    for blackout in blackouts:  # in the coming weeks
        assert now < blackout.starts_at < blackout.ends_at < now + timedelta(days=30)


@pytest.mark.databases("sqlite", "postgresql", why="stored times, the exclusion constraint, loading twice")
def test_demo_trial_and_its_bookings_follow_every_booking_rule(database: Database, settings: Settings,
                                                              session: Session) -> None:
    load_all(database, settings)
    now = utcnow()
    today = now.astimezone(WARD_TIMEZONE).date()
    trial = session.exec(select(Trial).where(Trial.title == demo.TRIAL_TITLE)).one()
    assert trial.published and trial.status is TrialStatus.RUNNING
    assert trial.starts_on is not None and trial.ends_on is not None and trial.starts_on < today < trial.ends_on
    challenge = session.exec(select(Challenge).where(Challenge.title == demo.MOBILITY_CHALLENGE)).one()
    assert trial.challenge_id == challenge.id and trial.proposal_id is None  # the demo has no proposals
    assert trial.department_id is not None and trial.created_by_id is not None
    company = session.exec(select(User).where(User.email == demo.COMPANY)).one()
    organisation_id = session.exec(select(OrganisationMember.organisation_id)
                                   .where(OrganisationMember.user_id == company.id)).one()
    lead = session.exec(select(TrialOrganisation).where(TrialOrganisation.trial_id == trial.id)).one()
    assert lead.organisation_id == organisation_id and lead.is_lead
    kpis = session.exec(select(TrialKpi).where(TrialKpi.trial_id == trial.id).order_by(TrialKpi.position)).all()
    assert len(kpis) >= 3 and all(k.indicator and k.baseline and k.target and not k.result for k in kpis)
    assert any("回遊" in k.indicator for k in kpis) and any("利用回数" in k.indicator for k in kpis)
    updates = session.exec(select(TrialUpdate).where(TrialUpdate.trial_id == trial.id)).all()
    assert len(updates) == 2 and all(trial.starts_on <= u.posted_on <= today and u.body for u in updates)

    fields = {f.id: f for f in session.exec(select(TestField)).all()}
    plaza = next(f for f in fields.values() if f.name == demo.PLAZA)
    bookings = session.exec(select(Booking).where(Booking.trial_id == trial.id)).all()
    statuses = sorted(b.status for b in bookings)
    assert statuses == sorted([BookingStatus.COMPLETED, BookingStatus.APPROVED, BookingStatus.APPROVED,
                               BookingStatus.SUBMITTED])
    for booking in bookings:
        assert booking.field_id == plaza.id and booking.organisation_id == organisation_id
        assert booking.title and booking.public_description and booking.purpose
        assert booking.submitted_at is not None and booking.submitted_at < now
        periods = session.exec(select(BookingPeriod).where(BookingPeriod.booking_id == booking.id)).all()
        assert periods
        events = session.exec(select(BookingEvent).where(BookingEvent.booking_id == booking.id)
                              .order_by(col(BookingEvent.at), col(BookingEvent.id))).all()
        assert (events[0].from_status, events[0].to_status) == (BookingStatus.DRAFT, BookingStatus.SUBMITTED)
        assert events[-1].to_status is booking.status
        assert all(a.to_status == b.from_status for a, b in pairwise(events))
        assert all(e.at <= now for e in events)
        for period in periods:
            assert period.field_id == booking.field_id
            if booking.status is BookingStatus.SUBMITTED:
                assert not period.blocks and period.blocked_until == period.ends_at and booking.decided_at is None
            else:  # approved, then maybe completed (which leaves the periods as they were)
                assert period.blocks and booking.decided_at is not None and booking.decided_by_id is not None
                assert period.blocked_until == period.ends_at + timedelta(minutes=plaza.buffer_minutes)
            if booking.status is BookingStatus.APPROVED:
                assert period.starts_at > now
            if booking.status is BookingStatus.COMPLETED:
                assert period.ends_at < now and booking.completed_at is not None
    assert sum(session.exec(select(func.count()).select_from(BookingPeriod).where(
        BookingPeriod.booking_id == b.id)).one() for b in bookings if b.status is BookingStatus.APPROVED) >= 3

    # Every booking keeps the field's rules, as the booking service would check them.
    for booking in bookings:
        field = fields[booking.field_id]
        hours = session.exec(select(TestFieldHours).where(TestFieldHours.field_id == field.id)).all()
        blackouts = session.exec(select(Blackout).where(Blackout.field_id == field.id)).all()
        for period in session.exec(select(BookingPeriod).where(BookingPeriod.booking_id == booking.id)).all():
            start = period.starts_at.astimezone(WARD_TIMEZONE)
            end = period.ends_at.astimezone(WARD_TIMEZONE)
            assert start.date() == end.date()
            start_minute, end_minute = start.hour * 60 + start.minute, end.hour * 60 + end.minute
            assert any(h.weekday == start.weekday() and h.opens_minute <= start_minute and end_minute <= h.closes_minute
                       for h in hours), (booking.title, start, end)
            assert not any(b.starts_at < period.ends_at and period.starts_at < b.ends_at for b in blackouts)
            minutes = (period.ends_at - period.starts_at).total_seconds() / 60
            assert field.min_booking_minutes <= minutes <= (field.max_booking_minutes or minutes)
            assert booking.submitted_at is not None
            assert period.starts_at - booking.submitted_at >= timedelta(hours=field.min_notice_hours)
            assert period.starts_at - booking.submitted_at <= timedelta(days=field.max_notice_days or 10_000)
        # ... and the booking service itself finds nothing wrong (documents included).
        if booking.status is not BookingStatus.COMPLETED:
            approved = booking.status is BookingStatus.APPROVED
            assert booking_services.booking_problems(session, booking, field, for_approval=approved) == {}


def test_demo_bookings_carry_their_documents_and_notifications(database: Database, settings: Settings,
                                                               session: Session) -> None:
    load_all(database, settings)
    plaza = fields_by_name(session)[demo.PLAZA]
    required = set(session.exec(select(TestFieldRequirement.document)
                                .where(TestFieldRequirement.field_id == plaza.id)).all())
    company = session.exec(select(User).where(User.email == demo.COMPANY)).one()
    coordinator = session.exec(select(User).where(User.email == demo.COORDINATOR)).one()
    for booking in session.exec(select(Booking)).all():
        documents = session.exec(select(BookingDocument).where(BookingDocument.booking_id == booking.id)).all()
        assert {d.document for d in documents} == required
        for document in documents:
            path = booking_services.path_of(settings, document)
            content = path.read_bytes()
            assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")
            assert len(content) == document.size_bytes and document.content_type == "application/pdf"
            assert document.filename.endswith(".pdf") and document.uploaded_by_id == company.id
        # The company was told of every move the coordinator (or the completion job) made.
        moves = [e for e in session.exec(select(BookingEvent).where(BookingEvent.booking_id == booking.id)).all()
                 if e.by_id != company.id]
        told = session.exec(select(Notification).where(Notification.user_id == company.id,
                                                       Notification.kind == "booking.status",
                                                       Notification.target_id == booking.id)).all()
        assert {n.event_key for n in told} == {f"booking.status:{e.id}" for e in moves}
    pending = session.exec(select(Booking).where(Booking.status == BookingStatus.SUBMITTED)).one()
    submitted = session.exec(select(Notification).where(Notification.user_id == coordinator.id,
                                                        Notification.kind == "booking.submitted")).all()
    assert len(submitted) == 4
    assert [n.read_at for n in submitted if n.target_id == pending.id] == [None]  # waiting for review


@pytest.mark.databases("sqlite", "postgresql", why="stored times, the exclusion constraint, loading twice")
def test_no_two_blocking_periods_of_a_field_overlap(database: Database, settings: Settings, session: Session) -> None:
    load_all(database, settings)
    blocking = session.exec(select(BookingPeriod).where(col(BookingPeriod.blocks).is_(True))
                            .order_by(BookingPeriod.field_id, BookingPeriod.starts_at)).all()
    assert len(blocking) >= 3
    for earlier, later in pairwise(blocking):
        if earlier.field_id == later.field_id:  # half-open ranges [starts_at, blocked_until)
            assert earlier.blocked_until <= later.starts_at, (earlier, later)
    booking_statuses = {b.id: b.status for b in session.exec(select(Booking)).all()}
    assert {booking_statuses[p.booking_id] for p in blocking} == {BookingStatus.APPROVED, BookingStatus.COMPLETED}


def test_notices_follows_and_the_residents_notifications(database: Database, settings: Settings,
                                                         session: Session) -> None:
    load_all(database, settings)
    resident = session.exec(select(User).where(User.email == demo.RESIDENT)).one()
    plaza = fields_by_name(session)[demo.PLAZA]
    follows = {(f.target_type, f.target_id) for f in session.exec(select(Follow).where(
        Follow.user_id == resident.id)).all()}
    assert ("test_field", plaza.id) in follows and ("area", Area.TAKASHIMADAIRA.number) in follows

    decided = session.exec(select(Booking).where(col(Booking.status).in_(
        [BookingStatus.APPROVED, BookingStatus.COMPLETED]))).all()
    for booking in decided:
        notice = session.exec(select(BookingNotice).where(BookingNotice.booking_id == booking.id)).one()
        assert notice.kind is NoticeKind.APPROVED and notice.revision == booking.revision
        assert notice.sent_at is not None and booking.decided_at is not None and notice.sent_at >= booking.decided_at
        assert notice.recipient_count == 1  # the demo resident, once although following field and area
        notification = session.exec(select(Notification).where(
            Notification.user_id == resident.id, Notification.event_key == f"booking-notice:{notice.id}")).one()
        assert notification.kind == "booking.notice" and notification.url == f"/bookings/{booking.id}/notice"
        params = json.loads(notification.params_json)
        # Exactly what the notices service would have sent.
        assert params == json.loads(json.dumps(notices.notice_params(session, notice, booking, plaza)))
        assert params["booking_title"] == booking.title and params["notice_kind"] == "approved"
        assert len(params["periods"]) >= 1 and "03-0000-0000" in params["contact"]
    pending = session.exec(select(Booking).where(Booking.status == BookingStatus.SUBMITTED)).one()
    assert session.exec(select(BookingNotice).where(BookingNotice.booking_id == pending.id)).first() is None
    unread = session.exec(select(func.count()).select_from(Notification).where(
        Notification.user_id == resident.id, Notification.kind == "booking.notice",
        col(Notification.read_at).is_(None))).one()
    assert unread == 2  # the two upcoming approvals


def test_recruitment_call_with_the_residents_application(database: Database, settings: Settings,
                                                         session: Session) -> None:
    load_all(database, settings)
    now = utcnow()
    trial = session.exec(select(Trial).where(Trial.title == demo.TRIAL_TITLE)).one()
    call = session.exec(select(RecruitmentCall).where(RecruitmentCall.trial_id == trial.id)).one()
    assert call.status is RecruitmentStatus.OPEN and call.places == 20 and call.accepted_count == 0
    assert call.consent_version == 1 and call.consent_text and call.eligibility and call.activities
    assert call.apply_by is not None and now + timedelta(days=20) < call.apply_by < now + timedelta(days=22)
    assert call.starts_on is not None and call.ends_on == trial.ends_on
    assert call.apply_by.astimezone(WARD_TIMEZONE).date() < call.starts_on
    resident = session.exec(select(User).where(User.email == demo.RESIDENT)).one()
    application = session.exec(select(RecruitmentApplication).where(RecruitmentApplication.call_id == call.id)).one()
    assert application.user_id == resident.id and application.status is ApplicationStatus.APPLIED
    assert application.consent_version == 1 and application.full_name and application.contact
    assert call.created_at <= application.consented_at <= now


@pytest.mark.committed("counts rows on a connection of its own")
@pytest.mark.databases("sqlite", "postgresql", why="stored times, the exclusion constraint, loading twice")
def test_loading_the_demo_twice_adds_nothing(database: Database, settings: Settings) -> None:
    load_all(database, settings)
    before = row_counts(database)
    summaries = load_all(database, settings)
    assert summaries[2].startswith("0 test fields added, 4 already there; trial already there with 0 bookings, "
                                   "0 notices and 0 recruitment calls added")
    assert row_counts(database) == before


def test_without_the_core_demo_fields_and_trial_come_without_people(database: Database, settings: Settings,
                                                                    session: Session) -> None:
    with database.transaction() as loading:
        summary = demo.load(loading, settings)
    assert summary.startswith("4 test fields added, 0 already there; trial added with 0 bookings")
    assert "load the core demo first" in summary
    assert len(fields_by_name(session)) == 4
    assert all(f.department_id is None and f.created_by_id is None for f in fields_by_name(session).values())
    for model in (TestFieldCoordinator, Booking, TrialOrganisation, Follow, Notification, RecruitmentApplication):
        assert session.exec(select(func.count()).select_from(model)).one() == 0, model
    trial = session.exec(select(Trial)).one()
    assert trial.challenge_id is None and trial.department_id is None
    assert session.exec(select(func.count()).select_from(RecruitmentCall)).one() == 1
    # Loading the core demo afterwards fills in what needed its people, still without overlaps.
    load_all(database, settings)
    assert session.exec(select(func.count()).select_from(Booking)).one() == 4
    assert session.exec(select(func.count()).select_from(TestFieldCoordinator)).one() == 4
    assert session.exec(select(func.count()).select_from(RecruitmentApplication)).one() == 1
    assert session.exec(select(func.count()).select_from(TrialOrganisation)).one() == 1


def test_demo_is_refused_in_production(session: Session, settings: Settings) -> None:
    production = Settings(env="production", data_dir=settings.data_dir, database_url=settings.database_url,
                          secret_key="a-production-secret-key-0123456789")
    with pytest.raises(core_demo.DemoRefused, match="production"):
        demo.load(session, production)
    assert session.exec(select(func.count()).select_from(TestField)).one() == 0
