"""Votes (応援): residents support proposals while a challenge is in its comment and voting phase.

One vote per resident per proposal (a unique constraint), at most ``Challenge.vote_limit`` votes per
resident per challenge, withdrawable while voting is open, and optionally only for verified residents.

Exact counts under concurrency, and voters who do not wait for each other longer than they must:

- Everything that can refuse a vote without a lock (the proposal is public, the actor may vote, the
  phase, verification) is checked first on a read snapshot, so a refusal never queues for a lock.
- The write is short: it holds the challenge's voting state shared (an advisory lock on PostgreSQL:
  voters run side by side, a phase change or new voting rules wait for them and they for it; see
  :func:`proposals.challenges.lifecycle.votes_shared`), locks the voter's own user row (their per-challenge limit is counted
  under it, so a double submit cannot pass it), checks again, inserts the vote (one per resident and
  proposal, a unique constraint) and adds one to ``Proposal.vote_count`` in SQL (the row is locked only
  from that UPDATE to the commit). Locks are always taken in that order, so two votes cannot deadlock.
- On SQLite every write transaction begins IMMEDIATE: writers queue one after the other anyway, and the
  short write is what keeps that queue moving.

Who may vote, and when, are the rules ``vote.cast``, ``vote.withdraw`` and ``vote.open`` of
:mod:`proposals.permissions`, asked of the target :func:`on_proposal` builds (and again under the lock).

Who voted is never shown: the only per-user information that leaves this module is the actor's own state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any

import sqlalchemy as sa
from sqlalchemy.orm import load_only
from sqlmodel import Session, col, func, select

from cocreate import audit, permissions
from cocreate.accounts.models import OrganisationMember, User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.db import read_apart, transactional, unit_of_work
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.forms import Flag, FormModel, WholeNumber
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from proposals import paths, phases
from proposals.challenges import lifecycle
from proposals.models import Challenge, Phase, Proposal, ProposalOrganisation, ProposalStatus, Vote
from proposals.permissions import RESIDENCY, OnChallenge, OnProposal, on_challenge
from proposals.phases import Action

LIMIT_MIN = 1
LIMIT_MAX = 50


# --- who may vote --------------------------------------------------------------------------------


def _is_author(session: Session, user_id: int | None, proposal: Proposal) -> bool:
    if user_id is None:
        return False
    if proposal.created_by_id == user_id:
        return True
    row = session.exec(
        select(OrganisationMember.user_id)
        .join(ProposalOrganisation, col(ProposalOrganisation.organisation_id) == OrganisationMember.organisation_id)
        .where(ProposalOrganisation.proposal_id == proposal.id, OrganisationMember.user_id == user_id)
    ).first()
    return row is not None


def is_author(session: Session, actor: Principal, proposal: Proposal) -> bool:
    """The actor belongs to an organisation that wrote the proposal (or created it)."""
    return _is_author(session, actor.user_id, proposal)


def on_proposal(session: Session, actor: Principal, challenge: Any, proposal: Proposal, *,
                author: bool | None = None) -> OnProposal:
    """The proposal as the vote rules (``vote.cast``, ``vote.withdraw``, ``vote.open`` in
    :mod:`proposals.permissions`) see it for the actor: whether they are staff of an owning department (a
    query for staff) and one of its authors (a query, unless the caller knows: ``author``).

    ``challenge`` needs only the columns a vote reads (its id, department, phase and voting rules)."""
    if author is None:
        author = _is_author(session, actor.user_id, proposal)
    owned = lifecycle.is_owner(session, actor, challenge)
    return OnProposal(OnChallenge(challenge.phase, owned, votes_require_verified=challenge.votes_require_verified),
                      proposal.status, hidden=proposal.hidden_at is not None, author=author,
                      creator=actor.user_id is not None and proposal.created_by_id == actor.user_id)


def _as_locked(on: OnProposal, locked: Any) -> OnProposal:
    """The target again with the state of the locked row (it carries the challenge's and the proposal's
    columns the rules read); who the actor is to them does not change."""
    return replace(on, challenge=replace(on.challenge, phase=locked.phase,
                                         votes_require_verified=locked.votes_require_verified),
                   status=locked.status, hidden=locked.hidden_at is not None)


def _limit_reached(limit: int) -> str:
    return _("You have used all %(limit)s of your votes on this challenge. Withdraw one to support another "
             "proposal.", limit=limit)


# --- loading -------------------------------------------------------------------------------------


_PUBLIC_PROPOSAL = (
    select(Proposal, Challenge).join(Challenge, col(Challenge.id) == Proposal.challenge_id)
    # Only what the checks and the vote box read: the bodies and the rest are not built on every vote.
    .options(load_only(Proposal.id, Proposal.challenge_id, Proposal.status, Proposal.hidden_at,  # type: ignore[arg-type]
                       Proposal.created_by_id, Proposal.vote_count),
             load_only(Challenge.id, Challenge.phase, Challenge.department_id, Challenge.vote_limit,  # type: ignore[arg-type]
                       Challenge.votes_require_verified))
)


def _public_proposal(session: Session, proposal_id: int, user_id: int | None) -> tuple[Challenge, Proposal, bool]:
    """The public proposal, its challenge and whether ``user_id`` is one of its authors, in one query."""
    member = sa.exists().where(
        col(ProposalOrganisation.organisation_id) == OrganisationMember.organisation_id,
        col(ProposalOrganisation.proposal_id) == Proposal.id, col(OrganisationMember.user_id) == user_id)
    row = session.execute(_PUBLIC_PROPOSAL.where(Proposal.id == proposal_id).add_columns(member)).first()
    if row is None or row[0].status is ProposalStatus.DRAFT or row[1].phase is Phase.DRAFT:
        raise NotFound()
    proposal, challenge, member_of_author = row
    return challenge, proposal, user_id is not None and (proposal.created_by_id == user_id or bool(member_of_author))


@dataclass
class Ballot:
    """A voter's state on one proposal right after a vote or a withdrawal (enough to draw the vote box
    again without reading anything)."""

    challenge: Challenge
    proposal: Proposal
    changed: bool
    voted: bool
    used: int
    vote_count: int


def _under_lock(session: Session, user_id: int, challenge_id: int, proposal_id: int) -> tuple[Any, int, bool]:
    """For a change by ``user_id``: the challenge's voting state held against changes
    (:func:`proposals.challenges.lifecycle.votes_shared`, PostgreSQL), then in one statement the voter's row
    locked (FOR UPDATE) with the challenge's and the proposal's state (only the columns a vote needs);
    and the voter's votes used on the challenge and whether one of them is on this proposal.

    On SQLite the whole database is already locked for this transaction, so the voter's votes are read
    in the same statement. On PostgreSQL that statement's snapshot predates the row lock it may have
    waited for, so they are counted by a second statement (:func:`_voter_state`) once the lock is held.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    columns: list[Any] = [Challenge.phase, Challenge.vote_limit, Challenge.votes_require_verified,
                          Proposal.status, Proposal.hidden_at]
    if not postgres:
        columns += [
            select(func.count()).select_from(Vote)
            .where(Vote.challenge_id == challenge_id, Vote.user_id == user_id).scalar_subquery(),
            sa.exists().where(col(Vote.proposal_id) == proposal_id, col(Vote.user_id) == user_id),
        ]
    statement = (
        select(*columns)
        .join_from(Challenge, Proposal, col(Proposal.challenge_id) == Challenge.id)
        .join(User, col(User.id) == user_id)
        .where(Challenge.id == challenge_id, Proposal.id == proposal_id)
    )
    if postgres:
        statement = statement.with_for_update(of=User)
    lifecycle.votes_shared(session, challenge_id)
    locked = session.execute(statement).first()
    if locked is None:
        raise NotFound()
    if postgres:
        used, voted = _voter_state(session, user_id, challenge_id, proposal_id)
        return locked, used, voted
    return locked, int(locked[5]), bool(locked[6])


def _voter_state(session: Session, user_id: int, challenge_id: int, proposal_id: int) -> tuple[int, bool]:
    """(votes used on the challenge, whether one of them is on this proposal), in one query."""
    used, on_this = session.exec(
        select(func.count(), func.coalesce(func.sum(sa.case((Vote.proposal_id == proposal_id, 1), else_=0)), 0))
        .select_from(Vote).where(Vote.challenge_id == challenge_id, Vote.user_id == user_id)
    ).one()
    return int(used), bool(on_this)


def _viewer_state(session: Session, user_id: int, challenge_id: int, proposal: Proposal) -> tuple[int, bool, bool]:
    """(votes used on the challenge, whether one of them is on this proposal, whether the user is one of
    its authors), in one query: what the vote box of a page needs."""
    used = (select(func.count()).select_from(Vote)
            .where(Vote.challenge_id == challenge_id, Vote.user_id == user_id).scalar_subquery())
    on_this = sa.exists().where(col(Vote.proposal_id) == proposal.id, col(Vote.user_id) == user_id)
    member = sa.exists().where(
        col(ProposalOrganisation.organisation_id) == OrganisationMember.organisation_id,
        col(ProposalOrganisation.proposal_id) == proposal.id, col(OrganisationMember.user_id) == user_id)
    row = session.execute(select(used, on_this, member)).one()
    return int(row[0]), bool(row[1]), proposal.created_by_id == user_id or bool(row[2])


def _change_count(session: Session, proposal_id: int, delta: int) -> int:
    """Add ``delta`` to the proposal's count in SQL; returns the count now stored."""
    return session.execute(
        sa.update(Proposal).where(col(Proposal.id) == proposal_id)
        .values(vote_count=Proposal.vote_count + delta).returning(Proposal.vote_count)
    ).scalar_one()


def _check_without_locks(session: Session, actor: Principal, proposal_id: int, *,
                         adding: bool) -> tuple[Challenge, Proposal, OnProposal]:
    """The refusals that need no lock, on a read snapshot beside the write (checked again under it):
    Forbidden for who the actor is, Invalid under ``vote`` for the state of the proposal."""
    user = require_signed_in(actor)
    with read_apart(session, snapshot=False) as reader:  # one statement (and one more for staff)
        challenge, proposal, author = _public_proposal(reader, proposal_id, user.id)
        on = on_proposal(reader, actor, challenge, proposal, author=author)
        if adding:
            permissions.require(actor, "vote.cast", on, field="vote")
    return challenge, proposal, on


# --- voting --------------------------------------------------------------------------------------


class _Unchanged(Exception):
    """Ends a vote's unit of work without writing (a double submit); carries the ballot to answer with."""

    def __init__(self, ballot: Ballot) -> None:
        super().__init__()
        self.ballot = ballot


def cast(session: Session, actor: Principal, proposal_id: int) -> Ballot:
    """Support a proposal (commits). The ballot says whether a vote was added (not when the actor had
    already voted) and what the vote box shows now.

    Refusals: Forbidden for people who are not residents here (owning staff, authors, unconfirmed);
    Invalid under ``vote`` for the phase, a withdrawn or hidden proposal, residency verification and
    the per-challenge limit; NotFound for a proposal that is not public.
    """
    try:
        with unit_of_work(session):
            return _cast(session, actor, proposal_id)
    except _Unchanged as unchanged:
        return unchanged.ballot


def _cast(session: Session, actor: Principal, proposal_id: int) -> Ballot:
    user = require_signed_in(actor)
    challenge, proposal, on = _check_without_locks(session, actor, proposal_id, adding=True)
    # The write holds SQLite's one write lock (or PostgreSQL's row locks) from its first statement to
    # the commit, and every statement in between is a moment the thread gives up the GIL and may wait
    # for it behind the process's other threads: a few plain statements, no ORM unit of work.
    locked, used, voted = _under_lock(session, user.id, challenge.id, proposal_id)  # type: ignore[arg-type]
    already = Ballot(challenge, proposal, changed=False, voted=True, used=used, vote_count=proposal.vote_count)
    if voted:  # a double submit: keep the one vote
        raise _Unchanged(already)
    decision = permissions.can(actor, "vote.cast", _as_locked(on, locked))
    if decision and used >= locked.vote_limit:
        raise Invalid({"vote": _limit_reached(locked.vote_limit)})
    decision.require("vote")
    try:
        session.execute(sa.insert(Vote).values(proposal_id=proposal_id, challenge_id=challenge.id, user_id=user.id,
                                               created_at=utcnow()))
    except sa.exc.IntegrityError:  # only if a writer got past the locks; the database still says no
        raise _Unchanged(already) from None
    count = _change_count(session, proposal_id, +1)
    return Ballot(challenge, proposal, changed=True, voted=True, used=used + 1, vote_count=count)


@transactional
def withdraw(session: Session, actor: Principal, proposal_id: int) -> Ballot:
    """Withdraw the actor's vote while voting is open (commits); ``changed`` is False when there was none."""
    user = require_signed_in(actor)
    challenge, proposal, on = _check_without_locks(session, actor, proposal_id, adding=False)
    locked, used, voted = _under_lock(session, user.id, challenge.id, proposal_id)  # type: ignore[arg-type]
    if not voted:
        return Ballot(challenge, proposal, changed=False, voted=False, used=used, vote_count=proposal.vote_count)
    permissions.require(actor, "vote.withdraw", _as_locked(on, locked), field="vote")
    session.execute(sa.delete(Vote).where(col(Vote.proposal_id) == proposal_id, col(Vote.user_id) == user.id))
    count = _change_count(session, proposal_id, -1)
    return Ballot(challenge, proposal, changed=True, voted=False, used=used - 1, vote_count=count)


def vote(session: Session, actor: Principal, proposal_id: int) -> bool:
    """Support a proposal (commits); True when a vote was added (see :func:`cast`)."""
    return cast(session, actor, proposal_id).changed


def unvote(session: Session, actor: Principal, proposal_id: int) -> bool:
    """Withdraw the actor's vote (commits); False when there was none (see :func:`withdraw`)."""
    return withdraw(session, actor, proposal_id).changed


# --- the proposal page section -------------------------------------------------------------------


@dataclass
class VoteSection:
    """What the vote box shows: the public count and the actor's own state, never anyone else's."""

    proposal: Proposal
    challenge: Challenge
    signed_in: bool
    voted: bool
    can_vote: bool
    show_count: bool
    can_withdraw: bool = False
    refusal: str = ""
    needs_verification: bool = False
    limit: int = 0
    used: int = 0
    can_report: bool = False
    back: str = ""

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


def section(session: Session, actor: Principal, proposal: Proposal, *,
            back: str | None = None) -> VoteSection | None:
    """The vote box of a public proposal (None for drafts)."""
    if proposal.status is ProposalStatus.DRAFT:
        return None
    challenge = session.get(Challenge, proposal.challenge_id)
    if challenge is None or challenge.phase is Phase.DRAFT:
        return None
    user = actor.user
    open_now = phases.allows(challenge.phase, Action.VOTE)
    view = VoteSection(
        proposal=proposal, challenge=challenge, signed_in=user is not None, voted=False, can_vote=False,
        show_count=phases.index(challenge.phase) >= phases.index(Phase.VOTING) or proposal.vote_count > 0,
        limit=challenge.vote_limit, back=back or paths.proposal(proposal.id),
    )
    if user is None:  # nobody signed in owns or wrote nothing: no query
        view.refusal = permissions.can(actor, "vote.open", on_proposal(session, actor, challenge, proposal,
                                                                       author=False)).reason
        return view
    used, view.voted, author = _viewer_state(session, user.id, challenge.id, proposal)  # type: ignore[arg-type]
    on = on_proposal(session, actor, challenge, proposal, author=author)
    view.can_report = bool(permissions.can(actor, "proposal.report", on))
    view.can_withdraw = view.voted and bool(permissions.can(actor, "vote.withdraw", on))
    if open_now:
        view.used = used
    decision = permissions.can(actor, "vote.cast", on)
    residency = decision.field == RESIDENCY  # not asked of someone who has voted already
    refusal = "" if decision or residency else decision.reason
    if not refusal and not view.voted:
        if residency:
            refusal, view.needs_verification = decision.reason, True
        elif view.used >= challenge.vote_limit:
            refusal = _limit_reached(challenge.vote_limit)
    view.refusal = refusal
    view.can_vote = not refusal
    return view


def section_after(actor: Principal, ballot: Ballot, *, back: str | None = None) -> VoteSection:
    """The vote box right after the actor voted or withdrew, from the ballot alone (no query): they
    passed every check, so they are a resident here and voting is open."""
    proposal = ballot.proposal
    proposal.vote_count = ballot.vote_count
    challenge = ballot.challenge
    # They passed every check: neither owning staff nor an author, and voting is open.
    on = OnProposal(OnChallenge(challenge.phase, owned=False, votes_require_verified=challenge.votes_require_verified),
                    proposal.status, hidden=proposal.hidden_at is not None)
    view = VoteSection(
        proposal=proposal, challenge=challenge, signed_in=True, voted=ballot.voted, can_vote=False,
        show_count=True, limit=challenge.vote_limit, used=ballot.used,
        can_report=bool(permissions.can(actor, "proposal.report", on)),
        back=back or paths.proposal(proposal.id), can_withdraw=ballot.voted,
    )
    if not ballot.voted:
        decision = permissions.can(actor, "vote.cast", on)
        if not decision:
            view.refusal, view.needs_verification = decision.reason, decision.field == RESIDENCY
        elif ballot.used >= challenge.vote_limit:
            view.refusal = _limit_reached(challenge.vote_limit)
    view.can_vote = not ballot.voted and not view.refusal
    return view


# --- staff: the voting settings of a challenge ---------------------------------------------------


class VotingForm(FormModel):
    """The voting settings form: the votes each resident may give, and whether only verified residents vote."""


    vote_limit: Annotated[int | None, WholeNumber(
        lazy_gettext("Enter a whole number from %(min)s to %(max)s.", min=LIMIT_MIN, max=LIMIT_MAX),
        minimum=LIMIT_MIN, maximum=LIMIT_MAX,
        required=lazy_gettext("Enter the number of votes each resident may give."))] = None
    votes_require_verified: Annotated[bool, Flag()] = False


def owned_challenge(session: Session, actor: Principal, challenge_id: int) -> Challenge:
    """The challenge, if the actor may set its voting rules (``challenge.set_voting``: its owning staff)."""
    require_signed_in(actor)
    challenge = session.get(Challenge, challenge_id)
    if challenge is None:
        raise NotFound()
    permissions.require(actor, "challenge.set_voting", on_challenge(session, actor, challenge))
    return challenge


@transactional
def update_settings(session: Session, actor: Principal, challenge_id: int, form: VotingForm) -> Challenge:
    """Set the vote limit and the verified-residents rule (owning staff; audited)."""
    user = require_signed_in(actor)
    owned_challenge(session, actor, challenge_id)
    challenge = session.get(Challenge, challenge_id, with_for_update=True, populate_existing=True)
    assert challenge is not None and form.vote_limit is not None
    lifecycle.votes_held(session, challenge_id)
    before: dict[str, Any] = {"vote_limit": challenge.vote_limit, "votes_require_verified": challenge.votes_require_verified}
    after: dict[str, Any] = {"vote_limit": form.vote_limit, "votes_require_verified": form.votes_require_verified}
    if before != after:
        challenge.vote_limit = form.vote_limit
        challenge.votes_require_verified = form.votes_require_verified
        audit.record(session, actor_id=user.id, actor_label=user.display_name, action="challenge.voting_updated",
                     target_type="challenge", target_id=str(challenge.id),
                     details={"before": before, "after": after})
    return challenge
