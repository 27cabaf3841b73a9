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

The package: :mod:`.forms` (what the forms send, typed; their limits and field names), :mod:`.access` (who
may review what, and the shared reads), :mod:`.workflow` (the services, each a unit of work) and
:mod:`.views` (the pages' view-models). What other modules use is re-exported here, so
``from proposals import review`` gives the whole public API.
"""

from __future__ import annotations

from proposals.review.access import (
    criteria_of,
    is_assigned,
    load_challenge,
    owned_challenge,
    require_assigned,
    silent_reviewers,
)
from proposals.review.forms import (
    COMMENT_MAX,
    CONFLICT_NOTE_MAX,
    RATIONALE_MAX,
    SCORES,
    SEARCH_MAX,
    AssignForm,
    ConflictAnswer,
    DecisionForm,
    DecisionsForm,
    DeclareForm,
    PublishForm,
    ReviewForm,
    UnassignForm,
    outcome_field,
    rationale_field,
    score_field,
    typed_scores,
)
from proposals.review.views import (
    OUTCOME_LABELS,
    STATE_LABELS,
    AssignedChallenge,
    AssignedReviewer,
    ChallengeReview,
    DecisionRow,
    Decisions,
    OtherReview,
    ProposalReview,
    ProposalToReview,
    ResultRow,
    Results,
    ReviewState,
    assigned_reviewers,
    candidates,
    challenge_for_reviewer,
    decisions,
    my_challenges,
    outcome_label,
    proposal_for_reviewer,
    results,
    results_csv,
    weighted_total,
)
from proposals.review.workflow import (
    DECISION_KIND,
    KINDS,
    assign,
    declare_conflict,
    notify_decisions,
    publish_decisions,
    save_decisions,
    save_review,
    unassign,
)

__all__ = [
    "COMMENT_MAX",
    "CONFLICT_NOTE_MAX",
    "DECISION_KIND",
    "KINDS",
    "OUTCOME_LABELS",
    "RATIONALE_MAX",
    "SCORES",
    "SEARCH_MAX",
    "STATE_LABELS",
    "AssignForm",
    "AssignedChallenge",
    "AssignedReviewer",
    "ChallengeReview",
    "ConflictAnswer",
    "DecisionForm",
    "DecisionRow",
    "Decisions",
    "DecisionsForm",
    "DeclareForm",
    "OtherReview",
    "ProposalReview",
    "ProposalToReview",
    "PublishForm",
    "ResultRow",
    "Results",
    "ReviewForm",
    "ReviewState",
    "UnassignForm",
    "assign",
    "assigned_reviewers",
    "candidates",
    "challenge_for_reviewer",
    "criteria_of",
    "decisions",
    "declare_conflict",
    "is_assigned",
    "load_challenge",
    "my_challenges",
    "notify_decisions",
    "outcome_field",
    "outcome_label",
    "owned_challenge",
    "proposal_for_reviewer",
    "publish_decisions",
    "rationale_field",
    "require_assigned",
    "results",
    "results_csv",
    "save_decisions",
    "save_review",
    "score_field",
    "silent_reviewers",
    "typed_scores",
    "unassign",
    "weighted_total",
]
