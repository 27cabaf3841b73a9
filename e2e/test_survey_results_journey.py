"""Journey: the staff in charge close the demo's open survey and see its results (charts with their data
tables, the channel filter) and download every answer as CSV; a visitor, with JavaScript and without, sees
the public results of the closed 「区民ニーズ調査」 with their data tables, reads the free-text answers page by
page and downloads a chart's data. axe-clean in Japanese and English."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from cocreate.surveys.demo import NEEDS_TITLE, OPEN_TITLE
from e2e.conftest import LiveServer
from e2e.journey import Checker, sign_in

STAFF = "demo-staff@example.jp"


def test_staff_close_a_survey_see_its_charts_and_download_the_answers(
        page: Page, live_server: LiveServer, base_url: str, artifacts_dir: Path) -> None:
    checker = Checker("survey-results-journey", artifacts_dir)
    sign_in(page, STAFF, "/staff/surveys")
    page.get_by_role("link", name=OPEN_TITLE).click()
    expect(page).to_have_url(re.compile(r"/staff/surveys/\d+$"))
    edit_path = page.url.removeprefix(base_url)
    survey_id = int(edit_path.rsplit("/", 1)[1])
    results_path = f"/surveys/{survey_id}/results"

    # While it is open, its staff see the results as they come in.
    page.goto(results_path)
    expect(page.locator("#results-open-notice")).to_be_visible()
    page.goto(edit_path)
    page.locator("#survey-close").click()
    expect(page.locator("#survey-close")).to_have_count(0)

    page.goto(results_path)
    expect(page.locator("#results-open-notice")).to_have_count(0)
    expect(page.locator("#results-count")).to_contain_text("4")
    expect(page.locator("figure.chart svg[role=img]").first).to_be_visible()
    expect(page.locator("figure.chart table")).to_have_count(2)  # the multiple choice and the scale
    checker.check(page, "survey results for the staff", "staff")
    checker.in_english(page, results_path, "survey results for the staff", "staff")

    with page.expect_download() as download:
        page.locator("#answers-csv").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 1 + 4 and rows[0][0] in ("No.", "番号") and len(rows[0]) == 3 + 5 + 1 + 1
    assert "example.jp" not in repr(rows)
    with page.expect_download() as download:
        page.locator("#answers-csv-excel").click()
    assert Path(download.value.path()).read_bytes().startswith(b"\xef\xbb\xbf")

    # The staff's filter by channel, a plain GET form.
    page.locator("#results-channel").select_option("paper")
    page.locator("#results-filter-submit").click()
    expect(page).to_have_url(re.compile(r"channel=paper"))
    expect(page.locator("#results-count")).to_contain_text("0")


def test_a_visitor_sees_the_public_results_with_their_data_tables(
        visitor: tuple[Page, bool], live_server: LiveServer, artifacts_dir: Path) -> None:
    page, javascript = visitor
    checker = Checker(f"survey-results-visitor-{'js' if javascript else 'nojs'}", artifacts_dir)
    listed = page.request.get("/api/v1/surveys?per_page=100").json()["items"]
    needs = next(item for item in listed if item["title"] == NEEDS_TITLE)
    assert needs["closed"] and needs["results_url"]
    page.goto(needs["url"])
    expect(page.locator("h1")).to_contain_text(NEEDS_TITLE)
    expect(page.locator("#results-count")).to_contain_text("274")
    expect(page.locator("#results-channels")).to_contain_text("262")
    expect(page.locator("figure.chart table")).to_have_count(4)  # choices, choice, scale, matrix
    expect(page.locator("figure.chart").first.locator("tbody tr").first).to_contain_text("安全・安心")
    expect(page.locator("#answers-csv")).to_have_count(0)
    expect(page.locator("#results-filter")).to_have_count(0)
    if javascript:  # axe runs in the page's JavaScript; the HTML is the same without it
        checker.check(page, "public survey results", "results")
        checker.in_english(page, needs["url"], "public survey results", "results")

    chart_csv = page.locator("figure.chart a[download]").first.get_attribute("href")
    answer = page.request.get(chart_csv)  # type: ignore[arg-type]
    assert answer.ok and answer.headers["content-type"].startswith("text/csv") and "安全・安心" in answer.text()

    page.locator("a[id$='-all']").first.click()
    expect(page.locator("#texts li")).to_have_count(20)
    if javascript:
        checker.check(page, "free-text answers", "texts")
    page.locator("nav.pager a[rel=next]").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator("#texts li").first).to_be_visible()
