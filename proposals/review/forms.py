"""What the review's forms send, and their limits and field names."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

COMMENT_MAX = 10_000
CONFLICT_NOTE_MAX = 1000
RATIONALE_MAX = 4000
SEARCH_MAX = 100
SCORES = (1, 2, 3, 4, 5)


@dataclass
class ReviewInput:
    scores: dict[int, str] = field(default_factory=dict)
    """Criterion id -> the value as sent."""
    comment: str = ""


def score_field(criterion_id: int) -> str:
    return f"score-{criterion_id}"


def parse_score(raw: str) -> int | None:
    text = unicodedata.normalize("NFKC", raw or "").strip()
    return int(text) if text in {str(s) for s in SCORES} else None


def outcome_field(proposal_id: int) -> str:
    return f"outcome-{proposal_id}"


def rationale_field(proposal_id: int) -> str:
    return f"rationale-{proposal_id}"
