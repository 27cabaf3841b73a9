"""The search page and the search API: results, snippets, filters with counts, pages, htmx, bad input.

Content is made with the factories and indexed with ``indexer.process_pending`` (what the worker does
after each commit), then searched through the web app in both languages. The page and the API read only
the index, so the database does not matter here: these tests run on SQLite.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate import i18n
from cocreate.db import Database
from cocreate.search import indexer, registry
from cocreate.settings import Settings
from proposals.models import Category, Phase
from tests.factories import create_challenge, create_department, create_organisation, create_proposal
from tests.helpers import QueryLog

pytestmark = pytest.mark.databases("sqlite", why="the search pages read only the index")

HX = {"HX-Request": "true"}




@pytest.fixture
def indexed(database: Database, settings: Settings):  # type: ignore[no-untyped-def]
    """Index what changed since the last call (what the worker does after each commit)."""

    def index() -> None:
        indexer.process_pending(database, settings)

    return index


def hit_keys(html: str) -> list[str]:
    """Document keys of the results on a page, in order."""
    return re.findall(r'<li class="search-hit" id="hit-[^"]+" data-key="([^"]+)">', html)


def label(type_: str, locale: str) -> str:
    with i18n.using_locale(locale):
        return str(registry.sources()[type_].label())


@pytest.fixture
def content(session: Session, indexed) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """A Japanese and an English challenge, and a proposal on the Japanese one, indexed."""
    department = create_department(session)
    moving = create_challenge(session, department, phase="accepting", title="引っ越し手続きをオンラインで完結したい",
                              summary="転入・転出の窓口の待ち時間を減らしたい。", category="admin_dx", area="高島平")
    buses = create_challenge(session, department, phase="published", title="Community buses for Takashimadaira",
                             summary="Running more buses in the evening for elderly residents.",
                             category="transport_mobility", area="志村")
    organisation = create_organisation(session, "いたばし引越しサービス株式会社", verified=True)
    proposal = create_proposal(session, moving, organisation, title="引越しの案内をチャットで届ける",
                               summary="チャットボットで引越しの手続きを案内します。",
                               confidential="ひみつの原価 引越し 999万円")
    indexed()
    return {"moving": moving, "buses": buses, "proposal": proposal}


# --- the page ---------------------------------------------------------------------------------------


def test_snippets_show_text_not_markdown(session: Session, indexed, client: TestClient[Litestar]) -> None:  # type: ignore[no-untyped-def]
    challenge = create_challenge(session, create_department(session), phase="accepting", title="空き店舗の活用",
                                 summary="## どんな場所か\n\n**商店街**の[空き店舗](https://example.jp)を使いたい。\n\n- 一階\n- 二階")
    indexed()
    html = client.get("/search", params={"q": "商店街"}).text
    assert f'id="hit-challenge-{challenge.id}"' in html
    snippet = html.split('class="search-snippet"', 1)[1].split("</p>", 1)[0]
    assert "どんな場所か" in snippet and "<mark>商店街</mark>" in snippet
    for syntax in ("##", "**", "](", "- 一階"):
        assert syntax not in snippet, snippet


def test_empty_search_explains_what_can_be_found(client: TestClient[Litestar]) -> None:
    response = client.get("/search")
    assert response.status_code == 200
    html = response.text
    assert '<h1 id="search-title">検索</h1>' in html
    assert 'id="search-help"' in html
    assert 'id="search-count"' not in html
    assert '<label for="search-q">' in html
    assert 'role="search"' in html and 'action="/search"' in html
    assert 'id="header-search"' not in html  # the page's own box replaces the header's

    english = client.get("/search?lang=en").text
    assert '<html lang="en">' in english
    assert "Search finds public challenges, proposals, questions and answers, trials and test fields." in english
    # Blank queries are an empty search, not an error.
    assert 'id="search-help"' in client.get("/search?q=%20%20%20").text
    # A filter without words is kept for the next search, and said so.
    kept = client.get("/search?type=challenge&lang=en").text
    assert 'id="search-active-filters"' in kept and "Challenge</span>" in kept
    assert '<input type="hidden" form="search-form" name="type" value="challenge">' in kept


def test_header_box_on_every_page_works_without_javascript(client: TestClient[Litestar]) -> None:
    html = client.get("/").text
    form = re.search(r'<form class="header-search" id="header-search" method="get" action="/search" '
                     r'role="search"[^>]*>(.*?)</form>', html, re.S)
    assert form is not None
    assert '<label for="header-search-q"' in form.group(1)
    assert 'name="q"' in form.group(1)
    assert "search.css" in html
    assert 'id="header-search"' in client.get("/challenges?lang=en").text


def test_results_in_japanese_with_variants_snippets_and_labels(
    client: TestClient[Litestar], content: dict[str, object]
) -> None:
    moving, proposal = content["moving"], content["proposal"]
    response = client.get("/search", params={"q": "引越し"})
    assert response.status_code == 200
    html = response.text
    keys = hit_keys(html)
    assert set(keys) == {f"challenge:{moving.id}", f"proposal:{proposal.id}"}  # type: ignore[attr-defined]
    assert f'<a href="/challenges/{moving.id}">引っ越し手続きをオンラインで完結したい</a>' in html  # type: ignore[attr-defined]
    assert f'href="/proposals/{proposal.id}"' in html  # type: ignore[attr-defined]
    assert "<mark>" in html  # the matched words are highlighted
    assert f'<span class="tag tag-type">{label("challenge", "ja")}</span>' in html
    assert f'<span class="tag tag-type">{label("proposal", "ja")}</span>' in html
    with i18n.using_locale("ja"):
        phase, category = Phase.ACCEPTING.label, Category.ADMIN_DX.label
    assert f'<span class="tag tag-phase">{phase}</span>' in html  # the phase and category, translated
    assert f'<span class="tag">{category}</span>' in html
    assert "ひみつの原価" not in html and "999万円" not in html  # never the confidential part
    assert "引越し" in html.split("</title>")[0]
    count = re.search(r'<p id="search-count"[^>]*>\s*(.*?)\s*</p>', html, re.S)
    assert count is not None and "2" in count.group(1)


def test_results_in_english_are_stemmed_and_labelled_in_english(
    client: TestClient[Litestar], content: dict[str, object]
) -> None:
    buses = content["buses"]
    html = client.get("/search", params={"q": "bus", "lang": "en"}).text
    assert hit_keys(html) == [f"challenge:{buses.id}"]  # type: ignore[attr-defined]
    assert '<html lang="en">' in html
    assert f'<span class="tag tag-type">{label("challenge", "en")}</span>' in html
    assert "Showing 1–1 of 1 results for “bus”" in html
    assert "Shimura area" in html  # the area's name, not its slug
    assert '<h3 class="search-hit-title" lang="en">' in html


def test_nothing_found_suggests_what_to_do(client: TestClient[Litestar], content: dict[str, object]) -> None:
    html = client.get("/search", params={"q": "存在しない言葉ぴよぴよ"}).text
    assert hit_keys(html) == []
    assert 'id="search-empty"' in html


def test_facets_count_filter_and_keep_the_query(client: TestClient[Litestar], content: dict[str, object]) -> None:
    moving, proposal = content["moving"], content["proposal"]
    html = client.get("/search", params={"q": "引越し", "lang": "en"}).text
    facets = re.search(r'<ul class="facet-options" id="facet-type"[^>]*>(.*?)</ul>', html, re.S)
    assert facets is not None
    links = dict(re.findall(r'<a href="([^"]+)" id="facet-type-\d+" data-value="([^"]+)"', facets.group(1)))
    by_value = {value: unescape(url) for url, value in links.items()}
    assert set(by_value) == {"challenge", "proposal"}
    assert "(1)" in facets.group(1)
    proposal_url = by_value["proposal"]
    assert parse_qs(urlsplit(proposal_url).query) == {"q": ["引越し"], "type": ["proposal"]}

    filtered = client.get(proposal_url + "&lang=en").text
    assert hit_keys(filtered) == [f"proposal:{proposal.id}"]  # type: ignore[attr-defined]
    # The applied filter travels with the search form, so typing a new query keeps it.
    assert '<input type="hidden" form="search-form" name="type" value="proposal">' in filtered
    assert 'aria-current="true" class="facet-selected"' in filtered
    assert "Remove filter:" in filtered
    assert 'id="search-clear-filters"' in filtered

    # Other filters by their values: a phase and a category.
    by_phase = client.get("/search", params={"q": "引越し", "phase": "accepting"}).text
    assert set(hit_keys(by_phase)) == {f"challenge:{moving.id}", f"proposal:{proposal.id}"}  # type: ignore[attr-defined]
    assert hit_keys(client.get("/search", params={"q": "引越し", "phase": "voting"}).text) == []
    by_category = client.get("/search", params={"q": "bus", "category": "transport_mobility"}).text
    assert len(hit_keys(by_category)) == 1
    assert hit_keys(client.get("/search", params={"q": "bus", "category": "admin_dx"}).text) == []
    by_area = client.get("/search", params={"q": "bus", "area": "shimura"}).text
    assert len(hit_keys(by_area)) == 1


def test_pages_of_results(client: TestClient[Litestar], session: Session, indexed) -> None:  # type: ignore[no-untyped-def]
    department = create_department(session)
    for number in range(23):
        create_challenge(session, department, title=f"防災訓練のアイデア その{number}", summary="防災訓練を楽しくしたい。",
                         category="disaster_safety")
    indexed()
    first = client.get("/search", params={"q": "防災訓練", "lang": "en"}).text
    assert len(hit_keys(first)) == 20
    assert "Showing 1–20 of 23 results" in first
    assert 'href="/search?q=%E9%98%B2%E7%81%BD%E8%A8%93%E7%B7%B4&amp;page=2" rel="next"' in first
    second = client.get("/search", params={"q": "防災訓練", "page": "2", "lang": "en"}).text
    assert len(hit_keys(second)) == 3
    assert set(hit_keys(first)).isdisjoint(hit_keys(second))
    assert '<ol class="search-hit-list" id="search-hits" start="21">' in second
    # Junk and out-of-range pages are not errors.
    assert hit_keys(client.get("/search", params={"q": "防災訓練", "page": "abc"}).text) == hit_keys(first)
    assert client.get("/search", params={"q": "防災訓練", "page": "-3"}).status_code == 200
    far = client.get("/search", params={"q": "防災訓練", "page": "999999999999999999999"})
    assert far.status_code == 200


def test_htmx_gets_the_results_region_and_the_address_follows(
    client: TestClient[Litestar], content: dict[str, object]
) -> None:
    response = client.get("/search", params={"q": "bus", "type": "challenge"}, headers=HX)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["vary"]
    html = response.text
    assert "<html" not in html and 'id="search-form"' not in html
    assert '<section id="search-results"' in html
    assert len(hit_keys(html)) == 1
    # The language links and the title follow the pushed address.
    switcher = re.search(r'<nav class="language-switcher"[^>]*hx-swap-oob="true"[^>]*>(.*?)</nav>', html, re.S)
    assert switcher is not None
    assert "/search?q=bus&amp;type=challenge&amp;lang=en" in switcher.group(1)
    assert re.search(r"<title>[^<]*bus[^<]*</title>", html)
    status = re.search(r'<p id="search-status" hx-swap-oob="innerHTML">(.*?)</p>', html, re.S)
    assert status is not None and "「bus」" in status.group(1)  # the live region outside the region hears it
    # The full page (no htmx) has the form with its live-search attributes.
    page = client.get("/search", params={"q": "bus"}).text
    form = re.search(r'<form id="search-form"[^>]*>', page, re.S)
    assert form is not None
    for attribute in ('hx-get="/search"', 'hx-target="#search-results"', 'hx-push-url="true"', "delay:"):
        assert attribute in form.group(0)


def test_bad_parameters_are_ignored_or_cut_never_an_error(
    client: TestClient[Litestar], content: dict[str, object]
) -> None:
    unknown_type = client.get("/search", params={"q": "bus", "type": "secret_drafts", "lang": "en"})
    assert unknown_type.status_code == 200
    assert "Some filter values were not recognised and have been ignored." in unknown_type.text
    assert len(hit_keys(unknown_type.text)) == 1  # searched without the unknown type
    huge = client.get("/search", params={"q": "bus " * 5000, "lang": "en"})
    assert huge.status_code == 200
    assert "Your search was shortened to its first 200 characters." in huge.text
    value = re.search(r'id="search-q" name="q" value="([^"]*)"', huge.text)
    assert value is not None and len(unescape(value.group(1))) == 200
    long_filter = client.get("/search", params={"q": "bus", "area": "x" * 5000, "lang": "en"})
    assert long_filter.status_code == 200 and "have been ignored" in long_filter.text
    for query in ("*", "?", "AND", "OR NOT", '"', "(", "title:x", "a" * 200, "\u0000", "引越し OR", "~~~", "[]{}^"):
        assert client.get("/search", params={"q": query}).status_code == 200, query
    wrong_types = client.get("/search?q=bus&q=other&page=1&page=2&type=&phase=")
    assert wrong_types.status_code in (200, 400)


def test_hostile_text_is_escaped(
    client: TestClient[Litestar], session: Session, indexed, xss_payloads: list[str]  # type: ignore[no-untyped-def]
) -> None:
    department = create_department(session)
    for number, payload in enumerate(xss_payloads[:15]):
        create_challenge(session, department, title=f"悪意のある題名 {number} {payload}"[:200],
                         summary=f"悪意のある本文 {payload}"[:500])
    indexed()
    html = client.get("/search", params={"q": "悪意"}).text
    assert len(hit_keys(html)) >= 10
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x onerror" not in html and "<svg/onload" not in html
    assert "&lt;script&gt;" in html
    echoed = client.get("/search", params={"q": '"><script>alert(1)</script>'}).text
    assert "<script>alert(1)</script>" not in echoed
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in echoed


def test_withdrawn_proposal_leaves_the_results(
    client: TestClient[Litestar], session: Session, content: dict[str, object], indexed  # type: ignore[no-untyped-def]
) -> None:
    from proposals.models import ProposalStatus

    proposal = content["proposal"]
    key = f"proposal:{proposal.id}"  # type: ignore[attr-defined]
    assert key in hit_keys(client.get("/search", params={"q": "チャット"}).text)
    proposal.status = ProposalStatus.WITHDRAWN  # type: ignore[attr-defined]
    session.add(proposal)
    session.commit()
    indexed()
    assert key not in hit_keys(client.get("/search", params={"q": "チャット"}).text)


def test_the_page_does_not_query_the_database_per_result(
    client: TestClient[Litestar], session: Session, indexed, query_log: QueryLog  # type: ignore[no-untyped-def]
) -> None:
    department = create_department(session)
    create_challenge(session, department, title="公園の清掃 ただひとつ", category="urban_development")
    indexed()
    query_log.statements.clear()
    assert len(hit_keys(client.get("/search", params={"q": "ただひとつ"}).text)) == 1
    with_one = query_log.count
    for number in range(15):
        create_challenge(session, department, title=f"公園の清掃 その{number}", category="urban_development")
    indexed()
    query_log.statements.clear()
    assert len(hit_keys(client.get("/search", params={"q": "公園の清掃"}).text)) == 16
    assert query_log.count == with_one, str(query_log)


# --- the API ----------------------------------------------------------------------------------------


def test_api_search(client: TestClient[Litestar], content: dict[str, object]) -> None:
    moving, proposal = content["moving"], content["proposal"]
    response = client.get("/api/v1/search", params={"q": "引越し", "per_page": "1"})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "引越し"
    assert body["page"]["total"] == 2 and body["page"]["pages"] == 2 and body["page"]["previous"] is None
    assert body["page"]["next"] == "/api/v1/search?q=%E5%BC%95%E8%B6%8A%E3%81%97&page=2&per_page=1"
    (item,) = body["items"]
    assert item["key"] in {f"challenge:{moving.id}", f"proposal:{proposal.id}"}  # type: ignore[attr-defined]
    assert "<mark>" in item["snippet_html"]
    assert body["facets"]["type"] == {"challenge": 1, "proposal": 1}
    second = client.get(body["page"]["next"]).json()
    assert {item["key"], second["items"][0]["key"]} == {f"challenge:{moving.id}", f"proposal:{proposal.id}"}  # type: ignore[attr-defined]

    only = client.get("/api/v1/search", params={"q": "引越し", "type": "proposal"}).json()
    assert [i["key"] for i in only["items"]] == [f"proposal:{proposal.id}"]  # type: ignore[attr-defined]
    assert only["items"][0]["type_label"] == label("proposal", "ja")
    assert "999万円" not in response.text

    index = client.get("/api/v1").json()
    assert index["resources"]["search"] == "/api/v1/search"
    schema = client.get("/schema/openapi.json").json()
    operation = schema["paths"]["/api/v1/search"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"q", "type", "phase", "category", "area", "page",
                                                           "per_page"}


BAD_API_QUERIES = (
    "", "q=", "q=%20%20", "q=" + "x" * 201, "q=bus&type=secret", "q=bus&page=abc", "q=bus&page=0",
    "q=bus&page=100000", "q=bus&per_page=1000", "q=bus&per_page=x", "q=bus&area=" + "y" * 101,
)


def test_api_rejects_bad_parameters_with_400(client: TestClient[Litestar]) -> None:
    for query in BAD_API_QUERIES:
        response = client.get("/api/v1/search?" + query)
        assert response.status_code == 400, (query, response.text)
        assert response.headers["content-type"].startswith("application/json")
