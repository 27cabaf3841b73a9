"""Review (審査) and decisions: who reviews, blind scoring, the results table, and publishing decisions.

Rules, all checked here whatever the caller:

- Staff of a department that owns the challenge assign and unassign reviewers: users holding the
  reviewer role, or ward staff. Both are in the audit log. A reviewer with a submitted review stays
  assigned (the review is part of the record).
- An assigned reviewer first declares, per proposal, whether they have a conflict of interest. With a
  conflict they cannot score that proposal. Without one they score every criterion of the challenge
  1–5 and write a comment; they may save a draft, and submit once all of it is filled in. A submitted
  review is final. Declaring and scoring happen only in the review phase (:mod:`proposals.phases`).
- Blind review: a reviewer sees other reviewers' submitted scores only after submitting their own;
  drafts are never shown to anyone but their author.
- Owning staff see the results: per proposal the weighted total (Σ weight × average score / 5, on
  0–100, the weights summing to 100), the average of each criterion, the spread (the highest minus the
  lowest of the reviewers' own weighted totals), the number of submitted reviews and conflicts, and the
  residents' votes and comments; also as CSV.
- Owning staff record a decision per submitted proposal (selected / not selected / on hold) with a
  public rationale, privately, in the review phase; then publish them all at once, only when each
  has an outcome and a rationale. Publishing is done once (a second attempt is refused); it notifies
  the members of the authoring organisations and the followers of the challenge and of each proposal,
  once per proposal and person.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from litestar.exceptions import NotFoundException
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, or_, select

from cocreate import audit
from cocreate.accounts.models import Organisation, OrganisationMember, Role, RoleAssignment, User
from cocreate.accounts.permissions import Forbidden, Principal, require_signed_in
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext as _l
from cocreate.notifications import services as notifications
from cocreate.notifications.models import Follow
from cocreate.settings import Settings
from cocreate.web.forms import parse_id as _parse_id
from cocreate.web.pagination import Page, paginate
from proposals import lifecycle, phases
from proposals.models import (
    Challenge,
    ChallengeCriterion,
    ConflictDeclaration,
    DecisionOutcome,
    Phase,
    Proposal,
    ProposalOrganisation,
    ProposalStatus,
    Review,
    ReviewerAssignment,
    ReviewScore,
)
from proposals.phases import Action

COMMENT_MAX = 10_000
CONFLICT_NOTE_MAX = 1000
RATIONALE_MAX = 4000
SEARCH_MAX = 100
CANDIDATES_LIMIT = 20
SCORES = (1, 2, 3, 4, 5)
CHALLENGE = "challenge"
PROPOSAL = "proposal"
"""``target_type`` of follows, notifications and audit entries."""
DECISION_KIND = "decision.published"
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and newlines are fine
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Spreadsheets run a cell starting with one of these as a formula: such cells get a leading quote."""

OUTCOME_LABELS = {
    DecisionOutcome.SELECTED: _l("Selected"),
    DecisionOutcome.NOT_SELECTED: _l("Not selected"),
    DecisionOutcome.ON_HOLD: _l("On hold"),
}


def outcome_label(outcome: DecisionOutcome | str | None) -> str:
    if outcome is None or outcome == "":
        return _("Not decided yet")
    return str(OUTCOME_LABELS[DecisionOutcome(outcome)])


class NotFound(NotFoundException):
    """The challenge or proposal does not exist (or is not one the actor may review)."""


def proposal_url(proposal_id: int) -> str:
    return f"/proposals/{proposal_id}"


def _label(user: User) -> str:
    return user.display_name


def _clean(text: str) -> str:
    """Normalised line ends, no control characters but tabs and newlines, trimmed."""
    return CONTROL_CHARS.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n")).strip()


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


def _submitted(challenge_id: int) -> tuple[Any, ...]:
    return (Proposal.challenge_id == challenge_id, Proposal.status == ProposalStatus.SUBMITTED)


# --- assigning reviewers (staff) -----------------------------------------------------------------


@dataclass(frozen=True)
class AssignedReviewer:
    user: User
    assignment: ReviewerAssignment
    submitted: int
    """Reviews this reviewer has submitted on the challenge."""


def assigned_reviewers(session: Session, challenge_id: int) -> list[AssignedReviewer]:
    """The challenge's reviewers with their number of submitted reviews (two queries)."""
    rows = session.exec(select(ReviewerAssignment, User).join(User, col(User.id) == ReviewerAssignment.user_id)
                        .where(ReviewerAssignment.challenge_id == challenge_id)
                        .order_by(col(User.display_name), col(User.id))).all()
    counts = dict(session.exec(
        select(Review.reviewer_id, func.count()).join(Proposal, col(Proposal.id) == Review.proposal_id)
        .where(Proposal.challenge_id == challenge_id, col(Review.submitted_at).is_not(None))
        .group_by(col(Review.reviewer_id))).all())
    return [AssignedReviewer(user, assignment, counts.get(user.id, 0)) for assignment, user in rows]


def _eligible_condition() -> Any:
    return col(User.id).in_(select(RoleAssignment.user_id).where(
        col(RoleAssignment.role).in_([Role.REVIEWER, Role.STAFF])))


def candidates(session: Session, challenge_id: int, query: str) -> list[User]:
    """Users who may be assigned (reviewer role or ward staff), not yet assigned, by name or e-mail."""
    text = " ".join(_clean(query).split())[:SEARCH_MAX]
    if not text:
        return []
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    assigned = select(ReviewerAssignment.user_id).where(ReviewerAssignment.challenge_id == challenge_id)
    statement = (select(User).where(
        _eligible_condition(), col(User.deleted_at).is_(None), col(User.blocked_at).is_(None),
        col(User.id).not_in(assigned),
        or_(col(User.display_name).ilike(pattern, escape="\\"), col(User.email).ilike(pattern.lower(), escape="\\")))
        .order_by(col(User.display_name), col(User.id)).limit(CANDIDATES_LIMIT))
    return list(session.exec(statement).all())


def assign(session: Session, actor: Principal, challenge_id: int, user_id: str | int) -> User:
    """Assign a reviewer (owning staff; audited). Commits."""
    staff = require_signed_in(actor)
    challenge = owned_challenge(session, actor, challenge_id, lock=True)
    target_id = _parse_id(user_id)
    user = session.exec(select(User).where(col(User.id) == target_id, _eligible_condition(),
                                           col(User.deleted_at).is_(None))).first() if target_id else None
    error = None
    if user is None:
        error = _("Choose a person from the search results.")
    elif is_assigned(session, user.id, challenge.id):  # type: ignore[arg-type]
        error = _("%(name)s is already a reviewer of this challenge.", name=user.display_name)
    elif challenge.decisions_published_at is not None:
        error = _("The decisions on this challenge have been published; the review is over.")
    if error:
        session.rollback()
        raise Invalid({"user_id": error})
    assert user is not None
    session.add(ReviewerAssignment(challenge_id=challenge.id, user_id=user.id, assigned_by_id=staff.id))  # type: ignore[arg-type]
    audit.record(session, actor_id=staff.id, actor_label=_label(staff), action="review.reviewer_assigned",
                 target_type=CHALLENGE, target_id=str(challenge.id), details={"user_id": user.id})
    try:
        session.commit()
    except IntegrityError:  # assigned at the same moment from another window
        session.rollback()
        raise Invalid({"user_id": _("%(name)s is already a reviewer of this challenge.",
                                             name=user.display_name)}) from None
    return user


def unassign(session: Session, actor: Principal, challenge_id: int, user_id: str | int) -> User:
    """Remove a reviewer who has submitted nothing yet (owning staff; audited). Their drafts go. Commits."""
    staff = require_signed_in(actor)
    challenge = owned_challenge(session, actor, challenge_id, lock=True)
    target_id = _parse_id(user_id)
    row = session.exec(select(ReviewerAssignment, User).join(User, col(User.id) == ReviewerAssignment.user_id)
                       .where(ReviewerAssignment.challenge_id == challenge.id,
                              ReviewerAssignment.user_id == target_id)).first() if target_id else None
    if row is None:
        session.rollback()
        raise Invalid({"remove": _("This person is not a reviewer of this challenge.")})
    assignment, user = row
    mine = select(Proposal.id).where(Proposal.challenge_id == challenge.id)
    reviews = session.exec(select(Review).where(Review.reviewer_id == user.id,
                                                col(Review.proposal_id).in_(mine))).all()
    if any(review.submitted_at is not None for review in reviews):
        session.rollback()
        raise Invalid({"remove": _("%(name)s has already submitted reviews, which stay part of the "
                                            "record; they cannot be removed.", name=user.display_name)})
    for review in reviews:
        session.delete(review)
    session.delete(assignment)
    audit.record(session, actor_id=staff.id, actor_label=_label(staff), action="review.reviewer_unassigned",
                 target_type=CHALLENGE, target_id=str(challenge.id),
                 details={"user_id": user.id, "drafts_deleted": len(reviews)})
    session.commit()
    return user


# --- reviewers' pages ----------------------------------------------------------------------------


class ReviewState:
    TO_DECLARE = "to_declare"
    CONFLICT = "conflict"
    TO_SCORE = "to_score"
    DRAFT = "draft"
    SUBMITTED = "submitted"


STATE_LABELS = {
    ReviewState.TO_DECLARE: _l("Declare conflicts of interest"),
    ReviewState.CONFLICT: _l("Conflict of interest declared (not scored)"),
    ReviewState.TO_SCORE: _l("To be scored"),
    ReviewState.DRAFT: _l("Draft saved"),
    ReviewState.SUBMITTED: _l("Submitted"),
}


def _state(declaration: ConflictDeclaration | None, review: Review | None) -> str:
    if declaration is None:
        return ReviewState.TO_DECLARE
    if declaration.has_conflict:
        return ReviewState.CONFLICT
    if review is None:
        return ReviewState.TO_SCORE
    return ReviewState.SUBMITTED if review.submitted_at is not None else ReviewState.DRAFT


@dataclass(frozen=True)
class AssignedChallenge:
    challenge: Challenge
    proposals: int
    submitted: int
    conflicts: int

    @property
    def remaining(self) -> int:
        return max(0, self.proposals - self.submitted - self.conflicts)


def my_challenges(session: Session, actor: Principal, page: int = 1, per_page: int = 20) -> Page[AssignedChallenge]:
    """The challenges the actor is assigned to review, with their progress (four queries per page)."""
    user = require_signed_in(actor)
    statement = (select(Challenge).join(ReviewerAssignment, col(ReviewerAssignment.challenge_id) == Challenge.id)
                 .where(ReviewerAssignment.user_id == user.id, col(Challenge.phase) != Phase.DRAFT)
                 .order_by(col(ReviewerAssignment.created_at).desc(), col(Challenge.id).desc()))
    result = paginate(session, statement, page, per_page)
    ids = [challenge.id for challenge in result.items]
    proposals = dict(session.exec(select(Proposal.challenge_id, func.count()).where(
        col(Proposal.challenge_id).in_(ids), Proposal.status == ProposalStatus.SUBMITTED)
        .group_by(col(Proposal.challenge_id))).all()) if ids else {}
    submitted = dict(session.exec(select(Proposal.challenge_id, func.count())
                                  .join(Review, col(Review.proposal_id) == Proposal.id)
                                  .where(col(Proposal.challenge_id).in_(ids), Review.reviewer_id == user.id,
                                         Proposal.status == ProposalStatus.SUBMITTED,
                                         col(Review.submitted_at).is_not(None))
                                  .group_by(col(Proposal.challenge_id))).all()) if ids else {}
    conflicts = dict(session.exec(select(Proposal.challenge_id, func.count())
                                  .join(ConflictDeclaration, col(ConflictDeclaration.proposal_id) == Proposal.id)
                                  .where(col(Proposal.challenge_id).in_(ids), ConflictDeclaration.reviewer_id == user.id,
                                         Proposal.status == ProposalStatus.SUBMITTED,
                                         col(ConflictDeclaration.has_conflict).is_(True))
                                  .group_by(col(Proposal.challenge_id))).all()) if ids else {}
    items = [AssignedChallenge(c, proposals.get(c.id, 0), submitted.get(c.id, 0), conflicts.get(c.id, 0))
             for c in result.items]
    return Page(items=items, page=result.page, per_page=result.per_page, total=result.total)


@dataclass(frozen=True)
class ProposalToReview:
    proposal: Proposal
    organisation_name: str
    state: str

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])


@dataclass
class ChallengeReview:
    challenge: Challenge
    page: Page[ProposalToReview]
    can_review: phases.Decision


def challenge_for_reviewer(session: Session, actor: Principal, challenge_id: int, page: int = 1,
                           per_page: int = 20) -> ChallengeReview:
    """The submitted proposals of a challenge with the actor's progress on each (assigned reviewers)."""
    challenge = load_challenge(session, challenge_id)
    user = require_assigned(session, actor, challenge)
    statement = (select(Proposal, Organisation.name, ConflictDeclaration, Review)
                 .join(Organisation, col(Organisation.id) == Proposal.lead_organisation_id)
                 .outerjoin(ConflictDeclaration, sa.and_(col(ConflictDeclaration.proposal_id) == Proposal.id,
                                                         col(ConflictDeclaration.reviewer_id) == user.id))
                 .outerjoin(Review, sa.and_(col(Review.proposal_id) == Proposal.id, col(Review.reviewer_id) == user.id))
                 .where(*_submitted(challenge.id))  # type: ignore[arg-type]
                 .order_by(col(Proposal.submitted_at), col(Proposal.id)))
    result = paginate(session, statement, page, per_page, scalars=False)
    items = [ProposalToReview(p, name, _state(d, r)) for p, name, d, r in result.items]
    return ChallengeReview(challenge, Page(items=items, page=result.page, per_page=result.per_page,
                                           total=result.total), phases.check(challenge.phase, Action.REVIEW))


@dataclass(frozen=True)
class OtherReview:
    label: str
    comment: str
    scores: dict[int, int]
    submitted_at: datetime


@dataclass
class ProposalReview:
    """One proposal as its reviewer sees it: the proposal, their declaration and review, and (after
    submitting) the others' submitted reviews."""

    challenge: Challenge
    proposal: Proposal
    organisations: list[Organisation]
    criteria: list[ChallengeCriterion]
    declaration: ConflictDeclaration | None
    review: Review | None
    scores: dict[int, int]
    others: list[OtherReview]
    can_review: phases.Decision

    @property
    def state(self) -> str:
        return _state(self.declaration, self.review)

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def submitted(self) -> bool:
        return self.review is not None and self.review.submitted_at is not None


def _reviewable(session: Session, actor: Principal, proposal_id: int,
                lock: bool = False) -> tuple[Challenge, Proposal, User]:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.status is not ProposalStatus.SUBMITTED:
        raise NotFound()
    challenge = session.get(Challenge, proposal.challenge_id, with_for_update=True) if lock else \
        session.get(Challenge, proposal.challenge_id)
    assert challenge is not None
    user = require_assigned(session, actor, challenge)
    return challenge, proposal, user


def _my_review(session: Session, user_id: int, proposal_id: int) -> tuple[ConflictDeclaration | None, Review | None]:
    declaration = session.get(ConflictDeclaration, (user_id, proposal_id))
    review = session.exec(select(Review).where(Review.proposal_id == proposal_id,
                                               Review.reviewer_id == user_id)).first()
    return declaration, review


def _scores_of(session: Session, review_ids: Sequence[int]) -> dict[int, dict[int, int]]:
    result: dict[int, dict[int, int]] = defaultdict(dict)
    if review_ids:
        for review_id, criterion_id, score in session.exec(
                select(ReviewScore.review_id, ReviewScore.criterion_id, ReviewScore.score)
                .where(col(ReviewScore.review_id).in_(review_ids))).all():
            result[review_id][criterion_id] = score
    return result


def proposal_for_reviewer(session: Session, actor: Principal, proposal_id: int) -> ProposalReview:
    challenge, proposal, user = _reviewable(session, actor, proposal_id)
    organisations = list(session.exec(
        select(Organisation).join(ProposalOrganisation, col(ProposalOrganisation.organisation_id) == Organisation.id)
        .where(ProposalOrganisation.proposal_id == proposal.id)
        .order_by(col(ProposalOrganisation.is_lead).desc(), col(Organisation.name))).all())
    declaration, review = _my_review(session, user.id, proposal.id)  # type: ignore[arg-type]
    others: list[OtherReview] = []
    scores: dict[int, int] = {}
    if review is not None:
        scores = _scores_of(session, [review.id]).get(review.id, {})  # type: ignore[arg-type,call-overload]
    if review is not None and review.submitted_at is not None:
        # Blind review: the others' submitted reviews only once the reviewer has submitted their own.
        rows = session.exec(select(Review).where(Review.proposal_id == proposal.id, Review.reviewer_id != user.id,
                                                 col(Review.submitted_at).is_not(None))
                            .order_by(col(Review.submitted_at), col(Review.id))).all()
        other_scores = _scores_of(session, [row.id for row in rows])  # type: ignore[misc]
        others = [OtherReview(_("Reviewer %(number)s", number=index), row.comment,
                              other_scores.get(row.id, {}), row.submitted_at)  # type: ignore[arg-type,call-overload]
                  for index, row in enumerate(rows, start=1)]
    return ProposalReview(challenge, proposal, organisations, criteria_of(session, challenge.id),  # type: ignore[arg-type]
                          declaration, review, scores, others, phases.check(challenge.phase, Action.REVIEW))


def _require_phase(challenge: Challenge, action: Action, key: str, session: Session) -> None:
    decision = phases.check(challenge.phase, action)
    if not decision:
        session.rollback()
        raise Invalid({key: decision.reason})


def declare_conflict(session: Session, actor: Principal, proposal_id: int, has_conflict: str,
                     note: str = "") -> ConflictDeclaration:
    """Declare a conflict of interest (``yes``) or none (``no``) for a proposal. Commits.

    It can be changed until the review is submitted; declaring a conflict deletes a draft review.
    """
    challenge, proposal, user = _reviewable(session, actor, proposal_id, lock=True)
    _require_phase(challenge, Action.REVIEW, "has_conflict", session)
    text = _clean(note)
    errors: dict[str, str] = {}
    if has_conflict not in ("yes", "no"):
        errors["has_conflict"] = _("Say whether you have a conflict of interest with this proposal.")
    if len(text) > CONFLICT_NOTE_MAX:
        errors["note"] = _("Use at most %(max)s characters.", max=CONFLICT_NOTE_MAX)
    declaration, review = _my_review(session, user.id, proposal.id)  # type: ignore[arg-type]
    if review is not None and review.submitted_at is not None:
        errors["has_conflict"] = _("You have already submitted your review of this proposal.")
    if errors:
        session.rollback()
        raise Invalid(errors)
    conflict = has_conflict == "yes"
    if declaration is None:
        declaration = ConflictDeclaration(reviewer_id=user.id, proposal_id=proposal.id,  # type: ignore[arg-type]
                                          has_conflict=conflict, note=text)
        session.add(declaration)
    else:
        declaration.has_conflict = conflict
        declaration.note = text
        declaration.updated_at = utcnow()
    if conflict and review is not None:
        session.delete(review)
    session.commit()
    return declaration


@dataclass
class ReviewInput:
    scores: dict[int, str] = field(default_factory=dict)
    """Criterion id -> the value as sent."""
    comment: str = ""


def score_field(criterion_id: int) -> str:
    return f"score-{criterion_id}"


def _parse_score(raw: str) -> int | None:
    text = unicodedata.normalize("NFKC", raw or "").strip()
    return int(text) if text in {str(s) for s in SCORES} else None


def save_review(session: Session, actor: Principal, proposal_id: int, data: ReviewInput, *,
                submit: bool) -> Review:
    """Save a draft review, or submit it (every criterion scored and a comment written). Commits.

    Scores are whole numbers 1–5; a submitted review cannot be changed.
    """
    challenge, proposal, user = _reviewable(session, actor, proposal_id, lock=True)
    _require_phase(challenge, Action.REVIEW, "review", session)
    declaration, review = _my_review(session, user.id, proposal.id)  # type: ignore[arg-type]
    if declaration is None:
        session.rollback()
        raise Invalid({"review": _("First declare whether you have a conflict of interest.")})
    if declaration.has_conflict:
        session.rollback()
        raise Invalid({"review": _("You declared a conflict of interest, so you cannot score this "
                                            "proposal.")})
    if review is not None and review.submitted_at is not None:
        session.rollback()
        raise Invalid({"review": _("You have already submitted your review of this proposal.")})
    criteria = criteria_of(session, challenge.id)  # type: ignore[arg-type]
    errors: dict[str, str] = {}
    scores: dict[int, int] = {}
    for criterion in criteria:
        assert criterion.id is not None
        raw = (data.scores.get(criterion.id) or "").strip()
        if not raw:
            if submit:
                errors[score_field(criterion.id)] = _("Score “%(name)s” from 1 to 5.", name=criterion.name)
            continue
        value = _parse_score(raw)
        if value is None:
            errors[score_field(criterion.id)] = _("Choose a score from 1 to 5 for “%(name)s”.", name=criterion.name)
        else:
            scores[criterion.id] = value
    comment = _clean(data.comment)
    if len(comment) > COMMENT_MAX:
        errors["comment"] = _("Use at most %(max)s characters.", max=COMMENT_MAX)
    elif submit and not comment:
        errors["comment"] = _("Write a comment on the proposal.")
    if submit and not criteria:
        errors["review"] = _("This challenge has no evaluation criteria to score yet.")
    if errors:
        session.rollback()
        raise Invalid(errors)
    now = utcnow()
    if review is None:
        review = Review(proposal_id=proposal.id, reviewer_id=user.id)  # type: ignore[arg-type]
        session.add(review)
        session.flush()
    review.comment = comment
    review.updated_at = now
    if submit:
        review.submitted_at = now
    session.execute(sa.delete(ReviewScore).where(col(ReviewScore.review_id) == review.id))
    for criterion_id, value in scores.items():
        session.add(ReviewScore(review_id=review.id, criterion_id=criterion_id, score=value))  # type: ignore[arg-type]
    try:
        session.commit()
    except IntegrityError:  # the same review saved from another window at the same moment
        session.rollback()
        raise Invalid({"review": _("Your review was saved from another window at the same time. "
                                            "Reload the page and try again.")}) from None
    return review


# --- results (staff) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultRow:
    proposal: Proposal
    organisation_name: str
    total: float | None
    """Σ weight × average score / 5 over the criteria (0–100); None until every criterion has a score."""
    averages: dict[int, float]
    spread: float | None
    """Highest minus lowest of the reviewers' own weighted totals; None with fewer than two reviews."""
    reviews: int
    conflicts: int


@dataclass
class Results:
    challenge: Challenge
    criteria: list[ChallengeCriterion]
    rows: list[ResultRow]
    reviewers: int

    @property
    def weight_total(self) -> int:
        return sum(c.weight for c in self.criteria)


def weighted_total(criteria: Sequence[ChallengeCriterion], scores: Mapping[int, float]) -> float | None:
    """Σ weight × score / 5 (0–100 when the weights sum to 100); None when a criterion has no score."""
    if not criteria or any(c.id not in scores for c in criteria):
        return None
    return sum(c.weight * scores[c.id] for c in criteria) / 5  # type: ignore[index]


def results(session: Session, actor: Principal, challenge_id: int) -> Results:
    """The review results of every submitted proposal, best first, in a fixed number of queries."""
    challenge = owned_challenge(session, actor, challenge_id)
    assert challenge.id is not None
    criteria = criteria_of(session, challenge.id)
    proposals = session.exec(select(Proposal, Organisation.name)
                             .join(Organisation, col(Organisation.id) == Proposal.lead_organisation_id)
                             .where(*_submitted(challenge.id)).order_by(col(Proposal.id))).all()
    # Every submitted score of the challenge in one query: proposal, reviewer, criterion, score.
    scores = session.exec(
        select(Review.proposal_id, Review.reviewer_id, ReviewScore.criterion_id, ReviewScore.score)
        .join(ReviewScore, col(ReviewScore.review_id) == Review.id)
        .join(Proposal, col(Proposal.id) == Review.proposal_id)
        .where(*_submitted(challenge.id), col(Review.submitted_at).is_not(None))).all()
    conflicts = dict(session.exec(
        select(ConflictDeclaration.proposal_id, func.count())
        .join(Proposal, col(Proposal.id) == ConflictDeclaration.proposal_id)
        .where(*_submitted(challenge.id), col(ConflictDeclaration.has_conflict).is_(True))
        .group_by(col(ConflictDeclaration.proposal_id))).all())
    reviewers = session.exec(select(func.count()).select_from(ReviewerAssignment)
                             .where(ReviewerAssignment.challenge_id == challenge.id)).one()
    by_reviewer: dict[int, dict[int, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for proposal_id, reviewer_id, criterion_id, score in scores:
        by_reviewer[proposal_id][reviewer_id][criterion_id] = score
    rows = []
    for proposal, organisation_name in proposals:
        reviews = by_reviewer.get(proposal.id, {})
        averages: dict[int, float] = {}
        for criterion in criteria:
            values = [s[criterion.id] for s in reviews.values() if criterion.id in s]  # type: ignore[index]
            if values:
                averages[criterion.id] = sum(values) / len(values)  # type: ignore[index]
        own_totals = [t for t in (weighted_total(criteria, s) for s in reviews.values()) if t is not None]
        rows.append(ResultRow(proposal, organisation_name, weighted_total(criteria, averages), averages,
                              max(own_totals) - min(own_totals) if len(own_totals) > 1 else None,
                              len(reviews), conflicts.get(proposal.id, 0)))
    rows.sort(key=lambda row: (row.total is None, -(row.total or 0), row.proposal.id))
    return Results(challenge, criteria, rows, reviewers)


def _csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_FORMULA_START) else text


def _number(value: float | None, places: int) -> str:
    return "" if value is None else f"{value:.{places}f}"


def results_csv(session: Session, actor: Principal, challenge_id: int) -> tuple[Challenge, str]:
    """The results table as CSV, UTF-8 with a BOM (so that Excel reads the Japanese right)."""
    found = results(session, actor, challenge_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_("Rank"), _("Proposal No."), _("Proposal"), _("Lead organisation"), _("Weighted total (0–100)"),
                     *[_("Average: %(name)s (weight %(weight)s)", name=c.name, weight=c.weight)
                       for c in found.criteria],
                     _("Spread (highest minus lowest reviewer total)"), _("Reviews submitted"),
                     _("Conflicts of interest"), _("Resident votes"), _("Comments")])
    for rank, row in enumerate(found.rows, start=1):
        writer.writerow([rank, row.proposal.id, _csv_cell(row.proposal.title), _csv_cell(row.organisation_name),
                         _number(row.total, 1), *[_number(row.averages.get(c.id), 2) for c in found.criteria],  # type: ignore[arg-type]
                         _number(row.spread, 1), row.reviews, row.conflicts, row.proposal.vote_count,
                         row.proposal.comment_count])
    return found.challenge, "\ufeff" + buffer.getvalue()


# --- decisions (staff) ---------------------------------------------------------------------------


@dataclass
class DecisionRow:
    proposal: Proposal
    organisation_name: str
    outcome: str
    rationale: str

    @property
    def complete(self) -> bool:
        return bool(self.outcome) and bool(self.rationale.strip())


@dataclass
class Decisions:
    challenge: Challenge
    rows: list[DecisionRow]
    can_decide: phases.Decision
    silent_reviewers: list[str] = field(default_factory=list)
    """Names of assigned reviewers who have submitted no review: publishing asks staff to confirm."""

    @property
    def published(self) -> bool:
        return self.challenge.decisions_published_at is not None

    @property
    def complete(self) -> bool:
        return bool(self.rows) and all(row.complete for row in self.rows)


def outcome_field(proposal_id: int) -> str:
    return f"outcome-{proposal_id}"


def rationale_field(proposal_id: int) -> str:
    return f"rationale-{proposal_id}"


def _decision_rows(session: Session, challenge_id: int) -> list[DecisionRow]:
    rows = session.exec(select(Proposal, Organisation.name)
                        .join(Organisation, col(Organisation.id) == Proposal.lead_organisation_id)
                        .where(*_submitted(challenge_id)).order_by(col(Proposal.id))).all()
    return [DecisionRow(p, name, p.decision.value if p.decision else "", p.decision_rationale) for p, name in rows]


def decisions(session: Session, actor: Principal, challenge_id: int,
              form: Mapping[int, tuple[str, str]] | None = None) -> Decisions:
    """The decisions form: every submitted proposal with its saved (or re-shown) outcome and rationale."""
    challenge = owned_challenge(session, actor, challenge_id)
    rows = _decision_rows(session, challenge.id)  # type: ignore[arg-type]
    for row in rows:
        if form and row.proposal.id in form:
            row.outcome, row.rationale = form[row.proposal.id]  # type: ignore[index]
    return Decisions(challenge, rows, phases.check(challenge.phase, Action.DECIDE),
                     silent_reviewers(session, challenge.id))  # type: ignore[arg-type]


def silent_reviewers(session: Session, challenge_id: int) -> list[str]:
    """The assigned reviewers of the challenge who have submitted no review yet (their names)."""
    submitted = (select(Review.id).join(Proposal, col(Proposal.id) == Review.proposal_id)
                 .where(Review.reviewer_id == ReviewerAssignment.user_id, Proposal.challenge_id == challenge_id,
                        col(Review.submitted_at).is_not(None)))
    return list(session.exec(
        select(User.display_name).join(ReviewerAssignment, col(ReviewerAssignment.user_id) == User.id)
        .where(ReviewerAssignment.challenge_id == challenge_id, ~sa.exists(submitted))
        .order_by(col(User.display_name))).all())


def _decide_guard(session: Session, challenge: Challenge, key: str) -> None:
    # Published first: publishing moves the challenge to DECIDED, and "already published" is the
    # reason that matters then, not the phase.
    if challenge.decisions_published_at is not None:
        session.rollback()
        raise Invalid({key: _("The decisions on this challenge have already been published.")})
    _require_phase(challenge, Action.DECIDE, key, session)


def save_decisions(session: Session, actor: Principal, challenge_id: int,
                   entries: Mapping[int, tuple[str, str]]) -> int:
    """Save outcomes and rationales privately (owning staff, review phase, before publishing; audited).

    ``entries`` maps proposal id -> (outcome value or "", rationale). A proposal left out keeps what it
    had. A proposal with an outcome needs a rationale; a rationale needs an outcome. Returns how many
    proposals changed. Commits.
    """
    staff = require_signed_in(actor)
    challenge = owned_challenge(session, actor, challenge_id, lock=True)
    _decide_guard(session, challenge, "decisions")
    proposals = {p.id: p for p in session.exec(select(Proposal).where(*_submitted(challenge.id))).all()}  # type: ignore[arg-type]
    errors: dict[str, str] = {}
    cleaned: dict[int, tuple[DecisionOutcome | None, str]] = {}
    for proposal_id, (raw_outcome, raw_rationale) in entries.items():
        if proposal_id not in proposals:
            continue
        rationale = _clean(raw_rationale)
        outcome = None
        if raw_outcome:
            try:
                outcome = DecisionOutcome(raw_outcome)
            except ValueError:
                errors[outcome_field(proposal_id)] = _("Choose selected, not selected or on hold.")
                continue
        title = proposals[proposal_id].title
        if len(rationale) > RATIONALE_MAX:
            errors[rationale_field(proposal_id)] = _("Use at most %(max)s characters.", max=RATIONALE_MAX)
        elif outcome is not None and not rationale:
            errors[rationale_field(proposal_id)] = _("Write the public rationale for “%(title)s”.", title=title)
        elif outcome is None and rationale:
            errors[outcome_field(proposal_id)] = _("Choose the outcome for “%(title)s”.", title=title)
        cleaned[proposal_id] = (outcome, rationale)
    if errors:
        session.rollback()
        raise Invalid(errors)
    now = utcnow()
    changes = {}
    for proposal_id, (outcome, rationale) in cleaned.items():
        proposal = proposals[proposal_id]
        if proposal.decision == outcome and proposal.decision_rationale == rationale:
            continue
        changes[str(proposal_id)] = {"outcome": outcome.value if outcome else None,
                                     "previous": proposal.decision.value if proposal.decision else None}
        proposal.decision = outcome
        proposal.decision_rationale = rationale
        proposal.decided_at = now if outcome else None
        proposal.decided_by_id = staff.id if outcome else None
    if changes:
        audit.record(session, actor_id=staff.id, actor_label=_label(staff), action="challenge.decisions_saved",
                     target_type=CHALLENGE, target_id=str(challenge.id), details={"proposals": changes})
    session.commit()
    return len(changes)


def publish_decisions(session: Session, settings: Settings, actor: Principal, challenge_id: int, *,
                      without_reviews: bool = False) -> Challenge:
    """Publish every decision of the challenge at once and notify (owning staff; audited). Commits.

    Refused unless each submitted proposal has an outcome and a rationale, and refused the second time.
    Refused too while an assigned reviewer has submitted no review at all, unless staff confirm that they
    publish without it (``without_reviews``; the audit entry names those reviewers).
    """
    staff = require_signed_in(actor)
    challenge = owned_challenge(session, actor, challenge_id, lock=True)
    _decide_guard(session, challenge, "publish")
    rows = _decision_rows(session, challenge.id)  # type: ignore[arg-type]
    if not rows:
        session.rollback()
        raise Invalid({"publish": _("There are no submitted proposals to decide on.")})
    missing = [row for row in rows if not row.complete]
    if missing:
        session.rollback()
        raise Invalid({"publish": _(
            "Every proposal needs an outcome and a public rationale before publishing; %(count)s still lack one.",
            count=len(missing))})
    silent = silent_reviewers(session, challenge.id)  # type: ignore[arg-type]
    if silent and not without_reviews:
        session.rollback()
        raise Invalid({"publish": _(
            "Assigned reviewers have submitted no review yet: %(names)s. Wait for their reviews, or confirm that "
            "you publish without them.", names="、".join(silent))})
    now = utcnow()
    challenge.decisions_published_at = now
    # Publishing the decisions is what "decided" means: the timeline moves on with it.
    # The followers hear of the decisions (notify_decisions), not of the phase change too.
    lifecycle.record_move(session, challenge, Phase.DECIDED, actor=actor, now=now, announce=False)
    counts: dict[str, Any] = {outcome.value: sum(1 for row in rows if row.outcome == outcome.value)
                              for outcome in DecisionOutcome}
    if silent:
        counts["published_without_reviews_of"] = silent
    audit.record(session, actor_id=staff.id, actor_label=_label(staff), action="challenge.decisions_published",
                 target_type=CHALLENGE, target_id=str(challenge.id), details=counts)
    notify_decisions(session, settings, challenge, [row.proposal for row in rows], actor_id=staff.id)
    session.commit()
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
                  "url": proposal_url(proposal.id), "event_key": f"{DECISION_KIND}:{proposal.id}",
                  "settings": settings}
        notifications.notify(session, user_ids=yours, params=params | {"yours": True}, **common)  # type: ignore[arg-type]
        notifications.notify(session, user_ids=followers, params=params, **common)  # type: ignore[arg-type]
