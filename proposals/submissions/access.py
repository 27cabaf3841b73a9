"""Who sees what of a proposal, and loading it: the actor's access (authors, owning staff, assigned
reviewers), who may start a proposal, and a proposal with its challenge read or locked for a change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate.accounts.models import Organisation, OrganisationMember
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.errors import NotFound
from cocreate.i18n import gettext as _
from proposals import challenges, lifecycle, phases
from proposals.models import (
    Challenge,
    Phase,
    Proposal,
    ProposalOrganisation,
    ProposalStatus,
    ReviewerAssignment,
)
from proposals.phases import Action

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


def shows_public_content(proposal: Proposal) -> bool:
    """Whether everyone may read the proposal's public part (submitted and not hidden)."""
    return proposal.status is ProposalStatus.SUBMITTED and proposal.hidden_at is None


def decision_public(proposal: Proposal, challenge: Challenge) -> bool:
    return proposal.decision is not None and challenge.decisions_published_at is not None


# --- loading and locking -------------------------------------------------------------------------


def load_challenge(session: Session, actor: Principal, challenge_id: int, *, lock: bool = False) -> Challenge:
    """The challenge (locked with ``lock``); :class:`NotFound` when it does not exist or is a draft the
    actor does not own."""
    challenge = session.get(Challenge, challenge_id, with_for_update=lock, populate_existing=lock)
    if challenge is None or (challenge.phase is Phase.DRAFT and not lifecycle.is_owner(session, actor, challenge)):
        raise NotFound()
    return challenge


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


def load_locked(session: Session, actor: Principal, proposal_id: int) -> tuple[Proposal, Challenge, Access]:
    """The proposal and its challenge, both locked (the challenge first, always in that order), for a
    change by a signed-in actor who may read the proposal."""
    require_signed_in(actor)
    challenge_id = session.exec(select(Proposal.challenge_id).where(Proposal.id == proposal_id)).first()
    if challenge_id is None:
        raise NotFound()
    challenge = load_challenge(session, actor, challenge_id, lock=True)
    proposal = session.get(Proposal, proposal_id, with_for_update=True, populate_existing=True)
    if proposal is None:
        raise NotFound()
    access = access_of(session, actor, proposal, challenge)
    if not can_read(proposal, access):
        raise NotFound()
    return proposal, challenge, access
