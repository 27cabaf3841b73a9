"""Screenshots of the real pages for the help page (/help), in Japanese and English (developer tool).

Usage: start the demo (``scripts/run``, or ``cocreate db upgrade && cocreate demo && cocreate web``), then

    .venv/bin/python tools/help_screenshots.py [BASE_URL]      # default http://127.0.0.1:8000

It signs in with the demo accounts (docs/demo-accounts.md) where a page needs one and writes
``static/img/help/<locale>/<name>.png``, the files the seeded help text refers to. Run it again after
changing one of these pages; the help text itself is edited by administrators at /admin/pages.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "static" / "img" / "help"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "cocreate-demo-2026"  # noqa: S105 - the demo accounts' published password (docs/demo-accounts.md)
VIEWPORT = {"width": 1100, "height": 720}

# name, demo account to sign in with (None: a visitor), page
SHOTS = [
    ("register", None, "/account/register"),
    ("challenges", None, "/challenges"),
    ("organisation-new", "demo-resident@example.jp", "/organisations/new"),
    ("booking-new", "demo-company@example.jp", "/bookings/new"),
    ("staff-challenges", "demo-staff@example.jp", "/staff/challenges"),
    ("coordinate-bookings", "demo-coordinator@example.jp", "/coordinate/bookings"),
]


def shoot(browser: Browser, base_url: str, locale: str) -> None:
    folder = OUT / locale
    folder.mkdir(parents=True, exist_ok=True)
    for name, account, path in SHOTS:
        context = browser.new_context(base_url=base_url, viewport=VIEWPORT, locale="ja-JP" if locale == "ja" else "en-GB",
                                      timezone_id="Asia/Tokyo")
        page = context.new_page()
        page.goto(f"/?lang={locale}")
        if account:
            page.goto("/account/sign-in")
            page.locator("#field-email").fill(account)
            page.locator("#field-password").fill(PASSWORD)
            page.locator("#field-password").press("Enter")
            page.locator("#sign-out").wait_for(state="attached")
        response = page.goto(f"{path}?lang={locale}")  # signing in chose the account's own language
        if response is None or response.status != 200:
            raise SystemExit(f"{path} answered {response and response.status}")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(folder / f"{name}.png"))
        print(f"{locale}/{name}.png  {path}")
        context.close()


def main() -> None:
    base_url = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000").rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless",
                                                                             "--disable-gpu"])
        try:
            for locale in ("ja", "en"):
                shoot(browser, base_url, locale)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
