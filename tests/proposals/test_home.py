"""The home page lists the latest public challenges in a constant number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.accounts.models import Department
from cocreate.db.base import utcnow
from proposals.models import Category, Challenge, Phase
from tests.helpers import QueryLog

pytestmark = pytest.mark.databases("sqlite", why="the home page is Python")


def add_challenges(session: Session, count: int, *, phase: Phase = Phase.ACCEPTING, prefix: str = "課題") -> None:
    now = utcnow()
    for index in range(count):
        department = Department(code=f"{prefix}-{index}-{now.timestamp()}", division_ja="部", section_ja=f"課{index}",
                                division_en="Dept", section_en=f"Section {index}")
        session.add(department)
        session.flush()
        session.add(Challenge(title=f"{prefix}{index}を実現したい", summary="<script>alert(1)</script>概要",
                              category=Category.ENVIRONMENT_ENERGY, area="高島平", phase=phase,
                              department_id=department.id, published_at=now - timedelta(minutes=index)))
    session.commit()


def test_home_shows_public_challenges_not_drafts(session: Session, client: TestClient[Litestar]) -> None:
    add_challenges(session, 2)
    add_challenges(session, 1, phase=Phase.DRAFT, prefix="下書き")
    html = client.get("/").text
    assert "課題0を実現したい" in html and "課題1を実現したい" in html
    assert "下書き0" not in html
    assert "2件の課題を公開しています。" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    english = client.get("/?lang=en").text
    assert '<h3 class="card-title" lang="ja">課題0を実現したい</h3>' in english


def test_home_without_challenges_says_so(client: TestClient[Litestar]) -> None:
    assert "公開中の課題はまだありません。" in client.get("/").text
    assert "No challenges have been published yet." in client.get("/?lang=en").text


def test_home_query_count_does_not_grow_with_challenges(
    session: Session, client: TestClient[Litestar], query_log: QueryLog
) -> None:
    add_challenges(session, 1, prefix="A")
    query_log.statements.clear()
    client.get("/")
    with_one = query_log.count
    add_challenges(session, 8, prefix="B")
    query_log.statements.clear()
    html = client.get("/").text
    assert html.count('class="card"') == 6
    assert query_log.count == with_one, str(query_log)
    assert query_log.count <= 3, str(query_log)
