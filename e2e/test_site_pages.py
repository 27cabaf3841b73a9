"""Journey: the pages every public site has, and agreeing to the terms.

A visitor reaches the terms, privacy, about, help, accessibility and contact pages from the footer of
any page, in Japanese and in English, with JavaScript on and off; the registration form links to the
versioned terms and privacy policy. An administrator made with ``cocreate create-admin`` (who, like
anyone who never agreed, is asked at first sign-in) agrees on the agreement page, is taken on to the page
they asked for, and reads the site pages' administration. Every page is checked with axe in both
languages. Nothing here publishes a new version: the live server is shared with the other journeys,
whose demo accounts would all be asked to agree again (tests/cocreate/pages/test_consent.py covers it).
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.axe import assert_no_axe_violations
from e2e.conftest import REPO_ROOT, LiveServer

PAGES = {  # path: (Japanese heading, English heading)
    "/about": ("このサイトについて", "About this site"),
    "/help": ("ヘルプ（参加のしかた）", "Help (how to take part)"),
    "/terms": ("利用規約", "Terms of use"),
    "/privacy": ("個人情報の取扱い", "Privacy policy"),
    "/accessibility": ("アクセシビリティ", "Accessibility"),
    "/contact": ("お問い合わせ", "Contact us"),
}
EXPECT_TIMEOUT = 15_000  # ms: the server shares two cores with the browser


@pytest.fixture(autouse=True)
def _patient_expect() -> Iterator[None]:
    expect.set_options(timeout=EXPECT_TIMEOUT)
    yield
    expect.set_options(timeout=5_000)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_visitor_reads_every_site_page_from_the_footer(browser: Browser, base_url: str, javascript: bool) -> None:
    context = browser.new_context(base_url=base_url, locale="ja-JP", timezone_id="Asia/Tokyo",
                                  java_script_enabled=javascript)
    page = context.new_page()
    try:
        for path, (japanese, english) in PAGES.items():
            page.goto("/challenges")
            page.locator(f"#footer-nav a[href='{path}']").click()
            expect(page).to_have_url(re.compile(re.escape(path) + r"$"))
            expect(page.get_by_role("heading", level=1)).to_have_text(japanese)
            expect(page.locator(f"#footer-nav a[href='{path}']")).to_have_attribute("aria-current", "page")
            if javascript:
                assert_no_axe_violations(page, f"{path} (ja)")
            page.goto(f"{path}?lang=en")
            expect(page.get_by_role("heading", level=1)).to_have_text(english)
            if javascript:
                assert_no_axe_violations(page, f"{path} (en)")
            page.goto(f"{path}?lang=ja")
        # The help page's screenshots load.
        page.goto("/help")
        for image in page.locator("main img").all():
            assert image.evaluate("img => img.complete && img.naturalWidth > 0"), image.get_attribute("src")
    finally:
        context.close()


def test_the_registration_form_links_to_the_versioned_documents(browser: Browser, base_url: str) -> None:
    context = browser.new_context(base_url=base_url, locale="ja-JP", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/account/register")
        expect(page.locator("#field-accept_terms-hint")).to_contain_text("2026-11版")
        page.get_by_role("link", name="利用規約を読む").click()
        expect(page).to_have_url(re.compile(r"/terms$"))
        expect(page.locator("#site-page-meta")).to_contain_text("2026-11版")
        page.go_back()
        page.get_by_role("link", name="個人情報の取扱いを読む").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("個人情報の取扱い")
    finally:
        context.close()


def _create_admin(live_server: LiveServer, email: str, password: str) -> None:
    env = {"COCREATE_DATA_DIR": str(live_server.data_dir), "COCREATE_ENV": "test",
           "COCREATE_PASSWORD_HASHING": "fast-for-tests", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "cocreate.cli", "create-admin", "--email", email, "--display-name", "区の管理者",
         "--password-stdin"], input=f"{password}\n", text=True, capture_output=True, env=env, cwd=REPO_ROOT,
        check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _axe_both(page: Page, path: str, label: str) -> None:
    for locale in ("en", "ja"):
        page.goto(f"{path}{'&' if '?' in path else '?'}lang={locale}")
        expect(page.locator("html")).to_have_attribute("lang", locale)
        assert_no_axe_violations(page, f"{label} ({locale})")


def test_a_new_administrator_agrees_first_then_manages_the_site_pages(
    browser: Browser, base_url: str, live_server: LiveServer
) -> None:
    email, password = f"admin-{uuid.uuid4().hex[:8]}@example.jp", "itabashi-admin-2026"
    _create_admin(live_server, email, password)
    context = browser.new_context(base_url=base_url, locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    try:
        page.goto("/account/sign-in?next=/admin/pages")
        page.get_by_label("メールアドレス").fill(email)
        page.get_by_label("パスワード").fill(password)
        page.locator("#sign-in-form").get_by_role("button", name="ログイン").click()

        # Never agreed (made on the command line): the agreement page comes first.
        expect(page).to_have_url(re.compile(r"/account/consent\?next=%2Fadmin%2Fpages$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("ご利用の前に、規約などへの同意をお願いします")
        _axe_both(page, "/account/consent?next=%2Fadmin%2Fpages", "agreement page")
        page.locator("#consent-agree").click()  # nothing ticked: an error, in words, tied to the boxes
        expect(page.locator("#error-summary")).to_contain_text("続けるには、利用規約に同意してください。")
        assert_no_axe_violations(page, "agreement page with errors (ja)")
        page.get_by_label("利用規約に同意します").check()
        page.get_by_label("個人情報の取扱いに同意します").check()
        page.locator("#consent-agree").click()
        expect(page).to_have_url(re.compile(r"/admin/pages$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("サイトのページ")

        _axe_both(page, "/admin/pages", "site pages")
        _axe_both(page, "/admin/pages/terms/edit", "editing the terms")
        _axe_both(page, "/admin/pages/contact/revisions", "history of the contact page")
        page.locator("#revisions-table a[href*='/revisions/']").first.click()
        expect(page.locator("#revision-current")).to_be_visible()
        _axe_both(page, page.url.removeprefix(base_url).split("?")[0], "a revision")

        # A correction through the real form becomes the current text and the newest revision.
        page.goto("/admin/pages/contact/edit")
        body = page.get_by_label("英語の本文")
        body.fill(body.input_value() + "\n\nWe answer within three working days.")
        page.get_by_label("変更の内容（任意）").fill("Answer time added")
        page.locator("#page-save").click()
        expect(page).to_have_url(re.compile(r"/admin/pages/contact/revisions$"))
        expect(page.locator("#revisions-table tbody tr").first).to_contain_text("Answer time added")
        page.goto("/contact?lang=en")
        expect(page.locator("main")).to_contain_text("We answer within three working days.")
    finally:
        context.close()
