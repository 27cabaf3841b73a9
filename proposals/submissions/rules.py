"""What may be done with a proposal: whether its content is complete enough, who may change it and
when, and the limits of a consortium and of attachments."""

from __future__ import annotations

from sqlmodel import Session

from cocreate.accounts.permissions import Forbidden
from cocreate.i18n import gettext as _
from proposals import challenges, phases
from proposals.models import Challenge, Proposal, ProposalStatus
from proposals.phases import Action
from proposals.submissions.access import Access
from proposals.submissions.forms import (
    COST_MAX,
    LONG_FIELDS,
    LONG_TEXT_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    ProposalInput,
    _text_error,
)

MAX_COAUTHORS = 10
MAX_FILES = 10
MAX_TOTAL_BYTES = 50 * 1024 * 1024


def validate(data: ProposalInput, *, complete: bool) -> dict[str, str]:
    """Errors by form field. A draft needs a title; ``complete`` (submitting, or changing a submitted
    proposal) needs a summary of at most 500 characters and a description as well."""
    errors: dict[str, str] = {}
    checks = (("title", TITLE_MAX, True, True), ("summary", SUMMARY_MAX, complete, False),
              *((name, LONG_TEXT_MAX, complete and name == "description", False) for name in LONG_FIELDS))
    for name, limit, required, single_line in checks:
        if message := _text_error(getattr(data, name), limit, required=required, single_line=single_line):
            errors[name] = message
    if data.cost_estimate_yen is not None and not 0 <= data.cost_estimate_yen <= COST_MAX:
        errors["cost_estimate_yen"] = _("Enter an amount in yen between 0 and %(max)s.", max=f"{COST_MAX:,}")
    challenges._validate_kpis(data.kpis, errors)
    return errors

def _refuse(session: Session, reason: str) -> None:
    session.rollback()
    raise Forbidden(reason)


def _require_editor(session: Session, access: Access) -> None:
    if not access.confirmed_author:
        _refuse(session, _("Only members of the organisations that wrote this proposal can do this."))


def _require_phase(session: Session, challenge: Challenge) -> None:
    decision = phases.check(challenge.phase, Action.PROPOSE)
    if not decision:
        _refuse(session, decision.reason)

def _require_changeable(session: Session, proposal: Proposal, challenge: Challenge, access: Access) -> None:
    _require_editor(session, access)
    if proposal.status is ProposalStatus.WITHDRAWN:
        _refuse(session, _("A withdrawn proposal can no longer be changed."))
    if proposal.status is ProposalStatus.SUBMITTED:
        _require_phase(session, challenge)
