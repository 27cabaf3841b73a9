"""Journey: KPI tracking over time. The company running the demo's mobility trial enters a measurement of
its monthly rides (first a value that is no number, then a good one); the department in charge finds it in
its list of measurements not confirmed yet and confirms it; a visitor sees it in the KPI's chart and its
data table, downloads the CSV, and reads the overview of every trial's KPIs.

Run with JavaScript and without it (every step is a plain link or form). Pages are checked with axe in
Japanese, and the entry form, the measurement page, the trial's KPI section and the overview in English
too (with JavaScript only: the pages are the same). The value carries a number of its own, so the journey's
two runs, and other journeys sharing the live server, do not get in each other's way.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from e2e.journey import Checker, sign_in

COMPANY = "demo-company@example.jp"
STAFF = "demo-staff-takashimadaira@example.jp"  # staff of the department in charge of the mobility trial
TRIAL_TITLE = "高島平 電動マイクロモビリティ実証 ― 駅・団地・商店街をつなぐ"
INDICATOR = "月間の利用回数"
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def javascript(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def browsers(browser: Browser, base_url: str, javascript: bool) -> Iterator[list[BrowserContext]]:
    contexts = [browser.new_context(base_url=base_url, locale="ja-JP", timezone_id="Asia/Tokyo",
                                    viewport={"width": 1280, "height": 800}, java_script_enabled=javascript)
                for _ in range(3)]
    yield contexts
    for context in contexts:
        context.close()


def trial_id_of(page: Page) -> int:
    page.goto("/trials")
    href = page.locator("main a[href^='/trials/']").filter(has_text=TRIAL_TITLE).first.get_attribute("href")
    assert href is not None
    return int(re.search(r"/trials/(\d+)", href).group(1))  # type: ignore[union-attr]


def test_a_measurement_is_entered_confirmed_and_charted(browsers: list[BrowserContext], javascript: bool,
                                                        artifacts_dir: Path) -> None:
    checker = Checker(f"kpi-journey-{'js' if javascript else 'no-js'}", artifacts_dir)
    token = uuid.uuid4().hex[:8]
    value = 1500 + int(token, 16) % 400  # rides this month: between the baseline (400) and the target (2,000)
    shown = f"{value:,}"
    today = datetime.now(TOKYO).date().isoformat()

    def check(page: Page, label: str, shot: str, english_path: str | None = None) -> None:
        if javascript:
            checker.check(page, label, shot)
            if english_path:
                checker.in_english(page, english_path, label, shot)

    # --- 1. The company enters the month's rides: first a word, then the number ---------------------------
    company = browsers[0].new_page()
    sign_in(company, COMPANY, "/trials")
    trial_id = trial_id_of(company)
    company.goto(f"/trials/{trial_id}")
    section = company.locator("#kpis")
    expect(section.get_by_role("heading", level=2)).to_have_text(re.compile("KPIの推移|KPIs over time"))
    kpi = section.locator("article.kpi-track").filter(has_text=INDICATOR).first
    kpi_id = int((kpi.get_attribute("id") or "").removeprefix("kpi-"))
    check(company, "trial page with its KPI charts (company)", "trial")
    kpi.locator(f"#kpi-{kpi_id}-measure").click()
    expect(company).to_have_url(re.compile(rf"/trials/{trial_id}/kpis/{kpi_id}/measurements/new$"))
    expect(company.locator("#field-measured_on")).to_have_value(today)
    check(company, "measurement form", "form", f"/trials/{trial_id}/kpis/{kpi_id}/measurements/new")
    company.locator("#field-value").fill("たくさん")
    company.locator("#field-note").fill(f"8か所のポートの合計（E2E {token}）")
    company.locator("#send-measurement").click()
    expect(company.locator(".error-summary")).to_be_visible()
    expect(company.locator("#field-value-error")).to_be_visible()
    expect(company.locator("#field-note")).to_have_value(f"8か所のポートの合計（E2E {token}）")  # kept
    check(company, "measurement form with an error", "form-error")
    company.locator("#field-value").fill(shown)
    company.locator("#send-measurement").click()
    expect(company).to_have_url(re.compile(rf"/trials/{trial_id}(#kpis)?$"))
    row = company.locator("#kpi-pending-table tr").filter(has_text=shown)
    expect(row).to_have_count(1)
    measurement_path = row.locator("a").first.get_attribute("href")
    assert measurement_path is not None and re.fullmatch(rf"/trials/{trial_id}/kpis/measurements/\d+", measurement_path)

    # --- 2. The department in charge confirms it ----------------------------------------------------------
    staff = browsers[1].new_page()
    sign_in(staff, STAFF, f"/trials/{trial_id}")
    expect(staff.locator("#kpi-pending-table")).to_contain_text(shown)
    staff.locator(f"#kpi-pending-table a[href='{measurement_path}']").click()
    expect(staff).to_have_url(re.compile(re.escape(measurement_path) + "$"))
    expect(staff.locator("#measurement-note")).to_contain_text(f"E2E {token}")
    check(staff, "measurement to confirm", "review", measurement_path)
    staff.locator("#confirm-measurement").click()
    expect(staff).to_have_url(re.compile(rf"/trials/{trial_id}(#kpis)?$"))
    expect(staff.locator("#kpi-pending-table a[href='" + measurement_path + "']")).to_have_count(0)

    # --- 3. A visitor sees it in the chart's table and the CSV; the overview lists the trial's KPIs ---------
    visitor = browsers[2].new_page()
    visitor.goto(f"/trials/{trial_id}")
    table = visitor.locator(f"#kpi-{kpi_id}-chart-table")
    expect(table.locator("tr").filter(has_text=today).filter(has_text=str(value))).to_have_count(1)
    expect(visitor.locator(f"#kpi-{kpi_id}-chart svg[role='img']")).to_be_attached()
    expect(visitor.locator("#kpi-pending")).to_have_count(0)
    check(visitor, "trial page with the confirmed measurement", "chart", f"/trials/{trial_id}")
    csv_link = visitor.locator(f"#kpi-{kpi_id}-chart-csv")
    response = visitor.request.get(csv_link.get_attribute("href") or "")
    assert response.ok and f"{today},{value}," in response.text()
    visitor.locator("#kpi-overview-link").click()
    expect(visitor).to_have_url(re.compile(r"/trials/kpis$"))
    expect(visitor.locator(f"#overview-trial-{trial_id}")).to_contain_text(INDICATOR)
    check(visitor, "overview of every trial's KPIs", "overview", "/trials/kpis")
