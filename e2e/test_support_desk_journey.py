"""Journey: the ward's support desk (代理入力) enters a resident's opinion from a paper form, then a workshop's
twenty opinions from a CSV file (with a preview of every row before anything is recorded); the public sees
each marked as entered by the ward, without a name, and never the desk's private note. The printable A4 sheet
of the challenge is checked too.

Run with JavaScript on (every page checked with axe in Japanese, and the desk's pages in English) and off
(the same flow: every form is a plain form). Texts carry a token of their own, so other journeys sharing the
live server do not get in the way.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from e2e.axe import assert_no_axe_violations
from e2e.journey import Checker, reload_until_shown, sign_in

DESK = "demo-desk@example.jp"
PAPER_MARK = re.compile("紙の用紙から区が代理入力|Entered by the ward from a paper form")
WORKSHOP_MARK = re.compile("ワークショップから区が代理入力|Entered by the ward from a workshop")


def _workshop_csv(token: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["opinion", "note"])
    for n in range(1, 21):
        writer.writerow([f"ワークショップの意見 {n}：歩道を広げてほしい（E2E {token}）", f"付箋 {n}"])
    return out.getvalue().encode("utf-8-sig")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_support_desk_enters_a_paper_opinion_and_a_workshop_csv(
    browser: Browser, base_url: str, new_context: Callable[[], BrowserContext], artifacts_dir: Path,
    javascript: bool,
) -> None:
    checker = Checker(f"support-desk-journey-{'js' if javascript else 'no-js'}", artifacts_dir)
    token = uuid.uuid4().hex[:8]
    paper_text = f"公園のベンチを増やしてほしいです（E2E {token}）。"
    paper_note = f"用紙 No. {token}"
    context = browser.new_context(base_url=base_url, locale="ja-JP", timezone_id="Asia/Tokyo",
                                  viewport={"width": 1280, "height": 800}, java_script_enabled=javascript)
    desk = context.new_page()

    def check(label: str, shot: str, english_path: str | None = None) -> None:
        if javascript:
            checker.check(desk, label, shot)
            if english_path:
                checker.in_english(desk, english_path, label, shot)

    try:
        # --- 1. The desk's own area, from the account menu ----------------------------------------------
        sign_in(desk, DESK, "/desk")
        expect(desk.get_by_role("heading", level=1)).to_have_text(re.compile("窓口代理入力|Support desk"))
        expect(desk.locator("#nav-desk")).to_be_attached()
        check("support desk home", "home", "/desk")

        desk.locator("#desk-voice-link").click()
        expect(desk).to_have_url(re.compile(r"/desk/voices/new$"))
        check("assisted voice form", "voice-form", "/desk/voices/new")
        desk.goto("/desk")

        # --- 2. One opinion from a paper form: consent first forgotten, then given --------------------------
        desk.locator("#desk-comment-link").click()
        expect(desk).to_have_url(re.compile(r"/desk/comments/new$"))
        check("assisted comment form", "comment-form", "/desk/comments/new")
        options = desk.locator("#field-challenge_id option").evaluate_all(
            "options => options.map(o => [o.value, o.textContent])") if javascript else None
        challenge_value = desk.locator("#field-challenge_id option:not([value=''])").first.get_attribute("value")
        assert challenge_value and (options is None or any(value == challenge_value for value, _ in options))
        desk.locator("#field-challenge_id").select_option(challenge_value)
        desk.locator("#field-channel").select_option("paper")
        desk.locator("#field-body").fill(paper_text)
        desk.locator("#field-note").fill(paper_note)
        desk.locator("#desk-comment-submit").click()
        expect(desk.locator("#error-summary")).to_be_visible()
        expect(desk.locator("#field-consent-error")).to_be_visible()
        expect(desk.locator("#field-body")).to_have_value(paper_text)  # what was typed is kept
        check("assisted comment form with an error", "comment-form-error")
        desk.locator("#field-consent").check()
        desk.locator("#desk-comment-submit").click()
        expect(desk).to_have_url(re.compile(r"/desk$"))
        expect(desk.locator("#desk-recent")).to_contain_text(paper_note)

        # The public page: the marker instead of a name, no private note.
        visitor = new_context().new_page()
        visitor.goto(f"/challenges/{challenge_value}")
        comment = visitor.locator(".comment", has_text=paper_text)
        expect(comment).to_have_count(1)
        expect(comment.locator(".comment-assisted")).to_have_text(PAPER_MARK)
        expect(visitor.locator("main")).not_to_contain_text(paper_note)
        if javascript:
            assert_no_axe_violations(visitor, "challenge page with an assisted comment (ja)")

        # --- 3. A workshop's twenty opinions from a CSV file ----------------------------------------------
        desk.goto(f"/challenges/{challenge_value}")
        desk.locator("#challenge-desk-bulk-link").click()
        expect(desk).to_have_url(re.compile(rf"/desk/bulk/comments\?challenge={challenge_value}$"))
        expect(desk.locator("#field-challenge_id")).to_have_value(challenge_value)
        expect(desk.locator("#desk-columns")).to_contain_text("opinion")
        check("bulk opinions form", "bulk", f"/desk/bulk/comments?challenge={challenge_value}")
        desk.locator("#field-channel").select_option("workshop")
        desk.locator("#field-file").set_input_files(
            files=[{"name": "workshop.csv", "mimeType": "text/csv", "buffer": _workshop_csv(token)}])
        desk.locator("#desk-csv-check").click()
        expect(desk.locator("#desk-preview tbody tr.row-valid")).to_have_count(20)
        expect(desk.locator("#desk-preview tbody tr.row-invalid")).to_have_count(0)
        check("preview of the workshop's rows", "preview")
        desk.locator("#field-consent").check()
        desk.locator("#desk-confirm").click()
        expect(desk).to_have_url(re.compile(r"/desk$"))
        expect(desk.locator("#desk-recent")).to_contain_text("付箋 20")

        visitor.goto(f"/challenges/{challenge_value}")
        workshop = visitor.locator(".comment", has_text=f"：歩道を広げてほしい（E2E {token}）")
        reload_until_shown(visitor, workshop)  # the visitor's copy from step 2 may still be cached
        expect(workshop.first).to_be_visible()
        expect(workshop.first.locator(".comment-assisted")).to_have_text(WORKSHOP_MARK)
        expect(visitor.locator("main")).not_to_contain_text("付箋 20")

        # --- 4. The administrators' counts: assisted entries apart from online ones ------------------------
        if javascript:
            admin = new_context().new_page()
            sign_in(admin, "demo-admin@example.jp", "/admin")
            workshop_comments = admin.locator("#channel-counts-workshop td").nth(1)
            assert int(workshop_comments.inner_text().replace(",", "")) >= 20
            assert_no_axe_violations(admin, "administration dashboard with the channel counts (ja)")
            Checker("support-desk-journey-js", artifacts_dir).in_english(admin, "/admin", "admin dashboard", "admin")

        # --- 5. The challenge's printable sheet -----------------------------------------------------------
        visitor.goto(f"/challenges/{challenge_value}")
        visitor.locator("#challenge-print-link").click()
        expect(visitor).to_have_url(re.compile(rf"/challenges/{challenge_value}/print$"))
        expect(visitor.locator("#print-url")).to_contain_text(f"/challenges/{challenge_value}")
        expect(visitor.locator("svg.print-qr")).to_be_visible()
        if javascript:
            assert_no_axe_violations(visitor, "printable sheet (ja)")
            Checker("support-desk-journey-js", artifacts_dir).in_english(
                visitor, f"/challenges/{challenge_value}/print", "printable sheet", "sheet")
            visitor.emulate_media(media="print")
            expect(visitor.locator(".site-header")).to_be_hidden()
            expect(visitor.locator("svg.print-qr")).to_be_visible()
            # Printed, it is one A4 page (595 x 842 points), as the stylesheet's @page asks.
            pdf = visitor.pdf(prefer_css_page_size=True, print_background=True)
            (artifacts_dir / "support-desk-journey-sheet.pdf").write_bytes(pdf)
            pages = re.findall(rb"/Type\s*/Page[^s]", pdf)
            boxes = {tuple(round(float(n)) for n in box.split()) for box in
                     re.findall(rb"/MediaBox\s*\[\s*([\d.\s]+?)\s*\]", pdf)}
            assert len(pages) == 1, f"{len(pages)} pages"
            assert boxes == {(0, 0, 595, 842)} or boxes == {(0, 0, 596, 842)}, boxes
    finally:
        context.close()
