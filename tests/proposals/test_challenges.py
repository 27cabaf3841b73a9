"""Drafting, publishing and editing challenges through the services, per role."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from cocreate.accounts.models import Role
from cocreate.accounts.permissions import Forbidden, Principal, SignInRequired
from cocreate.audit import verify
from cocreate.audit.models import AuditEntry
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.forms import KpiRow
from proposals.challenges import services as challenges
from proposals.challenges.services import ChallengeForm, CriterionRow
from proposals.models import Challenge, ChallengeCriterion, ChallengeRevision, Phase
from tests.factories import create_department, create_user

pytestmark = pytest.mark.databases("sqlite", why="challenge editing rules are Python")


def complete_input(**overrides: object) -> ChallengeForm:
    return ChallengeForm(**{
        "title": "高島平の移動を、誰もが気軽にできるようにしたい",
        "summary": "坂道と高齢化で外出が難しくなっている地域の移動手段を一緒に考えたい。",
        "category": "transport_mobility", "area": "高島平", "contact_name": "交通政策課 担当",
        "contact_email": "kotsu@example.jp", "background": "団地の高齢化が進んでいます。",
        "desired_outcome": "買い物や通院に気軽に出かけられる状態。", "budget_cap_yen": 3_000_000,
        "criteria": [CriterionRow(name="実現可能性", weight=40), CriterionRow(name="地域への効果", weight=60)],
        "kpis": [KpiRow(indicator="外出頻度", baseline="週2回", target="週3回", unit="回/週")],
        **overrides,
    })


@pytest.fixture
def world(session: Session) -> dict[str, object]:
    transport = create_department(session, "transport", division_ja="都市整備部", section_ja="交通政策課",
                                  division_en="Urban Development", section_en="Transport Policy")
    env = create_department(session)
    return {
        "transport": transport, "env": env,
        "staff": create_user(session, "kotsu@example.jp", display_name="交通 太郎", roles=[(Role.STAFF, transport.id)]),
        "env_staff": create_user(session, "kankyo@example.jp", roles=[(Role.STAFF, env.id)]),
        "resident": create_user(session, "resident@example.jp"),
        "admin": create_user(session, "admin@example.jp", roles=[Role.ADMIN]),
    }


def actor(session: Session, world: dict[str, object], name: str) -> Principal:
    return Principal.load(session, world[name])  # type: ignore[arg-type]


def test_only_staff_of_the_department_create_drafts(session: Session, world: dict[str, object]) -> None:
    transport_id = world["transport"].id  # type: ignore[attr-defined]
    with pytest.raises(SignInRequired):
        challenges.create_draft(session, Principal.anonymous(), transport_id, complete_input())
    for name in ("resident", "admin", "env_staff"):
        with pytest.raises(Forbidden):
            challenges.create_draft(session, actor(session, world, name), transport_id, complete_input())
    draft = challenges.create_draft(session, actor(session, world, "staff"), transport_id,
                                    ChallengeForm(title="まずはタイトルだけ", category="admin_dx"))
    assert draft.phase is Phase.DRAFT and draft.created_by_id == world["staff"].id  # type: ignore[attr-defined]
    # Drafts are invisible outside the owning departments.
    assert challenges.visible_challenge(session, Principal.anonymous(), draft.id) is None  # type: ignore[arg-type]
    assert challenges.visible_challenge(session, actor(session, world, "env_staff"), draft.id) is None  # type: ignore[arg-type]
    assert challenges.visible_challenge(session, actor(session, world, "staff"), draft.id) is not None  # type: ignore[arg-type]


def test_publishing_needs_a_complete_challenge_and_is_audited(session: Session, world: dict[str, object]) -> None:
    staff = actor(session, world, "staff")
    draft = challenges.create_draft(session, staff, world["transport"].id, ChallengeForm(title="タイトル", category="admin_dx"))  # type: ignore[attr-defined]
    with pytest.raises(Invalid) as failed:
        challenges.publish(session, staff, draft.id)  # type: ignore[arg-type]
    assert {"summary", "contact_name", "contact_email", "background", "desired_outcome",
            "criteria"} <= set(failed.value.errors)
    challenges.update(session, staff, draft.id, complete_input())  # type: ignore[arg-type]
    published = challenges.publish(session, staff, draft.id)  # type: ignore[arg-type]
    assert published.phase is Phase.PUBLISHED and published.published_at is not None
    assert published.revision == 0  # edits before publication are not history
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "challenge.published")).one()
    assert entry.actor_id == world["staff"].id and entry.target_id == str(draft.id)  # type: ignore[attr-defined]
    assert verify(session).ok
    with pytest.raises(Invalid):
        challenges.publish(session, staff, draft.id)  # type: ignore[arg-type]


def test_weights_must_sum_to_100_and_kpis_need_indicator_and_target(session: Session, world: dict[str, object]) -> None:
    staff = actor(session, world, "staff")
    with pytest.raises(Invalid) as failed:
        challenges.create_draft(session, staff, world["transport"].id,  # type: ignore[attr-defined]
                                complete_input(criteria=[CriterionRow(name="A", weight=50),
                                                         CriterionRow(name="B", weight=30)]))
    assert "80" in failed.value.errors["criteria"]
    with pytest.raises(Invalid) as failed:  # the rows are checked as the form is read
        complete_input(kpis=[{"indicator": "", "target": ""}])
    assert "kpis-0-indicator" in failed.value.errors and "kpis-0-target" in failed.value.errors
    with pytest.raises(Invalid) as failed:
        complete_input(criteria=[{"name": "A", "weight": 150}])
    assert "criteria-0-weight" in failed.value.errors
    assert session.exec(select(Challenge)).all() == []


def test_hostile_and_huge_input(session: Session, world: dict[str, object], xss_payloads: list[str]) -> None:
    staff = actor(session, world, "staff")
    with pytest.raises(Invalid) as failed:
        complete_input(title="あ" * 201, background="x" * 20_001, budget_cap_yen=-1,
                       contact_email="not an address", category="nonsense")
    assert {"title", "background", "budget_cap_yen", "contact_email", "category"} <= set(failed.value.errors)
    with pytest.raises(Invalid) as failed:
        complete_input(title="改行\nあり\x00")
    assert "title" in failed.value.errors
    payload = xss_payloads[0]
    draft = challenges.create_draft(session, staff, world["transport"].id,  # type: ignore[attr-defined]
                                    complete_input(title=payload[:200], background=payload))
    assert draft.title == payload[:200].strip()  # stored verbatim; escaping is the templates' job


def test_edits_after_publication_are_public_history(session: Session, world: dict[str, object]) -> None:
    staff = actor(session, world, "staff")
    env_id = world["env"].id  # type: ignore[attr-defined]
    draft = challenges.create_draft(session, staff, world["transport"].id, complete_input())  # type: ignore[attr-defined]
    challenges.publish(session, staff, draft.id)  # type: ignore[arg-type]
    start = utcnow()
    changed = complete_input(summary="要約を更新しました。", co_owners=[env_id],
                             criteria=[CriterionRow(name="実現可能性", weight=50),
                                       CriterionRow(name="地域への効果", weight=50)],
                             schedule={Phase.ACCEPTING: start + timedelta(days=7)})
    challenges.update(session, staff, draft.id, changed.model_copy(update={"note": "共同所管を追加"}))  # type: ignore[arg-type]
    challenges.update(session, staff, draft.id, changed)  # type: ignore[arg-type]  # no change, no revision
    history = challenges.revisions_of(session, draft.id)  # type: ignore[arg-type]
    assert len(history) == 1 and history[0]["number"] == 1 and history[0]["note"] == "共同所管を追加"
    changes = history[0]["changes"]
    assert set(changes) == {"summary", "owners", "criteria", "schedule"}
    assert changes["summary"][1] == "要約を更新しました。"
    # The co-owning department's staff can now edit too.
    challenges.update(session, actor(session, world, "env_staff"), draft.id,  # type: ignore[arg-type]
                      complete_input(summary="環境政策課も編集", co_owners=[env_id]))
    session.expire_all()
    assert session.get(Challenge, draft.id).revision == 2  # type: ignore[union-attr]
    weights = session.exec(select(ChallengeCriterion.weight).where(ChallengeCriterion.challenge_id == draft.id)).all()
    assert sorted(weights) == [40, 60]
    rows = session.exec(select(ChallengeRevision)).all()
    assert all(json.loads(row.changes_json) for row in rows)
    # Published challenges must stay complete.
    with pytest.raises(Invalid):
        challenges.update(session, staff, draft.id, complete_input(background=""))  # type: ignore[arg-type]


def test_the_form_checks_a_field_left_out_like_an_empty_one() -> None:
    with pytest.raises(Invalid) as failed:
        ChallengeForm.parse({})
    assert set(failed.value.errors) == {"title", "category"}
    form = ChallengeForm.parse({"title": " タイトル ", "category": "admin_dx", "co_owners": "3",
                                "phase_accepting": "2030-04-01T09:00", "budget_cap_yen": "¥3,000,000"})
    assert (form.title, form.co_owners, form.budget_cap_yen) == ("タイトル", [3], 3_000_000)
    assert form.schedule[Phase.ACCEPTING] == datetime(2030, 4, 1, 0, 0, tzinfo=UTC)
    assert form.schedule[Phase.VOTING] is None
    # In code the schedule can be given by phase.
    when = datetime(2030, 5, 1, 0, 0, tzinfo=UTC)
    assert ChallengeForm(title="t", category="admin_dx", schedule={Phase.VOTING: when}).phase_voting == when


def test_unknown_challenges_are_not_found_by_the_services(session: Session, world: dict[str, object]) -> None:
    staff = actor(session, world, "staff")
    with pytest.raises(NotFound):
        challenges.update(session, staff, 999_999, complete_input())
    with pytest.raises(NotFound):
        challenges.publish(session, staff, 999_999)


def test_publishing_checks_the_stored_fields_like_a_sent_form(session: Session, world: dict[str, object]) -> None:
    staff = actor(session, world, "staff")
    draft = challenges.create_draft(session, staff, world["transport"].id, complete_input())  # type: ignore[attr-defined]
    draft.title = "あ" * 201  # written around the editor
    session.add(draft)
    session.commit()
    with pytest.raises(Invalid) as failed:
        challenges.publish(session, staff, draft.id)  # type: ignore[arg-type]
    assert set(failed.value.errors) == {"title"}
    session.expire_all()
    assert session.get(Challenge, draft.id).phase is Phase.DRAFT  # type: ignore[union-attr]
    # The editor still shows it as it is, to be corrected.
    shown = ChallengeForm.from_challenge(session, session.get(Challenge, draft.id), check=False)  # type: ignore[arg-type]
    assert shown.title == "あ" * 201 and [c.weight for c in shown.criteria] == [40, 60]
