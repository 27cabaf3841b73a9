"""Journey: the transport staff analyse what residents said on the bus-stop challenge (the demo's comments),
watch the progress, rename a topic and publish it; a visitor finds the "what we heard" page from the
challenge page. axe-clean in Japanese and English. The analysis runs in the live server's real worker."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.sync_api import Page, expect

from e2e.conftest import LiveServer
from e2e.journey import Checker, sign_in

STAFF = "demo-staff-transport@example.jp"
CHALLENGE = "バス停を、運行情報と地域の情報が届く拠点にすることを実現したい"


def test_staff_analyse_rename_and_publish_what_we_heard(page: Page, live_server: LiveServer, base_url: str,
                                                        artifacts_dir: Path) -> None:
    checker = Checker("analysis-journey", artifacts_dir)
    label = f"バス停の見やすさ（E2E {uuid.uuid4().hex[:6]}）"

    sign_in(page, STAFF, "/staff/analysis")
    expect(page.locator("#start-voices-form")).to_be_visible()
    checker.check(page, "analysis home", "home")
    checker.in_english(page, "/staff/analysis", "analysis home", "home")
    page.goto("/challenges")
    page.get_by_role("link", name=CHALLENGE).first.click()
    challenge_path = page.url.removeprefix(base_url)
    expect(page.locator("#what-we-heard")).to_be_visible()
    checker.check(page, "challenge page with the analysis section", "challenge")
    page.locator("#analysis-start-submit").click()

    # The status page refreshes itself until the worker is done.
    expect(page).to_have_url(re.compile(r"/staff/analysis/\d+$"))
    run_path = page.url.removeprefix(base_url)
    run_id = run_path.rsplit("/", 1)[1]
    expect(page.locator("#analysis-done")).to_be_visible(timeout=120_000)
    checker.check(page, "analysis review", "review")
    checker.in_english(page, run_path, "analysis review", "review")

    first = page.locator("article.analysis-topic").first
    first.locator("input[type=text]").fill(label)
    first.locator("button[type=submit]").click()
    expect(page.locator("article.analysis-topic").first.locator("h3")).to_contain_text(label)

    page.locator("#publish-submit").click()
    expect(page.locator("#heard-link")).to_be_visible()

    visitor = page.context.browser.new_context(base_url=base_url).new_page()  # type: ignore[union-attr]
    visitor.goto(challenge_path)
    visitor.locator("#what-we-heard-link").click()
    expect(visitor).to_have_url(re.compile(rf"/heard/{run_id}$"))
    expect(visitor.locator("#heard-table")).to_contain_text(label)
    expect(visitor.locator("svg[role=img]")).to_be_visible()
    checker.check(visitor, "what we heard", "heard")
    checker.in_english(visitor, f"/heard/{run_id}", "what we heard", "heard")
    visitor.context.close()
