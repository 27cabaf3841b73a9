"""Journey: a visitor lands on the home page, reads it in Japanese, and switches to English by keyboard."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from e2e.axe import assert_no_axe_violations

H1_JA = "板橋の課題を、みんなで解決する"
H1_EN = "Solve Itabashi's challenges together"
NOT_FOUND_JA = "ページが見つかりません"
NOT_FOUND_EN = "Page not found"
MAX_TABS = 30
MOBILE = {"width": 390, "height": 844}


def _focused_id(page: Page) -> str:
    return page.evaluate("() => document.activeElement ? document.activeElement.id : ''")


def _collect_browser_errors(page: Page) -> list[str]:
    """Script errors and console errors (CSP refusals among them) from now on, except the favicon."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"console: {message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    return errors


def test_home_page_is_japanese_by_default(page: Page, artifacts_dir: Path) -> None:
    errors = _collect_browser_errors(page)
    response = page.goto("/")
    assert response is not None and response.ok

    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text(H1_JA)
    cards = page.locator("#latest-challenges li[id^='challenge-']")
    expect(cards.first).to_be_visible()
    expect(page.locator("#language-switcher [aria-current]")).to_have_attribute("lang", "ja")
    expect(page.locator("#switch-to-en")).to_be_visible()

    assert_no_axe_violations(page, "home page (ja)")
    page.screenshot(path=artifacts_dir / "home-ja.png", full_page=True)
    # The vendored htmx loaded: scripts from 'self' pass the Content-Security-Policy.
    page.wait_for_function("() => typeof window.htmx === 'object'")
    assert errors == [], "the browser reported errors (scripts or styles blocked?):\n" + "\n".join(errors)


def test_home_page_on_a_phone(page: Page, artifacts_dir: Path) -> None:
    page.set_viewport_size(MOBILE)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(H1_JA)
    expect(page.locator("#latest-challenges li[id^='challenge-']").first).to_be_visible()
    # Nothing should force sideways scrolling on a 390px screen.
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the viewport"
    assert_no_axe_violations(page, "home page (ja, 390px wide)")
    page.screenshot(path=artifacts_dir / "home-ja-mobile.png", full_page=True)


def test_switch_to_english_with_the_keyboard_only(page: Page, artifacts_dir: Path) -> None:
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")

    page.keyboard.press("Tab")
    skip_link = page.locator("a.skip-link")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_have_attribute("href", "#main")
    expect(skip_link).to_be_visible()  # visible when focused, or keyboard users cannot see it

    for _ in range(MAX_TABS):
        if _focused_id(page) == "switch-to-en":
            break
        page.keyboard.press("Tab")
    assert _focused_id(page) == "switch-to-en", f"#switch-to-en not reached within {MAX_TABS} Tab presses"

    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(H1_EN)
    expect(page.locator("#switch-to-ja")).to_be_visible()

    # The choice is remembered without ?lang in the address.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(H1_EN)
    expect(page.locator("#latest-challenges li[id^='challenge-']").first).to_be_visible()

    assert_no_axe_violations(page, "home page (en)")
    page.screenshot(path=artifacts_dir / "home-en.png", full_page=True)


def test_skip_link_moves_focus_to_the_main_content(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()


def test_english_browser_without_a_cookie_gets_english(browser: Browser, base_url: str) -> None:
    context = browser.new_context(base_url=base_url, locale="en-US")
    try:
        assert context.cookies() == []
        page = context.new_page()
        page.goto("/")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", level=1)).to_have_text(H1_EN)
    finally:
        context.close()


def test_not_found_page_in_japanese(page: Page) -> None:
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text(NOT_FOUND_JA)
    assert_no_axe_violations(page, "404 page (ja)")


def test_not_found_page_in_english(page: Page) -> None:
    response = page.goto("/no-such-page?lang=en")
    assert response is not None and response.status == 404
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(NOT_FOUND_EN)
    assert_no_axe_violations(page, "404 page (en)")


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_phone_gets_a_menu_button_and_a_short_header(browser: Browser, browser_context_args: dict, base_url: str,
                                                      javascript: bool) -> None:
    context = browser.new_context(**{**browser_context_args, "base_url": base_url, "viewport": {"width": 360, "height": 740}},
                                  java_script_enabled=javascript)
    page = context.new_page()
    try:
        page.goto("/")
        header = page.locator("header.site-header").bounding_box()
        assert header is not None and header["height"] < 740 / 4, header  # not a third of the screen
        expect(page.locator("#nav-challenges")).to_be_hidden()
        toggle = page.locator("#site-menu-toggle")
        expect(toggle).to_be_visible()
        box = toggle.bounding_box()
        assert box is not None and box["height"] >= 44
        toggle.click()  # a <details>: works without JavaScript
        expect(page.locator("#nav-challenges")).to_be_visible()
        expect(page.locator("#header-search-q")).to_be_visible()
        if javascript:  # axe runs as a script in the page
            assert_no_axe_violations(page, "home page with the menu open (ja, 360px wide)")
        page.locator("#nav-challenges").click()
        expect(page).to_have_url(re.compile(r"/challenges$"))
    finally:
        context.close()


def test_a_wide_screen_shows_the_menu_without_a_button(page: Page) -> None:
    page.goto("/")
    expect(page.locator("#site-menu-toggle")).to_be_hidden()
    expect(page.locator("#nav-challenges")).to_be_visible()
    expect(page.locator("#header-search-q")).to_be_visible()
