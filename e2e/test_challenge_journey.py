"""Journey: ward staff draft and publish a challenge, an organisation asks a private question, staff answer
it, the answer is public without the asker, and a resident registers for a briefing session.

Four browsers at once, as in real life: the staff member's, the company's, a resident's and an anonymous
visitor's. Every page visited is checked with axe in Japanese; the challenge list, the challenge page
(with its Q&A and briefing sections) and the staff edit form in English too. The answer's e-mail goes
through the real worker to the SMTP sink. Titles and areas carry a token of their own, so other
journeys sharing the live server do not get in the way.
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

from e2e.conftest import LiveServer
from e2e.journey import Checker, reload_until_shown, sign_in, subject_of, text_of
from tests.servers import wait_until

STAFF = "demo-staff@example.jp"
COMPANY = "demo-company@example.jp"
RESIDENT = "demo-resident@example.jp"
COMPANY_USER_NAME = "いたばしモビリティ 担当（デモ）"
COMPANY_NAME = "株式会社いたばしモビリティ（デモ）"
STAFF_DEPARTMENT = "環境政策課"
TOKYO = ZoneInfo("Asia/Tokyo")
MAIL_TIMEOUT = 60  # the worker shares two cores with everything else


def test_challenge_from_draft_to_answered_question_and_briefing(
    page: Page, new_context: Callable[[], BrowserContext], live_server: LiveServer, base_url: str,
    artifacts_dir: Path,
) -> None:
    checker = Checker("challenge-journey", artifacts_dir)
    token = uuid.uuid4().hex[:8]
    title = f"商店街の省エネを、みんなで進めたい（E2E {token}）"
    area = f"E2E地区{token}"
    question_text = f"実証に使える電力データの粒度を教えてください（E2E {token}）。"
    answer_text = f"30分ごとの電力量データを提供できます（E2E {token}）。"
    briefing_title = f"第1回 説明会（E2E {token}）"
    now = datetime.now(TOKYO)
    accepting = (now + timedelta(days=60)).strftime("%Y-%m-%dT10:00")
    voting = (now + timedelta(days=90)).strftime("%Y-%m-%dT10:00")
    briefing_day = (now + timedelta(days=30)).date().isoformat()

    # --- 1. Staff draft the challenge: a wrong total of weights first, then the fix -----------------
    staff = page
    sign_in(staff, STAFF, "/staff/challenges")
    expect(staff.get_by_role("heading", level=1)).to_have_text("担当部署の課題")
    checker.check(staff, "staff challenge list", "staff-list")

    staff.locator("#new-challenge").click()
    expect(staff).to_have_url(re.compile(r"/staff/challenges/new$"))
    expect(staff.get_by_role("heading", level=1)).to_have_text("課題の新規作成")
    checker.check(staff, "new challenge form", "new")

    expect(staff.locator("#field-department_id option:checked")).to_contain_text(STAFF_DEPARTMENT)
    staff.locator("#field-title").fill(title)
    staff.locator("#field-summary").fill("商店街の照明・空調の電力を減らす方法を、事業者と一緒に探します。")
    staff.locator("#field-category").select_option("environment_energy")
    staff.locator("#field-area").fill(area)
    staff.locator("#field-contact_name").fill("環境政策課 計画係")
    staff.locator("#field-contact_email").fill("kankyo-e2e@example.jp")
    staff.locator("#field-criteria-0-name").fill("削減効果")
    staff.locator("#field-criteria-0-weight").fill("60")
    staff.locator("#field-criteria-1-name").fill("実現可能性")
    staff.locator("#field-criteria-1-weight").fill("30")
    # The page's script keeps the total up to date while typing; the server checks it again.
    expect(staff.locator("#criteria-total-value")).to_have_text("90")
    staff.locator("#save-draft").click()

    summary = staff.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("配点の合計が90です。合計が100になるようにしてください。")
    expect(staff.locator("#field-criteria-error")).to_be_visible()
    expect(staff.locator("#field-title")).to_have_value(title)  # what was typed is kept
    checker.check(staff, "new challenge form with an error", "new-error")

    staff.locator("#field-criteria-1-weight").fill("40")
    expect(staff.locator("#criteria-total-value")).to_have_text("100")
    staff.locator("#save-draft").click()
    expect(staff).to_have_url(re.compile(r"/staff/challenges/\d+/edit$"))
    challenge_id = int(re.search(r"/staff/challenges/(\d+)/edit", staff.url).group(1))  # type: ignore[union-attr]
    expect(staff.get_by_role("heading", level=1)).to_have_text("下書きの編集")
    expect(staff.locator("#editing-title")).to_have_text(title)
    expect(staff.locator("#field-criteria-1-weight")).to_have_value("40")
    checker.check(staff, "edit form of a draft", "edit")

    # --- the rest of what publishing needs, in the edit form ----------------------------------------
    staff.locator("#field-background").fill(
        "区内の商店街では、照明と空調の電力が経営を圧迫しています。\n\n脱炭素の目標にも関わります。")
    staff.locator("#field-desired_outcome").fill("商店街の電力使用量を、営業に影響なく2割減らしたい。")
    staff.locator("#field-kpis-0-indicator").fill("商店街の年間電力使用量")
    staff.locator("#field-kpis-0-baseline").fill("1,200")
    staff.locator("#field-kpis-0-target").fill("960")
    staff.locator("#field-kpis-0-unit").fill("MWh")
    staff.locator("#field-phase_accepting").fill(accepting)
    staff.locator("#field-phase_voting").fill(voting)
    staff.locator("#save-challenge").click()
    expect(staff).to_have_url(re.compile(rf"/staff/challenges/{challenge_id}/edit$"))
    expect(staff.get_by_text("下書きを保存しました。")).to_be_visible()
    expect(staff.locator("#field-kpis-0-indicator")).to_have_value("商店街の年間電力使用量")
    expect(staff.locator("#field-phase_voting")).to_have_value(voting)
    checker.check(staff, "edit form after saving", "edit-saved")
    checker.in_english(staff, f"/staff/challenges/{challenge_id}/edit", "staff edit form", "edit")
    expect(staff.get_by_role("heading", level=1)).to_have_text("下書きの編集")

    # --- preview, then publish -----------------------------------------------------------------------
    staff.locator("#preview-link").click()
    expect(staff).to_have_url(re.compile(rf"/staff/challenges/{challenge_id}/preview$"))
    expect(staff.locator("#preview-banner")).to_be_visible()
    expect(staff.get_by_role("heading", level=1)).to_have_text(title)
    expect(staff.get_by_text("商店街の年間電力使用量")).to_be_visible()
    checker.check(staff, "preview of the draft", "preview")

    staff.locator("#publish-button").click()
    expect(staff).to_have_url(re.compile(rf"/staff/challenges/{challenge_id}/edit$"))
    expect(staff.get_by_text("課題を公開しました", exact=False)).to_be_visible()
    expect(staff.locator("#public-link")).to_be_visible()
    checker.check(staff, "edit form of a published challenge", "edit-published")

    # --- a briefing session --------------------------------------------------------------------------
    staff.goto(f"/staff/challenges/{challenge_id}/briefings")
    checker.check(staff, "staff briefing sessions (none yet)", "staff-briefings-empty")
    staff.locator("#briefing-new").click()
    expect(staff).to_have_url(re.compile(rf"/staff/challenges/{challenge_id}/briefings/new$"))
    checker.check(staff, "new briefing session form", "briefing-new")
    staff.locator("#field-title").fill(briefing_title)
    staff.locator("#field-date").fill(briefing_day)
    staff.locator("#field-start_time").fill("14:00")
    staff.locator("#field-end_time").fill("15:30")
    staff.locator("#field-place").fill("板橋区役所 本庁舎 11階 第1委員会室")
    staff.locator("#field-capacity").fill("20")
    staff.locator("#briefing-save").click()
    expect(staff).to_have_url(re.compile(rf"/staff/challenges/{challenge_id}/briefings$"))
    row = staff.locator("#briefings-table tbody tr", has_text=briefing_title)
    expect(row).to_have_count(1)
    briefing_id = int((row.get_attribute("id") or "").removeprefix("briefing-"))
    expect(staff.locator(f"#briefing-{briefing_id}-count")).to_have_text(re.compile(r"^\s*0\s*/\s*20\s*$"))
    checker.check(staff, "staff briefing sessions", "staff-briefings")

    # --- the public page and the list (with its filters) ---------------------------------------------
    visitor = new_context().new_page()
    visitor.goto(f"/challenges/{challenge_id}")
    expect(visitor.get_by_role("heading", level=1)).to_have_text(title)
    expect(visitor.locator("#draft-notice")).to_have_count(0)
    expect(visitor.locator(f"#briefing-{briefing_id}")).to_contain_text("第1委員会室")
    expect(visitor.locator(f"#briefing-{briefing_id}-sign-in")).to_be_visible()
    expect(visitor.locator("#no-questions")).to_be_visible()
    checker.check(visitor, "public challenge page", "detail")

    visitor.goto("/challenges")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("課題一覧")
    visitor.locator("#filter-category").select_option("environment_energy")
    expect(visitor).to_have_url(re.compile(r"category=environment_energy"))
    visitor.locator("#filter-area").select_option(area)
    expect(visitor).to_have_url(re.compile(r"area="))
    visitor.locator("#filter-phase").select_option("published")
    expect(visitor).to_have_url(re.compile(r"phase=published"))
    cards = visitor.locator("#challenge-list li[id^='challenge-']")
    expect(cards).to_have_count(1)
    card = visitor.locator(f"#challenge-{challenge_id}")
    expect(card).to_contain_text(title)
    expect(card).to_contain_text(area)
    checker.check(visitor, "challenge list filtered to the new challenge", "list")
    checker.in_english(visitor, visitor.url.removeprefix(base_url), "challenge list filtered", "list")
    # Loaded in full from the pushed address, the page keeps the filters.
    expect(visitor.locator("#filter-area")).to_have_value(area)
    expect(visitor.locator("#clear-filters")).to_be_visible()
    expect(cards).to_have_count(1)
    visitor.locator(f"#challenge-{challenge_id}-title a").click()
    expect(visitor).to_have_url(re.compile(rf"/challenges/{challenge_id}$"))

    # --- 2. The company asks a private question, on behalf of its organisation ----------------------
    company = new_context().new_page()
    sign_in(company, COMPANY, f"/challenges/{challenge_id}")
    company.locator("#field-body").fill(question_text)
    company.locator("#field-visibility-private").check()
    company.locator("#field-organisation_id").select_option(label=COMPANY_NAME)
    company.locator("#ask-submit").click()
    mine = company.locator("#question-list li.question", has_text=question_text)
    expect(mine).to_have_count(1)
    question_id = int((mine.get_attribute("id") or "").removeprefix("question-"))
    expect(mine).to_contain_text("非公開の質問")
    expect(mine).to_contain_text("回答待ち")
    expect(mine).to_contain_text("回答されるまで、この質問を読めるのはあなたと区の担当職員だけです。")
    expect(company.locator("#field-body")).to_have_value("")
    checker.check(company, "challenge page after asking a private question", "asked")

    # Nobody else can read it yet, not on the challenge page nor at its own address.
    visitor.reload()
    expect(visitor.locator("#questions")).not_to_contain_text(question_text)
    expect(visitor.locator("#no-questions")).to_be_visible()
    response = visitor.request.get(f"/challenges/{challenge_id}/questions/{question_id}")
    assert response.status == 404, response.status

    # --- 3. Staff answer it from the queue on the challenge page ------------------------------------
    staff.goto(f"/challenges/{challenge_id}")
    queued = staff.locator(f"#queue-question-{question_id}")
    expect(queued).to_contain_text(question_text)
    expect(queued).to_contain_text("質問者（職員のみに表示）")
    checker.check(staff, "challenge page with the staff queue", "staff-queue")
    mails_before = len(live_server.mail.messages)
    staff.locator(f"#field-answer-{question_id}").fill(answer_text)
    staff.locator(f"#answer-submit-{question_id}").click()
    answered = staff.locator(f"#question-{question_id}-answer")
    expect(answered).to_contain_text(answer_text)
    expect(answered).to_contain_text(f"{STAFF_DEPARTMENT}からの回答")
    expect(staff.locator(f"#queue-question-{question_id}")).to_have_count(0)
    checker.check(staff, "challenge page after answering", "staff-answered")

    # --- 4. Public now, without the asker -----------------------------------------------------------
    # A visitor's page may come from the anonymous page cache (COCREATE_PUBLIC_CACHE_SECONDS, 2 s) for a
    # moment after the answer: reload until the cached copy from step 2 has made way.
    public = visitor.locator(f"#question-{question_id}")
    reload_until_shown(visitor, public)
    expect(public).to_contain_text(question_text)
    expect(public).to_contain_text(answer_text)
    expect(public).to_contain_text("回答済み")
    questions = visitor.locator("#questions")
    for name in (COMPANY_USER_NAME, COMPANY_NAME, "いたばしモビリティ"):
        expect(questions).not_to_contain_text(name)
    checker.check(visitor, "challenge page with the answered question", "detail-answered")
    checker.in_english(visitor, f"/challenges/{challenge_id}", "challenge page with Q&A and briefings",
                       "detail-answered")
    visitor.locator(f"#question-{question_id}-title a").click()
    expect(visitor).to_have_url(re.compile(rf"/challenges/{challenge_id}/questions/{question_id}$"))
    expect(visitor.locator("main")).to_contain_text(answer_text)
    expect(visitor.locator("main")).not_to_contain_text("いたばしモビリティ")
    checker.check(visitor, "page of the answered question", "question")

    # --- 5. A resident registers for the briefing session -------------------------------------------
    resident = new_context().new_page()
    sign_in(resident, RESIDENT, f"/challenges/{challenge_id}")
    seats = resident.locator(f"#briefing-{briefing_id}-seats")
    expect(seats).to_have_text("残り20席（定員20名）")
    resident.locator(f"#briefing-{briefing_id}-register").click()
    expect(resident.locator(f"#briefing-{briefing_id}-registered")).to_have_text("申込済み")
    expect(seats).to_have_text("残り19席（定員20名）")
    expect(resident.locator(f"#briefing-{briefing_id}-cancel")).to_be_visible()
    checker.check(resident, "challenge page after registering for a briefing", "registered")

    ics_link = resident.locator(f"#briefing-{briefing_id}-ics")
    with resident.expect_download() as download_info:
        ics_link.click()
    download = download_info.value
    assert download.suggested_filename == f"briefing-{briefing_id}.ics"
    calendar = Path(download.path()).read_text(encoding="utf-8")
    assert calendar.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in calendar, calendar[:500]
    assert re.search(rf"^DTSTART;TZID=Asia/Tokyo:{briefing_day.replace('-', '')}T140000\r?$", calendar, re.M), calendar
    ics = resident.request.get(ics_link.get_attribute("href") or "")
    assert ics.ok and ics.headers["content-type"].startswith("text/calendar"), ics.headers

    # The staff list counts the registration.
    staff.goto(f"/staff/challenges/{challenge_id}/briefings")
    expect(staff.locator(f"#briefing-{briefing_id}-count")).to_have_text(re.compile(r"^\s*1\s*/\s*20\s*$"))

    # --- 6. The asker is told: by e-mail through the worker, and in the site ------------------------
    def answer_mail() -> Message | None:
        for message in list(live_server.mail.messages)[mails_before:]:
            if COMPANY in message["To"] and title in subject_of(message):
                return message
        return None

    mail = wait_until(answer_mail, MAIL_TIMEOUT, f"the answer's e-mail to {COMPANY}")
    assert isinstance(mail, Message)
    assert subject_of(mail) == f"質問に回答がありました：{title}"
    body = text_of(mail)
    assert f"{base_url}/challenges/{challenge_id}/questions/{question_id}" in body, body

    company.goto("/notifications")
    notice = company.locator("#notification-list li", has_text=title)
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text(f"「{title}」へのあなたの質問に回答がありました。")
    expect(notice.locator("[id$='-unread']")).to_be_visible()
    checker.check(company, "notifications of the asker", "notifications")
    notice.get_by_role("link").click()
    expect(company).to_have_url(re.compile(rf"/challenges/{challenge_id}/questions/{question_id}$"))
    expect(company.locator("main")).to_contain_text(answer_text)
