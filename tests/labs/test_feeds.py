"""Atom feeds of trials' progress updates and final reports (all published trials, and one), through the
real app: unpublished trials never, stable ``tag:`` ids, absolute links, the request's language, escaped
plain text, the latest 50, a fixed number of queries; and the trial pages that announce them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.accounts.models import User
from cocreate.db.base import utcnow
from cocreate.settings import Settings
from labs.models import Trial, TrialStatus, TrialUpdate
from tests.factories import create_user
from tests.helpers import QueryLog
from tests.proposals.test_feeds import XML_LANG, Parsed, fetch

pytestmark = pytest.mark.databases("sqlite", why="feeds are Python")






@pytest.fixture
def author(session: Session) -> User:
    return create_user(session, "poster@example.jp", display_name="投稿者 個人名")


def make_trial(session: Session, title: str = "高島平モビリティ実証", *, published: bool = True,
               results: str = "", results_minutes_ago: int | None = None) -> Trial:
    trial = Trial(title=title, summary="概要です。", status=TrialStatus.RUNNING, published=published,
                  starts_on=date(2026, 12, 1), results=results,
                  results_published_at=utcnow() - timedelta(minutes=results_minutes_ago)
                  if results_minutes_ago is not None else None)
    session.add(trial)
    session.commit()
    session.refresh(trial)
    return trial


def post_update(session: Session, trial: Trial, title: str, *, body: str = "今週の進捗です。",
                minutes_ago: int = 0, author: User | None = None) -> TrialUpdate:
    when = utcnow() - timedelta(minutes=minutes_ago)
    update = TrialUpdate(trial_id=trial.id, posted_on=when.date(), title=title, body=body,  # type: ignore[arg-type]
                         author_id=author.id if author else None, created_at=when, updated_at=when)
    session.add(update)
    session.commit()
    session.refresh(update)
    return update


@pytest.mark.databases("sqlite", "postgresql", why="ordering and limits in SQL")
def test_all_trials_feed_has_updates_and_reports_of_published_trials(
        client: TestClient[Litestar], session: Session, settings: Settings, author: User) -> None:
    running = make_trial(session)
    done = make_trial(session, "完了した実証", results="## 結果\n\n利用者は**500人**でした。", results_minutes_ago=5)
    hidden = make_trial(session, "非公開の実証", published=False, results="非公開の結果", results_minutes_ago=1)
    first = post_update(session, running, "第1週の報告", minutes_ago=30, author=author)
    second = post_update(session, running, "第2週の報告", body="*順調*です。", minutes_ago=2)
    post_update(session, hidden, "非公開の報告")
    make_trial(session, "結果が未公開の実証", results="下書きの結果")

    japanese = fetch(client, "/trials/updates.atom")
    assert japanese.root.get(XML_LANG) == "ja"
    assert japanese.titles() == ["高島平モビリティ実証：第2週の報告", "最終報告：完了した実証", "高島平モビリティ実証：第1週の報告"]
    feed = fetch(client, "/trials/updates.atom?lang=en")
    raw = feed.raw.decode()
    assert feed.root.get(XML_LANG) == "en"
    assert feed.titles() == ["高島平モビリティ実証: 第2週の報告", "Final report: 完了した実証", "高島平モビリティ実証: 第1週の報告"]
    for absent in ("非公開", "下書きの結果", "個人名", "poster@"):
        assert absent not in raw
    newest = feed.entries[0]
    assert feed.text("a:summary", newest) == "順調です。"
    assert feed.link("alternate", newest) == f"{settings.base_url}/trials/{running.id}#update-{second.id}"
    assert feed.text("a:id", newest).endswith(f":trial-update/{second.id}")
    report = feed.entries[1]
    assert feed.text("a:id", report).endswith(f":trial/{done.id}/results")
    assert feed.link("alternate", report) == f"{settings.base_url}/trials/{done.id}#results"
    assert feed.text("a:summary", report) == "結果 利用者は500人でした。"
    assert feed.link("self") == f"{settings.base_url}/trials/updates.atom"
    assert feed.text("a:updated") == feed.text("a:updated", newest)

    running.published = False  # unpublishing takes its updates out of the feed
    session.add(running)
    session.commit()
    assert [e for e in fetch(client, "/trials/updates.atom").ids() if f"trial-update/{first.id}" in e] == []


def test_one_trial_feed(client: TestClient[Litestar], session: Session, settings: Settings) -> None:
    trial = make_trial(session, results="最終報告です。", results_minutes_ago=1)
    other = make_trial(session, "別の実証")
    post_update(session, trial, "キックオフ", minutes_ago=60)
    post_update(session, other, "別の実証の報告")

    feed = fetch(client, f"/trials/{trial.id}/updates.atom")
    assert feed.titles() == ["最終報告：高島平モビリティ実証", "キックオフ"]
    assert "別の実証" not in feed.raw.decode()
    assert feed.link("alternate") == f"{settings.base_url}/trials/{trial.id}"
    assert feed.link("self") == f"{settings.base_url}/trials/{trial.id}/updates.atom"
    assert feed.text("a:id").endswith(f":trial/{trial.id}/updates")

    empty = fetch(client, f"/trials/{other.id}/updates.atom?lang=en")
    assert empty.root.get(XML_LANG) == "en"
    assert empty.titles() == ["別の実証の報告"]
    assert empty.text("a:title") == "Updates: 別の実証"


def test_feed_of_an_unpublished_or_unknown_trial_is_404(client: TestClient[Litestar], session: Session) -> None:
    hidden = make_trial(session, published=False)
    post_update(session, hidden, "非公開の報告")
    assert client.get(f"/trials/{hidden.id}/updates.atom").status_code == 404
    assert client.get("/trials/999999/updates.atom").status_code == 404


def test_feeds_keep_the_latest_50(client: TestClient[Litestar], session: Session) -> None:
    trial = make_trial(session)
    for number in range(55):
        post_update(session, trial, f"報告{number:02d}", minutes_ago=100 - number)
    for url in ("/trials/updates.atom", f"/trials/{trial.id}/updates.atom"):
        feed = fetch(client, url)
        assert len(feed.entries) == 50
        assert feed.titles()[0].endswith("報告54")
        assert not any(t.endswith("報告04") for t in feed.titles())


def test_update_text_is_escaped(client: TestClient[Litestar], session: Session, xss_payloads: list[str]) -> None:
    trial = make_trial(session, title="<script>alert('trial')</script>")
    payloads = xss_payloads[:40]
    for payload in payloads:
        post_update(session, trial, payload[:200], body=payload)
    for url in ("/trials/updates.atom", f"/trials/{trial.id}/updates.atom"):
        feed = fetch(client, url)
        raw = feed.raw.decode()
        assert "<script" not in raw and "<img" not in raw and "<svg" not in raw
        titles = feed.titles()
        for payload in payloads:
            assert any(t.endswith(" ".join(payload[:200].split())) for t in titles), payload
    assert fetch(client, "/trials/updates.atom?lang=en").titles()[0].startswith("<script>alert('trial')</script>: ")


def _count(client: TestClient[Litestar], query_log: QueryLog, url: str) -> tuple[int, Parsed]:
    start = query_log.count
    feed = fetch(client, url)
    return query_log.count - start, feed


def test_feed_query_counts_do_not_grow(client: TestClient[Litestar], session: Session, query_log: QueryLog) -> None:
    trial = make_trial(session, results="結果", results_minutes_ago=3)
    post_update(session, trial, "報告")
    urls = ("/trials/updates.atom", f"/trials/{trial.id}/updates.atom")
    before = {url: _count(client, query_log, url)[0] for url in urls}
    for number in range(4):
        more = make_trial(session, f"実証{number}", results="結果", results_minutes_ago=number)
        post_update(session, more, f"報告{number}")
        post_update(session, trial, f"追加の報告{number}")
    for url in urls:
        count, feed = _count(client, query_log, url)
        assert count == before[url] <= 3, str(query_log)
        assert len(feed.entries) >= 5


def test_trial_pages_link_their_feeds(client: TestClient[Litestar], session: Session) -> None:
    trial = make_trial(session)
    listing = client.get("/trials").text
    assert '<link rel="alternate" type="application/atom+xml" href="/trials/updates.atom"' in listing
    assert 'id="trials-feed-link"' in listing
    detail = client.get(f"/trials/{trial.id}").text
    assert f'<link rel="alternate" type="application/atom+xml" href="/trials/{trial.id}/updates.atom"' in detail
    assert 'id="trial-feed-link"' in detail
