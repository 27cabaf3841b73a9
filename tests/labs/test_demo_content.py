"""The labs demo (``cocreate demo``): four published fields in 高島平, and two trials grown out of the proposals
the proposals demo selected, played through the services: a completed one with its results and a running
one, whose bookings keep every booking rule (hours, blackouts, notice, length, no overlap with buffers),
with notices to the residents who had subscribed, progress updates and recruitment calls; loading twice adds
nothing; missing demo accounts or proposals leave out what needs them. Every row a service writes is
written by that service: its audit entries and notifications are there, dated when it happened."""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import pairwise

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, func, select

from cocreate import audit, components
from cocreate import demo as core_demo
from cocreate.accounts.models import Department, User
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.i18n import WARD_TIMEZONE
from cocreate.notifications.models import Follow, Notification
from cocreate.settings import Settings
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
from proposals.challenges import lifecycle
from proposals.models import (
    Challenge,
    DecisionOutcome,
    Phase,
    PhaseChange,
    Proposal,
    ProposalOrganisation,
)

pytestmark = pytest.mark.databases("sqlite", why="demo content goes through the services")




def load_all(database: Database, settings: Settings) -> list[str]:
    """What ``cocreate demo`` does: each component's loader in a transaction of its own."""
    summaries = []
    for loader in (core_demo.load, proposals_demo.load, demo.load):
        with database.transaction() as session:
            summaries.append(loader(session, settings))
    return summaries


def row_counts(database: Database) -> dict[str, int]:
    components.load()
    with database.engine.connect() as conn:
        return {table.name: conn.execute(sa.select(func.count()).select_from(table)).scalar_one()
                for table in SQLModel.metadata.sorted_tables}


def fields_by_name(session: Session) -> dict[str, TestField]:
    return {f.name: f for f in session.exec(select(TestField)).all()}


def test_demo_fields_are_published_with_hours_rules_and_requirements(database: Database, settings: Settings,
                                                                    session: Session) -> None:
    summaries = load_all(database, settings)
    assert summaries[2] == ("4 test fields added, 0 already there; 2 trials added, 0 already there, with 7 bookings, "
                            "6 notices, 5 progress updates, 2 recruitment calls, 5 applications and 1 results report; "
                            "22 KPI measurements")
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


def trial_titled(session: Session, title: str) -> Trial:
    return session.exec(select(Trial).where(Trial.title == title)).one()


@pytest.mark.databases("sqlite", "postgresql", why="stored times, loading through the services on both")
def test_demo_trials_grow_out_of_the_selected_proposals(database: Database, settings: Settings,
                                                        session: Session) -> None:
    load_all(database, settings)
    now = utcnow()
    today = now.astimezone(WARD_TIMEZONE).date()
    for demo_trial in demo.TRIALS:
        trial = trial_titled(session, demo_trial.title)
        challenge = session.exec(select(Challenge).where(Challenge.title == demo_trial.challenge)).one()
        proposal = session.get(Proposal, trial.proposal_id)
        assert proposal is not None and proposal.challenge_id == challenge.id == trial.challenge_id
        assert proposal.decision is DecisionOutcome.SELECTED and challenge.decisions_published_at is not None
        assert challenge.decisions_published_at < trial.created_at
        # Started by the services: the challenge moved to "trial" then, by the person who started it.
        started = session.exec(select(PhaseChange).where(PhaseChange.challenge_id == challenge.id,
                                                         PhaseChange.to_phase == Phase.TRIAL)).one()
        assert started.from_phase is Phase.DECIDED and started.changed_at == trial.created_at
        assert started.changed_by_id == trial.created_by_id and started.reason
        # The proposal's authors run it, its lead leading; the department in charge is the challenge's.
        authors = {(row.organisation_id, row.is_lead) for row in session.exec(
            select(ProposalOrganisation).where(ProposalOrganisation.proposal_id == proposal.id)).all()}
        running = {(row.organisation_id, row.is_lead) for row in session.exec(
            select(TrialOrganisation).where(TrialOrganisation.trial_id == trial.id)).all()}
        assert running == authors and len(running) == 2
        assert trial.department_id == challenge.department_id and trial.published
        assert trial.starts_on == today + timedelta(days=demo_trial.starts_day)
        assert trial.ends_on == today + timedelta(days=demo_trial.ends_day)
        kpis = session.exec(select(TrialKpi).where(TrialKpi.trial_id == trial.id).order_by(TrialKpi.position)).all()
        assert [(k.indicator, k.unit, k.baseline, k.target) for k in kpis] == list(demo_trial.kpis)
        updates = session.exec(select(TrialUpdate).where(TrialUpdate.trial_id == trial.id)).all()
        assert len(updates) == len(demo_trial.updates) >= 2
        assert all(u.body and u.posted_on <= today and u.created_at <= now for u in updates)
        told = session.exec(select(Notification).where(Notification.kind == "trial.update_posted",
                                                       Notification.target_id == trial.id)).all()
        assert told  # the trial's followers (who wrote the proposal) heard of each update

    running = trial_titled(session, demo.TRIAL_TITLE)
    assert running.status is TrialStatus.RUNNING and running.results_published_at is None
    assert running.starts_on is not None and running.ends_on is not None
    assert running.starts_on < today < running.ends_on
    mobility = session.exec(select(Challenge).where(Challenge.title == demo.MOBILITY_CHALLENGE)).one()
    assert mobility.phase is Phase.TRIAL and mobility.next_transition_at is not None
    assert mobility.next_transition_at > now

    completed = trial_titled(session, demo.GARDEN_TRIAL_TITLE)
    assert completed.status is TrialStatus.COMPLETED and completed.ends_on is not None and completed.ends_on < today
    assert completed.results_published_at is not None and completed.results_published_at < now
    assert "皆さんの声と、私たちが行ったこと" in completed.results  # "you said, we did"
    kpis = session.exec(select(TrialKpi).where(TrialKpi.trial_id == completed.id)).all()
    assert kpis and all(k.result and k.result_note for k in kpis)
    garden = session.exec(select(Challenge).where(Challenge.title == demo.GARDEN_CHALLENGE)).one()
    assert garden.phase is Phase.COMPLETED and garden.next_transition_at is None
    done = session.exec(select(PhaseChange).where(PhaseChange.challenge_id == garden.id,
                                                  PhaseChange.to_phase == Phase.COMPLETED)).one()
    assert done.from_phase is Phase.TRIAL and done.changed_at > completed.results_published_at and done.reason
    assert session.exec(select(Notification).where(Notification.kind == "trial.results_published")).all()
    # Nothing is overdue for the beat jobs: no phase to move, no booking to complete.
    assert lifecycle.advance_due(session, now=now) == []
    assert booking_services.complete_finished(session, now=now) == 0


@pytest.mark.databases("sqlite", "postgresql", why="stored times, the exclusion constraint, loading twice")
def test_demo_bookings_follow_every_booking_rule(database: Database, settings: Settings, session: Session) -> None:
    load_all(database, settings)
    now = utcnow()
    fields = {f.id: f for f in session.exec(select(TestField)).all()}
    statuses = {
        demo.TRIAL_TITLE: [BookingStatus.APPROVED, BookingStatus.APPROVED, BookingStatus.COMPLETED,
                           BookingStatus.SUBMITTED],
        demo.GARDEN_TRIAL_TITLE: [BookingStatus.COMPLETED] * 3,
    }
    for demo_trial in demo.TRIALS:
        trial = trial_titled(session, demo_trial.title)
        field = next(f for f in fields.values() if f.name == demo_trial.field)
        member = session.exec(select(User).where(User.email == demo_trial.member)).one()
        lead = session.exec(select(TrialOrganisation.organisation_id).where(
            TrialOrganisation.trial_id == trial.id, col(TrialOrganisation.is_lead).is_(True))).one()
        bookings = session.exec(select(Booking).where(Booking.trial_id == trial.id)).all()
        assert sorted(b.status for b in bookings) == sorted(statuses[demo_trial.title])
        for booking in bookings:
            assert booking.field_id == field.id and booking.organisation_id == lead
            assert booking.created_by_id == member.id and trial.created_at < booking.created_at
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
                    assert not period.blocks and period.blocked_until == period.ends_at
                    assert booking.decided_at is None
                else:  # approved, then maybe completed (which leaves the periods as they were)
                    assert period.blocks and booking.decided_at is not None and booking.decided_by_id is not None
                    assert period.blocked_until == period.ends_at + timedelta(minutes=field.buffer_minutes)
                    assert booking.decided_at < period.starts_at
                if booking.status is BookingStatus.APPROVED:
                    assert period.starts_at > now
                if booking.status is BookingStatus.COMPLETED:
                    assert booking.completed_at is not None and period.ends_at < booking.completed_at < now

    # Every booking keeps its field's rules, as the booking service checked them when it was submitted.
    for booking in session.exec(select(Booking)).all():
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
        # ... and the booking service itself finds nothing wrong now (documents included).
        if booking.status is not BookingStatus.COMPLETED:
            approved = booking.status is BookingStatus.APPROVED
            assert booking_services.booking_problems(session, booking, field, for_approval=approved) == {}


def test_demo_bookings_carry_their_documents_and_notifications(database: Database, settings: Settings,
                                                               session: Session) -> None:
    load_all(database, settings)
    coordinator = session.exec(select(User).where(User.email == demo.COORDINATOR)).one()
    members = {o: session.exec(select(User).where(User.email == t.member)).one()
               for t in demo.TRIALS for o in [t.title]}
    all_bookings = session.exec(select(Booking)).all()
    assert len(all_bookings) == sum(len(t.bookings) for t in demo.TRIALS) == 7
    for booking in all_bookings:
        trial = session.get(Trial, booking.trial_id)
        assert trial is not None
        member = members[trial.title]
        required = set(session.exec(select(TestFieldRequirement.document)
                                    .where(TestFieldRequirement.field_id == booking.field_id)).all())
        documents = session.exec(select(BookingDocument).where(BookingDocument.booking_id == booking.id)).all()
        assert {d.document for d in documents} == required
        for document in documents:
            path = booking_services.path_of(settings, document)
            content = path.read_bytes()
            assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")
            assert len(content) == document.size_bytes and document.content_type == "application/pdf"
            assert document.filename.endswith(".pdf") and document.uploaded_by_id == member.id
        # The organisation was told of every move the coordinator made (the completion job tells nobody).
        moves = [e for e in session.exec(select(BookingEvent).where(BookingEvent.booking_id == booking.id)).all()
                 if e.by_id not in (member.id, None)]
        told = session.exec(select(Notification).where(Notification.user_id == member.id,
                                                       Notification.kind == "booking.status",
                                                       Notification.target_id == booking.id)).all()
        assert {n.event_key for n in told} == {f"booking.status:{e.id}" for e in moves}
    submitted = session.exec(select(Notification).where(Notification.user_id == coordinator.id,
                                                        Notification.kind == "booking.submitted")).all()
    assert len(submitted) == 7
    pending = session.exec(select(Booking).where(Booking.status == BookingStatus.SUBMITTED)).one()
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
    neighbour = session.exec(select(User).where(User.email == demo.R2)).one()
    coordinator = session.exec(select(User).where(User.email == demo.COORDINATOR)).one()
    fields = fields_by_name(session)
    plaza = fields[demo.PLAZA]
    follows = {(f.target_type, f.target_id) for f in session.exec(select(Follow).where(
        Follow.user_id == resident.id)).all()}
    assert ("test_field", plaza.id) in follows and ("area", Area.TAKASHIMADAIRA.number) in follows
    area_follow = session.exec(select(Follow).where(Follow.user_id == neighbour.id, Follow.target_type == "area")).one()

    decided = session.exec(select(Booking).where(col(Booking.status).in_(
        [BookingStatus.APPROVED, BookingStatus.COMPLETED]))).all()
    assert len(decided) == 6
    for booking in decided:
        field = next(f for f in fields.values() if f.id == booking.field_id)
        notice = session.exec(select(BookingNotice).where(BookingNotice.booking_id == booking.id)).one()
        assert notice.kind is NoticeKind.APPROVED and notice.revision == booking.revision
        assert booking.decided_at is not None and notice.sent_at == booking.decided_at
        # Told: who had subscribed by then (each once, although the resident follows both field and area),
        # and the coordinator, who follows the fields they created (as the field service has authors do).
        expected = {neighbour.id, coordinator.id} | ({resident.id} if field.id == plaza.id else set())
        assert area_follow.created_at < booking.decided_at
        recipients = session.exec(select(Notification).where(
            Notification.event_key == f"booking-notice:{notice.id}")).all()
        assert {n.user_id for n in recipients} == expected and notice.recipient_count == len(expected)
        for notification in recipients:
            assert notification.kind == "booking.notice" and notification.url == f"/bookings/{booking.id}/notice"
            params = json.loads(notification.params_json)
            # Exactly what the notices service sends.
            assert params == json.loads(json.dumps(notices.notice_params(session, notice, booking, field)))
            assert params["booking_title"] == booking.title and params["notice_kind"] == "approved"
            assert len(params["periods"]) >= 1 and "03-0000-0000" in params["contact"]
    pending = session.exec(select(Booking).where(Booking.status == BookingStatus.SUBMITTED)).one()
    assert session.exec(select(BookingNotice).where(BookingNotice.booking_id == pending.id)).first() is None


def test_recruitment_calls_with_the_residents_applications(database: Database, settings: Settings,
                                                           session: Session) -> None:
    load_all(database, settings)
    now = utcnow()
    trial = trial_titled(session, demo.TRIAL_TITLE)
    call = session.exec(select(RecruitmentCall).where(RecruitmentCall.trial_id == trial.id)).one()
    assert call.title == demo.CALL_TITLE
    assert call.status is RecruitmentStatus.OPEN and call.places == 20 and call.accepted_count == 0
    assert call.consent_version == 1 and call.consent_text and call.eligibility and call.activities
    assert call.apply_by is not None and now + timedelta(days=20) < call.apply_by < now + timedelta(days=22)
    assert call.starts_on is not None and call.ends_on == trial.ends_on
    assert call.apply_by.astimezone(WARD_TIMEZONE).date() < call.starts_on
    resident = session.exec(select(User).where(User.email == demo.RESIDENT)).one()
    applications = session.exec(select(RecruitmentApplication).where(RecruitmentApplication.call_id == call.id)
                                .order_by(RecruitmentApplication.id)).all()
    assert len(applications) == 2 and applications[0].user_id == resident.id
    for application in applications:
        assert application.status is ApplicationStatus.APPLIED
        assert application.consent_version == 1 and application.full_name and application.contact
        assert call.created_at <= application.consented_at <= now
    assert session.exec(select(Notification).where(Notification.kind == "recruitment.opened",
                                                   Notification.target_id == call.id)).all()

    # The garden's call is over: its participants were accepted (and told), then it closed.
    done = trial_titled(session, demo.GARDEN_TRIAL_TITLE)
    closed = session.exec(select(RecruitmentCall).where(RecruitmentCall.trial_id == done.id)).one()
    assert closed.status is RecruitmentStatus.CLOSED and closed.accepted_count == 3
    accepted = session.exec(select(RecruitmentApplication).where(RecruitmentApplication.call_id == closed.id)).all()
    assert [a.status for a in accepted] == [ApplicationStatus.ACCEPTED] * 3
    assert all(a.decided_at is not None and a.consented_at < a.decided_at < now for a in accepted)
    told = session.exec(select(Notification.user_id).where(Notification.kind == "recruitment.accepted")).all()
    assert sorted(told) == sorted(a.user_id for a in accepted)


def test_the_demo_went_through_the_services(database: Database, settings: Settings, session: Session) -> None:
    """Each row a service writes carries what that service writes with it, at the same moment: the audit
    entry of each field, blackout, trial, coordinator's booking decision and recruitment decision, and the
    follows and notifications; the audit log's chain holds."""
    load_all(database, settings)
    coordinator = session.exec(select(User).where(User.email == demo.COORDINATOR)).one()
    entries = session.exec(select(audit.AuditEntry)).all()

    def logged(action: str, target_type: str, target_id: int | None) -> list[audit.AuditEntry]:
        return [e for e in entries if (e.action, e.target_type, e.target_id) == (action, target_type, str(target_id))]

    for field in fields_by_name(session).values():
        [created] = logged("test_field.created", "test_field", field.id)
        assert created.actor_id == coordinator.id == field.created_by_id and created.created_at == field.created_at
        assert session.exec(select(Follow).where(Follow.user_id == coordinator.id, Follow.target_type == "test_field",
                                                 Follow.target_id == field.id)).one()  # the creator follows it
        for blackout in session.exec(select(Blackout).where(Blackout.field_id == field.id)).all():
            [added] = [e for e in logged("test_field.blackout_added", "test_field", field.id)
                       if json.loads(e.details_json)["blackout_id"] == blackout.id]
            assert added.actor_id == coordinator.id == blackout.created_by_id
            assert added.created_at == blackout.created_at > field.created_at
    assert len([e for e in entries if e.action == "test_field.blackout_added"]) == 3

    for demo_trial in demo.TRIALS:
        trial = trial_titled(session, demo_trial.title)
        [started] = logged("trial.created_from_proposal", "trial", trial.id)
        assert started.created_at == trial.created_at and started.actor_id == trial.created_by_id
        assert logged("trial.updated", "trial", trial.id)
        posted = logged("trial.update_posted", "trial", trial.id)
        assert len(posted) == len(demo_trial.updates)
        assert len(logged("trial.results_published", "trial", trial.id)) == int(demo_trial.results is not None)
        for booking in session.exec(select(Booking).where(Booking.trial_id == trial.id)).all():
            moves = session.exec(select(BookingEvent).where(BookingEvent.booking_id == booking.id,
                                                            BookingEvent.by_id == coordinator.id)).all()
            decided = {(e.action, e.created_at) for e in logged("booking.review_started", "booking", booking.id)
                       + logged("booking.approved", "booking", booking.id)}
            assert decided == {("booking." + ("approved" if e.to_status is BookingStatus.APPROVED else
                                              "review_started"), e.at) for e in moves}
            assert len(moves) == (0 if booking.status is BookingStatus.SUBMITTED else 2)
        for call in session.exec(select(RecruitmentCall).where(RecruitmentCall.trial_id == trial.id)).all():
            [opened_call] = logged("recruitment_call.created", "recruitment_call", call.id)
            assert opened_call.created_at == call.created_at
            assert logged("recruitment_call.opened", "recruitment_call", call.id)
            for application in session.exec(select(RecruitmentApplication).where(
                    RecruitmentApplication.call_id == call.id)).all():
                accepted = logged("recruitment_application.accepted", "recruitment_application", application.id)
                assert [e.created_at for e in accepted] == (
                    [application.decided_at] if application.status is ApplicationStatus.ACCEPTED else [])
    assert audit.verify(session).ok


@pytest.mark.committed("counts rows on a connection of its own")
@pytest.mark.databases("sqlite", "postgresql", why="stored times, the exclusion constraint, loading twice")
def test_loading_the_demo_twice_adds_nothing(database: Database, settings: Settings) -> None:
    load_all(database, settings)
    before = row_counts(database)
    summaries = load_all(database, settings)
    assert summaries[2].startswith("0 test fields added, 4 already there; 0 trials added, 2 already there, "
                                   "with 0 bookings, 0 notices")
    assert row_counts(database) == before


def test_without_the_core_demo_nothing_comes(database: Database, settings: Settings, session: Session) -> None:
    with database.transaction() as loading:
        summary = demo.load(loading, settings)
    assert summary == ("no test fields and no trials (the fields need the core demo's field coordinator: "
                       "load it first)")
    for model in (TestField, TestFieldCoordinator, Blackout, Trial, Booking, Follow, Notification, RecruitmentCall):
        assert session.exec(select(func.count()).select_from(model)).one() == 0, model
    # Loading the core and proposals demos afterwards fills in everything, still keeping every rule.
    summaries = load_all(database, settings)
    assert summaries[2].startswith("4 test fields added, 0 already there; 2 trials added, 0 already there, "
                                   "with 7 bookings, 6 notices")
    assert session.exec(select(func.count()).select_from(TestFieldCoordinator)).one() == 4
    assert session.exec(select(func.count()).select_from(RecruitmentApplication)).one() == 5


def test_without_the_proposals_demo_the_trials_wait_for_their_proposals(database: Database, settings: Settings,
                                                                       session: Session) -> None:
    for loader in (core_demo.load, demo.load):
        with database.transaction() as loading:
            summary = loader(loading, settings)
    assert summary.endswith("(2 trials wait for their selected proposal: load the proposals demo first)")
    assert session.exec(select(func.count()).select_from(Trial)).one() == 0
    assert len(fields_by_name(session)) == 4


def test_demo_is_refused_in_production(session: Session, settings: Settings) -> None:
    production = Settings(env="production", data_dir=settings.data_dir, database_url=settings.database_url,
                          secret_key="a-production-secret-key-0123456789")
    with pytest.raises(core_demo.DemoRefused, match="production"):
        demo.load(session, production)
    assert session.exec(select(func.count()).select_from(TestField)).one() == 0


def test_the_demo_trials_have_kpi_measurements_through_the_services(database: Database, settings: Settings,
                                                                     session: Session) -> None:
    from labs import kpis
    from labs.models import KpiMeasurementStatus, TrialKpiMeasurement

    load_all(database, settings)
    trials_by_title = {t.title: t for t in session.exec(select(Trial)).all()}
    running = trials_by_title[demo.TRIAL_TITLE]
    statuses = {}
    for kpi in session.exec(select(TrialKpi).where(TrialKpi.trial_id == running.id).order_by(col(TrialKpi.position))):
        rows = session.exec(select(TrialKpiMeasurement).where(TrialKpiMeasurement.kpi_id == kpi.id)
                            .order_by(col(TrialKpiMeasurement.measured_on))).all()
        statuses[kpi.position] = [row.status for row in rows]
    assert statuses[1] == [KpiMeasurementStatus.SUBMITTED]  # one still waits for the department
    assert statuses[3] == [KpiMeasurementStatus.REJECTED]  # one was sent back
    assert statuses[2] == [KpiMeasurementStatus.CONFIRMED] * 6 and statuses[0] == [KpiMeasurementStatus.CONFIRMED]
    rejected = session.exec(select(TrialKpiMeasurement).where(
        TrialKpiMeasurement.status == KpiMeasurementStatus.REJECTED)).one()
    assert "82" in rejected.review_reason and rejected.reviewed_by_id is not None
    # The completed trial's chart climbs towards its target, every value confirmed by its department.
    garden = trials_by_title[demo.GARDEN_TRIAL_TITLE]
    first = session.exec(select(TrialKpi).where(TrialKpi.trial_id == garden.id, TrialKpi.position == 0)).one()
    chart = kpis.chart_of(first, kpis.confirmed_by_kpi(session, [first.id])[first.id])  # type: ignore[list-item, index]
    values = [float(row[1]) for row in chart.rows()]
    assert values == sorted(values) and len(values) == 5 and values[-1] >= (first.target_value or 0)
    entries = session.exec(select(audit.AuditEntry.action).where(
        audit.AuditEntry.target_type == kpis.TARGET)).all()
    assert entries.count("kpi.measurement_submitted") == 22 and entries.count("kpi.measurement_sent_back") == 1
