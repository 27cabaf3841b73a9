"""Journey: a new person registers, confirms the address with the e-mail the real worker sends, signs in,
registers an organisation and invites a member, who accepts in another browser; then signs out.

Every page on the way is checked with axe, in Japanese (the default) and the key pages in English too.
The live server is shared with the other browser tests, so everything this journey creates is unique
to the run (e-mail address, organisation name, corporate number) and e-mails are picked out of the
shared SMTP sink by recipient and content, never by position.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from e2e.axe import assert_no_axe_violations
from e2e.conftest import LiveServer
from tests.servers import SmtpSink, wait_until

PASSWORD = "itabashi-journey-2026"
DEMO_PASSWORD = "cocreate-demo-2026"  # docs/demo-accounts.md
INVITEE_EMAIL = "demo-resident@example.jp"
INVITEE_NAME = "板橋 花子（デモ）"
MAIL_TIMEOUT = 90.0  # through the real Celery worker on a busy 2-core machine
EXPECT_TIMEOUT = 15_000  # ms; the default 5 s is short when the server shares two cores


@pytest.fixture(autouse=True)
def _patient_expect() -> Iterator[None]:
    expect.set_options(timeout=EXPECT_TIMEOUT)
    yield
    expect.set_options(timeout=5_000)


# --- helpers -------------------------------------------------------------------------------------


def corporate_check_digit(base: str) -> int:
    """The 法人番号 check digit, written here from the National Tax Agency's rule (not the app's code):
    weights 1, 2, 1, 2, … from the rightmost of the 12 base digits; check digit = 9 - (sum mod 9)."""
    total = sum(int(digit) * (1 if position % 2 else 2) for position, digit in enumerate(reversed(base), start=1))
    return 9 - total % 9


def fresh_corporate_numbers() -> tuple[str, str]:
    """A valid 法人番号 no other run has used, and the same number with a wrong check digit."""
    base = f"{random.randrange(10**12):012d}"  # noqa: S311 (not a secret)
    check = corporate_check_digit(base)
    return f"{check}{base}", f"{check % 9 + 1}{base}"


def _text_of(message: Message) -> str:
    """The plain-text body, whatever the transfer encoding (base64, quoted-printable, 8bit)."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text/plain part in the e-mail to {message['To']}")


def wait_for_mail(sink: SmtpSink, to: str, predicate: Callable[[str], bool]) -> str:
    """The body of the newest e-mail to ``to`` whose text satisfies ``predicate``. The sink is shared
    with the other tests, so wait until such a message is there rather than for a count."""
    sink.wait_for(1, timeout=MAIL_TIMEOUT)

    def found() -> str | None:
        with sink.lock:
            messages = list(sink.messages)
        for message in reversed(messages):
            if to.lower() in str(message["To"]).lower():
                body = _text_of(message)
                if predicate(body):
                    return body
        return None

    return wait_until(found, MAIL_TIMEOUT, f"an e-mail to {to}", interval=0.2)  # type: ignore[return-value]


def link_in(body: str, path: str) -> str:
    links = [link for link in re.findall(r"https?://\S+", body) if path in link]
    assert len(links) == 1, f"expected one {path} link in the e-mail:\n{body}"
    return links[0]


def check_error_summary(page: Page, fields: list[str], label: str) -> None:
    """The summary is shown, announced, focusable and links to each invalid field, which says it is invalid."""
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_have_attribute("role", "alert")
    summary.focus()
    expect(summary).to_be_focused()
    for name in fields:
        expect(summary.locator(f"a[href='#field-{name}']")).to_be_visible()
        expect(page.locator(f"#field-{name}")).to_have_attribute("aria-invalid", "true")
        expect(page.locator(f"#field-{name}-error")).to_be_visible()
        described_by = page.locator(f"#field-{name}").get_attribute("aria-describedby") or ""
        assert f"field-{name}-error" in described_by.split(), f"#field-{name} does not point to its error"
    assert_no_axe_violations(page, label)


def switch_language(page: Page, locale: str) -> None:
    page.locator(f"#switch-to-{locale}").click()
    expect(page.locator("html")).to_have_attribute("lang", locale)


def sign_in_with_keyboard(page: Page, email: str, password: str) -> None:
    page.get_by_label("メールアドレス").fill(email)
    password_field = page.get_by_label("パスワード")
    password_field.fill(password)
    password_field.press("Enter")


# --- the journey ---------------------------------------------------------------------------------


def test_register_confirm_sign_in_create_organisation_and_invite(
    page: Page, new_context: Callable[..., BrowserContext], live_server: LiveServer, artifacts_dir: Path,
) -> None:
    run = uuid.uuid4().hex[:8]
    email = f"journey-{run}@example.jp"
    display_name = f"いたばし太郎{run[:4]}"
    organisation_name = f"株式会社ジャーニー{run}"
    corporate_number, wrong_corporate_number = fresh_corporate_numbers()
    shot = lambda name: page.screenshot(path=artifacts_dir / f"account-journey-{name}.png", full_page=True)  # noqa: E731

    # 1. Register: first with mistakes, then properly.
    page.goto("/")
    page.locator("#register-link").click()
    expect(page).to_have_url(re.compile(r"/account/register$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("新規登録")
    assert_no_axe_violations(page, "register form (ja)")
    shot("01-register")

    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("表示名").fill(display_name)
    page.get_by_label("パスワード").fill("short")
    page.get_by_role("button", name="新規登録").click()
    expect(page.locator("#error-summary")).to_contain_text("入力内容に問題があります")
    expect(page.locator("#error-summary")).to_contain_text("パスワードは10文字以上にしてください。")
    expect(page.locator("#error-summary")).to_contain_text("利用規約への同意が必要です")
    expect(page.locator("#error-summary")).to_contain_text("個人情報の取扱いへの同意が必要です")
    # What was typed is kept, except the password.
    expect(page.get_by_label("メールアドレス")).to_have_value(email)
    expect(page.get_by_label("表示名")).to_have_value(display_name)
    expect(page.get_by_label("パスワード")).to_have_value("")
    expect(page.locator("#field-email")).not_to_have_attribute("aria-invalid", "true")
    check_error_summary(page, ["password", "accept_terms", "accept_privacy"], "register form with errors (ja)")
    shot("02-register-errors")
    # From the focused summary, the keyboard reaches each field: Tab to the first link, Enter.
    page.keyboard.press("Tab")
    expect(page.locator("#error-summary a").first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#field-password")).to_be_focused()

    # The same form and its errors in English.
    switch_language(page, "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Register")
    assert_no_axe_violations(page, "register form (en)")
    page.get_by_label("E-mail address").fill("not-an-address")
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.locator("#error-summary")).to_contain_text("There is a problem")
    check_error_summary(page, ["email", "display_name", "password", "accept_terms", "accept_privacy"],
                        "register form with errors (en)")
    shot("03-register-errors-en")
    switch_language(page, "ja")

    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("表示名").fill(display_name)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_label("利用規約に同意します").check()
    page.get_by_label("個人情報の取扱いに同意します").check()
    page.get_by_role("button", name="新規登録").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("メールを確認してください")
    expect(page.locator("#check-email")).to_contain_text(f"{email} にリンクを送信しました")
    assert_no_axe_violations(page, "check your e-mail page (ja)")
    shot("04-check-email")

    # 2. The confirmation e-mail comes through the real worker; its link confirms the address.
    body = wait_for_mail(live_server.mail, email, lambda text: "/account/confirm/" in text)
    assert display_name in body, "the confirmation e-mail greets the person by name"
    page.goto(link_in(body, "/account/confirm/"))
    expect(page).to_have_url(re.compile(r"/account/sign-in$"))
    expect(page.locator("#flash-messages")).to_contain_text("メールアドレスを確認しました。ログインできます。")
    expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")
    assert_no_axe_violations(page, "sign-in page after confirming (ja)")
    shot("05-confirmed")

    # 3. Sign in with the keyboard.
    sign_in_with_keyboard(page, email, PASSWORD)
    expect(page.locator("#flash-messages")).to_contain_text(f"{display_name} さんとしてログインしました。")
    expect(page.locator("#nav-my-account")).to_contain_text(display_name)
    expect(page.locator("#sign-out")).to_be_visible()
    expect(page.locator("#sign-in-link")).to_have_count(0)
    assert_no_axe_violations(page, "home page signed in (ja)")
    shot("06-signed-in")

    # 4. Register an organisation, from the header's organisation list.
    page.locator("#nav-organisations").click()
    expect(page).to_have_url(re.compile(r"/organisations$"))
    assert_no_axe_violations(page, "organisation list (ja)")
    page.locator("#new-organisation-link").click()
    expect(page).to_have_url(re.compile(r"/organisations/new$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("組織を登録する")
    assert_no_axe_violations(page, "new organisation form (ja)")

    # In English, a corporate number of the wrong length is refused with its own message.
    switch_language(page, "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Register an organisation")
    page.get_by_label("Name of the organisation").fill(organisation_name)
    page.get_by_label("Corporate number").fill("12345")
    page.get_by_role("button", name="Register the organisation").click()
    expect(page.locator("#field-corporate_number-error")).to_have_text(
        "Enter the corporate number (法人番号) as 13 digits.")
    check_error_summary(page, ["corporate_number"], "new organisation form with a short corporate number (en)")
    shot("07-organisation-error-en")
    switch_language(page, "ja")

    page.get_by_label("組織の名称").fill(organisation_name)
    page.get_by_label("組織の種別").select_option(label="スタートアップ")
    page.get_by_label("法人番号").fill(wrong_corporate_number)
    page.get_by_label("所在地").fill("東京都板橋区板橋二丁目66番1号")
    page.get_by_label("ウェブサイト").fill(f"https://journey-{run}.example.jp/")
    page.get_by_label("紹介文").fill("高島平で**自動運転バス**の実証をめざすスタートアップです。")
    page.get_by_role("button", name="組織を登録する").click()
    expect(page.locator("#error-summary")).to_contain_text("この法人番号は正しくありません")
    expect(page.locator("#field-corporate_number-error")).to_contain_text("国税庁法人番号公表サイトで確認してください")
    # Nothing else is wrong, and nothing typed is lost.
    expect(page.locator("#error-summary li")).to_have_count(1)
    expect(page.get_by_label("組織の名称")).to_have_value(organisation_name)
    expect(page.get_by_label("組織の種別")).to_have_value("startup")
    expect(page.get_by_label("法人番号")).to_have_value(wrong_corporate_number)
    check_error_summary(page, ["corporate_number"], "new organisation form with a wrong corporate number (ja)")
    shot("07-organisation-error-ja")

    page.get_by_label("法人番号").fill(corporate_number)
    page.get_by_role("button", name="組織を登録する").click()
    expect(page).to_have_url(re.compile(r"/organisations/\d+$"))
    organisation_path = re.search(r"/organisations/\d+$", page.url).group(0)  # type: ignore[union-attr]
    expect(page.locator("#flash-messages")).to_contain_text("組織を登録しました。区が法人番号をもとに確認します。")
    expect(page.get_by_role("heading", level=1)).to_have_text(organisation_name)
    expect(page.locator("#organisation-corporate-number")).to_have_text(corporate_number)
    expect(page.locator("[id$='-unverified']")).to_have_text("未確認")
    expect(page.locator("#not-verified-notice")).to_contain_text("この組織はまだ区の確認を受けていません")
    expect(page.locator("#organisation-website")).to_contain_text(f"https://journey-{run}.example.jp/")
    expect(page.locator("#organisation-description strong")).to_have_text("自動運転バス")
    assert_no_axe_violations(page, "new organisation's profile (ja)")
    shot("08-organisation")

    switch_language(page, "en")
    expect(page.locator("[id$='-unverified']")).to_have_text("Not verified yet")
    expect(page.locator("#not-verified-notice")).to_contain_text("The ward has not verified this organisation yet")
    assert_no_axe_violations(page, "new organisation's profile (en)")
    shot("09-organisation-en")
    switch_language(page, "ja")

    # It is listed among my organisations, where I am its administrator.
    page.goto("/account/organisations")
    mine = page.locator("#my-organisations li", has_text=organisation_name)
    expect(mine).to_contain_text("未確認")
    assert_no_axe_violations(page, "my organisations (ja)")

    # 5. Invite a member by e-mail.
    page.goto(organisation_path)
    page.locator("#members-link").click()
    expect(page).to_have_url(re.compile(rf"{organisation_path}/members$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{organisation_name}のメンバー")
    expect(page.locator("#no-invitations")).to_be_visible()
    assert_no_axe_violations(page, "members page (ja)")

    invite_form = page.locator("#invite-form")
    invite_form.get_by_label("メールアドレス").fill("no-at-sign")
    invite_form.get_by_role("button", name="招待を送信").click()
    check_error_summary(page, ["email"], "members page with an invalid address (ja)")

    invite_form.get_by_label("メールアドレス").fill(INVITEE_EMAIL.upper())
    invite_form.get_by_role("button", name="招待を送信").click()
    expect(page).to_have_url(re.compile(rf"{organisation_path}/members$"))
    expect(page.locator("#flash-messages")).to_contain_text(f"{INVITEE_EMAIL} に招待を送信しました。")
    expect(page.locator("[id^='invitation-'][id$='-email']")).to_have_text(INVITEE_EMAIL)
    assert_no_axe_violations(page, "members page with an open invitation (ja)")
    shot("10-invited")

    switch_language(page, "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Members of {organisation_name}")
    expect(page.locator("#invite-form")).to_be_visible()
    assert_no_axe_violations(page, "members page with an open invitation (en)")
    shot("11-invited-en")
    switch_language(page, "ja")

    body = wait_for_mail(live_server.mail, INVITEE_EMAIL, lambda text: organisation_name in text)
    invitation_link = link_in(body, "/organisations/invitations/")
    assert display_name in body, "the invitation says who invited"

    # The invited person opens the link in a browser of their own, signs in and accepts.
    invitee = new_context().new_page()
    invitee.goto(invitation_link)
    expect(invitee.get_by_role("heading", level=1)).to_have_text("組織への招待")
    expect(invitee.locator("#invitation")).to_contain_text(organisation_name)
    expect(invitee.locator("#invitation-sign-in")).to_be_visible()
    assert_no_axe_violations(invitee, "invitation page, signed out (ja)")
    invitee.screenshot(path=artifacts_dir / "account-journey-12-invitation.png", full_page=True)

    invitee.locator("#invitation a.button").click()
    expect(invitee).to_have_url(re.compile(r"/account/sign-in\?next="))
    sign_in_with_keyboard(invitee, INVITEE_EMAIL, DEMO_PASSWORD)
    expect(invitee).to_have_url(invitation_link)
    accept = invitee.locator("#accept-invitation")
    expect(accept).to_have_text("組織に参加する")
    assert_no_axe_violations(invitee, "invitation page, signed in as the invitee (ja)")
    accept.click()
    expect(invitee).to_have_url(re.compile(rf"{organisation_path}$"))
    expect(invitee.locator("#flash-messages")).to_contain_text("ようこそ。組織のメンバーになりました。")
    expect(invitee.get_by_role("heading", level=1)).to_have_text(organisation_name)
    assert_no_axe_violations(invitee, "organisation profile seen by the new member (ja)")
    invitee.screenshot(path=artifacts_dir / "account-journey-13-joined.png", full_page=True)

    # The link works only once.
    invitee.goto(invitation_link)
    expect(invitee.get_by_role("heading", level=1)).to_have_text("この招待リンクは使用できません")
    assert_no_axe_violations(invitee, "used invitation link (ja)")

    # Back in the first browser: the new member is listed and the invitation is no longer open.
    page.reload()
    member_rows = page.locator("table.members tbody tr")
    expect(member_rows).to_have_count(2)
    role_cell = "td:nth-child(2)"
    expect(member_rows.filter(has_text=INVITEE_NAME).locator(role_cell)).to_have_text("メンバー")
    expect(member_rows.filter(has_text=display_name).locator(role_cell)).to_have_text("管理者")
    expect(page.locator("#no-invitations")).to_be_visible()
    assert_no_axe_violations(page, "members page with the new member (ja)")
    shot("14-members")

    # 6. Sign out.
    page.locator("#sign-out").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("#flash-messages")).to_contain_text("ログアウトしました。")
    expect(page.locator("#sign-in-link")).to_be_visible()
    expect(page.locator("#sign-out")).to_have_count(0)
    assert_no_axe_violations(page, "home page after signing out (ja)")
    # The members page is for members only again.
    page.goto(f"{organisation_path}/members")
    expect(page).to_have_url(re.compile(r"/account/sign-in"))
    shot("15-signed-out")


def test_corporate_check_digit_matches_the_national_tax_agency() -> None:
    """The journey's own check-digit rule agrees with real numbers (国税庁, and its own examples)."""
    for number in ("7000012050002", "1180301018771"):
        assert corporate_check_digit(number[1:]) == int(number[0]), number
