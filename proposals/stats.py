"""What the proposals component counts for the statistics (``Component.statistics``, see
:mod:`cocreate.stats.sources`): proposals, votes and voices by month, the participation in each challenge, and
the first steps of the funnel (challenges, proposals, selected proposals). Three queries."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from cocreate.comments.models import Comment
from cocreate.i18n import lazy_gettext as _l
from cocreate.stats.sources import Counts, Measure, StatsSource, Window, monthly_counts
from proposals.models import (
    BriefingRegistration,
    BriefingSession,
    Challenge,
    DecisionOutcome,
    Phase,
    Proposal,
    ProposalStatus,
    Question,
    QuestionStatus,
    QuestionVisibility,
    Voice,
    Vote,
)

CHALLENGE_ROWS = 10
"""The newest challenges the per-challenge chart shows."""


def _visible_proposal() -> Any:
    return sa.and_(Proposal.status == ProposalStatus.SUBMITTED, col(Proposal.hidden_at).is_(None))


def _count(session: Session, window: Window) -> Counts:
    monthly = monthly_counts(session, window, {
        "proposals": (col(Proposal.submitted_at), Proposal, _visible_proposal()),
        "votes": (col(Vote.created_at), Vote, None),
        "voices": (col(Voice.created_at), Voice, col(Voice.hidden_at).is_(None)),
    })
    return Counts(monthly=monthly, challenges=_per_challenge(session, window), funnel=_funnel(session, window))


def _question_counted(window: Window) -> Any:
    if window.staff:
        return Question.status.not_in([QuestionStatus.HIDDEN, QuestionStatus.MERGED])  # type: ignore[attr-defined]
    return sa.or_(
        sa.and_(Question.visibility == QuestionVisibility.PUBLIC,
                col(Question.status).in_([QuestionStatus.OPEN, QuestionStatus.ANSWERED])),
        sa.and_(Question.visibility == QuestionVisibility.PRIVATE, Question.status == QuestionStatus.ANSWERED))


def _per_challenge(session: Session, window: Window) -> list[dict[str, Any]]:
    """The newest published challenges and what people did in each: one query of correlated counts."""
    challenge_id = col(Challenge.id)

    def count(statement: Any) -> Any:
        return statement.scalar_subquery()

    proposal_ids = sa.select(Proposal.id).where(Proposal.challenge_id == challenge_id, _visible_proposal())
    comment_visible = sa.and_(col(Comment.hidden_at).is_(None), col(Comment.deleted_at).is_(None))
    statement = (
        sa.select(
            challenge_id, Challenge.title,
            count(sa.select(sa.func.count()).select_from(Question)
                  .where(Question.challenge_id == challenge_id, _question_counted(window))),
            count(sa.select(sa.func.count()).select_from(Proposal)
                  .where(Proposal.challenge_id == challenge_id, _visible_proposal())),
            count(sa.select(sa.func.count()).select_from(Comment).where(comment_visible, sa.or_(
                sa.and_(Comment.target_type == "challenge", Comment.target_id == challenge_id),
                sa.and_(Comment.target_type == "proposal", col(Comment.target_id).in_(proposal_ids))))),
            count(sa.select(sa.func.count()).select_from(Vote).where(Vote.challenge_id == challenge_id)),
            count(sa.select(sa.func.count()).select_from(BriefingRegistration)
                  .join(BriefingSession, col(BriefingSession.id) == BriefingRegistration.session_id)
                  .where(BriefingSession.challenge_id == challenge_id,
                         col(BriefingSession.cancelled_at).is_(None), col(BriefingRegistration.cancelled_at).is_(None))),
        )
        .where(Challenge.phase != Phase.DRAFT)
        .order_by(col(Challenge.published_at).desc(), challenge_id.desc())
        .limit(CHALLENGE_ROWS)
    )
    keys = ("questions", "proposals", "comments", "votes", "briefing")
    return [{"id": row[0], "title": row[1], **{key: int(value or 0) for key, value in zip(keys, row[2:], strict=True)}}
            for row in session.execute(statement).all()]


def _funnel(session: Session, window: Window) -> dict[str, int]:
    """Published challenges, their submitted proposals, and the selected ones (for the public: once the
    challenge's decisions are published). One query."""
    published = Challenge.phase != Phase.DRAFT
    selected = Proposal.decision == DecisionOutcome.SELECTED
    if not window.staff:
        selected = sa.and_(selected, col(Challenge.decisions_published_at).is_not(None))
    row = session.execute(sa.select(
        sa.select(sa.func.count()).select_from(Challenge).where(published).scalar_subquery(),
        sa.select(sa.func.count()).select_from(Proposal).join(Challenge, col(Challenge.id) == Proposal.challenge_id)
        .where(published, _visible_proposal()).scalar_subquery(),
        sa.select(sa.func.count()).select_from(Proposal).join(Challenge, col(Challenge.id) == Proposal.challenge_id)
        .where(published, _visible_proposal(), selected).scalar_subquery(),
    )).one()
    return {"challenges": int(row[0]), "proposals": int(row[1]), "selected": int(row[2])}


SOURCE = StatsSource(
    name="proposals",
    count=_count,
    monthly=(Measure("proposals", _l("Proposals"), 30), Measure("votes", _l("Votes"), 40),
             Measure("voices", _l("Residents' voices"), 50)),
    per_challenge=(Measure("questions", _l("Questions asked"), 10), Measure("proposals", _l("Proposals"), 20),
                   Measure("comments", _l("Comments"), 30), Measure("votes", _l("Votes"), 40),
                   Measure("briefing", _l("Briefing registrations"), 50)),
    funnel=(Measure("challenges", _l("Challenges published"), 10), Measure("proposals", _l("Proposals"), 20),
            Measure("selected", _l("Selected"), 30)),
)
