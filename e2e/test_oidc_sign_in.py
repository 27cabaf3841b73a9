"""Journey: a resident signs in with an OpenID Connect provider for the first time, completes the short
account form, and is signed in; refusals and errors explain themselves. Every page is checked with axe.

A real provider (npm oidc-provider with its development login and consent pages) and a real
``cocreate web`` configured for it run for this module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.axe import assert_no_axe_violations
from tests.oidc_servers import OidcClient, OidcProviderServer, ProviderSpec, start_oidc_provider
from tests.servers import ROOT, free_port, wait_until

CLIENT_ID = "cocreate-e2e"
CLIENT_SECRET = "e2e-client-secret-0123456789"


@pytest.fixture(scope="module")
def oidc_site() -> Iterator[tuple[str, OidcProviderServer]]:
    """``cocreate web`` with one provider configured ("Itabashi ID"), and that provider."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    provider = start_oidc_provider([ProviderSpec(clients=(
        OidcClient(CLIENT_ID, CLIENT_SECRET, (f"{url}/account/oidc/itabashi-id/callback",)),))])
    with tempfile.TemporaryDirectory(prefix="cocreate-e2e-oidc-") as tmp:
        inherited = {key: value for key, value in os.environ.items() if not key.startswith("COCREATE_")}
        env = inherited | {
            "COCREATE_DATA_DIR": tmp,
            "COCREATE_ENV": "test",
            "COCREATE_BASE_URL": url,
            "COCREATE_OIDC_PROVIDERS": json.dumps([{
                "slug": "itabashi-id", "name": "Itabashi ID", "issuer": provider.issuers[0],
                "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}]),
            "PYTHONUNBUFFERED": "1",
        }
        log_path = Path(tmp) / "server.log"
        with log_path.open("wb") as log:
            subprocess.run([sys.executable, "-m", "cocreate.cli", "db", "upgrade"], env=env, cwd=ROOT, stdout=log,
                           stderr=subprocess.STDOUT, check=True)
            process = subprocess.Popen(
                [sys.executable, "-m", "cocreate.cli", "web", "--host", "127.0.0.1", "--port", str(port)],
                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

            def healthy() -> bool:
                try:
                    return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return process.poll() is not None

            try:
                wait_until(healthy, 90, "cocreate web with OpenID Connect")  # slow on a busy machine
                assert process.poll() is None, log_path.read_text(errors="replace")
                yield url, provider
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                provider.stop()


@pytest.fixture
def page(browser: Browser, oidc_site: tuple[str, OidcProviderServer]) -> Iterator[Page]:
    """A Japanese browser page of its own (not tied to the shared live server of the other journeys)."""
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def log_in_at_provider(page: Page, login: str) -> None:
    """The provider's development pages: any login and password, then consent."""
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.locator("button[type=submit]").click()
    page.get_by_role("button", name="Continue").click()


def test_first_sign_in_with_a_provider(page: Page, oidc_site: tuple[str, OidcProviderServer],
                                       artifacts_dir: Path) -> None:
    url, _provider = oidc_site
    page.goto(f"{url}/account/sign-in")
    button = page.get_by_role("link", name="Itabashi IDでログイン")
    expect(button).to_be_visible()
    assert_no_axe_violations(page, "sign-in page with a provider button")
    page.screenshot(path=artifacts_dir / "oidc-sign-in.png", full_page=True)

    button.click()
    log_in_at_provider(page, "hanako")
    expect(page).to_have_url(f"{url}/account/oidc/complete")
    expect(page.get_by_role("heading", level=1)).to_have_text("アカウントの作成")
    expect(page.get_by_label("表示名")).to_have_value("はなこ")
    assert_no_axe_violations(page, "account completion form")
    page.screenshot(path=artifacts_dir / "oidc-complete.png", full_page=True)

    page.get_by_role("button", name="アカウントを作成する").click()
    expect(page.locator("#error-summary")).to_contain_text("利用規約への同意")
    assert_no_axe_violations(page, "account completion form with errors")

    page.get_by_label("利用規約に同意します").check()
    page.get_by_label("個人情報の取扱いに同意します").check()
    page.get_by_role("button", name="アカウントを作成する").click()
    expect(page).to_have_url(f"{url}/")
    expect(page.locator("#sign-out")).to_be_attached()
    expect(page.get_by_text("アカウントを作成しました")).to_be_visible()
    page.screenshot(path=artifacts_dir / "oidc-signed-in.png", full_page=True)


def test_refusal_and_error_pages(page: Page, oidc_site: tuple[str, OidcProviderServer]) -> None:
    url, _provider = oidc_site
    page.goto(f"{url}/account/register")
    page.get_by_role("link", name="Itabashi IDでログイン").click()
    log_in_at_provider(page, "unverified-jiro")
    expect(page.locator("#oidc-refused-email_not_verified")).to_be_visible()
    assert_no_axe_violations(page, "refusal page (unverified e-mail)")

    response = page.goto(f"{url}/account/oidc/itabashi-id/callback?state=forged&code=x")
    assert response is not None and response.status == 400
    expect(page.locator("#oidc-error")).to_contain_text("期限切れ")
    assert_no_axe_violations(page, "OpenID Connect error page")
