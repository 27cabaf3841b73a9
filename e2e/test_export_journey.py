"""Journey: a resident asks for a copy of their data, the real worker builds the zip and mails the link through
the SMTP sink, the resident opens the link from the e-mail and downloads the zip (JSON, CSVs, README); a
visitor who has the link is sent to sign in. With JavaScript on and off; axe in Japanese and English.

The live server is shared: each run uses its own demo account and picks its e-mail out of the sink by
recipient and content, never by position."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import LiveServer
from e2e.journey import Checker, sign_in, text_of
from tests.servers import wait_until

MAIL_TIMEOUT = 120.0  # through the real Celery worker on a busy 2-core machine
EXPECT_TIMEOUT = 15_000


@pytest.fixture(autouse=True)
def _patient_expect() -> Iterator[None]:
    expect.set_options(timeout=EXPECT_TIMEOUT)
    yield
    expect.set_options(timeout=5_000)


def link_in_mail(live_server: LiveServer, to: str, seen: set[str]) -> str:
    """The path of the newest download link mailed to ``to`` that this run has not seen before."""

    def found() -> str | None:
        with live_server.mail.lock:
            messages = list(live_server.mail.messages)
        for message in reversed(messages):
            if to in str(message["To"]):
                match = re.search(r"https?://[^/\s]+(/account/export/file/\S+)", text_of(message))
                if match and match.group(1) not in seen:
                    return match.group(1)
        return None

    return wait_until(found, MAIL_TIMEOUT, f"the download link mailed to {to}")


def mailed_links(live_server: LiveServer, to: str) -> set[str]:
    with live_server.mail.lock:
        messages = list(live_server.mail.messages)
    return {match.group(1) for message in messages if to in str(message["To"])
            for match in [re.search(r"(/account/export/file/\S+)", text_of(message))] if match}


def test_a_resident_gets_their_data_by_a_mailed_link(
    visitor: tuple[Page, bool], live_server: LiveServer, new_context: Callable[[], BrowserContext],
    artifacts_dir: Path,
) -> None:
    page, javascript = visitor
    email = "demo-resident@example.jp" if javascript else "demo-resident4@example.jp"
    checker = Checker(f"export-{'js' if javascript else 'nojs'}", artifacts_dir)
    seen = mailed_links(live_server, email)

    sign_in(page, email, "/account/export")
    expect(page.locator("#export-request-form")).to_be_visible()
    if javascript:  # axe runs in the page's JavaScript; the HTML is the same without it
        checker.check(page, "download my data", "page")
        checker.in_english(page, "/account/export", "download my data", "page")

    page.locator("#export-request-form").get_by_role("button").click()
    expect(page).to_have_url(re.compile(r"/account/export$"))
    link = link_in_mail(live_server, email, seen)

    # The page now offers the same link (once the worker has marked it ready, which it did before mailing).
    page.goto("/account/export")
    expect(page.locator("#export-zip-link")).to_have_attribute("href", link)
    if javascript:
        checker.check(page, "download my data, ready", "ready")
        checker.in_english(page, "/account/export", "download my data, ready", "ready")

    with page.expect_download() as download_info:
        page.locator("#export-zip-link").click()
    download = download_info.value
    assert download.suggested_filename.startswith("cocreate-data-") and download.suggested_filename.endswith(".zip")
    body = Path(download.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = set(archive.namelist())
        data = json.loads(archive.read("data.json"))
        readme = archive.read("README.txt").decode()
        profile_csv = archive.read("csv/profile.csv").decode("utf-8-sig")
    assert {"data.json", "README.txt", "csv/profile.csv", "csv/comments.csv", "csv/follows.csv"} <= names
    assert data["profile"]["email"] == email and email in profile_csv
    assert "【日本語】" in readme and "【English】" in readme

    # The link from the e-mail, opened by someone who is not signed in: the sign-in form, not the file.
    stranger = new_context().new_page()
    stranger.goto(link)
    expect(stranger).to_have_url(re.compile(r"/account/sign-in"))
