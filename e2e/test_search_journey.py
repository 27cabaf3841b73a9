"""Journey: a visitor searches from the header box, refines the words as they type and filters by type.

The demo content is indexed by ``cocreate demo`` (it rebuilds the index) before the server starts.
Results update in place as the visitor types (htmx; the page is not reloaded, the address, the title,
the live region and the language links follow), a type filter is kept while typing, and the search and
help pages pass axe in Japanese and English. Other journeys share the server, so nothing here counts
results exactly: it checks what the results are.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Page, expect

from e2e.journey import Checker
from tests.servers import wait_until

INDEX_TIMEOUT = 60


def _encoded(text: str) -> str:
    return re.escape(quote(text))


def _wait_for_results(page: Page, path: str) -> None:
    """Open ``path`` until the index answers (in case the worker is still draining changes)."""
    def answered() -> bool:
        page.goto(path)
        return page.locator("#search-hits > li").count() > 0

    wait_until(answered, INDEX_TIMEOUT, f"results at {path} (was the demo content indexed?)", interval=0.5)


def _keys(page: Page) -> list[str]:
    return page.locator("#search-hits > li").evaluate_all("items => items.map(item => item.dataset.key)")


def test_search_from_the_header_as_you_type_with_a_filter(page: Page, artifacts_dir: Path) -> None:
    checker = Checker("search-journey", artifacts_dir)

    # --- 1. The help page first, in both languages ---------------------------------------------------
    page.goto("/search")
    expect(page.get_by_role("heading", level=1)).to_have_text("検索")
    expect(page.locator("#search-help")).to_be_visible()
    expect(page.locator("#header-search")).to_have_count(0)  # the page's own box stands in for it
    checker.check(page, "search help", "help")
    checker.in_english(page, "/search", "search help", "help")
    _wait_for_results(page, "/search?q=" + quote("高島平"))

    # --- 2. The header box on another page: type and press Enter -------------------------------------
    page.goto("/challenges")
    header_box = page.get_by_role("searchbox", name="サイト内を検索")
    expect(header_box).to_be_visible()
    header_box.fill("高島平")
    header_box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=" + _encoded("高島平") + "$"))
    expect(page.locator("#search-q")).to_have_value("高島平")
    expect(page.locator("#search-count")).to_contain_text("件")
    expect(page.locator("#search-hits mark").first).to_be_visible()  # the matched words are highlighted
    expect(page.locator("#facet-type")).to_be_visible()
    checker.check(page, "search results", "results")

    # --- 3. Results update as the visitor types (no reload; the address and language links follow) ---
    page.evaluate("() => { window.searchJourneyMarker = true; }")
    page.locator("#search-q").fill("バス停")
    expect(page).to_have_url(re.compile(r"/search\?q=" + _encoded("バス停") + "$"))
    expect(page.locator("#search-hits")).to_contain_text("バス停")
    expect(page.locator("#search-hits")).not_to_contain_text("熱帯環境植物館")
    expect(page.locator("#switch-to-en")).to_have_attribute("href", re.compile(r"q=" + _encoded("バス停")))
    expect(page).to_have_title(re.compile("バス停"))
    expect(page.locator("#search-status")).to_contain_text("バス停")  # the live region announces the count
    assert page.evaluate("() => window.searchJourneyMarker === true"), "the page was reloaded"

    # --- 4. Filter by type; the filter is kept while typing ------------------------------------------
    page.locator("#facet-type a[data-value='question']").click()
    expect(page).to_have_url(re.compile(r"type=question"))
    expect(page.locator("#facet-type a[aria-current='true']")).to_have_attribute("data-value", "question")
    assert _keys(page) and all(key.startswith("question:") for key in _keys(page)), _keys(page)
    page.locator("#search-q").fill("高島平")
    expect(page).to_have_url(re.compile(r"/search\?q=" + _encoded("高島平") + "&type=question$"))
    expect(page.locator("#search-count")).to_contain_text("高島平")
    assert _keys(page) and all(key.startswith("question:") for key in _keys(page)), _keys(page)
    assert page.evaluate("() => window.searchJourneyMarker === true"), "the page was reloaded"
    checker.check(page, "search results filtered by type", "filtered")

    # --- 5. Remove the filter: every type is back ---------------------------------------------------
    page.locator("#facet-type a[aria-current='true']").click()
    expect(page).to_have_url(re.compile(r"/search\?q=" + _encoded("高島平") + "$"))
    expect(page.locator("#search-hits > li[data-key^='challenge:']").first).to_be_visible()

    # --- 6. In English, with the filter in the address ---------------------------------------------
    checker.in_english(page, "/search?q=" + quote("高島平") + "&type=question", "search results", "filtered")
    page.goto("/search?q=" + quote("高島平") + "&lang=en")
    expect(page.locator("#search-count")).to_contain_text("results for")
    page.goto("/search?lang=ja")
