"""The rules of comments and moderation (cocreate/accounts/policy.py), per role and per target state.

Whether a target takes comments, and who may report it, are its component's rules (proposals'
``challenge.comment``, ``proposal.comment``, ``proposal.report``): the declarations name them and their
loaders read the facts, and the core's rules ask them through ``can`` (the core imports no component).
The core adds the commenter's and the reporter's own account, the comment's state and the moderators.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from litestar import Litestar
from sqlmodel import Session

from cocreate import components, permissions
from cocreate.accounts.models import Role, User
from cocreate.accounts.permissions import Principal
from cocreate.comments import services as comments
from cocreate.comments import targets
from cocreate.comments.models import Comment
from cocreate.comments.targets import TargetInfo
from cocreate.db.base import utcnow
from cocreate.errors import Forbidden, Invalid, SignInRequired
from cocreate.i18n import gettext, using_locale
from cocreate.moderation import services as moderation
from cocreate.moderation import targets as reportables
from proposals import phases
from proposals.models import Phase, ProposalStatus
from proposals.permissions import OnChallenge, OnProposal
from proposals.phases import Action
from tests.cocreate.comments.test_comments import browser
from tests.factories import actor, create_department, create_user, create_ward

pytestmark = pytest.mark.databases("sqlite", why="the rules read no database; people come from the factories")

CORE_ACTIONS = {"comment.write", "comment.post", "comment.reply", "comment.edit", "comment.like", "comment.delete",
                "report.create", "comment.report", "moderation.review", "moderation.block"}


def ja(message: str, **variables: object) -> str:
    with using_locale("ja"):
        return gettext(message, **variables)


@pytest.fixture
def people(session: Session) -> dict[str, Principal]:
    """A resident, one whose address is not confirmed, a blocked one, staff, a moderator, an administrator
    and a visitor."""
    components.load()
    blocked = create_user(session, "a-blocked@example.jp")
    blocked.blocked_at = utcnow()
    session.add(blocked)
    session.commit()
    department = create_department(session, "spare")
    users = {"resident": create_user(session, "a-resident@example.jp"),
             "unconfirmed": create_user(session, "a-new@example.jp", confirmed=False),
             "blocked": blocked,
             "staff": create_user(session, "a-staff@example.jp", roles=[(Role.STAFF, department.id)]),  # type: ignore[list-item]
             "moderator": create_user(session, "a-moderator@example.jp", roles=[Role.MODERATOR]),
             "admin": create_user(session, "an-admin@example.jp", roles=[Role.ADMIN])}
    return {name: actor(session, user) for name, user in users.items()} | {"visitor": Principal.anonymous()}


def challenge(phase: Phase) -> TargetInfo:
    """A challenge as its comments declaration gives it (its facts: the phase)."""
    return TargetInfo(targets.target("challenge"), 1, "課題", OnChallenge(phase, owned=False))


def proposal(phase: Phase = Phase.VOTING, status: ProposalStatus = ProposalStatus.SUBMITTED,
             hidden: bool = False) -> TargetInfo:
    return TargetInfo(targets.target("proposal"), 1, "提案",
                      OnProposal(OnChallenge(phase, owned=False), status, hidden=hidden))


def on(target: TargetInfo, *, mine: bool = False, removed: bool = False, in_window: bool = True) -> comments.OnComment:
    return comments.OnComment(target, mine=mine, removed=removed, in_edit_window=in_window)


def allowed(people: dict[str, Principal], action: str, target: object = None) -> set[str]:
    return {name for name, person in people.items() if permissions.can(person, action, target)}


def test_the_core_declares_its_rules_and_the_declarations_name_declared_actions() -> None:
    components.load()
    assert permissions.actions() >= CORE_ACTIONS
    assert {kind.name: kind.action for kind in targets.all_targets()} == {
        "challenge": "challenge.comment", "proposal": "proposal.comment", "voice": "voice.comment"}
    assert {name: reportables.reportable(name).action for name in reportables.names()} == {
        "proposal": "proposal.report", "comment": "comment.report", "voice": "voice.report"}
    assert {kind.action for kind in targets.all_targets()} <= permissions.actions()


# --- the commenter's account ---------------------------------------------------------------------


def test_comments_are_written_by_signed_in_confirmed_accounts_that_are_not_blocked(
        people: dict[str, Principal]) -> None:
    writers = {"resident", "staff", "moderator", "admin"}
    assert allowed(people, "comment.write") == writers
    assert permissions.can(people["visitor"], "comment.write").sign_in
    with pytest.raises(SignInRequired):
        permissions.require(people["visitor"], "comment.write")
    with pytest.raises(Forbidden, match=ja("Your account cannot post or like comments.")):
        permissions.require(people["blocked"], "comment.write")
    with pytest.raises(Forbidden, match="メールアドレスを確認"):
        permissions.require(people["unconfirmed"], "comment.write")
    # The same accounts comment, reply and like where the target takes comments.
    open_target = challenge(Phase.ACCEPTING)
    assert allowed(people, "comment.post", open_target) == writers
    assert allowed(people, "comment.reply", on(open_target)) == writers
    assert allowed(people, "comment.like", on(open_target)) == writers
    assert comments.comment_state(people["visitor"]) == "anonymous"
    assert comments.comment_state(people["blocked"]) == comments.comment_state(people["unconfirmed"]) == "refused"
    assert comments.comment_state(people["resident"]) == "ok"


# --- the target's state (its component's rule) -----------------------------------------------------


@pytest.mark.parametrize("phase", [phase for phase in Phase if phase is not Phase.DRAFT])
def test_a_target_takes_comments_in_the_phases_that_allow_them(people: dict[str, Principal], phase: Phase) -> None:
    for target in (challenge(phase), proposal(phase)):
        decision = permissions.can(people["resident"], "comment.post", target)
        if phases.allows(phase, Action.COMMENT):
            assert decision
            continue
        assert not decision and decision.field == "phase"
        assert decision.reason == phases.phase_reason(phase, Action.COMMENT)
        with pytest.raises(Invalid) as refused:  # shown under the comment box
            permissions.require(people["resident"], "comment.post", target, field="body")
        assert refused.value.errors == {"body": decision.reason}
        # A closed target says so to whoever reads it, before who they are (no sign-in offer).
        for name in ("visitor", "blocked"):
            assert permissions.can(people[name], "comment.post", target).reason == decision.reason
        assert allowed(people, "comment.like", on(target)) == set()
        assert allowed(people, "comment.edit", on(target, mine=True)) == set()


@pytest.mark.parametrize(("status", "hidden"), [(ProposalStatus.WITHDRAWN, False), (ProposalStatus.SUBMITTED, True)])
def test_a_withdrawn_or_hidden_proposal_takes_no_comments(people: dict[str, Principal], status: ProposalStatus,
                                                          hidden: bool) -> None:
    target = proposal(Phase.VOTING, status, hidden)
    assert allowed(people, "comment.post", target) == set()
    refused = permissions.can(people["resident"], "comment.post", target)
    assert refused.field and "受け付けていません" in refused.reason
    assert permissions.can(people["resident"], "comment.post", proposal(Phase.VOTING))


# --- the comment's state ---------------------------------------------------------------------------


def test_replies_edits_likes_and_deletes_follow_the_comment(people: dict[str, Principal]) -> None:
    resident, neighbour = people["resident"], people["staff"]
    target = challenge(Phase.ACCEPTING)
    # A removed comment takes no more replies and no likes; the refusal is shown under the form's field.
    for action, field in (("comment.reply", "body"), ("comment.like", "like")):
        refused = permissions.can(resident, action, on(target, removed=True))
        assert not refused and refused.field == field
    # Only its author edits, while it is shown and within the window; then a state refusal under "body".
    assert permissions.can(resident, "comment.edit", on(target, mine=True))
    with pytest.raises(Forbidden, match=ja("Only the author can edit this comment.")):
        permissions.require(neighbour, "comment.edit", on(target), field="body")
    for facts in (on(target, mine=True, removed=True), on(target, mine=True, in_window=False)):
        with pytest.raises(Invalid) as refused_edit:
            permissions.require(resident, "comment.edit", facts, field="body")
        assert list(refused_edit.value.errors) == ["body"]
    assert "15分以内" in permissions.can(resident, "comment.edit", on(target, mine=True, in_window=False)).reason
    # Its author deletes it at any time (the target closed, their account blocked since).
    closed = on(challenge(Phase.CLOSED), mine=True, removed=True)
    assert permissions.can(resident, "comment.delete", closed)
    assert permissions.can(people["blocked"], "comment.delete", closed)
    assert not permissions.can(neighbour, "comment.delete", on(target))
    assert permissions.can(people["visitor"], "comment.delete", on(target)).sign_in


def test_the_services_ask_the_same_rules(session: Session, people: dict[str, Principal]) -> None:
    ward = create_ward(session, phase="accepting")
    resident = people["resident"]
    comment = comments.post(session, resident, "challenge", ward.challenge.id, comments.CommentForm(body="意見です"))
    for name, error in (("visitor", SignInRequired), ("blocked", Forbidden), ("unconfirmed", Forbidden)):
        with pytest.raises(error):
            comments.post(session, people[name], "challenge", ward.challenge.id, comments.CommentForm(body="x"))
        with pytest.raises(error):
            comments.set_like(session, people[name], comment.id, True)  # type: ignore[arg-type]
    with pytest.raises(Invalid) as too_late:
        comments.edit(session, resident, comment.id, comments.EditForm(body="直し"),  # type: ignore[arg-type]
                      now=comment.created_at + timedelta(minutes=16))
    assert list(too_late.value.errors) == ["body"]
    ward.challenge.phase = Phase.CLOSED
    session.add(ward.challenge)
    session.commit()
    with pytest.raises(Invalid) as closed:
        comments.set_like(session, people["staff"], comment.id, True)  # type: ignore[arg-type]
    assert closed.value.errors == {"like": phases.phase_reason(Phase.CLOSED, Action.COMMENT)}
    assert comments.delete(session, resident, comment.id).deleted_at is not None  # type: ignore[arg-type]


# --- reports ---------------------------------------------------------------------------------------


def test_reports_are_sent_by_confirmed_accounts_that_are_not_blocked(people: dict[str, Principal]) -> None:
    assert allowed(people, "report.create") == {"resident", "staff", "moderator", "admin"}
    assert permissions.can(people["visitor"], "report.create").sign_in
    for name in ("unconfirmed", "blocked"):
        with pytest.raises(Forbidden, match=ja("Confirm your e-mail address before reporting.")):
            permissions.require(people[name], "report.create")


def test_nobody_reports_their_own_proposal_or_comment(session: Session) -> None:
    components.load()
    ward = create_ward(session, phase="voting")
    creator = create_user(session, "creator@example.jp")
    ward.proposal.created_by_id = creator.id
    session.add(ward.proposal)
    session.commit()
    kind = reportables.reportable("proposal")

    def may_report(user: User | None, item: object = ward.proposal, name: str = "proposal") -> bool:
        reportable = reportables.reportable(name)
        principal = actor(session, user)
        return bool(permissions.can(principal, reportable.action, reportable.facts(session, principal, item)))

    # Its authors (members of an authoring organisation) and its creator may not; anyone else signed in may,
    # the owning staff and moderators included.
    assert not may_report(ward.member) and not may_report(creator)
    assert may_report(ward.resident) and may_report(ward.staff) and may_report(ward.moderator)
    assert not may_report(None)
    facts = kind.facts(session, actor(session, ward.member), ward.proposal)
    with pytest.raises(Forbidden, match=ja("You cannot report your own content.")):
        permissions.require(actor(session, ward.member), "proposal.report", facts)
    # A hidden proposal is still reported (moderators restore it); its author still may not.
    ward.proposal.hidden_at = utcnow()
    assert may_report(ward.resident) and not may_report(ward.member)
    # A comment: not by its author.
    comment = Comment(target_type="proposal", target_id=ward.proposal.id, author_id=ward.resident.id, body="x")  # type: ignore[arg-type]
    assert not may_report(ward.resident, comment, "comment") and may_report(ward.member, comment, "comment")
    assert not may_report(None, comment, "comment")
    with pytest.raises(Forbidden):
        moderation.report_form(session, actor(session, ward.member), "proposal", ward.proposal.id)


# --- moderators ------------------------------------------------------------------------------------


def test_moderation_is_for_moderators_and_administrators(people: dict[str, Principal]) -> None:
    assert allowed(people, "moderation.review") == {"moderator", "admin"}
    assert permissions.can(people["visitor"], "moderation.review").sign_in
    with pytest.raises(Forbidden):
        permissions.require(people["staff"], "moderation.review")


def test_who_blocks_which_account(session: Session, people: dict[str, Principal]) -> None:
    moderator, admin = people["moderator"], people["admin"]

    def account(name: str, by: Principal) -> moderation.OnAccount:
        user = people[name].user
        assert user is not None
        return moderation.on_account(session, by, user)

    assert permissions.can(moderator, "moderation.block", account("resident", moderator))
    assert not permissions.can(people["staff"], "moderation.block", account("resident", moderator))
    # An account holding a role: administrators only; one's own, or a blocked one: nobody.
    refused = permissions.can(moderator, "moderation.block", account("staff", moderator))
    assert not refused and refused.field == "reason" and "管理者" in refused.reason
    assert permissions.can(admin, "moderation.block", account("staff", admin))
    assert not permissions.can(moderator, "moderation.block", account("moderator", moderator))
    assert not permissions.can(admin, "moderation.block", account("blocked", admin))
    deleted = SimpleNamespace(user_id=999, deleted=True, blocked=False, holds_role=False)
    assert permissions.can(admin, "moderation.block", deleted).field == "reason"


# --- the pages ask the same rules ------------------------------------------------------------------


def test_the_comment_box_says_why_not_as_the_rules_answer(app: Litestar, session: Session) -> None:
    ward = create_ward(session, phase="accepting")
    url = f"/challenges/{ward.challenge.id}/comments"
    with browser(app) as client:
        page = client.get(url).text
    assert 'id="comments-sign-in"' in page and 'id="comment-form"' not in page
    with browser(app, create_user(session, "new@example.jp", confirmed=False), directly=True) as client:
        page = client.get(url).text
    assert 'id="comments-refused"' in page and 'id="comment-form"' not in page
    assert ja("Confirm your e-mail address (open the link we sent you) before you comment.") in page
    with browser(app, ward.resident) as client:
        assert 'id="comment-form"' in client.get(url).text
        ward.challenge.phase = Phase.CLOSED
        session.add(ward.challenge)
        session.commit()
        page = client.get(url).text
    assert 'id="comments-closed"' in page and phases.phase_reason(Phase.CLOSED, Action.COMMENT) in page
    assert 'id="comment-form"' not in page
