"""Reading proposals for pages and the API: a challenge's list with filters and sort, a proposal's page
as one viewer sees it, its versions and their diff, similar proposals and attachments to download."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate import i18n, permissions
from cocreate.accounts.models import Organisation
from cocreate.accounts.permissions import Principal
from cocreate.errors import NotFound
from cocreate.files import storage as files
from cocreate.forms import parse_id
from cocreate.i18n import gettext as _
from cocreate.search import query as search_query
from cocreate.settings import Settings
from cocreate.web.pagination import DEFAULT_PER_PAGE, Page, paginate
from proposals.challenges import services as challenges
from proposals.challenges.history import DiffLine, line_diff
from proposals.models import (
    Challenge,
    DecisionOutcome,
    Proposal,
    ProposalAttachment,
    ProposalKpi,
    ProposalOrganisation,
    ProposalStatus,
    ProposalVersion,
)
from proposals.permissions import OnProposal
from proposals.submissions.access import (
    authors_of,
    decision_public,
    load,
    member_organisation_ids,
    shows_public_content,
)
from proposals.submissions.forms import TEXT_FIELDS

STORAGE_FOLDER = "proposals"
PER_PAGE = DEFAULT_PER_PAGE
SIMILAR_LIMIT = 5
PROPOSAL = "proposal"
CHALLENGE = "challenge"
"""``target_type`` of follows and audit entries."""
PUBLIC_STATUSES = (ProposalStatus.SUBMITTED, ProposalStatus.WITHDRAWN)


def kpis_of(session: Session, proposal_id: int) -> Sequence[ProposalKpi]:
    return session.exec(select(ProposalKpi).where(ProposalKpi.proposal_id == proposal_id)
                        .order_by(col(ProposalKpi.position), col(ProposalKpi.id))).all()


def form_values(session: Session, proposal: Proposal) -> dict[str, Any]:
    """A proposal's content as its form holds it: the texts, the amount and the KPI rows."""
    assert proposal.id is not None
    return {**{name: getattr(proposal, name) for name in TEXT_FIELDS},
            "cost_estimate_yen": proposal.cost_estimate_yen,
            "kpis": [{"indicator": k.indicator, "baseline": k.baseline, "target": k.target, "unit": k.unit}
                     for k in kpis_of(session, proposal.id)]}


def coauthor_candidates(session: Session, proposal_id: int, limit: int = 500) -> Sequence[Organisation]:
    """Verified organisations not yet authoring the proposal (the lead's choice list)."""
    authoring = select(ProposalOrganisation.organisation_id).where(ProposalOrganisation.proposal_id == proposal_id)
    return session.exec(select(Organisation).where(col(Organisation.verified_at).is_not(None),
                                                   col(Organisation.id).not_in(authoring))
                        .order_by(col(Organisation.name), col(Organisation.id)).limit(limit)).all()


def attachments_of(session: Session, proposal_id: int, *, confidential: bool = True) -> Sequence[ProposalAttachment]:
    """A proposal's attachments, oldest first; ``confidential=False`` leaves confidential ones out."""
    statement = select(ProposalAttachment).where(ProposalAttachment.proposal_id == proposal_id)
    if not confidential:
        statement = statement.where(col(ProposalAttachment.confidential).is_(False))
    return session.exec(statement.order_by(col(ProposalAttachment.created_at), col(ProposalAttachment.id))).all()


def path_of(settings: Settings, attachment: ProposalAttachment) -> Path:
    return files.stored_path(settings, attachment.storage_key, STORAGE_FOLDER)


def for_download(session: Session, settings: Settings, actor: Principal, proposal_id: int,
                 attachment_id: int) -> tuple[ProposalAttachment, Path, bool] | None:
    """The attachment, its file and whether it is public, if the actor may read it; else None."""
    try:
        proposal, _challenge, on = load(session, actor, proposal_id)
    except NotFound:
        return None
    attachment = session.get(ProposalAttachment, attachment_id)
    if attachment is None or attachment.proposal_id != proposal_id:
        return None
    public = shows_public_content(proposal) and not attachment.confidential
    if not public and not permissions.can(actor, "proposal.read_confidential", on):
        return None
    path = path_of(settings, attachment)
    if not path.is_file():
        return None
    return attachment, path, public


# --- versions ------------------------------------------------------------------------------------


def field_labels() -> Mapping[str, str]:
    return {
        "title": _("Title"), "summary": _("Summary"), "description": _("Description"), "team": _("Team"),
        "cost_estimate_yen": _("Cost estimate"), "schedule": _("Schedule"),
        "test_field_needs": _("Test field needed"), "kpis": _("Proposed KPIs"),
        "confidential": _("Confidential part"), "organisations": _("Organisations"),
        "attachments": _("Attachments"),
    }


def _version_text(name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if name == "cost_estimate_yen":
        try:
            return i18n.format_yen(int(value))
        except (TypeError, ValueError):
            return str(value)
    if name == "kpis" and isinstance(value, list):
        return "\n".join(_("%(indicator)s: %(baseline)s → %(target)s %(unit)s", indicator=row[0],
                           baseline=row[1] or "–", target=row[2], unit=row[3]).strip() for row in value)
    if name in ("organisations", "attachments") and isinstance(value, list):
        return "\n".join(str(row[1]) for row in value)
    return str(value)


@dataclass(frozen=True)
class VersionChange:
    field: str
    label: str
    diff: list[DiffLine]


def versions(session: Session, actor: Principal, proposal_id: int) -> tuple[Proposal, Challenge,
                                                                          Sequence[ProposalVersion]]:
    """Every submitted version, newest first (authors, owning staff and assigned reviewers)."""
    proposal, challenge, on = load(session, actor, proposal_id)
    permissions.require(actor, "proposal.compare_versions", on)
    rows = session.exec(select(ProposalVersion).where(ProposalVersion.proposal_id == proposal_id)
                        .order_by(col(ProposalVersion.number).desc())).all()
    return proposal, challenge, rows


def diff(older: ProposalVersion, newer: ProposalVersion) -> list[VersionChange]:
    """What changed from ``older`` to ``newer``, field by field, as line diffs."""
    before, after = json.loads(older.content_json), json.loads(newer.content_json)
    changes = []
    for name, label in field_labels().items():
        if before.get(name) != after.get(name):
            changes.append(VersionChange(name, label, line_diff(_version_text(name, before.get(name)),
                                                                _version_text(name, after.get(name)))))
    return changes


# --- similar proposals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Similar:
    id: int
    title: str
    summary: str
    score: float


def similar_proposals(session: Session, settings: Settings, challenge_id: int, title: str, summary: str,
                      exclude_id: int | None = None, limit: int = SIMILAR_LIMIT) -> list[Similar]:
    """Up to ``limit`` submitted, public proposals of the challenge most like ``title`` and ``summary``.

    The search index finds them (:func:`cocreate.search.query.similar`); drafts, withdrawn and hidden
    proposals are never in it. The index follows commits a moment later, so the proposals found are
    read again here and only those still public on this challenge are kept.
    """
    text = f"{title} {summary}".strip()
    limit = max(0, min(limit, SIMILAR_LIMIT))
    if not text or not limit:
        return []
    hits = search_query.similar(settings, challenge_id=challenge_id, text=text, exclude_id=exclude_id, limit=limit)
    ids = [hit.id for hit in hits if hit.type == PROPOSAL and hit.id != exclude_id]
    if not ids:
        return []
    rows = session.exec(select(Proposal.id, Proposal.title, Proposal.summary).where(
        col(Proposal.id).in_(ids), Proposal.challenge_id == challenge_id,
        Proposal.status == ProposalStatus.SUBMITTED, col(Proposal.hidden_at).is_(None))).all()
    current = {proposal_id: (other_title, other_summary) for proposal_id, other_title, other_summary in rows}
    return [Similar(hit.id, *current[hit.id], hit.score) for hit in hits if hit.id in current]


# --- reading: list and detail --------------------------------------------------------------------


class StatusFilter(StrEnum):
    ALL = ""
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    SELECTED = "selected"
    NOT_SELECTED = "not_selected"

    @property
    def label(self) -> str:
        return {
            StatusFilter.ALL: _("All"), StatusFilter.SUBMITTED: _("Submitted"),
            StatusFilter.WITHDRAWN: _("Withdrawn"), StatusFilter.SELECTED: _("Selected"),
            StatusFilter.NOT_SELECTED: _("Not selected"),
        }[self]


class SortOrder(StrEnum):
    NEWEST = "newest"
    VOTES = "votes"
    COMMENTS = "comments"
    RANDOM = "random"

    @property
    def label(self) -> str:
        return {SortOrder.NEWEST: _("Newest"), SortOrder.VOTES: _("Most votes"),
                SortOrder.COMMENTS: _("Most comments"), SortOrder.RANDOM: _("Random")}[self]


SEED_MAX = 1_000_000


def new_seed() -> int:
    return secrets.randbelow(SEED_MAX) + 1


def parse_seed(raw: Any) -> int | None:
    value = parse_id(raw)
    return value if value is not None and 1 <= value <= SEED_MAX else None


def _order(sort: SortOrder, seed: int) -> list[Any]:
    newest = [col(Proposal.submitted_at).desc(), col(Proposal.id).desc()]
    if sort is SortOrder.VOTES:
        return [col(Proposal.vote_count).desc(), *newest]
    if sort is SortOrder.COMMENTS:
        return [col(Proposal.comment_count).desc(), *newest]
    if sort is SortOrder.RANDOM:
        # A stable shuffle computed by the database, the same on SQLite and PostgreSQL (64-bit integers).
        big = sa.BigInteger()
        shuffled = ((sa.cast(col(Proposal.id), big) + sa.literal(seed, big)) * sa.literal(2654435761, big)
                    ) % sa.literal(4294967291, big)
        return [shuffled, col(Proposal.id)]
    return newest


@dataclass(frozen=True)
class ListItem:
    proposal: Proposal
    organisations: list[Organisation]
    decision_public: bool

    @property
    def shows_content(self) -> bool:
        return shows_public_content(self.proposal)


def find_public(session: Session, challenge: Challenge, *, status: StatusFilter = StatusFilter.ALL,
                sort: SortOrder = SortOrder.NEWEST, seed: int = 1, page: int = 1,
                per_page: int = PER_PAGE) -> Page[ListItem]:
    """One page of a challenge's public proposals, in three queries whatever the page size."""
    conditions: list[Any] = [Proposal.challenge_id == challenge.id, col(Proposal.status).in_(PUBLIC_STATUSES)]
    if status is StatusFilter.SUBMITTED:
        conditions.append(Proposal.status == ProposalStatus.SUBMITTED)
    elif status is StatusFilter.WITHDRAWN:
        conditions.append(Proposal.status == ProposalStatus.WITHDRAWN)
    elif status in (StatusFilter.SELECTED, StatusFilter.NOT_SELECTED):
        outcome = DecisionOutcome.SELECTED if status is StatusFilter.SELECTED else DecisionOutcome.NOT_SELECTED
        conditions.append(Proposal.decision == outcome if challenge.decisions_published_at is not None
                          else sa.false())
    statement = select(Proposal).where(*conditions).order_by(*_order(sort, seed))
    result = paginate(session, statement, page, per_page)
    ids = [p.id for p in result.items]
    by_proposal: dict[int, list[Organisation]] = {}
    if ids:
        rows = session.exec(select(ProposalOrganisation.proposal_id, Organisation)
                            .join(Organisation, col(Organisation.id) == col(ProposalOrganisation.organisation_id))
                            .where(col(ProposalOrganisation.proposal_id).in_(ids))
                            .order_by(col(ProposalOrganisation.is_lead).desc(), col(Organisation.name))).all()
        for proposal_id, organisation in rows:
            by_proposal.setdefault(proposal_id, []).append(organisation)
    items = [ListItem(p, by_proposal.get(p.id, []), decision_public(p, challenge)) for p in result.items]  # type: ignore[arg-type]
    return Page(items=items, page=result.page, per_page=result.per_page, total=result.total)


def my_proposals(session: Session, actor: Principal, challenge_id: int,
                 known: challenges.ChallengeViewer | None = None) -> Sequence[Proposal]:
    """The proposals of the actor's organisations on a challenge, drafts included (``known``: what the
    challenge page already read about the actor)."""
    mine = known.organisation_ids if known is not None else member_organisation_ids(session, actor.user_id)
    if not mine:
        return []
    authoring = select(ProposalOrganisation.proposal_id).where(col(ProposalOrganisation.organisation_id).in_(mine))
    return session.exec(select(Proposal).where(Proposal.challenge_id == challenge_id, col(Proposal.id).in_(authoring))
                        .order_by(col(Proposal.updated_at).desc(), col(Proposal.id).desc()).limit(50)).all()


@dataclass
class Detail:
    """A proposal's page as one viewer sees it; ``on`` is the proposal as the permission rules see it
    for them (the template asks ``can("proposal.edit", d.on)``…)."""

    proposal: Proposal
    challenge: Challenge
    on: OnProposal
    authors: list[tuple[ProposalOrganisation, Organisation]]
    kpis: Sequence[ProposalKpi]
    attachments: Sequence[ProposalAttachment]
    shows_content: bool
    decision_public: bool
    coauthor_candidates: Sequence[Organisation] = ()

    @property
    def pending_confirmations(self) -> list[Organisation]:
        return [o for row, o in self.authors if row.confirmed_at is None]

    @property
    def my_pending(self) -> list[Organisation]:
        return [o for row, o in self.authors if row.confirmed_at is None
                and row.organisation_id in self.on.author_organisation_ids]

    @property
    def is_draft(self) -> bool:
        return self.proposal.status is ProposalStatus.DRAFT


def detail(session: Session, actor: Principal, proposal_id: int) -> Detail:
    proposal, challenge, on = load(session, actor, proposal_id)
    assert proposal.id is not None
    public = shows_public_content(proposal)
    privileged = bool(permissions.can(actor, "proposal.read_confidential", on))
    shows = public or privileged
    attachments = attachments_of(session, proposal.id, confidential=privileged) if shows else []
    result = Detail(proposal, challenge, on, authors_of(session, proposal.id),
                    kpis_of(session, proposal.id) if shows else [], attachments, shows,
                    decision_public(proposal, challenge))
    if permissions.can(actor, "proposal.invite_coauthor", on):
        result.coauthor_candidates = coauthor_candidates(session, proposal.id)
    return result
