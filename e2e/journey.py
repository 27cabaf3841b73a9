"""What the journeys share: signing in with a demo account, axe checks with screenshots, reading mail."""

from __future__ import annotations

import re
import time
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from e2e.axe import assert_no_axe_violations

PASSWORD = "cocreate-demo-2026"
"""The demo accounts' password (docs/demo-accounts.md)."""


def sign_in(page: Page, email: str, next_path: str) -> None:
    """Sign in through the Japanese form and land on ``next_path``."""
    page.goto(f"/account/sign-in?next={next_path}")
    expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.locator("#sign-in-form").get_by_role("button", name="ログイン").click()
    expect(page.locator("#sign-out")).to_be_attached()
    expect(page).to_have_url(re.compile(re.escape(next_path) + r"$"))


class Checker:
    """axe checks with a screenshot of each checked page, named after the journey."""

    def __init__(self, journey: str, artifacts_dir: Path) -> None:
        self.journey = journey
        self.artifacts_dir = artifacts_dir

    def check(self, page: Page, label: str, shot: str) -> None:
        """Check the page as it is (Japanese)."""
        assert_no_axe_violations(page, f"{label} (ja)")
        page.screenshot(path=self.artifacts_dir / f"{self.journey}-{shot}.png", full_page=True)

    def in_english(self, page: Page, path: str, label: str, shot: str) -> None:
        """Open ``path`` in English, check it, and switch the browser back to Japanese."""
        separator = "&" if "?" in path else "?"
        page.goto(f"{path}{separator}lang=en")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert_no_axe_violations(page, f"{label} (en)")
        page.screenshot(path=self.artifacts_dir / f"{self.journey}-{shot}-en.png", full_page=True)
        page.goto(f"{path}{separator}lang=ja")
        expect(page.locator("html")).to_have_attribute("lang", "ja")


def subject_of(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def text_of(message: Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def reload_until_shown(page: Page, locator: Locator, seconds: float = 15) -> None:
    """Reload ``page`` until ``locator`` matches (or ``seconds`` pass): a visitor's page may come from the
    anonymous page cache (COCREATE_PUBLIC_CACHE_SECONDS, 2 s) for a moment after a change."""
    deadline = time.monotonic() + seconds
    while True:
        page.reload()
        if locator.count() or time.monotonic() > deadline:
            return
        page.wait_for_timeout(500)
