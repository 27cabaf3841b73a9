"""The review's pages as view-models: the reviewer's challenges and proposals (blind until they
submit), the reviewers of a challenge, the results table (also as CSV) and the decisions form.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, or_, select

from cocreate.accounts.models import Organisation, User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.forms import as_text, text_error
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext as _l
from cocreate.web.pagination import Page, paginate
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
from proposals.permissions import OnChallenge
from proposals.review.access import (
    criteria_of,
    eligible_condition,
    load_challenge,
    my_review,
    owned_challenge,
    require_assigned,
    reviewable,
    silent_reviewers,
    submitted,
)
from proposals.review.forms import SEARCH_MAX

CANDIDATES_LIMIT = 20
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


def candidates(session: Session, challenge_id: int, query: str) -> list[User]:
    """Users who may be assigned (reviewer role or ward staff), not yet assigned, by name or e-mail."""
    text = " ".join(as_text(query).split())[:SEARCH_MAX]
    if not text or text_error(text, SEARCH_MAX, single_line=True):  # characters no name or address has
        return []
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    assigned = select(ReviewerAssignment.user_id).where(ReviewerAssignment.challenge_id == challenge_id)
    statement = (select(User).where(
        eligible_condition(), col(User.deleted_at).is_(None), col(User.blocked_at).is_(None),
        col(User.id).not_in(assigned),
        or_(col(User.display_name).ilike(pattern, escape="\\"), col(User.email).ilike(pattern.lower(), escape="\\")))
        .order_by(col(User.display_name), col(User.id)).limit(CANDIDATES_LIMIT))
    return list(session.exec(statement).all())


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
    on: OnChallenge
    """The challenge as the review's rules see it for the reviewer (``can("review.score", r.on)``)."""


def challenge_for_reviewer(session: Session, actor: Principal, challenge_id: int, page: int = 1,
                           per_page: int = 20) -> ChallengeReview:
    """The submitted proposals of a challenge with the actor's progress on each (assigned reviewers)."""
    challenge = load_challenge(session, challenge_id)
    user, on = require_assigned(session, actor, challenge)
    statement = (select(Proposal, Organisation.name, ConflictDeclaration, Review)
                 .join(Organisation, col(Organisation.id) == Proposal.lead_organisation_id)
                 .outerjoin(ConflictDeclaration, sa.and_(col(ConflictDeclaration.proposal_id) == Proposal.id,
                                                         col(ConflictDeclaration.reviewer_id) == user.id))
                 .outerjoin(Review, sa.and_(col(Review.proposal_id) == Proposal.id, col(Review.reviewer_id) == user.id))
                 .where(*submitted(challenge.id))  # type: ignore[arg-type]
                 .order_by(col(Proposal.submitted_at), col(Proposal.id)))
    result = paginate(session, statement, page, per_page, scalars=False)
    items = [ProposalToReview(p, name, _state(d, r)) for p, name, d, r in result.items]
    return ChallengeReview(challenge, Page(items=items, page=result.page, per_page=result.per_page,
                                           total=result.total), on)


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
    on: OnChallenge
    """The challenge as the review's rules see it for the reviewer (``can("review.score", r.on)``)."""

    @property
    def state(self) -> str:
        return _state(self.declaration, self.review)

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def submitted(self) -> bool:
        return self.review is not None and self.review.submitted_at is not None


def _scores_of(session: Session, review_ids: Sequence[int]) -> dict[int, dict[int, int]]:
    result: dict[int, dict[int, int]] = defaultdict(dict)
    if review_ids:
        for review_id, criterion_id, score in session.exec(
                select(ReviewScore.review_id, ReviewScore.criterion_id, ReviewScore.score)
                .where(col(ReviewScore.review_id).in_(review_ids))).all():
            result[review_id][criterion_id] = score
    return result


def proposal_for_reviewer(session: Session, actor: Principal, proposal_id: int) -> ProposalReview:
    challenge, proposal, user, on = reviewable(session, actor, proposal_id)
    organisations = list(session.exec(
        select(Organisation).join(ProposalOrganisation, col(ProposalOrganisation.organisation_id) == Organisation.id)
        .where(ProposalOrganisation.proposal_id == proposal.id)
        .order_by(col(ProposalOrganisation.is_lead).desc(), col(Organisation.name))).all())
    declaration, review = my_review(session, user.id, proposal.id)  # type: ignore[arg-type]
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
                          declaration, review, scores, others, on)


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
    challenge = owned_challenge(session, actor, challenge_id, action="review.see_results")
    assert challenge.id is not None
    criteria = criteria_of(session, challenge.id)
    proposals = session.exec(select(Proposal, Organisation.name)
                             .join(Organisation, col(Organisation.id) == Proposal.lead_organisation_id)
                             .where(*submitted(challenge.id)).order_by(col(Proposal.id))).all()
    # Every submitted score of the challenge in one query: proposal, reviewer, criterion, score.
    scores = session.exec(
        select(Review.proposal_id, Review.reviewer_id, ReviewScore.criterion_id, ReviewScore.score)
        .join(ReviewScore, col(ReviewScore.review_id) == Review.id)
        .join(Proposal, col(Proposal.id) == Review.proposal_id)
        .where(*submitted(challenge.id), col(Review.submitted_at).is_not(None))).all()
    conflicts = dict(session.exec(
        select(ConflictDeclaration.proposal_id, func.count())
        .join(Proposal, col(Proposal.id) == ConflictDeclaration.proposal_id)
        .where(*submitted(challenge.id), col(ConflictDeclaration.has_conflict).is_(True))
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
    on: OnChallenge
    """The challenge as the rules see it for its owning staff (``can("review.decide", d.on)``)."""
    silent_reviewers: list[str] = field(default_factory=list)
    """Names of assigned reviewers who have submitted no review: publishing asks staff to confirm."""

    @property
    def published(self) -> bool:
        return self.challenge.decisions_published_at is not None

    @property
    def complete(self) -> bool:
        return bool(self.rows) and all(row.complete for row in self.rows)


def _decision_rows(session: Session, challenge_id: int) -> list[DecisionRow]:
    rows = session.exec(select(Proposal, Organisation.name)
                        .join(Organisation, col(Organisation.id) == Proposal.lead_organisation_id)
                        .where(*submitted(challenge_id)).order_by(col(Proposal.id))).all()
    return [DecisionRow(p, name, p.decision.value if p.decision else "", p.decision_rationale) for p, name in rows]


def decisions(session: Session, actor: Principal, challenge_id: int,
              form: Mapping[int, tuple[str, str]] | None = None) -> Decisions:
    """The decisions form: every submitted proposal with its saved (or re-shown) outcome and rationale."""
    challenge = owned_challenge(session, actor, challenge_id, action="review.see_results")
    rows = _decision_rows(session, challenge.id)  # type: ignore[arg-type]
    for row in rows:
        if form and row.proposal.id in form:
            row.outcome, row.rationale = form[row.proposal.id]  # type: ignore[index]
    return Decisions(challenge, rows, OnChallenge.of(challenge, owned=True),  # owned_challenge, above
                     silent_reviewers(session, challenge.id))  # type: ignore[arg-type]
