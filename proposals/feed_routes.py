"""Atom feeds of the proposals component: published challenges, a challenge's public proposals and its
answered questions. Everything in them is what anyone can read on the site (drafts, hidden and
withdrawn proposals, the confidential part, hidden or merged questions and private askers never).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from litestar import Litestar, Request, Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from cocreate.accounts.models import Department, Organisation
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.feeds import FEED_LIMIT, Entry, Feed, atom_response, plain
from cocreate.web.links import route_path
from cocreate.web.markdown import markdown_to_text
from proposals.challenges.queries import PUBLIC_PHASES
from proposals.models import (
    Challenge,
    ChallengeRevision,
    Phase,
    Proposal,
    ProposalStatus,
    ProposalVersion,
    Question,
    QuestionStatus,
)

QUESTION_TITLE_MAX = 80


def _latest(*values: Any) -> Any:
    return max(v for v in values if v is not None)


# --- reading (a fixed number of queries whatever the number of entries) --------------------------


def latest_challenges(session: Session, limit: int = FEED_LIMIT) -> list[tuple[Challenge, Any]]:
    """The newest published challenges with the time of their last published edit, in two queries."""
    edited = (select(sa.func.max(ChallengeRevision.changed_at))
              .where(ChallengeRevision.challenge_id == Challenge.id).scalar_subquery())
    statement = (select(Challenge, edited).where(col(Challenge.phase).in_(PUBLIC_PHASES))
                 .options(selectinload(Challenge.department))  # type: ignore[arg-type]
                 .order_by(col(Challenge.published_at).desc(), col(Challenge.id).desc()).limit(limit))
    return list(session.exec(statement).all())  # type: ignore[arg-type]


def public_challenge(session: Session, challenge_id: int) -> Challenge:
    """A challenge anyone may read; drafts and unknown ids are 404 (feed readers are anonymous)."""
    challenge = session.get(Challenge, challenge_id)
    if challenge is None or challenge.phase is Phase.DRAFT:
        raise NotFoundException()
    return challenge


def latest_proposals(session: Session, challenge_id: int, limit: int = FEED_LIMIT) -> list[tuple[Any, ...]]:
    """Submitted, visible proposals, newest first, with their lead organisation and last version time."""
    revised = (select(sa.func.max(ProposalVersion.submitted_at))
               .where(ProposalVersion.proposal_id == Proposal.id).scalar_subquery())
    statement = (select(Proposal, Organisation, revised)
                 .join(Organisation, col(Organisation.id) == Proposal.lead_organisation_id)
                 .where(Proposal.challenge_id == challenge_id, Proposal.status == ProposalStatus.SUBMITTED,
                        col(Proposal.hidden_at).is_(None), col(Proposal.submitted_at).is_not(None))
                 .order_by(col(Proposal.submitted_at).desc(), col(Proposal.id).desc()).limit(limit))
    return list(session.exec(statement).all())  # type: ignore[arg-type]


def latest_answers(session: Session, challenge_id: int, limit: int = FEED_LIMIT) -> list[tuple[Any, ...]]:
    """Answered questions (public ones, and private ones without their asker), newest answer first."""
    statement = (select(Question, Department)
                 .outerjoin(Department, col(Department.id) == Question.answer_department_id)
                 .where(Question.challenge_id == challenge_id, Question.status == QuestionStatus.ANSWERED,
                        col(Question.answered_at).is_not(None))
                 .order_by(col(Question.answered_at).desc(), col(Question.id).desc()).limit(limit))
    return list(session.exec(statement).all())  # type: ignore[arg-type]


# --- feeds ---------------------------------------------------------------------------------------


def challenges_feed(app: Litestar, session: Session) -> Feed:
    challenge_page = route_path(app, "challenge-detail")
    entries = []
    for challenge, edited in latest_challenges(session):
        entries.append(Entry(
            key=f"challenge/{challenge.id}", title=challenge.title, path=challenge_page(challenge_id=challenge.id),
            published=challenge.published_at,
            updated=_latest(challenge.published_at, challenge.phase_changed_at, edited, challenge.created_at),
            summary=challenge.summary, author=challenge.department.display_name(),
            categories=[(challenge.category.value, challenge.category.label),
                        (f"phase-{challenge.phase.value}", challenge.phase.label)]))
    return Feed(key="challenges", title=_("Challenges — cocreate Itabashi"),
                subtitle=_("New challenges posted by the ward's departments."),
                path=app.route_reverse("challenge-list"), self_path=app.route_reverse("challenges-feed"),
                entries=entries)


def proposals_feed(app: Litestar, session: Session, challenge: Challenge) -> Feed:
    proposal_page = route_path(app, "proposal-detail")
    entries = []
    for proposal, organisation, revised in latest_proposals(session, challenge.id):  # type: ignore[arg-type]
        entries.append(Entry(
            key=f"proposal/{proposal.id}", title=proposal.title, path=proposal_page(proposal_id=proposal.id),
            published=proposal.submitted_at, updated=_latest(proposal.submitted_at, revised),
            summary=proposal.summary, author=organisation.name))
    return Feed(key=f"challenge/{challenge.id}/proposals",
                title=_("Proposals: %(title)s", title=plain(challenge.title)),
                subtitle=_("Proposals submitted for this challenge."),
                path=app.route_reverse("proposal-list", challenge_id=challenge.id),
                self_path=app.route_reverse("challenge-proposals-feed", challenge_id=challenge.id),
                entries=entries, updated=challenge.published_at)


def answers_feed(app: Litestar, session: Session, challenge: Challenge) -> Feed:
    question_page = route_path(app, "question")
    entries = []
    for question, department in latest_answers(session, challenge.id):  # type: ignore[arg-type]
        entries.append(Entry(
            key=f"question/{question.id}",
            title=_("Q: %(question)s", question=markdown_to_text(question.body, QUESTION_TITLE_MAX)),
            path=question_page(challenge_id=challenge.id, question_id=question.id),
            published=question.answered_at, updated=question.answered_at,
            summary=markdown_to_text(question.answer),
            author=department.display_name() if department is not None else ""))
    return Feed(key=f"challenge/{challenge.id}/answers",
                title=_("Answers: %(title)s", title=plain(challenge.title)),
                subtitle=_("Questions about this challenge answered by the ward."),
                path=app.route_reverse("challenge-detail", challenge_id=challenge.id) + "#questions",
                self_path=app.route_reverse("challenge-answers-feed", challenge_id=challenge.id),
                entries=entries, updated=challenge.published_at)


# --- routes --------------------------------------------------------------------------------------


@get("/challenges.atom", name="challenges-feed", sync_to_thread=True)
def challenges_atom(request: Request, db_session: DbSession, settings: AppSettings) -> Response[bytes]:
    """The latest published challenges."""
    return atom_response(settings, challenges_feed(request.app, db_session))


def _challenge_feed(request: Request, session: Session, settings: Settings, challenge_id: int,
                    build: Any) -> Response[bytes]:
    return atom_response(settings, build(request.app, session, public_challenge(session, challenge_id)))


@get("/challenges/{challenge_id:int}/proposals.atom", name="challenge-proposals-feed", sync_to_thread=True)
def proposals_atom(request: Request, db_session: DbSession, settings: AppSettings,
                   challenge_id: FromPath[int]) -> Response[bytes]:
    """The latest proposals submitted for a published challenge (their public part only)."""
    return _challenge_feed(request, db_session, settings, challenge_id, proposals_feed)


@get("/challenges/{challenge_id:int}/answers.atom", name="challenge-answers-feed", sync_to_thread=True)
def answers_atom(request: Request, db_session: DbSession, settings: AppSettings,
                 challenge_id: FromPath[int]) -> Response[bytes]:
    """The latest answers to a published challenge's questions."""
    return _challenge_feed(request, db_session, settings, challenge_id, answers_feed)


ROUTES: list[Any] = [Router(path="/", route_handlers=[challenges_atom, proposals_atom, answers_atom],
                            include_in_schema=False)]
