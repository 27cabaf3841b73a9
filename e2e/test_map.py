"""Journey: the map of everything (/map, issue 18 item 3) in a real browser, on the demo's content.

- Without JavaScript the page is the list of places, grouped by kind; its filters are a plain GET form.
- With JavaScript and tiles the Leaflet map is drawn above the list, dense places in clusters; every marker
  is a button reached with the keyboard, and Enter opens its popup with a link to its page. The live server
  has no internet: the browser is given a tiny local tile for the configured tile server's addresses.
- With JavaScript but tiles that fail to load, the map is removed again and a note says the list shows all.

Every state passes axe in Japanese and English (axe runs with script; the list without the map is checked
as the page is once tiles failed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from e2e.journey import Checker
from tests.proposals.staff_helpers import png_bytes

TILES = re.compile(r"^https://tile\.openstreetmap\.org/")
"""The demo's tile server (the default ``map_tile_url``), which the browser may not reach from here."""
TILE = png_bytes(8, 8)


def _context(browser: Browser, base_url: str, *, javascript: bool) -> BrowserContext:
    return browser.new_context(base_url=base_url, locale="ja-JP", timezone_id="Asia/Tokyo",
                               viewport={"width": 1280, "height": 900}, java_script_enabled=javascript)


@pytest.fixture
def no_script(browser: Browser, base_url: str) -> Iterator[Page]:
    context = _context(browser, base_url, javascript=False)
    yield context.new_page()
    context.close()


@pytest.fixture
def with_tiles(browser: Browser, base_url: str) -> Iterator[Page]:
    """JavaScript on, and every tile answered with a small local image (as a reachable tile server would)."""
    context = _context(browser, base_url, javascript=True)

    def tile(route: Route) -> None:
        route.fulfill(status=200, content_type="image/png", body=TILE)

    context.route(TILES, tile)
    yield context.new_page()
    context.close()


@pytest.fixture
def failing_tiles(browser: Browser, base_url: str) -> Iterator[Page]:
    """JavaScript on, and the tile server unreachable."""
    context = _context(browser, base_url, javascript=True)
    context.route(TILES, lambda route: route.abort("internetdisconnected"))
    yield context.new_page()
    context.close()


def test_without_javascript_the_map_is_a_list_with_filters(no_script: Page, artifacts_dir: Path) -> None:
    page = no_script
    page.goto("/")
    page.locator("#nav-map").click()
    expect(page).to_have_url(re.compile(r"/map$"))
    expect(page.locator("#map-list")).to_be_visible()
    expect(page.locator("#map-view")).to_be_hidden()
    fields = page.locator("#map-layer-fields li.map-item")
    expect(fields.first).to_be_visible()
    field_count = fields.count()
    assert field_count >= 2
    expect(page.locator("#map-layer-trials li.map-item").first).to_be_visible()
    expect(page.locator("#map-layer-challenges .map-approximate").first).to_be_visible()
    page.screenshot(path=artifacts_dir / "map-no-js-list.png", full_page=True)  # axe needs script: see below

    # Only test fields, in the Takashimadaira area: a GET form, no script needed.
    for name in ("voices", "challenges", "trials"):
        page.locator(f"#filter-layer-{name}").uncheck()
    page.locator("#filter-area").select_option("takashimadaira")
    page.locator("#apply-map-filters").click()
    expect(page).to_have_url(re.compile(r"/map\?layer=fields&area=takashimadaira"))
    expect(page.locator("#map-layer-trials")).to_have_count(0)
    expect(page.locator("#map-layer-fields li.map-item")).to_have_count(field_count)
    page.locator("#map-layer-fields li.map-item a").first.click()
    expect(page).to_have_url(re.compile(r"/fields/\d+$"))
    page.goto("/map?area=nowhere&lang=en")
    expect(page.locator("#map-filter-note")).to_be_visible()
    expect(page.locator("#map-layer-fields li.map-item").first).to_be_visible()


def test_with_javascript_the_map_is_drawn_above_the_list(with_tiles: Page, artifacts_dir: Path) -> None:
    page = with_tiles
    checker = Checker("map-js", artifacts_dir)
    page.goto("/map")
    expect(page.locator("#map-view")).to_be_visible()
    expect(page.locator("#map-canvas .leaflet-tile-loaded").first).to_be_attached()
    expect(page.locator("#map-legend li")).to_have_count(page.locator("#map-list section.map-group").count() + 1)
    places = page.locator("#map-canvas .map-marker, #map-canvas .map-cluster")
    expect(places.first).to_be_visible()
    expect(page.locator("#map-list")).to_be_visible()  # the list stays: the accessible equivalent
    expect(page.locator("#map-fallback")).to_be_hidden()
    checker.check(page, "map with markers", "map")

    # Keyboard: from the map, Tab reaches a place (a marker or a cluster, each a button).
    page.locator("#map-canvas").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className + ' ' + document.activeElement.getAttribute('role')")
    assert ("map-marker" in focused or "map-cluster" in focused) and focused.endswith(" button"), focused
    # Clusters open with Enter until a single marker shows; Enter on it opens its popup.
    for _ in range(8):
        if page.locator("#map-canvas .map-marker").count():
            break
        cluster = page.locator("#map-canvas .map-cluster").first
        expect(cluster).to_have_attribute("role", "button")
        cluster.focus()
        page.keyboard.press("Enter")
        page.wait_for_timeout(600)
    marker = page.locator("#map-canvas .map-marker").first
    expect(marker).to_have_attribute("role", "button")
    expect(marker).to_have_attribute("tabindex", "0")
    expect(marker).to_have_attribute("aria-label", re.compile(r".+: .+"))
    marker.focus()
    page.keyboard.press("Enter")
    link = page.locator(".leaflet-popup .map-popup-title a")
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert href and re.match(r"^/(fields|trials|challenges|voices)/\d+$", href)
    checker.check(page, "map with a popup open", "popup")
    checker.in_english(page, "/map", "map with markers", "map")


def test_when_tiles_fail_the_list_remains(failing_tiles: Page, artifacts_dir: Path) -> None:
    page = failing_tiles
    checker = Checker("map-tiles-fail", artifacts_dir)
    page.goto("/map")
    expect(page.locator("#map-fallback")).to_be_visible()
    expect(page.locator("#map-view")).to_be_hidden()
    expect(page.locator("#map-canvas .leaflet-tile")).to_have_count(0)
    expect(page.locator("#map-layer-fields li.map-item").first).to_be_visible()
    # The list as the page is without the map (axe runs only with script: this is the no-JS page plus a note).
    checker.check(page, "map whose tiles failed", "fallback")
    checker.in_english(page, "/map?area=nowhere", "map whose tiles failed, with an ignored filter", "fallback")
    expect(page.locator("#map-filter-note")).to_be_visible()
