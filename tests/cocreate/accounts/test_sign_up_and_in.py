"""Register, confirm by e-mail link, sign in and out, reset the password: through the real app."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, func, select

from cocreate.accounts import passwords, services, throttle
from cocreate.accounts.models import Consent, SignInThrottle, User
from cocreate.mail import OutboundEmail
from cocreate.pages.seed import FIRST_VERSION
from cocreate.settings import Settings
from tests.cocreate.accounts.conftest import AccountMail
from tests.helpers import csrf_token

pytestmark = pytest.mark.databases("sqlite", why="registration and sign-in rules are Python")

PASSWORD = "correct horse battery"


def register(client: TestClient[Litestar], **overrides: str) -> object:
    form = {"email": "Hanako@Example.jp ", "display_name": "はなこ", "password": PASSWORD,
            "accept_terms": "yes", "accept_privacy": "yes", "_csrf_token": csrf_token(client)} | overrides
    return client.post("/account/register", data=form)


def last_link(session: Session, to: str) -> str:
    session.expire_all()
    email = session.exec(select(OutboundEmail).where(OutboundEmail.to_address == to)
                         .order_by(OutboundEmail.id.desc())).first()  # type: ignore[union-attr]
    assert email is not None, f"no e-mail to {to}"
    return re.search(r"http://\S+", email.body_text).group(0)  # type: ignore[union-attr]


def sign_in(client: TestClient[Litestar], email: str = "hanako@example.jp", password: str = PASSWORD) -> object:
    return client.post("/account/sign-in", data={"email": email, "password": password,
                                                 "_csrf_token": csrf_token(client)}, follow_redirects=False)


def test_register_confirm_sign_in_and_out(client: TestClient[Litestar], session: Session) -> None:
    response = register(client)
    assert response.status_code == 200
    assert "hanako@example.jp にリンクを送信しました" in response.text
    user = session.exec(select(User)).one()
    assert user.email == "hanako@example.jp" and user.display_name == "はなこ" and not user.is_confirmed
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    consents = session.exec(select(Consent).where(Consent.user_id == user.id)).all()
    assert {(c.document, c.version) for c in consents} == {("terms", FIRST_VERSION),
                                                           ("privacy", FIRST_VERSION)}
    outbox = session.exec(select(OutboundEmail)).one()
    assert outbox.subject == "【コクリエ板橋】メールアドレスの確認" and "はなこ 様" in outbox.body_text

    # Not confirmed yet: sign-in explains what to do.
    assert "先にメールアドレスの確認" in sign_in(client).text

    link = last_link(session, "hanako@example.jp")
    confirmed = client.get(link.removeprefix("http://127.0.0.1:8000"), follow_redirects=False)
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/account/sign-in"
    # The link is single-use.
    assert client.get(link.removeprefix("http://127.0.0.1:8000")).status_code == 400

    old_session_cookie = client.cookies.get("cocreate_session")
    signed_in = sign_in(client, email="HANAKO@example.jp")
    assert signed_in.status_code == 303
    new_cookie = signed_in.cookies.get("cocreate_session")
    assert new_cookie and new_cookie != old_session_cookie  # rotated at sign-in
    home = client.get("/")
    assert "はなこ" in home.text and 'id="sign-out"' in home.text

    out = client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert out.status_code == 303
    assert 'id="sign-in-link"' in client.get("/").text


def test_registration_errors_are_reported_together_and_change_nothing(
    client: TestClient[Litestar], session: Session
) -> None:
    response = register(client, email="not-an-address", display_name="", password="short",
                        accept_terms="", accept_privacy="")
    assert response.status_code == 400
    for message in ("name@example.jp のような形式", "表示名を入力してください", "10文字以上",
                    "利用規約への同意", "個人情報の取扱いへの同意"):
        assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert session.exec(select(func.count()).select_from(User)).one() == 0


@pytest.mark.parametrize("payload", ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'])
def test_hostile_display_name_is_stored_verbatim_and_escaped(
    client: TestClient[Litestar], session: Session, payload: str
) -> None:
    response = register(client, display_name=payload[:50], email="x@example.jp")
    assert response.status_code == 200
    assert session.exec(select(User)).one().display_name == payload[:50]
    page = register(client, display_name=payload[:50], email="bad")
    assert payload[:50] not in page.text  # echoed back escaped, never as markup


def test_overlong_and_control_character_input_is_refused(client: TestClient[Litestar], session: Session) -> None:
    response = register(client, display_name="あ" * 51, password="x" * 5000, email=("a" * 300) + "@example.jp")
    assert response.status_code == 400
    assert "50文字以内" in response.text and "256文字以内" in response.text
    assert register(client, display_name="tab\there").status_code == 400
    assert session.exec(select(func.count()).select_from(User)).one() == 0


def test_duplicate_registration_looks_the_same_and_warns_the_owner(
    client: TestClient[Litestar], session: Session, account_mail: AccountMail
) -> None:
    first = register(client)
    second = register(client, display_name="別人", password="another password 1")
    assert first.status_code == second.status_code == 200
    assert second.text.replace("別人", "はなこ").count("にリンクを送信しました") == 1
    assert session.exec(select(func.count()).select_from(User)).one() == 1
    assert account_mail.run() == [True]  # the worker tells the owner
    subjects = session.exec(select(OutboundEmail.subject).order_by(OutboundEmail.id)).all()
    assert subjects == ["【コクリエ板橋】メールアドレスの確認", "【コクリエ板橋】アカウントはすでに登録されています"]


def confirmed_user(session: Session, email: str = "hanako@example.jp") -> User:
    user = User(email=email, display_name="はなこ", password_hash=passwords.hash_password(PASSWORD),
                email_confirmed_at=services.utcnow())
    session.add(user)
    session.commit()
    return user


def test_wrong_password_and_unknown_account_get_the_same_answer(
    client: TestClient[Litestar], session: Session
) -> None:
    confirmed_user(session)
    wrong = sign_in(client, password="wrong password!")
    unknown = sign_in(client, email="nobody@example.jp")
    assert wrong.status_code == unknown.status_code == 400
    assert "メールアドレスまたはパスワードが正しくありません" in wrong.text
    assert "メールアドレスまたはパスワードが正しくありません" in unknown.text


def test_a_guessing_client_is_throttled_even_with_the_right_password(
    client: TestClient[Litestar], session: Session
) -> None:
    """Issue 17 changed this: the lock holds for the address *from this client* (the test client is one
    client), no longer for the address everywhere (tests/cocreate/accounts/test_lockout.py)."""
    confirmed_user(session)
    for _ in range(throttle.PAIR.threshold):
        assert sign_in(client, password="wrong password!").status_code == 400
    locked = sign_in(client)
    assert locked.status_code == 400 and "一時的にロックしています" in locked.text
    # The same lock for an address without an account: the lock reveals nothing.
    for _ in range(throttle.PAIR.threshold):
        sign_in(client, email="nobody@example.jp", password="wrong password!")
    assert "一時的にロックしています" in sign_in(client, email="nobody@example.jp").text
    session.expire_all()
    pair = session.get(SignInThrottle, throttle.pair_key("hanako@example.jp", "testclient"))
    assert pair is not None and pair.locked_until is not None
    assert session.get(SignInThrottle, services.throttle_key("hanako@example.jp")).locked_until is None  # type: ignore[union-attr]


def test_sign_in_redirect_stays_on_this_site(client: TestClient[Litestar], session: Session) -> None:
    confirmed_user(session)
    response = client.post("/account/sign-in", data={"email": "hanako@example.jp", "password": PASSWORD,
                                                     "next": "//evil.example/x", "_csrf_token": csrf_token(client)},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_password_reset_signs_out_other_sessions(app: Litestar, client: TestClient[Litestar], session: Session,
                                                account_mail: AccountMail) -> None:
    confirmed_user(session)
    other_device = TestClient(app, base_url="http://testserver.local")
    sign_in(other_device)
    assert 'id="sign-out"' in other_device.get("/").text

    unknown = client.post("/account/password/forgot", data={"email": "nobody@example.jp",
                                                            "_csrf_token": csrf_token(client)})
    known = client.post("/account/password/forgot", data={"email": "hanako@example.jp",
                                                          "_csrf_token": csrf_token(client)})
    assert unknown.status_code == known.status_code == 200
    assert unknown.text.replace("nobody", "hanako") == known.text.replace(
        client.cookies["cocreate_csrf"], client.cookies["cocreate_csrf"])
    assert account_mail.run() == [False, True]  # the worker sends a link to the registered address only
    path = last_link(session, "hanako@example.jp").removeprefix("http://127.0.0.1:8000")
    too_short = client.post(path, data={"password": "short", "_csrf_token": csrf_token(client)})
    assert too_short.status_code == 400 and "10文字以上" in too_short.text
    done = client.post(path, data={"password": "a brand new password", "_csrf_token": csrf_token(client)},
                       follow_redirects=False)
    assert done.status_code == 303
    assert client.post(path, data={"password": "again a new password", "_csrf_token": csrf_token(client)}).status_code == 400
    assert 'id="sign-out"' not in other_device.get("/").text  # the old session no longer works
    assert sign_in(client, password="a brand new password").status_code == 303


def test_account_forms_reject_posts_without_csrf(client: TestClient[Litestar], session: Session) -> None:
    response = client.post("/account/register", data={"email": "a@example.jp", "display_name": "a",
                                                      "password": PASSWORD, "accept_terms": "yes",
                                                      "accept_privacy": "yes"})
    assert response.status_code == 403
    assert session.exec(select(func.count()).select_from(User)).one() == 0


def test_password_reset_spends_pending_email_change_links(
    client: TestClient[Litestar], session: Session, settings: Settings
) -> None:
    from cocreate.accounts.models import TokenPurpose, UserToken

    user = confirmed_user(session)
    change_link = services.issue_token(session, user, TokenPurpose.CHANGE_EMAIL, services.CONFIRM_EMAIL_TTL,
                                       new_email="attacker@example.jp")
    session.commit()
    assert services.send_reset_link(session, settings, "hanako@example.jp")
    reset_path = last_link(session, "hanako@example.jp").removeprefix("http://127.0.0.1:8000")
    assert client.post(reset_path, data={"password": "a brand new password", "_csrf_token": csrf_token(client)},
                       follow_redirects=False).status_code == 303
    session.expire_all()
    assert all(row.used_at is not None for row in session.exec(select(UserToken)).all())
    assert client.get(f"/account/email/confirm/{change_link}").status_code == 400
    session.expire_all()
    assert session.get(User, user.id).email == "hanako@example.jp"  # type: ignore[union-attr]


def test_sign_in_applies_the_profile_language(client: TestClient[Litestar], session: Session) -> None:
    user = confirmed_user(session)
    user.locale = "en"
    session.add(user)
    session.commit()
    response = sign_in(client)
    assert response.cookies.get("cocreate_locale") == "en"
    assert '<html lang="en">' in client.get("/").text


def test_the_language_chosen_on_the_sign_in_page_wins_over_the_saved_one(
        client: TestClient[Litestar], session: Session) -> None:
    confirmed_user(session)  # saved language: Japanese
    page = client.get("/account/sign-in", params={"lang": "en", "next": "/challenges"})
    assert '<html lang="en">' in page.text and '<input type="hidden" name="lang" value="en">' in page.text
    response = client.post("/account/sign-in", data={
        "email": "hanako@example.jp", "password": PASSWORD, "lang": "en", "next": "/challenges",
        "_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert response.status_code == 303 and response.cookies.get("cocreate_locale") == "en"
    assert '<html lang="en">' in client.get("/challenges").text
    # Without a choice on the page, the saved language applies; a forged value is ignored.
    page = client.get("/account/sign-in", params={"lang": "xx"})
    assert 'name="lang"' not in page.text
