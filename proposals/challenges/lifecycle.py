"""Moving challenges through their phases: by date (the beat job) or by staff with a reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from cocreate import audit, permissions
from cocreate.accounts.permissions import Principal
from cocreate.db import transactional, unit_of_work
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.i18n import gettext as _
from proposals import events, phases
from proposals.models import Challenge, ChallengeDepartment, ChallengePhaseDate, Phase, PhaseChange
from proposals.permissions import is_owner as is_owner  # lifecycle.is_owner: the one reader of the owner fact
from proposals.permissions import on_challenge

MAX_REASON = 2000


def owning_department_ids(session: Session, challenge_id: int) -> set[int]:
    rows = session.exec(
        select(ChallengeDepartment.department_id).where(ChallengeDepartment.challenge_id == challenge_id)
    ).all()
    return set(rows)


# --- schedule ------------------------------------------------------------------------------------


def schedule_of(session: Session, challenge_id: int) -> dict[Phase, datetime]:
    rows = session.exec(select(ChallengePhaseDate).where(ChallengePhaseDate.challenge_id == challenge_id)).all()
    return {row.phase: row.starts_at for row in rows}


def validate_schedule(dates: Mapping[Phase, datetime | None]) -> dict[str, str]:
    """Errors by form field (``phase_<name>``): dates must follow the phase order."""
    errors: dict[str, str] = {}
    previous: tuple[Phase, datetime] | None = None
    for phase in phases.SCHEDULABLE:
        when = dates.get(phase)
        if when is None:
            continue
        if previous is not None and when <= previous[1]:
            errors[f"phase_{phase.value}"] = _(
                "This date must be after the start of “%(previous)s”.", previous=previous[0].label
            )
        previous = (phase, when)
    return errors


def set_schedule(session: Session, challenge: Challenge, dates: Mapping[Phase, datetime | None],
                 now: datetime | None = None) -> None:
    """Replace the planned phase dates (no commit); raises Invalid when out of order."""
    if errors := validate_schedule(dates):
        raise Invalid(errors)
    existing = {row.phase: row for row in session.exec(
        select(ChallengePhaseDate).where(ChallengePhaseDate.challenge_id == challenge.id)).all()}
    for phase in phases.SCHEDULABLE:
        when = dates.get(phase)
        row = existing.get(phase)
        if when is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(ChallengePhaseDate(challenge_id=challenge.id, phase=phase, starts_at=when))  # type: ignore[arg-type]
        else:
            row.starts_at = when
    accepting_close = dates.get(Phase.VOTING) or dates.get(Phase.REVIEW)
    challenge.proposals_close_at = accepting_close
    session.flush()
    refresh_next_transition(session, challenge, now)


def _due_target(schedule: Mapping[Phase, datetime], current: Phase, now: datetime) -> Phase | None:
    """The latest scheduled phase after ``current`` whose start has passed."""
    target = None
    for phase in phases.SCHEDULABLE:
        when = schedule.get(phase)
        if when is not None and when <= now and phases.index(phase) > phases.index(current):
            target = phase
    return target


def refresh_next_transition(session: Session, challenge: Challenge, now: datetime | None = None) -> None:
    """Keep ``next_transition_at`` = the earliest scheduled start of a later phase (None when none)."""
    if challenge.phase is Phase.DRAFT or challenge.phase in phases.TERMINAL:
        challenge.next_transition_at = None
        return
    schedule = schedule_of(session, challenge.id)  # type: ignore[arg-type]
    later = [when for phase, when in schedule.items() if phases.index(phase) > phases.index(challenge.phase)]
    challenge.next_transition_at = min(later) if later else None


# --- the votes' lock -----------------------------------------------------------------------------

VOTING_LOCK = 0x766F7465
"""Namespace of the per-challenge advisory lock on PostgreSQL ("vote")."""


def votes_shared(session: Session, challenge_id: int) -> None:
    """A vote's hold on what it depends on (the challenge's phase and voting rules) until its
    transaction ends: shared with the other votes, exclusive of :func:`votes_held`.

    PostgreSQL only, as an advisory lock: every vote share-locking the challenge's row instead made
    each new holder create a MultiXact on one hot row (about 120 votes per second at most for 64
    voters, against about 200 with it). On SQLite the write lock already serialises everything."""
    _voting_lock(session, challenge_id, func.pg_advisory_xact_lock_shared)


def votes_held(session: Session, challenge_id: int) -> None:
    """Wait for the votes in flight on the challenge to finish, and keep new ones waiting until this
    transaction ends: before changing its phase or voting rules (PostgreSQL; see :func:`votes_shared`)."""
    _voting_lock(session, challenge_id, func.pg_advisory_xact_lock)


def _voting_lock(session: Session, challenge_id: int, lock: Any) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(lock(VOTING_LOCK, challenge_id)))


# --- moving --------------------------------------------------------------------------------------


def _apply(session: Session, challenge: Challenge, target: Phase, *, actor: Principal | None, reason: str,
           now: datetime, announce: bool = True) -> PhaseChange:
    votes_held(session, challenge.id)  # type: ignore[arg-type]
    change = PhaseChange(challenge_id=challenge.id, from_phase=challenge.phase, to_phase=target,  # type: ignore[arg-type]
                         changed_at=now, changed_by_id=actor.user_id if actor else None, reason=reason)
    session.add(change)
    session.flush()
    assert change.id is not None
    if announce:  # the challenge's followers hear of it after commit (proposals.events)
        events.announce(session, events.PHASE_CHANGED, change.id, actor_id=change.changed_by_id)
    challenge.phase = target
    challenge.phase_changed_at = now
    if target is Phase.CLOSED:
        challenge.closed_reason = reason
    refresh_next_transition(session, challenge, now)
    return change


def record_move(session: Session, challenge: Challenge, target: Phase, *, actor: Principal | None, reason: str = "",
                now: datetime | None = None, announce: bool = True) -> PhaseChange:
    """Move a challenge (already locked and checked by the caller) and record the change; no commit.

    For services whose own action implies a phase, e.g. publishing the decisions moves to DECIDED.
    ``announce=False`` when the service tells the followers itself (no second e-mail for one event).
    """
    return _apply(session, challenge, target, actor=actor, reason=reason, now=now or utcnow(), announce=announce)


@transactional
def move(session: Session, actor: Principal, challenge_id: int, target: Phase, reason: str,
         now: datetime | None = None) -> PhaseChange:
    """Staff of an owning department move a published challenge by hand, with a reason (audited)."""
    now = now or utcnow()
    challenge = session.get(Challenge, challenge_id, with_for_update=True)
    if challenge is None:
        raise Invalid({"challenge": _("This challenge does not exist.")})
    permissions.require(actor, "challenge.move", on_challenge(session, actor, challenge))
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    if not phases.can_move(challenge.phase, target):
        errors["phase"] = _("A challenge cannot be moved from “%(current)s” to “%(target)s”.",
                            current=challenge.phase.label, target=target.label)
    if not reason:
        errors["reason"] = _("Give the reason for the change; it is shown publicly.")
    elif len(reason) > MAX_REASON:
        errors["reason"] = _("Use at most %(max)s characters.", max=MAX_REASON)
    if errors:
        raise Invalid(errors)
    previous = challenge.phase
    change = _apply(session, challenge, target, actor=actor, reason=reason, now=now)
    assert actor.user is not None
    audit.record(session, actor_id=actor.user_id, actor_label=actor.user.display_name,
                 action="challenge.phase_changed", target_type="challenge", target_id=str(challenge.id),
                 details={"from": previous.value, "to": target.value, "reason": reason})
    return change


@dataclass(frozen=True)
class Advanced:
    challenge_id: int
    from_phase: Phase
    to_phase: Phase


def advance_due(session: Session, now: datetime | None = None, batch: int = 200) -> Sequence[Advanced]:
    """Move every challenge whose scheduled date has passed (the beat job; safe to run twice at once).

    Each challenge row is locked while it moves; a challenge moved by another run in the meantime is
    seen in its new phase and left alone.
    """
    now = now or utcnow()
    with unit_of_work(session):
        ids = session.exec(
            select(Challenge.id).where(col(Challenge.next_transition_at) <= now).order_by(Challenge.id).limit(batch)
        ).all()
    moved: list[Advanced] = []
    for challenge_id in ids:  # each challenge in a unit of work of its own: its row is locked only while it moves
        with unit_of_work(session):
            challenge = session.get(Challenge, challenge_id, with_for_update=True, populate_existing=True)
            if challenge is None or challenge.next_transition_at is None or challenge.next_transition_at > now:
                continue
            target = _due_target(schedule_of(session, challenge.id), challenge.phase, now)  # type: ignore[arg-type]
            if target is None or challenge.phase is Phase.DRAFT or challenge.phase in phases.TERMINAL:
                refresh_next_transition(session, challenge, now)
                continue
            previous = challenge.phase
            _apply(session, challenge, target, actor=None, reason="", now=now)
        moved.append(Advanced(challenge_id, previous, target))  # type: ignore[arg-type]
    return moved
