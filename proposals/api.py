"""What other components may use of proposals: a selected proposal and its challenge, by id.

This is the one module of ``proposals`` that ``labs`` imports (an import-linter contract in
pyproject.toml holds it to that). It hands out plain values, never ORM rows, so the proposals
component may change its tables and rules without breaking a trial. What a trial needs:

- to show where it came from (a challenge's and a proposal's title, if the public may see them);
- to start from a selected proposal: its text, KPIs, confirmed organisations and authors, taken over
  under the proposal's and challenge's row locks, and to move the challenge into its trial phase;
- to complete the challenge when the trial's results are in (the demo does);
- to keep its search documents current when a challenge's category or phase changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from cocreate.accounts.permissions import Principal
from cocreate.search.registry import touched
from cocreate.settings import Settings
from proposals import events, phases
from proposals.challenges import lifecycle
from proposals.models import (
    Challenge,
    DecisionOutcome,
    Phase,
    Proposal,
    ProposalKpi,
    ProposalOrganisation,
    ProposalStatus,
    ProposalVersion,
)


@dataclass(frozen=True)
class ChallengeRef:
    """A challenge the public may see (never a draft)."""

    id: int
    title: str
    category: str
    """A ``proposals.models.Category`` value (the search facet)."""
    department_id: int | None


@dataclass(frozen=True)
class ProposalRef:
    id: int
    title: str
    challenge_id: int


@dataclass(frozen=True)
class KpiRow:
    indicator: str
    unit: str
    baseline: str
    target: str


@dataclass(frozen=True)
class TrialSource:
    """A submitted proposal a trial may start from, with what the trial takes over."""

    proposal_id: int
    challenge_id: int
    department_id: int | None
    """The challenge's lead department."""
    title: str
    summary: str
    description: str
    lead_organisation_id: int
    organisation_ids: tuple[int, ...]
    """The proposal's confirmed organisations, the lead among them."""
    kpis: tuple[KpiRow, ...]
    author_ids: tuple[int, ...]
    """Whoever created or submitted a version of the proposal."""
    startable: bool
    """Selected, and the challenge's decisions are published."""


def _ref(challenge: Challenge | None) -> ChallengeRef | None:
    if challenge is None or challenge.phase is Phase.DRAFT:
        return None
    assert challenge.id is not None
    return ChallengeRef(challenge.id, challenge.title, challenge.category.value, challenge.department_id)


def challenge(session: Session, challenge_id: int | None) -> ChallengeRef | None:
    """The challenge, unless it does not exist or is a draft."""
    return _ref(session.get(Challenge, challenge_id)) if challenge_id else None


def challenges(session: Session, challenge_ids: Iterable[int | None]) -> dict[int, ChallengeRef]:
    """The public ones of these challenges, by id, in one query."""
    wanted = sorted({i for i in challenge_ids if i})
    if not wanted:
        return {}
    rows = session.exec(select(Challenge).where(col(Challenge.id).in_(wanted))).all()
    return {ref.id: ref for ref in map(_ref, rows) if ref is not None}


def public_challenge_category(challenge_id: Any) -> Any:
    """A SQL expression for other components' queries: the category value of the challenge whose id is the
    column ``challenge_id`` (say ``Trial.challenge_id``) when the public may see it, else NULL. Lets a
    query filter and label by category in the same statement (the map of everything does)."""
    return (select(Challenge.category)
            .where(Challenge.id == challenge_id, col(Challenge.phase).in_(tuple(phases.PUBLIC)))
            .scalar_subquery())


def proposal(session: Session, proposal_id: int | None) -> ProposalRef | None:
    """The proposal's id and title (whoever may see the trial may see where it came from)."""
    row = session.get(Proposal, proposal_id) if proposal_id else None
    if row is None:
        return None
    assert row.id is not None
    return ProposalRef(row.id, row.title, row.challenge_id)


def _is_startable(row: Proposal, challenge_row: Challenge) -> bool:
    return (row.decision is DecisionOutcome.SELECTED and challenge_row.decisions_published_at is not None
            and row.status is ProposalStatus.SUBMITTED)


def is_startable(session: Session, proposal_id: int) -> bool:
    """Whether a trial may start from the proposal: selected, submitted, decisions published."""
    row = session.get(Proposal, proposal_id)
    challenge_row = session.get(Challenge, row.challenge_id) if row is not None else None
    return row is not None and challenge_row is not None and _is_startable(row, challenge_row)


def owns_challenge(session: Session, actor: Principal, challenge_id: int) -> bool:
    """Whether ``actor`` is staff of a department that owns (or co-owns) the challenge."""
    challenge_row = session.get(Challenge, challenge_id)
    return challenge_row is not None and lifecycle.is_owner(session, actor, challenge_row)


def lock_trial_source(session: Session, proposal_id: int) -> TrialSource | None:
    """The proposal and its challenge, locked (FOR UPDATE) until the caller's transaction ends; None
    when the proposal does not exist or is a draft."""
    row = session.get(Proposal, proposal_id, with_for_update=True, populate_existing=True)
    if row is None or row.status is ProposalStatus.DRAFT:
        return None
    challenge_row = session.get(Challenge, row.challenge_id, with_for_update=True, populate_existing=True)
    assert row.id is not None and challenge_row is not None and challenge_row.id is not None
    kpis = session.exec(select(ProposalKpi).where(ProposalKpi.proposal_id == row.id)
                        .order_by(col(ProposalKpi.position), col(ProposalKpi.id))).all()
    organisations = session.exec(select(ProposalOrganisation.organisation_id).where(
        ProposalOrganisation.proposal_id == row.id, col(ProposalOrganisation.confirmed_at).is_not(None))).all()
    submitters = session.exec(select(ProposalVersion.submitted_by_id)
                              .where(ProposalVersion.proposal_id == row.id).distinct()).all()
    authors = tuple(i for i in (row.created_by_id, *submitters) if i is not None)
    return TrialSource(
        proposal_id=row.id, challenge_id=challenge_row.id, department_id=challenge_row.department_id,
        title=row.title, summary=row.summary, description=row.description,
        lead_organisation_id=row.lead_organisation_id, organisation_ids=tuple(organisations),
        kpis=tuple(KpiRow(k.indicator, k.unit, k.baseline, k.target) for k in kpis), author_ids=authors,
        startable=_is_startable(row, challenge_row))


def enter_trial_phase(session: Session, challenge_id: int, actor: Principal, reason: str) -> bool:
    """Move a decided challenge (locked by :func:`lock_trial_source`) to its trial phase and tell its
    followers; no commit. False when the challenge is in another phase."""
    challenge_row = session.get(Challenge, challenge_id)
    if challenge_row is None or challenge_row.phase is not Phase.DECIDED \
            or not phases.can_move(challenge_row.phase, Phase.TRIAL):
        return False
    lifecycle.record_move(session, challenge_row, Phase.TRIAL, actor=actor, reason=reason)
    return True


def complete_challenge(session: Session, actor: Principal, challenge_id: int, reason: str) -> None:
    """Staff of an owning department mark the challenge completed (its trial's results are in; audited)."""
    lifecycle.move(session, actor, challenge_id, Phase.COMPLETED, reason)


def selected_proposal_id(session: Session, challenge_title: str) -> int | None:
    """The first selected proposal of the challenge of this title, once its decisions are published."""
    challenge_row = session.exec(select(Challenge).where(Challenge.title == challenge_title)).first()
    if challenge_row is None or challenge_row.decisions_published_at is None:
        return None
    return session.exec(select(Proposal.id).where(Proposal.challenge_id == challenge_row.id,
                                                  Proposal.decision == DecisionOutcome.SELECTED)
                        .order_by(col(Proposal.id))).first()


EVENT_TASKS: dict[str, Callable[[Session, Settings, str, int, int | None], int]] = {events.TASK: events.run}
"""The proposals component's event tasks by name (for a caller that runs tasks in process, e.g. a demo)."""


def watch_challenges(keys: Callable[[Session, int], list[str]]) -> dict[type, Callable[[Session, Any], list[str]]]:
    """A search ``Source.watches`` entry: ``keys(session, challenge_id)`` go stale when a challenge's
    category or phase changes (what another component's documents show of it)."""
    def changed(session: Session, row: Any) -> list[str]:
        if row in session.new or not touched(session, row, ("category", "phase")):
            return []
        return keys(session, row.id)
    return {Challenge: changed}


def deleted_challenge_ids(session: OrmSession) -> Sequence[int]:
    """The challenges a flush is about to delete (before_flush)."""
    return [row.id for row in session.deleted if isinstance(row, Challenge) and row.id is not None]
