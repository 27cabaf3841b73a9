"""The review's services, each a unit of work: assigning reviewers, declaring conflicts and
scoring, saving and publishing the decisions (and notifying them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate import audit, permissions
from cocreate.accounts.models import OrganisationMember, User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.db import transactional
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.forms import Problems
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext as _l
from cocreate.notifications import services as notifications
from cocreate.notifications.models import Follow
from cocreate.settings import Settings
from proposals import paths
from proposals.challenges import lifecycle
from proposals.models import (
    Challenge,
    ConflictDeclaration,
    DecisionOutcome,
    Phase,
    Proposal,
    ProposalOrganisation,
    Review,
    ReviewerAssignment,
    ReviewScore,
)
from proposals.review.access import (
    criteria_of,
    eligible_condition,
    is_assigned,
    my_review,
    owned_challenge,
    reviewable,
    silent_reviewers,
    submitted,
)
from proposals.review.forms import (
    NOT_A_REVIEWER,
    DecisionsForm,
    DeclareForm,
    ReviewForm,
    outcome_field,
    rationale_field,
    score_field,
)

CHALLENGE = "challenge"
PROPOSAL = "proposal"
"""``target_type`` of follows, notifications and audit entries."""
DECISION_KIND = "decision.published"


def _label(user: User) -> str:
    return user.display_name


# --- notification kind ---------------------------------------------------------------------------


def _decision_message(params: dict[str, Any]) -> str:
    title = str(params.get("proposal_title", ""))
    if params.get("yours"):
        return _("The decision on your proposal “%(title)s” has been published.", title=title)
    return _("The decision on the proposal “%(title)s”, which you follow, has been published.", title=title)


def _decision_subject(params: dict[str, Any]) -> str:
    title = str(params.get("proposal_title", ""))
    return _("Decision published: %(title)s", title=title)


KINDS = {
    DECISION_KIND: notifications.Kind(_decision_message, _decision_subject, "mail/decision_published.txt",
                                      label=_l("Decisions on proposals")),
}
"""This module's notification kinds (listed in the proposals manifest)."""


@transactional
def assign(session: Session, actor: Principal, challenge_id: int, user_id: int) -> User:
    """Assign a reviewer (owning staff; audited)."""
    staff = require_signed_in(actor)
    challenge = owned_challenge(session, actor, challenge_id, lock=True)
    user = session.exec(select(User).where(col(User.id) == user_id, eligible_condition(),
                                           col(User.deleted_at).is_(None))).first()
    if user is None:
        raise Invalid({"user_id": _("Choose a person from the search results.")})
    already = _("%(name)s is already a reviewer of this challenge.", name=user.display_name)
    if is_assigned(session, user.id, challenge.id):  # type: ignore[arg-type]
        raise Invalid({"user_id": already})
    if challenge.decisions_published_at is not None:
        raise Invalid({"user_id": _("The decisions on this challenge have been published; the review is over.")})
    session.add(ReviewerAssignment(challenge_id=challenge.id, user_id=user.id, assigned_by_id=staff.id))  # type: ignore[arg-type]
    try:
        session.flush()
    except sa.exc.IntegrityError:  # assigned at the same moment from another window
        raise Invalid({"user_id": already}) from None
    audit.record(session, actor_id=staff.id, actor_label=_label(staff), action="review.reviewer_assigned",
                 target_type=CHALLENGE, target_id=str(challenge.id), details={"user_id": user.id})
    return user


@transactional
def unassign(session: Session, actor: Principal, challenge_id: int, user_id: int) -> User:
    """Remove a reviewer who has submitted nothing yet (owning staff; audited). Their drafts go."""
    staff = require_signed_in(actor)
    challenge = owned_challenge(session, actor, challenge_id, lock=True)
    row = session.exec(select(ReviewerAssignment, User).join(User, col(User.id) == ReviewerAssignment.user_id)
                       .where(ReviewerAssignment.challenge_id == challenge.id,
                              ReviewerAssignment.user_id == user_id)).first()
    if row is None:
        raise Invalid({"remove": str(NOT_A_REVIEWER)})
    assignment, user = row
    mine = select(Proposal.id).where(Proposal.challenge_id == challenge.id)
    reviews = session.exec(select(Review).where(Review.reviewer_id == user.id,
                                                col(Review.proposal_id).in_(mine))).all()
    if any(review.submitted_at is not None for review in reviews):
        raise Invalid({"remove": _("%(name)s has already submitted reviews, which stay part of the "
                                   "record; they cannot be removed.", name=user.display_name)})
    for review in reviews:
        session.delete(review)
    session.delete(assignment)
    audit.record(session, actor_id=staff.id, actor_label=_label(staff), action="review.reviewer_unassigned",
                 target_type=CHALLENGE, target_id=str(challenge.id),
                 details={"user_id": user.id, "drafts_deleted": len(reviews)})
    return user


@transactional
def declare_conflict(session: Session, actor: Principal, proposal_id: int, form: DeclareForm) -> ConflictDeclaration:
    """Declare a conflict of interest with a proposal, or none.

    It can be changed until the review is submitted; declaring a conflict deletes a draft review.
    """
    _challenge, proposal, user, on = reviewable(session, actor, proposal_id, lock=True)
    permissions.require(actor, "review.score", on, field="has_conflict")
    declaration, review = my_review(session, user.id, proposal.id)  # type: ignore[arg-type]
    if review is not None and review.submitted_at is not None:
        raise Invalid({"has_conflict": _("You have already submitted your review of this proposal.")})
    if declaration is None:
        declaration = ConflictDeclaration(reviewer_id=user.id, proposal_id=proposal.id,  # type: ignore[arg-type]
                                          has_conflict=form.conflict, note=form.note)
        session.add(declaration)
    else:
        declaration.has_conflict = form.conflict
        declaration.note = form.note
        declaration.updated_at = utcnow()
    if form.conflict and review is not None:
        session.delete(review)
    return declaration


@transactional
def save_review(session: Session, actor: Principal, proposal_id: int, form: ReviewForm, *,
                submit: bool) -> Review:
    """Save a draft review, or submit it (every criterion scored and a comment written).

    Scores are whole numbers 1–5; a submitted review cannot be changed.
    """
    challenge, proposal, user, on = reviewable(session, actor, proposal_id, lock=True)
    permissions.require(actor, "review.score", on, field="review")
    declaration, review = my_review(session, user.id, proposal.id)  # type: ignore[arg-type]
    if declaration is None:
        raise Invalid({"review": _("First declare whether you have a conflict of interest.")})
    if declaration.has_conflict:
        raise Invalid({"review": _("You declared a conflict of interest, so you cannot score this proposal.")})
    if review is not None and review.submitted_at is not None:
        raise Invalid({"review": _("You have already submitted your review of this proposal.")})
    criteria = criteria_of(session, challenge.id)  # type: ignore[arg-type]
    problems = Problems()
    scores: dict[int, int] = {}
    for criterion in criteria:
        assert criterion.id is not None
        if criterion.id in form.unreadable:
            problems.add(score_field(criterion.id), _("Choose a score from 1 to 5 for “%(name)s”.",
                                                      name=criterion.name))
        elif criterion.id in form.scores:
            scores[criterion.id] = form.scores[criterion.id]
        elif submit:
            problems.add(score_field(criterion.id), _("Score “%(name)s” from 1 to 5.", name=criterion.name))
    if submit and not form.comment:
        problems.add("comment", _("Write a comment on the proposal."))
    if submit and not criteria:
        problems.add("review", _("This challenge has no evaluation criteria to score yet."))
    problems.raise_any()
    now = utcnow()
    try:
        if review is None:
            review = Review(proposal_id=proposal.id, reviewer_id=user.id)  # type: ignore[arg-type]
            session.add(review)
            session.flush()
        review.comment = form.comment
        review.updated_at = now
        if submit:
            review.submitted_at = now
        session.execute(sa.delete(ReviewScore).where(col(ReviewScore.review_id) == review.id))
        for criterion_id, value in scores.items():
            session.add(ReviewScore(review_id=review.id, criterion_id=criterion_id, score=value))  # type: ignore[arg-type]
        session.flush()
    except sa.exc.IntegrityError:  # the same review saved from another window at the same moment
        raise Invalid({"review": _("Your review was saved from another window at the same time. "
                                   "Reload the page and try again.")}) from None
    return review


@transactional
def save_decisions(session: Session, actor: Principal, challenge_id: int, form: DecisionsForm) -> int:
    """Save outcomes and rationales privately (owning staff, review phase, before publishing; audited).

    A proposal the form leaves out keeps what it had, and so does one that is not a submitted proposal
    of the challenge. A proposal with an outcome needs a rationale; a rationale needs an outcome.
    Returns how many proposals changed.
    """
    staff = require_signed_in(actor)
    challenge = owned_challenge(session, actor, challenge_id, lock=True, action="review.decide", field="decisions")
    proposals = {p.id: p for p in session.exec(select(Proposal).where(*submitted(challenge.id))).all()}  # type: ignore[arg-type]
    entries = {proposal_id: entry for proposal_id, entry in form.entries.items() if proposal_id in proposals}
    problems = Problems()
    for proposal_id, entry in entries.items():
        title = proposals[proposal_id].title
        if entry.outcome is not None and not entry.rationale:
            problems.add(rationale_field(proposal_id), _("Write the public rationale for “%(title)s”.", title=title))
        elif entry.outcome is None and entry.rationale:
            problems.add(outcome_field(proposal_id), _("Choose the outcome for “%(title)s”.", title=title))
    problems.raise_any()
    now = utcnow()
    changes = {}
    for proposal_id, entry in entries.items():
        proposal = proposals[proposal_id]
        outcome = entry.outcome
        if proposal.decision == outcome and proposal.decision_rationale == entry.rationale:
            continue
        changes[str(proposal_id)] = {"outcome": outcome.value if outcome else None,
                                     "previous": proposal.decision.value if proposal.decision else None}
        proposal.decision = outcome
        proposal.decision_rationale = entry.rationale
        proposal.decided_at = now if outcome else None
        proposal.decided_by_id = staff.id if outcome else None
    if changes:
        audit.record(session, actor_id=staff.id, actor_label=_label(staff), action="challenge.decisions_saved",
                     target_type=CHALLENGE, target_id=str(challenge.id), details={"proposals": changes})
    return len(changes)


@transactional
def publish_decisions(session: Session, settings: Settings, actor: Principal, challenge_id: int, *,
                      without_reviews: bool = False) -> Challenge:
    """Publish every decision of the challenge at once and notify (owning staff; audited).

    Refused unless each submitted proposal has an outcome and a rationale, and refused the second time.
    Refused too while an assigned reviewer has submitted no review at all, unless staff confirm that they
    publish without it (``without_reviews``; the audit entry names those reviewers).
    """
    staff = require_signed_in(actor)
    challenge = owned_challenge(session, actor, challenge_id, lock=True, action="review.publish_decisions",
                                field="publish")
    proposals = session.exec(select(Proposal).where(*submitted(challenge.id))  # type: ignore[arg-type]
                             .order_by(col(Proposal.id))).all()
    if not proposals:
        raise Invalid({"publish": _("There are no submitted proposals to decide on.")})
    missing = [p for p in proposals if p.decision is None or not p.decision_rationale.strip()]
    if missing:
        raise Invalid({"publish": _(
            "Every proposal needs an outcome and a public rationale before publishing; %(count)s still lack one.",
            count=len(missing))})
    silent = silent_reviewers(session, challenge.id)  # type: ignore[arg-type]
    if silent and not without_reviews:
        raise Invalid({"publish": _(
            "Assigned reviewers have submitted no review yet: %(names)s. Wait for their reviews, or confirm that "
            "you publish without them.", names="、".join(silent))})
    now = utcnow()
    challenge.decisions_published_at = now
    # Publishing the decisions is what "decided" means: the timeline moves on with it.
    # The followers hear of the decisions (notify_decisions), not of the phase change too.
    lifecycle.record_move(session, challenge, Phase.DECIDED, actor=actor, now=now, announce=False)
    counts: dict[str, Any] = {outcome.value: sum(1 for p in proposals if p.decision == outcome)
                              for outcome in DecisionOutcome}
    if silent:
        counts["published_without_reviews_of"] = silent
    audit.record(session, actor_id=staff.id, actor_label=_label(staff), action="challenge.decisions_published",
                 target_type=CHALLENGE, target_id=str(challenge.id), details=counts)
    notify_decisions(session, settings, challenge, list(proposals), actor_id=staff.id)
    return challenge


def notify_decisions(session: Session, settings: Settings, challenge: Challenge, proposals: Sequence[Proposal],
                     *, actor_id: int | None = None) -> None:
    """Tell the proposers and followers about each decision: one notification per proposal and person
    (the event key makes a repeated call add nothing). No commit. Three queries plus the notifying."""
    ids = [p.id for p in proposals]
    members: dict[int, set[int]] = defaultdict(set)
    for proposal_id, user_id in session.exec(
            select(ProposalOrganisation.proposal_id, OrganisationMember.user_id)
            .join(OrganisationMember, col(OrganisationMember.organisation_id) == ProposalOrganisation.organisation_id)
            .where(col(ProposalOrganisation.proposal_id).in_(ids))).all():
        members[proposal_id].add(user_id)
    proposal_followers: dict[int, set[int]] = defaultdict(set)
    for target_id, user_id in session.exec(select(Follow.target_id, Follow.user_id).where(
            Follow.target_type == PROPOSAL, col(Follow.target_id).in_(ids))).all():
        proposal_followers[target_id].add(user_id)
    challenge_followers = set(notifications.followers(session, CHALLENGE, challenge.id))  # type: ignore[arg-type]
    for proposal in proposals:
        assert proposal.id is not None and proposal.decision is not None
        yours = members[proposal.id] - {actor_id}
        followers = (proposal_followers[proposal.id] | challenge_followers) - yours - {actor_id}
        params = {"challenge_id": challenge.id, "challenge_title": challenge.title, "proposal_id": proposal.id,
                  "proposal_title": proposal.title, "outcome": proposal.decision.value}
        common = {"kind": DECISION_KIND, "target_type": PROPOSAL, "target_id": proposal.id,
                  "url": paths.proposal(proposal.id), "event_key": f"{DECISION_KIND}:{proposal.id}",
                  "settings": settings}
        notifications.notify(session, user_ids=yours, params=params | {"yours": True}, **common)  # type: ignore[arg-type]
        notifications.notify(session, user_ids=followers, params=params, **common)  # type: ignore[arg-type]
