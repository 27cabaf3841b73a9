"""What may be done with a proposal: who may change it and when, what keeps a draft from being
submitted, and the limits of a consortium and of attachments. Each check raises the domain error that
says why not (or, for submitting, collects every reason)."""

from __future__ import annotations

from sqlmodel import Session

from cocreate.errors import Forbidden, Invalid
from cocreate.forms import Problems
from cocreate.i18n import gettext as _
from proposals import phases
from proposals.models import Challenge, Proposal, ProposalStatus
from proposals.phases import Action
from proposals.submissions.access import Access, authors_of
from proposals.submissions.forms import CompleteProposalForm
from proposals.submissions.views import form_values

MAX_COAUTHORS = 10
MAX_FILES = 10
MAX_TOTAL_BYTES = 50 * 1024 * 1024


def require_editor(access: Access) -> None:
    """Only members of an authoring organisation whose part is confirmed change a proposal."""
    if not access.confirmed_author:
        raise Forbidden(_("Only members of the organisations that wrote this proposal can do this."))


def require_phase(challenge: Challenge) -> None:
    """The challenge accepts proposals (needed to create, submit, change a submitted one, withdraw)."""
    decision = phases.check(challenge.phase, Action.PROPOSE)
    if not decision:
        raise Forbidden(decision.reason)


def require_changeable(proposal: Proposal, challenge: Challenge, access: Access) -> None:
    """The actor may change the proposal now: drafts at any time, submitted ones while accepting."""
    require_editor(access)
    if proposal.status is ProposalStatus.WITHDRAWN:
        raise Forbidden(_("A withdrawn proposal can no longer be changed."))
    if proposal.status is ProposalStatus.SUBMITTED:
        require_phase(challenge)


def submission_problems(session: Session, proposal: Proposal) -> Problems:
    """Everything that keeps a draft from being submitted: its content as a complete proposal, and the
    co-authors that have not confirmed yet."""
    assert proposal.id is not None
    problems = Problems()
    try:
        CompleteProposalForm(**form_values(session, proposal))
    except Invalid as incomplete:
        problems.extend(incomplete.errors)
    pending = [o.name for row, o in authors_of(session, proposal.id) if row.confirmed_at is None]
    if pending:
        problems.add("coauthors", _("Every organisation of the consortium must confirm first. Waiting for: "
                                    "%(names)s.", names="、".join(pending)))
    return problems
