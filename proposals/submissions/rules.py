"""What keeps a draft from being submitted, and the limits of a consortium and of attachments. Who may
change a proposal and when are rules of :mod:`proposals.permissions` (``proposal.edit``,
``proposal.submit``…), which the services ask."""

from __future__ import annotations

from sqlmodel import Session

from cocreate.errors import Invalid
from cocreate.forms import Problems
from cocreate.i18n import gettext as _
from proposals.models import Proposal
from proposals.submissions.access import authors_of
from proposals.submissions.forms import CompleteProposalForm
from proposals.submissions.views import form_values

MAX_COAUTHORS = 10
MAX_FILES = 10
MAX_TOTAL_BYTES = 50 * 1024 * 1024


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
