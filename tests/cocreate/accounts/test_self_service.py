"""My account: overview, profile, password and e-mail changes, through the real app."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, select

from cocreate.accounts import passwords, self_service
from cocreate.accounts.models import AgeBand, Role, TokenPurpose, User, UserToken
from cocreate.accounts.permissions import Principal
from cocreate.errors import Invalid
from cocreate.i18n import LOCALE_COOKIE
from tests.cocreate.accounts.self_service_helpers import (
    emails_to,
    is_signed_in,
    link_in,
    new_client,
    post,
    signed_in_client,
)
from tests.factories import PASSWORD, create_department, create_user, sign_in

pytestmark = pytest.mark.databases("sqlite", why="account self-service rules are Python")

ACCOUNT_PAGES = ["/account", "/account/profile", "/account/password", "/account/email", "/account/residency",
                 "/account/export", "/account/delete"]


@pytest.fixture
def hanako(session: Session) -> User:
    return create_user(session, "hanako@example.jp", display_name="はなこ")


@pytest.fixture
def hanako_client(app: Litestar, hanako: User) -> TestClient[Litestar]:
    return signed_in_client(app, hanako)


def reload(session: Session, user: User) -> User:
    session.expire_all()
    fresh = session.get(User, user.id)
    assert fresh is not None
    return fresh


# --- permissions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ACCOUNT_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient[Litestar], path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/account/sign-in?next=")


@pytest.mark.parametrize("path", ["/account/profile", "/account/password", "/account/email", "/account/delete",
                                  "/account/export", "/account/residency/request", "/account/residency/code"])
def test_anonymous_posts_change_nothing_and_ask_to_sign_in(client: TestClient[Litestar], path: str) -> None:
    response = post(client, path, {"display_name": "x", "password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in")


@pytest.mark.parametrize("path", ACCOUNT_PAGES)
def test_signed_in_user_reaches_every_account_page(hanako_client: TestClient[Litestar], path: str) -> None:
    response = hanako_client.get(path)
    assert response.status_code == 200, response.text[:500]
    assert '<html lang="ja">' in response.text and "<h1>" in response.text


def test_overview_shows_the_account_and_links(session: Session, hanako_client: TestClient[Litestar]) -> None:
    page = hanako_client.get("/account").text
    assert "マイアカウント" in page and "はなこ" in page and "hanako@example.jp" in page
    assert "区民確認" in page and "未確認" in page
    for link in ("/account/profile", "/account/email", "/account/password", "/account/residency",
                 "/account/export", "/account/delete"):
        assert f'href="{link}"' in page
    assert "/staff/residency" not in page  # residents see no staff link


def test_overview_links_staff_to_the_residency_queue(app: Litestar, session: Session) -> None:
    department = create_department(session)
    staff = create_user(session, "staff@example.jp", roles=[(Role.STAFF, department.id)])  # type: ignore[list-item]
    page = signed_in_client(app, staff).get("/account").text
    assert 'href="/staff/residency"' in page and "区職員" in page


# --- profile -------------------------------------------------------------------------------------


def test_profile_is_saved_normalised_and_the_language_applies(
    session: Session, hanako: User, hanako_client: TestClient[Litestar]
) -> None:
    response = post(hanako_client, "/account/profile", {"display_name": "  はなこ2 ", "area": "〒１７５－００８２",
                                                        "age_band": "30s", "locale": "en"})
    assert response.status_code == 303 and response.headers["location"] == "/account/profile"
    assert response.cookies.get(LOCALE_COOKIE) == "en"
    user = reload(session, hanako)
    assert (user.display_name, user.area, user.age_band, user.locale) == ("はなこ2", "175-0082", AgeBand.AGE_30S, "en")
    page = hanako_client.get("/account/profile")
    assert '<html lang="en">' in page.text and "Your profile has been saved." in page.text
    assert 'value="175-0082"' in page.text and '<option value="30s" selected>' in page.text

    # An area given as a neighbourhood keeps its words (full-width digits made plain), and fields clear.
    post(hanako_client, "/account/profile", {"display_name": "はなこ", "area": "高島平１丁目", "age_band": "",
                                             "locale": "ja"})
    user = reload(session, hanako)
    assert (user.area, user.age_band, user.locale) == ("高島平1丁目", None, "ja")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("display_name", "", "表示名を入力してください"),
    ("display_name", "あ" * 51, "50文字以内"),
    ("display_name", "tab\there", "表示名に使えない文字"),
    ("area", "あ" * 101, "100文字以内"),
    ("area", "bell\x07", "使用できない文字"),
    ("age_band", "99s", "年代は一覧から選択"),
    ("locale", "fr", "言語は一覧から選択"),
])
def test_profile_validation_errors_change_nothing(
    session: Session, hanako: User, hanako_client: TestClient[Litestar], field: str, value: str, message: str
) -> None:
    form = {"display_name": "新しい名前", "area": "板橋", "age_band": "20s", "locale": "ja"} | {field: value}
    response = post(hanako_client, "/account/profile", form)
    assert response.status_code == 400
    assert message in response.text and 'aria-invalid="true"' in response.text
    user = reload(session, hanako)
    assert (user.display_name, user.area, user.age_band) == ("はなこ", "", None)


def test_profile_hostile_input_is_stored_verbatim_and_shown_escaped(
    session: Session, hanako: User, hanako_client: TestClient[Litestar], xss_payloads: list[str]
) -> None:
    for payload in xss_payloads:
        name = payload.replace("\n", " ").replace("\t", " ").strip()[:50] or "x"
        area = payload.replace("\n", " ").replace("\t", " ").strip()[:100]
        response = post(hanako_client, "/account/profile", {"display_name": name, "area": area, "locale": "ja"})
        assert response.status_code == 303, (payload, response.text[:300])
        assert reload(session, hanako).display_name == name
        for page in (hanako_client.get("/account").text, hanako_client.get("/account/profile").text):
            if "<" in name:
                assert name not in page
            assert "<script>alert(1)</script>" not in page


def test_profile_survives_huge_and_repeated_fields(
    session: Session, hanako: User, hanako_client: TestClient[Litestar]
) -> None:
    response = post(hanako_client, "/account/profile", {"display_name": "x" * 100_000, "area": "y" * 100_000,
                                                        "age_band": ["20s", "30s"], "locale": ["ja", "en"]})
    assert response.status_code == 400 and "50文字以内" in response.text
    assert reload(session, hanako).display_name == "はなこ"
    ok = post(hanako_client, "/account/profile", {"display_name": ["はな", "こ"], "age_band": ["20s", "30s"],
                                                  "locale": "ja"})
    assert ok.status_code == 303
    assert reload(session, hanako).age_band == AgeBand.AGE_20S  # the first of a repeated field counts


# --- password ------------------------------------------------------------------------------------


def test_password_change_signs_out_other_sessions_but_not_this_one(
    app: Litestar, session: Session, hanako: User, hanako_client: TestClient[Litestar]
) -> None:
    other_device = signed_in_client(app, hanako)
    assert is_signed_in(other_device)
    epoch = hanako.session_epoch
    response = post(hanako_client, "/account/password", {"current_password": PASSWORD,
                                                         "new_password": "a brand new password"})
    assert response.status_code == 303 and response.headers["location"] == "/account"
    assert "パスワードを変更しました" in hanako_client.get("/account").text
    assert is_signed_in(hanako_client)
    assert not is_signed_in(other_device)
    user = reload(session, hanako)
    assert user.session_epoch == epoch + 1
    assert passwords.verify_password(user.password_hash, "a brand new password")
    notice = emails_to(session, "hanako@example.jp")[-1]
    assert notice.subject == "【コクリエ板橋】パスワードが変更されました"

    fresh = new_client(app)
    assert post(fresh, "/account/sign-in", {"email": "hanako@example.jp", "password": PASSWORD}).status_code == 400
    sign_in(fresh, "hanako@example.jp", "a brand new password")


@pytest.mark.parametrize(("current", "new", "field_message"), [
    ("wrong password!", "a brand new password", "現在のパスワードが正しくありません"),
    ("", "a brand new password", "現在のパスワードを入力してください"),
    (PASSWORD, "short", "10文字以上"),
    (PASSWORD, "x" * 257, "256文字以内"),
    (PASSWORD, "hanako@example.jp", "メールアドレスと同じパスワードは使えません"),
    (PASSWORD, PASSWORD, "現在のパスワードとは異なる"),
])
def test_password_change_errors_change_nothing(
    app: Litestar, session: Session, hanako: User, hanako_client: TestClient[Litestar],
    current: str, new: str, field_message: str
) -> None:
    other_device = signed_in_client(app, hanako)
    response = post(hanako_client, "/account/password", {"current_password": current, "new_password": new})
    assert response.status_code == 400
    assert field_message in response.text
    user = reload(session, hanako)
    assert passwords.verify_password(user.password_hash, PASSWORD) and user.session_epoch == hanako.session_epoch
    assert is_signed_in(other_device) and is_signed_in(hanako_client)


def test_wrong_current_passwords_are_throttled(session: Session, hanako: User,
                                               hanako_client: TestClient[Litestar]) -> None:
    for _ in range(self_service.REAUTH_FAILURES):
        response = post(hanako_client, "/account/password", {"current_password": "wrong password!",
                                                             "new_password": "a brand new password"})
        assert "現在のパスワードが正しくありません" in response.text
    locked = post(hanako_client, "/account/password", {"current_password": PASSWORD,
                                                       "new_password": "a brand new password"})
    assert locked.status_code == 400 and "一時的に操作を制限しています" in locked.text
    assert passwords.verify_password(reload(session, hanako).password_hash, PASSWORD)


# --- e-mail address ------------------------------------------------------------------------------


def test_email_change_confirms_the_new_address_and_tells_the_old_one(
    app: Litestar, session: Session, hanako: User, hanako_client: TestClient[Litestar]
) -> None:
    response = post(hanako_client, "/account/email", {"new_email": " Hanako.New@Example.JP ", "password": PASSWORD})
    assert response.status_code == 200
    assert "hanako.new@example.jp にリンクを送信しました" in response.text
    assert reload(session, hanako).email == "hanako@example.jp"  # nothing changes before the link is opened

    notice = emails_to(session, "hanako@example.jp")[-1]
    assert notice.subject == "【コクリエ板橋】メールアドレス変更の申請がありました"
    assert "hanako.new@example.jp" in notice.body_text and "/account/email/confirm/" not in notice.body_text
    confirmation = emails_to(session, "hanako.new@example.jp")[-1]
    assert confirmation.subject == "【コクリエ板橋】新しいメールアドレスの確認"
    path = link_in(confirmation)
    assert path.startswith("/account/email/confirm/")
    token = path.rsplit("/", 1)[1]
    stored = session.exec(select(UserToken).where(UserToken.purpose == TokenPurpose.CHANGE_EMAIL)).one()
    assert stored.new_email == "hanako.new@example.jp" and token not in stored.token_hash

    opened = hanako_client.get(path, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/account"
    user = reload(session, hanako)
    assert user.email == "hanako.new@example.jp" and user.email_confirmed_at is not None
    assert "hanako.new@example.jp に変更しました" in hanako_client.get("/account").text
    # Single use.
    assert hanako_client.get(path).status_code == 400
    # The new address signs in; the old one no longer does.
    fresh = new_client(app)
    sign_in(fresh, "hanako.new@example.jp")
    assert post(new_client(app), "/account/sign-in", {"email": "hanako@example.jp",
                                                      "password": PASSWORD}).status_code == 400


def test_email_link_works_without_being_signed_in(
    app: Litestar, session: Session, hanako: User, hanako_client: TestClient[Litestar]
) -> None:
    post(hanako_client, "/account/email", {"new_email": "new@example.jp", "password": PASSWORD})
    other_browser = new_client(app)
    opened = other_browser.get(link_in(emails_to(session, "new@example.jp")[-1]), follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/account/sign-in"
    assert reload(session, hanako).email == "new@example.jp"


def test_email_change_to_a_taken_address_answers_the_same_and_warns_that_address(
    app: Litestar, session: Session, hanako: User, hanako_client: TestClient[Litestar]
) -> None:
    create_user(session, "taken@example.jp", display_name="先客")
    taken = post(hanako_client, "/account/email", {"new_email": "taken@example.jp", "password": PASSWORD})
    free = post(hanako_client, "/account/email", {"new_email": "free@example.jp", "password": PASSWORD})
    assert taken.status_code == free.status_code == 200
    assert taken.text.replace("taken@", "free@") == free.text.replace(
        hanako_client.cookies["cocreate_csrf"], hanako_client.cookies["cocreate_csrf"])
    note = emails_to(session, "taken@example.jp")
    assert len(note) == 1 and "/account/email/confirm/" not in note[0].body_text
    assert "すでに別のアカウントで登録されています" in note[0].body_text and "はなこ" not in note[0].body_text
    # The old address is told in both cases, so even its owner cannot tell the two apart.
    assert len(emails_to(session, "hanako@example.jp")) == 2
    assert reload(session, hanako).email == "hanako@example.jp"
    assert session.exec(select(User).where(User.email == "taken@example.jp")).one().display_name == "先客"


def test_only_the_newest_email_link_works_and_a_password_change_spends_it(
    session: Session, hanako: User, hanako_client: TestClient[Litestar]
) -> None:
    post(hanako_client, "/account/email", {"new_email": "first@example.jp", "password": PASSWORD})
    post(hanako_client, "/account/email", {"new_email": "second@example.jp", "password": PASSWORD})
    assert hanako_client.get(link_in(emails_to(session, "first@example.jp")[-1])).status_code == 400
    post(hanako_client, "/account/password", {"current_password": PASSWORD, "new_password": "another new password"})
    assert hanako_client.get(link_in(emails_to(session, "second@example.jp")[-1])).status_code == 400
    assert reload(session, hanako).email == "hanako@example.jp"


def test_email_link_fails_when_the_address_was_taken_meanwhile(
    session: Session, hanako: User, hanako_client: TestClient[Litestar]
) -> None:
    post(hanako_client, "/account/email", {"new_email": "race@example.jp", "password": PASSWORD})
    create_user(session, "race@example.jp")
    assert hanako_client.get(link_in(emails_to(session, "race@example.jp")[-1])).status_code == 400
    assert reload(session, hanako).email == "hanako@example.jp"


@pytest.mark.parametrize(("new_email", "password", "message"), [
    ("not-an-address", PASSWORD, "name@example.jp のような形式"),
    ("", PASSWORD, "メールアドレスを入力してください"),
    ("HANAKO@example.jp", PASSWORD, "現在ご登録のメールアドレスと同じです"),
    ("new@example.jp", "wrong password!", "現在のパスワードが正しくありません"),
    ("new@example.jp", "", "現在のパスワードを入力してください"),
    ("a" * 5000 + "@example.jp", PASSWORD, "name@example.jp のような形式"),
])
def test_email_change_errors_send_nothing(
    session: Session, hanako: User, hanako_client: TestClient[Litestar], new_email: str, password: str, message: str
) -> None:
    response = post(hanako_client, "/account/email", {"new_email": new_email, "password": password})
    assert response.status_code == 400 and message in response.text
    assert emails_to(session, "hanako@example.jp") == [] and emails_to(session, "new@example.jp") == []
    assert session.exec(select(UserToken)).all() == []


def test_email_form_echoes_hostile_input_escaped(hanako_client: TestClient[Litestar], xss_payloads: list[str]) -> None:
    for payload in xss_payloads[:20]:
        response = post(hanako_client, "/account/email", {"new_email": payload, "password": PASSWORD})
        assert response.status_code == 400
        if "<" in payload:
            assert payload not in response.text


def test_account_without_a_password_is_told_to_set_one(app: Litestar, session: Session) -> None:
    user = create_user(session, "oidc@example.jp")
    client = signed_in_client(app, user)
    user.password_hash = None
    session.add(user)
    session.commit()
    response = post(client, "/account/email", {"new_email": "x@example.jp", "password": "anything at all"})
    assert response.status_code == 400 and "パスワードが設定されていません" in response.text


def test_services_refuse_anonymous_actors(session: Session) -> None:
    from cocreate.accounts.permissions import SignInRequired

    with pytest.raises(SignInRequired):
        self_service.update_profile(session, Principal.anonymous(), self_service.ProfileForm(display_name="x"))
    user = create_user(session, "svc@example.jp")
    with pytest.raises(Invalid) as failed:
        self_service.update_profile(session, Principal.load(session, user),
                                    self_service.ProfileForm(display_name="", age_band="nope", locale="xx"))
    assert set(failed.value.errors) == {"display_name", "age_band", "locale"}
