"""Consent to the versioned terms and privacy policy: registration records the published versions, and a
new version asks every signed-in user to agree again before they go on."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, select

from cocreate.accounts import consents
from cocreate.accounts.models import Consent, ConsentDocument, Role, User
from cocreate.i18n import gettext, using_locale
from cocreate.pages import services
from cocreate.pages.models import SitePage
from cocreate.pages.seed import FIRST_VERSION
from tests.cocreate.accounts.self_service_helpers import is_signed_in, new_client, post
from tests.factories import PASSWORD, actor, create_user, sign_in
from tests.helpers import QueryLog, csrf_token

pytestmark = pytest.mark.databases("sqlite", why="the consent rules are Python over plain rows")


def ja(message: str, **variables: object) -> str:
    with using_locale("ja"):
        return gettext(message, **variables)


@pytest.fixture
def admin(session: Session) -> User:
    return create_user(session, "admin@example.jp", roles=[Role.ADMIN])


@pytest.fixture
def hanako(session: Session) -> User:
    return create_user(session, "hanako@example.jp", display_name="はなこ")


def publish(session: Session, admin: User, page: SitePage = SitePage.TERMS, *, new_version: bool = True,
            note: str = "第5条を改めました。") -> str:
    """Save the page with a changed text; the version it is now at."""
    current = services.current(session, page).revision
    revision = services.save(session, actor(session, admin), page, services.PageForm(
        title_ja=current.title_ja, title_en=current.title_en, body_ja=current.body_ja + "\n\n改定しました。",
        body_en=current.body_en + "\n\nChanged.", note=note, new_version=new_version,
        base_revision_id=str(current.id)))
    assert revision.version is not None
    return revision.version


def agreed(session: Session, user: User) -> set[tuple[str, str]]:
    session.expire_all()
    return {(c.document.value, c.version)
            for c in session.exec(select(Consent).where(Consent.user_id == user.id)).all()}


def signed_in(app: Litestar, user: User) -> TestClient[Litestar]:
    client = new_client(app)
    sign_in(client, user)
    return client


# --- registration ----------------------------------------------------------------------------------


def test_the_registration_form_links_to_the_versioned_documents(client: TestClient[Litestar]) -> None:
    page = client.get("/account/register?lang=en").text
    form = page.split('id="register-form"', 1)[1].split("</form>", 1)[0]
    assert '<a href="/terms" id="terms-link">Read the terms of use</a> (version 2026-11)' in form
    assert '<a href="/privacy" id="privacy-link">Read the privacy policy</a> (version 2026-11)' in form
    assert 'aria-describedby="field-accept_terms-hint"' in form
    assert '<input type="hidden" name="terms_version" value="2026-11">' in form
    assert '<input type="hidden" name="privacy_version" value="2026-11">' in form
    # The links lead to the documents, without JavaScript, in the reader's language.
    assert "What is not allowed" in client.get("/terms").text


def register(client: TestClient[Litestar], **overrides: str) -> object:
    form = {"email": "taro@example.jp", "display_name": "たろう", "password": PASSWORD, "accept_terms": "yes",
            "accept_privacy": "yes", "terms_version": "", "privacy_version": "",
            "_csrf_token": csrf_token(client)} | overrides
    return client.post("/account/register", data=form)


def test_registration_records_the_published_versions(client: TestClient[Litestar], session: Session,
                                                     admin: User) -> None:
    version = publish(session, admin)
    response = register(client, terms_version=version, privacy_version=FIRST_VERSION)
    assert response.status_code == 200  # "check your e-mail"
    user = session.exec(select(User).where(User.email == "taro@example.jp")).one()
    assert agreed(session, user) == {("terms", version), ("privacy", FIRST_VERSION)}
    assert (user.terms_version, user.privacy_version) == (version, FIRST_VERSION)


def test_a_version_published_while_registering_is_not_recorded_unseen(client: TestClient[Litestar],
                                                                      session: Session, admin: User) -> None:
    shown = client.get("/account/register").text
    assert 'name="terms_version" value="2026-11"' in shown
    version = publish(session, admin)
    response = register(client, terms_version=FIRST_VERSION, privacy_version=FIRST_VERSION)
    assert response.status_code == 400
    assert ja("A new version was published while you were filling in the form. Read it and agree again.") in response.text
    assert f'name="terms_version" value="{version}"' in response.text  # the form now shows the new one
    assert session.exec(select(User).where(User.email == "taro@example.jp")).first() is None


# --- a new version ---------------------------------------------------------------------------------


def test_a_new_version_of_the_terms_asks_a_signed_in_user_to_agree_again(
    app: Litestar, session: Session, admin: User, hanako: User
) -> None:
    client = signed_in(app, hanako)
    assert client.get("/challenges", follow_redirects=False).status_code == 200
    version = publish(session, admin, note="第5条（禁止事項）に項目を加えました。")

    response = client.get("/challenges?category=environment", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/consent?next=%2Fchallenges%3Fcategory%3Denvironment"
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    assert ja("Please read and agree to the updated documents") in page.text
    assert ja("Version %(version)s, published on %(since)s.", version=version, since="").split("（")[0] in page.text
    assert "第5条（禁止事項）に項目を加えました。" in page.text and 'href="/terms"' in page.text
    assert 'name="accept_terms"' in page.text and 'name="accept_privacy"' not in page.text  # privacy did not change
    assert 'name="_csrf_token"' in page.text

    # Not ticking the box is an error, in the reader's language, and records nothing.
    refused = post(client, "/account/consent", {"next": "/challenges", "terms_version": version})
    assert refused.status_code == 400 and ja("Agree to the terms of use to continue.") in refused.text
    assert agreed(session, hanako) == {("terms", FIRST_VERSION), ("privacy", FIRST_VERSION)}
    assert client.get("/account", follow_redirects=False).status_code == 303

    accepted = post(client, "/account/consent", {"next": "/challenges?category=environment", "accept_terms": "yes",
                                                 "terms_version": version})
    assert accepted.status_code == 303 and accepted.headers["location"] == "/challenges?category=environment"
    assert agreed(session, hanako) == {("terms", FIRST_VERSION), ("terms", version), ("privacy", FIRST_VERSION)}
    session.refresh(hanako)
    assert (hanako.terms_version, hanako.privacy_version) == (version, FIRST_VERSION)
    assert client.get("/account", follow_redirects=False).status_code == 200
    # Up to date: the agreement page sends people on.
    assert client.get("/account/consent?next=/account", follow_redirects=False).headers["location"] == "/account"


def test_the_agreement_form_needs_its_csrf_token(app: Litestar, session: Session, admin: User, hanako: User) -> None:
    client = signed_in(app, hanako)
    version = publish(session, admin)
    response = client.post("/account/consent", data={"accept_terms": "yes", "terms_version": version},
                           follow_redirects=False)
    assert response.status_code == 403
    assert agreed(session, hanako) == {("terms", FIRST_VERSION), ("privacy", FIRST_VERSION)}


def test_both_documents_at_once_and_a_version_published_while_reading(
    app: Litestar, session: Session, admin: User, hanako: User
) -> None:
    client = signed_in(app, hanako)
    terms = publish(session, admin)
    privacy = publish(session, admin, SitePage.PRIVACY)
    page = client.get("/account/consent").text
    assert 'name="accept_terms"' in page and 'name="accept_privacy"' in page
    only_terms = post(client, "/account/consent", {"accept_terms": "yes", "terms_version": terms,
                                                   "privacy_version": privacy})
    assert only_terms.status_code == 400 and ja("Agree to the privacy policy to continue.") in only_terms.text

    newer = publish(session, admin)
    stale = post(client, "/account/consent", {"accept_terms": "yes", "accept_privacy": "yes", "terms_version": terms,
                                              "privacy_version": privacy})
    assert stale.status_code == 400 and 'id="field-changed"' in stale.text
    assert f'name="terms_version" value="{newer}"' in stale.text
    assert agreed(session, hanako) == {("terms", FIRST_VERSION), ("privacy", FIRST_VERSION)}
    done = post(client, "/account/consent", {"accept_terms": "yes", "accept_privacy": "yes", "terms_version": newer,
                                             "privacy_version": privacy})
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert {("terms", newer), ("privacy", privacy)} <= agreed(session, hanako)


def test_a_correction_does_not_ask_again(app: Litestar, session: Session, admin: User, hanako: User) -> None:
    client = signed_in(app, hanako)
    assert publish(session, admin, new_version=False) == FIRST_VERSION
    assert client.get("/account", follow_redirects=False).status_code == 200


def test_the_new_version_is_asked_for_at_the_next_sign_in(app: Litestar, session: Session, admin: User,
                                                         hanako: User) -> None:
    version = publish(session, admin)
    client = new_client(app)
    response = client.post("/account/sign-in", data={"email": hanako.email, "password": PASSWORD, "next": "/account",
                                                     "_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/account"
    landing = client.get("/account", follow_redirects=False)
    assert landing.headers["location"] == "/account/consent?next=%2Faccount"
    assert f"{version}" in client.get(landing.headers["location"]).text


def test_someone_who_does_not_agree_can_still_read_sign_out_export_and_delete(
    app: Litestar, session: Session, admin: User, hanako: User
) -> None:
    client = signed_in(app, hanako)
    publish(session, admin)
    page = client.get("/account/consent").text
    for link in ('href="/account/export"', 'href="/account/delete"', 'id="consent-sign-out"'):
        assert link in page
    for path in ("/terms", "/privacy", "/help", "/contact", "/account/export", "/account/delete", "/api/v1"):
        assert client.get(path, follow_redirects=False).status_code == 200, path
    assert post(client, "/account/export").status_code == 200
    signed_out = post(client, "/account/sign-out")
    assert signed_out.status_code == 303 and not is_signed_in(client)
    assert client.get("/challenges", follow_redirects=False).status_code == 200  # a visitor reads as before


def test_a_form_post_waits_for_the_agreement(app: Litestar, session: Session, admin: User, hanako: User) -> None:
    client = signed_in(app, hanako)
    publish(session, admin)
    response = post(client, "/account/profile", {"display_name": "変えたい名前", "locale": "ja"},
                    headers={"referer": "http://testserver.local/account/profile"})
    assert response.status_code == 303 and response.headers["location"] == "/account/consent?next=%2Faccount%2Fprofile"
    session.refresh(hanako)
    assert hanako.display_name == "はなこ"
    # htmx: a request it makes on its own (a poll, a filter) goes through; a form post is redirected.
    polled = client.get("/notifications/unread-count", headers={"HX-Request": "true"}, follow_redirects=False)
    assert polled.status_code == 200 and "HX-Redirect" not in polled.headers
    posted = post(client, "/notifications/read-all", headers={"HX-Request": "true"})
    assert posted.status_code == 200 and posted.headers["HX-Redirect"].startswith("/account/consent?next=")


def test_visitors_and_up_to_date_users_are_not_asked(client: TestClient[Litestar], app: Litestar,
                                                     session: Session, hanako: User) -> None:
    assert client.get("/account/register", follow_redirects=False).status_code == 200
    user_client = signed_in(app, hanako)
    assert user_client.get("/account", follow_redirects=False).status_code == 200
    assert user_client.get("/account/consent", follow_redirects=False).headers["location"] == "/"


def test_the_check_costs_no_query_once_the_versions_are_known(app: Litestar, session: Session, hanako: User,
                                                               query_log: QueryLog) -> None:
    client = signed_in(app, hanako)
    client.get("/account")
    statements = [s for s in query_log.statements if re.search(r"\bpage_revision\b", s)]
    assert statements == [] or len(statements) == 1  # at most the first read after the test began
    query_log.statements.clear()
    client.get("/account")
    client.get("/notifications")
    assert not [s for s in query_log.statements if re.search(r"\bpage_revision\b|\bconsent\b", s)]


def test_users_who_never_agreed_are_asked_too(app: Litestar, session: Session) -> None:
    legacy = create_user(session, "legacy@example.jp", consented=False)
    client = signed_in(app, legacy)
    assert client.get("/account", follow_redirects=False).headers["location"] == "/account/consent?next=%2Faccount"
    page = client.get("/account/consent").text
    assert 'name="accept_terms"' in page and 'name="accept_privacy"' in page
    # Nothing was "updated" for them: they are asked to agree, not to agree again.
    assert ja("Please read and agree before you continue") in page and ja("I agree to the terms of use") in page
    assert ja("I agree to the new version of the terms of use") not in page
    post(client, "/account/consent", {"accept_terms": "yes", "accept_privacy": "yes", "terms_version": FIRST_VERSION,
                                      "privacy_version": FIRST_VERSION})
    assert agreed(session, legacy) == {("terms", FIRST_VERSION), ("privacy", FIRST_VERSION)}


def test_the_published_versions_are_read_again_after_a_new_version(session: Session, admin: User) -> None:
    assert consents.current_versions(session) == {ConsentDocument.TERMS: FIRST_VERSION,
                                                  ConsentDocument.PRIVACY: FIRST_VERSION}
    version = publish(session, admin)
    assert consents.current_versions(session)[ConsentDocument.TERMS] == version
