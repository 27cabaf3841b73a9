"""Proposals (提案): verified organisations write, submit, edit and withdraw them, alone or as a consortium.

Rules, all checked here whatever the caller (page, API, CLI):

- Only a member of a *verified* organisation creates a proposal, for that organisation (the lead).
  Creating, submitting, editing a submitted proposal and withdrawing need a phase that allows
  :attr:`~proposals.phases.Action.PROPOSE` (the challenge is accepting proposals). Drafts can be
  edited at any time by their authors.
- Any member of an authoring organisation whose part is confirmed edits. The lead's members invite
  other verified organisations as co-authors; a member of each co-author confirms; a proposal is
  submitted only when every co-author has confirmed.
- Every submission, and every later saved change of a submitted proposal, is kept in full as a
  :class:`ProposalVersion` (confidential part included); authors, owning staff and the challenge's
  assigned reviewers compare versions.
- Who sees what: drafts only their authors; a submitted proposal's public part everyone; a withdrawn
  one only its title and that it was withdrawn; a hidden one (moderation) the reason instead of its
  content. The confidential part and confidential attachments only authors, owning staff and the
  reviewers assigned to the challenge. A decision and its rationale are public once the challenge's
  decisions are published.
- ``Challenge.proposal_count`` (submitted proposals) is recounted under the challenge's row lock.

Who may do what is answered by :mod:`proposals.permissions` (``proposal.edit``, ``proposal.submit``,
``proposal.read_confidential``…). The package: :mod:`.forms` (typed input), :mod:`.access` (loading and
locking, with what the actor is to the proposal), :mod:`.rules` (what keeps a draft from being submitted,
the limits), :mod:`.workflow` (the services that write) and :mod:`.views` (what
pages and the API read). Its public names are all here: ``from proposals import submissions``.
"""

from __future__ import annotations

from proposals.submissions.access import (
    Eligibility,
    authors_of,
    decision_public,
    eligibility,
    load,
    load_challenge,
    load_locked,
    member_organisation_ids,
    on_new_proposal,
    on_proposal,
    proposing_organisations,
    shows_public_content,
)
from proposals.submissions.forms import (
    ATTACHMENT_TITLE_MAX,
    COST_MAX,
    LONG_FIELDS,
    LONG_TEXT_MAX,
    MAX_KPIS,
    SUMMARY_MAX,
    TEXT_FIELDS,
    TITLE_MAX,
    AttachmentForm,
    CoauthorAction,
    CoauthorForm,
    CompleteProposalForm,
    NewProposalForm,
    ProposalForm,
    complete,
)
from proposals.submissions.rules import (
    MAX_COAUTHORS,
    MAX_FILES,
    MAX_TOTAL_BYTES,
    submission_problems,
)
from proposals.submissions.views import (
    CHALLENGE,
    PER_PAGE,
    PROPOSAL,
    PUBLIC_STATUSES,
    SEED_MAX,
    SIMILAR_LIMIT,
    STORAGE_FOLDER,
    Detail,
    ListItem,
    Similar,
    SortOrder,
    StatusFilter,
    VersionChange,
    attachments_of,
    coauthor_candidates,
    detail,
    diff,
    field_labels,
    find_public,
    for_download,
    form_values,
    kpis_of,
    my_proposals,
    new_seed,
    parse_seed,
    path_of,
    similar_proposals,
    versions,
)
from proposals.submissions.workflow import (
    add_attachment,
    add_coauthor,
    change_coauthors,
    confirm_coauthor,
    create_draft,
    delete_attachment,
    recount,
    remove_coauthor,
    submit,
    update,
    withdraw,
)

__all__ = [
    "ATTACHMENT_TITLE_MAX",
    "CHALLENGE",
    "COST_MAX",
    "LONG_FIELDS",
    "LONG_TEXT_MAX",
    "MAX_COAUTHORS",
    "MAX_FILES",
    "MAX_KPIS",
    "MAX_TOTAL_BYTES",
    "PER_PAGE",
    "PROPOSAL",
    "PUBLIC_STATUSES",
    "SEED_MAX",
    "SIMILAR_LIMIT",
    "STORAGE_FOLDER",
    "SUMMARY_MAX",
    "TEXT_FIELDS",
    "TITLE_MAX",
    "AttachmentForm",
    "CoauthorAction",
    "CoauthorForm",
    "CompleteProposalForm",
    "Detail",
    "Eligibility",
    "ListItem",
    "NewProposalForm",
    "ProposalForm",
    "Similar",
    "SortOrder",
    "StatusFilter",
    "VersionChange",
    "add_attachment",
    "add_coauthor",
    "attachments_of",
    "authors_of",
    "change_coauthors",
    "coauthor_candidates",
    "complete",
    "confirm_coauthor",
    "create_draft",
    "decision_public",
    "delete_attachment",
    "detail",
    "diff",
    "eligibility",
    "field_labels",
    "find_public",
    "for_download",
    "form_values",
    "kpis_of",
    "load",
    "load_challenge",
    "load_locked",
    "member_organisation_ids",
    "my_proposals",
    "new_seed",
    "on_new_proposal",
    "on_proposal",
    "parse_seed",
    "path_of",
    "proposing_organisations",
    "recount",
    "remove_coauthor",
    "shows_public_content",
    "similar_proposals",
    "submission_problems",
    "submit",
    "update",
    "versions",
    "withdraw",
]
