"""The demo challenges (``cocreate demo``) are valid, consistent content, and loading twice adds nothing."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, func, select

from cocreate import components
from cocreate import demo as core_demo
from cocreate.accounts.models import Department, Role, RoleAssignment
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.settings import Settings
from proposals import challenges, demo, lifecycle, phases
from proposals.challenges import ChallengeInput
from proposals.models import (
    BriefingRegistration,
    BriefingSession,
    Challenge,
    ChallengeDepartment,
    Phase,
    PhaseChange,
    Question,
    QuestionStatus,
    QuestionVisibility,
)

pytestmark = pytest.mark.databases("sqlite", why="demo content goes through the services")


def load_all(database: Database, settings: Settings) -> list[str]:
    """What ``cocreate demo`` does: each component's loader in a transaction of its own."""
    summaries = []
    for loader in (core_demo.load, demo.load):
        with database.transaction() as session:
            summaries.append(loader(session, settings))
    return summaries


def row_counts(database: Database) -> dict[str, int]:
    components.load_models()
    with database.engine.connect() as conn:
        return {table.name: conn.execute(sa.select(func.count()).select_from(table)).scalar_one()
                for table in SQLModel.metadata.sorted_tables}


def test_demo_challenges_are_complete_and_consistent(database: Database, settings: Settings, session: Session) -> None:
    summaries = load_all(database, settings)
    assert summaries[1].startswith(f"{len(demo.CHALLENGES)} challenges added, 0 already there;")
    rows = session.exec(select(Challenge).order_by(Challenge.id)).all()
    assert [c.title for c in rows] == [d.title for d in demo.CHALLENGES]
    assert 6 <= len(rows) <= 8
    assert all(c.title.endswith("を実現したい") for c in rows)
    assert {c.phase for c in rows} >= {Phase.PUBLISHED, Phase.ACCEPTING, Phase.VOTING, Phase.REVIEW,
                                       Phase.TRIAL, Phase.CLOSED}
    now = utcnow()
    for challenge in rows:
        # What staff must fill in before publishing, the demo has: it passes the same validation.
        errors = challenges.validate(session, ChallengeInput.from_challenge(session, challenge), complete=True)
        assert errors == {}, (challenge.title, errors)
        assert challenge.budget_cap_yen and challenge.contact_email and challenge.current_situation
        assert challenges.kpis_of(session, challenge.id)  # type: ignore[arg-type]
        assert challenge.published_at is not None and challenge.published_at < now
        # The schedule agrees with the phase: the next change is ahead, and nothing is overdue.
        schedule = lifecycle.schedule_of(session, challenge.id)  # type: ignore[arg-type]
        if challenge.phase in phases.TERMINAL:
            assert challenge.next_transition_at is None and challenge.closed_reason
        else:
            assert challenge.next_transition_at is not None and challenge.next_transition_at > now
            started = [p for p, when in schedule.items() if when <= now]
            assert max(started, key=phases.index, default=Phase.PUBLISHED) == challenge.phase
        history = session.exec(select(PhaseChange).where(PhaseChange.challenge_id == challenge.id)
                               .order_by(PhaseChange.changed_at)).all()
        assert history[0].from_phase is Phase.DRAFT and history[-1].to_phase == challenge.phase
        assert all(change.changed_at <= now for change in history)
    assert lifecycle.advance_due(session, now=now) == []  # the beat job finds nothing to move

    co_owned = session.exec(select(ChallengeDepartment.challenge_id, func.count())
                            .group_by(ChallengeDepartment.challenge_id)).all()
    assert any(n >= 2 for _cid, n in co_owned)
    assert all(n >= 1 for _cid, n in co_owned) and len(co_owned) == len(rows)


def test_demo_dialogue_and_briefings(database: Database, settings: Settings, session: Session) -> None:
    load_all(database, settings)
    now = utcnow()
    questions = session.exec(select(Question)).all()
    kinds = Counter((q.visibility, q.status) for q in questions)
    assert kinds[(QuestionVisibility.PUBLIC, QuestionStatus.ANSWERED)] >= 3
    assert kinds[(QuestionVisibility.PRIVATE, QuestionStatus.ANSWERED)] >= 2
    staff_ids = set(session.exec(select(RoleAssignment.user_id).where(RoleAssignment.role == Role.STAFF)).all())
    for question in questions:
        assert question.asker_id is not None and question.created_at <= now
        if question.status is QuestionStatus.ANSWERED:
            assert question.answer and question.answered_at and question.answered_at <= now
            assert question.answer_department_id is not None
            assert question.answered_at >= question.created_at
            if question.answered_by_id is not None:
                assert question.answered_by_id in staff_ids
    assert any(q.answered_by_id is not None for q in questions)  # the core demo has staff to answer
    for challenge in session.exec(select(Challenge)).all():
        shown = [q for q in questions if q.challenge_id == challenge.id
                 and (q.visibility is QuestionVisibility.PUBLIC or q.status is QuestionStatus.ANSWERED)]
        assert challenge.question_count == len(shown)

    sessions = session.exec(select(BriefingSession)).all()
    assert any(b.starts_at < now for b in sessions) and any(b.starts_at > now and b.cancelled_at is None
                                                            for b in sessions)
    assert any(b.online_url.startswith("https://") and not b.place for b in sessions)
    assert any(b.cancelled_at is not None for b in sessions)
    for briefing in sessions:
        active = session.exec(select(func.count()).select_from(BriefingRegistration).where(
            BriefingRegistration.session_id == briefing.id, col(BriefingRegistration.cancelled_at).is_(None))).one()
        assert briefing.registered_count == active <= briefing.capacity
        assert briefing.starts_at < briefing.ends_at and (briefing.place or briefing.online_url)
    # Upcoming sessions belong to challenges that take registrations now; past ones may be anywhere.
    by_id = {c.id: c for c in session.exec(select(Challenge)).all()}
    for briefing in sessions:
        if briefing.starts_at > now and briefing.cancelled_at is None:
            assert phases.allows(by_id[briefing.challenge_id].phase, phases.Action.REGISTER_BRIEFING)
    assert session.exec(select(func.count()).select_from(BriefingRegistration)).one() > 0


@pytest.mark.committed("counts rows on a connection of its own")
def test_loading_the_demo_twice_adds_nothing(database: Database, settings: Settings) -> None:
    load_all(database, settings)
    before = row_counts(database)
    summaries = load_all(database, settings)
    assert summaries[1].startswith(f"0 challenges added, {len(demo.CHALLENGES)} already there;")
    assert row_counts(database) == before


def test_without_the_core_demo_nothing_is_added(database: Database, settings: Settings, session: Session) -> None:
    with database.transaction() as loading:
        summary = demo.load(loading, settings)
    assert summary.startswith("0 challenges added, 0 already there, 6 skipped")
    assert session.exec(select(func.count()).select_from(Challenge)).one() == 0


def test_without_demo_accounts_challenges_come_without_dialogue(database: Database, settings: Settings,
                                                                session: Session) -> None:
    with database.transaction() as loading:  # the ward's departments, but none of the demo accounts
        for code, division_ja, section_ja, division_en, section_en in core_demo.DEPARTMENTS:
            loading.add(Department(code=code, division_ja=division_ja, section_ja=section_ja,
                                   division_en=division_en, section_en=section_en))
    with database.transaction() as loading:
        demo.load(loading, settings)
    assert session.exec(select(func.count()).select_from(Challenge)).one() == len(demo.CHALLENGES)
    assert session.exec(select(func.count()).select_from(Question)).one() == 0
    assert session.exec(select(func.count()).select_from(BriefingRegistration)).one() == 0
    assert all(c.created_by_id is None for c in session.exec(select(Challenge)).all())
