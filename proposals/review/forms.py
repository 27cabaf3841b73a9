"""What the review's forms send, typed: the limits, the field names and one model per form.

Building a form checks what needs no database (lengths, characters, choices, ids); the services in
:mod:`proposals.review.workflow` check the rest (the phase, the criteria, the proposals' titles).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, model_validator

from cocreate.errors import Invalid
from cocreate.forms import (
    MAX_ID_DIGITS,
    MAX_REPEATED,
    Choice,
    Flag,
    FormModel,
    Line,
    Problems,
    RowId,
    Text,
    as_text,
    normalised,
)
from cocreate.i18n import lazy_gettext
from proposals.models import DecisionOutcome

COMMENT_MAX = 10_000
CONFLICT_NOTE_MAX = 1000
RATIONALE_MAX = 4000
SEARCH_MAX = 100
SCORES = (1, 2, 3, 4, 5)
SCORE_TEXTS = {str(score): score for score in SCORES}
MAX_DECISIONS = 1000
"""At most this many proposals' decisions are read from one post."""
NOT_A_REVIEWER = lazy_gettext("This person is not a reviewer of this challenge.")


def score_field(criterion_id: int) -> str:
    return f"score-{criterion_id}"


def outcome_field(proposal_id: int) -> str:
    return f"outcome-{proposal_id}"


def rationale_field(proposal_id: int) -> str:
    return f"rationale-{proposal_id}"


SCORE_KEY = re.compile(rf"^score-(\d{{1,{MAX_ID_DIGITS}}})$")
OUTCOME_KEY = re.compile(rf"^outcome-(\d{{1,{MAX_ID_DIGITS}}})$")


def _numbered(data: Mapping[str, Any], key: re.Pattern[str], limit: int) -> dict[int, Any]:
    """The values of the numbered fields ``key`` matches (``score-12``), by their number."""
    found: dict[int, Any] = {}
    for name, value in data.items():
        if (match := key.match(str(name))) and len(found) < limit:
            found.setdefault(int(match.group(1)), value)
    return found


# --- reviewers (staff) ---------------------------------------------------------------------------


class AssignForm(FormModel):
    """The person chosen from the search results."""

    user_id: Annotated[int | None, RowId(lazy_gettext("Choose a person from the search results."), required=True)] = None


class UnassignForm(FormModel):
    """The reviewer to remove."""

    user_id: Annotated[int | None, RowId(NOT_A_REVIEWER, required=True)] = None


# --- reviewing -----------------------------------------------------------------------------------


class ConflictAnswer(StrEnum):
    YES = "yes"
    NO = "no"


class DeclareForm(FormModel):
    """A reviewer's declaration of a conflict of interest (or none) with a proposal."""

    has_conflict: Annotated[ConflictAnswer | None, Choice(
        ConflictAnswer, lazy_gettext("Say whether you have a conflict of interest with this proposal."))] = None
    note: Annotated[str, Text(CONFLICT_NOTE_MAX)] = ""

    @property
    def conflict(self) -> bool:
        return self.has_conflict is ConflictAnswer.YES


class ReviewForm(FormModel):
    """A review as sent: a score per criterion (fields ``score-<criterion id>``), the comment, and
    whether it is submitted (``action=submit``) or saved as a draft.

    Scores are read here: ``scores`` holds those that are 1–5 (full-width digits too), ``unreadable``
    the criteria whose value is no score. The service names the criterion in its message."""

    scores: dict[int, int] = Field(default_factory=dict)
    unreadable: list[int] = Field(default_factory=list)
    comment: Annotated[str, Text(COMMENT_MAX)] = ""
    action: Annotated[str, Line(20)] = ""

    @model_validator(mode="before")
    @classmethod
    def _read_scores(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        sent = data.get("scores")
        raw = dict(sent) if isinstance(sent, Mapping) else _numbered(data, SCORE_KEY, MAX_REPEATED)
        scores: dict[int, int] = {}
        unreadable: list[int] = []
        for criterion_id, value in raw.items():
            text = normalised(value)
            if text in SCORE_TEXTS:
                scores[int(criterion_id)] = SCORE_TEXTS[text]
            elif text:
                unreadable.append(int(criterion_id))
        return {**data, "scores": scores, "unreadable": unreadable}

    @property
    def submit(self) -> bool:
        return self.action == "submit"


def typed_scores(form: Mapping[str, Any]) -> dict[int, str]:
    """The scores as typed in a form that failed, to show them again (criterion id -> value)."""
    return {criterion_id: as_text(value) for criterion_id, value in _numbered(form, SCORE_KEY, MAX_REPEATED).items()}


# --- decisions (staff) ---------------------------------------------------------------------------


class DecisionForm(FormModel):
    """One proposal's outcome (or none yet) and public rationale."""

    outcome: Annotated[DecisionOutcome | None, Choice(
        DecisionOutcome, lazy_gettext("Choose selected, not selected or on hold."), required=False)] = None
    rationale: Annotated[str, Text(RATIONALE_MAX)] = ""


class DecisionsForm(FormModel):
    """The decisions form: for each proposal, ``outcome-<id>`` and ``rationale-<id>``. A proposal whose
    outcome field was not sent is left as it is."""

    entries: dict[int, DecisionForm] = Field(default_factory=dict)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> DecisionsForm:
        problems = Problems()
        entries: dict[int, DecisionForm] = {}
        for proposal_id, outcome in _numbered(data, OUTCOME_KEY, MAX_DECISIONS).items():
            try:
                entries[proposal_id] = DecisionForm(outcome=outcome, rationale=data.get(rationale_field(proposal_id)))
            except Invalid as failed:
                problems.extend((f"{name}-{proposal_id}", message) for name, message in failed.errors.items())
        problems.raise_any()
        return cls(entries=entries)

    @staticmethod
    def typed(form: Mapping[str, Any]) -> dict[int, tuple[str, str]]:
        """What a form that failed sent, to show it again: proposal id -> (outcome, rationale)."""
        return {proposal_id: (as_text(outcome), as_text(form.get(rationale_field(proposal_id))))
                for proposal_id, outcome in _numbered(form, OUTCOME_KEY, MAX_DECISIONS).items()}


class PublishForm(FormModel):
    """Publishing: ticked ``without_reviews`` when staff confirm they publish before every reviewer sent one."""

    without_reviews: Annotated[bool, Flag()] = False
