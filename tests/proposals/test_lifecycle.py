"""Phases: the rules table, scheduled moves with a controllable clock, and staff moves with a reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from cocreate.accounts.models import Role
from cocreate.accounts.permissions import Forbidden, Principal
from cocreate.audit import verify
from cocreate.audit.models import AuditEntry
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.settings import Settings
from cocreate.tasks import configure_celery, enqueue
from proposals import phases
from proposals.challenges import lifecycle
from proposals.models import Challenge, Phase, PhaseChange
from proposals.phases import Action
from tests.factories import create_challenge, create_department, create_user
from tests.servers import Worker, wait_until

pytestmark = pytest.mark.databases("sqlite", why="phase rules are Python")

EXPECTED = {
    # action: the phases that allow it; every other phase refuses it with a reason.
    Action.ASK: {Phase.PUBLISHED, Phase.ACCEPTING},
    Action.PROPOSE: {Phase.ACCEPTING},
    Action.VOTE: {Phase.VOTING},
    Action.REGISTER_BRIEFING: {Phase.PUBLISHED, Phase.ACCEPTING},
    Action.COMMENT: {Phase.PUBLISHED, Phase.ACCEPTING, Phase.VOTING, Phase.REVIEW, Phase.DECIDED,
                     Phase.TRIAL, Phase.COMPLETED},
    Action.REVIEW: {Phase.REVIEW},
    Action.DECIDE: {Phase.REVIEW},
    Action.ANSWER: {Phase.PUBLISHED, Phase.ACCEPTING, Phase.VOTING, Phase.REVIEW, Phase.DECIDED, Phase.TRIAL},
}


@pytest.mark.parametrize("action", list(Action))
def test_each_action_is_allowed_exactly_in_its_phases(action: Action) -> None:
    for phase in Phase:
        decision = phases.check(phase, action)
        assert decision.allowed == (phase in EXPECTED[action]), (action, phase)
        if not decision.allowed:
            assert decision.reason  # a translated reason, never a bare refusal


def test_schedule_must_follow_the_phase_order(session: Session) -> None:
    department = create_department(session)
    challenge = create_challenge(session, department)
    now = utcnow()
    with pytest.raises(Invalid) as failed:
        lifecycle.set_schedule(session, challenge, {Phase.ACCEPTING: now + timedelta(days=10),
                                                    Phase.VOTING: now + timedelta(days=5)})
    assert set(failed.value.errors) == {"phase_voting"}


def test_the_beat_job_moves_challenges_when_their_dates_pass(session: Session) -> None:
    department = create_department(session)
    challenge = create_challenge(session, department, phase="published")
    draft = create_challenge(session, department, phase="draft", title="下書き")
    start = utcnow()
    dates = {Phase.ACCEPTING: start + timedelta(days=1), Phase.VOTING: start + timedelta(days=30),
             Phase.REVIEW: start + timedelta(days=45)}
    lifecycle.set_schedule(session, challenge, dates, now=start)
    lifecycle.set_schedule(session, draft, dates, now=start)
    session.commit()
    assert challenge.next_transition_at == dates[Phase.ACCEPTING]
    assert challenge.proposals_close_at == dates[Phase.VOTING]

    # Before the date: nothing moves.
    assert lifecycle.advance_due(session, now=start + timedelta(hours=23)) == []
    # On the date: published -> accepting; the draft is never moved by the schedule.
    moved = lifecycle.advance_due(session, now=start + timedelta(days=1))
    assert [(m.challenge_id, m.to_phase) for m in moved] == [(challenge.id, Phase.ACCEPTING)]
    # Running the job again at the same time changes nothing.
    assert lifecycle.advance_due(session, now=start + timedelta(days=1)) == []
    # The job was down for a while: it jumps straight to the latest phase whose date has passed.
    moved = lifecycle.advance_due(session, now=start + timedelta(days=50))
    assert [m.to_phase for m in moved] == [Phase.REVIEW]
    session.expire_all()
    fresh = session.get(Challenge, challenge.id)
    assert fresh is not None and fresh.phase is Phase.REVIEW and fresh.next_transition_at is None
    assert session.get(Challenge, draft.id).phase is Phase.DRAFT  # type: ignore[union-attr]
    changes = session.exec(select(PhaseChange).where(PhaseChange.challenge_id == challenge.id)
                           .order_by(PhaseChange.id)).all()
    assert [(c.from_phase, c.to_phase, c.changed_by_id) for c in changes] == [
        (Phase.PUBLISHED, Phase.ACCEPTING, None), (Phase.ACCEPTING, Phase.REVIEW, None)]


def test_staff_of_an_owning_department_move_by_hand_with_a_reason(session: Session) -> None:
    owner = create_department(session)
    co_owner = create_department(session, "roads", division_ja="土木部", section_ja="計画課",
                                 division_en="Civil Engineering", section_en="Planning")
    other = create_department(session, "culture", division_ja="区民文化部", section_ja="文化・国際交流課",
                              division_en="Culture", section_en="Culture")
    challenge = create_challenge(session, owner, phase="accepting", co_owners=[co_owner])
    co_staff = create_user(session, "co@example.jp", display_name="土木 花子", roles=[(Role.STAFF, co_owner.id)])
    outsider = create_user(session, "other@example.jp", roles=[(Role.STAFF, other.id)])
    admin = create_user(session, "admin@example.jp", roles=[Role.ADMIN])

    for user in (outsider, admin):
        with pytest.raises(Forbidden):
            lifecycle.move(session, Principal.load(session, user), challenge.id, Phase.VOTING, "締切を早めます")
    with pytest.raises(Invalid) as failed:
        lifecycle.move(session, Principal.load(session, co_staff), challenge.id, Phase.VOTING, "  ")
    assert set(failed.value.errors) == {"reason"}
    with pytest.raises(Invalid) as failed:
        lifecycle.move(session, Principal.load(session, co_staff), challenge.id, Phase.DRAFT, "戻す")
    assert "phase" in failed.value.errors
    session.expire_all()
    assert session.get(Challenge, challenge.id).phase is Phase.ACCEPTING  # type: ignore[union-attr]

    lifecycle.move(session, Principal.load(session, co_staff), challenge.id, Phase.CLOSED, "応募がなかったため")
    session.expire_all()
    closed = session.get(Challenge, challenge.id)
    assert closed is not None and closed.phase is Phase.CLOSED and closed.closed_reason == "応募がなかったため"
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "challenge.phase_changed")).one()
    assert entry.actor_id == co_staff.id and '"to":"closed"' in entry.details_json
    assert verify(session).ok


def test_the_scheduled_task_runs_in_a_real_worker(
    session: Session, smtp_worker_settings: tuple[Settings, Worker]
) -> None:
    worker_settings, worker = smtp_worker_settings
    configure_celery(worker_settings)
    department = create_department(session)
    challenge = create_challenge(session, department)
    lifecycle.set_schedule(session, challenge, {Phase.ACCEPTING: utcnow() - timedelta(minutes=1)})
    session.commit()
    with Session(session.get_bind()) as sending:
        enqueue(sending, "proposals.advance_phases")
        sending.commit()

    def moved() -> bool:
        session.expire_all()
        return session.get(Challenge, challenge.id).phase is Phase.ACCEPTING  # type: ignore[union-attr]

    try:
        wait_until(moved, 30, "the challenge to move to accepting")
    except AssertionError:
        raise AssertionError(worker.log()[-4000:]) from None


def test_beat_runs_the_phase_job_every_minute(settings: Settings) -> None:
    app = configure_celery(settings)
    entry = app.conf.beat_schedule["advance-challenge-phases"]
    assert entry["task"] == "proposals.advance_phases" and entry["schedule"] == 60.0
    assert "proposals.advance_phases" in app.tasks
