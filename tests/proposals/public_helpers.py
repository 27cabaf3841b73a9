"""Builders shared by the public page and API tests: challenges made through the real services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from cocreate.accounts.models import Department, Role, User
from cocreate.accounts.permissions import Principal
from cocreate.db.base import utcnow
from cocreate.forms import KpiRow
from proposals.challenges import lifecycle
from proposals.challenges import services as challenges
from proposals.challenges.services import ChallengeForm, CriterionRow
from proposals.models import (
    AttachmentKind,
    Challenge,
    ChallengeAttachment,
    Phase,
    Question,
    QuestionStatus,
    QuestionVisibility,
)
from tests.factories import create_department, create_user


@dataclass
class World:
    transport: Department
    env: Department
    welfare: Department
    staff: User
    env_staff: User
    resident: User

    def actor(self, session: Session, user: User | None = None) -> Principal:
        return Principal.load(session, user or self.staff)


def make_world(session: Session) -> World:
    transport = create_department(session, "transport", division_ja="都市整備部", section_ja="交通政策課",
                                  division_en="Urban Development Department", section_en="Transport Policy Section")
    env = create_department(session)
    welfare = create_department(session, "welfare", division_ja="健康生きがい部", section_ja="健康推進課",
                                division_en="Health Department", section_en="Health Promotion Section")
    return World(
        transport=transport, env=env, welfare=welfare,
        staff=create_user(session, "kotsu@example.jp", display_name="交通 太郎", roles=[(Role.STAFF, transport.id)]),  # type: ignore[list-item]
        env_staff=create_user(session, "kankyo@example.jp", roles=[(Role.STAFF, env.id)]),  # type: ignore[list-item]
        resident=create_user(session, "resident@example.jp", display_name="高島 花子"),
    )


def challenge_input(**overrides: Any) -> ChallengeForm:
    return ChallengeForm(**{
        "title": "高島平の移動を、誰もが気軽にできるようにしたい",
        "summary": "坂道と高齢化で外出が難しくなっている地域の移動手段を一緒に考えたい。",
        "category": "transport_mobility", "area": "高島平", "contact_name": "交通政策課 担当",
        "contact_email": "kotsu@example.jp", "contact_phone": "03-3579-2222",
        "background": "団地の**高齢化**が進んでいます。", "current_situation": "バスは1時間に2本です。",
        "desired_outcome": "買い物や通院に気軽に出かけられる状態。", "constraints": "道路使用許可が必要です。",
        "eligibility": "法人であること。", "budget_cap_yen": 3_000_000, "support_facilities": "高島平の実証フィールド",
        "support_data": "乗降データ（オープンデータ）", "support_other": "広報への掲載",
        "criteria": [CriterionRow(name="実現可能性", weight=40, description="一年以内に実証できるか"),
                     CriterionRow(name="地域への効果", weight=60)],
        "kpis": [KpiRow(indicator="外出頻度", baseline="週2回", target="週3回", unit="回/週")],
        **overrides,
    })


def publish_challenge(session: Session, world: World, *, department: Department | None = None,
                      co_owners: list[Department] | None = None, schedule: dict[Phase, datetime] | None = None,
                      staff: User | None = None, **overrides: Any) -> Challenge:
    """A complete challenge drafted and published by ``staff`` through the services."""
    actor = world.actor(session, staff)
    data = challenge_input(co_owners=[d.id for d in co_owners or []], schedule=dict(schedule or {}), **overrides)
    draft = challenges.create_draft(session, actor, (department or world.transport).id, data)  # type: ignore[arg-type]
    published = challenges.publish(session, actor, draft.id)  # type: ignore[arg-type]
    session.refresh(published)
    return published


def default_schedule(now: datetime | None = None) -> dict[Phase, datetime]:
    now = now or utcnow()
    return {Phase.ACCEPTING: now + timedelta(days=10), Phase.VOTING: now + timedelta(days=40),
            Phase.REVIEW: now + timedelta(days=60)}


def add_attachment(session: Session, challenge: Challenge, kind: AttachmentKind, title: str = "",
                   filename: str = "資料.pdf", content_type: str = "application/pdf") -> ChallengeAttachment:
    attachment = ChallengeAttachment(challenge_id=challenge.id, kind=kind, title=title, filename=filename,  # type: ignore[arg-type]
                                     content_type=content_type, size_bytes=250_000, sha256="0" * 64,
                                     storage_key=f"{challenge.id}/{kind}/{utcnow().timestamp()}-{title}")
    session.add(attachment)
    session.commit()
    session.refresh(attachment)
    return attachment


def add_question(session: Session, challenge: Challenge, asker: User, body: str, *,
                 visibility: QuestionVisibility = QuestionVisibility.PUBLIC,
                 status: QuestionStatus = QuestionStatus.OPEN, answer: str = "") -> Question:
    question = Question(challenge_id=challenge.id, asker_id=asker.id, visibility=visibility, status=status,  # type: ignore[arg-type]
                        body=body, answer=answer, answered_at=utcnow() if answer else None)
    session.add(question)
    session.commit()
    session.refresh(question)
    return question


def move(session: Session, world: World, challenge: Challenge, target: Phase, reason: str = "担当課の判断") -> None:
    lifecycle.move(session, world.actor(session), challenge.id, target, reason)  # type: ignore[arg-type]
    session.refresh(challenge)
