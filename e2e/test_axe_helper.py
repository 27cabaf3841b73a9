"""The accessibility checker must be able to fail, or a clean result proves nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from e2e.axe import assert_no_axe_violations

BROKEN_PAGE = """<!doctype html>
<html lang="en"><head><title>Broken on purpose</title></head>
<body><main><h1>Broken on purpose</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></main></body>
</html>"""


def test_axe_reports_an_image_without_alt_text(page: Page) -> None:
    page.set_content(BROKEN_PAGE)
    with pytest.raises(AssertionError, match="image-alt") as excinfo:
        assert_no_axe_violations(page, "a page broken on purpose")
    assert "img" in str(excinfo.value)


def test_axe_passes_a_clean_page(page: Page) -> None:
    page.set_content(BROKEN_PAGE.replace("<img ", '<img alt="A dot" '))
    assert_no_axe_violations(page, "the same page, fixed")


def test_axe_runs_under_the_apps_content_security_policy(page: Page) -> None:
    # The app forbids inline scripts; the checker must still run on its pages, and still be able to fail.
    response = page.goto("/?lang=en")
    assert response is not None
    assert "script-src 'self'" in response.headers.get("content-security-policy", "")
    page.evaluate(
        """() => {
            const img = document.createElement("img");
            img.src = "/static/no-such-image.png";
            document.querySelector("main").append(img);
        }"""
    )
    with pytest.raises(AssertionError, match="image-alt"):
        assert_no_axe_violations(page, "home page with an image added without alt text")
