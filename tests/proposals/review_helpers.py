"""Shared pieces of the review and decision tests: a challenge under review with two weighted criteria,
proposals, reviewers, staff and residents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.accounts.models import Department, Organisation, Role, User
from cocreate.accounts.permissions import Principal
from cocreate.db.base import utcnow
from proposals.models import ChallengeCriterion, ConflictDeclaration, Review, ReviewerAssignment, ReviewScore
from tests.factories import (
    create_challenge,
    create_department,
    create_organisation,
    create_proposal,
    create_user,
)
from tests.helpers import csrf_token


@dataclass
class World:
    owner: Department
    other: Department
    challenge: Any
    criteria: list[ChallengeCriterion]
    organisation: Organisation
    p1: Any
    p2: Any
    draft: Any
    people: dict[str, User]


def make_world(session: Session, phase: str = "review") -> World:
    owner = create_department(session, "transport", division_ja="都市整備部", section_ja="交通政策課",
                              division_en="Urban Development", section_en="Transport Policy")
    other = create_department(session)
    people = {
        "staff": create_user(session, "kotsu@example.jp", display_name="交通 太郎", roles=[(Role.STAFF, owner.id)]),  # type: ignore[list-item]
        "other_staff": create_user(session, "kankyo@example.jp", display_name="環境 次郎",
                                   roles=[(Role.STAFF, other.id)]),  # type: ignore[list-item]
        "reviewer_a": create_user(session, "shinsa-a@example.jp", display_name="審査 一郎", roles=[Role.REVIEWER]),
        "reviewer_b": create_user(session, "shinsa-b@example.jp", display_name="審査 二郎", roles=[Role.REVIEWER]),
        "reviewer_c": create_user(session, "shinsa-c@example.jp", display_name="審査 三郎", roles=[Role.REVIEWER]),
        "resident": create_user(session, "resident@example.jp", display_name="審査 好き"),
        "proposer": create_user(session, "proposer@example.jp", display_name="提案 花子"),
        "member": create_user(session, "member@example.jp", display_name="提案 仲間", locale="en"),
        "admin": create_user(session, "admin@example.jp", roles=[Role.ADMIN]),
    }
    organisation = create_organisation(session, admin=people["proposer"], members=[people["member"]], verified=True)
    challenge = create_challenge(session, owner, phase=phase, title="高島平の移動を支えたい")
    criteria = [ChallengeCriterion(challenge_id=challenge.id, position=0, name="実現可能性", weight=40),
                ChallengeCriterion(challenge_id=challenge.id, position=1, name="地域への効果", weight=60)]
    session.add_all(criteria)
    session.commit()
    for criterion in criteria:
        session.refresh(criterion)
    p1 = create_proposal(session, challenge, organisation, title="AIデマンド交通", author=people["proposer"])
    p2 = create_proposal(session, challenge, organisation, title="電動カートの相乗り", author=people["proposer"])
    draft = create_proposal(session, challenge, organisation, status="draft", title="下書きの提案")
    for who in ("reviewer_a", "reviewer_b"):
        session.add(ReviewerAssignment(challenge_id=challenge.id, user_id=people[who].id,
                                       assigned_by_id=people["staff"].id))
    session.commit()
    return World(owner, other, challenge, criteria, organisation, p1, p2, draft, people)


def actor(session: Session, user: User | None) -> Principal:
    return Principal.load(session, user) if user is not None else Principal.anonymous()


def add_review(session: Session, proposal: Any, reviewer: User, scores: list[int], *, comment: str = "良い提案です。",
               submitted: bool = True, criteria: list[ChallengeCriterion]) -> Review:
    """A review written straight to the database (the forms have their own tests)."""
    session.add(ConflictDeclaration(reviewer_id=reviewer.id, proposal_id=proposal.id, has_conflict=False))  # type: ignore[arg-type]
    review = Review(proposal_id=proposal.id, reviewer_id=reviewer.id, comment=comment,  # type: ignore[arg-type]
                    submitted_at=utcnow() if submitted else None)
    session.add(review)
    session.flush()
    for criterion, score in zip(criteria, scores, strict=True):
        session.add(ReviewScore(review_id=review.id, criterion_id=criterion.id, score=score))  # type: ignore[arg-type]
    session.commit()
    return review


def post(client: TestClient[Litestar], url: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(url, data={"_csrf_token": csrf_token(client), **(data or {})}, follow_redirects=False)

