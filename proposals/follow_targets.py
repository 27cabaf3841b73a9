"""What of proposals can be followed: challenges and proposals (see :mod:`cocreate.notifications.follows`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from cocreate import permissions
from cocreate.accounts.permissions import Principal
from cocreate.errors import NotFound
from cocreate.i18n import gettext as _
from cocreate.notifications.follows import Followable, Target
from proposals import paths, submissions
from proposals.challenges import services as challenges
from proposals.models import Challenge, Phase, Proposal, ProposalStatus, Voice
from proposals.permissions import visible

CHALLENGE = "challenge"
PROPOSAL = "proposal"
VOICE = "voice"


def _challenge_visible(session: Session, actor: Principal, challenge_id: int) -> bool:
    return challenges.visible_challenge(session, actor, challenge_id) is not None


def _describe_challenges(session: Session, actor: Principal, ids: Sequence[int]) -> dict[int, Target]:
    rows = session.exec(select(Challenge).where(col(Challenge.id).in_(ids))).all()
    return {row.id: Target(row.title, paths.challenge(row.id)) for row in rows  # type: ignore[misc]
            if visible(session, actor, row)}


def _proposal_visible(session: Session, actor: Principal, proposal_id: int) -> bool:
    """The proposal's page exists for the actor, and it is not hidden by a moderator (unless theirs)."""
    try:
        proposal, _challenge, on = submissions.load(session, actor, proposal_id)
    except NotFound:
        return False
    return proposal.hidden_at is None or bool(permissions.can(actor, "proposal.read_confidential", on))


def _describe_proposals(session: Session, actor: Principal, ids: Sequence[int]) -> dict[int, Target]:
    rows = session.exec(select(Proposal, Challenge.phase)
                        .join(Challenge, col(Challenge.id) == col(Proposal.challenge_id))
                        .where(col(Proposal.id).in_(ids))).all()
    result: dict[int, Target] = {}
    for proposal, phase in rows:
        assert proposal.id is not None
        plainly_public = (proposal.status is not ProposalStatus.DRAFT and phase is not Phase.DRAFT
                          and proposal.hidden_at is None)
        if plainly_public or _proposal_visible(session, actor, proposal.id):  # the rare case: one check each
            result[proposal.id] = Target(proposal.title, paths.proposal(proposal.id))
    return result


def _voice_visible(session: Session, actor: Principal, voice_id: int) -> bool:
    voice = session.get(Voice, voice_id)
    return voice is not None and voice.hidden_at is None


def _describe_voices(session: Session, actor: Principal, ids: Sequence[int]) -> dict[int, Target]:
    rows = session.exec(select(Voice.id, Voice.title).where(col(Voice.id).in_(ids), col(Voice.hidden_at).is_(None))).all()
    return {voice_id: Target(title, paths.voice(voice_id)) for voice_id, title in rows}  # type: ignore[misc]


FOLLOWABLES = [
    Followable(type=CHALLENGE, label=lambda: _("Challenge"), visible=_challenge_visible,
               describe=_describe_challenges),
    Followable(type=PROPOSAL, label=lambda: _("Proposal"), visible=_proposal_visible,
               describe=_describe_proposals),
    Followable(type=VOICE, label=lambda: _("Residents' voice"), visible=_voice_visible,
               describe=_describe_voices),
]
