"""The lifecycle of a challenge and what each phase allows, declared in one place.

Services ask :func:`check` before every action (ask a question, propose, comment, vote, register
for a briefing); the tables below are the single source of truth, and
``tests/proposals/test_phases.py`` checks every action before, during and after each phase.
"""

from __future__ import annotations

from enum import StrEnum

from cocreate.permissions import ALLOW, Decision
from proposals.models import Phase

ORDER: tuple[Phase, ...] = (
    Phase.DRAFT,
    Phase.PUBLISHED,
    Phase.ACCEPTING,
    Phase.VOTING,
    Phase.REVIEW,
    Phase.DECIDED,
    Phase.TRIAL,
    Phase.COMPLETED,
)
"""The normal order; CLOSED (no selection) can follow any public phase before a decision."""

TERMINAL = frozenset({Phase.COMPLETED, Phase.CLOSED})
PUBLIC = frozenset(phase for phase in Phase if phase is not Phase.DRAFT)
SCHEDULABLE = ORDER[2:]
"""Phases whose start can be scheduled by date (publishing itself is a staff action)."""


class Action(StrEnum):
    ASK = "ask"  # ask a question (質問)
    ANSWER = "answer"  # owning staff answer questions
    PROPOSE = "propose"  # submit or edit a proposal
    COMMENT = "comment"
    VOTE = "vote"  # support a proposal (応援)
    REGISTER_BRIEFING = "register_briefing"
    REVIEW = "review"  # reviewers score proposals
    DECIDE = "decide"  # staff mark proposals selected / not selected


ALLOWED: dict[Phase, frozenset[Action]] = {
    Phase.DRAFT: frozenset(),
    Phase.PUBLISHED: frozenset({Action.ASK, Action.ANSWER, Action.COMMENT, Action.REGISTER_BRIEFING}),
    Phase.ACCEPTING: frozenset(
        {Action.ASK, Action.ANSWER, Action.PROPOSE, Action.COMMENT, Action.REGISTER_BRIEFING}
    ),
    Phase.VOTING: frozenset({Action.ANSWER, Action.COMMENT, Action.VOTE}),
    Phase.REVIEW: frozenset({Action.ANSWER, Action.COMMENT, Action.REVIEW, Action.DECIDE}),
    Phase.DECIDED: frozenset({Action.ANSWER, Action.COMMENT}),
    Phase.TRIAL: frozenset({Action.ANSWER, Action.COMMENT}),
    Phase.COMPLETED: frozenset({Action.COMMENT}),
    Phase.CLOSED: frozenset(),
}


def allows(phase: Phase, action: Action) -> bool:
    return action in ALLOWED[phase]


def phase_reason(phase: Phase, action: Action) -> str:
    """Why ``action`` is not possible in ``phase``, in the reader's language."""
    from cocreate.i18n import gettext as _

    if phase is Phase.DRAFT:
        return _("This challenge has not been published yet.")
    if phase in TERMINAL:
        return _("This challenge has ended.")
    messages = {
        Action.ASK: _("Questions are accepted until proposals close."),
        Action.PROPOSE: _("Proposals can be submitted only while the challenge is accepting proposals."),
        Action.VOTE: _("Voting is open only during the comment and voting phase."),
        Action.COMMENT: _("Comments are closed for this challenge."),
        Action.REGISTER_BRIEFING: _("Registration for briefing sessions has closed."),
        Action.REVIEW: _("Proposals are reviewed only during the review phase."),
        Action.DECIDE: _("Decisions are made during the review phase."),
        Action.ANSWER: _("Questions can no longer be answered on this challenge."),
    }
    return messages[action]


def check(phase: Phase, action: Action) -> Decision:
    """Whether ``phase`` allows ``action``; a refusal is about the challenge's state (its ``field`` is
    ``phase``), so a form shows it like its other errors."""
    if allows(phase, action):
        return ALLOW
    return Decision(False, phase_reason(phase, action), field="phase")


def index(phase: Phase) -> int:
    return ORDER.index(phase) if phase in ORDER else len(ORDER)


def can_move(current: Phase, target: Phase) -> bool:
    """Whether staff may move a challenge by hand from ``current`` to ``target``.

    Any public phase may go to any other public phase (forward, closed without selection, or back to
    correct a mistake; the reason is recorded). A draft becomes public only through publishing, and
    nothing goes back to draft.
    """
    return not (current is Phase.DRAFT or target is Phase.DRAFT or current is target)
