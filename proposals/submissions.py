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
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from litestar.exceptions import NotFoundException
from sqlmodel import Session, col, func, select

from cocreate import audit, i18n
from cocreate.accounts.models import Organisation, OrganisationMember, User
from cocreate.accounts.permissions import (
    Forbidden,
    Principal,
    require_signed_in,
    require_verified_organisation,
)
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.i18n import gettext as _
from cocreate.notifications import services as notifications
from cocreate.search import query as search_query
from cocreate.settings import Settings
from cocreate.web.forms import parse_id
from cocreate.web.pagination import DEFAULT_PER_PAGE, Page, paginate
from proposals import attachments as files
from proposals import challenges, events, lifecycle, phases
from proposals.challenges import KpiInput
from proposals.models import (
    Challenge,
    DecisionOutcome,
    Phase,
    Proposal,
    ProposalAttachment,
    ProposalKpi,
    ProposalOrganisation,
    ProposalStatus,
    ProposalVersion,
    ReviewerAssignment,
)
from proposals.phases import Action
from proposals.public_routes import DiffLine, line_diff

TITLE_MAX = 200
SUMMARY_MAX = 500
LONG_TEXT_MAX = 20_000
COST_MAX = 1_000_000_000_000
MAX_KPIS = challenges.MAX_KPIS
MAX_COAUTHORS = 10
MAX_FILES = 10
MAX_TOTAL_BYTES = 50 * 1024 * 1024
ATTACHMENT_TITLE_MAX = 200
STORAGE_FOLDER = "proposals"
PER_PAGE = DEFAULT_PER_PAGE
SIMILAR_LIMIT = 5
CONTROL_CHARS = challenges.CONTROL_CHARS
PROPOSAL = "proposal"
CHALLENGE = "challenge"
"""``target_type`` of follows and audit entries."""

LONG_FIELDS = ("description", "team", "schedule", "test_field_needs", "confidential")
TEXT_FIELDS = ("title", "summary", *LONG_FIELDS)
PUBLIC_STATUSES = (ProposalStatus.SUBMITTED, ProposalStatus.WITHDRAWN)


class NotFound(NotFoundException):
    """The proposal (or challenge) does not exist, or the actor may not know it does."""


# --- input and validation ------------------------------------------------------------------------


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


# --- who sees what -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """What one actor may do with one proposal (computed once per page)."""

    principal: Principal
    author_organisation_ids: frozenset[int]
    """The actor's organisations among the proposal's authors (confirmed or invited)."""
    confirmed_author: bool
    lead_member: bool
    is_owner: bool
    is_reviewer: bool

    @property
    def is_author(self) -> bool:
        return bool(self.author_organisation_ids)

    @property
    def sees_confidential(self) -> bool:
        return self.is_author or self.is_owner or self.is_reviewer

    @property
    def sees_versions(self) -> bool:
        return self.sees_confidential


def member_organisation_ids(session: Session, user_id: int | None) -> set[int]:
    if user_id is None:
        return set()
    return set(session.exec(select(OrganisationMember.organisation_id)
                            .where(OrganisationMember.user_id == user_id)).all())


def authors_of(session: Session, proposal_id: int) -> list[tuple[ProposalOrganisation, Organisation]]:
    """The authoring organisations, the lead first, then in the order they were added."""
    rows = session.exec(select(ProposalOrganisation, Organisation)
                        .join(Organisation, col(Organisation.id) == col(ProposalOrganisation.organisation_id))
                        .where(ProposalOrganisation.proposal_id == proposal_id)
                        .order_by(col(ProposalOrganisation.is_lead).desc(), col(Organisation.name),
                                  col(Organisation.id))).all()
    return list(rows)


def _access_columns(actor: Principal, challenge_id: Any) -> tuple[Any, ...]:
    """The columns that say what the actor is to one proposal, for a query that also reads other things:
    whether they review its challenge, and each of their organisations among its authors (an outer join:
    a row with None when there is none)."""
    reviewer = sa.exists().where(col(ReviewerAssignment.challenge_id) == challenge_id,
                                 col(ReviewerAssignment.user_id) == actor.user_id)
    return (reviewer.label("reviewer"), ProposalOrganisation.organisation_id, ProposalOrganisation.confirmed_at)


def _authored_join(actor: Principal, proposal_id: Any) -> Any:
    mine = select(OrganisationMember.organisation_id).where(OrganisationMember.user_id == actor.user_id)
    return sa.and_(col(ProposalOrganisation.proposal_id) == proposal_id,
                   col(ProposalOrganisation.organisation_id).in_(mine))


def _access(session: Session, actor: Principal, proposal: Proposal, challenge: Challenge,
            rows: Sequence[Any]) -> Access:
    """Access from the rows of :func:`_access_columns` (empty for nobody signed in)."""
    authored = frozenset(row.organisation_id for row in rows if row.organisation_id is not None)
    confirmed = any(row.organisation_id is not None and row.confirmed_at is not None for row in rows)
    return Access(actor, authored, confirmed, proposal.lead_organisation_id in authored,
                  lifecycle.is_owner(session, actor, challenge), any(row.reviewer for row in rows))


def access_of(session: Session, actor: Principal, proposal: Proposal, challenge: Challenge) -> Access:
    """What the actor may do with the proposal (one query for someone signed in, none for nobody)."""
    if actor.user_id is None:
        return _access(session, actor, proposal, challenge, [])
    rows = session.execute(
        select(*_access_columns(actor, challenge.id)).select_from(Proposal)
        .outerjoin(ProposalOrganisation, _authored_join(actor, Proposal.id))
        .where(Proposal.id == proposal.id)
    ).all()
    return _access(session, actor, proposal, challenge, rows)


def proposing_organisations(session: Session, actor: Principal) -> Sequence[Organisation]:
    """The verified organisations the actor may propose for."""
    if actor.user_id is None:
        return []
    return session.exec(
        select(Organisation).join(OrganisationMember, col(OrganisationMember.organisation_id) == Organisation.id)
        .where(OrganisationMember.user_id == actor.user_id, col(Organisation.verified_at).is_not(None))
        .order_by(col(Organisation.name), col(Organisation.id))).all()


@dataclass(frozen=True)
class Eligibility:
    """Whether the actor may start a proposal on a challenge, and why not."""

    allowed: bool
    reason: str
    organisations: Sequence[Organisation] = ()

    def __bool__(self) -> bool:
        return self.allowed


def eligibility(session: Session, actor: Principal, challenge: Challenge,
                known: challenges.ChallengeViewer | None = None) -> Eligibility:
    """``known``: what the challenge page already read about the actor (their organisations)."""
    decision = phases.check(challenge.phase, Action.PROPOSE)
    if not decision:
        return Eligibility(False, decision.reason)
    if actor.user is None:
        return Eligibility(False, _("Sign in as a member of a verified organisation to submit a proposal."))
    organisations = (known.verified_organisations if known is not None
                     else proposing_organisations(session, actor))
    if not organisations:
        if known.organisations if known is not None else member_organisation_ids(session, actor.user_id):
            return Eligibility(False, _("Your organisation must be verified by the ward before it can do this."))
        return Eligibility(False, _("Proposals are submitted by organisations. Register your organisation, or ask "
                                    "its administrator to add you, and have it verified by the ward."))
    return Eligibility(True, "", organisations)


# --- loading and locking -------------------------------------------------------------------------


def _challenge_or_404(session: Session, actor: Principal, challenge_id: int, *, lock: bool) -> Challenge:
    challenge = session.get(Challenge, challenge_id, with_for_update=lock, populate_existing=lock)
    if challenge is None or (challenge.phase is Phase.DRAFT and not lifecycle.is_owner(session, actor, challenge)):
        if lock:
            session.rollback()
        raise NotFound()
    return challenge


def load_challenge(session: Session, actor: Principal, challenge_id: int) -> Challenge:
    return _challenge_or_404(session, actor, challenge_id, lock=False)


def can_read(proposal: Proposal, access: Access) -> bool:
    """Whether the proposal's page exists for this actor (drafts: authors only)."""
    return proposal.status is not ProposalStatus.DRAFT or access.is_author


def load(session: Session, actor: Principal, proposal_id: int) -> tuple[Proposal, Challenge, Access]:
    """The proposal, its challenge and the actor's access, in one query; 404 when the actor may not know
    it exists."""
    query = (select(Proposal, Challenge).join(Challenge, col(Challenge.id) == Proposal.challenge_id)
             .where(Proposal.id == proposal_id))
    if actor.user_id is not None:
        query = (query.add_columns(*_access_columns(actor, Proposal.challenge_id))
                 .outerjoin(ProposalOrganisation, _authored_join(actor, Proposal.id)))
    rows = session.execute(query).all()
    if not rows:
        raise NotFound()
    proposal, challenge = rows[0][0], rows[0][1]
    if challenge.phase is Phase.DRAFT and not lifecycle.is_owner(session, actor, challenge):
        raise NotFound()
    access = _access(session, actor, proposal, challenge, rows if actor.user_id is not None else [])
    if not can_read(proposal, access):
        raise NotFound()
    return proposal, challenge, access


def _lock(session: Session, actor: Principal, proposal_id: int) -> tuple[Proposal, Challenge, Access]:
    """The proposal and its challenge, both locked (the challenge first, always in that order)."""
    require_signed_in(actor)
    challenge_id = session.exec(select(Proposal.challenge_id).where(Proposal.id == proposal_id)).first()
    if challenge_id is None:
        raise NotFound()
    challenge = _challenge_or_404(session, actor, challenge_id, lock=True)
    proposal = session.get(Proposal, proposal_id, with_for_update=True, populate_existing=True)
    if proposal is None:
        session.rollback()
        raise NotFound()
    access = access_of(session, actor, proposal, challenge)
    if not can_read(proposal, access):
        session.rollback()
        raise NotFound()
    return proposal, challenge, access


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


def recount(session: Session, challenge: Challenge) -> int:
    """Set ``proposal_count`` to the number of submitted proposals (the caller holds the row lock)."""
    session.flush()
    challenge.proposal_count = session.exec(
        select(func.count()).select_from(Proposal)
        .where(Proposal.challenge_id == challenge.id, Proposal.status == ProposalStatus.SUBMITTED)).one()
    return challenge.proposal_count


def _actor_label(user: User) -> str:
    return f"{user.display_name} (#{user.id})"[:200]


# --- writing -------------------------------------------------------------------------------------


def kpis_of(session: Session, proposal_id: int) -> Sequence[ProposalKpi]:
    return session.exec(select(ProposalKpi).where(ProposalKpi.proposal_id == proposal_id)
                        .order_by(col(ProposalKpi.position), col(ProposalKpi.id))).all()


def _apply(session: Session, proposal: Proposal, data: ProposalInput) -> list[str]:
    """Copy ``data`` onto the proposal and its KPI rows; returns the names of the changed fields."""
    changed = []
    for name in TEXT_FIELDS:
        new = _clean(getattr(data, name))
        new = new.strip() if name in ("title", "summary") else new
        if getattr(proposal, name) != new:
            setattr(proposal, name, new)
            changed.append(name)
    if proposal.cost_estimate_yen != data.cost_estimate_yen:
        proposal.cost_estimate_yen = data.cost_estimate_yen
        changed.append("cost_estimate_yen")
    session.flush()
    old = [(k.indicator, k.baseline, k.target, k.unit) for k in kpis_of(session, proposal.id)]  # type: ignore[arg-type]
    new_kpis = [(k.indicator.strip(), k.baseline.strip(), k.target.strip(), k.unit.strip()) for k in data.kpis]
    if old != new_kpis:
        for row in kpis_of(session, proposal.id):  # type: ignore[arg-type]
            session.delete(row)
        for position, (indicator, baseline, target, unit) in enumerate(new_kpis):
            session.add(ProposalKpi(proposal_id=proposal.id, position=position, indicator=indicator,  # type: ignore[arg-type]
                                    baseline=baseline, target=target, unit=unit))
        changed.append("kpis")
    return changed


def create_draft(session: Session, actor: Principal, challenge_id: int, organisation_id: int | str | None,
                 data: ProposalInput) -> Proposal:
    """A new draft led by ``organisation_id`` (a verified organisation of the actor). Commits.

    The author then follows the proposal and its challenge.
    """
    user = require_signed_in(actor)
    challenge = _challenge_or_404(session, actor, challenge_id, lock=True)
    _require_phase(session, challenge)
    org_id = parse_id(organisation_id)
    if org_id is None:
        session.rollback()
        raise Invalid({"organisation_id": _("Choose the organisation that proposes.")})
    try:
        require_verified_organisation(session, actor, org_id)
    except Forbidden:
        session.rollback()
        raise
    if errors := validate(data, complete=False):
        session.rollback()
        raise Invalid(errors)
    proposal = Proposal(challenge_id=challenge.id, lead_organisation_id=org_id, created_by_id=user.id,  # type: ignore[arg-type]
                        status=ProposalStatus.DRAFT, title="")
    session.add(proposal)
    session.flush()
    _apply(session, proposal, data)
    session.add(ProposalOrganisation(proposal_id=proposal.id, organisation_id=org_id, is_lead=True,  # type: ignore[arg-type]
                                     confirmed_at=utcnow(), confirmed_by_id=user.id))
    notifications.follow(session, user.id, PROPOSAL, proposal.id)  # type: ignore[arg-type]
    notifications.follow(session, user.id, CHALLENGE, challenge.id)  # type: ignore[arg-type]
    session.commit()
    return proposal


def _content(session: Session, proposal: Proposal) -> dict[str, Any]:
    """The full content of a proposal as stored in a version."""
    assert proposal.id is not None
    return {
        **{name: getattr(proposal, name) for name in TEXT_FIELDS},
        "cost_estimate_yen": proposal.cost_estimate_yen,
        "kpis": [[k.indicator, k.baseline, k.target, k.unit] for k in kpis_of(session, proposal.id)],
        "organisations": [[o.id, o.name, bool(row.is_lead)] for row, o in authors_of(session, proposal.id)],
        "attachments": [[a.id, a.filename, a.confidential] for a in attachments_of(session, proposal.id)],
    }


def _add_version(session: Session, proposal: Proposal, user: User, now: datetime) -> ProposalVersion:
    proposal.version += 1
    version = ProposalVersion(proposal_id=proposal.id, number=proposal.version, submitted_at=now,  # type: ignore[arg-type]
                              submitted_by_id=user.id,
                              content_json=json.dumps(_content(session, proposal), ensure_ascii=False))
    session.add(version)
    return version


def update(session: Session, actor: Principal, proposal_id: int, data: ProposalInput) -> Proposal:
    """Save changes (authors). A submitted proposal changes only while the challenge accepts proposals,
    must stay complete, and each saved change is a new version. Commits."""
    user = require_signed_in(actor)
    proposal, challenge, access = _lock(session, actor, proposal_id)
    _require_editor(session, access)
    if proposal.status is ProposalStatus.WITHDRAWN:
        _refuse(session, _("A withdrawn proposal can no longer be changed."))
    submitted = proposal.status is ProposalStatus.SUBMITTED
    if submitted:
        _require_phase(session, challenge)
    if errors := validate(data, complete=submitted):
        session.rollback()
        raise Invalid(errors)
    changed = _apply(session, proposal, data)
    if submitted and changed:
        now = utcnow()
        _add_version(session, proposal, user, now)
        audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.resubmitted",
                     target_type=PROPOSAL, target_id=str(proposal.id),
                     details={"challenge_id": challenge.id, "version": proposal.version, "fields": changed})
    session.commit()
    return proposal


def submit(session: Session, actor: Principal, proposal_id: int) -> Proposal:
    """Submit a complete draft while the challenge accepts proposals; every co-author must have confirmed.
    The first version is kept. Commits."""
    user = require_signed_in(actor)
    proposal, challenge, access = _lock(session, actor, proposal_id)
    _require_editor(session, access)
    if proposal.status is not ProposalStatus.DRAFT:
        session.rollback()
        raise Invalid({"submit": _("This proposal has already been submitted.")})
    _require_phase(session, challenge)
    errors = validate(ProposalInput.from_proposal(session, proposal), complete=True)
    pending = [o.name for row, o in authors_of(session, proposal_id) if row.confirmed_at is None]
    if pending:
        errors["coauthors"] = _("Every organisation of the consortium must confirm first. Waiting for: "
                                "%(names)s.", names="、".join(pending))
    if errors:
        session.rollback()
        raise Invalid(errors)
    now = utcnow()
    proposal.status = ProposalStatus.SUBMITTED
    proposal.submitted_at = now
    _add_version(session, proposal, user, now)
    recount(session, challenge)
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.submitted",
                 target_type=PROPOSAL, target_id=str(proposal.id),
                 details={"challenge_id": challenge.id, "version": proposal.version})
    events.announce(session, events.PROPOSAL_SUBMITTED, proposal_id, actor_id=user.id)
    session.commit()
    return proposal


def withdraw(session: Session, actor: Principal, proposal_id: int) -> Proposal:
    """Withdraw a submitted proposal (authors, while accepting). The row and its versions stay. Commits."""
    user = require_signed_in(actor)
    proposal, challenge, access = _lock(session, actor, proposal_id)
    _require_editor(session, access)
    if proposal.status is not ProposalStatus.SUBMITTED:
        session.rollback()
        raise Invalid({"withdraw": _("Only a submitted proposal can be withdrawn.")})
    _require_phase(session, challenge)
    proposal.status = ProposalStatus.WITHDRAWN
    proposal.withdrawn_at = utcnow()
    recount(session, challenge)
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.withdrawn",
                 target_type=PROPOSAL, target_id=str(proposal.id), details={"challenge_id": challenge.id})
    session.commit()
    return proposal


# --- consortium ----------------------------------------------------------------------------------


def coauthor_candidates(session: Session, proposal_id: int, limit: int = 500) -> Sequence[Organisation]:
    """Verified organisations not yet authoring the proposal (the lead's choice list)."""
    authoring = select(ProposalOrganisation.organisation_id).where(ProposalOrganisation.proposal_id == proposal_id)
    return session.exec(select(Organisation).where(col(Organisation.verified_at).is_not(None),
                                                   col(Organisation.id).not_in(authoring))
                        .order_by(col(Organisation.name), col(Organisation.id)).limit(limit)).all()


def add_coauthor(session: Session, actor: Principal, proposal_id: int, organisation_id: int | str) -> Organisation:
    """The lead's members invite a verified organisation as co-author of a draft; a member of it confirms."""
    user = require_signed_in(actor)
    proposal, challenge, access = _lock(session, actor, proposal_id)
    if not access.lead_member:
        _refuse(session, _("Only members of the lead organisation can invite co-authors."))
    if proposal.status is not ProposalStatus.DRAFT:
        session.rollback()
        raise Invalid({"organisation_id": _("Co-authors can be added only before submission.")})
    org_id = parse_id(organisation_id)
    organisation = session.get(Organisation, org_id) if org_id is not None else None
    rows = session.exec(select(ProposalOrganisation).where(ProposalOrganisation.proposal_id == proposal_id)).all()
    error = None
    if organisation is None or not organisation.is_verified:
        error = _("Choose a verified organisation from the list.")
    elif any(row.organisation_id == org_id for row in rows):
        error = _("This organisation is already an author of the proposal.")
    elif len(rows) - 1 >= MAX_COAUTHORS:
        error = _("A consortium can have at most %(max)s co-authors.", max=MAX_COAUTHORS)
    if error:
        session.rollback()
        raise Invalid({"organisation_id": error})
    assert organisation is not None
    session.add(ProposalOrganisation(proposal_id=proposal_id, organisation_id=organisation.id, is_lead=False))  # type: ignore[arg-type]
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.coauthor_invited",
                 target_type=PROPOSAL, target_id=str(proposal_id),
                 details={"challenge_id": challenge.id, "organisation_id": organisation.id})
    session.commit()
    return organisation


def confirm_coauthor(session: Session, actor: Principal, proposal_id: int, organisation_id: int | str) -> None:
    """A member of an invited (verified) organisation confirms its part in the consortium. Commits."""
    user = require_signed_in(actor)
    proposal, challenge, _access = _lock(session, actor, proposal_id)
    org_id = parse_id(organisation_id)
    row = session.get(ProposalOrganisation, (proposal_id, org_id)) if org_id is not None else None
    if row is None:
        session.rollback()
        raise NotFound()
    try:
        require_verified_organisation(session, actor, row.organisation_id)
    except Forbidden:
        session.rollback()
        raise
    if row.confirmed_at is not None:
        session.rollback()
        raise Invalid({"confirm": _("Your organisation has already confirmed.")})
    if proposal.status is not ProposalStatus.DRAFT:
        session.rollback()
        raise Invalid({"confirm": _("This proposal is no longer a draft.")})
    row.confirmed_at = utcnow()
    row.confirmed_by_id = user.id
    notifications.follow(session, user.id, PROPOSAL, proposal_id)
    notifications.follow(session, user.id, CHALLENGE, challenge.id)  # type: ignore[arg-type]
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.coauthor_confirmed",
                 target_type=PROPOSAL, target_id=str(proposal_id),
                 details={"challenge_id": challenge.id, "organisation_id": row.organisation_id})
    session.commit()


def remove_coauthor(session: Session, actor: Principal, proposal_id: int, organisation_id: int | str) -> None:
    """Before submission, the lead removes a co-author, or a co-author's member declines. Commits."""
    user = require_signed_in(actor)
    proposal, challenge, access = _lock(session, actor, proposal_id)
    org_id = parse_id(organisation_id)
    row = session.get(ProposalOrganisation, (proposal_id, org_id)) if org_id is not None else None
    if row is None or row.is_lead:
        session.rollback()
        raise Invalid({"organisation_id": _("Choose a co-author of this proposal.")})
    if not (access.lead_member or row.organisation_id in access.author_organisation_ids):
        _refuse(session, _("Only members of the lead organisation can invite co-authors."))
    if proposal.status is not ProposalStatus.DRAFT:
        session.rollback()
        raise Invalid({"organisation_id": _("Co-authors can be changed only before submission.")})
    session.delete(row)
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.coauthor_removed",
                 target_type=PROPOSAL, target_id=str(proposal_id),
                 details={"challenge_id": challenge.id, "organisation_id": org_id})
    session.commit()


# --- attachments (PDF) ---------------------------------------------------------------------------


def attachments_of(session: Session, proposal_id: int, *, confidential: bool = True) -> Sequence[ProposalAttachment]:
    """A proposal's attachments, oldest first; ``confidential=False`` leaves confidential ones out."""
    statement = select(ProposalAttachment).where(ProposalAttachment.proposal_id == proposal_id)
    if not confidential:
        statement = statement.where(col(ProposalAttachment.confidential).is_(False))
    return session.exec(statement.order_by(col(ProposalAttachment.created_at), col(ProposalAttachment.id))).all()


def attachment_url(attachment: ProposalAttachment) -> str:
    return f"/proposals/{attachment.proposal_id}/attachments/{attachment.id}"


def path_of(settings: Settings, attachment: ProposalAttachment) -> Path:
    return files.stored_path(settings, attachment.storage_key, STORAGE_FOLDER)


def _require_changeable(session: Session, proposal: Proposal, challenge: Challenge, access: Access) -> None:
    _require_editor(session, access)
    if proposal.status is ProposalStatus.WITHDRAWN:
        _refuse(session, _("A withdrawn proposal can no longer be changed."))
    if proposal.status is ProposalStatus.SUBMITTED:
        _require_phase(session, challenge)


def add_attachment(session: Session, settings: Settings, actor: Principal, proposal_id: int, *, title: str,
                   confidential: bool, source: BinaryIO | None, filename: str) -> ProposalAttachment:
    """Attach a PDF (authors, while the proposal can change). The type is read from the content."""
    user = require_signed_in(actor)
    proposal, challenge, access = _lock(session, actor, proposal_id)
    _require_changeable(session, proposal, challenge, access)
    session.rollback()  # hold no lock while the file is copied
    errors: dict[str, str] = {}
    title = " ".join(_clean(title).split())
    if message := _text_error(title, ATTACHMENT_TITLE_MAX, required=False, single_line=True):
        errors["attachment_title"] = message
    received = None
    if source is None or not filename:
        errors["file"] = _("Choose a file to upload.")
    else:
        try:
            received = files.receive(settings, source, folder=STORAGE_FOLDER)
        except Invalid as failed:
            errors.update(failed.errors)
    if received is not None and received.file_type is not files.PDF:
        errors["file"] = _("Only PDF files can be attached to a proposal.")
    if errors:
        if received is not None:
            files.remove_file(received.path)
        raise Invalid(errors)
    assert received is not None
    try:
        proposal, challenge, access = _lock(session, actor, proposal_id)
        _require_changeable(session, proposal, challenge, access)
        count, total = session.exec(
            select(func.count(), func.coalesce(func.sum(ProposalAttachment.size_bytes), 0))
            .where(ProposalAttachment.proposal_id == proposal_id)).one()
        if count + 1 > MAX_FILES:
            raise Invalid({"file": _("A proposal can have at most %(max)s files. Delete one first.",
                                              max=MAX_FILES)})
        if total + received.size_bytes > MAX_TOTAL_BYTES:
            raise Invalid({"file": _("All files of a proposal together may take at most %(max)s MB; "
                                              "this one would go over.", max=MAX_TOTAL_BYTES // (1024 * 1024))})
        attachment = ProposalAttachment(
            proposal_id=proposal_id, title=title, filename=files.clean_filename(filename, received.file_type),
            content_type=received.file_type.content_type, size_bytes=received.size_bytes, sha256=received.sha256,
            storage_key=received.storage_key, confidential=confidential, uploaded_by_id=user.id)
        session.add(attachment)
        session.commit()
    except BaseException:
        session.rollback()
        files.remove_file(received.path)
        raise
    return attachment


def delete_attachment(session: Session, settings: Settings, actor: Principal, proposal_id: int,
                      attachment_id: int) -> None:
    """Remove an attachment (authors, while the proposal can change); versions keep its name."""
    require_signed_in(actor)
    proposal, challenge, access = _lock(session, actor, proposal_id)
    _require_changeable(session, proposal, challenge, access)
    attachment = session.get(ProposalAttachment, attachment_id)
    if attachment is None or attachment.proposal_id != proposal_id:
        session.rollback()
        raise Invalid({"file": _("This file does not exist (it may have been deleted already).")})
    path = path_of(settings, attachment)
    session.delete(attachment)
    session.commit()
    files.remove_file(path)


def for_download(session: Session, settings: Settings, actor: Principal, proposal_id: int,
                 attachment_id: int) -> tuple[ProposalAttachment, Path, bool] | None:
    """The attachment, its file and whether it is public, if the actor may read it; else None."""
    try:
        proposal, _challenge, access = load(session, actor, proposal_id)
    except NotFound:
        return None
    attachment = session.get(ProposalAttachment, attachment_id)
    if attachment is None or attachment.proposal_id != proposal_id:
        return None
    public = shows_public_content(proposal) and not attachment.confidential
    if not public and not access.sees_confidential:
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
    proposal, challenge, access = load(session, actor, proposal_id)
    require_signed_in(actor)
    if not access.sees_versions:
        raise Forbidden(_("Only the proposal's authors, the staff in charge and its reviewers can compare versions."))
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

    @property
    def url(self) -> str:
        return f"/proposals/{self.id}"


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


def shows_public_content(proposal: Proposal) -> bool:
    """Whether everyone may read the proposal's public part (submitted and not hidden)."""
    return proposal.status is ProposalStatus.SUBMITTED and proposal.hidden_at is None


def decision_public(proposal: Proposal, challenge: Challenge) -> bool:
    return proposal.decision is not None and challenge.decisions_published_at is not None


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

    @property
    def url(self) -> str:
        return f"/proposals/{self.proposal.id}"


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
    """A proposal's page as one viewer sees it."""

    proposal: Proposal
    challenge: Challenge
    access: Access
    authors: list[tuple[ProposalOrganisation, Organisation]]
    kpis: Sequence[ProposalKpi]
    attachments: Sequence[ProposalAttachment]
    shows_content: bool
    decision_public: bool
    can_change: phases.Decision
    coauthor_candidates: Sequence[Organisation] = ()

    @property
    def pending_confirmations(self) -> list[Organisation]:
        return [o for row, o in self.authors if row.confirmed_at is None]

    @property
    def my_pending(self) -> list[Organisation]:
        return [o for row, o in self.authors if row.confirmed_at is None
                and row.organisation_id in self.access.author_organisation_ids]

    @property
    def is_draft(self) -> bool:
        return self.proposal.status is ProposalStatus.DRAFT


def detail(session: Session, actor: Principal, proposal_id: int) -> Detail:
    proposal, challenge, access = load(session, actor, proposal_id)
    assert proposal.id is not None
    public = shows_public_content(proposal)
    privileged = access.sees_confidential
    shows = public or privileged
    attachments = attachments_of(session, proposal.id, confidential=privileged) if shows else []
    can_change = phases.check(challenge.phase, Action.PROPOSE)
    if proposal.status is ProposalStatus.DRAFT:
        can_change = phases.Decision(True)
    result = Detail(proposal, challenge, access, authors_of(session, proposal.id),
                    kpis_of(session, proposal.id) if shows else [], attachments, shows,
                    decision_public(proposal, challenge), can_change)
    if access.lead_member and proposal.status is ProposalStatus.DRAFT:
        result.coauthor_candidates = coauthor_candidates(session, proposal.id)
    return result


COAUTHOR_ACTIONS = ("add", "confirm", "remove")


def change_coauthors(session: Session, actor: Principal, proposal_id: int, action: str,
                     organisation_id: int | str) -> str:
    """Add, confirm or remove a co-author (the consortium form); returns the message to show."""
    require_signed_in(actor)
    _proposal, _challenge, access = load(session, actor, proposal_id)
    session.rollback()
    if not access.is_author:
        raise Forbidden(_("Only members of the organisations that wrote this proposal can do this."))
    if action == "add":
        organisation = add_coauthor(session, actor, proposal_id, organisation_id)
        return _("%(name)s has been invited as a co-author. A member of it must confirm before the proposal "
                 "can be submitted.", name=organisation.name)
    if action == "confirm":
        confirm_coauthor(session, actor, proposal_id, organisation_id)
        return _("Your organisation has confirmed its part in this proposal.")
    if action == "remove":
        remove_coauthor(session, actor, proposal_id, organisation_id)
        return _("The co-author has been removed.")
    raise Invalid({"organisation_id": _("Choose what to do.")})
