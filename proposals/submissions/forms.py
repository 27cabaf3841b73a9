"""Typed input of proposals: what the proposal form sends, and the limits of its fields."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from cocreate.i18n import gettext as _
from proposals import challenges
from proposals.challenges import KpiInput
from proposals.models import Proposal
from proposals.submissions.views import kpis_of

TITLE_MAX = 200
SUMMARY_MAX = 500
LONG_TEXT_MAX = 20_000
COST_MAX = 1_000_000_000_000
MAX_KPIS = challenges.MAX_KPIS
ATTACHMENT_TITLE_MAX = 200
CONTROL_CHARS = challenges.CONTROL_CHARS

LONG_FIELDS = ("description", "team", "schedule", "test_field_needs", "confidential")
TEXT_FIELDS = ("title", "summary", *LONG_FIELDS)


@dataclass
class ProposalInput:
    """What the proposal form sends (strings as typed; the amount already read as a number)."""

    title: str = ""
    summary: str = ""
    description: str = ""
    team: str = ""
    cost_estimate_yen: int | None = None
    schedule: str = ""
    test_field_needs: str = ""
    confidential: str = ""
    kpis: list[KpiInput] = field(default_factory=list)

    @classmethod
    def from_proposal(cls, session: Session, proposal: Proposal) -> ProposalInput:
        data = cls(**{name: getattr(proposal, name) for name in TEXT_FIELDS},
                   cost_estimate_yen=proposal.cost_estimate_yen)
        data.kpis = [KpiInput(k.indicator, k.target, k.baseline, k.unit) for k in kpis_of(session, proposal.id)]  # type: ignore[arg-type]
        return data

def _clean(value: str) -> str:
    return str(value or "").replace("\r\n", "\n").replace("\r", "\n")

def _text_error(value: str, limit: int, *, required: bool, single_line: bool = False) -> str | None:
    if required and not value.strip():
        return _("This field is required.")
    if len(value) > limit:
        return _("Use at most %(max)s characters.", max=f"{limit:,}")
    if CONTROL_CHARS.search(value) or (single_line and ("\n" in value or "\r" in value)):
        return _("This field contains characters that cannot be used.")
    return None
