"""Atom feeds of challenges, of a challenge's proposals and of its answers, through the real app: only
what anyone may read, stable ``tag:`` ids, absolute links, the request's language, escaped text, the
latest 50, a fixed number of queries; and the pages that announce them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from lxml import etree
from sqlmodel import Session

from cocreate.accounts.models import Department, Organisation, User
from cocreate.db.base import utcnow
from cocreate.settings import Settings
from proposals.models import (
    Challenge,
    ChallengeRevision,
    Phase,
    Proposal,
    ProposalVersion,
    Question,
    QuestionStatus,
    QuestionVisibility,
)
from tests.factories import (
    create_challenge,
    create_department,
    create_organisation,
    create_proposal,
    create_user,
)
from tests.helpers import QueryLog

pytestmark = pytest.mark.databases("sqlite", why="feeds are Python; paging SQL runs on both")

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"






@dataclass
class World:
    department: Department
    organisation: Organisation
    asker: User
    challenge: Challenge


@pytest.fixture
def w(session: Session) -> World:
    department = create_department(session)
    asker = create_user(session, "asker@example.jp", display_name="質問者 秘密太郎")
    organisation = create_organisation(session, "板橋モビリティ株式会社", verified=True)
    challenge = create_challenge(session, department, phase="accepting")
    return World(department=department, organisation=organisation, asker=asker, challenge=challenge)


@dataclass
class Parsed:
    root: Any
    raw: bytes

    @property
    def entries(self) -> list[Any]:
        return self.root.findall(f"{ATOM}entry")

    def text(self, path: str, node: Any = None) -> str:
        found = (node if node is not None else self.root).find(path.replace("a:", ATOM))
        return "" if found is None or found.text is None else found.text

    def titles(self) -> list[str]:
        return [self.text("a:title", e) for e in self.entries]

    def ids(self) -> list[str]:
        return [self.text("a:id", e) for e in self.entries]

    def link(self, rel: str, node: Any = None) -> str:
        for link in (node if node is not None else self.root).findall(f"{ATOM}link"):
            if (link.get("rel") or "alternate") == rel:  # Atom: no rel means "alternate"
                return str(link.get("href"))
        return ""


def fetch(client: TestClient[Litestar], url: str, **kwargs: Any) -> Parsed:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == "application/atom+xml"
    assert response.headers["x-content-type-options"] == "nosniff"
    root = etree.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return Parsed(root, response.content)


def add_question(session: Session, challenge: Challenge, body: str, *, asker: User | None = None,
                 status: QuestionStatus = QuestionStatus.ANSWERED,
                 visibility: QuestionVisibility = QuestionVisibility.PUBLIC, answer: str = "回答です。",
                 answered_minutes_ago: int = 0) -> Question:
    answered = status is QuestionStatus.ANSWERED or answer
    question = Question(challenge_id=challenge.id, asker_id=asker.id if asker else None,  # type: ignore[arg-type]
                        visibility=visibility, status=status, body=body, answer=answer if answered else "",
                        answered_at=utcnow() - timedelta(minutes=answered_minutes_ago) if answered else None)
    session.add(question)
    session.commit()
    session.refresh(question)
    return question


# --- /challenges.atom ----------------------------------------------------------------------------


@pytest.mark.databases("sqlite", "postgresql", why="ordering and limits in SQL")
def test_challenges_feed_lists_published_challenges_with_stable_ids_and_absolute_links(
        client: TestClient[Litestar], session: Session, settings: Settings, w: World) -> None:
    create_challenge(session, w.department, phase="draft", title="下書きの課題は出ない")
    older = create_challenge(session, w.department, phase="closed", title="終了した課題")
    older.published_at = utcnow() - timedelta(days=30)
    session.add(older)
    session.add(ChallengeRevision(challenge_id=w.challenge.id, number=1, changes_json="{}",  # type: ignore[arg-type]
                                  changed_at=utcnow() + timedelta(minutes=5)))
    session.commit()

    feed = fetch(client, "/challenges.atom")
    assert feed.titles() == [w.challenge.title, "終了した課題"]
    assert "下書きの課題は出ない" not in feed.raw.decode()
    host = re.sub(r"^https?://([^/:]+).*$", r"\1", settings.base_url)
    assert feed.ids() == [f"tag:{host},2026:challenge/{w.challenge.id}", f"tag:{host},2026:challenge/{older.id}"]
    assert feed.text("a:id") == f"tag:{host},2026:challenges"
    first = feed.entries[0]
    assert feed.link("alternate", first) == f"{settings.base_url}/challenges/{w.challenge.id}"
    assert feed.link("self") == f"{settings.base_url}/challenges.atom"
    assert feed.link("alternate") == f"{settings.base_url}/challenges"
    assert feed.text("a:summary", first) == w.challenge.summary
    assert feed.text("a:author/a:name", first) == w.department.display_name("ja")
    assert [c.get("term") for c in first.findall(f"{ATOM}category")] == ["environment_energy", "phase-accepting"]
    # the published edit moves "updated", not "published"; the feed's own time is the newest entry's
    assert feed.text("a:updated", first) > feed.text("a:published", first)
    assert feed.text("a:updated") == feed.text("a:updated", first)

    w.challenge.title = "名前を変えた課題"
    session.add(w.challenge)
    session.commit()
    again = fetch(client, "/challenges.atom")
    assert again.titles()[0] == "名前を変えた課題"
    assert again.ids() == feed.ids()


def test_feed_language_follows_the_request(client: TestClient[Litestar], w: World) -> None:
    by_header = fetch(client, "/challenges.atom", headers={"Accept-Language": "en"})
    assert by_header.root.get(XML_LANG) == "en"
    assert by_header.text("a:title") == "Challenges — cocreate Itabashi"
    japanese = fetch(client, "/challenges.atom")
    assert japanese.root.get(XML_LANG) == "ja"
    english = fetch(client, "/challenges.atom", params={"lang": "en"})
    assert english.root.get(XML_LANG) == "en"
    assert english.text("a:author/a:name") == "cocreate Itabashi"
    assert english.text("a:author/a:name", english.entries[0]) == w.department.display_name("en")


def test_empty_feed_is_valid(client: TestClient[Litestar], session: Session) -> None:
    feed = fetch(client, "/challenges.atom")
    assert feed.entries == []
    assert feed.text("a:updated")
    assert feed.text("a:title")


def test_challenges_feed_keeps_the_latest_50(client: TestClient[Litestar], session: Session, w: World) -> None:
    now = utcnow()
    for number in range(55):
        challenge = Challenge(title=f"課題{number:02d}", summary="概要", category=w.challenge.category,
                              phase=Phase.PUBLISHED, department_id=w.department.id,  # type: ignore[arg-type]
                              published_at=now + timedelta(minutes=number + 1))
        session.add(challenge)
    session.commit()
    feed = fetch(client, "/challenges.atom")
    assert len(feed.entries) == 50
    assert feed.titles()[:2] == ["課題54", "課題53"]
    assert "課題04" not in feed.titles() and w.challenge.title not in feed.titles()


def test_challenge_text_is_escaped_and_plain(client: TestClient[Litestar], session: Session, w: World,
                                             xss_payloads: list[str]) -> None:
    payloads = xss_payloads[-45:]  # the feed keeps 50
    for payload in payloads:
        create_challenge(session, w.department, title=payload[:200], summary=payload + "\x0b\x00 末尾")
    feed = fetch(client, "/challenges.atom")
    raw = feed.raw.decode()
    assert "<script" not in raw and "<img" not in raw and "<svg" not in raw
    titles = feed.titles()
    summaries = [feed.text("a:summary", e) for e in feed.entries]
    for payload in payloads:
        assert " ".join(payload[:200].split()) in titles
        assert " ".join(payload.split()) + " 末尾" in summaries


def test_challenges_feed_query_count_does_not_grow(client: TestClient[Litestar], session: Session, w: World,
                                                    query_log: QueryLog) -> None:
    start = query_log.count
    fetch(client, "/challenges.atom")
    one = query_log.count - start
    other = create_department(session, "roads", division_ja="土木部", section_ja="計画課", division_en="Civil",
                              section_en="Planning")
    for number in range(8):
        create_challenge(session, other if number % 2 else w.department, title=f"課題{number}")
    start = query_log.count
    feed = fetch(client, "/challenges.atom")
    assert len(feed.entries) == 9
    assert query_log.count - start == one <= 2, str(query_log)


# --- /challenges/{id}/proposals.atom -------------------------------------------------------------


@pytest.mark.databases("sqlite", "postgresql", why="ordering and limits in SQL")
def test_proposals_feed_has_public_proposals_only_and_never_confidential_text(
        client: TestClient[Litestar], session: Session, settings: Settings, w: World) -> None:
    shown = create_proposal(session, w.challenge, w.organisation, title="公開の提案", summary="公開の概要",
                            confidential="極秘の原価内訳")
    session.add(ProposalVersion(proposal_id=shown.id, number=2, content_json="{}",  # type: ignore[arg-type]
                                submitted_at=utcnow() + timedelta(hours=1)))
    create_proposal(session, w.challenge, w.organisation, status="draft", title="下書きの提案", confidential="極秘の下書き")
    create_proposal(session, w.challenge, w.organisation, status="withdrawn", title="取り下げた提案")
    hidden = create_proposal(session, w.challenge, w.organisation, title="非表示の提案")
    hidden.hidden_at = utcnow()
    session.add(hidden)
    other = create_challenge(session, w.department, title="別の課題")
    create_proposal(session, other, w.organisation, title="別の課題への提案")
    session.commit()

    feed = fetch(client, f"/challenges/{w.challenge.id}/proposals.atom")
    raw = feed.raw.decode()
    assert feed.titles() == ["公開の提案"]
    for absent in ("極秘", "下書きの提案", "取り下げた提案", "非表示の提案", "別の課題への提案"):
        assert absent not in raw
    entry = feed.entries[0]
    assert feed.text("a:summary", entry) == "公開の概要"
    assert feed.text("a:author/a:name", entry) == "板橋モビリティ株式会社"
    assert feed.link("alternate", entry) == f"{settings.base_url}/proposals/{shown.id}"
    assert feed.text("a:id", entry).endswith(f":proposal/{shown.id}")
    assert feed.text("a:updated", entry) > feed.text("a:published", entry)
    assert feed.link("self") == f"{settings.base_url}/challenges/{w.challenge.id}/proposals.atom"

    hidden_now = session.get(Proposal, shown.id)
    assert hidden_now is not None
    hidden_now.hidden_at = utcnow()
    session.add(hidden_now)
    session.commit()
    assert fetch(client, f"/challenges/{w.challenge.id}/proposals.atom").entries == []


@pytest.mark.parametrize("feed", ["proposals", "answers"])
def test_challenge_feeds_of_unknown_or_draft_challenges_are_404(client: TestClient[Litestar], session: Session,
                                                                 w: World, feed: str) -> None:
    draft = create_challenge(session, w.department, phase="draft")
    assert client.get(f"/challenges/{draft.id}/{feed}.atom").status_code == 404
    assert client.get(f"/challenges/999999/{feed}.atom").status_code == 404
    assert client.get(f"/challenges/abc/{feed}.atom").status_code in (400, 404)


def test_proposal_text_is_escaped(client: TestClient[Litestar], session: Session, w: World,
                                  xss_payloads: list[str]) -> None:
    for payload in xss_payloads[:20]:
        create_proposal(session, w.challenge, w.organisation, title=payload[:200], summary=payload[:500])
    feed = fetch(client, f"/challenges/{w.challenge.id}/proposals.atom")
    raw = feed.raw.decode()
    assert "<script" not in raw and "<img" not in raw
    assert {" ".join(p[:200].split()) for p in xss_payloads[:20]} <= set(feed.titles())


def test_proposals_feed_query_count_does_not_grow(client: TestClient[Litestar], session: Session, w: World,
                                                   query_log: QueryLog) -> None:
    create_proposal(session, w.challenge, w.organisation)
    start = query_log.count
    fetch(client, f"/challenges/{w.challenge.id}/proposals.atom")
    one = query_log.count - start
    second = create_organisation(session, "板橋大学", verified=True)
    for number in range(6):
        create_proposal(session, w.challenge, second if number % 2 else w.organisation, title=f"提案{number}")
    start = query_log.count
    assert len(fetch(client, f"/challenges/{w.challenge.id}/proposals.atom").entries) == 7
    assert query_log.count - start == one, str(query_log)


# --- /challenges/{id}/answers.atom ---------------------------------------------------------------


@pytest.mark.databases("sqlite", "postgresql", why="ordering and limits in SQL")
def test_answers_feed_has_answered_visible_questions_without_private_askers(
        client: TestClient[Litestar], session: Session, settings: Settings, w: World) -> None:
    public = add_question(session, w.challenge, "バスの本数は？", asker=w.asker, answer="1時間に**2本**です。",
                          answered_minutes_ago=10)
    private = add_question(session, w.challenge, "非公開の質問です", asker=w.asker,
                           visibility=QuestionVisibility.PRIVATE, answer="非公開の質問への回答")
    add_question(session, w.challenge, "未回答の質問", status=QuestionStatus.OPEN, answer="")
    add_question(session, w.challenge, "非表示の質問", status=QuestionStatus.HIDDEN, answer="消えた回答")
    add_question(session, w.challenge, "統合された質問", status=QuestionStatus.MERGED, answer="統合前の回答")
    other = create_challenge(session, w.department, title="別の課題")
    add_question(session, other, "別の課題の質問")

    feed = fetch(client, f"/challenges/{w.challenge.id}/answers.atom")
    raw = feed.raw.decode()
    assert feed.titles() == ["質問：非公開の質問です", "質問：バスの本数は？"]
    for absent in ("未回答の質問", "非表示の質問", "消えた回答", "統合", "別の課題の質問", "秘密太郎", "asker@"):
        assert absent not in raw
    newest, older = feed.entries
    assert feed.text("a:summary", older) == "1時間に2本です。"  # Markdown as plain text
    assert feed.text("a:summary", newest) == "非公開の質問への回答"
    assert feed.link("alternate", older) == f"{settings.base_url}/challenges/{w.challenge.id}/questions/{public.id}"
    assert feed.text("a:id", newest).endswith(f":question/{private.id}")

    public.status = QuestionStatus.HIDDEN
    session.add(public)
    session.commit()
    assert fetch(client, f"/challenges/{w.challenge.id}/answers.atom").titles() == ["質問：非公開の質問です"]


def test_answers_feed_escapes_and_counts_queries(client: TestClient[Litestar], session: Session, w: World,
                                                 xss_payloads: list[str], query_log: QueryLog) -> None:
    add_question(session, w.challenge, "最初の質問")
    start = query_log.count
    fetch(client, f"/challenges/{w.challenge.id}/answers.atom")
    one = query_log.count - start
    for payload in xss_payloads[:10]:
        add_question(session, w.challenge, payload, answer=payload)
    start = query_log.count
    feed = fetch(client, f"/challenges/{w.challenge.id}/answers.atom")
    assert query_log.count - start == one, str(query_log)
    assert len(feed.entries) == 11
    assert "<script" not in feed.raw.decode() and "<img" not in feed.raw.decode()


# --- the pages announce their feeds --------------------------------------------------------------


def test_challenge_pages_link_their_feeds(client: TestClient[Litestar], session: Session, w: World) -> None:
    listing = client.get("/challenges").text
    assert '<link rel="alternate" type="application/atom+xml" href="/challenges.atom"' in listing
    assert 'id="challenges-feed-link"' in listing
    detail = client.get(f"/challenges/{w.challenge.id}").text
    for feed in ("proposals", "answers"):
        assert (f'<link rel="alternate" type="application/atom+xml" href="/challenges/{w.challenge.id}/{feed}.atom"'
                in detail)
        assert f'id="{feed}-feed-link"' in detail
