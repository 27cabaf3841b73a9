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

from cocreate import components, mail
from cocreate.accounts import passwords, services, throttle
from cocreate.accounts.models import MailQuota, SignInThrottle, TokenPurpose, UserToken
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.i18n import using_locale
from cocreate.mail import OutboundEmail
from cocreate.settings import Settings
from cocreate.tasks import celery_app, configure_celery
from tests.cocreate.accounts.conftest import AccountMail
from tests.factories import PASSWORD, create_user
from tests.helpers import csrf_token, tasks_announced

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
            with using_locale("en"), pytest.raises(services.SignInFailed) as refused:
                services.authenticate(session, email, PASSWORD, GUESSER)
            assert refused.value.message.endswith(f"Try again in {minutes:g} minutes."), refused.value.message
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
    assert services.send_reset_link(session, settings, HANAKO)
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


@pytest.mark.committed("racing threads each use their own connection")
@pytest.mark.databases("sqlite", "postgresql", why="row locks and the first rows' creation under concurrency")
def test_racing_failures_count_exactly_up_to_the_wait(session: Session, settings: Settings) -> None:
    create_user(session, HANAKO)
    session.commit()
    racers = 8
    racing = Database(settings, pool_size=racers + 2, max_overflow=0, wait_seconds=30)
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def guess(n: int) -> None:
        try:
            with racing.session() as db:
                barrier.wait(timeout=30)
                outcomes.append(attempt(db, HANAKO, f"wrong password {n}", GUESSER))
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    racing.dispose()
    assert errors == []
    # Every guess that got past the first look counted until the pair's wait began; the rest were refused.
    assert sorted(outcomes) == [LOCKED] * (racers - throttle.PAIR.threshold) + [WRONG] * throttle.PAIR.threshold
    session.expire_all()
    for key in (throttle.pair_key(HANAKO, GUESSER), throttle.address_key(GUESSER), throttle.account_key(HANAKO)):
        assert session.get(SignInThrottle, key).failures == throttle.PAIR.threshold, key  # type: ignore[union-attr]
    assert attempt(session, HANAKO, PASSWORD, OWNER) == IN


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
    client: TestClient[Litestar], session: Session, clock: Clock, account_mail: AccountMail
) -> None:
    register(client, HANAKO)
    pages = [register(client, HANAKO, "別人", f"another password {n}") for n in range(3)]
    fresh = register(client, "taro@example.jp", "太郎")
    assert pages[0] == pages[1] == pages[2] == fresh.replace("taro@example.jp", HANAKO)
    assert account_mail.run() == [True, False, False]
    subjects = [email.subject for email in mails_to(session, HANAKO)]
    assert subjects == ["【コクリエ板橋】メールアドレスの確認", "【コクリエ板橋】アカウントはすでに登録されています"]

    clock.advance(hours=23, minutes=59)
    assert register(client, HANAKO, "別人") == pages[0]
    assert account_mail.run() == [False]
    clock.advance(minutes=2)  # a day after the first attempt: one more
    assert register(client, HANAKO, "別人") == pages[0]
    assert account_mail.run() == [True]
    assert len(mails_to(session, HANAKO)) == 3


def forgot(client: TestClient[Litestar], email: str) -> str:
    response = client.post("/account/password/forgot", data={"email": email, "_csrf_token": csrf_token(client)})
    assert response.status_code == 200
    return response.text


def test_reset_mails_are_capped_per_address_and_the_page_does_not_say(
    client: TestClient[Litestar], session: Session, clock: Clock, account_mail: AccountMail
) -> None:
    create_user(session, HANAKO)
    session.commit()
    pages = [forgot(client, HANAKO) for _ in range(throttle.RESET_MAILS.count + 3)]
    unknown = forgot(client, NOBODY)
    assert len(set(pages)) == 1 and unknown.replace(NOBODY, HANAKO) == pages[0]
    assert account_mail.run() == [True] * 3 + [False] * 3 + [False]
    assert len(mails_to(session, HANAKO)) == throttle.RESET_MAILS.count == 3
    assert len(session.exec(select(UserToken).where(UserToken.purpose == TokenPurpose.RESET_PASSWORD)).all()) == 3
    assert mails_to(session, NOBODY) == []

    clock.advance(hours=1, seconds=1)  # the next hour: the allowance is back
    assert forgot(client, HANAKO) == pages[0]
    assert account_mail.run() == [True]
    assert len(mails_to(session, HANAKO)) == 4


@pytest.mark.committed("racing threads each use their own connection")
@pytest.mark.databases("sqlite", "postgresql", why="concurrent workers counting one address's allowance")
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
                sent.append(services.send_reset_link(db, settings, HANAKO))
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


ACCOUNT_TASKS = (mail.DELIVER_TASK, services.ALREADY_REGISTERED_TASK, services.RESET_LINK_TASK)


@pytest.fixture
def argon2(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every hash and verification argon2 does (a fifth of a second each in production)."""
    done: list[str] = []

    def recorded(real: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object, **kwargs: object) -> object:
            done.append("argon2")
            return real(*args, **kwargs)

        return call

    passwords.burn_time("warm up")  # its dummy hash is made once per process
    monkeypatch.setattr(passwords, "hash_password", recorded(passwords.hash_password))
    monkeypatch.setattr(passwords, "verify_password", recorded(passwords.verify_password))
    return done


def test_registered_and_unknown_addresses_cost_the_request_the_same_work(
    session: Session, settings: Settings, argon2: list[str]
) -> None:
    """The slow parts of a request: argon2, and a task sent to the broker after commit (each a few
    milliseconds with the embedded broker); the e-mails anyone can cause are the worker's business."""
    create_user(session, HANAKO)
    session.commit()

    def cost(action: Callable[[], object]) -> tuple[int, list[str]]:
        argon2.clear()
        with tasks_announced(session, *ACCOUNT_TASKS) as tasks, contextlib.suppress(services.SignInFailed):
            action()
        return len(argon2), [name for name, _args, _kwargs, _queue in tasks]

    assert cost(lambda: services.authenticate(session, HANAKO, "wrong password!", GUESSER)) == (1, [])
    assert cost(lambda: services.authenticate(session, NOBODY, "wrong password!", GUESSER)) == (1, [])

    def registration(email: str) -> Callable[[], object]:
        return lambda: services.register(session, settings, services.RegistrationForm(
            email=email, display_name="誰か", password="a long new password", accept_terms=True, accept_privacy=True))

    assert cost(registration(HANAKO)) == (1, [services.ALREADY_REGISTERED_TASK])
    assert cost(registration("taro@example.jp")) == (1, [mail.DELIVER_TASK])  # the confirmation

    argon2.clear()
    with tasks_announced(session, *ACCOUNT_TASKS) as known:
        services.request_password_reset(session, HANAKO)
    with tasks_announced(session, *ACCOUNT_TASKS) as unknown:
        services.request_password_reset(session, NOBODY)
    assert known == [(services.RESET_LINK_TASK, (HANAKO,), {}, None)]
    assert unknown == [(services.RESET_LINK_TASK, (NOBODY,), {}, None)]
    assert argon2 == []
    assert keys(session, MailQuota) == set()  # the request wrote nothing: the worker counts


# --- expiry --------------------------------------------------------------------------------------


def keys(session: Session, model: type[SignInThrottle] | type[MailQuota]) -> set[str]:
    session.expire_all()
    return set(session.exec(select(model.key)).all())


@pytest.mark.databases("sqlite", "postgresql", why="the expiry compares times in SQL, which each backend stores its own way")
def test_the_nightly_job_deletes_ended_rows_and_keeps_live_ones(
    session: Session, settings: Settings, clock: Clock
) -> None:
    hanako = create_user(session, HANAKO)
    start = clock.now
    assert attempt(session, NOBODY, "wrong password!", OWNER) == WRONG  # an address that never existed
    for _ in range(throttle.PAIR.threshold):  # the guesser's pair: locked a minute, counting a window after
        assert attempt(session, HANAKO, "wrong password!", GUESSER) == WRONG
    assert services.send_reset_link(session, settings, HANAKO)  # a quota for an hour
    assert services.tell_already_registered(session, settings, hanako.id)  # type: ignore[arg-type]  # for a day
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
    assert keys(session, MailQuota) == {"reset:" + HANAKO, "registered:" + HANAKO}

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


def test_the_worker_runs_the_account_mail_and_beat_the_expiry_every_night(settings: Settings) -> None:
    configure_celery(settings)
    assert {services.ALREADY_REGISTERED_TASK, services.RESET_LINK_TASK} <= set(celery_app.tasks)
    entry = components.beat_schedule()["expire-throttles"]
    assert entry["task"] == "cocreate.expire_throttles" and entry["task"] in celery_app.tasks
    assert entry["schedule"].hour == {3} and len(entry["schedule"].minute) == 1
