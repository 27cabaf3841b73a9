"""What of proposals people report to the moderators: public proposals (see :mod:`cocreate.moderation.targets`;
listed in the proposals manifest). Comments on them are the core's own reportable content. A proposal's page
is the one its comments declaration gives (:data:`proposals.comment_targets.PROPOSAL`: the paths in one place)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from cocreate.accounts.models import Organisation, User
from cocreate.accounts.permissions import Principal
from cocreate.errors import NotFound
from cocreate.i18n import lazy_gettext as _l
from cocreate.moderation.targets import Reportable
from proposals import comment_targets, paths
from proposals.models import Challenge, Phase, Proposal, ProposalStatus, Voice
from proposals.permissions import OnChallenge, OnProposal, OnVoice
from proposals.voices.services import author_name, on_voice
from proposals.votes import services as votes

PROPOSAL = "proposal"
VOICE = "voice"


def _load(session: Session, proposal_id: int, lock: bool) -> Proposal:
    """A submitted or withdrawn proposal of a published challenge (hidden ones too: moderators restore them)."""
    proposal = session.get(Proposal, proposal_id, with_for_update=lock, populate_existing=lock)
    if proposal is None:
        raise NotFound()
    challenge = session.get(Challenge, proposal.challenge_id)
    if proposal.status is ProposalStatus.DRAFT or challenge is None or challenge.phase is Phase.DRAFT:
        raise NotFound()
    return proposal


def _facts(session: Session, actor: Principal, proposal: Proposal) -> OnProposal:
    """The proposal as ``proposal.report`` reads it: whether the actor wrote it (a query for someone signed in
    who did not create it; who owns the challenge changes no answer, so it is not read)."""
    challenge = session.get(Challenge, proposal.challenge_id)  # read by _load: no query
    assert challenge is not None
    return OnProposal(OnChallenge.of(challenge, owned=False), proposal.status, hidden=proposal.hidden_at is not None,
                      author=votes.is_author(session, actor, proposal),
                      creator=actor.user_id is not None and proposal.created_by_id == actor.user_id)


def _describe(session: Session, ids: Sequence[int]) -> dict[int, tuple[Any, str]]:
    """The proposals with the name of their lead organisation (shown as their author in the queue)."""
    rows = session.exec(
        select(Proposal, Organisation.name).join(Organisation, col(Organisation.id) == Proposal.lead_organisation_id)
        .where(col(Proposal.id).in_(ids))).all()
    return {proposal.id: (proposal, organisation_name) for proposal, organisation_name in rows}  # type: ignore[misc]


def _load_voice(session: Session, voice_id: int, lock: bool) -> Voice:
    """A voice (hidden ones too: moderators restore them)."""
    voice = session.get(Voice, voice_id, with_for_update=lock, populate_existing=lock)
    if voice is None:
        raise NotFound()
    return voice


def _voice_facts(session: Session, actor: Principal, voice: Voice) -> OnVoice:
    return on_voice(actor, voice)


def _describe_voices(session: Session, ids: Sequence[int]) -> dict[int, tuple[Any, str]]:
    """The voices with their author's public name (or how the ward entered them), in one query."""
    rows = session.exec(select(Voice, User).outerjoin(User, col(User.id) == Voice.author_id)
                        .where(col(Voice.id).in_(ids))).all()
    return {voice.id: (voice, author_name(voice, user)) for voice, user in rows}  # type: ignore[misc]


REPORTABLES = [
    Reportable(
        name=PROPOSAL, label=_l("Proposal"), report_heading=_l("Report a proposal"),
        item_heading=_l("Reported proposal"), load=_load, url=lambda proposal: comment_targets.PROPOSAL.url(proposal.id),
        author_id=lambda proposal: proposal.created_by_id, action="proposal.report", facts=_facts,
        excerpt=lambda proposal: proposal.title, title=lambda proposal: proposal.title,
        body=lambda proposal: proposal.summary, describe=_describe,
    ),
    Reportable(
        name=VOICE, label=_l("Residents' voice"), report_heading=_l("Report a voice"),
        item_heading=_l("Reported voice"), load=_load_voice, url=lambda voice: paths.voice(voice.id),
        author_id=lambda voice: voice.author_id, action="voice.report", facts=_voice_facts,
        excerpt=lambda voice: voice.title, title=lambda voice: voice.title, body=lambda voice: voice.body,
        describe=_describe_voices,
    ),
]
