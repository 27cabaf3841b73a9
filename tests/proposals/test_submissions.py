"""Proposals (提案) through the services: who may propose when, validation, consortium confirmation,
versions and their diff, withdrawal, the exact proposal count and similar proposals."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from cocreate.accounts.models import Department, Organisation, Role, User
from cocreate.accounts.permissions import Forbidden, Principal
from cocreate.audit.models import AuditEntry
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.i18n import gettext as _
from cocreate.notifications import services as notifications
from cocreate.settings import Settings
from proposals import submissions
from proposals.models import (
    Challenge,
    Phase,
    Proposal,
    ProposalStatus,
    ProposalVersion,
    ReviewerAssignment,
)
from proposals.submissions import ProposalForm
from tests.factories import create_challenge, create_department, create_organisation, create_user
from tests.proposals.search_helpers import index_now, unread_broker

pytestmark = pytest.mark.databases("sqlite", why="submission rules are Python; constraints run on both")

SECRET = "CONFIDENTIAL-MARKER-7f3a9c"


def verify_first() -> str:
    return _("Your organisation must be verified by the ward before it can do this.")


@dataclass
class World:
    env: Department
    other: Department
    challenge: Challenge
    other_challenge: Challenge
    org: Organisation
    partner: Organisation
    unverified: Organisation
    people: dict[str, User]

    def actor(self, session: Session, name: str) -> Principal:
        return Principal.load(session, self.people[name])


def make_world(session: Session) -> World:
    env = create_department(session)
    other = create_department(session, "transport", division_ja="都市整備部", section_ja="交通政策課",
                              division_en="Urban Development", section_en="Transport Policy")
    people = {
        "staff": create_user(session, "kankyo@example.jp", roles=[(Role.STAFF, env.id)]),  # type: ignore[list-item]
        "other_staff": create_user(session, "kotsu@example.jp", roles=[(Role.STAFF, other.id)]),  # type: ignore[list-item]
        "reviewer": create_user(session, "reviewer@example.jp", roles=[Role.REVIEWER]),
        "other_reviewer": create_user(session, "reviewer2@example.jp", roles=[Role.REVIEWER]),
        "resident": create_user(session, "resident@example.jp", display_name="区民 太郎"),
        "member": create_user(session, "member@example.jp", display_name="会員 一郎"),
        "member2": create_user(session, "member2@example.jp"),
        "partner_member": create_user(session, "partner@example.jp"),
        "stranger_member": create_user(session, "stranger@example.jp"),
        "unverified_member": create_user(session, "unverified@example.jp"),
    }
    org = create_organisation(session, "板橋モビリティ株式会社", admin=people["member"], members=[people["member2"]],
                              verified=True)
    partner = create_organisation(session, "東京理科研究所", admin=people["partner_member"], verified=True)
    create_organisation(session, "他社株式会社", admin=people["stranger_member"], verified=True)
    unverified = create_organisation(session, "未確認合同会社", admin=people["unverified_member"])
    challenge = create_challenge(session, env, phase="accepting")
    other_challenge = create_challenge(session, env, phase="accepting", title="別の課題を解決したい")
    session.add(ReviewerAssignment(challenge_id=challenge.id, user_id=people["reviewer"].id))  # type: ignore[arg-type]
    session.add(ReviewerAssignment(challenge_id=other_challenge.id, user_id=people["other_reviewer"].id))  # type: ignore[arg-type]
    session.commit()
    return World(env, other, challenge, other_challenge, org, partner, unverified, people)






@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)


def complete(**overrides: Any) -> ProposalForm:
    """The typed form of a complete proposal (building it checks every field: ``Invalid``)."""
    data: dict[str, Any] = {
        "title": "AIデマンド交通で高島平の移動を支える", "summary": "予約制の乗合交通を一年間実証します。",
        "description": "## 内容\n\n坂の多い地域で**乗合交通**を走らせます。", "team": "代表 山田、技術 佐藤",
        "cost_estimate_yen": 2_800_000, "schedule": "4月開始、3月まで", "test_field_needs": "高島平の道路",
        "confidential": SECRET,
        "kpis": [{"indicator": "外出頻度", "target": "週3回", "baseline": "週2回", "unit": "回/週"}]}
    return ProposalForm(**(data | overrides))


def draft(session: Session, w: World, who: str = "member", *, challenge: Challenge | None = None,
          organisation: Organisation | None = None, **overrides: Any) -> Proposal:
    return submissions.create_draft(session, w.actor(session, who), (challenge or w.challenge).id,  # type: ignore[arg-type]
                                    (organisation or w.org).id, complete(**overrides))


def submitted(session: Session, w: World, who: str = "member", *, organisation: Organisation | None = None,
              **overrides: Any) -> Proposal:
    proposal = draft(session, w, who, organisation=organisation, **overrides)
    return submissions.submit(session, w.actor(session, who), proposal.id)  # type: ignore[arg-type]


def set_phase(session: Session, challenge: Challenge, phase: Phase) -> None:
    row = session.get(Challenge, challenge.id)
    assert row is not None
    row.phase = phase
    session.add(row)
    session.commit()


def proposal_count(session: Session, challenge: Challenge) -> int:
    session.expire_all()
    row = session.get(Challenge, challenge.id)
    assert row is not None
    return row.proposal_count


# --- who may propose, and when -------------------------------------------------------------------


def test_a_member_of_a_verified_organisation_writes_a_draft_and_follows_it(session: Session, world: World) -> None:
    proposal = draft(session, world)
    assert proposal.status is ProposalStatus.DRAFT and proposal.lead_organisation_id == world.org.id
    assert proposal.confidential == SECRET and proposal.version == 0
    authors = submissions.authors_of(session, proposal.id)  # type: ignore[arg-type]
    assert [(row.is_lead, row.confirmed_at is not None) for row, _o in authors] == [(True, True)]
    member_id = world.people["member"].id
    assert notifications.is_following(session, member_id, "proposal", proposal.id)  # type: ignore[arg-type]
    assert notifications.is_following(session, member_id, "challenge", world.challenge.id)  # type: ignore[arg-type]
    assert proposal_count(session, world.challenge) == 0  # drafts do not count


def test_a_resident_cannot_propose(session: Session, world: World) -> None:
    reason = submissions.eligibility(session, world.actor(session, "resident"), world.challenge)
    assert not reason and reason.reason == _(
        "Proposals are submitted by organisations. Register your organisation, or ask its administrator to add "
        "you, and have it verified by the ward.")
    with pytest.raises(Forbidden):
        draft(session, world, "resident")
    assert session.exec(select(Proposal)).all() == []


def test_a_member_of_an_unverified_organisation_is_refused_with_the_reason(session: Session, world: World) -> None:
    eligible = submissions.eligibility(session, world.actor(session, "unverified_member"), world.challenge)
    assert not eligible and eligible.reason == verify_first()
    with pytest.raises(Forbidden) as refused:
        draft(session, world, "unverified_member", organisation=world.unverified)
    assert str(refused.value.detail) == verify_first()
    assert session.exec(select(Proposal)).all() == []


def test_nobody_proposes_for_an_organisation_they_do_not_belong_to(session: Session, world: World) -> None:
    with pytest.raises(Forbidden):
        draft(session, world, "member", organisation=world.partner)


@pytest.mark.parametrize("phase", [Phase.PUBLISHED, Phase.VOTING, Phase.REVIEW, Phase.DECIDED, Phase.CLOSED])
def test_outside_the_accepting_phase_nobody_proposes(session: Session, world: World, phase: Phase) -> None:
    set_phase(session, world.challenge, phase)
    assert not submissions.eligibility(session, world.actor(session, "member"), world.challenge)
    with pytest.raises(Forbidden):
        draft(session, world)
    assert session.exec(select(Proposal)).all() == []


def test_submitting_needs_the_accepting_phase(session: Session, world: World) -> None:
    proposal = draft(session, world)
    set_phase(session, world.challenge, Phase.VOTING)
    with pytest.raises(Forbidden):
        submissions.submit(session, world.actor(session, "member"), proposal.id)  # type: ignore[arg-type]
    session.expire_all()
    assert session.get(Proposal, proposal.id).status is ProposalStatus.DRAFT  # type: ignore[union-attr]


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("overrides", "field"), [
    ({"summary": ""}, "summary"),
    ({"summary": "あ" * 501}, "summary"),
    ({"description": "  "}, "description"),
    ({"title": "あ" * 201}, "title"),
    ({"title": "改行\nのある題"}, "title"),
    ({"cost_estimate_yen": -1}, "cost_estimate_yen"),
    ({"kpis": [{"indicator": "外出頻度", "target": ""}]}, "kpis-0-target"),
    ({"team": "x" * 20_001}, "team"),
])
def test_an_incomplete_draft_is_not_submitted(session: Session, world: World, overrides: dict[str, Any],
                                              field: str) -> None:
    if field in ("title", "cost_estimate_yen", "team") or field.startswith("kpis") or len(overrides.get("summary", "")) > 500:
        with pytest.raises(Invalid) as failed:
            draft(session, world, **overrides)  # these are wrong even in a draft
        assert field in failed.value.errors
        assert session.exec(select(Proposal)).all() == []
        return
    proposal = draft(session, world, **overrides)
    with pytest.raises(Invalid) as failed:
        submissions.submit(session, world.actor(session, "member"), proposal.id)  # type: ignore[arg-type]
    assert field in failed.value.errors
    session.expire_all()
    stored = session.get(Proposal, proposal.id)
    assert stored.status is ProposalStatus.DRAFT and stored.version == 0  # type: ignore[union-attr]
    assert session.exec(select(ProposalVersion)).all() == []
    assert proposal_count(session, world.challenge) == 0


def test_summary_of_exactly_500_characters_is_accepted(session: Session, world: World) -> None:
    proposal = submitted(session, world, summary="あ" * 500)
    assert proposal.status is ProposalStatus.SUBMITTED


# --- submitting, editing, withdrawing ------------------------------------------------------------


def test_submitting_keeps_version_one_in_full_and_counts_it(session: Session, world: World) -> None:
    proposal = submitted(session, world)
    assert proposal.status is ProposalStatus.SUBMITTED and proposal.submitted_at is not None
    assert proposal.version == 1
    versions = session.exec(select(ProposalVersion).where(ProposalVersion.proposal_id == proposal.id)).all()
    assert [v.number for v in versions] == [1]
    content = json.loads(versions[0].content_json)
    assert content["confidential"] == SECRET and content["kpis"] == [["外出頻度", "週2回", "週3回", "回/週"]]
    assert content["organisations"][0][1] == world.org.name
    assert proposal_count(session, world.challenge) == 1
    actions = session.exec(select(AuditEntry.action).where(AuditEntry.target_type == "proposal")).all()
    assert "proposal.submitted" in actions
    with pytest.raises(Invalid):
        submissions.submit(session, world.actor(session, "member"), proposal.id)  # type: ignore[arg-type]


def test_each_change_after_submission_is_a_new_version_until_proposals_close(session: Session, world: World) -> None:
    proposal = submitted(session, world)
    member2 = world.actor(session, "member2")  # any member of the organisation edits
    submissions.update(session, member2, proposal.id, complete(summary="予約制の乗合交通を二年間実証します。"))  # type: ignore[arg-type]
    submissions.update(session, member2, proposal.id, complete(summary="予約制の乗合交通を二年間実証します。"))  # type: ignore[arg-type]
    session.expire_all()
    assert session.get(Proposal, proposal.id).version == 2  # type: ignore[union-attr]  # no change, no version
    with pytest.raises(Invalid) as failed:  # a submitted proposal stays complete
        submissions.update(session, member2, proposal.id, complete(description=""))  # type: ignore[arg-type]
    assert "description" in failed.value.errors
    set_phase(session, world.challenge, Phase.VOTING)
    with pytest.raises(Forbidden):
        submissions.update(session, member2, proposal.id, complete(summary="締切後の変更"))  # type: ignore[arg-type]
    session.expire_all()
    stored = session.get(Proposal, proposal.id)
    assert stored.summary == "予約制の乗合交通を二年間実証します。" and stored.version == 2  # type: ignore[union-attr]


@pytest.mark.parametrize("who", ["resident", "stranger_member", "staff", "reviewer"])
def test_only_authors_edit(session: Session, world: World, who: str) -> None:
    proposal = submitted(session, world)
    with pytest.raises(Forbidden):
        submissions.update(session, world.actor(session, who), proposal.id, complete(title="乗っ取り"))  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        submissions.withdraw(session, world.actor(session, who), proposal.id)  # type: ignore[arg-type]


def test_drafts_are_invisible_to_everyone_but_their_authors(session: Session, world: World) -> None:
    proposal = draft(session, world)
    for who in ("resident", "stranger_member", "staff", "reviewer"):
        with pytest.raises(NotFound):
            submissions.load(session, world.actor(session, who), proposal.id)  # type: ignore[arg-type]
    assert submissions.load(session, world.actor(session, "member2"), proposal.id)[0].id == proposal.id  # type: ignore[arg-type]


@pytest.mark.databases("sqlite", "postgresql", why="constraints")
def test_withdrawing_keeps_the_row_and_the_count_exact(session: Session, world: World) -> None:
    first = submitted(session, world)
    submitted(session, world, title="二つ目の提案")
    assert proposal_count(session, world.challenge) == 2
    submissions.withdraw(session, world.actor(session, "member2"), first.id)  # type: ignore[arg-type]
    session.expire_all()
    stored = session.get(Proposal, first.id)
    assert stored.status is ProposalStatus.WITHDRAWN and stored.withdrawn_at is not None  # type: ignore[union-attr]
    assert proposal_count(session, world.challenge) == 1
    with pytest.raises(Invalid):
        submissions.withdraw(session, world.actor(session, "member"), first.id)  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        submissions.update(session, world.actor(session, "member"), first.id, complete())  # type: ignore[arg-type]
    assert proposal_count(session, world.challenge) == 1


def test_withdrawing_is_possible_only_while_accepting(session: Session, world: World) -> None:
    proposal = submitted(session, world)
    set_phase(session, world.challenge, Phase.VOTING)
    with pytest.raises(Forbidden):
        submissions.withdraw(session, world.actor(session, "member"), proposal.id)  # type: ignore[arg-type]
    assert proposal_count(session, world.challenge) == 1


# --- consortium ----------------------------------------------------------------------------------


def test_a_consortium_is_submitted_only_when_every_co_author_confirmed(session: Session, world: World) -> None:
    proposal = draft(session, world)
    pid: int = proposal.id  # type: ignore[assignment]
    lead = world.actor(session, "member")
    with pytest.raises(Invalid):  # unverified organisations cannot join
        submissions.add_coauthor(session, lead, pid, world.unverified.id)  # type: ignore[arg-type]
    with pytest.raises(NotFound):  # others do not even see the draft
        submissions.add_coauthor(session, world.actor(session, "partner_member"), pid, world.partner.id)  # type: ignore[arg-type]
    submissions.add_coauthor(session, lead, pid, world.partner.id)  # type: ignore[arg-type]
    with pytest.raises(Invalid):
        submissions.add_coauthor(session, lead, pid, world.partner.id)  # type: ignore[arg-type]

    with pytest.raises(Invalid) as failed:
        submissions.submit(session, lead, pid)
    assert world.partner.name in failed.value.errors["coauthors"]

    # The invited organisation sees the draft; it edits only once it has confirmed.
    partner = world.actor(session, "partner_member")
    submissions.load(session, partner, pid)
    with pytest.raises(Forbidden):
        submissions.update(session, partner, pid, complete(title="共同提案"))
    with pytest.raises(Forbidden):  # only the lead invites
        submissions.add_coauthor(session, partner, pid, world.unverified.id)  # type: ignore[arg-type]
    with pytest.raises(Forbidden):  # the lead cannot confirm for the partner
        submissions.confirm_coauthor(session, lead, pid, world.partner.id)  # type: ignore[arg-type]
    with pytest.raises(NotFound):  # a stranger does not even see the draft
        submissions.confirm_coauthor(session, world.actor(session, "stranger_member"), pid, world.partner.id)  # type: ignore[arg-type]
    submissions.confirm_coauthor(session, partner, pid, world.partner.id)  # type: ignore[arg-type]
    submissions.update(session, partner, pid, complete(title="共同提案：AIデマンド交通"))
    proposal = submissions.submit(session, lead, pid)
    assert proposal.status is ProposalStatus.SUBMITTED
    content = json.loads(session.exec(select(ProposalVersion.content_json)).one())
    assert sorted(row[1] for row in content["organisations"]) == sorted([world.org.name, world.partner.name])
    assert notifications.is_following(session, world.people["partner_member"].id, "proposal", pid)


def test_a_co_author_can_be_removed_before_submission(session: Session, world: World) -> None:
    proposal = draft(session, world)
    lead = world.actor(session, "member")
    submissions.add_coauthor(session, lead, proposal.id, world.partner.id)  # type: ignore[arg-type]
    submissions.remove_coauthor(session, world.actor(session, "partner_member"), proposal.id, world.partner.id)  # type: ignore[arg-type]
    assert submissions.submit(session, lead, proposal.id).status is ProposalStatus.SUBMITTED  # type: ignore[arg-type]


# --- versions and their diff ---------------------------------------------------------------------


@pytest.mark.parametrize(("who", "allowed"), [
    ("member", True), ("member2", True), ("staff", True), ("reviewer", True),
    ("other_reviewer", False), ("other_staff", False), ("resident", False), ("stranger_member", False),
])
def test_versions_are_compared_by_authors_owning_staff_and_assigned_reviewers(
        session: Session, world: World, who: str, allowed: bool) -> None:
    proposal = submitted(session, world)
    submissions.update(session, world.actor(session, "member"), proposal.id,  # type: ignore[arg-type]
                       complete(cost_estimate_yen=3_100_000, confidential=SECRET + "（改訂）"))
    actor = world.actor(session, who)
    if not allowed:
        with pytest.raises(Forbidden):
            submissions.versions(session, actor, proposal.id)  # type: ignore[arg-type]
        return
    _p, _c, rows = submissions.versions(session, actor, proposal.id)  # type: ignore[arg-type]
    assert [row.number for row in rows] == [2, 1]
    changes = submissions.diff(rows[1], rows[0])
    assert [c.field for c in changes] == ["cost_estimate_yen", "confidential"]
    added = "".join(text for c in changes for line in c.diff if line.kind == "added" for text, _ in line.segments)
    assert "（改訂）" in added


# --- similar proposals ---------------------------------------------------------------------------


def test_similar_proposals_come_from_the_same_challenge_only_and_never_drafts_withdrawn_or_hidden(
        session: Session, database: Database, settings: Settings, world: World, tmp_path: Path) -> None:
    unread_broker(settings, tmp_path)
    similar_titles = [f"AIデマンド交通で高島平の移動を支える計画{i}" for i in range(7)]
    for title in similar_titles:
        submitted(session, world, title=title)
    unrelated = submitted(session, world, title="公園の花壇を地域で育てる", summary="花の苗を配ります。")
    draft(session, world, title="AIデマンド交通で高島平の移動を支える（下書き）")
    withdrawn = submitted(session, world, title="AIデマンド交通で高島平の移動を支える（取下げ）")
    submissions.withdraw(session, world.actor(session, "member"), withdrawn.id)  # type: ignore[arg-type]
    hidden = submitted(session, world, title="AIデマンド交通で高島平の移動を支える（非表示）")
    row = session.get(Proposal, hidden.id)
    row.hidden_at, row.hidden_reason = utcnow(), "重複投稿"  # type: ignore[union-attr]
    session.commit()
    other = draft(session, world, challenge=world.other_challenge, title="AIデマンド交通で高島平の移動を支える（別課題）")
    submissions.submit(session, world.actor(session, "member"), other.id)  # type: ignore[arg-type]
    index_now(database, settings)

    found = submissions.similar_proposals(session, settings, world.challenge.id, "高島平のAIデマンド交通",  # type: ignore[arg-type]
                                          "乗合交通の実証")
    assert len(found) == 5
    assert all(item.title in similar_titles for item in found)
    assert unrelated.id not in {item.id for item in found}
    assert [item.score for item in found] == sorted((item.score for item in found), reverse=True)
    assert submissions.similar_proposals(session, settings, world.challenge.id, "", "") == []  # type: ignore[arg-type]
    excluded = submissions.similar_proposals(session, settings, world.challenge.id, similar_titles[0], "",  # type: ignore[arg-type]
                                             exclude_id=found[0].id)
    assert excluded and found[0].id not in {item.id for item in excluded}


def test_similar_proposals_never_show_what_was_hidden_since_the_index_last_caught_up(
        session: Session, database: Database, settings: Settings, world: World, tmp_path: Path) -> None:
    """The index follows commits a moment later: what it still holds is read again from the database."""
    unread_broker(settings, tmp_path)
    shown = submitted(session, world, title="AIデマンド交通で高島平の移動を支える")
    index_now(database, settings)
    assert [s.id for s in submissions.similar_proposals(session, settings, world.challenge.id,  # type: ignore[arg-type]
                                                        "AIデマンド交通", "")] == [shown.id]
    row = session.get(Proposal, shown.id)
    row.hidden_at, row.hidden_reason = utcnow(), "重複投稿"  # type: ignore[union-attr]
    session.commit()  # not drained yet
    assert submissions.similar_proposals(session, settings, world.challenge.id, "AIデマンド交通", "") == []  # type: ignore[arg-type]


# --- the count stays exact -----------------------------------------------------------------------


@pytest.mark.databases("sqlite", "postgresql", why="constraints")
def test_the_proposal_count_counts_submitted_proposals_only(session: Session, world: World) -> None:
    for i in range(3):
        submitted(session, world, title=f"提案{i}")
    draft(session, world, title="下書き")
    withdrawn = submitted(session, world, title="取下げ")
    submissions.withdraw(session, world.actor(session, "member"), withdrawn.id)  # type: ignore[arg-type]
    counted = session.exec(select(Proposal).where(Proposal.challenge_id == world.challenge.id,
                                                  col(Proposal.status) == ProposalStatus.SUBMITTED)).all()
    assert proposal_count(session, world.challenge) == len(counted) == 3
