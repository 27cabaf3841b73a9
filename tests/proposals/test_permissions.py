"""The proposals component's permission rules (proposals.permissions), by role and by phase.

Each rule is asked of in-memory targets: the rules read no database, so who the actor is to the
challenge or proposal is set here as the services and view-models read it. Every phase-bound action is
checked in every phase (before, during and after the phases that allow it); every rule by persona.
The same rules through the routes: tests/cocreate/accounts/test_permission_matrix.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from cocreate import permissions
from cocreate.accounts.models import Role, User
from cocreate.accounts.permissions import Principal
from cocreate.db.base import utcnow
from cocreate.errors import Forbidden, Invalid, SignInRequired
from cocreate.i18n import gettext as _
from proposals.models import BriefingSession, Phase, ProposalStatus
from proposals.permissions import RESIDENCY, OnBriefing, OnChallenge, OnNewProposal, OnProposal

OWNING_DEPARTMENT = 1
OTHER_DEPARTMENT = 2
PUBLIC = [phase for phase in Phase if phase is not Phase.DRAFT]
BEFORE_THE_END = [Phase.PUBLISHED, Phase.ACCEPTING, Phase.VOTING, Phase.REVIEW, Phase.DECIDED, Phase.TRIAL]


def person(*, confirmed: bool = True, verified: bool = False, staff_of: int | None = None,
           reviewer: bool = False) -> Principal:
    now = utcnow()
    user = User(id=1, email="someone@example.jp", display_name="someone", email_confirmed_at=now if confirmed else None,
                residency_verified_at=now if verified else None)
    roles: set[tuple[Role, int | None]] = set()
    if staff_of is not None:
        roles.add((Role.STAFF, staff_of))
    if reviewer:
        roles.add((Role.REVIEWER, None))
    return Principal(user=user, roles=frozenset(roles))


NOBODY = Principal.anonymous()
RESIDENT = person()
UNCONFIRMED = person(confirmed=False)
OWNER = person(staff_of=OWNING_DEPARTMENT)
OTHER_STAFF = person(staff_of=OTHER_DEPARTMENT)
REVIEWER = person(reviewer=True)


def on(phase: Phase, *, owned: bool = False, reviewer: bool = False, published: bool = False,
       verified_only: bool = False) -> OnChallenge:
    return OnChallenge(phase, owned, reviewer=reviewer, decisions_published=published,
                       votes_require_verified=verified_only)


def proposal(phase: Phase = Phase.ACCEPTING, status: ProposalStatus = ProposalStatus.SUBMITTED, **facts: Any) -> OnProposal:
    """A proposal for an actor: ``facts`` are what they are to it (author, lead_member…) and to its
    challenge (owned, reviewer, verified_only)."""
    challenge = on(phase, **{k: facts.pop(k) for k in ("owned", "reviewer", "verified_only") if k in facts})
    return OnProposal(challenge, status, **facts)


AUTHOR = {"author": True, "author_organisation_ids": frozenset({10}), "confirmed_author": True, "lead_member": True}
INVITED = {"author": True, "author_organisation_ids": frozenset({11})}  # a co-author that has not confirmed yet


def allowed(actor: Principal, action: str, target: Any) -> bool:
    return bool(permissions.can(actor, action, target))


def test_every_action_of_the_component_is_declared() -> None:
    assert {
        "challenge.create", "challenge.see", "challenge.manage", "challenge.edit", "challenge.attach",
        "challenge.publish", "challenge.move", "challenge.set_voting", "challenge.comment",
        "proposal.create", "proposal.read", "proposal.read_confidential", "proposal.compare_versions",
        "proposal.manage", "proposal.edit", "proposal.attach", "proposal.submit", "proposal.withdraw",
        "proposal.change_coauthors", "proposal.invite_coauthor", "proposal.remove_coauthor", "proposal.report",
        "proposal.comment", "vote.open", "vote.cast", "vote.withdraw", "briefing.manage", "briefing.add",
        "briefing.open", "briefing.register", "briefing.see_online_address", "review.read", "review.score",
        "review.assign", "review.see_results", "review.decide", "review.publish_decisions",
        "question.ask", "question.answer", "question.moderate",
    } <= permissions.actions()


# --- by phase: before, during and after the phases that allow each action -------------------------


def _briefing(phase: Phase) -> OnBriefing:
    return OnBriefing(on(phase), cancelled=False, started=False, full=False)


PHASED: list[tuple[str, Principal, Callable[[Phase], Any], set[Phase]]] = [
    ("question.ask", RESIDENT, lambda p: on(p), {Phase.PUBLISHED, Phase.ACCEPTING}),
    ("question.answer", OWNER, lambda p: on(p, owned=True), set(BEFORE_THE_END)),
    ("question.moderate", OWNER, lambda p: on(p, owned=True), set(Phase)),
    ("challenge.see", RESIDENT, lambda p: on(p), set(PUBLIC)),
    ("challenge.see", OWNER, lambda p: on(p, owned=True), set(Phase)),
    ("challenge.manage", OWNER, lambda p: on(p, owned=True), set(Phase)),
    ("challenge.edit", OWNER, lambda p: on(p, owned=True), {Phase.DRAFT, *BEFORE_THE_END}),
    ("challenge.attach", OWNER, lambda p: on(p, owned=True), {Phase.DRAFT, *BEFORE_THE_END}),
    ("challenge.publish", OWNER, lambda p: on(p, owned=True), {Phase.DRAFT}),
    ("challenge.comment", RESIDENT, lambda p: on(p), {*BEFORE_THE_END, Phase.COMPLETED}),
    ("proposal.create", RESIDENT, lambda p: OnNewProposal(p, member=True, verified_member=True), {Phase.ACCEPTING}),
    ("proposal.edit", RESIDENT, lambda p: proposal(p, **AUTHOR), {Phase.ACCEPTING}),
    ("proposal.edit", RESIDENT, lambda p: proposal(p, ProposalStatus.DRAFT, **AUTHOR), set(Phase)),
    ("proposal.attach", RESIDENT, lambda p: proposal(p, **AUTHOR), {Phase.ACCEPTING}),
    ("proposal.submit", RESIDENT, lambda p: proposal(p, ProposalStatus.DRAFT, **AUTHOR), {Phase.ACCEPTING}),
    ("proposal.withdraw", RESIDENT, lambda p: proposal(p, **AUTHOR), {Phase.ACCEPTING}),
    ("proposal.invite_coauthor", RESIDENT, lambda p: proposal(p, ProposalStatus.DRAFT, **AUTHOR), set(Phase)),
    ("proposal.comment", RESIDENT, lambda p: proposal(p), {*BEFORE_THE_END, Phase.COMPLETED}),
    ("vote.open", RESIDENT, lambda p: proposal(p), {Phase.VOTING}),
    ("vote.cast", RESIDENT, lambda p: proposal(p), {Phase.VOTING}),
    ("vote.withdraw", RESIDENT, lambda p: proposal(p), {Phase.VOTING}),
    ("briefing.open", RESIDENT, _briefing, {Phase.PUBLISHED, Phase.ACCEPTING}),
    ("briefing.add", OWNER, lambda p: on(p, owned=True), {Phase.DRAFT, *BEFORE_THE_END}),
    ("review.read", REVIEWER, lambda p: on(p, reviewer=True), set(Phase)),
    ("review.score", REVIEWER, lambda p: on(p, reviewer=True), {Phase.REVIEW}),
    ("review.decide", OWNER, lambda p: on(p, owned=True), {Phase.REVIEW}),
    ("review.publish_decisions", OWNER, lambda p: on(p, owned=True), {Phase.REVIEW}),
]


@pytest.mark.parametrize("phase", list(Phase))
@pytest.mark.parametrize(("action", "actor", "target", "phases"), PHASED,
                         ids=[f"{action}-{index}" for index, (action, *_rest) in enumerate(PHASED)])
def test_each_action_is_allowed_in_its_phases_only(action: str, actor: Principal, target: Callable[[Phase], Any],
                                                   phases: set[Phase], phase: Phase) -> None:
    assert allowed(actor, action, target(phase)) is (phase in phases)


def test_a_refusal_for_the_phase_says_why() -> None:
    decision = permissions.can(RESIDENT, "vote.cast", proposal(Phase.ACCEPTING))
    assert decision.reason == _("Voting is open only during the comment and voting phase.")
    assert decision.field == "phase"
    ended = permissions.can(OWNER, "challenge.edit", on(Phase.COMPLETED, owned=True))
    assert ended.reason == _("This challenge has ended and can no longer be edited.") and ended.field is None
    published = permissions.can(OWNER, "review.decide", on(Phase.DECIDED, owned=True, published=True))
    assert published.reason == _("The decisions on this challenge have already been published.")


def test_authors_are_refused_outright_once_proposals_close() -> None:
    """The pages of an author answer 403 with the reason, not an error under a field of their form."""
    for action in ("proposal.edit", "proposal.submit", "proposal.withdraw"):
        status = ProposalStatus.DRAFT if action == "proposal.submit" else ProposalStatus.SUBMITTED
        with pytest.raises(Forbidden) as refused:
            permissions.require(RESIDENT, action, proposal(Phase.VOTING, status, **AUTHOR))
        assert str(refused.value.detail) == _("Proposals can be submitted only while the challenge is accepting "
                                              "proposals.")
    with pytest.raises(Forbidden):
        permissions.require(RESIDENT, "proposal.create", OnNewProposal(Phase.REVIEW, member=True, verified_member=True))


# --- by role -------------------------------------------------------------------------------------


def test_challenges_are_created_for_ones_own_departments() -> None:
    assert allowed(OWNER, "challenge.create", OWNING_DEPARTMENT)
    assert not allowed(OWNER, "challenge.create", OTHER_DEPARTMENT)
    assert not allowed(RESIDENT, "challenge.create", OWNING_DEPARTMENT)
    assert permissions.can(NOBODY, "challenge.create", OWNING_DEPARTMENT).sign_in


@pytest.mark.parametrize("action", ["challenge.manage", "challenge.edit", "challenge.attach", "challenge.publish",
                                    "challenge.move", "challenge.set_voting", "briefing.manage", "briefing.add",
                                    "review.assign", "review.see_results", "question.moderate"])
def test_only_the_owning_staff_manage_a_challenge(action: str) -> None:
    draft = Phase.DRAFT
    assert allowed(OWNER, action, on(draft, owned=True))
    for who in (OTHER_STAFF, RESIDENT, REVIEWER):
        assert not allowed(who, action, on(draft))
    with pytest.raises(SignInRequired):
        permissions.require(NOBODY, action, on(draft))
    with pytest.raises(Forbidden):
        permissions.require(OTHER_STAFF, action, on(draft))


def test_drafts_exist_only_for_their_departments() -> None:
    assert not allowed(NOBODY, "challenge.see", on(Phase.DRAFT))
    assert not allowed(OTHER_STAFF, "challenge.see", on(Phase.DRAFT))
    assert allowed(OWNER, "challenge.see", on(Phase.DRAFT, owned=True))
    draft_proposal = proposal(Phase.ACCEPTING, ProposalStatus.DRAFT)
    assert not allowed(OWNER, "proposal.read", proposal(Phase.ACCEPTING, ProposalStatus.DRAFT, owned=True))
    assert not allowed(RESIDENT, "proposal.read", draft_proposal)
    assert allowed(RESIDENT, "proposal.read", proposal(Phase.ACCEPTING, ProposalStatus.DRAFT, **INVITED))
    assert allowed(NOBODY, "proposal.read", proposal(Phase.ACCEPTING, ProposalStatus.WITHDRAWN))
    assert not allowed(NOBODY, "proposal.read", proposal(Phase.DRAFT))


def test_the_confidential_part_is_for_authors_owning_staff_and_reviewers() -> None:
    for action in ("proposal.read_confidential", "proposal.compare_versions"):
        assert allowed(RESIDENT, action, proposal(**INVITED))
        assert allowed(OWNER, action, proposal(owned=True))
        assert allowed(REVIEWER, action, proposal(reviewer=True))
        assert not allowed(OTHER_STAFF, action, proposal())
        assert not allowed(REVIEWER, action, proposal())  # a reviewer, but not of this challenge
        assert not allowed(NOBODY, action, proposal())


def test_the_consortium() -> None:
    draft = ProposalStatus.DRAFT
    lead = proposal(status=draft, **AUTHOR)
    invited = proposal(status=draft, **INVITED)
    assert allowed(RESIDENT, "proposal.manage", lead) and not allowed(RESIDENT, "proposal.manage", invited)
    assert allowed(RESIDENT, "proposal.change_coauthors", invited)
    assert not allowed(RESIDENT, "proposal.change_coauthors", proposal(status=draft))
    assert allowed(RESIDENT, "proposal.invite_coauthor", lead)
    assert not allowed(RESIDENT, "proposal.invite_coauthor", invited)
    assert allowed(RESIDENT, "proposal.remove_coauthor", lead.coauthor(11))  # the lead removes a co-author
    assert allowed(RESIDENT, "proposal.remove_coauthor", invited.coauthor(11))  # a co-author declines
    assert not allowed(RESIDENT, "proposal.remove_coauthor", invited.coauthor(12))  # but not for another one
    submitted = proposal(**AUTHOR)
    with pytest.raises(Invalid) as refused:
        permissions.require(RESIDENT, "proposal.invite_coauthor", submitted)
    assert refused.value.errors == {"organisation_id": _("Co-authors can be added only before submission.")}
    with pytest.raises(Invalid):
        permissions.require(RESIDENT, "proposal.remove_coauthor", submitted.coauthor(11))


def test_a_proposals_state_refuses_under_its_field() -> None:
    with pytest.raises(Invalid) as refused:
        permissions.require(RESIDENT, "proposal.submit", proposal(**AUTHOR))
    assert refused.value.errors == {"submit": _("This proposal has already been submitted.")}
    with pytest.raises(Invalid) as refused:
        permissions.require(RESIDENT, "proposal.withdraw", proposal(status=ProposalStatus.DRAFT, **AUTHOR))
    assert refused.value.errors == {"withdraw": _("Only a submitted proposal can be withdrawn.")}
    with pytest.raises(Forbidden):
        permissions.require(RESIDENT, "proposal.edit", proposal(status=ProposalStatus.WITHDRAWN, **AUTHOR))


def test_who_may_propose() -> None:
    accepting = Phase.ACCEPTING
    assert allowed(RESIDENT, "proposal.create", OnNewProposal(accepting, member=True, verified_member=True))
    nobody = permissions.can(NOBODY, "proposal.create", OnNewProposal(accepting, member=False, verified_member=False))
    assert nobody.sign_in
    unverified = permissions.can(RESIDENT, "proposal.create", OnNewProposal(accepting, member=True,
                                                                            verified_member=False))
    assert unverified.reason == _("Your organisation must be verified by the ward before it can do this.")
    loner = permissions.can(RESIDENT, "proposal.create", OnNewProposal(accepting, member=False, verified_member=False))
    assert not loner and loner.reason != unverified.reason


def test_residents_vote_but_not_the_owning_staff_nor_the_authors() -> None:
    voting = Phase.VOTING
    assert allowed(RESIDENT, "vote.cast", proposal(voting))
    assert allowed(OTHER_STAFF, "vote.cast", proposal(voting))  # staff of another department are residents here
    assert permissions.can(NOBODY, "vote.cast", proposal(voting)).sign_in
    for who, target in ((UNCONFIRMED, proposal(voting)), (OWNER, proposal(voting, owned=True)),
                        (RESIDENT, proposal(voting, **INVITED)), (RESIDENT, proposal(voting, creator=True))):
        with pytest.raises(Forbidden):
            permissions.require(who, "vote.cast", target, field="vote")
    for target in (proposal(voting, ProposalStatus.WITHDRAWN), proposal(voting, hidden=True)):
        with pytest.raises(Invalid) as refused:
            permissions.require(RESIDENT, "vote.cast", target, field="vote")
        assert list(refused.value.errors) == ["vote"]


def test_a_verified_only_challenge_asks_for_a_confirmed_residency() -> None:
    target = proposal(Phase.VOTING, verified_only=True)
    refused = permissions.can(RESIDENT, "vote.cast", target)
    assert not refused and refused.field == RESIDENCY
    assert allowed(person(verified=True), "vote.cast", target)


def test_reports_of_a_proposal_come_from_others_than_its_authors() -> None:
    assert allowed(RESIDENT, "proposal.report", proposal())
    assert allowed(OWNER, "proposal.report", proposal(owned=True))
    assert not allowed(RESIDENT, "proposal.report", proposal(**INVITED))
    assert not allowed(RESIDENT, "proposal.report", proposal(creator=True))
    assert not allowed(NOBODY, "proposal.report", proposal())


def test_a_proposal_takes_comments_while_it_is_submitted_and_shown() -> None:
    assert allowed(NOBODY, "proposal.comment", proposal(Phase.VOTING))
    for target in (proposal(Phase.VOTING, ProposalStatus.WITHDRAWN), proposal(Phase.VOTING, hidden=True)):
        assert permissions.can(NOBODY, "proposal.comment", target).reason == _("This proposal no longer takes "
                                                                               "comments.")


def test_briefing_sessions() -> None:
    now = utcnow()
    session = BriefingSession(challenge_id=1, title="説明会", starts_at=now + timedelta(days=1),
                              ends_at=now + timedelta(days=1, hours=1), capacity=2, registered_count=1)
    open_session = OnBriefing.of(session, on(Phase.ACCEPTING), now)
    assert allowed(RESIDENT, "briefing.register", open_session) and allowed(RESIDENT, "briefing.open", open_session)
    assert not allowed(UNCONFIRMED, "briefing.register", open_session)
    assert not allowed(RESIDENT, "briefing.open", OnBriefing.of(session, on(Phase.ACCEPTING),
                                                                now + timedelta(days=2)))  # started
    session.registered_count = 2
    full = permissions.can(RESIDENT, "briefing.open", OnBriefing.of(session, on(Phase.ACCEPTING), now))
    assert full.reason == _("This session is full. Another session may still have places.")
    assert full.field == "registration"
    assert not allowed(RESIDENT, "briefing.see_online_address", open_session)
    assert allowed(RESIDENT, "briefing.see_online_address", OnBriefing.of(session, on(Phase.ACCEPTING), now,
                                                                          registered=True))
    assert allowed(OWNER, "briefing.see_online_address", OnBriefing.of(session, on(Phase.ACCEPTING, owned=True), now))


def test_only_assigned_reviewers_review() -> None:
    review = Phase.REVIEW
    assert allowed(REVIEWER, "review.score", on(review, reviewer=True))
    assert allowed(OWNER, "review.score", on(review, owned=True, reviewer=True))  # staff can be assigned too
    for who, target in ((REVIEWER, on(review)), (OWNER, on(review, owned=True)), (RESIDENT, on(review))):
        with pytest.raises(Forbidden):
            permissions.require(who, "review.read", target)
    with pytest.raises(Invalid) as refused:
        permissions.require(REVIEWER, "review.score", on(Phase.VOTING, reviewer=True), field="review")
    assert list(refused.value.errors) == ["review"]
