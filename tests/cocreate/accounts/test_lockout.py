"""No lockout of the owner, no account enumeration, no inbox flooding (issue 17, item 4).

Failed sign-ins slow down the guessing client (per address and client, per client; IPv6 by /64) rather
than locking the owner out everywhere; only a guess spread over very many clients locks the address,
and the reset link lifts that. Unknown addresses count and cost the same as registered ones. Anyone
can make the site mail an address by registering it or asking for a reset: that is capped per address,
and the page does not say. Throttle rows and mail quotas that count nothing any more are deleted nightly.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, col, select

from cocreate import components
from cocreate.accounts import passwords, services, throttle
from cocreate.accounts.models import MailQuota, SignInThrottle, TokenPurpose, UserToken
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.i18n import using_locale
from cocreate.mail import OutboundEmail
from cocreate.settings import Settings
from cocreate.tasks import celery_app, configure_celery
from tests.factories import PASSWORD, create_user
from tests.helpers import csrf_token

pytestmark = pytest.mark.databases("sqlite", why="the throttle's and quotas' rules are Python")

HANAKO = "hanako@example.jp"
NOBODY = "nobody@example.jp"  # no account
GUESSER = "198.51.100.66"
OWNER = "203.0.113.5"
WRONG = "wrong"
LOCKED = "locked"
IN = "signed in"


@dataclass
class Clock:
    """The time the throttle and the account services see; moved by the test."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moving = Clock(utcnow())
    monkeypatch.setattr(throttle, "utcnow", moving)
    monkeypatch.setattr(services, "utcnow", moving)
    return moving


def attempt(session: Session, email: str, password: str, client: str) -> str:
    """Sign in through the service from ``client``: IN, WRONG or LOCKED (any other refusal fails)."""
    with using_locale("en"):
        try:
            services.authenticate(session, email, password, client)
        except services.SignInFailed as refused:
            if refused.message.startswith("Too many failed sign-in attempts"):
                return LOCKED
            assert refused.message == "The e-mail address or password is not correct.", refused.message
            return WRONG
    return IN


def lock_minutes(session: Session, key: str, now: datetime) -> float:
    session.expire_all()
    row = session.get(SignInThrottle, key)
    assert row is not None and row.locked_until is not None and row.locked_until > now, row
    return (row.locked_until - now).total_seconds() / 60


def mails_to(session: Session, address: str) -> list[OutboundEmail]:
    session.expire_all()
    return list(session.exec(select(OutboundEmail).where(OutboundEmail.to_address == address)
                             .order_by(col(OutboundEmail.id))).all())


def reset_token(email: OutboundEmail) -> str:
    match = re.search(r"/account/password/reset/(\S+)", email.body_text)
    assert match, email.body_text
    return match.group(1)


# --- sign-in -------------------------------------------------------------------------------------


def test_the_owner_signs_in_from_another_client_while_the_guessers_client_is_refused(session: Session) -> None:
    create_user(session, HANAKO)
    for _ in range(throttle.PAIR.threshold):
        assert attempt(session, HANAKO, "wrong password!", GUESSER) == WRONG
    # The guesser's client is refused even with the right password …
    assert attempt(session, HANAKO, PASSWORD, GUESSER) == LOCKED
    # … while the owner, elsewhere, signs in; and the guesser is still refused.
    assert attempt(session, HANAKO, PASSWORD, OWNER) == IN
    assert attempt(session, HANAKO, PASSWORD, GUESSER) == LOCKED
    # An address without an account behaves the same: the locks say nothing about who is registered.
    for _ in range(throttle.PAIR.threshold):
        assert attempt(session, NOBODY, "wrong password!", GUESSER) == WRONG
    assert attempt(session, NOBODY, PASSWORD, GUESSER) == LOCKED
    assert attempt(session, NOBODY, PASSWORD, OWNER) == WRONG


def test_the_guessers_wait_doubles_with_each_failure_up_to_fifteen_minutes(session: Session, clock: Clock) -> None:
    create_user(session, HANAKO)
    for email in (HANAKO, NOBODY):  # a registered address and one without an account: the same waits
        for _ in range(throttle.PAIR.threshold - 1):
            assert attempt(session, email, "wrong password!", GUESSER) == WRONG
        waits = []
        for _ in range(6):
            assert attempt(session, email, "wrong password!", GUESSER) == WRONG  # this failure locks
            minutes = lock_minutes(session, throttle.pair_key(email, GUESSER), clock.now)
            waits.append(minutes)
            # Refused during the wait, even with the right password; refusals do not count.
            clock.advance(seconds=minutes * 60 - 1)
            assert attempt(session, email, PASSWORD, GUESSER) == LOCKED
            clock.advance(seconds=2)
        assert waits == [1, 2, 4, 8, 15, 15], (email, waits)
        # After an idle window following the last wait, the client starts again from the beginning.
        clock.advance(minutes=15)
        assert attempt(session, email, "wrong password!", GUESSER) == WRONG
        assert attempt(session, email, "wrong password!", GUESSER) == WRONG
        clock.advance(hours=1)
    assert attempt(session, HANAKO, PASSWORD, GUESSER) == IN


def test_a_guess_spread_over_many_clients_locks_the_address_until_the_reset_link(
    session: Session, settings: Settings
) -> None:
    create_user(session, HANAKO)
    clients = [f"10.{n // 200}.{n % 200}.1" for n in range(throttle.ACCOUNT.threshold + 2)]
    for client in clients[: throttle.ACCOUNT.threshold - 1]:
        assert attempt(session, HANAKO, "wrong password!", client) == WRONG
    assert attempt(session, HANAKO, PASSWORD, OWNER) == IN  # just below the account-wide limit
    assert attempt(session, HANAKO, "wrong password!", clients[-2]) == WRONG  # the limit's failure
    assert attempt(session, HANAKO, PASSWORD, OWNER) == LOCKED  # now every client is refused
    assert attempt(session, HANAKO, PASSWORD, clients[-1]) == LOCKED

    # The reset link proves the address: it lifts every lock on it.
    assert services.request_password_reset(session, settings, HANAKO)
    services.reset_password(session, reset_token(mails_to(session, HANAKO)[-1]), "a brand new password")
    assert session.exec(select(SignInThrottle).where(
        col(SignInThrottle.key).startswith(throttle.account_key(HANAKO)))).all() == []
    assert attempt(session, HANAKO, "a brand new password", OWNER) == IN


def test_ipv6_clients_count_by_their_64_prefix(session: Session) -> None:
    assert throttle.client_group("2001:db8:1:2:aaaa:bbbb:cccc:1") == "2001:db8:1:2::/64"
    assert throttle.client_group("2001:DB8:1:2::9") == "2001:db8:1:2::/64"
    assert throttle.client_group("::ffff:192.0.2.7") == "192.0.2.7"
    assert throttle.client_group("192.0.2.7") == "192.0.2.7"
    assert throttle.client_group("testclient") == "testclient"

    create_user(session, HANAKO)
    for n in range(throttle.PAIR.threshold):  # every failure from another address of one /64
        assert attempt(session, HANAKO, "wrong password!", f"2001:db8:1:2::{n + 1:x}") == WRONG
    assert attempt(session, HANAKO, PASSWORD, "2001:db8:1:2:ffff:ffff:ffff:ffff") == LOCKED
    assert attempt(session, HANAKO, PASSWORD, "2001:db8:1:3::1") == IN  # the next /64 is someone else

    # A client trying many addresses: one count for the whole /64 too.
    tried = throttle.ADDRESS.threshold - throttle.PAIR.threshold
    for n in range(tried):
        assert attempt(session, f"person{n}@example.jp", "wrong password!", f"2001:db8:1:2:{n + 1:x}::1") == WRONG
    assert attempt(session, "someone@example.jp", "wrong password!", "2001:db8:1:2::abcd") == LOCKED
    assert attempt(session, "someone@example.jp", "wrong password!", "2001:db8:1:3::abcd") == WRONG


def test_typed_text_cannot_name_another_addresses_pair(session: Session) -> None:
    """What is typed as the address at sign-in is anything; it must not hit the victim's pair row."""
    create_user(session, HANAKO)
    forged = f"{HANAKO}|from:{OWNER}"
    for _ in range(throttle.PAIR.threshold):
        assert attempt(session, forged, "wrong password!", GUESSER) == WRONG
    assert throttle.account_key(forged) != throttle.pair_key(HANAKO, OWNER)
    assert session.get(SignInThrottle, throttle.pair_key(HANAKO, OWNER)) is None
    assert attempt(session, HANAKO, PASSWORD, OWNER) == IN


# --- e-mail anyone can cause ---------------------------------------------------------------------


def register(client: TestClient[Litestar], email: str, name: str = "はなこ", password: str = PASSWORD) -> str:
    response = client.post("/account/register", data={
        "email": email, "display_name": name, "password": password, "accept_terms": "yes",
        "accept_privacy": "yes", "_csrf_token": csrf_token(client)})
    assert response.status_code == 200
    return response.text


def test_registering_a_taken_address_mails_its_owner_once_a_day(
    client: TestClient[Litestar], session: Session, clock: Clock
) -> None:
    register(client, HANAKO)
    pages = [register(client, HANAKO, "別人", f"another password {n}") for n in range(3)]
    fresh = register(client, "taro@example.jp", "太郎")
    assert pages[0] == pages[1] == pages[2] == fresh.replace("taro@example.jp", HANAKO)
    subjects = [email.subject for email in mails_to(session, HANAKO)]
    assert subjects == ["【コクリエ板橋】メールアドレスの確認", "【コクリエ板橋】アカウントはすでに登録されています"]

    clock.advance(hours=23, minutes=59)
    assert register(client, HANAKO, "別人") == pages[0]
    assert len(mails_to(session, HANAKO)) == 2
    clock.advance(minutes=2)  # a day after the first attempt: one more
    assert register(client, HANAKO, "別人") == pages[0]
    assert len(mails_to(session, HANAKO)) == 3


def forgot(client: TestClient[Litestar], email: str) -> str:
    response = client.post("/account/password/forgot", data={"email": email, "_csrf_token": csrf_token(client)})
    assert response.status_code == 200
    return response.text


def test_reset_mails_are_capped_per_address_and_the_page_does_not_say(
    client: TestClient[Litestar], session: Session, clock: Clock
) -> None:
    create_user(session, HANAKO)
    session.commit()
    pages = [forgot(client, HANAKO) for _ in range(throttle.RESET_MAILS.count + 3)]
    unknown = forgot(client, NOBODY)
    assert len(set(pages)) == 1 and unknown.replace(NOBODY, HANAKO) == pages[0]
    sent = mails_to(session, HANAKO)
    assert len(sent) == throttle.RESET_MAILS.count == 3
    assert len(session.exec(select(UserToken).where(UserToken.purpose == TokenPurpose.RESET_PASSWORD)).all()) == 3
    assert mails_to(session, NOBODY) == []

    clock.advance(hours=1, seconds=1)  # the next hour: the allowance is back
    assert forgot(client, HANAKO) == pages[0]
    assert len(mails_to(session, HANAKO)) == 4


@pytest.mark.committed("racing threads each use their own connection")
@pytest.mark.databases("sqlite", "postgresql", why="concurrent requests counting one address's allowance")
def test_racing_reset_requests_send_no_more_than_the_allowance(session: Session, settings: Settings) -> None:
    create_user(session, HANAKO)
    session.commit()
    racers = 8
    racing = Database(settings, pool_size=racers + 2, max_overflow=0, wait_seconds=30)
    barrier = threading.Barrier(racers)
    sent: list[bool] = []
    errors: list[BaseException] = []

    def request() -> None:
        try:
            with racing.session() as db:
                barrier.wait(timeout=30)
                sent.append(services.request_password_reset(db, settings, HANAKO))
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=request) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    racing.dispose()
    assert errors == []
    assert sorted(sent) == [False] * (racers - 3) + [True] * 3
    assert len(mails_to(session, HANAKO)) == 3


# --- the same work for every address -------------------------------------------------------------


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the account services do that takes time: argon2, composing an e-mail, counting a quota."""
    done: list[str] = []

    def recorded(name: str, real: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object, **kwargs: object) -> object:
            done.append(name)
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(passwords, "hash_password", recorded("argon2", passwords.hash_password))
    monkeypatch.setattr(passwords, "verify_password", recorded("argon2", passwords.verify_password))
    passwords.burn_time("warm up")  # its dummy hash is made once per process
    real_render = services.render_standalone
    monkeypatch.setattr(services, "render_standalone", lambda template, **context: (
        done.append("compose"), real_render(template, **context))[1])
    monkeypatch.setattr(throttle, "take_mail_allowance", recorded("quota", throttle.take_mail_allowance))
    return done


def test_unknown_and_registered_addresses_cost_the_same_work(
    session: Session, settings: Settings, work: list[str]
) -> None:
    create_user(session, HANAKO)
    session.commit()

    def cost(action: Callable[[], object]) -> list[str]:
        work.clear()
        with contextlib.suppress(services.SignInFailed):
            action()
        return sorted(work)

    assert cost(lambda: services.authenticate(session, HANAKO, "wrong password!", GUESSER)) == ["argon2"]
    assert cost(lambda: services.authenticate(session, NOBODY, "wrong password!", GUESSER)) == ["argon2"]

    def registration(email: str) -> Callable[[], object]:
        return lambda: services.register(session, settings, services.RegistrationForm(
            email=email, display_name="誰か", password="a long new password", accept_terms=True, accept_privacy=True))

    taken, new = cost(registration(HANAKO)), cost(registration("taro@example.jp"))
    assert taken == ["argon2", "compose", "quota"] and new == ["argon2", "compose"]
    assert cost(registration(HANAKO)) == taken  # not sent this time (once a day), composed all the same

    known = cost(lambda: services.request_password_reset(session, settings, HANAKO))
    assert known == ["compose", "quota"]
    assert cost(lambda: services.request_password_reset(session, settings, NOBODY)) == known
    for _ in range(throttle.RESET_MAILS.count):  # beyond the allowance too
        assert cost(lambda: services.request_password_reset(session, settings, HANAKO)) == known


# --- expiry --------------------------------------------------------------------------------------


def keys(session: Session, model: type[SignInThrottle] | type[MailQuota]) -> set[str]:
    session.expire_all()
    return set(session.exec(select(model.key)).all())


@pytest.mark.databases("sqlite", "postgresql", why="the expiry compares times in SQL, which each backend stores its own way")
def test_the_nightly_job_deletes_ended_rows_and_keeps_live_ones(
    session: Session, settings: Settings, clock: Clock
) -> None:
    create_user(session, HANAKO)
    start = clock.now
    assert attempt(session, NOBODY, "wrong password!", OWNER) == WRONG  # an address that never existed
    for _ in range(throttle.PAIR.threshold):  # the guesser's pair: locked a minute, counting a window after
        assert attempt(session, HANAKO, "wrong password!", GUESSER) == WRONG
    services.request_password_reset(session, settings, HANAKO)  # a quota for an hour
    services.request_password_reset(session, settings, NOBODY)
    services.register(session, settings, services.RegistrationForm(  # a quota for a day
        email=HANAKO, display_name="誰か", password="a long new password", accept_terms=True, accept_privacy=True))
    clock.advance(minutes=10)
    assert attempt(session, "recent@example.jp", "wrong password!", OWNER) == WRONG  # a live window
    session.commit()

    clock.advance(minutes=5, seconds=1)  # the first window has ended
    # Gone: the unknown address's rows, the guesser's client and hanako's own count, and the owner's
    # client (its window started with the first failure); their next attempt would start afresh anyway.
    assert throttle.purge_expired(session, clock.now) == 5
    session.commit()
    assert keys(session, SignInThrottle) == {
        throttle.pair_key(HANAKO, GUESSER),  # its lock ended, but failures count for a window after it
        throttle.pair_key("recent@example.jp", OWNER), throttle.account_key("recent@example.jp"),
    }
    assert keys(session, MailQuota) == {"reset:" + HANAKO, "reset:" + NOBODY, "registered:" + HANAKO}

    # What the job deleted counted nothing: the guesser's pair still does.
    assert attempt(session, HANAKO, "wrong password!", GUESSER) == WRONG
    assert lock_minutes(session, throttle.pair_key(HANAKO, GUESSER), clock.now) == 2

    clock.advance(hours=2)
    throttle.purge_expired(session, clock.now)
    session.commit()
    assert keys(session, SignInThrottle) == set()
    assert keys(session, MailQuota) == {"registered:" + HANAKO}
    clock.now = start + timedelta(days=1, seconds=1)
    throttle.purge_expired(session, clock.now)
    assert keys(session, MailQuota) == set()


def test_beat_runs_the_expiry_every_night(settings: Settings) -> None:
    configure_celery(settings)
    entry = components.beat_schedule()["expire-throttles"]
    assert entry["task"] == "cocreate.expire_throttles" and entry["task"] in celery_app.tasks
    assert entry["schedule"].hour == {3} and len(entry["schedule"].minute) == 1
