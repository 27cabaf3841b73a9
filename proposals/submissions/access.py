"""Loading a proposal with what the permission rules need to know about the actor
(:class:`proposals.permissions.OnProposal`: authors, owning staff, assigned reviewers), who may start a
proposal, and a proposal with its challenge read or locked for a change. The rules themselves are in
:mod:`proposals.permissions`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate import permissions
from cocreate.accounts.models import Organisation, OrganisationMember
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.errors import NotFound
from proposals.challenges import lifecycle
from proposals.challenges import services as challenges
from proposals.models import (
    Challenge,
    Proposal,
    ProposalOrganisation,
    ProposalStatus,
)
from proposals.permissions import OnChallenge, OnNewProposal, OnProposal, assigned_reviewer, visible

# --- what the actor is to a proposal -------------------------------------------------------------


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


def _actor_columns(actor: Principal, challenge_id: Any) -> tuple[Any, ...]:
    """The columns that say what the actor is to one proposal, for a query that also reads other things:
    whether they review its challenge, and each of their organisations among its authors (an outer join:
    a row with None when there is none)."""
    reviewer = assigned_reviewer(challenge_id, actor.user_id)
    return (reviewer.label("reviewer"), ProposalOrganisation.organisation_id, ProposalOrganisation.confirmed_at)


def _authored_join(actor: Principal, proposal_id: Any) -> Any:
    mine = select(OrganisationMember.organisation_id).where(OrganisationMember.user_id == actor.user_id)
    return sa.and_(col(ProposalOrganisation.proposal_id) == proposal_id,
                   col(ProposalOrganisation.organisation_id).in_(mine))


def _on(session: Session, actor: Principal, proposal: Proposal, challenge: Challenge,
        rows: Sequence[Any]) -> OnProposal:
    """The target from the rows of :func:`_actor_columns` (empty for nobody signed in), and whether the
    actor owns the challenge (a query for staff)."""
    authored = frozenset(row.organisation_id for row in rows if row.organisation_id is not None)
    confirmed = any(row.organisation_id is not None and row.confirmed_at is not None for row in rows)
    on_challenge = OnChallenge.of(challenge, owned=lifecycle.is_owner(session, actor, challenge),
                                  reviewer=any(row.reviewer for row in rows))
    return OnProposal(on_challenge, proposal.status, hidden=proposal.hidden_at is not None, author=bool(authored),
                      creator=actor.user_id is not None and proposal.created_by_id == actor.user_id,
                      author_organisation_ids=authored, confirmed_author=confirmed,
                      lead_member=proposal.lead_organisation_id in authored)


def on_proposal(session: Session, actor: Principal, proposal: Proposal, challenge: Challenge) -> OnProposal:
    """The proposal as the rules see it for the actor (one query for someone signed in, and one more for
    staff; none for nobody)."""
    if actor.user_id is None:
        return _on(session, actor, proposal, challenge, [])
    rows = session.execute(
        select(*_actor_columns(actor, challenge.id)).select_from(Proposal)
        .outerjoin(ProposalOrganisation, _authored_join(actor, Proposal.id))
        .where(Proposal.id == proposal.id)
    ).all()
    return _on(session, actor, proposal, challenge, rows)


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


def on_new_proposal(session: Session, actor: Principal, challenge: Challenge,
                    known: challenges.ChallengeViewer | None = None) -> tuple[OnNewProposal, Sequence[Organisation]]:
    """The challenge and the actor's organisations as ``proposal.create`` sees them, and the verified
    organisations the actor may propose for. ``known``: what the challenge page already read about the
    actor (their organisations; no query then)."""
    organisations = (known.verified_organisations if known is not None
                     else proposing_organisations(session, actor))
    member = bool(organisations) or bool(known.organisations if known is not None
                                         else member_organisation_ids(session, actor.user_id))
    return OnNewProposal(challenge.phase, member=member, verified_member=bool(organisations)), organisations


def eligibility(session: Session, actor: Principal, challenge: Challenge,
                known: challenges.ChallengeViewer | None = None) -> Eligibility:
    """Whether the actor may start a proposal (``proposal.create``), and for which organisations."""
    target, organisations = on_new_proposal(session, actor, challenge, known)
    decision = permissions.can(actor, "proposal.create", target)
    return Eligibility(decision.allowed, decision.reason, organisations if decision else ())


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
    if challenge is None or not visible(session, actor, challenge):
        raise NotFound()
    return challenge


def load(session: Session, actor: Principal, proposal_id: int) -> tuple[Proposal, Challenge, OnProposal]:
    """The proposal, its challenge and what the actor is to it, in one query (and one more for staff);
    404 when the actor may not know it exists (``proposal.read``)."""
    query = (select(Proposal, Challenge).join(Challenge, col(Challenge.id) == Proposal.challenge_id)
             .where(Proposal.id == proposal_id))
    if actor.user_id is not None:
        query = (query.add_columns(*_actor_columns(actor, Proposal.challenge_id))
                 .outerjoin(ProposalOrganisation, _authored_join(actor, Proposal.id)))
    rows = session.execute(query).all()
    if not rows:
        raise NotFound()
    proposal, challenge = rows[0][0], rows[0][1]
    on = _on(session, actor, proposal, challenge, rows if actor.user_id is not None else [])
    if not permissions.can(actor, "proposal.read", on):
        raise NotFound()
    return proposal, challenge, on


def load_locked(session: Session, actor: Principal, proposal_id: int) -> tuple[Proposal, Challenge, OnProposal]:
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
    on = on_proposal(session, actor, proposal, challenge)
    if not permissions.can(actor, "proposal.read", on):
        raise NotFound()
    return proposal, challenge, on
