"""Every page a role can reach, axe-checked in Japanese and in English, with the demo accounts.

The journeys check pages along the way; this sweep covers the pages no journey passes through
(account settings, administration, staff lists) so that none is left unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from e2e.axe import assert_no_axe_violations

PASSWORD = "cocreate-demo-2026"
PUBLIC = ["/", "/challenges", "/organisations", "/account/register", "/account/sign-in", "/account/password/forgot",
          "{challenge}", "{challenge}/history", "{challenge}/questions", "{organisation}",
          "/fields", "{field}", "/calendar", "/calendar?view=week", "{field}/calendar", "/notices", "/trials", "{trial}",
          "{call}", "/search", "/search?q=%E9%AB%98%E5%B3%B6%E5%B9%B3", "/search?q=mobility&type=proposal",
          "/about", "/help", "/terms", "/privacy", "/accessibility", "/contact", "/transparency", "/open-data"]
RESIDENT = ["{challenge}/proposals", "{challenge}/comments", "/account", "/account/profile", "/account/password", "/account/email", "/account/residency",
            "/account/export", "/account/delete", "/account/organisations", "/notifications", "/organisations/new",
            "/notices/subscriptions", "/my/participation", "/account/following", "/account/notifications"]
COMPANY = ["{organisation}/members", "{organisation}/edit", "/bookings", "/bookings/new", "{trial}/edit",
           "{trial}/updates/new", "{trial}/results", "{call}/applications"]
COORDINATOR = ["/coordinate/bookings", "/coordinate/fields", "/coordinate/fields/new", "/coordinate/fields/{field_id}/edit",
               "/coordinate/calendar-feed", "/trials/new", "{call}/edit", "{trial}/calls/new"]
STAFF = ["/staff/challenges", "/staff/challenges/new", "/staff/challenges/{owned}/edit",
         "/staff/challenges/{owned}/voting", "/staff/challenges/{owned}/reviewers",
         "/staff/challenges/{owned}/review", "/staff/challenges/{owned}/decisions",
         "/staff/challenges/{owned}/preview", "/staff/challenges/{owned}/briefings",
         "/staff/challenges/{owned}/briefings/new", "/staff/residency", "/open-data"]
ADMIN = ["/admin", "/admin/users", "/admin/departments", "/admin/departments/new", "/admin/staff/invite",
         "/admin/audit", "/admin/organisations", "/admin/organisations/{organisation_id}", "/moderation",
         "/admin/pages", "/admin/pages/terms/edit", "/admin/pages/privacy/revisions"]


@pytest.fixture
def context_for(browser: Browser, base_url: str) -> Iterator[Callable[[str | None], Page]]:
    contexts: list[BrowserContext] = []

    def make(email: str | None) -> Page:
        context = browser.new_context(base_url=base_url, locale="ja-JP", timezone_id="Asia/Tokyo")
        contexts.append(context)
        page = context.new_page()
        if email:
            page.goto("/account/sign-in")
            page.locator("#field-email").fill(email)
            page.locator("#field-password").fill(PASSWORD)
            page.locator("#field-password").press("Enter")
            expect(page.locator("#sign-out")).to_be_attached()
        return page

    yield make
    for context in contexts:
        context.close()


def _places(page: Page) -> dict[str, str]:
    """Addresses of a public challenge, one owned by the demo staff's department, and an organisation."""
    page.goto("/challenges")
    challenge = page.locator("#challenge-list a[href^='/challenges/']").first.get_attribute("href")
    page.goto("/organisations")
    organisation = page.locator("main a[href^='/organisations/']").filter(
        has_text=re.compile("いたばしモビリティ")).first.get_attribute("href")
    page.goto("/fields")
    field = page.locator("main a[href^='/fields/']").filter(has_text="高島平駅前プラザ").first.get_attribute("href")
    page.goto("/trials")
    trial = page.locator("main a[href^='/trials/']").filter(has_text="マイクロモビリティ").first.get_attribute("href")
    assert challenge and organisation and field and trial
    page.goto(trial)
    call = page.locator("main a[href^='/calls/']").first.get_attribute("href")
    assert call, "the demo trial has no recruitment call"
    return {"challenge": challenge, "organisation": organisation, "organisation_id": organisation.rsplit("/", 1)[1],
            "field": field, "field_id": field.rsplit("/", 1)[1], "trial": trial, "call": call.split("/applications")[0]}


def _sweep(page: Page, paths: list[str], places: dict[str, str], who: str) -> None:
    for template in paths:
        path = template.format(**places)
        for locale in ("ja", "en"):
            separator = "&" if "?" in path else "?"
            response = page.goto(f"{path}{separator}lang={locale}")
            assert response is not None and response.status == 200, f"{who}: {path} answered {response and response.status}"
            expect(page.locator("html")).to_have_attribute("lang", locale)
            assert_no_axe_violations(page, f"{who}: {path} ({locale})")
        page.goto(f"{path}{'&' if '?' in path else '?'}lang=ja")  # back to Japanese for the next page


def test_public_pages(context_for: Callable[[str | None], Page]) -> None:
    page = context_for(None)
    _sweep(page, PUBLIC, _places(page), "visitor")


def test_resident_and_organisation_pages(context_for: Callable[[str | None], Page]) -> None:
    places = _places(context_for(None))
    _sweep(context_for("demo-resident@example.jp"), RESIDENT, places, "resident")
    _sweep(context_for("demo-company@example.jp"), COMPANY, places, "organisation admin")


def test_coordinator_pages(context_for: Callable[[str | None], Page]) -> None:
    places = _places(context_for(None))
    coordinator = context_for("demo-coordinator@example.jp")
    coordinator.goto("/coordinate/bookings")
    booking = coordinator.locator("main a[href^='/bookings/']").first.get_attribute("href")
    assert booking, "the demo coordinator has no booking request to review"
    _sweep(coordinator, [*COORDINATOR, booking], places, "coordinator")


def test_staff_and_admin_pages(context_for: Callable[[str | None], Page]) -> None:
    staff = context_for("demo-staff@example.jp")
    places = _places(staff)
    staff.goto("/staff/challenges")
    owned = staff.locator("#challenges-table a[href$='/edit']").first.get_attribute("href")
    assert owned, "the demo staff's department owns no challenge"
    places["owned"] = owned.split("/")[3]
    _sweep(staff, STAFF, places, "staff")
    admin = context_for("demo-admin@example.jp")
    admin.goto("/admin/users")
    user_link = admin.locator("main table a[href^='/admin/users/']").first.get_attribute("href")
    assert user_link
    _sweep(admin, [*ADMIN, user_link], places, "admin")
