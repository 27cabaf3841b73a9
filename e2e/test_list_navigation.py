"""Journey: from every list to a detail page and back, with JavaScript on and off.

Filters, sort and page links swap the results region in place (htmx) and push the address; every
other link in the region (a card, a search hit) is an ordinary link. The regression this pins: a
boosted results region loaded the whole detail page *inside* the list (a second site header and h1)
and often left the address at the list, so reload, back and sharing broke.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from e2e.test_search_journey import _wait_for_results


def _one_page(page: Page) -> None:
    """The page is one page: one site header, one h1 (nothing nested inside a list)."""
    expect(page.locator("header.site-header")).to_have_count(1)
    expect(page.locator("h1")).to_have_count(1)


def _open_and_return(page: Page, link_selector: str, detail_url: re.Pattern[str], list_url: re.Pattern[str],
                     list_marker: str) -> None:
    link = page.locator(link_selector).first
    href = link.get_attribute("href")
    assert href, f"no link at {link_selector}"
    title = link.inner_text().strip()
    link.click()
    expect(page).to_have_url(detail_url)
    assert page.url.endswith(href), (page.url, href)
    _one_page(page)
    expect(page.locator("main")).to_contain_text(title[:10])
    page.reload()  # the address names what is shown
    expect(page.locator("main")).to_contain_text(title[:10])
    page.go_back()
    expect(page).to_have_url(list_url)
    expect(page.locator(list_marker)).to_be_visible()
    _one_page(page)


def test_challenge_list_filters_in_place_and_cards_open_the_challenge(visitor: tuple[Page, bool]) -> None:
    page, javascript = visitor
    page.goto("/challenges")
    _one_page(page)
    expect(page.locator("#challenge-list > li").first).to_be_visible()
    # A filter: swapped in place with JavaScript, a new page without; the address says it either way.
    page.select_option("#filter-category", index=1)
    if not javascript:
        page.locator("#challenge-filters [type=submit]").click()
    expect(page).to_have_url(re.compile(r"/challenges\?.*category="))
    _one_page(page)
    if page.locator("#challenge-list > li").count() == 0:  # the first category may be empty: back to all
        page.goto("/challenges")
    _open_and_return(page, "#challenge-list > li h3 a", re.compile(r"/challenges/\d+$"),
                     re.compile(r"/challenges(\?.*)?$"), "#challenge-results")


def test_search_hits_open_the_page_and_facets_filter_in_place(visitor: tuple[Page, bool]) -> None:
    page, _javascript = visitor
    _wait_for_results(page, "/search?q=" + quote("高島平"))
    _one_page(page)
    facet = page.locator("#search-facets a").first
    expect(facet).to_be_visible()
    facet.click()
    expect(page).to_have_url(re.compile(r"/search\?.*q=.*&"))
    _one_page(page)
    _open_and_return(page, "#search-hits .search-hit-title a",
                     re.compile(r"/(challenges|proposals|trials|fields|questions)/"), re.compile(r"/search\?"),
                     "#search-results")



@pytest.mark.parametrize(("list_path", "link", "detail"), [
    ("/trials", "#trial-list > li h3 a", r"/trials/\d+$"),
    ("/fields", "#field-results li h3 a", r"/fields/\d+$"),
])
def test_trial_and_field_lists_open_their_pages(visitor: tuple[Page, bool], list_path: str, link: str,
                                                detail: str) -> None:
    page, _javascript = visitor
    page.goto(list_path)
    _one_page(page)
    _open_and_return(page, link, re.compile(detail), re.compile(re.escape(list_path) + r"(\?.*)?$"),
                     "main h1")


def test_proposal_list_filters_in_place_and_cards_open_the_proposal(visitor: tuple[Page, bool]) -> None:
    page, javascript = visitor
    page.goto("/challenges?phase=voting")
    page.locator("#challenge-list > li h3 a").first.click()
    expect(page).to_have_url(re.compile(r"/challenges/\d+$"))
    challenge_path = page.url.split("://", 1)[1].split("/", 1)[1]
    page.goto(f"/{challenge_path}/proposals")
    _one_page(page)
    expect(page.locator("#proposal-list > li").first).to_be_visible()
    # A sort: in place with JavaScript, a new page without; the address says it either way.
    page.select_option("#filter-sort", "votes")
    if not javascript:
        page.locator("#apply-filters").click()
    expect(page).to_have_url(re.compile(r"/proposals\?.*sort="))
    _one_page(page)
    _open_and_return(page, "#proposal-list > li h3 a", re.compile(r"/proposals/\d+$"),
                     re.compile(r"/challenges/\d+/proposals(\?.*)?$"), "#proposal-results")
