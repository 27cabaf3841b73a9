"""Journey: ward staff build a survey (a choice, a scale, and a section shown only to those who chose 「はい」),
preview and publish it; a resident answers, then changes the answers (the section that no longer applies is
left out, and the page says so); the support desk enters a resident's paper answers.

Run with JavaScript on (every page checked with axe in Japanese and in English; the conditional section is
hidden until its choice is picked) and off (the same flow with plain forms; the conditional section shows
with the condition it needs, and the server leaves it out). Titles carry a token of their own, so other
journeys sharing the live server do not get in the way.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from e2e.journey import Checker, sign_in

STAFF = "demo-staff@example.jp"
RESIDENT = "demo-resident@example.jp"
DESK = "demo-desk@example.jp"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_staff_build_a_survey_a_resident_answers_and_the_desk_enters_paper_answers(
    browser: Browser, base_url: str, new_context: Callable[[], BrowserContext], artifacts_dir: Path,
    javascript: bool,
) -> None:
    checker = Checker(f"survey-journey-{'js' if javascript else 'no-js'}", artifacts_dir)
    token = uuid.uuid4().hex[:8]
    title = f"公園の使い方アンケート（E2E {token}）"
    contexts: list[BrowserContext] = []

    def page_of(email: str, path: str):  # type: ignore[no-untyped-def]
        context = browser.new_context(base_url=base_url, locale="ja-JP", timezone_id="Asia/Tokyo",
                                      viewport={"width": 1280, "height": 800}, java_script_enabled=javascript)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, email, path)
        return page

    def check(page, label: str, shot: str, english_path: str | None = None) -> None:  # type: ignore[no-untyped-def]
        if javascript:
            checker.check(page, label, shot)
            if english_path:
                checker.in_english(page, english_path, label, shot)

    try:
        # --- 1. Staff build the survey ------------------------------------------------------------------
        staff = page_of(STAFF, "/staff/surveys")
        expect(staff.get_by_role("heading", level=1)).to_have_text(re.compile("アンケートの作成|Surveys to build"))
        check(staff, "staff survey list", "staff-list", "/staff/surveys")
        staff.locator("#survey-new").click()
        expect(staff).to_have_url(re.compile(r"/staff/surveys/new$"))
        check(staff, "new survey form", "new", "/staff/surveys/new")
        staff.locator("#survey-create").click()  # no title: a form error, nothing created
        expect(staff.locator("#field-title-error")).to_be_visible()
        staff.locator("#field-title").fill(title)
        staff.locator("#field-description").fill("公園の**使い方**を教えてください。")
        staff.locator("#survey-create").click()
        expect(staff).to_have_url(re.compile(r"/staff/surveys/\d+$"))
        survey_id = int(re.search(r"/staff/surveys/(\d+)$", staff.url).group(1))  # type: ignore[union-attr]
        edit_path = f"/staff/surveys/{survey_id}"

        staff.locator("#field-question_kind").select_option("single")
        staff.locator("#field-question_prompt").fill("公園を利用しますか")
        staff.locator("#field-question_options").fill("はい\nいいえ")
        staff.locator("#field-question_required").check()
        staff.locator("#question-add").click()
        expect(staff.locator(".survey-builder-questions")).to_contain_text("公園を利用しますか")

        staff.locator("#field-question_kind").select_option("scale")
        staff.locator("#field-question_prompt").fill("満足度を教えてください")
        staff.locator("#field-question_scale_min_label").fill("不満")
        staff.locator("#field-question_scale_max_label").fill("満足")
        staff.locator("#question-add").click()
        expect(staff.locator(".survey-builder-questions")).to_contain_text("満足度を教えてください")

        staff.locator("#field-question_kind").select_option("multiple")
        staff.locator("#field-question_prompt").fill("公園で何をしますか")
        staff.locator("#field-question_options").fill("散歩\n運動\n読書")
        staff.locator("#field-question_max_choices").fill("2")
        staff.locator("#question-add").click()
        expect(staff.locator(".survey-builder-questions")).to_contain_text("公園で何をしますか")

        staff.locator("#field-question_kind").select_option("matrix")
        staff.locator("#field-question_prompt").fill("設備の評価")
        staff.locator("#field-question_options").fill("良い\nふつう\n悪い")
        staff.locator("#field-question_rows").fill("ベンチ\nトイレ")
        staff.locator("#question-add").click()
        expect(staff.locator(".survey-builder-questions")).to_contain_text("設備の評価")

        staff.locator("#field-section_title").fill("利用している方へ")
        staff.locator("#field-section_show_if_option_id").select_option(label="公園を利用しますか → はい")
        staff.locator("#section-add").click()
        expect(staff.locator("main")).to_contain_text("利用している方へ")

        staff.locator("#field-question_kind").select_option("text")
        staff.locator("#field-question_prompt").fill("改善してほしい点")
        staff.locator("#field-question_section_id").select_option(label="利用している方へ")
        staff.locator("#question-add").click()
        expect(staff.locator(".survey-builder-questions").nth(1)).to_contain_text("改善してほしい点")
        check(staff, "survey builder", "builder", edit_path)

        staff.locator("#survey-preview-link").click()
        expect(staff.locator("#survey-preview-notice")).to_be_visible()
        check(staff, "survey preview", "preview", f"{edit_path}/preview")
        staff.goto(edit_path)
        staff.locator("#survey-publish").click()
        expect(staff.locator("#survey-frozen")).to_be_visible()
        expect(staff.locator("#question-form")).to_have_count(0)  # questions are frozen once published

        # --- 2. A resident answers, then changes the answers -----------------------------------------------
        resident = page_of(RESIDENT, "/surveys")
        expect(resident.locator("#nav-surveys")).to_be_attached()
        card = resident.locator("#open-surveys li", has_text=token)
        expect(card).to_have_count(1)
        check(resident, "public survey list", "list", "/surveys")
        card.get_by_role("link", name=title).click()
        expect(resident).to_have_url(re.compile(rf"/surveys/{survey_id}$"))
        check(resident, "survey form", "form", f"/surveys/{survey_id}")
        section = resident.locator(".survey-section[data-show-if]")
        if javascript:
            expect(section).to_be_hidden()
        else:
            expect(section.locator(".survey-condition")).to_be_visible()
        resident.locator("#survey-submit").click()  # the required question left out
        expect(resident.locator("#error-summary")).to_be_visible()
        check(resident, "survey form with an error", "form-error")
        resident.get_by_label("はい", exact=True).check()
        if javascript:
            expect(section).to_be_visible()
        resident.get_by_label("4", exact=True).check()
        resident.get_by_label("散歩", exact=True).check()
        resident.get_by_role("radio", name="ベンチ 良い").check()
        resident.get_by_label("改善してほしい点").fill(f"ベンチを増やしてほしい {token}")
        check(resident, "survey form, answered", "form-filled")
        resident.locator("#survey-submit").click()
        expect(resident.locator("#flash-messages")).to_contain_text(re.compile("回答を保存しました|Your answers were saved"))
        expect(resident.locator("#survey-own")).to_be_visible()
        expect(resident.get_by_label("改善してほしい点")).to_have_value(f"ベンチを増やしてほしい {token}")

        resident.get_by_label("いいえ", exact=True).check()
        if javascript:
            expect(section).to_be_hidden()
        resident.locator("#survey-submit").click()
        expect(resident.locator("#flash-messages")).to_contain_text(re.compile("回答を変更しました|Your answers were changed"))
        if not javascript:  # the section was sent and left out: the page says so
            expect(resident.locator("#flash-messages")).to_contain_text("利用している方へ")
        expect(resident.get_by_label("いいえ", exact=True)).to_be_checked()
        expect(resident.get_by_label("改善してほしい点")).to_have_value("")

        # --- 3. The desk enters a resident's paper answers -------------------------------------------------
        desk = page_of(DESK, "/desk")
        desk.locator("#desk-surveys-link").click()
        expect(desk).to_have_url(re.compile(r"/desk/surveys$"))
        check(desk, "desk survey list", "desk-list", "/desk/surveys")
        desk.locator(f"#desk-survey-{survey_id}").click()
        desk.locator("#field-channel").select_option("paper")
        desk.get_by_label("はい", exact=True).check()
        desk.get_by_label("改善してほしい点").fill("トイレをきれいにしてほしい")
        desk.locator("#field-desk_note").fill(f"用紙 {token}")
        desk.locator("#desk-survey-submit").click()  # consent forgotten
        expect(desk.locator("#field-consent-error")).to_be_visible()
        expect(desk.get_by_label("改善してほしい点")).to_have_value("トイレをきれいにしてほしい")
        check(desk, "desk survey entry with an error", "desk-error", None)
        desk.locator("#field-consent").check()
        desk.locator("#desk-survey-submit").click()
        expect(desk.locator("#flash-messages")).to_contain_text(re.compile("区民の回答を登録しました|The resident's answers were recorded"))
        check(desk, "desk survey entry", "desk-entry", f"/desk/surveys/{survey_id}")

        staff.goto(edit_path)
        expect(staff.locator("#survey-status")).to_contain_text(re.compile("回答2件|2 responses"))
    finally:
        for context in contexts:
            context.close()
