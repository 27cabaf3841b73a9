"""Who may review what: loading a challenge or proposal for review, the owner and assignment checks,
and the reads the review's pages and services share.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate.accounts.models import Role, RoleAssignment, User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.errors import Forbidden, NotFound
from cocreate.i18n import gettext as _
from proposals import lifecycle
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

# --- loading and permissions ---------------------------------------------------------------------


def load_challenge(session: Session, challenge_id: int) -> Challenge:
    challenge = session.get(Challenge, challenge_id)
    if challenge is None or challenge.phase is Phase.DRAFT:
        raise NotFound()
    return challenge


def owned_challenge(session: Session, actor: Principal, challenge_id: int, *, lock: bool = False) -> Challenge:
    """The challenge if the actor is staff of an owning department (404 when missing, 403 otherwise)."""
    require_signed_in(actor)
    challenge = session.get(Challenge, challenge_id, with_for_update=True) if lock else \
        session.get(Challenge, challenge_id)
    if challenge is None:
        raise NotFound()
    lifecycle.require_owner(session, actor, challenge)
    return challenge


def is_assigned(session: Session, user_id: int | None, challenge_id: int) -> bool:
    if user_id is None:
        return False
    return session.exec(select(ReviewerAssignment.id).where(
        ReviewerAssignment.challenge_id == challenge_id, ReviewerAssignment.user_id == user_id)).first() is not None


def require_assigned(session: Session, actor: Principal, challenge: Challenge) -> User:
    user = require_signed_in(actor)
    if not is_assigned(session, user.id, challenge.id):  # type: ignore[arg-type]
        raise Forbidden(_("Only reviewers assigned to this challenge can do this."))
    return user


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
               lock: bool = False) -> tuple[Challenge, Proposal, User]:
    """A submitted proposal, its challenge (locked with ``lock``) and the actor, an assigned reviewer."""
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.status is not ProposalStatus.SUBMITTED:
        raise NotFound()
    challenge = session.get(Challenge, proposal.challenge_id, with_for_update=True) if lock else \
        session.get(Challenge, proposal.challenge_id)
    assert challenge is not None
    user = require_assigned(session, actor, challenge)
    return challenge, proposal, user


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
