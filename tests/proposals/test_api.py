"""The read API for challenges: the list's filters and pages, a challenge in full, its public Q&A."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.db.base import utcnow
from proposals.challenges import services as challenges
from proposals.models import AttachmentKind, Challenge, Phase, QuestionStatus, QuestionVisibility
from tests.factories import create_challenge, create_user
from tests.helpers import QueryLog
from tests.proposals.public_helpers import (
    World,
    add_attachment,
    add_question,
    challenge_input,
    default_schedule,
    make_world,
    move,
    publish_challenge,
)

pytestmark = pytest.mark.databases("sqlite", why="the API is Python over plain queries")


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)


def item_ids(body: dict) -> list[int]:  # type: ignore[type-arg]
    return [item["id"] for item in body["items"]]


@pytest.fixture
def catalogue(session: Session, world: World) -> dict[str, Challenge]:
    now = utcnow()
    made = {
        "mobility": create_challenge(session, world.transport, phase="accepting", title="移動を支えたい",
                                     category="transport_mobility", area="高島平"),
        "energy": create_challenge(session, world.env, phase="published", title="余熱を使いたい",
                                   category="environment_energy", area="舟渡", co_owners=[world.transport]),
        "health": create_challenge(session, world.welfare, phase="completed", title="健康を守りたい",
                                   category="health_welfare", area="高島平"),
        "draft": create_challenge(session, world.transport, phase="draft", title="下書きの課題"),
    }
    for index, (name, deadline, proposals) in enumerate(
        [("mobility", now + timedelta(days=5), 3), ("energy", now + timedelta(days=2), 0), ("health", None, 7)]
    ):
        made[name].published_at = now - timedelta(days=index)
        made[name].proposals_close_at = deadline
        made[name].proposal_count = proposals
        session.add(made[name])
    session.commit()
    return made


def test_list_returns_public_challenges_with_page_info(
    client: TestClient[Litestar], world: World, catalogue: dict[str, Challenge]
) -> None:
    response = client.get("/api/v1/challenges")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    body = response.json()
    c = catalogue
    assert item_ids(body) == [c["mobility"].id, c["energy"].id, c["health"].id]
    assert body["page"] == {"page": 1, "per_page": 20, "total": 3, "pages": 1, "next": None, "previous": None}
    first = body["items"][0]
    assert first["title"] == "移動を支えたい" and first["phase"] == "accepting" and first["phase_label"] == "提案募集中"
    assert first["category"] == "transport_mobility" and first["url"] == f"/challenges/{c['mobility'].id}"
    assert first["department"] == {"id": world.transport.id, "name": "都市整備部 交通政策課",
                                   "name_ja": "都市整備部 交通政策課",
                                   "name_en": "Transport Policy Section, Urban Development Department"}
    assert first["proposal_count"] == 3 and first["proposals_close_at"].startswith(str(utcnow().year)[:2])
    assert "下書き" not in response.text
    assert set(first) == {"id", "url", "title", "summary", "category", "category_label", "area", "phase",
                          "phase_label", "department", "published_at", "proposals_close_at", "proposal_count",
                          "question_count"}
    english = client.get("/api/v1/challenges?lang=en").json()["items"][0]
    assert english["phase_label"] == "Accepting proposals" and english["category_label"] == "Transport and mobility"


@pytest.mark.parametrize("department", ["0", "2147483648", "9223372036854775808", "10" * 20, "x"])
def test_a_department_id_beyond_any_row_is_refused_with_a_reason(client: TestClient[Litestar], department: str) -> None:
    """Found by the fuzz test: a department id too big to bind answered 500."""
    response = client.get(f"/api/v1/challenges?department={department}")
    assert response.status_code == 400 and response.json()["detail"]
    assert client.get(f"/challenges?department={department}").status_code == 200  # the page ignores it


@pytest.mark.parametrize(("query", "expected"), [
    ("phase=accepting", ["mobility"]),
    ("phase=active", ["mobility", "energy"]),
    ("phase=ended", ["health"]),
    ("category=health_welfare", ["health"]),
    ("area=高島平", ["mobility", "health"]),
    ("department={transport}", ["mobility", "energy"]),
    ("department={transport}&category=environment_energy", ["energy"]),
    ("department=99999", []),
    ("area=どこにもない", []),
    ("sort=deadline", ["energy", "mobility", "health"]),
    ("sort=proposals", ["health", "mobility", "energy"]),
])
def test_list_filters_and_sorts_like_the_page(
    client: TestClient[Litestar], world: World, catalogue: dict[str, Challenge], query: str, expected: list[str]
) -> None:
    query = query.format(transport=world.transport.id)
    assert item_ids(client.get(f"/api/v1/challenges?{query}").json()) == [catalogue[n].id for n in expected]
    page_ids = [int(i) for i in re.findall(r'<li class="card" id="challenge-(\d+)">',
                                           client.get(f"/challenges?{query}").text)]
    if "99999" not in query and "どこにもない" not in query:  # the page ignores values it does not offer
        assert page_ids == [catalogue[n].id for n in expected]


@pytest.mark.parametrize("query", [
    "page=abc", "page=0", "per_page=0", "per_page=101", "per_page=x", "department=abc", "phase=draft",
    "phase=nonsense", "category=x", "sort=oldest", "area=" + "あ" * 101,
])
def test_wrong_types_and_values_are_400_json(
    client: TestClient[Litestar], catalogue: dict[str, Challenge], query: str
) -> None:
    response = client.get(f"/api/v1/challenges?{query}")
    assert response.status_code == 400, query
    body = response.json()
    assert body["status_code"] == 400 and "<html" not in response.text


def test_pages_in_the_database_with_links(session: Session, client: TestClient[Litestar], world: World) -> None:
    now = utcnow()
    made = [create_challenge(session, world.transport, title=f"課題{i:02d}") for i in range(25)]
    for index, challenge in enumerate(made):
        challenge.published_at = now - timedelta(minutes=index)
        session.add(challenge)
    session.commit()
    first = client.get("/api/v1/challenges?per_page=10&area=高島平").json()
    assert item_ids(first) == [c.id for c in made[:10]]
    assert first["page"]["next"] == "/api/v1/challenges?area=%E9%AB%98%E5%B3%B6%E5%B9%B3&page=2&per_page=10"
    assert first["page"]["previous"] is None and first["page"]["pages"] == 3
    last = client.get("/api/v1/challenges?per_page=10&page=3").json()
    assert item_ids(last) == [c.id for c in made[20:]] and last["page"]["next"] is None
    assert last["page"]["previous"] == "/api/v1/challenges?page=2&per_page=10"
    beyond = client.get("/api/v1/challenges?per_page=10&page=50").json()
    assert beyond["page"]["page"] == 3 and item_ids(beyond) == [c.id for c in made[20:]]


def test_list_query_count_does_not_grow(
    session: Session, client: TestClient[Litestar], world: World, query_log: QueryLog
) -> None:
    for i in range(3):
        create_challenge(session, world.transport, title=f"A{i}")
    query_log.statements.clear()
    assert len(client.get("/api/v1/challenges").json()["items"]) == 3
    with_three = query_log.count
    for i in range(27):
        create_challenge(session, world.env, title=f"B{i}")
    query_log.statements.clear()
    assert len(client.get("/api/v1/challenges?per_page=30").json()["items"]) == 30
    assert query_log.count == with_three, str(query_log)


# --- one challenge ---------------------------------------------------------------------------------


def test_detail_has_public_fields_phases_criteria_kpis_attachments(
    session: Session, client: TestClient[Litestar], world: World
) -> None:
    schedule = default_schedule()
    challenge = publish_challenge(session, world, co_owners=[world.env], schedule=schedule)
    move(session, world, challenge, Phase.ACCEPTING, "前倒しで募集を始めます")
    document = add_attachment(session, challenge, AttachmentKind.DOCUMENT, "募集要項")
    response = client.get(f"/api/v1/challenges/{challenge.id}")
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "高島平の移動を、誰もが気軽にできるようにしたい"
    assert body["background"] == "団地の**高齢化**が進んでいます。"  # Markdown source, not HTML
    assert body["budget_cap_yen"] == 3_000_000 and body["contact_email"] == "kotsu@example.jp"
    assert [o["id"] for o in body["owners"]] == sorted([world.transport.id, world.env.id])
    assert body["criteria"] == [{"name": "実現可能性", "description": "一年以内に実証できるか", "weight": 40},
                                {"name": "地域への効果", "description": "", "weight": 60}]
    assert body["kpis"] == [{"indicator": "外出頻度", "baseline": "週2回", "target": "週3回", "unit": "回/週"}]
    assert body["attachments"] == [{
        "id": document.id, "kind": "document", "title": "募集要項", "filename": "資料.pdf",
        "content_type": "application/pdf", "size_bytes": 250_000, "sha256": "0" * 64,
        "url": f"/challenges/{challenge.id}/attachments/{document.id}",
    }]
    phases = {p["phase"]: p for p in body["phases"]}
    assert list(phases) == ["published", "accepting", "voting", "review", "decided", "trial", "completed"]
    assert phases["accepting"]["state"] == "current" and phases["accepting"]["started_at"] is not None
    assert phases["published"]["state"] == "done" and phases["voting"]["state"] == "upcoming"
    assert phases["voting"]["planned_start"] is not None and phases["decided"]["planned_start"] is None
    assert body["phase"] == "accepting" and body["history_url"] == f"/challenges/{challenge.id}/history"
    assert "storage_key" not in response.text and "created_by_id" not in body and "next_transition_at" not in body


def test_detail_public_questions_and_answered_private_ones_without_asker(
    session: Session, client: TestClient[Litestar], world: World
) -> None:
    challenge = publish_challenge(session, world)
    asker = create_user(session, "company@example.jp", display_name="モビリティ社 佐藤")
    secret = create_user(session, "secret@example.jp", display_name="内緒の質問者")
    open_public = add_question(session, challenge, asker, "公開の質問です")
    answered_public = add_question(session, challenge, asker, "回答済みの質問", status=QuestionStatus.ANSWERED,
                                   answer="はい、可能です。")
    answered_private = add_question(session, challenge, secret, "非公開の質問（回答済み）",
                                    visibility=QuestionVisibility.PRIVATE, status=QuestionStatus.ANSWERED,
                                    answer="区の回答です。")
    add_question(session, challenge, secret, "非公開の質問（未回答）", visibility=QuestionVisibility.PRIVATE)
    add_question(session, challenge, asker, "非表示の質問", status=QuestionStatus.HIDDEN)
    add_question(session, challenge, asker, "統合された質問", status=QuestionStatus.MERGED)
    body = client.get(f"/api/v1/challenges/{challenge.id}").json()
    questions = {q["id"]: q for q in body["questions"]}
    assert list(questions) == [open_public.id, answered_public.id, answered_private.id]
    assert questions[open_public.id]["asker"] == "モビリティ社 佐藤" and questions[open_public.id]["answer"] == ""
    assert questions[answered_public.id]["answer"] == "はい、可能です。"
    private = questions[answered_private.id]
    assert private["asker"] is None and private["visibility"] == "private" and private["answer"] == "区の回答です。"
    text = client.get(f"/api/v1/challenges/{challenge.id}").text
    for hidden in ("内緒の質問者", "secret@example.jp", "非公開の質問（未回答）", "非表示の質問", "統合された質問"):
        assert hidden not in text, hidden


def test_drafts_and_unknown_ids_are_404_json(session: Session, client: TestClient[Litestar], world: World) -> None:
    draft = challenges.create_draft(session, world.actor(session), world.transport.id,  # type: ignore[arg-type]
                                    challenge_input(title="内緒の下書き"))
    for path in (f"/api/v1/challenges/{draft.id}", "/api/v1/challenges/999999"):
        response = client.get(path)
        assert response.status_code == 404 and response.json()["status_code"] == 404
        assert "内緒" not in response.text
    assert client.get("/api/v1/challenges/abc").status_code in (400, 404)
    assert "内緒の下書き" not in client.get("/api/v1/challenges").text


def test_hostile_content_is_plain_data_in_json(
    session: Session, client: TestClient[Litestar], world: World, xss_payloads: list[str]
) -> None:
    payload = "<script>alert(1)</script>"
    challenge = publish_challenge(session, world, title=payload, background="\n".join(xss_payloads),
                                  summary='"><img src=x onerror=alert(1)>')
    response = client.get(f"/api/v1/challenges/{challenge.id}")
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["title"] == payload and body["background"] == "\n".join(xss_payloads)  # verbatim, not HTML
    assert body["summary"] == '"><img src=x onerror=alert(1)>'
    assert client.get("/api/v1/challenges").json()["items"][0]["title"] == payload
    assert "nosniff" in response.headers.get("x-content-type-options", "")


def test_schema_documents_the_challenge_endpoints(client: TestClient[Litestar]) -> None:
    document = client.get("/schema/openapi.json").json()
    assert "/api/v1/challenges" in document["paths"] and "/api/v1/challenges/{challenge_id}" in document["paths"]
    listing = document["paths"]["/api/v1/challenges"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"phase", "category", "area", "department", "sort", "page",
                                                          "per_page"}
    schemas = document["components"]["schemas"]
    assert {"ChallengeListOut", "ChallengeOut", "QuestionOut", "PhaseOut"} <= set(schemas)
    assert "questions" in schemas["ChallengeOut"]["properties"]
    assert "/challenges" not in document["paths"]  # pages stay out of the API schema
    index = client.get("/api/v1").json()
    assert index["resources"]["challenges"] == "/api/v1/challenges"
