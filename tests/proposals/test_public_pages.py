"""The public challenge pages: list with filters, sort and pages; detail with its timeline; history."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.db.base import utcnow
from proposals.challenges import services as challenges
from proposals.challenges.history import line_diff
from proposals.models import AttachmentKind, Challenge, Phase
from tests.factories import create_challenge, sign_in
from tests.helpers import QueryLog
from tests.proposals.public_helpers import (
    World,
    add_attachment,
    challenge_input,
    default_schedule,
    make_world,
    move,
    publish_challenge,
)

pytestmark = pytest.mark.databases("sqlite", why="public pages and filters are Python")

HX = {"HX-Request": "true"}


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)


def card_ids(html: str) -> list[int]:
    """Challenge ids of the cards on a list page, in order."""
    return [int(n) for n in re.findall(r'<li class="card" id="challenge-(\d+)">', html)]


def ids(*items: Challenge) -> list[int]:
    return [c.id for c in items]  # type: ignore[misc]


# --- list: filters ---------------------------------------------------------------------------------


@pytest.fixture
def catalogue(session: Session, world: World) -> dict[str, Challenge]:
    """Four public challenges of different phases, categories, areas and departments, and a draft."""
    now = utcnow()
    mobility = create_challenge(session, world.transport, phase="accepting", title="移動を支えたい",
                                category="transport_mobility", area="高島平")
    energy = create_challenge(session, world.env, phase="published", title="余熱を使いたい",
                              category="environment_energy", area="舟渡", co_owners=[world.transport])
    health = create_challenge(session, world.welfare, phase="completed", title="健康を守りたい",
                              category="health_welfare", area="高島平")
    closed = create_challenge(session, world.welfare, phase="closed", title="閉じた課題", category="admin_dx", area="")
    draft = create_challenge(session, world.transport, phase="draft", title="下書きの課題", area="秘密の地区")
    for index, (challenge, deadline, proposals) in enumerate(
        [(mobility, now + timedelta(days=5), 3), (energy, now + timedelta(days=2), 0), (health, None, 7),
         (closed, now - timedelta(days=30), 1)]
    ):
        challenge.published_at = now - timedelta(days=index)  # mobility newest
        challenge.proposals_close_at = deadline
        challenge.proposal_count = proposals
        session.add(challenge)
    session.commit()
    return {"mobility": mobility, "energy": energy, "health": health, "closed": closed, "draft": draft}


def test_list_shows_public_challenges_newest_first_never_drafts(
    client: TestClient[Litestar], catalogue: dict[str, Challenge]
) -> None:
    response = client.get("/challenges")
    assert response.status_code == 200
    c = catalogue
    assert card_ids(response.text) == ids(c["mobility"], c["energy"], c["health"], c["closed"])
    assert "下書きの課題" not in response.text and "秘密の地区" not in response.text
    assert '<h1 id="challenges-title">課題一覧</h1>' in response.text
    assert f'href="/challenges/{c["mobility"].id}"' in response.text


@pytest.mark.parametrize(("query", "expected"), [
    ("phase=accepting", ["mobility"]),
    ("phase=published", ["energy"]),
    ("phase=active", ["mobility", "energy"]),
    ("phase=ended", ["health", "closed"]),
    ("category=health_welfare", ["health"]),
    ("area=高島平", ["mobility", "health"]),
    ("department={welfare}", ["health", "closed"]),
    ("department={transport}", ["mobility", "energy"]),  # energy is co-owned by transport
    ("phase=ended&area=高島平", ["health"]),
    ("category=environment_energy&department={transport}&phase=published", ["energy"]),
    ("category=environment_energy&department={welfare}", []),
])
def test_each_filter_alone_and_combined(client: TestClient[Litestar], world: World,
                                        catalogue: dict[str, Challenge], query: str, expected: list[str]) -> None:
    query = query.format(welfare=world.welfare.id, transport=world.transport.id)
    html = client.get(f"/challenges?{query}").text
    assert card_ids(html) == [catalogue[name].id for name in expected], query
    if not expected:
        assert "条件に合う課題はありません。" in html
        assert 'id="challenges-empty"><a href="/challenges"' in html


def test_filter_controls_are_labelled_and_keep_their_values(
    client: TestClient[Litestar], world: World, catalogue: dict[str, Challenge]
) -> None:
    html = client.get(f"/challenges?phase=accepting&department={world.transport.id}&sort=proposals").text
    for name in ("phase", "category", "area", "department", "sort"):
        assert f'<label for="filter-{name}">' in html and f'id="filter-{name}" name="{name}"' in html
    assert '<option value="accepting" selected>提案受付中</option>' in html
    assert f'<option value="{world.transport.id}" selected>' in html
    assert '<option value="proposals" selected>' in html
    # Only areas and departments that have public challenges are offered (not the draft's).
    assert '<option value="舟渡" lang="ja">舟渡</option>' in html and "秘密の地区" not in html
    # The form works without JavaScript: a GET form with a submit button.
    assert re.search(r'<form id="challenge-filters" class="filters" method="get" action="/challenges"', html)
    assert '<button type="submit" id="apply-filters">' in html


@pytest.mark.parametrize("query", [
    "phase=draft", "phase=nonsense", "category=x", "department=abc", "department=99999", "department=-1",
    "area=どこにもない地区", "sort=oldest", "page=abc", "page=-3", "phase=accepting&phase=voting",
    "department=" + "9" * 40, "area=" + "あ" * 5000, "phase=%00", "page=99999999999999999999",
])
def test_invalid_filter_values_are_ignored_never_a_500(
    client: TestClient[Litestar], catalogue: dict[str, Challenge], query: str
) -> None:
    response = client.get(f"/challenges?{query}")
    assert response.status_code == 200, query
    assert "下書きの課題" not in response.text
    if "&" not in query:  # the bad value is dropped: every public challenge is listed
        assert len(card_ids(response.text)) == 4, query


def test_invalid_value_resets_that_filter_and_says_so(
    client: TestClient[Litestar], catalogue: dict[str, Challenge]
) -> None:
    html = client.get("/challenges?phase=draft&category=health_welfare").text
    assert card_ids(html) == [catalogue["health"].id]  # the valid filter still applies
    assert 'id="filters-ignored"' in html
    assert '<option value="" selected>' not in html  # "all phases" is the first, unselected-by-default option
    assert 'value="draft"' not in html


# --- list: sort ----------------------------------------------------------------------------------


def test_sort_orders(client: TestClient[Litestar], catalogue: dict[str, Challenge]) -> None:
    c = catalogue
    # Deadlines still ahead, soonest first; then passed deadlines; challenges without one last.
    assert card_ids(client.get("/challenges?sort=deadline").text) == ids(c["energy"], c["mobility"], c["closed"],
                                                                         c["health"])
    assert card_ids(client.get("/challenges?sort=proposals").text) == ids(c["health"], c["mobility"], c["closed"],
                                                                          c["energy"])
    assert card_ids(client.get("/challenges?sort=newest").text) == ids(c["mobility"], c["energy"], c["health"],
                                                                       c["closed"])
    assert card_ids(client.get("/challenges?sort=deadline&phase=active").text) == ids(c["energy"], c["mobility"])


# --- list: pagination ---------------------------------------------------------------------------


def many(session: Session, world: World, count: int, prefix: str = "課題") -> list[Challenge]:
    made = [create_challenge(session, world.transport, title=f"{prefix}{i:02d}を実現したい", area="高島平")
            for i in range(count)]
    now = utcnow()
    for index, challenge in enumerate(made):
        challenge.published_at = now - timedelta(minutes=index)
        session.add(challenge)
    session.commit()
    return made


def test_pages_are_cut_by_the_database_and_keep_the_filters(
    session: Session, client: TestClient[Litestar], world: World
) -> None:
    made = many(session, world, 45)
    first = client.get("/challenges?area=高島平").text
    assert card_ids(first) == ids(*made[:20])
    assert "45件中 1〜20件を表示" in first
    assert 'href="/challenges?area=%E9%AB%98%E5%B3%B6%E5%B9%B3&amp;page=2" rel="next"' in first
    third = client.get("/challenges?area=高島平&page=3").text
    assert card_ids(third) == ids(*made[40:])
    assert 'aria-current="page">3</a>' in third
    # Beyond the end: the last page, not an error or an empty page.
    beyond = client.get("/challenges?area=高島平&page=99")
    assert beyond.status_code == 200 and card_ids(beyond.text) == ids(*made[40:])
    assert card_ids(client.get("/challenges?page=0").text) == ids(*made[:20])


def test_empty_list_has_an_empty_state(client: TestClient[Litestar]) -> None:
    html = client.get("/challenges?page=5").text
    assert "公開中の課題はまだありません。" in html and card_ids(html) == []


def test_list_query_count_does_not_grow_with_challenges(
    session: Session, client: TestClient[Litestar], world: World, query_log: QueryLog
) -> None:
    many(session, world, 3, "A")
    query_log.statements.clear()
    assert len(card_ids(client.get("/challenges?sort=deadline").text)) == 3
    with_three = query_log.count
    many(session, world, 27, "B")
    query_log.statements.clear()
    assert len(card_ids(client.get("/challenges?sort=deadline").text)) == 20
    assert query_log.count == with_three, str(query_log)
    assert query_log.count <= 5, str(query_log)


# --- list: htmx ------------------------------------------------------------------------------------


def test_htmx_gets_only_the_results_region(client: TestClient[Litestar], catalogue: dict[str, Challenge]) -> None:
    full = client.get("/challenges?phase=accepting")
    assert full.text.lstrip().startswith("<!doctype html>")
    assert 'hx-get="/challenges" hx-target="#challenge-results" hx-swap="outerHTML" hx-push-url="true"' in full.text
    fragment = client.get("/challenges?phase=accepting", headers=HX)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="challenge-results"')
    assert "<html" not in fragment.text and 'id="challenge-filters"' not in fragment.text
    assert card_ids(fragment.text) == [catalogue["mobility"].id]
    assert "HX-Request" in fragment.headers["vary"] and "HX-Request" in full.headers["vary"]
    # The address changed, so the language links come along out of band, keeping the filters.
    assert '<nav class="language-switcher"' in fragment.text and 'hx-swap-oob="true"' in fragment.text
    assert 'href="/challenges?phase=accepting&amp;lang=en"' in fragment.text
    assert full.text.count('id="language-switcher"') == 1 and 'hx-swap-oob' not in full.text
    # A history restore asks for the whole page.
    restore = client.get("/challenges", headers=HX | {"HX-History-Restore-Request": "true"})
    assert restore.text.lstrip().startswith("<!doctype html>")


# --- list: languages and hostile content ------------------------------------------------------------


def test_list_in_english(client: TestClient[Litestar], catalogue: dict[str, Challenge]) -> None:
    html = client.get("/challenges?lang=en").text
    assert '<html lang="en">' in html and '<h1 id="challenges-title">Challenges</h1>' in html
    assert "Open for proposals" in html and "Proposal deadline soonest" in html
    assert f'lang="ja"><a href="/challenges/{catalogue["mobility"].id}">移動を支えたい</a>' in html
    assert "Proposals closed" in html  # the completed and closed challenges


def test_hostile_content_is_escaped_on_the_list(
    session: Session, client: TestClient[Litestar], world: World, xss_payloads: list[str]
) -> None:
    for payload in xss_payloads[:30]:
        create_challenge(session, world.transport, title=payload[:200], summary=payload[:1000], area=payload[:100])
    html = client.get("/challenges").text
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x onerror" not in html and "<svg/onload" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    fragment = client.get("/challenges", headers=HX).text
    assert "<script>alert(1)</script>" not in fragment


# --- detail ---------------------------------------------------------------------------------------


def test_detail_shows_the_challenge_in_full(session: Session, client: TestClient[Litestar], world: World) -> None:
    challenge = publish_challenge(session, world, co_owners=[world.env], schedule=default_schedule())
    cover = add_attachment(session, challenge, AttachmentKind.COVER, "高島平の団地", "cover.jpg", "image/jpeg")
    document = add_attachment(session, challenge, AttachmentKind.DOCUMENT, "募集要項")
    response = client.get(f"/challenges/{challenge.id}")
    assert response.status_code == 200
    html = response.text
    assert '<h1 id="challenge-title" lang="ja">高島平の移動を、誰もが気軽にできるようにしたい</h1>' in html
    assert f'<img src="/challenges/{challenge.id}/attachments/{cover.id}" alt="高島平の団地"' in html
    assert 'id="challenge-summary"' in html and "坂道と高齢化" in html
    assert "都市整備部 交通政策課" in html and "資源環境部 環境政策課" in html
    assert 'href="mailto:kotsu@example.jp"' in html and "03-3579-2222" in html
    assert '<dd id="budget-cap">上限 ￥3,000,000</dd>' in html
    assert "高島平の実証フィールド" in html and "乗降データ" in html
    assert "<strong>高齢化</strong>" in html  # Markdown rendered
    for section in ("background", "current-situation", "desired-outcome", "constraints", "eligibility",
                    "support", "criteria", "kpis", "attachments", "timeline", "challenge-owners"):
        assert f'id="{section}"' in html, section
    criteria = html.split('id="criteria"')[1].split("</section>")[0]
    assert "実現可能性" in criteria and "一年以内に実証できるか" in criteria and ">40%<" in criteria
    kpis = html.split('id="kpis"')[1].split("</section>")[0]
    assert re.search(r'<th scope="row" lang="ja">外出頻度</th>\s*<td>週2回</td>\s*<td>週3回</td>\s*<td>回/週</td>', kpis)
    assert f'<a href="/challenges/{challenge.id}/attachments/{document.id}" download>募集要項</a>' in html
    assert "(PDF, 244 KB)" in html
    assert f'<a href="/challenges/{challenge.id}/history" id="history-link">変更履歴</a>' in html
    assert html.index('id="challenge-title"') < html.index('id="timeline"') < html.index('id="criteria"')


def test_timeline_marks_the_current_phase(session: Session, client: TestClient[Litestar], world: World) -> None:
    schedule = default_schedule()
    challenge = publish_challenge(session, world, schedule=schedule)
    move(session, world, challenge, Phase.ACCEPTING, "早めに募集を開始します")
    html = client.get(f"/challenges/{challenge.id}").text
    timeline = html.split('<ol class="steps timeline" id="timeline-steps">')[1].split("</ol>")[0]
    steps = re.findall(r'<li id="timeline-(\w+)" class="timeline-step timeline-(\w+)"( aria-current="step")?', timeline)
    assert [s[0] for s in steps] == ["published", "accepting", "voting", "review", "decided", "trial", "completed"]
    assert [s[1] for s in steps] == ["done", "current", "upcoming", "upcoming", "upcoming", "upcoming", "upcoming"]
    assert [bool(s[2]) for s in steps] == [False, True, False, False, False, False, False]
    assert timeline.count('aria-current="step"') == 1
    assert "現在のフェーズ" in timeline
    voting = timeline.split('id="timeline-voting"')[1].split("</li>")[0]
    assert "開始予定" in voting  # planned date from the schedule
    accepting = timeline.split('id="timeline-accepting"')[1].split("</li>")[0]
    assert re.search(r"\d+日 開始</span>", accepting)  # actual start from the phase change

    # Moved on by mistake and back: the voting phase is upcoming again and shows its plan, not its false start.
    move(session, world, challenge, Phase.VOTING, "誤って進めました")
    move(session, world, challenge, Phase.ACCEPTING, "元に戻します")
    html = client.get(f"/challenges/{challenge.id}").text
    voting = html.split('id="timeline-voting"')[1].split("</li>")[0]
    assert "timeline-upcoming" in voting and "開始予定" in voting and not re.search(r"日 開始</span>", voting)


def test_closed_challenge_shows_its_reason_and_where_it_stopped(
    session: Session, client: TestClient[Litestar], world: World
) -> None:
    challenge = publish_challenge(session, world)
    move(session, world, challenge, Phase.ACCEPTING)
    move(session, world, challenge, Phase.CLOSED, "応募がありませんでした<script>x</script>")
    html = client.get(f"/challenges/{challenge.id}").text
    assert 'id="closed-reason"' in html and "応募がありませんでした&lt;script&gt;x&lt;/script&gt;" in html
    states = dict(re.findall(r'<li id="timeline-(\w+)" class="timeline-step timeline-(\w+)"', html))
    assert states == {"published": "done", "accepting": "done", "voting": "skipped", "review": "skipped",
                      "decided": "skipped", "trial": "skipped", "completed": "skipped", "closed": "current"}


def test_drafts_are_404_except_for_owning_staff(session: Session, client: TestClient[Litestar], world: World) -> None:
    draft = challenges.create_draft(session, world.actor(session), world.transport.id,  # type: ignore[arg-type]
                                    challenge_input(title="内緒の下書き"))
    for path in (f"/challenges/{draft.id}", f"/challenges/{draft.id}/history"):
        assert client.get(path).status_code == 404
    assert client.get("/challenges/999999").status_code == 404
    assert client.get("/challenges/abc").status_code == 404
    sign_in(client, world.env_staff)
    assert client.get(f"/challenges/{draft.id}").status_code == 404
    client.cookies.clear()
    sign_in(client, world.staff)
    own = client.get(f"/challenges/{draft.id}")
    assert own.status_code == 200 and 'id="draft-notice"' in own.text and "内緒の下書き" in own.text
    assert "内緒の下書き" not in client.get("/challenges").text  # never listed, even for its staff


def test_detail_in_english(session: Session, client: TestClient[Litestar], world: World) -> None:
    challenge = publish_challenge(session, world)
    html = client.get(f"/challenges/{challenge.id}?lang=en").text
    assert '<html lang="en">' in html
    assert "Evaluation criteria" in html and "KPI targets" in html and "Support offered" in html
    assert "Transport Policy Section, Urban Development Department" in html
    assert "Up to ¥3,000,000" in html
    assert 'aria-current="step"' in html and "Current phase" in html


def test_hostile_content_is_escaped_on_the_detail_page(
    session: Session, client: TestClient[Litestar], world: World, xss_payloads: list[str]
) -> None:
    hostile = "\n\n".join(xss_payloads)
    challenge = publish_challenge(
        session, world, title="<script>alert(1)</script>", summary='"><img src=x onerror=alert(1)>',
        background=hostile, desired_outcome="[x](javascript:alert(1))", constraints=hostile,
        support_data="<svg/onload=alert(1)>", contact_name='"><script>alert(2)</script>',
    )
    html = client.get(f"/challenges/{challenge.id}").text
    body = html.split('<main id="main"')[1]
    assert "<script>" not in body and "<img src=x" not in body and "<svg" not in body
    # Hostile text stays text: no element carries a script URL or an event handler.
    assert not re.search(r"<[a-zA-Z][^<>]*(javascript:|\son[a-z]+\s*=)", html), \
        re.search(r"<[a-zA-Z][^<>]*(javascript:|\son[a-z]+\s*=)", html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- history ---------------------------------------------------------------------------------------


def test_history_shows_what_changed_and_when(session: Session, client: TestClient[Litestar], world: World) -> None:
    challenge = publish_challenge(session, world)
    changed = challenge_input(
        title="高島平の移動を、もっと気軽にしたい",
        background="団地の**高齢化**が進んでいます。\n\n坂道も多い地域です。<script>x</script>",
        budget_cap_yen=5_000_000, category="urban_development", co_owners=[world.env.id],
        note="予算を増額しました<script>n</script>",
    )
    challenges.update(session, world.actor(session), challenge.id, changed)  # type: ignore[arg-type]
    move(session, world, challenge, Phase.ACCEPTING, "説明会を終えたため<b>x</b>")

    detail = client.get(f"/challenges/{challenge.id}").text
    assert "（公開後の変更 1件）" in detail
    html = client.get(f"/challenges/{challenge.id}/history").text
    revision = html.split('id="revision-1"')[1].split('id="phase-changes"')[0]
    assert "補足：予算を増額しました&lt;script&gt;n&lt;/script&gt;" in revision
    title = revision.split('id="revision-1-title"')[1].split("</div>")[0]
    assert "<h4>タイトル</h4>" in title
    assert "<del lang=\"ja\">高島平の移動を、誰もが気軽にできるようにしたい</del>" in title
    assert "<ins lang=\"ja\">高島平の移動を、もっと気軽にしたい</ins>" in title
    budget = revision.split('id="revision-1-budget-cap-yen"')[1].split("</div>")[0]
    assert "<h4>予算上限</h4>" in budget and "￥3,000,000" in budget and "￥5,000,000" in budget
    category = revision.split('id="revision-1-category"')[1].split("</div>")[0]
    assert "交通・モビリティ" in category and "まちづくり" in category
    background = revision.split('id="revision-1-background"')[1].split("</div>")[0]
    assert '<li class="diff-added"><span class="visually-hidden">追加： </span><ins>' in background
    assert "坂道も多い地域です。&lt;script&gt;x&lt;/script&gt;" in background and "<script>x" not in background
    owners = revision.split('id="revision-1-owners"')[1].split("</div>")[0]
    assert "資源環境部 環境政策課" in owners
    phase_changes = html.split('id="phase-changes"')[1]
    assert "理由：説明会を終えたため&lt;b&gt;x&lt;/b&gt;" in phase_changes and "「質疑受付中」から「提案募集中」へ" in phase_changes
    assert "<script>n" not in html and "<b>x" not in html
    english = client.get(f"/challenges/{challenge.id}/history?lang=en").text
    assert "<h4>Title</h4>" in english and "<h4>Budget cap</h4>" in english and "Change history" in english


def test_history_without_edits_says_so(session: Session, client: TestClient[Litestar], world: World) -> None:
    challenge = publish_challenge(session, world)
    html = client.get(f"/challenges/{challenge.id}/history").text
    assert 'id="no-revisions"' in html


def test_line_diff_marks_changed_characters_and_folds_unchanged_lines() -> None:
    before = "\n".join(["一行目", "二行目", "三行目", "四行目", "五行目", "バスは1時間に2本です。"])
    after = "\n".join(["一行目", "二行目", "三行目", "四行目", "五行目", "バスは1時間に4本です。"])
    lines = line_diff(before, after)
    assert [line.kind for line in lines] == ["gap", "same", "removed", "added"]
    assert lines[0].segments == (("4", False),)
    assert lines[2].segments == (("バスは1時間に", False), ("2", True), ("本です。", False))
    assert lines[3].segments == (("バスは1時間に", False), ("4", True), ("本です。", False))
    assert [line.kind for line in line_diff("", "新しい段落")] == ["added"]
    assert [line.kind for line in line_diff("a\nb", "c")] == ["removed", "removed", "added"]
    assert [line.kind for line in line_diff("段落一", "段落一\n\n段落二")] == ["same", "added"]  # blank lines skipped


def test_home_cards_say_when_proposals_are_closed(
    client: TestClient[Litestar], catalogue: dict[str, Challenge]
) -> None:
    html = client.get("/").text
    mobility = html.split(f'id="challenge-{catalogue["mobility"].id}"')[1].split("</li>")[0]
    assert "提案締切" in unescape(mobility) or "まで" in mobility
    health = html.split(f'id="challenge-{catalogue["health"].id}"')[1].split("</li>")[0]
    assert "提案受付終了" in health and "まで" not in health
    assert f'href="/challenges/{catalogue["health"].id}"' in health
    assert 'href="/challenges" id="all-challenges-link"' in html
