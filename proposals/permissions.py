"""What people may do in the proposals component, answered by :func:`cocreate.permissions.can`.

Every rule of the component is here, one function per rule (an action that follows the same rule as
another is registered on the same function). Rules read the actor's roles and the facts the target
carries, never the database; the facts are read once by the service or the page's view-model that
builds the target:

- :class:`OnChallenge`: a challenge's phase and state, and whether the actor is staff of one of its
  owning departments (and, where asked for, one of its assigned reviewers);
- :class:`OnProposal`: a proposal's status and its challenge, and what the actor is to it (a member of
  an authoring organisation, of the lead, its creator);
- :class:`OnCoauthor`: one authoring organisation of a proposal;
- :class:`OnNewProposal`: a challenge, and whether the actor belongs to a (verified) organisation;
- :class:`OnBriefing`: a briefing session, its challenge, and whether the actor holds a place;
- a department's id, for ``challenge.create``;
- :class:`OnVoice`: a resident's voice in the staff triage (its status and owning department).

The phase rules themselves stay in :mod:`proposals.phases` (``phases.check`` refuses with
``field="phase"``); a rule here adds who may act and the target's other state. Three kinds of refusal,
as :meth:`cocreate.permissions.Decision.require` raises them: who asks (Forbidden, or SignInRequired for
nobody signed in); the target's state (Invalid, under the field the caller names, or the one the rule
gives); and, for the changes authors make to their proposals, the challenge's phase as a refusal of the
request (403 with the reason, :func:`_outright`), as those pages have always answered.

Comments and moderation: only what is about this component's targets is here (``challenge.comment`` and
``proposal.comment``: whether a challenge or a proposal takes comments now; ``proposal.report``: who may
report a proposal, which the vote box asks too). The core's comments and moderation ask them through the
declarations that name them (``proposals.comment_targets``, ``proposals.report_targets``, whose loaders
build the facts); the checks of the commenter's and the reporter's own account are the core's rules
(``comment.write``, ``report.create`` in ``cocreate.accounts.policy``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate.accounts.permissions import Principal
from cocreate.i18n import gettext as _
from cocreate.permissions import ALLOW, Decision, Policy, confirmed, signed_in, staff_of, when
from proposals import phases
from proposals.models import (
    BriefingSession,
    Challenge,
    ChallengeDepartment,
    Phase,
    ProposalStatus,
    ReviewerAssignment,
    Voice,
    VoiceStatus,
)
from proposals.phases import Action

POLICY = Policy("proposals")

RESIDENCY = "residency"
"""The ``field`` of a refusal to vote for want of a confirmed residency (the vote box links to it)."""


# --- targets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnChallenge:
    """A challenge as the rules see it for one actor."""

    phase: Phase
    owned: bool
    """The actor is staff of a department that owns or co-owns the challenge."""
    reviewer: bool = False
    """The actor is one of its assigned reviewers (read only where a review rule asks: see
    :func:`on_challenge`)."""
    decisions_published: bool = False
    votes_require_verified: bool = False

    @classmethod
    def of(cls, challenge: Challenge, *, owned: bool, reviewer: bool = False) -> OnChallenge:
        """``challenge`` with the actor's facts the caller has read."""
        return cls(challenge.phase, owned, reviewer=reviewer,
                   decisions_published=challenge.decisions_published_at is not None,
                   votes_require_verified=challenge.votes_require_verified)


@dataclass(frozen=True)
class OnProposal:
    """A proposal as the rules see it for one actor."""

    challenge: OnChallenge
    status: ProposalStatus
    hidden: bool = False
    author: bool = False
    """The actor belongs to an organisation that wrote it (confirmed or invited)."""
    creator: bool = False
    """The actor created it."""
    author_organisation_ids: frozenset[int] = field(default_factory=frozenset)
    """Which of the actor's organisations are among its authors (read where the consortium's rules need it)."""
    confirmed_author: bool = False
    """The actor belongs to an authoring organisation whose part is confirmed."""
    lead_member: bool = False
    """The actor belongs to its lead organisation."""

    @property
    def phase(self) -> Phase:
        return self.challenge.phase

    def coauthor(self, organisation_id: int | None) -> OnCoauthor:
        return OnCoauthor(self, organisation_id)


@dataclass(frozen=True)
class OnCoauthor:
    """One authoring organisation of a proposal (removing it from the consortium)."""

    proposal: OnProposal
    organisation_id: int | None


@dataclass(frozen=True)
class OnNewProposal:
    """A challenge to propose to, and the actor's organisations."""

    phase: Phase
    member: bool
    """The actor belongs to an organisation, verified or not."""
    verified_member: bool
    """The actor belongs to a verified organisation."""


@dataclass(frozen=True)
class OnBriefing:
    """A briefing session as the rules see it for one actor, at one moment."""

    challenge: OnChallenge
    cancelled: bool
    started: bool
    full: bool
    registered: bool = False
    """The actor holds a place."""

    @classmethod
    def of(cls, briefing: BriefingSession, challenge: OnChallenge, now: datetime, *,
           registered: bool = False) -> OnBriefing:
        return cls(challenge, cancelled=briefing.cancelled_at is not None, started=briefing.starts_at <= now,
                   full=briefing.registered_count >= briefing.capacity, registered=registered)


# --- reading the facts (the only functions here that read the database) --------------------------


def is_owner(session: Session, actor: Principal, challenge: Challenge) -> bool:
    """Whether the actor is staff of a department that owns (or co-owns) the challenge: a query for staff,
    none for anyone else."""
    staff_of = actor.staff_department_ids
    if not staff_of:
        return False
    co_owner = session.execute(select(sa.exists().where(
        col(ChallengeDepartment.challenge_id) == challenge.id,
        col(ChallengeDepartment.department_id).in_(sorted(staff_of))))).scalar()
    return challenge.department_id in staff_of or bool(co_owner)


def assigned_reviewer(challenge_id: Any, user_id: Any) -> Any:
    """The condition "``user_id`` is an assigned reviewer of ``challenge_id``" (each a value or a column),
    for a query that reads it with other things."""
    return sa.exists().where(col(ReviewerAssignment.challenge_id) == challenge_id,
                             col(ReviewerAssignment.user_id) == user_id)


def is_assigned_reviewer(session: Session, user_id: int | None, challenge_id: int) -> bool:
    """Whether ``user_id`` is an assigned reviewer of the challenge (one query; none for nobody)."""
    if user_id is None:
        return False
    return bool(session.execute(select(assigned_reviewer(challenge_id, user_id))).scalar())


def on_challenge(session: Session, actor: Principal, challenge: Challenge, *, reviewing: bool = False) -> OnChallenge:
    """``challenge`` for ``actor``: whether they own it (a query for staff), and with ``reviewing``
    whether they are one of its assigned reviewers (one more)."""
    reviewer = reviewing and is_assigned_reviewer(session, actor.user_id, challenge.id)  # type: ignore[arg-type]
    return OnChallenge.of(challenge, owned=is_owner(session, actor, challenge), reviewer=reviewer)


def visible(session: Session, actor: Principal, challenge: Challenge) -> bool:
    """``challenge.see``, the owner fact read only for a draft: whoever owns a public challenge, everyone
    sees it, so nothing is asked then."""
    owned = challenge.phase is Phase.DRAFT and is_owner(session, actor, challenge)
    return bool(_see(actor, OnChallenge.of(challenge, owned=owned)))


# --- named predicates ----------------------------------------------------------------------------


def _state(condition: bool, reason: Callable[[], str], field: str = "state") -> Decision:
    """Refused because of the target's state, not who asks: an error under ``field`` (or under the
    field the caller names)."""
    return ALLOW if condition else Decision(False, reason(), field=field)


def _outright(decision: Decision) -> Decision:
    """The same refusal, as a refusal of the request (403 with the reason) rather than an error under a
    form's field: how authors are told that the challenge no longer takes their changes."""
    return decision if decision else Decision(False, decision.reason)


def _owner(actor: Principal, target: OnChallenge) -> Decision:
    return signed_in(actor) & when(target.owned, lambda: _("Only staff of a department that owns this challenge "
                                                            "can do this."))


def _not_ended(target: OnChallenge) -> Decision:
    return when(target.phase not in phases.TERMINAL,
                lambda: _("This challenge has ended and can no longer be edited."))


# --- challenges ----------------------------------------------------------------------------------


@POLICY.rule("challenge.create")
def _create_challenge(actor: Principal, department_id: int | None) -> Decision:
    """Staff create challenges for their own departments (the target is the department's id)."""
    return staff_of(actor, [department_id], lambda: _("You can create challenges only for your own department."))


@POLICY.rule("challenge.see")
def _see(actor: Principal, target: OnChallenge) -> Decision:
    """A public challenge, or a draft of the actor's departments (refused: it does not exist for them)."""
    return when(target.phase is not Phase.DRAFT or target.owned, lambda: _("This challenge has not been published yet."))


@POLICY.rule("challenge.manage", "challenge.move", "challenge.set_voting", "briefing.manage", "review.assign",
             "review.see_results")
def _manage(actor: Principal, target: OnChallenge) -> Decision:
    """The owning staff's pages of a challenge: the editor and its preview, moving it through its phases
    by hand, the voting settings, the briefing sessions, the reviewers and the review's results."""
    return _owner(actor, target)


@POLICY.rule("challenge.edit", "challenge.attach")
def _edit_challenge(actor: Principal, target: OnChallenge) -> Decision:
    """Save changes (co-owners included), attach and delete files: until the challenge ends."""
    return _owner(actor, target) & _not_ended(target)


@POLICY.rule("challenge.publish")
def _publish(actor: Principal, target: OnChallenge) -> Decision:
    return _owner(actor, target) & _state(target.phase is Phase.DRAFT,
                                          lambda: _("This challenge is already published."), "phase")


# --- proposals -----------------------------------------------------------------------------------


@POLICY.rule("proposal.create")
def _propose(actor: Principal, target: OnNewProposal) -> Decision:
    """Members of a verified organisation, while the challenge accepts proposals."""
    def organisation() -> str:
        if target.member:
            return _("Your organisation must be verified by the ward before it can do this.")
        return _("Proposals are submitted by organisations. Register your organisation, or ask its administrator "
                 "to add you, and have it verified by the ward.")

    return (_outright(phases.check(target.phase, Action.PROPOSE))
            & signed_in(actor, _("Sign in as a member of a verified organisation to submit a proposal."))
            & when(target.verified_member, organisation))


@POLICY.rule("proposal.read")
def _read_proposal(actor: Principal, target: OnProposal) -> Decision:
    """Its page exists for the actor: its challenge is visible to them, and a draft only to its authors."""
    return _see(actor, target.challenge) & when(target.status is not ProposalStatus.DRAFT or target.author,
                                                lambda: _("This proposal does not exist or is not public."))


@POLICY.rule("proposal.read_confidential", "proposal.compare_versions")
def _read_confidential(actor: Principal, target: OnProposal) -> Decision:
    """The confidential part, confidential attachments and the submitted versions: its authors, the
    owning staff and the challenge's assigned reviewers."""
    return signed_in(actor) & when(target.author or target.challenge.owned or target.challenge.reviewer, lambda: _(
        "Only the proposal's authors, the staff in charge and its reviewers can compare versions."))


@POLICY.rule("proposal.manage")
def _author(actor: Principal, target: OnProposal) -> Decision:
    """Its authors' tools (the editor, submitting, withdrawing): members of an authoring organisation
    whose part is confirmed."""
    return signed_in(actor) & when(target.confirmed_author, lambda: _(
        "Only members of the organisations that wrote this proposal can do this."))


def _open_to_changes(target: OnProposal) -> Decision:
    """A submitted proposal changes while the challenge accepts proposals; a draft at any time."""
    if target.status is ProposalStatus.DRAFT:
        return ALLOW
    return _outright(phases.check(target.phase, Action.PROPOSE))


@POLICY.rule("proposal.edit", "proposal.attach")
def _edit_proposal(actor: Principal, target: OnProposal) -> Decision:
    """Save changes, attach and delete files."""
    return (_author(actor, target)
            & when(target.status is not ProposalStatus.WITHDRAWN, lambda: _("A withdrawn proposal can no longer be "
                                                                            "changed."))
            & _open_to_changes(target))


@POLICY.rule("proposal.submit")
def _submit(actor: Principal, target: OnProposal) -> Decision:
    return (_author(actor, target)
            & _state(target.status is ProposalStatus.DRAFT, lambda: _("This proposal has already been submitted."),
                     "submit")
            & _outright(phases.check(target.phase, Action.PROPOSE)))


@POLICY.rule("proposal.withdraw")
def _withdraw(actor: Principal, target: OnProposal) -> Decision:
    return (_author(actor, target)
            & _state(target.status is ProposalStatus.SUBMITTED,
                     lambda: _("Only a submitted proposal can be withdrawn."), "withdraw")
            & _outright(phases.check(target.phase, Action.PROPOSE)))


@POLICY.rule("proposal.change_coauthors")
def _consortium(actor: Principal, target: OnProposal) -> Decision:
    """Use the consortium's form (what each choice allows is its own rule)."""
    return signed_in(actor) & when(target.author, lambda: _(
        "Only members of the organisations that wrote this proposal can do this."))


@POLICY.rule("proposal.invite_coauthor")
def _invite(actor: Principal, target: OnProposal) -> Decision:
    return (signed_in(actor)
            & when(target.lead_member, lambda: _("Only members of the lead organisation can invite co-authors."))
            & _state(target.status is ProposalStatus.DRAFT,
                     lambda: _("Co-authors can be added only before submission."), "organisation_id"))


@POLICY.rule("proposal.remove_coauthor")
def _remove_coauthor(actor: Principal, target: OnCoauthor) -> Decision:
    """Before submission, the lead removes a co-author, or a co-author's member declines."""
    proposal = target.proposal
    return (signed_in(actor)
            & when(proposal.lead_member or target.organisation_id in proposal.author_organisation_ids,
                   lambda: _("Only members of the lead organisation can invite co-authors."))
            & _state(proposal.status is ProposalStatus.DRAFT,
                     lambda: _("Co-authors can be changed only before submission."), "organisation_id"))


@POLICY.rule("proposal.report")
def _report_proposal(actor: Principal, target: OnProposal) -> Decision:
    """Report a proposal to the moderators: anyone signed in but its own authors (the reporter's account
    is the core's ``report.create``, asked when the report is made)."""
    return signed_in(actor) & when(not (target.author or target.creator),
                                   lambda: _("You cannot report your own content."))


# --- votes ---------------------------------------------------------------------------------------


@POLICY.rule("vote.open")
def _votes_open(actor: Principal, target: OnProposal) -> Decision:
    """Whether the proposal takes votes now, whoever asks: the phase, and a proposal that is still
    submitted and shown."""
    return (phases.check(target.phase, Action.VOTE)
            & _state(target.status is ProposalStatus.SUBMITTED, lambda: _("This proposal has been withdrawn."))
            & _state(not target.hidden, lambda: _("This proposal is hidden and cannot be supported.")))


@POLICY.rule("vote.cast")
def _vote(actor: Principal, target: OnProposal) -> Decision:
    """Residents vote: not the owning staff, not its authors. The votes left to the voter are counted
    under a lock by ``proposals.votes.services``; a refusal for want of a confirmed residency has the field
    :data:`RESIDENCY`."""
    user = actor.user
    return (signed_in(actor, _("Sign in to vote."))
            & confirmed(actor, lambda: _("Confirm your e-mail address before voting."))
            & when(not target.challenge.owned, lambda: _("Staff of a department that owns this challenge cannot "
                                                         "vote on its proposals."))
            & when(not (target.author or target.creator), lambda: _("Members of the organisations that wrote this "
                                                                    "proposal cannot vote on it."))
            & _votes_open(actor, target)
            & _state(not target.challenge.votes_require_verified or (user is not None and user.is_verified_resident),
                     lambda: _("Only residents whose residency the ward has confirmed can vote on this challenge."),
                     RESIDENCY))


@POLICY.rule("vote.withdraw")
def _unvote(actor: Principal, target: OnProposal) -> Decision:
    """Withdraw one's own vote while voting is open."""
    return signed_in(actor, _("Sign in to vote.")) & phases.check(target.phase, Action.VOTE)


# --- briefing sessions ---------------------------------------------------------------------------


@POLICY.rule("briefing.add")
def _add_briefing(actor: Principal, target: OnChallenge) -> Decision:
    return _owner(actor, target) & _state(target.phase not in phases.TERMINAL, lambda: _(
        "This challenge has ended; sessions can no longer be added."), "challenge")


@POLICY.rule("briefing.open")
def _briefing_open(actor: Principal, target: OnBriefing) -> Decision:
    """Whether the session takes registrations now, whoever asks."""
    return (_state(not target.cancelled, lambda: _("This session has been cancelled."), "registration")
            & _state(not target.started, lambda: _("This session has already started; registration is closed."),
                     "registration")
            & phases.check(target.challenge.phase, Action.REGISTER_BRIEFING)
            & _state(not target.full, lambda: _("This session is full. Another session may still have places."),
                     "registration"))


@POLICY.rule("briefing.register")
def _register(actor: Principal, target: Any = None) -> Decision:
    """Who registers for sessions: a confirmed account (asked first, before the session is locked);
    whether the session takes the place is ``briefing.open``, asked under its lock."""
    return confirmed(actor, lambda: _("Confirm your e-mail address before registering."))


@POLICY.rule("briefing.see_online_address")
def _online_address(actor: Principal, target: OnBriefing) -> Decision:
    """The address of an online session: the people holding a place, and the owning staff."""
    return when(target.registered or target.challenge.owned, lambda: _("You do not have permission to do this."))


# --- review --------------------------------------------------------------------------------------


@POLICY.rule("review.read")
def _reviewer(actor: Principal, target: OnChallenge) -> Decision:
    """A challenge's review pages: its assigned reviewers."""
    return signed_in(actor) & when(target.reviewer, lambda: _("Only reviewers assigned to this challenge can do "
                                                              "this."))


@POLICY.rule("review.score")
def _score(actor: Principal, target: OnChallenge) -> Decision:
    """Declare conflicts of interest and score: assigned reviewers, in the review phase."""
    return _reviewer(actor, target) & phases.check(target.phase, Action.REVIEW)


@POLICY.rule("review.decide", "review.publish_decisions")
def _decide(actor: Principal, target: OnChallenge) -> Decision:
    """Save the decisions and publish them: the owning staff, in the review phase, once. Published is
    asked first: publishing moves the challenge on to "decided", and that they are published is then
    the reason that matters, not the phase."""
    return (_owner(actor, target)
            & _state(not target.decisions_published,
                     lambda: _("The decisions on this challenge have already been published."), "decisions")
            & phases.check(target.phase, Action.DECIDE))


# --- comments (the target's part; the commenter's account is the core's comment.write) -----------


@POLICY.rule("challenge.comment", "proposal.comment")
def _takes_comments(actor: Principal, target: OnChallenge | OnProposal) -> Decision:
    """Whether the challenge, or the proposal, takes comments now: the phase, and a proposal still
    submitted and shown."""
    decision = phases.check(target.phase, Action.COMMENT)
    if decision and isinstance(target, OnProposal):
        return _state(target.status is ProposalStatus.SUBMITTED and not target.hidden,
                      lambda: _("This proposal no longer takes comments."))
    return decision


# --- dialogue (questions and answers) --------------------------------------------------------------


@POLICY.rule("question.ask")
def _ask(actor: Principal, target: OnChallenge) -> Decision:
    return confirmed(actor, lambda: _("Confirm your e-mail address before you ask a question.")) \
        & phases.check(target.phase, Action.ASK)


@POLICY.rule("question.answer")
def _answer(actor: Principal, target: OnChallenge) -> Decision:
    return _owner(actor, target) & phases.check(target.phase, Action.ANSWER)


@POLICY.rule("question.moderate")
def _moderate_questions(actor: Principal, target: OnChallenge) -> Decision:
    """Pin, merge and hide questions."""
    return _owner(actor, target)



# --- residents' voices (まちの声): staff triage, then the public side ---------------------------------


@dataclass(frozen=True)
class OnVoice:
    """A voice as the rules see it for one actor: its status and owning department (the triage rules),
    whether a moderator hid it, and whether the actor wrote it (the public rules). Built from the row
    alone (:meth:`of`): an assisted entry has no author online."""

    status: VoiceStatus = VoiceStatus.RECEIVED
    department_id: int | None = None
    hidden: bool = False
    author: bool = False

    @property
    def merged(self) -> bool:
        return self.status is VoiceStatus.MERGED

    @classmethod
    def of(cls, voice: Voice, actor: Principal | None = None) -> OnVoice:
        """``voice`` for ``actor`` (whether they wrote it; no actor: nobody in particular)."""
        author = actor is not None and actor.user_id is not None and voice.author_id == actor.user_id
        return cls(voice.status, voice.department_id, hidden=voice.hidden_at is not None, author=author)


def _triager(actor: Principal, target: OnVoice) -> Decision:
    """Staff of the owning department, any staff for a voice no department owns yet (so that someone
    takes it), or an administrator."""
    takes = target.department_id is None and actor.is_staff
    return signed_in(actor) & when(actor.is_admin or takes or actor.is_staff_of(target.department_id), lambda: _(
        "Only staff of the department in charge of this voice can do this."))


def _not_merged(target: OnVoice) -> Decision:
    return _state(target.status is not VoiceStatus.MERGED,
                  lambda: _("This voice was merged into another one; act on that one instead."))


@POLICY.rule("voice.queue")
def _voice_queue(actor: Principal, target: Any = None) -> Decision:
    """The staff queue of voices: ward staff and administrators."""
    return signed_in(actor) & when(actor.is_staff or actor.is_admin,
                                   lambda: _("You do not have permission to do this."))


@POLICY.rule("voice.triage")
def _voice_triage(actor: Principal, target: OnVoice) -> Decision:
    """The triage tools of a voice (its staff page, the actions' section)."""
    return _triager(actor, target)


@POLICY.rule("voice.acknowledge")
def _voice_acknowledge(actor: Principal, target: OnVoice) -> Decision:
    """Received → under consideration."""
    return _triager(actor, target) & _state(target.status is VoiceStatus.RECEIVED, lambda: _(
        "Only a newly received voice can be acknowledged."), "acknowledge")


@POLICY.rule("voice.answer", "voice.close", "voice.reassign", "voice.merge", "voice.link")
def _voice_act(actor: Principal, target: OnVoice) -> Decision:
    """Answer publicly, mark as addressed or not taken up, give to another department, merge into
    another voice, link to a challenge: any voice but a merged one."""
    return _triager(actor, target) & _not_merged(target)


@POLICY.rule("voice.draft_challenge")
def _voice_draft(actor: Principal, target: Any = None) -> Decision:
    """Turn voices into a draft challenge at all: ward staff only (administrators create no challenges;
    the challenge's own ``challenge.create`` is asked for the department too)."""
    return signed_in(actor) & when(actor.is_staff, lambda: _("Only ward staff can turn voices into challenges."))


@POLICY.rule("voice.to_challenge")
def _voice_to_challenge(actor: Principal, target: OnVoice) -> Decision:
    """Turn this voice (with others, maybe) into a draft challenge."""
    return _voice_draft(actor) & _triager(actor, target) & _not_merged(target)


# --- residents' voices: the public side ---------------------------------------------------------


@POLICY.rule("voice.post")
def _post_voice(actor: Principal, target: Any = None) -> Decision:
    """Raise a local need, problem or idea: a signed-in account, its address confirmed and active."""
    return signed_in(actor, _("Sign in to post a voice.")) & confirmed(
        actor, lambda: _("Confirm your e-mail address before you post a voice."))


def _voice_open(target: OnVoice) -> Decision:
    """A voice that is shown on its own page (not hidden, not merged into another)."""
    return (_state(not target.hidden, lambda: _("This voice is hidden."), "support")
            & _state(not target.merged, lambda: _("This voice was merged into another one; support that one "
                                                  "instead."), "support"))


@POLICY.rule("voice.support")
def _support_voice(actor: Principal, target: OnVoice) -> Decision:
    """Support a voice (one per person): a confirmed account, not its own author, while it is shown."""
    return (signed_in(actor, _("Sign in to support this voice."))
            & confirmed(actor, lambda: _("Confirm your e-mail address before you support a voice."))
            & when(not target.author, lambda: _("You cannot support your own voice."))
            & _voice_open(target))


@POLICY.rule("voice.unsupport")
def _unsupport_voice(actor: Principal, target: OnVoice) -> Decision:
    """Withdraw one's own support while the voice is shown (a merged voice's supports moved on with it)."""
    return signed_in(actor, _("Sign in to support this voice.")) & _voice_open(target)


@POLICY.rule("voice.comment")
def _comment_voice(actor: Principal, target: OnVoice) -> Decision:
    """Whether the voice takes comments now, whoever asks (the commenter's account is ``comment.write``)."""
    return (_state(not target.hidden, lambda: _("This voice no longer takes comments."), "body")
            & _state(not target.merged, lambda: _("This voice was merged into another one; comment there."),
                     "body"))


@POLICY.rule("voice.report")
def _report_voice(actor: Principal, target: OnVoice) -> Decision:
    """Report a voice to the moderators: anyone signed in but its author."""
    return signed_in(actor) & when(not target.author, lambda: _("You cannot report your own content."))
