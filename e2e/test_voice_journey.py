"""Journey: a resident posts a voice (まちの声) with a point on the map and a photo, another resident supports
it; and anyone reads the list and a voice's page with JavaScript on or off.

Two browsers in the journey: the author's and the supporter's (JavaScript on: the support box is swapped
in place by htmx). Every page visited is checked with axe in Japanese; the form, the voice's page and the
list in English too. The photo carries a GPS position in its EXIF, which the stored photo has lost. Titles
carry a token of their own, so other journeys sharing the live server do not get in the way.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect

from e2e.axe import assert_no_axe_violations
from e2e.journey import Checker, sign_in

AUTHOR = "demo-resident@example.jp"
AUTHOR_NAME = "板橋 花子（デモ）"
SUPPORTER = "demo-resident2@example.jp"
WRITER = "demo-resident3@example.jp"
GPS_IFD = 0x8825


def gps_jpeg() -> bytes:
    """A photo whose EXIF says where it was taken (the ward office)."""
    image = Image.new("RGB", (120, 80), (90, 140, 200))
    exif = Image.Exif()
    exif[0x0110] = "E2E camera"
    exif[GPS_IFD] = {1: "N", 2: (35.0, 45.0, 4.32), 3: "E", 4: (139.0, 42.0, 33.48)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def post_voice(page: Page, title: str, *, photo: bool = True) -> int:
    """Fill the voice form (a point, an address, a photo) and post it; the new voice's id."""
    page.locator("#field-title").fill(title)
    page.locator("#field-body").fill("朝の通学時間、**信号のない横断歩道**を子どもたちが渡っています。")
    page.locator("#field-category").select_option("disaster_safety")
    page.locator("#field-area").select_option("tokiwadai")
    page.locator("#field-latitude").fill("35.7589")
    page.locator("#field-longitude").fill("139.6886")
    page.locator("#field-address").fill("常盤台一丁目の交差点")
    if photo:
        page.locator("#field-photo-0").set_input_files(
            files=[{"name": "crossing.jpg", "mimeType": "image/jpeg", "buffer": gps_jpeg()}])
        page.locator("#field-alt-0").fill("信号のない横断歩道")
    page.locator("#voice-submit").click()
    expect(page).to_have_url(re.compile(r"/voices/\d+$"))
    return int(re.search(r"/voices/(\d+)$", page.url).group(1))  # type: ignore[union-attr]


def test_a_resident_posts_a_voice_with_a_point_and_a_photo_and_another_supports_it(
    page: Page, new_context: Callable[[], BrowserContext], artifacts_dir: Path,
) -> None:
    checker = Checker("voice-journey", artifacts_dir)
    title = f"常盤台の交差点に信号がほしい（E2E {uuid.uuid4().hex[:8]}）"

    # --- 1. The author posts a voice from the list ---------------------------------------------------
    author = page
    sign_in(author, AUTHOR, "/voices")
    checker.check(author, "voice list", "list")
    author.locator("#post-voice-link").click()
    expect(author).to_have_url(re.compile(r"/voices/new$"))
    checker.check(author, "voice form", "form")
    checker.in_english(author, "/voices/new", "voice form", "form")
    author.locator("#voice-submit").click()  # nothing filled: the reasons, beside their fields
    expect(author.locator("#error-summary")).to_be_visible()
    expect(author.locator("#field-title-error")).to_be_visible()
    checker.check(author, "voice form with errors", "form-errors")
    voice_id = post_voice(author, title)
    expect(author.locator("#voice-title")).to_have_text(title)
    expect(author.locator("#voice-body strong")).to_have_text("信号のない横断歩道")
    expect(author.locator("#voice-point")).to_contain_text("35.75890")
    expect(author.locator("#voice-map-link")).to_have_attribute("href", re.compile(r"openstreetmap\.org/\?mlat=35\.758900"))
    expect(author.locator("#voice-byline")).to_contain_text(AUTHOR_NAME)
    expect(author.locator("#voice-support-button")).to_have_count(0)  # not for one's own voice
    photo = author.locator("#voice-photos img")
    expect(photo).to_have_attribute("alt", "信号のない横断歩道")
    served = author.request.get(photo.get_attribute("src") or "")
    assert served.ok and served.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(served.body())) as stored:
        assert GPS_IFD not in stored.getexif() and stored.getexif()[0x0110] == "E2E camera"
    checker.check(author, "the author's voice page", "voice-author")

    # --- 2. Another resident supports it (swapped in place) and comments -----------------------------
    supporter = new_context().new_page()
    sign_in(supporter, SUPPORTER, f"/voices/{voice_id}")
    checker.check(supporter, "voice page for another resident", "voice-resident")
    supporter.locator("#voice-support-button").click()
    expect(supporter.locator("#voice-supported")).to_be_visible()
    expect(supporter.locator("#voice-support-count")).to_contain_text("1")
    expect(supporter).to_have_url(re.compile(rf"/voices/{voice_id}$"))
    checker.check(supporter, "voice page after supporting", "voice-supported")
    supporter.locator("#field-comment-body").fill("私も毎朝ここを通ります。")
    supporter.locator("#comment-submit").click()
    expect(supporter.locator("#comment-list")).to_contain_text("私も毎朝ここを通ります。")
    checker.in_english(supporter, f"/voices/{voice_id}", "voice page after supporting", "voice-supported")

    # --- 3. The list shows it, sorted by support ----------------------------------------------------
    author.goto("/voices?sort=support&area=tokiwadai")
    card = author.locator(f"#voice-{voice_id}")
    expect(card.locator(f"#voice-{voice_id}-title")).to_have_text(title)
    expect(card.locator(f"#voice-{voice_id}-counts")).to_contain_text("1")
    checker.check(author, "filtered voice list", "list-filtered")
    checker.in_english(author, "/voices?sort=support&area=tokiwadai", "filtered voice list", "list-filtered")


def test_the_list_and_a_voice_work_with_javascript_on_or_off(
    visitor: tuple[Page, bool], new_context: Callable[[], BrowserContext],
) -> None:
    page, javascript = visitor
    title = f"志村の歩道橋にスロープを（E2E {uuid.uuid4().hex[:8]}）"
    writer = new_context().new_page()
    sign_in(writer, WRITER, "/voices/new")
    voice_id = post_voice(writer, title, photo=False)

    page.goto("/voices")
    if javascript:  # axe runs in the page's JavaScript; the HTML is the same without it
        assert_no_axe_violations(page, "voice list")
    page.locator("#filter-area").select_option("tokiwadai")
    page.locator("#filter-category").select_option("disaster_safety")
    page.locator("#apply-filters").click()
    expect(page).to_have_url(re.compile(r"/voices\?.*area=tokiwadai"))
    link = page.locator(f"#voice-{voice_id}-title a")
    expect(link).to_have_text(title)
    link.click()
    expect(page).to_have_url(re.compile(rf"/voices/{voice_id}$"))
    expect(page.locator("#voice-title")).to_have_text(title)
    expect(page.locator("#voice-map-link")).to_be_visible()
    expect(page.locator("#voice-support-sign-in")).to_be_visible()
    expect(page.locator("#voice-trail-list li")).to_have_count(1)
    if javascript:
        assert_no_axe_violations(page, "voice page")
