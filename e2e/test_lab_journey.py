"""Journey: a company requests a test field with two mistakes and sees both, fixes them, uploads the required
documents and submits; the field's coordinator approves; a resident who follows the field gets the notice
by e-mail through the real worker and SMTP sink; the booking shows in the field's calendar and .ics feed.

Three browsers: the company's, the coordinator's and an anonymous visitor's. Every page visited is checked
with axe in Japanese, and the request form (with its errors), the booking page, the notice page and the
calendar in English too. The booking's title carries a token of its own and its date is chosen far from
the demo bookings, so other journeys sharing the live server do not get in the way.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import BrowserContext, Page, expect

from e2e.axe import assert_no_axe_violations
from e2e.conftest import LiveServer
from e2e.journey import Checker, sign_in, subject_of, text_of
from tests.servers import wait_until

COMPANY = "demo-company@example.jp"
COORDINATOR = "demo-coordinator@example.jp"
RESIDENT = "demo-resident@example.jp"  # the demo resident follows the plaza field
FIELD_NAME = "高島平駅前プラザと周辺街路"
TOKYO = ZoneInfo("Asia/Tokyo")
MAIL_TIMEOUT = 60  # the worker shares two cores with everything else
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def field_id_of(page: Page) -> int:
    page.goto("/fields")
    link = page.locator("main a[href^='/fields/']").filter(has_text=FIELD_NAME).first
    href = link.get_attribute("href")
    assert href is not None
    return int(href.rsplit("/", 1)[1])


def fill_request(page: Page, title: str, day: str, start: str, end: str, description: str) -> None:
    page.locator("#field-title").fill(title)
    page.locator("#field-period-1-start-input").fill(f"{day}T{start}")
    page.locator("#field-period-1-end-input").fill(f"{day}T{end}")
    page.locator("#field-public_description").fill(description)
    page.locator("#field-purpose").fill("高齢者の移動支援としての受容性を確かめるため。")
    page.locator("#field-expected_people").fill("30")


def test_booking_from_request_to_notice_calendar_and_feed(
    page: Page, new_context: Callable[[], BrowserContext], live_server: LiveServer, artifacts_dir: Path,
) -> None:
    checker = Checker("lab-journey", artifacts_dir)
    token = uuid.uuid4().hex[:8]
    title = f"電動キックボード試乗会（E2E {token}）"
    description = f"駅前広場で電動キックボードの試乗会を行います（E2E {token}）。"
    # Between 40 and 80 days ahead: past the plaza's 72 hours' notice, within its 90 days, after the demo's
    # bookings and blackouts.
    day = (datetime.now(TOKYO) + timedelta(days=40 + int(token, 16) % 40)).date()
    day_text = day.isoformat()

    # --- 1. The company finds the field and asks for it: too late in the evening and too short -------
    company = page
    sign_in(company, COMPANY, "/fields")
    field_id = field_id_of(company)
    company.goto(f"/fields/{field_id}")
    expect(company.get_by_role("heading", level=1)).to_have_text(FIELD_NAME)
    expect(company.locator("#field-map-link, a[href*='openstreetmap.org']").first).to_be_attached()
    checker.check(company, "field page (company)", "field")
    company.locator("#request-field").click()
    expect(company).to_have_url(re.compile(rf"/bookings/new\?field_id={field_id}$"))
    checker.check(company, "empty request form", "form")
    fill_request(company, title, day_text, "22:00", "22:30", description)
    company.locator("#submit-request").click()

    summary = company.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("期間1：利用できる時間帯")
    expect(summary).to_contain_text("期間1：短すぎます")
    expect(company.locator("#field-title")).to_have_value(title)  # what was typed is kept
    checker.check(company, "request form with two broken rules", "form-errors")
    # The same mistakes in English: the messages are translated, and the page is as accessible.
    company.goto(f"/bookings/new?field_id={field_id}&lang=en")
    fill_request(company, title, day_text, "22:00", "22:30", description)
    company.locator("#submit-request").click()
    expect(summary).to_contain_text("Period 1: outside bookable hours")
    expect(summary).to_contain_text("Period 1: too short")
    assert_no_axe_violations(company, "request form with two broken rules (en)")

    # --- 2. The company fixes the period, saves a draft, uploads the documents and submits ------------
    company.goto(f"/bookings/new?field_id={field_id}&lang=ja")
    fill_request(company, title, day_text, "10:00", "12:00", description)
    company.locator("#save-draft").click()
    expect(company).to_have_url(re.compile(r"/bookings/\d+$"))
    booking_id = int(company.url.rsplit("/", 1)[1])
    expect(company.locator("h1")).to_contain_text(title)
    for value in ("road_use_permit", "safety_plan", "insurance"):
        company.locator("#field-document").select_option(value)
        company.locator("#field-file").set_input_files(
            {"name": f"{value}.pdf", "mimeType": "application/pdf", "buffer": PDF})
        company.locator("#upload-document").click()
        expect(company.locator("main")).to_contain_text(f"{value}.pdf")
    checker.check(company, "draft with its documents", "draft")
    company.locator("#submit-booking").click()
    expect(company.locator(".booking-status").first).to_have_text("申請済み")
    checker.check(company, "submitted request", "submitted")
    checker.in_english(company, f"/bookings/{booking_id}", "submitted request", "submitted")

    # --- 3. The coordinator finds it in the queue and approves it --------------------------------------
    coordinator = new_context().new_page()
    sign_in(coordinator, COORDINATOR, "/coordinate/bookings")
    expect(coordinator.locator("main")).to_contain_text(title)
    checker.check(coordinator, "coordinator's queue", "queue")
    coordinator.goto(f"/bookings/{booking_id}")
    checker.check(coordinator, "request seen by the coordinator", "review")
    mails_before = len(live_server.mail.messages)
    coordinator.locator("#approve-booking").click()
    expect(coordinator.locator(".booking-status").first).to_have_text("承認")
    checker.check(coordinator, "approved booking", "approved")

    # --- 4. The resident who follows the field is told, once, by e-mail ---------------------------------
    def notice_mail() -> Message | None:
        for message in list(live_server.mail.messages)[mails_before:]:
            if RESIDENT in message["To"] and title in text_of(message):
                return message
        return None

    mail = wait_until(notice_mail, MAIL_TIMEOUT, f"the notice e-mail to {RESIDENT}")
    assert isinstance(mail, Message)
    body = text_of(mail)
    assert FIELD_NAME in subject_of(mail) or FIELD_NAME in body
    assert description in body
    assert f"/bookings/{booking_id}/notice" in body
    assert "10:00–12:00" in body
    assert "高齢者の移動支援" not in body  # the purpose is private
    resident_mails = [m for m in live_server.mail.messages[mails_before:]
                      if RESIDENT in m["To"] and title in text_of(m)]
    assert len(resident_mails) == 1

    # --- 5. Anyone sees the notice, the calendar and the feed ------------------------------------------
    visitor = new_context().new_page()
    visitor.goto(f"/bookings/{booking_id}/notice")
    expect(visitor.locator("main")).to_contain_text(title)
    expect(visitor.locator("main")).to_contain_text(description)
    expect(visitor.locator("main")).not_to_contain_text("高齢者の移動支援")
    checker.check(visitor, "public notice page", "notice")
    checker.in_english(visitor, f"/bookings/{booking_id}/notice", "public notice page", "notice")

    visitor.goto(f"/fields/{field_id}/calendar?view=week&date={day_text}")
    expect(visitor.locator("main")).to_contain_text(title)
    checker.check(visitor, "field calendar, week", "calendar-week")
    checker.in_english(visitor, f"/fields/{field_id}/calendar?view=week&date={day_text}", "field calendar, week",
                       "calendar-week")
    visitor.goto(f"/calendar?view=month&date={day_text}")
    expect(visitor.locator("main")).to_contain_text(title)
    checker.check(visitor, "calendar of every field, month", "calendar-month")

    feed = visitor.request.get(f"/fields/{field_id}/calendar.ics")
    assert feed.status == 200 and feed.headers["content-type"].startswith("text/calendar")
    ics = feed.text()
    unfolded = re.sub(r"\r?\n[ \t]", "", ics)
    assert title in unfolded
    start_utc = datetime.fromisoformat(f"{day_text}T10:00").replace(tzinfo=TOKYO).astimezone(ZoneInfo("UTC"))
    assert f"DTSTART:{start_utc:%Y%m%dT%H%M%S}Z" in unfolded
    assert "高齢者の移動支援" not in unfolded
