"""Journey: a visitor finds the statistics from the header, reads every chart with its data table in Japanese
and English (axe-clean), with JavaScript and without, and downloads a chart's data as CSV; ward staff open
their own statistics and ask for a recomputation, which the live server's worker does."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from e2e.conftest import LiveServer
from e2e.journey import Checker, sign_in

STAFF = "demo-staff-transport@example.jp"
CHARTS = ("participation", "challenges", "funnel", "areas", "utilisation", "field-days")


def test_a_visitor_reads_the_statistics_and_downloads_a_table(visitor: tuple[Page, bool], live_server: LiveServer,
                                                              artifacts_dir: Path) -> None:
    page, javascript = visitor
    checker = Checker(f"stats-{'js' if javascript else 'nojs'}", artifacts_dir)
    page.goto("/")
    page.locator("#nav-stats").click()
    expect(page).to_have_url(re.compile(r"/stats$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("統計|Statistics"))
    for name in CHARTS:
        expect(page.locator(f"#stats-{name}")).to_be_attached()
    # The demo's participation: a drawn chart, its summary and its table.
    expect(page.locator("#stats-participation svg[role=img]")).to_be_visible()
    expect(page.locator("#stats-participation-table tbody tr")).to_have_count(12)
    expect(page.locator("#stats-funnel-table")).to_be_visible()
    expect(page.locator("#stats-as-of")).to_be_visible()
    if javascript:  # axe runs as a script in the page
        checker.check(page, "statistics", "stats")
        checker.in_english(page, "/stats", "statistics", "stats")
    else:
        page.goto("/stats?lang=en")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#stats-participation-table thead")).to_contain_text("Comments")
        expect(page.locator("#stats-participation svg[role=img]")).to_be_visible()
        page.goto("/stats?lang=ja")
    expect(page.locator("#stats-participation-table thead")).to_contain_text("コメント")

    with page.expect_download() as download_info:
        page.locator("#stats-participation-csv").click()
    download = download_info.value
    assert download.suggested_filename == "participation.csv"
    first_line = Path(download.path()).read_bytes().decode("utf-8").splitlines()[0]
    assert first_line.startswith("月,")
    with page.expect_download() as download_info:
        page.locator("#stats-participation-csv-bom").click()
    assert Path(download_info.value.path()).read_bytes().startswith(b"\xef\xbb\xbf")


def test_staff_open_their_statistics_and_recompute_them(page: Page, live_server: LiveServer,
                                                        artifacts_dir: Path) -> None:
    checker = Checker("stats-staff", artifacts_dir)
    sign_in(page, STAFF, "/staff/stats")
    expect(page.locator("#stats-refresh")).to_be_visible()
    checker.check(page, "staff statistics", "staff")
    before = page.locator("#stats-as-of").inner_text()
    page.locator("#stats-refresh").click()
    expect(page).to_have_url(re.compile(r"/staff/stats$"))
    for _attempt in range(60):  # the worker recomputes in the background
        page.reload()
        if page.locator("#stats-as-of").inner_text() != before:
            break
        page.wait_for_timeout(1000)
    assert page.locator("#stats-as-of").inner_text() != before
    checker.in_english(page, "/staff/stats", "staff statistics", "staff")
