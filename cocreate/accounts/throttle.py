"""How often anyone may fail to sign in, and how many e-mails anyone can make the site send to an address.

**Failed sign-ins** count in three kinds of ``sign_in_throttle`` rows, shared by every process:

- ``email:<address>|from:<client>``, the *pair*: one address tried from one client. From the
  :data:`PAIR` threshold on, each failure makes that pair wait 1, 2, 4, 8 and then 15 minutes: the
  guesser's client slows down, while the owner, at another client, still signs in.
- ``ip:<client>``: every address tried from one client; the same from :data:`ADDRESS`'s threshold on.
- ``email:<address>``: every client's failures against one address; far above the pair's threshold
  (:data:`ACCOUNT`, a guess spread over many clients) the address is locked everywhere for 15 minutes
  after each further failure. A password reset through the e-mailed link lifts every lock on the
  address (:func:`forget_account`).

A *client* is its IPv4 address, or the /64 prefix of its IPv6 address (:func:`client_group`): whoever has
one IPv6 address usually has the whole /64. Attempts refused because of a lock do not count. Addresses
without an account count exactly like registered ones, so no lock tells which addresses are registered.

**E-mails that anyone can cause** (a registration with a taken address, a password-reset request) are
counted per address in ``mail_quota`` (:func:`take_mail_allowance`): beyond the allowance nothing is
sent, and the page answers the same.

Rows whose window or period is over count nothing any more; :func:`purge_expired` (nightly, from
:mod:`cocreate.jobs`) deletes them, with the addresses in their keys.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import Session, col

from cocreate.accounts.models import MailQuota, SignInThrottle
from cocreate.db.base import upsertable_insert, utcnow

WINDOW = timedelta(minutes=15)
"""How long failures keep counting after the window started (or after the last lock ended)."""


@dataclass(frozen=True)
class Limit:
    """From ``threshold`` failures within the window on, each failure locks the key: ``first`` at the
    threshold, doubled at each further failure, never longer than ``cap``."""

    threshold: int
    first: timedelta
    cap: timedelta

    def delay(self, failures: int) -> timedelta | None:
        if failures < self.threshold:
            return None
        return min(self.cap, self.first * 2 ** min(failures - self.threshold, 20))


PAIR = Limit(5, timedelta(minutes=1), timedelta(minutes=15))
ADDRESS = Limit(30, timedelta(minutes=1), timedelta(minutes=15))
ACCOUNT = Limit(100, timedelta(minutes=15), timedelta(minutes=15))


@dataclass(frozen=True)
class Allowance:
    """At most ``count`` e-mails of one purpose to one address per ``period``."""

    purpose: str
    count: int
    period: timedelta


ALREADY_REGISTERED_MAILS = Allowance("registered", 1, timedelta(days=1))
RESET_MAILS = Allowance("reset", 3, timedelta(hours=1))


# --- keys ----------------------------------------------------------------------------------------


def client_group(host: str) -> str:
    """The client a request counts as: an IPv4 address, or an IPv6 address's /64 network (an IPv4
    address mapped into IPv6 counts as itself); anything else (a test client's name) as it comes."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host[:100] or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def account_key(email: str) -> str:
    """The row counting every client's failures against one address. What was typed at sign-in may be
    anything: ``|``, which separates the pair's parts, is escaped, so no typed text names another key."""
    return "email:" + email.replace("%", "%25").replace("|", "%7C")[:300]


def pair_key(email: str, client: str) -> str:
    """The row counting one client's failures against one address."""
    return f"{account_key(email)}|from:{client[:80]}"


def address_key(client: str) -> str:
    """The row counting one client's failures against any address."""
    return f"ip:{client[:100]}"


@dataclass(frozen=True)
class SignInKeys:
    pair: str
    address: str
    account: str

    @classmethod
    def of(cls, email: str, host: str) -> SignInKeys:
        client = client_group(host)
        return cls(pair_key(email, client), address_key(client), account_key(email))

    def with_limits(self) -> tuple[tuple[str, Limit], ...]:
        return ((self.pair, PAIR), (self.address, ADDRESS), (self.account, ACCOUNT))


# --- rows ----------------------------------------------------------------------------------------


def _stale(now: datetime) -> sa.ColumnElement[bool]:
    """Rows whose window has ended and which are not locked (SQL twin of :func:`is_stale`)."""
    return sa.and_(col(SignInThrottle.window_started_at) <= now - WINDOW,
                   sa.or_(col(SignInThrottle.locked_until).is_(None), col(SignInThrottle.locked_until) <= now))


def is_stale(row: SignInThrottle, now: datetime) -> bool:
    return row.window_started_at + WINDOW <= now and (row.locked_until is None or row.locked_until <= now)


def is_locked(row: SignInThrottle | None, now: datetime) -> bool:
    return row is not None and row.locked_until is not None and row.locked_until > now


def row(session: Session, key: str) -> SignInThrottle:
    """The key's row, locked for update and read afresh (the session may hold a copy read before the
    password was checked), created if missing; a stale one starts afresh. A new row is only added: a
    concurrent first failure of the same key fails at flush (IntegrityError)."""
    found = session.get(SignInThrottle, key, with_for_update=True, populate_existing=True)
    now = utcnow()
    if found is None:
        found = SignInThrottle(key=key, failures=0, window_started_at=now)
        session.add(found)
    elif is_stale(found, now):
        found.failures = 0
        found.window_started_at = now
        found.locked_until = None
    return found


def fail(found: SignInThrottle, limit: Limit, now: datetime) -> None:
    """Count a failure; from the limit's threshold on, lock the key, and let failures keep counting
    for a window after the lock ends (so the next failure then locks it for longer)."""
    found.failures += 1
    if (delay := limit.delay(found.failures)) is not None:
        found.locked_until = now + delay
        found.window_started_at = found.locked_until


def longest_lock(rows: Iterable[SignInThrottle | None], now: datetime) -> datetime | None:
    """When the last of the locks among ``rows`` ends; None when none is locked."""
    ends = [found.locked_until for found in rows if is_locked(found, now) and found is not None]
    return max(ends) if ends else None  # type: ignore[type-var]


def forget_account(session: Session, email: str) -> None:
    """Delete every throttle row of an address (its own and its pairs): after a password reset through
    the e-mailed link, which proves the address, and when the account is deleted."""
    session.execute(sa.delete(SignInThrottle).where(sa.or_(
        col(SignInThrottle.key) == account_key(email),
        col(SignInThrottle.key).startswith(account_key(email) + "|", autoescape=True))))


def forget_mail_quotas(session: Session, email: str) -> None:
    keys = [mail_key(allowance, email) for allowance in (ALREADY_REGISTERED_MAILS, RESET_MAILS)]
    session.execute(sa.delete(MailQuota).where(col(MailQuota.key).in_(keys)))


def purge_expired(session: Session, now: datetime | None = None) -> int:
    """Delete the throttle rows that count nothing any more (window over, not locked) and the mail
    quotas whose period is over; how many rows went."""
    now = now or utcnow()
    throttles = session.execute(sa.delete(SignInThrottle).where(_stale(now)))
    quotas = session.execute(sa.delete(MailQuota).where(col(MailQuota.period_ends_at) <= now))
    return cast(Any, throttles).rowcount + cast(Any, quotas).rowcount


# --- e-mail allowances ---------------------------------------------------------------------------


def mail_key(allowance: Allowance, email: str) -> str:
    return f"{allowance.purpose}:{email[:300]}"


def take_mail_allowance(session: Session, allowance: Allowance, email: str) -> bool:
    """Count one more e-mail of this purpose to this address; whether it is within the allowance.

    One statement (insert, or update of the existing row), so concurrent requests each get their own
    count. Every attempt counts, sent or not; a period starts with the first attempt after the last one ended.
    """
    now = utcnow()
    table = cast(sa.Table, MailQuota.__table__)
    ends = sa.bindparam("period_ends", now + allowance.period, type_=table.c.period_ends_at.type)
    over = table.c.period_ends_at <= sa.bindparam("now", now, type_=table.c.period_ends_at.type)
    statement = upsertable_insert(session, table).values(key=mail_key(allowance, email), attempts=1,
                                                         period_ends_at=now + allowance.period)
    statement = statement.on_conflict_do_update(
        index_elements=["key"],
        set_={"attempts": sa.case((over, 1), else_=table.c.attempts + 1),
              "period_ends_at": sa.case((over, ends), else_=table.c.period_ends_at)},
    ).returning(table.c.attempts)
    attempts = session.execute(statement).scalar_one()
    return bool(attempts <= allowance.count)
