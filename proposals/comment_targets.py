"""What of proposals people comment on: challenges and proposals (see :mod:`cocreate.comments.targets`),
and the comments sections of their pages (listed in the proposals manifest).

A challenge takes comments in the phases that allow them (:mod:`proposals.phases`); a proposal's comments
follow its challenge's phase, and it takes them only while submitted and not hidden: the rules
``challenge.comment`` and ``proposal.comment`` (:mod:`proposals.permissions`), which the declarations name
and the core asks of the facts the loaders read (its phase; a proposal's status and whether it is hidden:
who owns the challenge changes no answer of theirs, so it is not read for them). Its comments are read
while it is submitted or withdrawn and not hidden. Staff of a department that owns the challenge comment as
``staff``, members of an organisation authoring the proposal as ``proposer``. A proposal keeps its
``comment_count``, and its authors and followers hear of every comment on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate.accounts.models import OrganisationMember
from cocreate.accounts.permissions import Principal
from cocreate.comments import routes as comment_pages
from cocreate.comments.services import PROPOSER, STAFF
from cocreate.comments.targets import CommentTarget, TargetInfo
from cocreate.errors import NotFound
from cocreate.i18n import lazy_gettext as _l
from cocreate.notifications import services as notifications
from proposals import paths
from proposals.challenges import lifecycle
from proposals.challenges import services as challenges
from proposals.models import (
    Challenge,
    Phase,
    Proposal,
    ProposalOrganisation,
    ProposalStatus,
    Voice,
)
from proposals.permissions import OnChallenge, OnProposal, OnVoice


@dataclass(frozen=True)
class Commented:
    """The rows behind a target: a challenge, or a proposal with its challenge."""

    challenge: Challenge
    proposal: Proposal | None = None


def _on_challenge(challenge: Challenge) -> OnChallenge:
    """The challenge as ``challenge.comment`` reads it (its phase; the owner fact is not read: ``owned=False``)."""
    return OnChallenge.of(challenge, owned=False)


def _challenge_target(challenge: Challenge) -> TargetInfo:
    assert challenge.id is not None
    return TargetInfo(CHALLENGE, challenge.id, challenge.title, _on_challenge(challenge), Commented(challenge))


def _load_challenge(session: Session, actor: Principal, challenge_id: int, *, lock: bool = False) -> TargetInfo:
    """A published challenge (a draft's comments are nobody's, not even its owners')."""
    challenge = session.get(Challenge, challenge_id) if lock else challenges.visible_challenge(session, actor, challenge_id)
    if challenge is None or challenge.phase is Phase.DRAFT:
        raise NotFound()
    return _challenge_target(challenge)


def _proposal_readable(proposal: Proposal) -> bool:
    return proposal.status in (ProposalStatus.SUBMITTED, ProposalStatus.WITHDRAWN) and proposal.hidden_at is None


def _load_proposal(session: Session, actor: Principal, proposal_id: int, *, lock: bool = False) -> TargetInfo:
    """A public proposal; locked for a change (its ``comment_count`` is recounted)."""
    # session.get: on the proposal page both rows are in the session already (no query then).
    proposal = session.get(Proposal, proposal_id, with_for_update=lock, populate_existing=lock)
    challenge = session.get(Challenge, proposal.challenge_id) if proposal is not None else None
    if proposal is None or challenge is None or challenge.phase is Phase.DRAFT or not _proposal_readable(proposal):
        raise NotFound()
    assert proposal.id is not None
    facts = OnProposal(_on_challenge(challenge), proposal.status, hidden=proposal.hidden_at is not None)
    return TargetInfo(PROPOSAL, proposal.id, proposal.title, facts, Commented(challenge, proposal))


def _official(session: Session, actor: Principal, target: TargetInfo) -> str:
    commented: Commented = target.thing
    if lifecycle.is_owner(session, actor, commented.challenge):
        return STAFF
    if commented.proposal is not None and actor.user_id is not None:
        member = session.exec(
            select(OrganisationMember.user_id)
            .join(ProposalOrganisation, col(ProposalOrganisation.organisation_id) == OrganisationMember.organisation_id)
            .where(ProposalOrganisation.proposal_id == commented.proposal.id,
                   OrganisationMember.user_id == actor.user_id)
        ).first()
        if member is not None:
            return PROPOSER
    return ""


def _count_proposal_comments(session: Session, proposal_id: int, count: int) -> None:
    session.execute(sa.update(Proposal).where(col(Proposal.id) == proposal_id).values(comment_count=count))


def _proposal_audience(session: Session, proposal_id: int) -> set[int]:
    """The members of the organisations that wrote the proposal, and its followers."""
    authors = session.exec(
        select(OrganisationMember.user_id)
        .join(ProposalOrganisation, col(ProposalOrganisation.organisation_id) == OrganisationMember.organisation_id)
        .where(ProposalOrganisation.proposal_id == proposal_id)).all()
    return set(authors) | set(notifications.followers(session, PROPOSAL.name, proposal_id))


# Where the commented pages are: proposals.paths (a challenge's page ``{CHALLENGES}/{id}``, a proposal's
# ``{PROPOSALS}/{id}``); the core puts their comment pages below them. report_targets links to proposals
# through PROPOSAL.url. tests/cocreate/comments/test_links.py checks them against the routes.
CHALLENGE = CommentTarget(
    name="challenge", prefix=paths.CHALLENGES, param="challenge_id", action="challenge.comment",
    back_label=_l("Back to the challenge"), load=_load_challenge, official=_official,
)
PROPOSAL = CommentTarget(
    name="proposal", prefix=paths.PROPOSALS, param="proposal_id", action="proposal.comment",
    back_label=_l("Back to the proposal"), load=_load_proposal, official=_official,
    count_changed=_count_proposal_comments, audience=_proposal_audience,
)


# --- residents' voices -----------------------------------------------------------------------------


def _load_voice(session: Session, actor: Principal, voice_id: int, *, lock: bool = False) -> TargetInfo:
    """A voice that is not hidden (a merged one's comments stay readable; it takes no more); locked for a
    change (its ``comment_count`` is recounted). ``voice.comment`` reads whether it is hidden or merged."""
    voice = session.get(Voice, voice_id, with_for_update=lock, populate_existing=lock)
    if voice is None or voice.hidden_at is not None:
        raise NotFound()
    assert voice.id is not None
    return TargetInfo(VOICE, voice.id, voice.title, OnVoice.of(voice), voice)


def _voice_official(session: Session, actor: Principal, target: TargetInfo) -> str:
    """Staff of the voice's owning department comment as the ward."""
    voice: Voice = target.thing
    return STAFF if voice.department_id is not None and voice.department_id in actor.staff_department_ids else ""


def _count_voice_comments(session: Session, voice_id: int, count: int) -> None:
    session.execute(sa.update(Voice).where(col(Voice.id) == voice_id).values(comment_count=count))


def _voice_audience(session: Session, voice_id: int) -> set[int]:
    """The voice's author and its followers."""
    author = session.execute(sa.select(Voice.author_id).where(col(Voice.id) == voice_id)).scalar()
    return ({author} if author is not None else set()) | set(notifications.followers(session, VOICE.name, voice_id))


VOICE = CommentTarget(
    name="voice", prefix=paths.VOICES, param="voice_id", action="voice.comment",
    back_label=_l("Back to the voice"), load=_load_voice, official=_voice_official,
    count_changed=_count_voice_comments, audience=_voice_audience,
)
TARGETS = [CHALLENGE, PROPOSAL, VOICE]


# --- the sections of the pages -------------------------------------------------------------------


def challenge_section(session: Session, actor: Principal, challenge: Challenge,
                      viewer: Any = None) -> tuple[str, dict[str, Any]] | None:
    """The comments section of the challenge page (first page, newest first), or None for drafts."""
    if challenge.phase is Phase.DRAFT:
        return None
    return comment_pages.page_section(session, actor, _challenge_target(challenge))


def proposal_section(session: Session, actor: Principal, proposal: Proposal) -> tuple[str, dict[str, Any]] | None:
    """The comments section of the proposal page, or None where the proposal shows no comments."""
    try:
        target = _load_proposal(session, actor, proposal.id)  # type: ignore[arg-type]
    except NotFound:
        return None
    return comment_pages.page_section(session, actor, target)


def voice_section(session: Session, actor: Principal, voice: Voice) -> tuple[str, dict[str, Any]] | None:
    """The comments section of a voice's page (its row is in the session: no query to load it)."""
    try:
        target = _load_voice(session, actor, voice.id)  # type: ignore[arg-type]
    except NotFound:
        return None
    return comment_pages.page_section(session, actor, target)
