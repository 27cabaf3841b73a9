"""Sign-in with OpenID Connect, end to end against a real provider (npm oidc-provider, devInteractions).

The app runs under Litestar's TestClient; a plain httpx client (``agent``) plays the person's browser
at the provider (its login and consent forms) and hands the provider's redirect back to the app, as a
browser would.
Two providers run: "itabashi-id" keeps e-mail and profile claims in the UserInfo response (the
library's default), "tokyo-id" puts them into the ID token, so both ways are exercised.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError, JoseError
from joserfc.jwk import KeySet, OctKey, RSAKey
from litestar import Litestar
from litestar.testing import TestClient
from pydantic import ValidationError
from sqlmodel import Session, func, select

from cocreate.accounts import oidc, services
from cocreate.accounts.models import Consent, OidcIdentity, User
from cocreate.accounts.permissions import Forbidden, Principal, SignInRequired
from cocreate.app import create_app
from cocreate.db.base import utcnow
from cocreate.pages.seed import FIRST_VERSION
from cocreate.settings import OidcProvider, Settings
from tests.factories import create_user
from tests.factories import sign_in as sign_in_with_password
from tests.helpers import csrf_token, make_settings
from tests.oidc_servers import OidcClient, OidcProviderServer, ProviderSpec, start_oidc_provider

pytestmark = pytest.mark.databases("sqlite", why="the OpenID Connect flow; nothing here depends on the database")

BASE_URL = "http://127.0.0.1:8000"  # Settings' default base_url: the redirect URIs registered below
CLIENT_ID = "cocreate"
CLIENT_SECRET = "test-client-secret-0123456789"
SLUGS = ("itabashi-id", "tokyo-id")


@pytest.fixture(scope="session")
def oidc_server() -> Iterator[OidcProviderServer]:
    specs = [
        ProviderSpec(clients=(OidcClient(CLIENT_ID, CLIENT_SECRET, (f"{BASE_URL}/account/oidc/{SLUGS[0]}/callback",)),)),
        ProviderSpec(clients=(OidcClient(CLIENT_ID, CLIENT_SECRET, (f"{BASE_URL}/account/oidc/{SLUGS[1]}/callback",)),),
                     claims_in_id_token=True),
    ]
    server = start_oidc_provider(specs)
    yield server
    server.stop()


def provider_settings(server: OidcProviderServer) -> list[dict[str, str]]:
    return [
        {"slug": SLUGS[0], "name": "Itabashi ID", "issuer": server.issuers[0], "client_id": CLIENT_ID,
         "client_secret": CLIENT_SECRET},
        {"slug": SLUGS[1], "name": "Tokyo ID", "issuer": server.issuers[1], "client_id": CLIENT_ID,
         "client_secret": CLIENT_SECRET},
    ]


@pytest.fixture
def settings(tmp_path: Path, database_url: str, broker_url: str, oidc_server: OidcProviderServer) -> Settings:
    oidc.clear_caches()
    return make_settings(tmp_path / "data", database_url=database_url, broker_url=broker_url,
                         oidc_providers=provider_settings(oidc_server))


@pytest.fixture
def agent() -> Iterator[httpx.Client]:
    """The person's browser at the provider (its own cookies: a fresh provider session per test)."""
    with httpx.Client(follow_redirects=False, timeout=10) as client:
        yield client


# --- driving the provider ------------------------------------------------------------------------


def start(client: TestClient[Litestar], slug: str = SLUGS[0], next_url: str | None = None) -> str:
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    response = client.get(f"/account/oidc/{slug}/start{query}", follow_redirects=False)
    assert response.status_code == 303, response.text[:2000]
    assert response.headers["cache-control"] == "no-store"
    return response.headers["location"]


def at_provider(agent: httpx.Client, url: str, login: str | None, *, abort: bool = False) -> str:
    """Follow the provider's pages (log in as ``login``, consent) until it redirects back to the app."""
    for _step in range(12):
        if url.startswith(BASE_URL):
            return url
        response = agent.get(url)
        if response.status_code in (302, 303):
            url = urljoin(str(response.url), response.headers["location"])
            continue
        assert response.status_code == 200, response.text[:2000]
        if abort:
            return at_provider(agent, urljoin(str(response.url), f"{urlsplit(str(response.url)).path}/abort"), None)
        action = unescape(re.search(r'<form[^>]*action="([^"]+)"', response.text).group(1))  # type: ignore[union-attr]
        prompt = re.search(r'name="prompt" value="(\w+)"', response.text).group(1)  # type: ignore[union-attr]
        data = {"prompt": prompt}
        if prompt == "login":
            assert login is not None
            data |= {"login": login, "password": "any password"}
        posted = agent.post(urljoin(str(response.url), action), data=data)
        assert posted.status_code in (302, 303), posted.text[:2000]
        url = urljoin(str(posted.url), posted.headers["location"])
    raise AssertionError("the provider never redirected back")


def callback_path(url: str) -> str:
    assert url.startswith(BASE_URL), url
    return url.removeprefix(BASE_URL)


def sign_in_via(client: TestClient[Litestar], agent: httpx.Client, login: str, slug: str = SLUGS[0],
                next_url: str | None = None) -> httpx.Response:
    """The whole round trip; the app's answer to the provider's redirect."""
    back = at_provider(agent, start(client, slug, next_url), login)
    return client.get(callback_path(back), follow_redirects=False)


def is_signed_in(client: TestClient[Litestar]) -> bool:
    return 'id="sign-out"' in client.get("/").text


def count(session: Session, model: type) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def complete(client: TestClient[Litestar], **overrides: str) -> httpx.Response:
    form = {"display_name": "はなこ", "accept_terms": "yes", "accept_privacy": "yes",
            "_csrf_token": csrf_token(client)} | overrides
    return client.post("/account/oidc/complete", data={k: v for k, v in form.items() if v is not None},
                       follow_redirects=False)


# --- buttons -------------------------------------------------------------------------------------


def test_each_configured_provider_has_its_own_button(client: TestClient[Litestar]) -> None:
    for page in ("/account/sign-in", "/account/register"):
        html = client.get(page).text
        assert 'id="oidc-itabashi-id" href="/account/oidc/itabashi-id/start"' in html
        assert 'id="oidc-tokyo-id" href="/account/oidc/tokyo-id/start"' in html
        assert "Itabashi IDでログイン" in html and "Tokyo IDでログイン" in html
    english = client.get("/account/sign-in?lang=en").text
    assert "Sign in with Itabashi ID" in english and "Sign in with Tokyo ID" in english
    # The page the person came from survives the round trip.
    assert "/account/oidc/tokyo-id/start?next=/proposals%3Fpage%3D2" in client.get(
        "/account/sign-in?next=/proposals%3Fpage%3D2").text


def test_no_buttons_without_providers(tmp_path: Path, database_url: str, broker_url: str, database: object) -> None:
    app = create_app(make_settings(tmp_path / "plain", database_url=database_url, broker_url=broker_url),
                     database=database)  # type: ignore[arg-type]
    with TestClient(app, base_url="http://testserver.local") as plain:
        assert "oidc-providers" not in plain.get("/account/sign-in").text
        assert plain.get("/account/oidc/itabashi-id/start", follow_redirects=False).status_code == 404


def test_unknown_provider_is_not_found(client: TestClient[Litestar]) -> None:
    assert client.get("/account/oidc/nobody/start", follow_redirects=False).status_code == 404
    assert client.get("/account/oidc/nobody/callback?state=x&code=y", follow_redirects=False).status_code == 404


# --- the authorization request ---------------------------------------------------------------------


def test_authorization_request_carries_state_nonce_and_pkce_s256(client: TestClient[Litestar],
                                                                 oidc_server: OidcProviderServer) -> None:
    url = start(client)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == oidc_server.issuers[0] and parts.path == "/auth"
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"{BASE_URL}/account/oidc/itabashi-id/callback"
    assert query["scope"] == "openid email profile"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 43 and len(query["nonce"]) >= 43
    # Every attempt gets its own values.
    again = {key: values[0] for key, values in parse_qs(urlsplit(start(client)).query).items()}
    assert {again["state"], again["nonce"], again["code_challenge"]}.isdisjoint(
        {query["state"], query["nonce"], query["code_challenge"]})


def test_provider_requires_pkce(agent: httpx.Client, oidc_server: OidcProviderServer) -> None:
    """Without a code challenge the provider refuses: a working flow proves ours is sent and checked."""
    query = {"response_type": "code", "client_id": CLIENT_ID, "scope": "openid",
             "redirect_uri": f"{BASE_URL}/account/oidc/itabashi-id/callback", "state": "s", "nonce": "n"}
    back = at_provider(agent, f"{oidc_server.issuers[0]}/auth?{urlencode(query)}", "taro")
    assert parse_qs(urlsplit(back).query)["error"] == ["invalid_request"]


def test_code_redeemed_with_another_attempts_verifier_is_rejected(
    client: TestClient[Litestar], agent: httpx.Client, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """Two attempts in one session: attempt A's code sent back with B's state, so B's PKCE verifier
    goes to the token endpoint, and the provider refuses the exchange."""
    create_user(session, "taro@example.jp")
    first = at_provider(agent, start(client), "taro")
    second_state = parse_qs(urlsplit(start(client)).query)["state"][0]
    query = parse_qs(urlsplit(first).query)
    crossed = client.get("/account/oidc/itabashi-id/callback?" + urlencode(
        {"code": query["code"][0], "state": second_state, "iss": query["iss"][0]}), follow_redirects=False)
    assert crossed.status_code == 400
    assert "の応答を確認できなかった" in crossed.text
    assert "token endpoint of itabashi-id answered 400 'invalid_grant'" in caplog.text
    assert count(session, OidcIdentity) == 0
    assert not is_signed_in(client)


# --- new accounts --------------------------------------------------------------------------------


def test_first_sign_in_creates_an_account_after_the_completion_form(
    client: TestClient[Litestar], agent: httpx.Client, session: Session
) -> None:
    response = sign_in_via(client, agent, "hanako", next_url="/account/sign-in?from=oidc")
    assert response.status_code == 303 and response.headers["location"] == "/account/oidc/complete"
    assert count(session, User) == 0  # nothing is created before the form is sent

    form = client.get("/account/oidc/complete")
    assert form.status_code == 200
    assert 'value="はなこ"' in form.text  # the nickname claim, from UserInfo for this provider
    assert "hanako@example.jp" in form.text and "Itabashi ID" in form.text
    assert form.headers["cache-control"] == "no-store"

    refused = complete(client, accept_terms=None, accept_privacy=None, display_name="")
    assert refused.status_code == 400
    for message in ("表示名を入力してください", "利用規約への同意", "個人情報の取扱いへの同意"):
        assert message in refused.text
    assert complete(client, display_name="あ" * 51).status_code == 400
    assert complete(client, display_name="tab\there").status_code == 400
    assert count(session, User) == 0

    old_cookie = client.cookies.get("cocreate_session")
    done = complete(client, display_name="  はなこ  ")
    assert done.status_code == 303 and done.headers["location"] == "/account/sign-in?from=oidc"
    assert done.cookies.get("cocreate_session") not in (None, old_cookie)  # session rotated
    user = session.exec(select(User)).one()
    assert user.email == "hanako@example.jp" and user.is_confirmed and user.display_name == "はなこ"
    assert user.password_hash is None and user.last_sign_in_at is not None and user.locale == "ja"
    consents = session.exec(select(Consent).where(Consent.user_id == user.id)).all()
    assert {(c.document, c.version) for c in consents} == {("terms", FIRST_VERSION),
                                                           ("privacy", FIRST_VERSION)}
    identity = session.exec(select(OidcIdentity)).one()
    assert (identity.user_id, identity.provider, identity.subject, identity.email) == (
        user.id, "itabashi-id", "hanako", "hanako@example.jp")
    home = client.get("/")
    assert "はなこ" in home.text and 'id="sign-out"' in home.text
    assert "アカウントを作成しました" in home.text or "ようこそ" in home.text

    # The form cannot be sent twice, and the next sign-in goes straight in.
    assert complete(client).status_code == 400
    client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})
    again = sign_in_via(client, agent, "hanako")
    assert again.status_code == 303 and again.headers["location"] == "/"
    assert 'id="sign-out"' in client.get("/").text
    assert count(session, User) == 1 and count(session, OidcIdentity) == 1


def test_claims_in_the_id_token_work_too(client: TestClient[Litestar], agent: httpx.Client, session: Session) -> None:
    response = sign_in_via(client, agent, "natsuko", slug="tokyo-id")
    assert response.headers["location"] == "/account/oidc/complete"
    assert 'value="natsuko"' in client.get("/account/oidc/complete").text
    assert complete(client, display_name="なつこ").status_code == 303
    identity = session.exec(select(OidcIdentity)).one()
    assert (identity.provider, identity.subject, identity.email) == ("tokyo-id", "natsuko", "natsuko@example.jp")


def test_hostile_and_overlong_names_from_the_provider(
    client: TestClient[Litestar], agent: httpx.Client, session: Session, xss_payloads: list[str]
) -> None:
    sign_in_via(client, agent, "hostile")
    form = client.get("/account/oidc/complete").text
    assert "<script>alert(1)</script>" not in form and "&lt;script&gt;alert(1)&lt;/script&gt;" in form
    payload = xss_payloads[0][:50]
    assert complete(client, display_name=payload).status_code == 303
    assert session.exec(select(User)).one().display_name == payload.strip()

    with httpx.Client(follow_redirects=False, timeout=10) as other_browser, \
            TestClient(client.app, base_url="http://testserver.local") as other:
        sign_in_via(other, other_browser, "longname")
        assert f'value="{"あ" * 50}"' in other.get("/account/oidc/complete").text


def test_completion_form_without_a_pending_sign_in(
    client: TestClient[Litestar], agent: httpx.Client, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/account/oidc/complete").status_code == 400
    response = complete(client)
    assert response.status_code == 400 and "期限切れ" in response.text
    # A pending account waits only so long.
    assert sign_in_via(client, agent, "kenta").headers["location"] == "/account/oidc/complete"
    monkeypatch.setattr(oidc, "PENDING_TTL", -1)
    assert complete(client).status_code == 400
    assert count(session, User) == 0 and count(session, OidcIdentity) == 0


def test_completion_links_when_the_address_was_registered_meanwhile(
    client: TestClient[Litestar], agent: httpx.Client, session: Session
) -> None:
    sign_in_via(client, agent, "kenta")
    user = create_user(session, "kenta@example.jp", display_name="けんた")
    assert complete(client, display_name="別名").status_code == 303
    assert count(session, User) == 1
    assert session.exec(select(OidcIdentity)).one().user_id == user.id


# --- linking to existing accounts ------------------------------------------------------------------


def test_links_to_an_existing_account_with_a_confirmed_address(
    client: TestClient[Litestar], agent: httpx.Client, session: Session
) -> None:
    user = create_user(session, "taro@example.jp", display_name="たろう")
    back = at_provider(agent, start(client, "tokyo-id", "/account/register"), "taro")
    old_cookie = client.cookies.get("cocreate_session")
    assert old_cookie  # the attempt lives in the server-side session
    response = client.get(callback_path(back), follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/account/register"
    assert response.cookies.get("cocreate_session") not in (None, old_cookie)  # rotated at sign-in
    identity = session.exec(select(OidcIdentity)).one()
    assert (identity.user_id, identity.provider, identity.subject) == (user.id, "tokyo-id", "taro")
    assert identity.last_used_at is not None
    page = client.get("/")
    assert "たろう" in page.text and 'id="sign-out"' in page.text and "Tokyo ID" in page.text
    assert count(session, User) == 1


@pytest.mark.parametrize("slug", SLUGS)
def test_unconfirmed_existing_account_is_not_linked(
    client: TestClient[Litestar], agent: httpx.Client, session: Session, slug: str
) -> None:
    create_user(session, "jiro@example.jp", confirmed=False)
    response = sign_in_via(client, agent, "jiro", slug=slug)
    assert response.status_code == 403
    assert 'id="oidc-refused-email_not_confirmed"' in response.text
    assert "jiro@example.jp" in response.text and "確認されていない" in response.text
    assert count(session, OidcIdentity) == 0 and count(session, User) == 1
    assert not is_signed_in(client)


def test_unverified_provider_address_is_neither_linked_nor_used(
    client: TestClient[Litestar], agent: httpx.Client, session: Session
) -> None:
    create_user(session, "unverified-saburo@example.jp")
    response = sign_in_via(client, agent, "unverified-saburo")
    assert response.status_code == 403 and 'id="oidc-refused-email_not_verified"' in response.text
    assert count(session, OidcIdentity) == 0
    for login in ("unverified-shiro", "noemail-goro"):  # no account either: none is created
        with httpx.Client(follow_redirects=False, timeout=10) as other_browser:
            refused = sign_in_via(client, other_browser, login, slug="tokyo-id")
        assert refused.status_code == 403 and 'id="oidc-refused-email_not_verified"' in refused.text
    assert count(session, User) == 1 and not is_signed_in(client)


def test_blocked_users_cannot_sign_in(client: TestClient[Litestar], agent: httpx.Client, session: Session) -> None:
    user = create_user(session, "taro@example.jp")
    assert sign_in_via(client, agent, "taro").status_code == 303  # linked
    client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})
    user = session.get(User, user.id)
    user.blocked_at = utcnow()
    session.add(user)
    session.commit()
    refused = sign_in_via(client, agent, "taro")
    assert refused.status_code == 403 and 'id="oidc-refused-account_unavailable"' in refused.text
    assert not is_signed_in(client)

    # Not through a matching address either.
    create_user(session, "hiro@example.jp")
    session.exec(select(User).where(User.email == "hiro@example.jp")).one().blocked_at = utcnow()
    session.commit()
    assert sign_in_via(client, agent, "hiro", slug="tokyo-id").status_code == 403
    assert count(session, OidcIdentity) == 1


# --- answers that must not sign anyone in ------------------------------------------------------------


def test_state_mismatch_is_refused(
    client: TestClient[Litestar], agent: httpx.Client, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    create_user(session, "taro@example.jp")
    back = at_provider(agent, start(client), "taro")
    query = {key: values[0] for key, values in parse_qs(urlsplit(back).query).items()}
    for state in ("forged", "", None, "x" * 20_000):
        forged = query | {"state": state} if state is not None else {k: v for k, v in query.items() if k != "state"}
        response = client.get("/account/oidc/itabashi-id/callback?" + urlencode(forged), follow_redirects=False)
        assert response.status_code == 400 and "期限切れ" in response.text
    # The answer of one provider cannot be handed to another provider's callback.
    mixed = client.get("/account/oidc/tokyo-id/callback?" + urlencode(query), follow_redirects=False)
    assert mixed.status_code == 400
    assert "state of 'itabashi-id' came back to tokyo-id" in caplog.text
    # A huge code is refused before it reaches the provider.
    query = {key: values[0] for key, values in parse_qs(urlsplit(at_provider(agent, start(client), "taro")).query).items()}
    huge_code = client.get("/account/oidc/itabashi-id/callback?" + urlencode(query | {"code": "c" * 20_000}),
                           follow_redirects=False)
    assert huge_code.status_code == 400 and "no usable code from itabashi-id" in caplog.text
    assert count(session, OidcIdentity) == 0 and not is_signed_in(client)


def test_callback_of_another_browser_session_is_refused(
    client: TestClient[Litestar], agent: httpx.Client, session: Session
) -> None:
    """Login CSRF: an attacker's finished sign-in, opened in the victim's browser, does nothing."""
    create_user(session, "taro@example.jp")
    with TestClient(client.app, base_url="http://testserver.local") as attacker:
        back = at_provider(agent, start(attacker), "taro")
    response = client.get(callback_path(back), follow_redirects=False)
    assert response.status_code == 400
    assert count(session, OidcIdentity) == 0 and not is_signed_in(client)


def test_replayed_callback_is_refused(client: TestClient[Litestar], agent: httpx.Client, session: Session) -> None:
    create_user(session, "taro@example.jp")
    back = at_provider(agent, start(client), "taro")
    assert client.get(callback_path(back), follow_redirects=False).status_code == 303
    client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})
    replayed = client.get(callback_path(back), follow_redirects=False)
    assert replayed.status_code == 400 and "すでに使われ" in replayed.text
    assert not is_signed_in(client)


def test_attempts_expire_and_only_the_latest_few_are_kept(
    client: TestClient[Litestar], agent: httpx.Client, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_user(session, "taro@example.jp")
    oldest = at_provider(agent, start(client), "taro")
    for _tab in range(oidc.MAX_FLOWS):
        start(client)
    response = client.get(callback_path(oldest), follow_redirects=False)
    assert response.status_code == 400 and "期限切れ" in response.text

    late = at_provider(agent, start(client), "taro")
    monkeypatch.setattr(oidc, "FLOW_TTL", -1)
    assert client.get(callback_path(late), follow_redirects=False).status_code == 400
    assert count(session, OidcIdentity) == 0 and not is_signed_in(client)


def test_cancelled_at_the_provider(client: TestClient[Litestar], agent: httpx.Client, session: Session) -> None:
    back = at_provider(agent, start(client), None, abort=True)
    assert parse_qs(urlsplit(back).query)["error"] == ["access_denied"]
    response = client.get(callback_path(back), follow_redirects=False)
    assert response.status_code == 400
    assert "Itabashi IDでのログインをキャンセルしました" in response.text
    assert count(session, User) == 0 and count(session, OidcIdentity) == 0
    # The attempt is used up: its state does not work a second time.
    assert client.get(callback_path(back), follow_redirects=False).status_code == 400


def test_answer_naming_another_issuer_is_refused(
    client: TestClient[Litestar], agent: httpx.Client, session: Session
) -> None:
    create_user(session, "taro@example.jp")
    back = at_provider(agent, start(client), "taro")
    query = {key: values[0] for key, values in parse_qs(urlsplit(back).query).items()}
    response = client.get("/account/oidc/itabashi-id/callback?" + urlencode(query | {"iss": "https://evil.example"}),
                          follow_redirects=False)
    assert response.status_code == 400 and count(session, OidcIdentity) == 0


def test_unreachable_provider(tmp_path: Path, database_url: str, broker_url: str, database: object,
                              oidc_server: OidcProviderServer) -> None:
    from tests.servers import free_port

    gone = {"slug": "gone", "name": "Gone ID", "issuer": f"http://127.0.0.1:{free_port()}", "client_id": "c",
            "client_secret": "s"}
    app = create_app(make_settings(tmp_path / "gone", database_url=database_url, broker_url=broker_url,
                                   oidc_providers=[gone]), database=database)  # type: ignore[arg-type]
    with TestClient(app, base_url="http://testserver.local") as other:
        response = other.get("/account/oidc/gone/start", follow_redirects=False)
    assert response.status_code == 502 and "Gone ID" in response.text and "接続できません" in response.text


# --- ID token verification, with real tokens from the provider ---------------------------------------


def real_id_token(server: OidcProviderServer, login: str, nonce: str, index: int = 1) -> str:
    """An ID token issued by the real provider, fetched the way the app does (code + PKCE)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect_uri = f"{BASE_URL}/account/oidc/{SLUGS[index]}/callback"
    query = {"response_type": "code", "client_id": CLIENT_ID, "scope": "openid email", "redirect_uri": redirect_uri,
             "state": "s", "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"}
    with httpx.Client(follow_redirects=False, timeout=10) as agent:
        back = at_provider(agent, f"{server.issuers[index]}/auth?{urlencode(query)}", login)
    code = parse_qs(urlsplit(back).query)["code"][0]
    response = httpx.post(f"{server.issuers[index]}/token", auth=(CLIENT_ID, CLIENT_SECRET), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier})
    assert response.status_code == 200, response.text
    return response.json()["id_token"]


def provider_jwks(server: OidcProviderServer, index: int = 1) -> KeySet:
    return KeySet.import_key_set(httpx.get(f"{server.issuers[index]}/jwks").json())


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def parts_of(token: str) -> tuple[dict[str, object], dict[str, object], str]:
    header, payload, signature = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload), signature


def test_verify_id_token_checks_signature_issuer_audience_expiry_and_nonce(oidc_server: OidcProviderServer) -> None:
    issuer = oidc_server.issuers[1]
    token = real_id_token(oidc_server, "taro", nonce="the-nonce")
    keys = provider_jwks(oidc_server)

    def verify(value: str = token, **overrides: object) -> dict[str, object]:
        arguments: dict[str, object] = {"keys": keys, "issuer": issuer, "client_id": CLIENT_ID, "nonce": "the-nonce"}
        return oidc.verify_id_token(value, **(arguments | overrides))  # type: ignore[arg-type]

    claims = verify()
    assert claims["sub"] == "taro" and claims["email"] == "taro@example.jp" and claims["email_verified"] is True

    with pytest.raises(InvalidClaimError):
        verify(nonce="another-nonce")  # nonce mismatch: a token minted for another attempt
    with pytest.raises(InvalidClaimError):
        verify(client_id="someone-else")  # wrong audience
    with pytest.raises(InvalidClaimError):
        verify(issuer=oidc_server.issuers[0])  # wrong issuer
    with pytest.raises(ExpiredTokenError):
        verify(now=int(claims["exp"]) + oidc.CLOCK_LEEWAY + 1)  # type: ignore[call-overload]
    assert verify(now=int(claims["exp"]) - 1)["sub"] == "taro"  # type: ignore[call-overload]
    with pytest.raises(JoseError):
        verify(keys=provider_jwks(oidc_server, 0))  # the other provider's keys

    header, payload, signature = parts_of(token)
    with pytest.raises(BadSignatureError):  # payload changed, signature kept
        verify(f"{b64(header)}.{b64(payload | {'sub': 'admin'})}.{signature}")
    with pytest.raises(JoseError):  # alg none
        verify(f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}.")
    forger = RSAKey.generate_key(2048, parameters={"kid": header["kid"]})  # type: ignore[dict-item]
    with pytest.raises(BadSignatureError):  # signed with another key under the provider's key id
        verify(jwt.encode({"alg": "RS256", "kid": header["kid"]}, payload, forger))
    with pytest.raises(JoseError):  # HS256 with the client secret (algorithm confusion)
        verify(jwt.encode({"alg": "HS256"}, payload, OctKey.import_key(CLIENT_SECRET)))


def test_verify_id_token_with_own_keys_covers_missing_claims_and_azp() -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    keys = KeySet([key])
    now = int(time.time())
    base = {"iss": "https://id.example.jp", "aud": CLIENT_ID, "sub": "u1", "iat": now, "exp": now + 300, "nonce": "n"}

    def verify(claims: dict[str, object]) -> dict[str, object]:
        token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        return oidc.verify_id_token(token, keys=keys, issuer="https://id.example.jp", client_id=CLIENT_ID, nonce="n")

    assert verify(base)["sub"] == "u1"
    assert verify(base | {"aud": [CLIENT_ID, "other"], "azp": CLIENT_ID})["sub"] == "u1"
    for bad in ({"aud": [CLIENT_ID, "other"]}, {"aud": ["other"]}, {"exp": now - 3600}, {"iat": now + 3600},
                {"nonce": None}, {"sub": None}, {"exp": None}, {"iss": None}, {"sub": "x" * 300}):
        claims = {k: v for k, v in (base | bad).items() if v is not None}
        with pytest.raises(JoseError):
            verify(claims)


def test_provider_keys_are_refetched_when_an_unknown_key_id_appears(oidc_server: OidcProviderServer) -> None:
    oidc.clear_caches()
    provider = OidcProvider(slug="tokyo-id", name="Tokyo ID", issuer=oidc_server.issuers[1], client_id=CLIENT_ID,
                            client_secret=CLIENT_SECRET)  # type: ignore[arg-type]
    metadata = oidc.discover(provider)
    assert oidc.discover(provider) is metadata  # cached
    assert metadata.jwks_uri == f"{oidc_server.issuers[1]}/jwks" and metadata.userinfo_endpoint
    stale = KeySet([RSAKey.generate_key(2048, parameters={"kid": "old"})])
    oidc._jwks_cache[metadata.jwks_uri] = (time.monotonic() - oidc.JWKS_REFRESH_INTERVAL - 1, stale)
    token = real_id_token(oidc_server, "taro", nonce="n")
    assert oidc._verified_claims(provider, metadata, token, "n")["sub"] == "taro"
    with pytest.raises(oidc.OidcError) as refused:
        oidc._verified_claims(provider, metadata, token, "other")
    assert refused.value.status_code == 400


# --- linked identities on the account page ----------------------------------------------------------


def test_linked_identities_and_unlink(session: Session) -> None:
    with_password = create_user(session, "taro@example.jp")
    without_password = create_user(session, "hanako@example.jp")
    without_password.password_hash = None
    session.add(without_password)
    rows = [OidcIdentity(user_id=with_password.id, provider="itabashi-id", subject="t1"),  # type: ignore[arg-type]
            OidcIdentity(user_id=with_password.id, provider="tokyo-id", subject="t2"),  # type: ignore[arg-type]
            OidcIdentity(user_id=without_password.id, provider="tokyo-id", subject="h1")]  # type: ignore[arg-type]
    session.add_all(rows)
    session.commit()
    assert [row.subject for row in oidc.linked_identities(session, with_password.id)] == ["t1", "t2"]  # type: ignore[arg-type]

    taro = Principal(user=with_password)
    hanako = Principal(user=without_password)
    with pytest.raises(Forbidden):
        oidc.unlink(session, hanako, rows[0].id)  # type: ignore[arg-type]
    with pytest.raises(SignInRequired):
        oidc.unlink(session, Principal.anonymous(), rows[0].id)  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        oidc.unlink(session, taro, 999_999)
    with pytest.raises(services.Invalid) as last_way_in:
        oidc.unlink(session, hanako, rows[2].id)  # type: ignore[arg-type]
    assert "identity" in last_way_in.value.errors
    assert count(session, OidcIdentity) == 3

    oidc.unlink(session, taro, rows[0].id)  # type: ignore[arg-type]
    oidc.unlink(session, taro, rows[1].id)  # type: ignore[arg-type]  # a password remains
    assert [row.subject for row in oidc.linked_identities(session, with_password.id)] == []  # type: ignore[arg-type]


def test_unlinked_provider_signs_in_again_only_by_address(
    client: TestClient[Litestar], agent: httpx.Client, session: Session
) -> None:
    user = create_user(session, "taro@example.jp")
    assert sign_in_via(client, agent, "taro").status_code == 303
    identity = session.exec(select(OidcIdentity)).one()
    oidc.unlink(session, Principal(user=user), identity.id)  # type: ignore[arg-type]
    assert count(session, OidcIdentity) == 0
    sign_in_with_password(client, user)  # the password still works


# --- settings ------------------------------------------------------------------------------------


def test_provider_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ("COCREATE_ENV", "COCREATE_SECRET_KEY", "COCREATE_DEBUG"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("COCREATE_OIDC_PROVIDERS", json.dumps([
        {"slug": "itabashi-id", "name": "Itabashi ID", "issuer": "https://id.example.jp", "client_id": "c1",
         "client_secret": "top-secret-1"},
        {"slug": "gov", "name": "Gov", "issuer": "https://gov.example.jp/realms/x", "client_id": "c2",
         "client_secret": "top-secret-2", "scopes": "openid   email"},
    ]))
    settings = Settings.from_env(data_dir=tmp_path)
    assert [p.slug for p in settings.oidc_providers] == ["itabashi-id", "gov"]
    assert settings.oidc_providers[0].scopes == "openid email profile"
    assert settings.oidc_providers[1].scopes == "openid email"
    assert settings.oidc_provider("gov").client_id == "c2"  # type: ignore[union-attr]
    assert settings.oidc_provider("nobody") is None
    summary = settings.public_summary()
    assert "top-secret" not in str(summary)
    assert summary["oidc_providers"] == "itabashi-id (https://id.example.jp), gov (https://gov.example.jp/realms/x)"
    assert Settings(data_dir=tmp_path, oidc_providers=[]).public_summary()["oidc_providers"] == "-"


@pytest.mark.parametrize("change", [
    {"slug": "Bad Slug"}, {"slug": ""}, {"slug": "-x"}, {"slug": "x" * 33}, {"slug": "../x"},
    {"issuer": "ftp://id.example.jp"}, {"issuer": "https://id.example.jp?x=1"}, {"issuer": "id.example.jp"},
    {"scopes": "email profile"}, {"name": ""}, {"client_id": ""}, {"unknown": "x"},
])
def test_invalid_provider_settings_are_refused(tmp_path: Path, change: dict[str, str]) -> None:
    provider = {"slug": "itabashi-id", "name": "Itabashi ID", "issuer": "https://id.example.jp", "client_id": "c",
                "client_secret": "s"} | change
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, oidc_providers=[provider])  # type: ignore[list-item]


def test_duplicate_slugs_and_plain_http_in_production_are_refused(tmp_path: Path) -> None:
    provider = {"slug": "a", "name": "A", "issuer": "http://id.example.jp", "client_id": "c", "client_secret": "s"}
    with pytest.raises(ValidationError, match="unique"):
        Settings(data_dir=tmp_path, oidc_providers=[provider, provider])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="https"):
        Settings(env="production", secret_key="x" * 40, data_dir=tmp_path, oidc_providers=[provider])  # type: ignore[arg-type,list-item]
    https = provider | {"issuer": "https://id.example.jp"}
    assert Settings(env="production", secret_key="x" * 40, data_dir=tmp_path,  # type: ignore[arg-type]
                    oidc_providers=[https]).oidc_providers[0].issuer == "https://id.example.jp"  # type: ignore[list-item]
