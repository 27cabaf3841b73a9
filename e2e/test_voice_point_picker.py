"""Journey: a resident chooses the point of a voice on a map (issue 18), in a real browser.

- With JavaScript and tiles, a Leaflet map appears under the latitude and longitude fields of /voices/new:
  clicking it places a marker and fills both fields; typing in the fields moves the marker; "use the centre
  of the chosen area" and "clear the point" do what they say. The posted voice has the clicked point, and
  its page shows it on a small map beside the text and the OpenStreetMap link. The live server has no
  internet: the browser is given a tiny local tile for the configured tile server's addresses.
- When the tiles fail, the map is removed again and the form is the plain one (the fields still work).

Every state with the map passes axe in Japanese and English.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from e2e.journey import Checker, sign_in
from tests.proposals.staff_helpers import png_bytes

TILES = re.compile(r"^https://tile\.openstreetmap\.org/")
"""The demo's tile server (the default ``map_tile_url``), which the browser may not reach from here."""
TILE = png_bytes(8, 8)
WRITER = "demo-resident3@example.jp"


def _context(browser: Browser, base_url: str) -> BrowserContext:
    return browser.new_context(base_url=base_url, locale="ja-JP", timezone_id="Asia/Tokyo",
                               viewport={"width": 1280, "height": 900})


@pytest.fixture
def with_tiles(browser: Browser, base_url: str) -> Iterator[Page]:
    """JavaScript on, and every tile answered with a small local image (as a reachable tile server would)."""
    context = _context(browser, base_url)

    def tile(route: Route) -> None:
        route.fulfill(status=200, content_type="image/png", body=TILE)

    context.route(TILES, tile)
    yield context.new_page()
    context.close()


@pytest.fixture
def failing_tiles(browser: Browser, base_url: str) -> Iterator[Page]:
    """JavaScript on, and the tile server unreachable."""
    context = _context(browser, base_url)
    context.route(TILES, lambda route: route.abort("internetdisconnected"))
    yield context.new_page()
    context.close()


def _in_ward(value: str, low: float, high: float) -> float:
    assert re.fullmatch(r"\d+\.\d{6}", value), value
    number = float(value)
    assert low <= number <= high, value
    return number


def test_clicking_the_map_fills_the_point_and_the_voice_has_it(with_tiles: Page, artifacts_dir: Path) -> None:
    page = with_tiles
    checker = Checker("voice-point-picker", artifacts_dir)
    sign_in(page, WRITER, "/voices/new")
    picker = page.locator("#point-picker")
    expect(picker).to_be_visible()
    expect(page.locator("#point-picker-map .leaflet-tile-loaded").first).to_be_attached()
    latitude, longitude = page.locator("#field-latitude"), page.locator("#field-longitude")
    expect(latitude).to_be_visible()
    expect(longitude).to_be_visible()
    expect(latitude).to_have_value("")
    checker.check(page, "voice form with the point picker", "form")

    # The centre of the chosen area, then clearing the point.
    page.locator("#field-area").select_option("tokiwadai")
    page.locator("#point-picker-centre").click()
    expect(latitude).to_have_value("35.758900")
    expect(longitude).to_have_value("139.688600")
    marker = page.locator("#point-picker-map .leaflet-marker-icon")
    expect(marker).to_have_count(1)
    expect(page.locator("#point-picker-status")).to_contain_text("35.758900")
    page.locator("#point-picker-clear").click()
    expect(latitude).to_have_value("")
    expect(longitude).to_have_value("")
    expect(marker).to_have_count(0)

    # Typing moves the map's marker (the fields are the authority); an incomplete point has none.
    latitude.fill("35.7512")
    expect(marker).to_have_count(0)
    longitude.fill("139.7093")
    expect(marker).to_have_count(1)
    latitude.fill("")
    expect(marker).to_have_count(0)

    # Clicking the map places the marker and fills both fields.
    page.locator("#point-picker-map").click(position={"x": 300, "y": 140})
    expect(marker).to_have_count(1)
    expect(latitude).to_have_value(re.compile(r"^35\.\d{6}$"))
    lat = _in_ward(latitude.input_value(), 35.70, 35.85)
    lng = _in_ward(longitude.input_value(), 139.58, 139.78)
    expect(marker).to_have_attribute("alt", re.compile(r".+"))
    checker.check(page, "voice form with a point placed", "form-placed")

    title = f"地図で選んだ場所の街灯（E2E {uuid.uuid4().hex[:8]}）"
    page.locator("#field-title").fill(title)
    page.locator("#field-body").fill("夜になると**真っ暗**です。")
    page.locator("#field-category").select_option("disaster_safety")
    page.locator("#voice-submit").click()
    expect(page).to_have_url(re.compile(r"/voices/\d+$"))
    voice_path = re.search(r"/voices/\d+$", page.url).group(0)  # type: ignore[union-attr]
    expect(page.locator("#voice-title")).to_have_text(title)
    expect(page.locator("#voice-point")).to_contain_text(f"{lat:.5f}")
    expect(page.locator("#voice-point")).to_contain_text(f"{lng:.5f}")
    expect(page.locator("#voice-map-link")).to_have_attribute("href", re.compile(rf"mlat={lat:.6f}&mlon={lng:.6f}"))
    api = page.request.get("/api/v1" + voice_path).json()
    assert (api["latitude"], api["longitude"]) == (lat, lng)

    # The voice's page: a small map with its point, named for screen readers, beside the text.
    small = page.locator("#voice-map")
    expect(small).to_be_visible()
    expect(small).to_have_attribute("aria-label", re.compile(re.escape(f"{lat:.5f}")))
    expect(small.locator(".leaflet-tile-loaded").first).to_be_attached()
    expect(small.locator(".leaflet-marker-icon")).to_have_attribute("alt", re.compile(r".+"))
    checker.check(page, "voice page with its map", "voice")
    checker.in_english(page, voice_path, "voice page with its map", "voice")
    expect(page.locator("#voice-map .leaflet-marker-icon")).to_have_count(1)

    checker.in_english(page, "/voices/new", "voice form with the point picker", "form")
    expect(page.locator("#point-picker")).to_be_visible()
    page.locator("#point-picker-map").click(position={"x": 200, "y": 100})
    expect(page.locator("#field-latitude")).to_have_value(re.compile(r"^35\.\d{6}$"))
    page.goto("/voices/new?lang=en")
    page.locator("#point-picker-map").click(position={"x": 200, "y": 100})
    expect(page.locator("#point-picker-status")).to_contain_text("latitude")
    checker.check(page, "voice form with a point placed, in English", "form-placed-en")
    page.goto("/voices/new?lang=ja")


def test_when_tiles_fail_the_form_is_the_plain_one(failing_tiles: Page, artifacts_dir: Path) -> None:
    page = failing_tiles
    sign_in(page, WRITER, "/voices/new")
    expect(page.locator("#point-picker")).to_be_hidden()
    expect(page.locator("#point-picker-map .leaflet-tile")).to_have_count(0)
    page.locator("#field-latitude").fill("35.7589")
    page.locator("#field-longitude").fill("139.6886")
    title = f"タイルなしで送る声（E2E {uuid.uuid4().hex[:8]}）"
    page.locator("#field-title").fill(title)
    page.locator("#field-body").fill("地図がなくても送れます。")
    page.locator("#field-category").select_option("disaster_safety")
    page.locator("#voice-submit").click()
    expect(page).to_have_url(re.compile(r"/voices/\d+$"))
    expect(page.locator("#voice-point")).to_contain_text("35.75890")
    expect(page.locator("#voice-map-link")).to_be_visible()
    expect(page.locator("#voice-map")).to_be_hidden()
    Checker("voice-point-picker-no-tiles", artifacts_dir).check(page, "voice page whose tiles failed", "voice")
