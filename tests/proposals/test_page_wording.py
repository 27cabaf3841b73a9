"""Small things a reader notices: words run together, a wrong plural, rows of dashes, numbers twice."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.accounts.models import Role
from proposals.models import ReviewerAssignment
from tests.factories import (
    create_challenge,
    create_department,
    create_organisation,
    create_proposal,
    create_user,
    sign_in,
)

pytestmark = pytest.mark.databases("sqlite", why="templates only")


def _text(html: str) -> str:
    """What a reader sees: tags removed, whitespace collapsed (a tag alone separates nothing)."""
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def test_a_proposal_page_shows_only_the_facts_given_and_words_stay_apart(
        client: TestClient[Litestar], session: Session) -> None:
    challenge = create_challenge(session, create_department(session), phase="voting")
    organisation = create_organisation(session, "高島平ラボ合同会社", verified=True)
    bare = create_proposal(session, challenge, organisation, title="費用の書かれていない提案")
    html = client.get(f"/proposals/{bare.id}", params={"lang": "en"}).text
    assert 'id="facts"' not in html and "<dd>–</dd>" not in html
    authors = _text(html.split('id="authors"', 1)[1].split("</ul>", 1)[0])
    assert "Verified (lead)" in authors

    costed = create_proposal(session, challenge, organisation, title="費用のある提案")
    costed.cost_estimate_yen = 1_200_000
    session.add(costed)
    session.commit()
    facts = client.get(f"/proposals/{costed.id}").text.split('id="facts"', 1)[1].split("</section>", 1)[0]
    assert 'id="cost"' in facts and "Schedule" not in facts and "スケジュール" not in facts


def test_review_results_count_reviewers_with_the_right_plural(
        client: TestClient[Litestar], session: Session) -> None:
    department = create_department(session)
    staff = create_user(session, "staff@example.jp", roles=[(Role.STAFF, department.id)], locale="en")  # type: ignore[list-item]
    reviewer = create_user(session, "reviewer@example.jp", roles=[Role.REVIEWER])
    challenge = create_challenge(session, department, phase="review")
    session.add(ReviewerAssignment(challenge_id=challenge.id, user_id=reviewer.id, assigned_by_id=staff.id))
    session.commit()
    sign_in(client, staff)
    text = _text(client.get(f"/staff/challenges/{challenge.id}/review", params={"lang": "en"}).text)
    assert "1 reviewer is assigned. The weighted total" in text
