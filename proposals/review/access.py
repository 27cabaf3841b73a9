"""Loading a challenge or proposal for review, checked by the rules of :mod:`proposals.permissions`
(``review.read``, ``review.assign``…), and the reads the review's pages and services share.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate import permissions
from cocreate.accounts.models import Role, RoleAssignment, User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.errors import NotFound
from proposals.models import (
    Challenge,
    ChallengeCriterion,
    ConflictDeclaration,
    Phase,
    Proposal,
    ProposalStatus,
    Review,
    ReviewerAssignment,
)
from proposals.permissions import OnChallenge, is_assigned_reviewer, on_challenge

is_assigned = is_assigned_reviewer
"""Whether a user is an assigned reviewer of a challenge: the one reader of that fact
(:func:`proposals.permissions.is_assigned_reviewer`), by the name the review's modules use."""

# --- loading and permissions ---------------------------------------------------------------------


def load_challenge(session: Session, challenge_id: int) -> Challenge:
    challenge = session.get(Challenge, challenge_id)
    if challenge is None or challenge.phase is Phase.DRAFT:
        raise NotFound()
    return challenge


def owned_challenge(session: Session, actor: Principal, challenge_id: int, *, lock: bool = False,
                    action: str = "review.assign", field: str | None = None) -> Challenge:
    """The challenge if the actor may do ``action`` to it: by default its owning staff's pages (404 when
    it is missing, 403 when it is not theirs); a refusal for its state goes under ``field``."""
    require_signed_in(actor)
    challenge = session.get(Challenge, challenge_id, with_for_update=True) if lock else \
        session.get(Challenge, challenge_id)
    if challenge is None:
        raise NotFound()
    permissions.require(actor, action, on_challenge(session, actor, challenge), field=field)
    return challenge


def require_assigned(session: Session, actor: Principal, challenge: Challenge) -> tuple[User, OnChallenge]:
    """The actor, if they are an assigned reviewer of the challenge (``review.read``; 403 otherwise), and the
    challenge as the review's rules see it for them (the pages ask ``can("review.score", on)``)."""
    user = require_signed_in(actor)
    on = on_challenge(session, actor, challenge, reviewing=True)
    permissions.require(actor, "review.read", on)
    return user, on


def criteria_of(session: Session, challenge_id: int) -> list[ChallengeCriterion]:
    return list(session.exec(select(ChallengeCriterion).where(ChallengeCriterion.challenge_id == challenge_id)
                             .order_by(col(ChallengeCriterion.position), col(ChallengeCriterion.id))).all())


def submitted(challenge_id: int) -> tuple[Any, ...]:
    """The conditions of the challenge's submitted proposals (the ones reviewed and decided on)."""
    return (Proposal.challenge_id == challenge_id, Proposal.status == ProposalStatus.SUBMITTED)


def eligible_condition() -> Any:
    """The condition of the users who may review: the reviewer role or ward staff."""
    return col(User.id).in_(select(RoleAssignment.user_id).where(
        col(RoleAssignment.role).in_([Role.REVIEWER, Role.STAFF])))


def reviewable(session: Session, actor: Principal, proposal_id: int,
               lock: bool = False) -> tuple[Challenge, Proposal, User, OnChallenge]:
    """A submitted proposal, its challenge (locked with ``lock``), the actor, an assigned reviewer, and the
    challenge as the review's rules see it for them."""
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.status is not ProposalStatus.SUBMITTED:
        raise NotFound()
    challenge = session.get(Challenge, proposal.challenge_id, with_for_update=True) if lock else \
        session.get(Challenge, proposal.challenge_id)
    assert challenge is not None
    user, on = require_assigned(session, actor, challenge)
    return challenge, proposal, user, on


def my_review(session: Session, user_id: int, proposal_id: int) -> tuple[ConflictDeclaration | None, Review | None]:
    """A reviewer's declaration and review (draft or submitted) of a proposal, if any."""
    declaration = session.get(ConflictDeclaration, (user_id, proposal_id))
    review = session.exec(select(Review).where(Review.proposal_id == proposal_id,
                                               Review.reviewer_id == user_id)).first()
    return declaration, review


def silent_reviewers(session: Session, challenge_id: int) -> list[str]:
    """The assigned reviewers of the challenge who have submitted no review yet (their names)."""
    reviewed = (select(Review.id).join(Proposal, col(Proposal.id) == Review.proposal_id)
                .where(Review.reviewer_id == ReviewerAssignment.user_id, Proposal.challenge_id == challenge_id,
                       col(Review.submitted_at).is_not(None)))
    return list(session.exec(
        select(User.display_name).join(ReviewerAssignment, col(ReviewerAssignment.user_id) == User.id)
        .where(ReviewerAssignment.challenge_id == challenge_id, ~sa.exists(reviewed))
        .order_by(col(User.display_name))).all())
