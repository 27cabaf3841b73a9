"""Sign-in, registration, password reset, e-mail change and the OpenID Connect start have budgets of
their own, per client address and per target account; the counters live in the database here (the
embedded default), and a request past a budget is a translated 429 with ``Retry-After``.

The client address comes from ``X-Forwarded-For`` through uvicorn's proxy-headers middleware, as in
production behind a trusted proxy.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, func, select
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from cocreate.accounts import oidc
from cocreate.accounts.models import User
from cocreate.app import create_app
from cocreate.db import Database
from cocreate.mail import OutboundEmail
from cocreate.settings import Settings
from cocreate.web.ratelimit import BUDGETS, RATE_LIMIT_STORE, RateCounter
from cocreate.web.sessions import StoredSession
from tests.cocreate.accounts.conftest import AccountMail
from tests.factories import PASSWORD, create_user
from tests.helpers import csrf_token, make_settings

pytestmark = pytest.mark.databases("sqlite", why="the counters' upsert is covered on both databases in test_rate_limit.py")


def allowance(action: str, kind: str = "address") -> int:
    budget = BUDGETS[action]
    return budget.per_address if kind == "address" else budget.per_target


@pytest.fixture
def limits_settings(tmp_path: Path, database_url: str, broker_url: str) -> Settings:
    providers = [{"slug": "itabashi-id", "name": "Itabashi ID", "issuer": "https://id.example.jp",
                  "client_id": "cocreate", "client_secret": "secret"}]
    return make_settings(tmp_path / "data", database_url=database_url, broker_url=broker_url, rate_limit_scale=1,
                         oidc_providers=providers)


@pytest.fixture
def client(limits_settings: Settings, database: Database) -> Iterator[TestClient[Litestar]]:
    app = create_app(limits_settings, database=database)
    with TestClient(ProxyHeadersMiddleware(app, trusted_hosts="*"), base_url="http://testserver.local") as client:  # type: ignore[arg-type]
        yield client


def post(client: TestClient[Litestar], path: str, data: dict[str, str], address: str, **headers: str) -> object:
    return client.post(path, data={**data, "_csrf_token": csrf_token(client)}, follow_redirects=False,
                       headers={"X-Forwarded-For": address, **headers})


def sign_in(client: TestClient[Litestar], email: str, address: str, password: str = PASSWORD) -> object:
    return post(client, "/account/sign-in", {"email": email, "password": password}, address)


def assert_refused(response: object, *, wait_at_least: int = 1) -> None:
    assert response.status_code == 429, response.text[:500]  # type: ignore[attr-defined]
    assert int(response.headers["retry-after"]) >= wait_at_least  # type: ignore[attr-defined]
    assert "リクエストが多すぎます" in response.text  # type: ignore[attr-defined]


def test_sign_in_is_limited_per_client_address(client: TestClient[Litestar]) -> None:
    for number in range(allowance("sign-in")):
        response = sign_in(client, f"nobody{number}@example.jp", "198.51.100.7")
        # Unknown addresses: refused by the sign-in itself (its failure throttle may lock the address
        # meanwhile), never by this limit.
        assert response.status_code == 400, number  # type: ignore[attr-defined]
    refused = sign_in(client, "somebody-else@example.jp", "198.51.100.7")
    assert_refused(refused, wait_at_least=60)
    # How long to wait, in minutes (English until the message's translation is in the catalogue).
    assert re.search(r"1[45] ?(分後|minutes)", refused.text)  # type: ignore[attr-defined]
    assert sign_in(client, "somebody-else@example.jp", "198.51.100.8").status_code == 400  # type: ignore[attr-defined]


def test_attempts_naming_an_account_from_many_addresses_do_not_keep_its_owner_out(
        client: TestClient[Litestar], session: Session) -> None:
    """No sign-in budget per target account: one would let anyone who knows an address lock its owner out
    (the sign-in throttle slows the attackers' addresses instead)."""
    create_user(session, "hanako@example.jp")
    for number in range(12):  # beyond any per-account budget this used to have (10)
        assert sign_in(client, "hanako@example.jp", f"203.0.113.{number + 1}", "wrong-password-1").status_code == 400  # type: ignore[attr-defined]
    assert sign_in(client, "hanako@example.jp", "192.0.2.99").status_code == 303  # type: ignore[attr-defined]


def _resets_to(session: Session, address: str) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(OutboundEmail)
                        .where(OutboundEmail.to_address == address)).one()


def test_password_reset_is_limited_per_target_address_and_per_client_address(
    client: TestClient[Litestar], session: Session, account_mail: AccountMail
) -> None:
    create_user(session, "hanako@example.jp")
    for number in range(allowance("password-reset", "target")):
        response = post(client, "/account/password/forgot", {"email": "hanako@example.jp"}, f"203.0.113.{number + 1}")
        assert response.status_code == 200, number  # type: ignore[attr-defined]
    assert_refused(post(client, "/account/password/forgot", {"email": "HANAKO@example.jp"}, "192.0.2.50"))
    account_mail.run()  # the worker's half: it writes the reset e-mails
    assert _resets_to(session, "hanako@example.jp") == allowance("password-reset", "target")

    for number in range(allowance("password-reset") - 1):  # one was sent from 192.0.2.50 above
        response = post(client, "/account/password/forgot", {"email": f"x{number}@example.jp"}, "192.0.2.50")
        assert response.status_code == 200, number  # type: ignore[attr-defined]
    assert_refused(post(client, "/account/password/forgot", {"email": "other@example.jp"}, "192.0.2.50"))


def _register(client: TestClient[Litestar], email: str, address: str, **headers: str) -> object:
    return post(client, "/account/register", {"email": email, "display_name": "はなこ", "password": PASSWORD,
                                              "accept_terms": "yes", "accept_privacy": "yes"}, address, **headers)


def _accounts(session: Session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(User)).one()


def test_registration_is_limited_per_client_address(client: TestClient[Litestar], session: Session) -> None:
    for number in range(allowance("register")):
        assert _register(client, f"resident{number}@example.jp", "198.51.100.20").status_code == 200  # type: ignore[attr-defined]
    assert_refused(_register(client, "one-more@example.jp", "198.51.100.20"), wait_at_least=60)
    assert _accounts(session) == allowance("register")
    assert _register(client, "one-more@example.jp", "198.51.100.21").status_code == 200  # type: ignore[attr-defined]


def test_an_ipv6_client_counts_as_its_64(client: TestClient[Litestar], session: Session) -> None:
    for number in range(allowance("register")):
        # Every address of one /64: what one subscriber's router hands out, and what an attacker rotates through.
        address = f"2001:db8:1:2:{number:x}:ab:cd:{number + 1:x}"
        assert _register(client, f"v6-{number}@example.jp", address).status_code == 200  # type: ignore[attr-defined]
    assert_refused(_register(client, "v6-more@example.jp", "2001:db8:1:2:ffff:ffff:ffff:ffff"))
    assert _register(client, "v6-more@example.jp", "2001:db8:1:3::1").status_code == 200  # type: ignore[attr-defined]


def test_a_refusal_is_a_json_problem_for_json_clients(client: TestClient[Litestar]) -> None:
    for number in range(allowance("register")):
        _register(client, f"json{number}@example.jp", "198.51.100.30")
    refused = _register(client, "json-more@example.jp", "198.51.100.30", Accept="application/json")
    assert refused.status_code == 429  # type: ignore[attr-defined]
    assert refused.headers["content-type"].startswith("application/json")  # type: ignore[attr-defined]
    assert refused.json()["status_code"] == 429  # type: ignore[attr-defined]
    assert int(refused.headers["retry-after"]) > 0  # type: ignore[attr-defined]


def test_email_change_is_limited_per_account(client: TestClient[Litestar], session: Session) -> None:
    create_user(session, "hanako@example.jp")
    assert sign_in(client, "hanako@example.jp", "198.51.100.40").status_code == 303  # type: ignore[attr-defined]
    for number in range(allowance("email-change", "target")):
        response = post(client, "/account/email", {"new_email": f"new{number}@example.jp", "password": PASSWORD},
                        f"203.0.113.{number + 1}")
        assert response.status_code == 200, response.text[:500]  # type: ignore[attr-defined]
    assert_refused(post(client, "/account/email", {"new_email": "another@example.jp", "password": PASSWORD},
                        "192.0.2.60"))


def test_email_change_is_limited_per_new_address(client: TestClient[Litestar], session: Session) -> None:
    """One address cannot be sent confirmation links from many accounts."""
    for number in range(allowance("email-change", "target") + 1):
        create_user(session, f"user{number}@example.jp")
    answers = []
    for number in range(allowance("email-change", "target") + 1):
        address = f"203.0.113.{number + 1}"
        assert sign_in(client, f"user{number}@example.jp", address).status_code == 303  # type: ignore[attr-defined]
        answers.append(post(client, "/account/email", {"new_email": "victim@example.jp", "password": PASSWORD},
                            address))
    assert [answer.status_code for answer in answers[:-1]] == [200] * allowance("email-change", "target")  # type: ignore[attr-defined]
    assert_refused(answers[-1])


@pytest.fixture
def provider_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider's discovery document, without a provider: the start only builds a URL from it."""
    monkeypatch.setattr(oidc, "discover", lambda provider: SimpleNamespace(
        authorization_endpoint=f"{provider.issuer}/auth"))


def _sessions(session: Session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(StoredSession)).one()


def test_the_openid_connect_start_is_limited_per_client_address(
    client: TestClient[Litestar], session: Session, provider_found: None
) -> None:
    for number in range(allowance("oidc-start")):
        client.cookies.clear()  # a new visitor each time: each start writes a session of its own
        response = client.get("/account/oidc/itabashi-id/start", follow_redirects=False,
                              headers={"X-Forwarded-For": "198.51.100.70"})
        assert response.status_code == 303, number
    sessions = _sessions(session)
    assert sessions == allowance("oidc-start")
    client.cookies.clear()
    refused = client.get("/account/oidc/itabashi-id/start", follow_redirects=False,
                         headers={"X-Forwarded-For": "198.51.100.70"})
    assert_refused(refused)
    assert _sessions(session) == sessions  # the refused start wrote no session
    client.cookies.clear()
    assert client.get("/account/oidc/itabashi-id/start", follow_redirects=False,
                      headers={"X-Forwarded-For": "198.51.100.71"}).status_code == 303


def test_reads_count_nothing_and_write_no_counter(client: TestClient[Litestar], app: Litestar) -> None:
    for path in ("/", "/account/sign-in", "/account/register", "/account/password/forgot"):
        for _ in range(3):
            assert client.get(path, headers={"X-Forwarded-For": "198.51.100.80"}).status_code == 200
    counters = app.stores.get(RATE_LIMIT_STORE).database  # type: ignore[attr-defined]
    with counters.reading(snapshot=False) as reader:  # on SQLite a file of its own (the counters' own lock)
        assert reader.exec(select(func.count()).select_from(RateCounter)).one() == 0
    sign_in(client, "nobody@example.jp", "198.51.100.80")
    with counters.reading(snapshot=False) as reader:
        keys = set(reader.exec(select(RateCounter.key)).all())
    assert keys == {"write:ip:198.51.100.80", "sign-in:ip:198.51.100.80"}
