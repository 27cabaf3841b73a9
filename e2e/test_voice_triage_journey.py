"""Journey: the ward's staff triage residents' voices (issue 18 item 2). Two voices about the same place
are in the transport department's queue (inserted into the live server's database: posting has its own
journey); staff merge the duplicate into the first (its supports carried over, the supporter of both
counted once), acknowledge the first in a browser without JavaScript, then turn it into a draft challenge. The author hears of it by e-mail through the
real worker, and the draft challenge's page says which voice it was born from. The queue, a voice's staff
page and the challenge page are checked with axe in Japanese and English. Titles carry a token of their
own, so other journeys sharing the live server do not get in the way.
"""

from __future__ import annotations

import re
import uuid
from email.message import Message
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from cocreate.accounts.models import Department, User
from cocreate.db import Database
from cocreate.settings import Settings
from e2e.conftest import LiveServer
from e2e.journey import Checker, sign_in, subject_of, text_of
from proposals.models import Category, Voice, VoiceSupport
from tests.servers import wait_until

STAFF = "demo-staff-transport@example.jp"
AUTHOR = "demo-resident@example.jp"
DUPLICATE_AUTHOR = "demo-resident3@example.jp"
SUPPORTER_OF_BOTH = "demo-resident2@example.jp"
SUPPORTER = "demo-resident4@example.jp"
MAIL_TIMEOUT = 60  # the worker shares two cores with everything else


def _insert_voices(live_server: LiveServer, token: str) -> tuple[int, int]:
    """The voice and its duplicate, as rows in the live server's database."""
    database = Database(Settings(env="test", data_dir=live_server.data_dir, secret_key="e2e-" + "x" * 40))
    try:
        with database.transaction() as session:
            people = {user.email: user for user in session.exec(select(User).where(User.email.in_(  # type: ignore[union-attr]
                [AUTHOR, DUPLICATE_AUTHOR, SUPPORTER_OF_BOTH, SUPPORTER]))).all()}
            transport = session.exec(select(Department).where(Department.code == "transport")).one()
            first = Voice(title=f"駅前の歩道が狭くて危ない（E2E {token}）", body="ベビーカーですれ違えません。",
                          category=Category.TRANSPORT_MOBILITY, area="itabashi", author_id=people[AUTHOR].id,
                          department_id=transport.id, support_count=1)
            duplicate = Voice(title=f"駅前の歩道を広げてほしい（E2E {token}）", body="朝は特に混みます。",
                              category=Category.TRANSPORT_MOBILITY, area="itabashi",
                              author_id=people[DUPLICATE_AUTHOR].id, department_id=transport.id, support_count=2)
            session.add_all([first, duplicate])
            session.flush()
            session.add_all([VoiceSupport(voice_id=first.id, user_id=people[SUPPORTER_OF_BOTH].id),  # type: ignore[arg-type]
                             VoiceSupport(voice_id=duplicate.id, user_id=people[SUPPORTER_OF_BOTH].id),  # type: ignore[arg-type]
                             VoiceSupport(voice_id=duplicate.id, user_id=people[SUPPORTER].id)])  # type: ignore[arg-type]
            session.flush()
            return first.id, duplicate.id  # type: ignore[return-value]
    finally:
        database.dispose()


def test_staff_merge_a_duplicate_and_turn_the_voice_into_a_draft_challenge(
    page: Page, browser: Browser, live_server: LiveServer, base_url: str, artifacts_dir: Path,
) -> None:
    checker = Checker("voice-triage-journey", artifacts_dir)
    token = uuid.uuid4().hex[:8]
    first_id, duplicate_id = _insert_voices(live_server, token)
    mails_before = len(live_server.mail.messages)

    # --- 1. The queue, from the staff menu -------------------------------------------------------------
    staff = page
    sign_in(staff, STAFF, "/staff/challenges")
    staff.locator("#nav-staff-voices").click()
    expect(staff).to_have_url(re.compile(r"/staff/voices$"))
    expect(staff.locator(f"#voice-{first_id}")).to_contain_text(token)
    expect(staff.locator(f"#voice-{duplicate_id}")).to_contain_text(token)
    checker.check(staff, "staff voice queue", "queue")
    checker.in_english(staff, "/staff/voices", "staff voice queue", "queue")

    # --- 2. Merge the duplicate into the first voice --------------------------------------------------
    staff.locator(f"#voice-{duplicate_id} a").first.click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text("広げてほしい")
    checker.check(staff, "a voice's staff page", "voice")
    staff.locator("#field-into").fill(str(first_id))
    staff.locator("#merge-submit").click()
    expect(staff.locator("#triage-merged")).to_be_visible()
    expect(staff.locator("#merged-into-link")).to_have_attribute("href", f"/staff/voices/{first_id}")

    # The supporter of both counts once: two supports, not three.
    staff.locator("#merged-into-link").click()
    expect(staff.locator("#voice-supports")).to_have_text(re.compile(r"^\s*2\s*$"))
    expect(staff.locator("#voice-trail")).to_contain_text(f"No. {duplicate_id}")
    checker.in_english(staff, f"/staff/voices/{first_id}", "a voice's staff page", "voice")

    # --- 3. A bad merge changes nothing and says why ----------------------------------------------------
    staff.locator("#field-into").fill(str(first_id))
    staff.locator("#merge-submit").click()
    expect(staff.locator("#field-into-error")).to_be_visible()
    checker.check(staff, "a voice's staff page with an error", "voice-error")

    # --- 4. Without JavaScript, another session of the same staff member acknowledges the voice ----------
    context = browser.new_context(base_url=base_url, locale="ja-JP", timezone_id="Asia/Tokyo",
                                  java_script_enabled=False)
    try:
        plain = context.new_page()
        sign_in(plain, STAFF, f"/staff/voices/{first_id}")
        plain.locator("#field-note").fill("現地を確認します。")
        plain.locator("#acknowledge-submit").click()
        expect(plain).to_have_url(re.compile(rf"/staff/voices/{first_id}$"))
        expect(plain.locator("#acknowledge-form")).to_have_count(0)
        expect(plain.locator("#voice-trail")).to_contain_text("現地を確認します。")
    finally:
        context.close()

    # --- 5. Turn the voice into a draft challenge --------------------------------------------------------
    staff.goto(f"/staff/voices/{first_id}")
    challenge_title = f"駅前の歩道を安全に歩けるようにしたい（E2E {token}）"
    staff.locator("#field-challenge_title").fill(challenge_title)
    staff.locator("#draft-challenge-submit").click()
    expect(staff).to_have_url(re.compile(r"/staff/challenges/\d+/edit$"))
    challenge_id = int(re.search(r"/staff/challenges/(\d+)/edit", staff.url).group(1))  # type: ignore[union-attr]
    expect(staff.locator("#field-background")).to_contain_text(f"/voices/{first_id}")

    # --- 6. The challenge's page cites the voice ---------------------------------------------------------
    staff.goto(f"/challenges/{challenge_id}")
    born = staff.locator("#born-from-voices")
    expect(born).to_contain_text("1")
    expect(born.locator(f"#born-from-voice-{first_id}")).to_have_attribute("href", f"/voices/{first_id}")
    checker.check(staff, "the draft challenge born from a voice", "challenge")
    checker.in_english(staff, f"/challenges/{challenge_id}", "the draft challenge born from a voice", "challenge")
    staff.goto(f"/staff/voices/{first_id}")
    expect(staff.locator("#voice-challenge-link")).to_have_attribute("href", f"/challenges/{challenge_id}")

    # --- 7. The author is told, by e-mail through the worker --------------------------------------------
    def author_mail() -> Message | None:
        for message in list(live_server.mail.messages)[mails_before:]:
            if AUTHOR in message["To"] and token in subject_of(message):
                return message
        return None

    mail = wait_until(author_mail, MAIL_TIMEOUT, f"the status change's e-mail to {AUTHOR}")
    assert isinstance(mail, Message)
    body = text_of(mail)
    assert f"{base_url}/voices/{first_id}" in body, body
    assert "様" in body  # in the author's language

    # The duplicate's author heard of the merge too.
    def duplicate_mail() -> Message | None:
        for message in list(live_server.mail.messages)[mails_before:]:
            if DUPLICATE_AUTHOR in message["To"] and token in subject_of(message):
                return message
        return None

    wait_until(duplicate_mail, MAIL_TIMEOUT, f"the merge's e-mail to {DUPLICATE_AUTHOR}")
