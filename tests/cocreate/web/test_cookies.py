"""Cookies and transport security of a site served over HTTPS: every cookie the site sets is Secure,
HttpOnly and SameSite=Lax, and pages carry HSTS; over plain HTTP (development) cookies are not Secure."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from litestar.testing import TestClient

from cocreate.app import create_app
from cocreate.db import Database
from cocreate.settings import Settings
from tests.helpers import csrf_token

pytestmark = pytest.mark.databases("sqlite", why="cookie attributes do not depend on the database")


def _set_cookies(response) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for header in response.headers.get_list("set-cookie"):
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            flags = {key.lower(): str(value) for key, value in morsel.items() if value}
            lowered = header.lower()
            flags["secure"] = "true" if "; secure" in lowered else ""
            flags["httponly"] = "true" if "; httponly" in lowered else ""
            found[name] = flags
    return found


def test_over_https_every_cookie_is_secure_httponly_and_lax_and_pages_carry_hsts(
        settings: Settings, database: Database) -> None:
    secure = settings.model_copy(update={"base_url": "https://cocreate.example"})
    with TestClient(create_app(secure, database=database), base_url="https://cocreate.example") as client:
        page = client.get("/account/sign-in")
        assert page.status_code == 200
        assert "max-age=" in page.headers["strict-transport-security"]
        cookies = _set_cookies(page)
        token = csrf_token(client)
        attempt = client.post("/account/sign-in", data={"_csrf_token": token, "email": "nobody@example.jp",
                                                        "password": "wrong-password-123"})
        cookies |= _set_cookies(attempt)
        cookies |= _set_cookies(client.get("/?lang=en"))
    assert cookies, "the sign-in page sets the CSRF cookie at least"
    for name, flags in cookies.items():
        assert flags["secure"] and flags["httponly"], (name, flags)
        assert flags.get("samesite", "").lower() == "lax", (name, flags)


def test_over_plain_http_cookies_are_not_marked_secure(client: TestClient) -> None:
    cookies = _set_cookies(client.get("/account/sign-in"))
    assert cookies and not any(flags["secure"] for flags in cookies.values())
    assert "strict-transport-security" not in client.get("/").headers
