"""The demo challenges (``cocreate demo``) are valid, consistent content, and loading twice adds nothing.
Every row a service writes is written by that service: its audit entries, follows and notifications are
there, dated when it happened."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, func, select

from cocreate import audit, components
from cocreate import demo as core_demo
from cocreate.accounts.models import Department, OrganisationMember, Role, RoleAssignment, User
from cocreate.accounts.permissions import Principal
from cocreate.comments.models import Comment
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.notifications.models import Follow, Notification
from cocreate.settings import Settings
from proposals import demo, demo_story, phases, review
from proposals.challenges import lifecycle
from proposals.challenges import services as challenges
from proposals.challenges.services import ChallengeForm
from proposals.models import (
    BriefingRegistration,
    BriefingSession,
    Challenge,
    ChallengeDepartment,
    ConflictDeclaration,
    DecisionOutcome,
    Phase,
    PhaseChange,
    Proposal,
    ProposalOrganisation,
    ProposalStatus,
    ProposalVersion,
    Question,
    QuestionStatus,
    QuestionVisibility,
    Review,
    ReviewerAssignment,
    Vote,
)
from proposals.voices import demo as voices_demo

pytestmark = pytest.mark.databases("sqlite", why="demo content goes through the services")


def load_all(database: Database, settings: Settings) -> list[str]:
    """What ``cocreate demo`` does: each component's loader in a transaction of its own."""
    summaries = []
    for loader in (core_demo.load, demo.load):
        with database.transaction() as session:
            summaries.append(loader(session, settings))
    return summaries


def row_counts(database: Database) -> dict[str, int]:
    components.load()
    with database.engine.connect() as conn:
        return {table.name: conn.execute(sa.select(func.count()).select_from(table)).scalar_one()
                for table in SQLModel.metadata.sorted_tables}


def test_demo_challenges_are_complete_and_consistent(database: Database, settings: Settings, session: Session) -> None:
    summaries = load_all(database, settings)
    assert summaries[1].startswith(f"{len(demo.CHALLENGES)} challenges added, 0 already there;")
    everything = session.exec(select(Challenge).order_by(Challenge.id)).all()
    # The demo voices turned one voice into a draft challenge of its own (proposals.voices.demo).
    rows = [c for c in everything if c.title != voices_demo.DARK_PATH_CHALLENGE]
    assert [c.phase for c in everything if c not in rows] == [Phase.DRAFT]
    assert [c.title for c in rows] == [d.title for d in demo.CHALLENGES]
    assert 6 <= len(rows) <= 8
    assert all(c.title.endswith("を実現したい") for c in rows)
    # Without the labs demo the decided challenges wait for their trials (labs moves them on).
    assert {c.phase for c in rows} == {Phase.PUBLISHED, Phase.ACCEPTING, Phase.VOTING, Phase.REVIEW,
                                       Phase.DECIDED, Phase.CLOSED}
    now = utcnow()
    for challenge in rows:
        # What staff must fill in before publishing, the demo has: it passes the same validation.
        errors = challenges.validate(session, ChallengeForm.from_challenge(session, challenge), complete=True)
        assert errors == {}, (challenge.title, errors)
        assert challenge.budget_cap_yen and challenge.contact_email and challenge.current_situation
        assert challenges.kpis_of(session, challenge.id)  # type: ignore[arg-type]
        assert challenge.published_at is not None and challenge.published_at < now
        # The schedule agrees with the phase: the next change is ahead, and nothing is overdue.
        schedule = lifecycle.schedule_of(session, challenge.id)  # type: ignore[arg-type]
        if challenge.phase in phases.TERMINAL:
            assert challenge.next_transition_at is None and challenge.closed_reason
        else:  # a decided challenge may have nothing planned: its trial's start moves it on
            assert challenge.next_transition_at is None or challenge.next_transition_at > now
            assert challenge.next_transition_at is not None or challenge.phase is Phase.DECIDED
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
    assert all(n >= 1 for _cid, n in co_owned) and len(co_owned) == len(everything)


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


def test_the_demo_went_through_the_services(database: Database, settings: Settings, session: Session) -> None:
    """Each challenge drafted, published and given its voting rules by its department's member, moved by its
    schedule with its followers told, each question asked (the asker then follows) and answered (the asker
    told), each briefing session added, edited and cancelled by the department: every one with its service's
    audit entry, follow or notification at the moment of its row; the audit log's chain holds."""
    load_all(database, settings)
    entries = session.exec(select(audit.AuditEntry)).all()
    staff_ids = {u.email: u.id for u in session.exec(select(User).where(
        col(User.email).in_(list(demo.STAFF_OF.values())))).all()}

    def logged(action: str, target_type: str, target_id: int | None) -> list[audit.AuditEntry]:
        return [e for e in entries if (e.action, e.target_type, e.target_id) == (action, target_type, str(target_id))]

    def follows(user_id: int | None, challenge_id: int | None) -> Follow | None:
        return session.exec(select(Follow).where(Follow.user_id == user_id, Follow.target_type == "challenge",
                                                 Follow.target_id == challenge_id)).first()

    for item in demo.CHALLENGES:
        challenge = session.exec(select(Challenge).where(Challenge.title == item.title)).one()
        staff_id = staff_ids[demo.STAFF_OF[item.department]]
        [created] = logged("challenge.created", "challenge", challenge.id)
        assert created.actor_id == challenge.created_by_id == staff_id and created.created_at == challenge.created_at
        assert challenge.created_at == challenge.published_at - demo.DRAFTED_BEFORE  # type: ignore[operator]
        follow = follows(staff_id, challenge.id)
        assert follow is not None and follow.created_at == challenge.created_at  # its author follows it
        [published] = logged("challenge.published", "challenge", challenge.id)
        history = session.exec(select(PhaseChange).where(PhaseChange.challenge_id == challenge.id)
                               .order_by(PhaseChange.changed_at)).all()
        assert (history[0].changed_at, history[0].changed_by_id) == (published.created_at, staff_id)
        assert published.created_at == challenge.published_at
        voting_rules = logged("challenge.voting_updated", "challenge", challenge.id)
        assert [json.loads(e.details_json)["after"]["vote_limit"] for e in voting_rules] == (
            [item.vote_limit] if item.vote_limit != 3 else [])
        for change in history:
            if change.changed_by_id is None:  # moved by its schedule: its followers were told then
                told = session.exec(select(Notification).where(
                    Notification.event_key == f"challenge.phase_changed:{change.id}")).all()
                assert told and all(n.created_at == change.changed_at for n in told)

        for question in session.exec(select(Question).where(Question.challenge_id == challenge.id)).all():
            follow = follows(question.asker_id, challenge.id)
            assert follow is not None and follow.created_at <= question.created_at
            answered = logged("question.answered", "question", question.id)
            assert [e.created_at for e in answered] == ([question.answered_at] if question.answered_at else [])
            if question.answered_at is not None:
                assert answered[0].actor_id == question.answered_by_id == staff_id
                told = session.exec(select(Notification).where(
                    Notification.event_key == f"question.answered:{question.id}",
                    Notification.user_id == question.asker_id)).one()
                assert told.created_at == question.answered_at

        for briefing in session.exec(select(BriefingSession).where(BriefingSession.challenge_id == challenge.id)).all():
            [added] = logged("briefing.created", "briefing_session", briefing.id)
            assert added.actor_id == staff_id and added.created_at == briefing.created_at == challenge.published_at
            cancelled = logged("briefing.cancelled", "briefing_session", briefing.id)
            assert [e.created_at for e in cancelled] == ([briefing.cancelled_at] if briefing.cancelled_at else [])
            if briefing.cancelled_at is not None:  # its notes say why: edited just before
                [edited] = logged("briefing.updated", "briefing_session", briefing.id)
                assert edited.created_at == briefing.cancelled_at and "中止" in briefing.notes
            for registration in session.exec(select(BriefingRegistration).where(
                    BriefingRegistration.session_id == briefing.id)).all():
                assert briefing.created_at < registration.created_at < briefing.starts_at
    assert audit.verify(session).ok


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
    assert summary.startswith(f"0 challenges added, 0 already there, {len(demo.CHALLENGES)} skipped")
    assert session.exec(select(func.count()).select_from(Challenge)).one() == 0


def test_without_demo_accounts_nothing_is_added(database: Database, settings: Settings, session: Session) -> None:
    with database.transaction() as loading:  # the ward's departments, but none of the demo accounts
        for code, division_ja, section_ja, division_en, section_en in core_demo.DEPARTMENTS:
            loading.add(Department(code=code, division_ja=division_ja, section_ja=section_ja,
                                   division_en=division_en, section_en=section_en))
    with database.transaction() as loading:
        summary = demo.load(loading, settings)
    # The departments' members write the challenges; a challenge is left out rather than written by nobody.
    assert summary.startswith(f"0 challenges added, 0 already there, {len(demo.CHALLENGES)} left out (they need "
                              "the core demo's people: load it first)")
    for model in (Challenge, Question, BriefingSession, Proposal):
        assert session.exec(select(func.count()).select_from(model)).one() == 0, model


# --- the stories: proposals, comments, votes, review and decisions through the services ---------------


def challenge_titled(session: Session, title: str) -> Challenge:
    return session.exec(select(Challenge).where(Challenge.title == title)).one()


def moved_to(session: Session, challenge: Challenge, phase: Phase) -> PhaseChange:
    return session.exec(select(PhaseChange).where(PhaseChange.challenge_id == challenge.id,
                                                  PhaseChange.to_phase == phase)).one()


def test_the_voting_challenge_has_proposals_of_many_organisations_comments_and_votes(
        database: Database, settings: Settings, session: Session) -> None:
    load_all(database, settings)
    challenge = challenge_titled(session, demo_story.BUS_STOPS)
    assert challenge.phase is Phase.VOTING and challenge.vote_limit == 5
    proposals = session.exec(select(Proposal).where(Proposal.challenge_id == challenge.id)).all()
    assert 8 <= len(proposals) <= 12 and challenge.proposal_count == len(proposals)
    accepting, voting = moved_to(session, challenge, Phase.ACCEPTING), moved_to(session, challenge, Phase.VOTING)
    assert voting.changed_by_id is None  # moved by its schedule (the beat job's service)
    for proposal in proposals:
        # Written as a draft, submitted while the challenge accepted proposals: the first version kept.
        assert proposal.status is ProposalStatus.SUBMITTED and proposal.submitted_at is not None
        assert accepting.changed_at < proposal.created_at < proposal.submitted_at < voting.changed_at
        version = session.exec(select(ProposalVersion).where(ProposalVersion.proposal_id == proposal.id)).one()
        assert version.number == 1 == proposal.version and version.submitted_at == proposal.submitted_at
        assert proposal.summary and len(proposal.summary) <= 500 and proposal.description.startswith("## ")
        assert proposal.decision is None
    assert len({p.lead_organisation_id for p in proposals}) >= 6

    # One consortium: a lead and co-authors who each confirmed before it was submitted.
    authors = session.exec(select(ProposalOrganisation).where(
        col(ProposalOrganisation.proposal_id).in_([p.id for p in proposals]))).all()
    by_proposal = Counter(row.proposal_id for row in authors)
    consortium = [p for p in proposals if by_proposal[p.id] >= 3]
    assert len(consortium) == 1
    for row in authors:
        assert row.confirmed_at is not None
        if row.proposal_id == consortium[0].id:
            assert row.confirmed_at < consortium[0].submitted_at  # type: ignore[operator]

    # Votes: several residents, within the voting phase, each within the limit; the counts are exact.
    votes = session.exec(select(Vote).where(Vote.challenge_id == challenge.id)).all()
    voters = Counter(v.user_id for v in votes)
    assert len(voters) == 6 and max(voters.values()) <= challenge.vote_limit
    assert all(voting.changed_at <= v.created_at < utcnow() for v in votes)
    for proposal in proposals:
        assert proposal.vote_count == sum(1 for v in votes if v.proposal_id == proposal.id) > 0
    organisation_members = set(session.exec(select(OrganisationMember.user_id)).all())
    with_roles = set(session.exec(select(RoleAssignment.user_id)).all())
    assert not set(voters) & (organisation_members | with_roles)  # residents only

    # Comments: threads with replies, the department's official answers and the proposers' replies.
    comments = session.exec(select(Comment).where(
        ((Comment.target_type == "proposal") & col(Comment.target_id).in_([p.id for p in proposals]))
        | ((Comment.target_type == "challenge") & (Comment.target_id == challenge.id)))).all()
    assert len(comments) >= 12
    replies = [c for c in comments if c.parent_id is not None]
    assert len(replies) >= 6 and all(c.depth == 1 for c in replies)
    transport_staff = session.exec(select(User).where(User.email == demo_story.STAFF_TRANSPORT)).one()
    official = [c for c in comments if c.official == "staff"]
    assert official and {c.author_id for c in official} == {transport_staff.id}
    assert any(c.parent_id is None for c in official) and any(c.parent_id is not None for c in official)
    assert any(c.official == "proposer" for c in replies)
    for proposal in proposals:
        assert proposal.comment_count == sum(1 for c in comments if c.target_type == "proposal"
                                             and c.target_id == proposal.id)
    for thread in (c for c in comments if c.parent_id is None):
        assert thread.reply_count == sum(1 for c in replies if c.parent_id == thread.id)
        assert all(reply.created_at > thread.created_at for reply in replies if reply.parent_id == thread.id)

    # What the services' follow-up work left: the followers told of submissions, the phase change and replies.
    kinds = Counter(session.exec(select(Notification.kind)).all())
    assert kinds["comment.replied"] >= len(replies) // 2
    assert kinds["proposal.submitted"] > 0 and kinds["challenge.phase_changed"] > 0


def test_the_challenge_in_review_has_reviewers_scores_a_conflict_and_a_draft(
        database: Database, settings: Settings, session: Session) -> None:
    load_all(database, settings)
    challenge = challenge_titled(session, demo_story.ENERGY_CHALLENGE)
    assert challenge.phase is Phase.REVIEW and challenge.decisions_published_at is None
    review_started = moved_to(session, challenge, Phase.REVIEW).changed_at
    assigned = session.exec(select(ReviewerAssignment).where(ReviewerAssignment.challenge_id == challenge.id)).all()
    assert len(assigned) == 2 and all(a.created_at >= review_started for a in assigned)
    proposal_ids = session.exec(select(Proposal.id).where(Proposal.challenge_id == challenge.id)).all()
    reviews = session.exec(select(Review).where(col(Review.proposal_id).in_(proposal_ids))).all()
    submitted = [r for r in reviews if r.submitted_at is not None]
    assert len(submitted) == 6 and len(reviews) == 7  # one still a draft
    conflicts = session.exec(select(ConflictDeclaration).where(
        col(ConflictDeclaration.proposal_id).in_(proposal_ids), col(ConflictDeclaration.has_conflict).is_(True))).all()
    assert len(conflicts) == 1 and conflicts[0].note

    # What the owning department's staff see (the service behind /staff/challenges/{id}/review).
    staff = session.exec(select(User).where(User.email == demo_story.STAFF_ENV)).one()
    results = review.results(session, Principal.load(session, staff), challenge.id)  # type: ignore[arg-type]
    assert results.reviewers == 2 and len(results.rows) == 4
    assert all(row.total is not None and 0 < row.total <= 100 for row in results.rows)
    assert [row.reviews for row in results.rows if row.conflicts] == [1]
    assert sum(row.proposal.vote_count for row in results.rows) > 0


@pytest.mark.parametrize("title", [demo_story.MOBILITY, demo_story.GARDEN])
def test_the_decided_challenges_published_every_decision_with_its_rationale(
        database: Database, settings: Settings, session: Session, title: str) -> None:
    load_all(database, settings)
    challenge = challenge_titled(session, title)
    assert challenge.phase is Phase.DECIDED and challenge.decisions_published_at is not None
    decided = moved_to(session, challenge, Phase.DECIDED)
    assert decided.changed_at == challenge.decisions_published_at and decided.changed_by_id is not None
    proposals = session.exec(select(Proposal).where(Proposal.challenge_id == challenge.id)).all()
    assert len(proposals) == 3
    assert Counter(p.decision for p in proposals) == {DecisionOutcome.SELECTED: 1, DecisionOutcome.NOT_SELECTED: 2}
    for proposal in proposals:
        assert len(proposal.decision_rationale) > 40 and proposal.decided_at is not None
        assert proposal.decided_at < challenge.decisions_published_at
    reviews = session.exec(select(Review).where(col(Review.proposal_id).in_([p.id for p in proposals]))).all()
    assert reviews and all(r.submitted_at is not None and r.submitted_at < decided.changed_at for r in reviews)
    told = session.exec(select(Notification).where(Notification.kind == "decision.published",
                                                   col(Notification.target_id).in_([p.id for p in proposals]))).all()
    assert told and all(n.created_at == challenge.decisions_published_at for n in told)


def test_the_closed_challenge_reviewed_its_proposals_before_closing(database: Database, settings: Settings,
                                                                    session: Session) -> None:
    load_all(database, settings)
    challenge = challenge_titled(session, demo_story.AR_WALK)
    closed = moved_to(session, challenge, Phase.CLOSED)
    assert challenge.phase is Phase.CLOSED and closed.from_phase is Phase.REVIEW
    assert closed.changed_by_id is not None and closed.reason == challenge.closed_reason
    assert challenge.closed_reason.startswith("2件のご提案をいただき審査しましたが")
    proposals = session.exec(select(Proposal).where(Proposal.challenge_id == challenge.id)).all()
    assert len(proposals) == 2 and all(p.decision is None and p.vote_count > 0 for p in proposals)
    reviews = session.exec(select(Review).where(col(Review.proposal_id).in_([p.id for p in proposals]))).all()
    assert len(reviews) == 2 and all(r.submitted_at is not None and r.submitted_at < closed.changed_at
                                     for r in reviews)
    assert Phase.DECIDED not in lifecycle.schedule_of(session, challenge.id)  # type: ignore[arg-type]
