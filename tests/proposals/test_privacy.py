"""Download my data: the proposals component's sections and the core's follows and notification settings
hold the person's own rows, never another person's (trial applications: tests/labs/test_recruitment.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar import Litestar
from sqlmodel import Session

from cocreate import components
from cocreate.accounts import self_service
from cocreate.accounts.models import User
from cocreate.comments.models import Comment
from cocreate.db.base import utcnow
from cocreate.notifications import preferences
from cocreate.notifications.models import Delivery, Follow
from proposals.models import (
    BriefingRegistration,
    BriefingSession,
    Question,
    QuestionVisibility,
    Vote,
)
from tests.cocreate.accounts.self_service_helpers import post, signed_in_client
from tests.factories import (
    actor,
    create_challenge,
    create_department,
    create_organisation,
    create_proposal,
    create_user,
)

pytestmark = pytest.mark.databases("sqlite", why="the export is Python over plain queries")

SECTIONS = ("proposals", "comments", "votes", "questions", "briefing_registrations", "follows",
            "notification_settings", "recruitment_applications")


def contribute(session: Session, user: User, challenge: object, tag: str) -> None:
    """One row of every kind the export covers, each carrying ``tag`` where it has text."""
    organisation = create_organisation(session, f"{tag}株式会社", admin=user)
    proposal = create_proposal(session, challenge, organisation, author=user, title=f"{tag}の提案",
                               summary=f"{tag}の要約", confidential=f"{tag}の内訳")
    briefing = BriefingSession(challenge_id=challenge.id, title=f"{tag}の説明会", starts_at=utcnow() + timedelta(days=3),  # type: ignore[attr-defined]
                               ends_at=utcnow() + timedelta(days=3, hours=1), capacity=10, registered_count=1)
    session.add(briefing)
    session.flush()
    session.add_all([
        Comment(target_type="proposal", target_id=proposal.id, author_id=user.id, body=f"{tag}のコメント"),
        Vote(proposal_id=proposal.id, challenge_id=challenge.id, user_id=user.id),  # type: ignore[attr-defined]
        Question(challenge_id=challenge.id, asker_id=user.id, visibility=QuestionVisibility.PUBLIC,  # type: ignore[attr-defined]
                 body=f"{tag}の質問"),
        BriefingRegistration(session_id=briefing.id, user_id=user.id),  # type: ignore[arg-type]
        Follow(user_id=user.id, target_type="proposal", target_id=proposal.id),  # type: ignore[arg-type]
    ])
    preferences.set_delivery(session, user.id, "comment.posted", Delivery.DIGEST)  # type: ignore[arg-type]
    session.commit()


def test_every_component_contributes_its_sections_through_its_manifest() -> None:
    declared = {name: component.name for component in components.load() for name in component.export_sections}
    assert {name: declared.get(name) for name in SECTIONS} == {
        "proposals": "proposals", "comments": "core", "votes": "proposals", "questions": "proposals",
        "briefing_registrations": "proposals", "follows": "core", "notification_settings": "core",
        "recruitment_applications": "labs"}


def test_download_my_data_holds_my_contributions_and_nobody_elses(app: Litestar, session: Session) -> None:
    department = create_department(session)
    challenge = create_challenge(session, department, phase="voting")
    hanako = create_user(session, "hanako@example.jp", display_name="はなこ")
    taro = create_user(session, "taro@example.jp", display_name="たろう")
    contribute(session, hanako, challenge, "花子")
    contribute(session, taro, challenge, "太郎")

    data = self_service.export_data(session, actor(session, hanako))
    assert set(SECTIONS) <= set(data)
    assert [(p["title"], p["confidential"]) for p in data["proposals"]] == [("花子の提案", "花子の内訳")]
    assert [c["body"] for c in data["comments"]] == ["花子のコメント"]
    assert [v["proposal_title"] for v in data["votes"]] == ["花子の提案"]
    assert [q["body"] for q in data["questions"]] == ["花子の質問"]
    assert [b["title"] for b in data["briefing_registrations"]] == ["花子の説明会"]
    mine = data["proposals"][0]["id"]
    assert [(f["target_type"], f["target_id"]) for f in data["follows"]] == [("proposal", mine)]
    assert [(c["kind"], c["delivery"]) for c in data["notification_settings"]["chosen"]] == [("comment.posted", "digest")]
    assert {c["kind"] for c in data["notification_settings"]["deliveries"]} >= {"comment.posted", "question.answered"}
    assert data["recruitment_applications"] == []

    text = self_service.export_json(data).decode()
    assert "太郎" not in text and "taro@example.jp" not in text


def test_the_download_contains_the_sections(app: Litestar, session: Session) -> None:
    department = create_department(session)
    challenge = create_challenge(session, department, phase="voting")
    hanako = create_user(session, "hanako@example.jp", display_name="はなこ")
    contribute(session, hanako, challenge, "花子")
    response = post(signed_in_client(app, hanako), "/account/export")
    assert response.status_code == 200
    data = response.json()
    assert data["comments"][0]["body"] == "花子のコメント" and data["votes"][0]["proposal_title"] == "花子の提案"
