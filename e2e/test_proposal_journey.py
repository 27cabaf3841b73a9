"""Journey: a verified company submits a proposal (seeing a similar one while typing), a resident comments
and votes, a reviewer scores it, staff publish the decisions and the proposer sees the outcome.

The demo challenges keep fixed phases, so ward staff create and publish a fresh challenge of their own and
move its phase by hand on their edit page, as they would when plans change. Four browsers: the staff
member's, the company's, a resident's and the reviewer's. Every page visited is checked with axe in
Japanese; the proposal form, the proposal page and the decisions page in English too. Titles carry a
token of their own, so other journeys sharing the live server do not get in the way.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from e2e.journey import Checker, sign_in

STAFF = "demo-staff@example.jp"
COMPANY = "demo-company@example.jp"
RESIDENT = "demo-resident@example.jp"
REVIEWER = "demo-reviewer@example.jp"
REVIEWER_NAME = "審査員（デモ）"
COMPANY_NAME = "株式会社いたばしモビリティ（デモ）"
PHASE_LABELS = {"accepting": "提案募集中", "voting": "意見募集・投票", "review": "審査中", "decided": "選定済み"}


def move_phase(staff: Page, challenge_id: int, phase: str, reason: str, checker: Checker) -> None:
    """Staff move the challenge by hand on its edit page (target phase and a public reason)."""
    staff.goto(f"/staff/challenges/{challenge_id}/edit")
    checker.check(staff, f"staff edit page before moving to {phase}", f"move-{phase}")
    staff.locator("#field-phase").select_option(phase)
    staff.locator("#field-reason").fill(reason)
    staff.locator("#move-button").click()
    expect(staff.locator("#current-phase")).to_have_text(PHASE_LABELS[phase])


def fill_proposal(page: Page, title: str, summary: str, description: str) -> None:
    page.locator("#field-organisation_id").select_option(label=COMPANY_NAME)
    page.locator("#field-title").fill(title)
    page.locator("#field-summary").fill(summary)
    page.locator("#field-description").fill(description)


def save_and_submit(page: Page, title: str, checker: Checker, shot: str) -> int:
    """Save the open proposal form as a draft, then submit it from the proposal's page; its id."""
    page.locator("#proposal-save").click()
    expect(page).to_have_url(re.compile(r"/proposals/\d+$"))
    proposal_id = int(re.search(r"/proposals/(\d+)$", page.url).group(1))  # type: ignore[union-attr]
    expect(page.locator("#proposal-title")).to_have_text(title)
    expect(page.locator("#draft-notice")).to_be_visible()
    checker.check(page, f"draft proposal page ({shot})", f"{shot}-draft")
    page.locator("#submit-button").click()
    expect(page.locator("#draft-notice")).to_have_count(0)
    expect(page.locator("#proposal .badge-submitted")).to_be_visible()
    checker.check(page, f"submitted proposal page ({shot})", f"{shot}-submitted")
    return proposal_id


def test_proposal_from_submission_to_published_decision(
    page: Page, new_context: Callable[[], BrowserContext], artifacts_dir: Path,
) -> None:
    checker = Checker("proposal-journey", artifacts_dir)
    token = uuid.uuid4().hex[:8]
    challenge_title = f"公園の見守りを新しい技術で（E2E {token}）"
    first_title = f"公園の防犯カメラをAIで見守る実証（E2E {token}）"
    second_title = f"公園の防犯カメラとAIによる見守り実証 第2案（E2E {token}）"
    comment_text = f"夜間の見守りがあると安心です（E2E {token}）。"
    review_comment = f"費用対効果が明確で、実現可能性も高いと考えます（E2E {token}）。"
    rationale = f"地域の安全への効果と実現可能性を高く評価しました（E2E {token}）。"
    other_rationale = f"第2案と内容が重なるため、今回は見送ります（E2E {token}）。"

    # --- 0. Staff create and publish a challenge of their own, then open it for proposals -----------
    staff = page
    sign_in(staff, STAFF, "/staff/challenges")
    staff.locator("#new-challenge").click()
    expect(staff).to_have_url(re.compile(r"/staff/challenges/new$"))
    checker.check(staff, "new challenge form", "challenge-new")
    staff.locator("#field-title").fill(challenge_title)
    staff.locator("#field-summary").fill("区立公園の夜間の見守りを、事業者と一緒に考えます。")
    staff.locator("#field-category").select_option("environment_energy")
    staff.locator("#field-contact_name").fill("環境政策課 計画係")
    staff.locator("#field-contact_email").fill("koen-e2e@example.jp")
    staff.locator("#field-background").fill("夜間の公園での不安の声が増えています。")
    staff.locator("#field-desired_outcome").fill("公園を夜も安心して通れる場所にしたい。")
    staff.locator("#field-criteria-0-name").fill("効果")
    staff.locator("#field-criteria-0-weight").fill("60")
    staff.locator("#field-criteria-1-name").fill("実現可能性")
    staff.locator("#field-criteria-1-weight").fill("40")
    expect(staff.locator("#criteria-total-value")).to_have_text("100")
    staff.locator("#save-draft").click()
    expect(staff).to_have_url(re.compile(r"/staff/challenges/\d+/edit$"))
    challenge_id = int(re.search(r"/staff/challenges/(\d+)/edit", staff.url).group(1))  # type: ignore[union-attr]
    checker.check(staff, "edit form of the draft challenge", "challenge-edit")
    staff.locator("#publish-button").click()
    expect(staff.locator("#public-link")).to_be_visible()
    move_phase(staff, challenge_id, "accepting", "提案の募集を始めます。", checker)

    # --- 1. The company submits a first proposal ----------------------------------------------------
    company = new_context().new_page()
    sign_in(company, COMPANY, f"/challenges/{challenge_id}")
    expect(company.get_by_role("heading", level=1)).to_have_text(challenge_title)
    checker.check(company, "challenge page accepting proposals", "challenge")
    company.locator("#propose-button").click()
    expect(company).to_have_url(re.compile(rf"/challenges/{challenge_id}/proposals/new$"))
    expect(company.locator("#similar-hint")).to_be_visible()
    checker.check(company, "empty proposal form", "form")
    checker.in_english(company, f"/challenges/{challenge_id}/proposals/new", "empty proposal form", "form")
    fill_proposal(company, first_title, "公園の既存カメラ映像をAIで解析し、異常を職員に知らせます。",
                  "## 概要\n\n既存の防犯カメラをAIで解析します。")
    first_id = save_and_submit(company, first_title, checker, "first")

    # --- ... and, typing a second one, sees the first among the similar proposals -------------------
    company.goto(f"/challenges/{challenge_id}")
    company.locator("#propose-button").click()
    expect(company).to_have_url(re.compile(rf"/challenges/{challenge_id}/proposals/new$"))
    company.locator("#field-title").fill(second_title)
    company.locator("#field-title").press("End")  # a real key: the box listens to keyup (debounced)
    similar = company.locator("#similar-proposals #similar-list")
    expect(similar.get_by_role("link", name=first_title)).to_have_attribute("href", f"/proposals/{first_id}")
    checker.check(company, "proposal form with a similar proposal", "form-similar")
    fill_proposal(company, second_title, "カメラとAIに加え、見守りボランティアと連携します。",
                  "## 概要\n\nAIが異常を検知したら、近くの見守りボランティアに知らせます。")
    company.locator("#field-confidential").fill("費用内訳：機器 200万円、運用 100万円。")
    proposal_id = save_and_submit(company, second_title, checker, "second")

    # --- 2. Comments and voting: a resident comments and votes --------------------------------------
    move_phase(staff, challenge_id, "voting", "意見募集と投票を始めます。", checker)
    resident = new_context().new_page()
    sign_in(resident, RESIDENT, f"/proposals/{proposal_id}")
    expect(resident.locator("#proposal-title")).to_have_text(second_title)
    expect(resident.locator("#confidential")).to_have_count(0)
    checker.check(resident, "proposal page for a resident", "resident")
    resident.locator("#field-comment-body").fill(comment_text)
    resident.locator("#comment-submit").click()
    expect(resident.locator("#comment-list")).to_contain_text(comment_text)
    expect(resident.locator("#field-comment-body")).to_have_value("")
    checker.check(resident, "proposal page after commenting", "commented")

    resident.locator(f"#proposal-{proposal_id}-vote-button").click()
    expect(resident.locator(f"#proposal-{proposal_id}-voted")).to_be_visible()
    expect(resident.locator(f"#proposal-{proposal_id}-vote-count")).to_have_text(
        "1人の区民がこの提案を応援しています")
    expect(resident).to_have_url(re.compile(rf"/proposals/{proposal_id}$"))  # swapped in place
    checker.check(resident, "proposal page after voting", "voted")

    # --- 3. Staff assign a reviewer and start the review; the reviewer scores -----------------------
    staff.goto(f"/staff/challenges/{challenge_id}/reviewers")
    expect(staff.locator("#no-reviewers")).to_be_visible()
    checker.check(staff, "reviewers page", "reviewers")
    staff.locator("#field-q").fill("demo-reviewer")
    staff.locator("#reviewer-search button[type=submit]").click()
    candidate = staff.locator("#candidates li", has_text=REVIEWER)
    expect(candidate).to_have_count(1)
    checker.check(staff, "reviewer search results", "reviewer-candidates")
    candidate.get_by_role("button").click()
    expect(staff.locator("#reviewers-table")).to_contain_text(REVIEWER_NAME)
    checker.check(staff, "reviewers page with a reviewer", "reviewers-assigned")
    move_phase(staff, challenge_id, "review", "審査を始めます。", checker)

    reviewer = new_context().new_page()
    sign_in(reviewer, REVIEWER, "/review")
    checker.check(reviewer, "reviewer's list of challenges", "review-list")
    reviewer.locator(f"#review-challenge-{challenge_id} a").click()
    expect(reviewer).to_have_url(re.compile(rf"/review/challenges/{challenge_id}$"))
    expect(reviewer.locator("#review-proposals tbody tr")).to_have_count(2)
    checker.check(reviewer, "proposals to review", "review-challenge")
    reviewer.locator(f"#review-proposal-{proposal_id} a").click()
    expect(reviewer).to_have_url(re.compile(rf"/review/proposals/{proposal_id}$"))
    expect(reviewer.locator("#proposal-confidential")).to_contain_text("費用内訳")
    checker.check(reviewer, "review page before the declaration", "review-conflict")
    reviewer.locator("#has_conflict-no").check()
    reviewer.locator("#conflict-submit").click()
    expect(reviewer.locator("#conflict-status")).to_be_visible()
    criteria = reviewer.locator("#review-form fieldset[id^='field-score-']")
    expect(criteria).to_have_count(2)
    checker.check(reviewer, "review form", "review-form")
    for index in range(2):
        criteria.nth(index).locator("input[value='4']").check()
    reviewer.locator("#field-comment").fill(review_comment)
    reviewer.locator("#submit-review").click()
    expect(reviewer.locator("#review-submitted")).to_be_visible()
    expect(reviewer.locator("#my-scores tbody tr")).to_have_count(2)
    expect(reviewer.locator("#my-comment")).to_have_text(review_comment)
    checker.check(reviewer, "review page after submitting", "review-submitted")

    # --- 4. Staff record a decision for every proposal and publish them ----------------------------
    staff.goto(f"/staff/challenges/{challenge_id}/decisions")
    expect(staff.locator("#publish-decisions")).to_be_disabled()
    checker.check(staff, "decisions page", "decisions")
    checker.in_english(staff, f"/staff/challenges/{challenge_id}/decisions", "decisions page", "decisions")
    staff.locator(f"#field-outcome-{proposal_id}").select_option("selected")
    staff.locator(f"#field-rationale-{proposal_id}").fill(rationale)
    staff.locator(f"#field-outcome-{first_id}").select_option("not_selected")
    staff.locator(f"#field-rationale-{first_id}").fill(other_rationale)
    staff.locator("#save-decisions").click()
    expect(staff.locator("#publish-decisions")).to_be_enabled()
    expect(staff.locator(f"#field-rationale-{proposal_id}")).to_have_value(rationale)
    checker.check(staff, "decisions page with saved decisions", "decisions-saved")
    staff.locator("#publish-decisions").click()
    expect(staff.locator("#decisions-published")).to_be_visible()
    expect(staff.locator(f"#published-decisions #decision-{proposal_id}")).to_contain_text(rationale)
    checker.check(staff, "decisions page after publishing", "decisions-published")
    checker.in_english(staff, f"/staff/challenges/{challenge_id}/decisions", "published decisions page",
                       "decisions-published")

    # --- 5. The proposer sees the decision and is notified ------------------------------------------
    company.goto(f"/proposals/{proposal_id}")
    decision = company.locator("#decision")
    expect(decision.locator(".decision-outcome")).to_have_text("採択")
    expect(decision).to_contain_text(rationale)
    expect(company.locator(f"#proposal-{proposal_id}-vote-count")).to_have_text("1人の区民がこの提案を応援しています")
    expect(company.locator("#comment-list")).to_contain_text(comment_text)
    checker.check(company, "proposal page with the decision", "decided")
    checker.in_english(company, f"/proposals/{proposal_id}", "proposal page with the decision", "decided")

    company.goto("/notifications")
    # The proposer heard of the resident's comment on their proposal, then of the decision.
    about = company.locator("#notification-list li", has_text=second_title)
    expect(about).to_have_count(2)
    expect(about.filter(has_text="コメントしました")).to_have_count(1)
    notice = about.filter(has_text=f"あなたの提案「{second_title}」の審査結果が公表されました。")
    expect(notice).to_have_count(1)
    checker.check(company, "notifications of the proposer", "notifications")
    notice.get_by_role("link").first.click()
    expect(company).to_have_url(re.compile(rf"/proposals/{proposal_id}$"))
    expect(company.locator("#decision")).to_contain_text(rationale)
