"""Journey: a visitor, not signed in, follows the whole loop on the demo content, with JavaScript on and off.

The live server was set up as the README's run command does (migrations, ``cocreate demo``). From the home
page the visitor reaches a challenge in its voting phase, its proposals and the most discussed one (votes,
a thread with replies, the department's official answer); then a challenge whose selected proposal became
a trial (the decision and its rationale, the trial, its bookings on the calendar); then the completed trial
and its results ("you said, we did"). Every page is checked with axe, in Japanese and in English.
Other journeys share the server and add content, so nothing here counts exactly.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from e2e.journey import Checker


class _NoAxe:
    def check(self, page: Page, label: str, shot: str) -> None:
        pass

    def in_english(self, page: Page, path: str, label: str, shot: str) -> None:
        pass


def _choose(page: Page, javascript: bool, select: str, value: str) -> None:
    """Pick a filter: htmx applies it at once; without JavaScript, the form's button does."""
    page.select_option(select, value)
    if not javascript:
        page.locator("#apply-filters").click()


def _number(text: str) -> int:
    digits = re.search(r"\d[\d,]*", text)
    assert digits, text
    return int(digits.group(0).replace(",", ""))


def _path(page: Page) -> str:
    return "/" + page.url.split("://", 1)[1].split("/", 1)[1]


def test_a_visitor_follows_the_loop_from_challenge_to_results(visitor: tuple[Page, bool], artifacts_dir: Path) -> None:
    page, javascript = visitor
    # axe runs as a script in the page: the run with JavaScript checks every page, in both languages.
    checker = Checker("demo-visit", artifacts_dir) if javascript else _NoAxe()
    english = javascript

    # --- 1. Home, then the challenges in their voting phase --------------------------------------------
    page.goto("/")
    checker.check(page, "home", "home")
    page.locator("#nav-challenges").click()
    expect(page).to_have_url(re.compile(r"/challenges$"))
    _choose(page, javascript, "#filter-phase", "voting")
    expect(page).to_have_url(re.compile(r"/challenges\?.*phase=voting"))
    checker.check(page, "challenges in voting", "voting-list")
    page.locator("#challenge-list > li h3 a").first.click()
    expect(page).to_have_url(re.compile(r"/challenges/\d+$"))
    expect(page.locator("#challenge-phase")).to_contain_text("投票")
    checker.check(page, "a challenge in voting", "voting-challenge")
    challenge_path = _path(page)

    # --- 2. Its proposals, most discussed first: votes, a thread with replies, the official answer -------
    page.locator(f"main a[href='{challenge_path}/proposals']").first.click()
    expect(page).to_have_url(re.compile(r"/challenges/\d+/proposals$"))
    cards = page.locator("#proposal-list > li")
    assert cards.count() >= 8, "the demo's voting challenge has 8-12 proposals"
    authors = {cards.nth(i).locator("p.muted").first.inner_text() for i in range(cards.count())}
    assert len(authors) >= 5, authors  # several organisations propose
    assert any("、" in names for names in authors), authors  # one consortium
    _choose(page, javascript, "#filter-sort", "comments")
    expect(page).to_have_url(re.compile(r"sort=comments"))
    checker.check(page, "proposals of a challenge", "proposals")
    page.locator("#proposal-list > li h3 a").first.click()
    expect(page).to_have_url(re.compile(r"/proposals/\d+$"))
    proposal_id = _path(page).rsplit("/", 1)[1]
    assert _number(page.locator(f"#proposal-{proposal_id}-vote-count").inner_text()) > 0
    expect(page.locator("#comment-list > li").first).to_be_visible()
    expect(page.locator("#comment-list .comment-official").first).to_be_visible()  # the department answered
    links = page.locator("#comment-list a[id^='replies-'][id$='-link']")
    expect(links.first).to_be_visible()
    answered = [links.nth(i) for i in range(links.count()) if re.search(r"[1-9]", links.nth(i).inner_text())]
    assert answered, "no thread with replies"
    replies = answered[0]
    checker.check(page, "a discussed proposal", "proposal")
    if english:
        checker.in_english(page, _path(page), "a discussed proposal", "proposal")
    replies.click()  # JavaScript: the replies open in place; without: the thread's own page
    expect(page.locator("[id^='replies-'] article.comment-reply").first).to_be_visible()
    # (Going back from lists to pages is e2e/test_list_navigation.py's journey.)

    # --- 3. A challenge whose selected proposal became a trial: decision, trial, bookings --------------
    page.goto("/challenges?phase=trial")
    page.locator("#challenge-list > li h3 a").first.click()
    expect(page).to_have_url(re.compile(r"/challenges/\d+$"))
    checker.check(page, "a challenge with a trial", "trial-challenge")
    page.locator("main a[href^='/trials/']").first.click()
    expect(page).to_have_url(re.compile(r"/trials/\d+$"))
    trial_path = _path(page)
    expect(page.locator("#origin")).to_be_visible()
    expect(page.locator("#trial-bookings li").first).to_be_visible()
    expect(page.locator("#updates article, #updates li").first).to_be_visible()  # progress updates
    expect(page.locator("#calls")).to_be_visible()  # a recruitment call
    checker.check(page, "a running trial", "trial")
    if english:
        checker.in_english(page, trial_path, "a running trial", "trial")
    page.locator("#proposal-link").click()
    expect(page).to_have_url(re.compile(r"/proposals/\d+$"))
    expect(page.locator("#decision")).to_contain_text("採択")
    expect(page.locator("#decision .prose")).not_to_be_empty()  # the published rationale
    expect(page.locator("#proposal-trial a")).to_have_attribute("href", trial_path)
    checker.check(page, "the selected proposal", "selected-proposal")
    page.goto("/calendar")
    expect(page.locator("#calendar-grid [id^='entry-booking-']").first).to_be_visible()
    checker.check(page, "the calendar", "calendar")

    # --- 4. The completed trial: its results ---------------------------------------------------------
    page.goto("/trials")
    links = page.locator("#trial-list > li h3 a")
    with_results = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
    shown = False
    for href in with_results:
        page.goto(href)
        if page.locator("#results").count():
            shown = True
            break
    assert shown, "no trial shows its results"
    expect(page.locator("#trial-results-text")).not_to_be_empty()
    checker.check(page, "a completed trial with results", "results")
    if english:
        checker.in_english(page, _path(page), "a completed trial with results", "results")

    # --- 5. What the site is and the rules it keeps: from the footer, in both languages -----------------
    for slug in ("terms", "privacy", "help", "accessibility"):
        page.locator(f"#footer-{slug}").click()
        expect(page).to_have_url(re.compile(rf"/{slug}$"))
        expect(page.locator("main h1")).not_to_be_empty()
        expect(page.locator("main .prose, main article").first).not_to_be_empty()
        checker.check(page, f"the {slug} page", slug)
        if english:
            checker.in_english(page, f"/{slug}", f"the {slug} page", slug)
