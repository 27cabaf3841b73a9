"""Telling followers what happened on challenges and proposals (notification kinds and their fan-out).

A service announces an event with :func:`announce` inside its own transaction; once that commits, one
task (:data:`TASK`, in :mod:`proposals.tasks`) runs the event's handler here, which reads the event's
rows again, checks that they are still public, and calls :func:`cocreate.notifications.services.notify`
for the people concerned, never the person who caused the event. Each event has its own ``event_key``,
so a retried or duplicated task notifies nobody twice; services never need the settings for this, and
a large fan-out never slows the request down.

Events:

- ``proposal.submitted``: a proposal was submitted on a challenge; the challenge's followers, except the
  members of the proposing organisations.
- ``challenge.phase_changed``: a challenge moved to another phase (by staff or by its schedule); the
  challenge's followers.

Comments tell people through the core's own events (:mod:`cocreate.comments.events`); who hears of a
comment on a proposal is said by :mod:`proposals.comment_targets`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, col, select

from cocreate.accounts.models import OrganisationMember
from cocreate.db import transactional
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from cocreate.notifications import services as notifications
from cocreate.settings import Settings
from cocreate.tasks.queue import enqueue
from cocreate.web.markdown import markdown_to_text
from proposals import paths
from proposals.models import (
    Challenge,
    Phase,
    PhaseChange,
    Proposal,
    ProposalOrganisation,
    ProposalStatus,
)

TASK = "proposals.notify_event"
CHALLENGE = "challenge"
PROPOSAL = "proposal"
EXCERPT = 200

PROPOSAL_SUBMITTED = "proposal.submitted"
PHASE_CHANGED = "challenge.phase_changed"


def announce(session: Session, event: str, object_id: int, *, actor_id: int | None = None,
             related_id: int | None = None) -> None:
    """Have the followers told about ``event`` once the session commits (nothing when it rolls back)."""
    if event not in HANDLERS:
        raise ValueError(f"unknown proposals event {event!r}")
    enqueue(session, TASK, event, int(object_id), actor_id, related_id)


@transactional
def run(session: Session, settings: Settings, event: str, object_id: int, actor_id: int | None = None,
        related_id: int | None = None) -> int:
    """Notify the people concerned by ``event``; returns how many were notified now."""
    handler = HANDLERS.get(event)
    if handler is None:
        raise ValueError(f"unknown proposals event {event!r}")
    return handler(session, settings, object_id, actor_id, related_id)


def _author_ids(session: Session, proposal_id: int) -> set[int]:
    """The members of the organisations that wrote the proposal."""
    return set(session.exec(
        select(OrganisationMember.user_id)
        .join(ProposalOrganisation, col(ProposalOrganisation.organisation_id) == OrganisationMember.organisation_id)
        .where(ProposalOrganisation.proposal_id == proposal_id)).all())


# --- proposal submitted --------------------------------------------------------------------------


def _submitted_message(params: dict[str, Any]) -> str:
    return _("A proposal has been submitted to “%(challenge)s”, which you follow: %(title)s",
             challenge=str(params.get("challenge_title", "")), title=str(params.get("proposal_title", "")))


def _submitted_subject(params: dict[str, Any]) -> str:
    return _("New proposal on a challenge you follow: %(title)s", title=str(params.get("proposal_title", "")))


def proposal_submitted(session: Session, settings: Settings, proposal_id: int, actor_id: int | None,
                       related_id: int | None = None) -> int:
    row = session.exec(select(Proposal, Challenge).join(Challenge, col(Challenge.id) == Proposal.challenge_id)
                       .where(Proposal.id == proposal_id)).first()
    if row is None:
        return 0
    proposal, challenge = row
    if (proposal.status is not ProposalStatus.SUBMITTED or proposal.hidden_at is not None
            or challenge.phase is Phase.DRAFT):
        return 0  # withdrawn, hidden or no longer public by the time the task ran: nothing to tell
    assert challenge.id is not None
    authors = _author_ids(session, proposal_id)
    people = set(notifications.followers(session, CHALLENGE, challenge.id)) - authors - {actor_id}
    params = {"challenge_id": challenge.id, "challenge_title": challenge.title, "proposal_id": proposal_id,
              "proposal_title": proposal.title, "summary": markdown_to_text(proposal.summary, EXCERPT)}
    return len(notifications.notify(
        session, user_ids=people, kind=PROPOSAL_SUBMITTED, target_type=PROPOSAL, target_id=proposal_id,
        params=params, url=paths.proposal(proposal_id), event_key=f"{PROPOSAL_SUBMITTED}:{proposal_id}",
        settings=settings))


# --- challenge phase changed ---------------------------------------------------------------------


def _phase_label(params: dict[str, Any], name: str) -> str:
    try:
        return Phase(str(params.get(name, ""))).label
    except ValueError:
        return ""


def _phase_message(params: dict[str, Any]) -> str:
    return _("The challenge “%(title)s”, which you follow, is now in the phase “%(phase)s”.",
             title=str(params.get("challenge_title", "")), phase=_phase_label(params, "to_phase"))


def _phase_subject(params: dict[str, Any]) -> str:
    return _("%(phase)s: %(title)s", phase=_phase_label(params, "to_phase"),
             title=str(params.get("challenge_title", "")))


def phase_changed(session: Session, settings: Settings, change_id: int, actor_id: int | None,
                  related_id: int | None = None) -> int:
    change = session.get(PhaseChange, change_id)
    challenge = session.get(Challenge, change.challenge_id) if change is not None else None
    if change is None or challenge is None or challenge.id is None or change.to_phase is Phase.DRAFT:
        return 0
    people = set(notifications.followers(session, CHALLENGE, challenge.id)) - {change.changed_by_id, actor_id}
    params = {"challenge_id": challenge.id, "challenge_title": challenge.title,
              "from_phase": change.from_phase.value, "to_phase": change.to_phase.value,
              "reason": change.reason[:500]}
    return len(notifications.notify(
        session, user_ids=people, kind=PHASE_CHANGED, target_type=CHALLENGE, target_id=challenge.id, params=params,
        url=paths.challenge(challenge.id), event_key=f"{PHASE_CHANGED}:{change_id}", settings=settings))


# --- registry ------------------------------------------------------------------------------------

Handler = Callable[[Session, Settings, int, "int | None", "int | None"], int]

HANDLERS: dict[str, Handler] = {
    PROPOSAL_SUBMITTED: proposal_submitted,
    PHASE_CHANGED: phase_changed,
}

KINDS = {
    PROPOSAL_SUBMITTED: notifications.Kind(
        _submitted_message, _submitted_subject, "mail/proposal_submitted.txt",
        label=lazy_gettext("New proposals on challenges you follow")),
    PHASE_CHANGED: notifications.Kind(
        _phase_message, _phase_subject, "mail/challenge_phase_changed.txt",
        label=lazy_gettext("Phase changes of challenges you follow")),
}
"""This module's notification kinds (listed in the proposals manifest)."""
