"""Limits on requests, counted where every web process sees them, and where sessions live.

Two kinds of limit, both checked by one middleware (:func:`request_limits`) before the handler runs:

- **Writes**: every unsafe request (and every GET declared ``opt=WRITES``), except ``/static``:
  ``COCREATE_WRITE_RATE_LIMIT`` a minute per signed-in account, or per client address for visitors.
- **Account actions** (:data:`BUDGETS`): sign-in, registration, password reset, e-mail change and the
  OpenID Connect start, each on its own budget per client address and, where one applies, per target
  account (the address a form names, or the signed-in account). A route declares its action with
  ``opt=limited("sign-in")``; a GET declared so (the OpenID Connect start) is counted too.

Counters are fixed windows that start at a key's first hit: at most ``limit`` counted requests per
window; the next is answered 429 with ``Retry-After`` (a translated page, or a JSON problem). They
live in Redis when ``COCREATE_SESSION_STORE_URL`` is set, in the database otherwise (a row per key,
incremented by one atomic upsert): never in one process's memory, so two processes, or two hosts, do
not each grant the whole allowance. Only counted requests write; a read never touches a counter.

On SQLite the counters have a database file of their own beside the main one (:func:`counter_database`):
SQLite has one write lock per file, and every counted request would otherwise take the main file's
lock twice (its counter, then its own write), so writers queued for counters behind votes and votes
behind counters. Counters are short-lived and need no backup; a lost file only restarts the windows.

Client addresses are the ones uvicorn hands over (``X-Forwarded-For`` from ``FORWARDED_ALLOW_IPS``
only); an IPv6 address counts as its /64, which one subscriber usually holds whole. E-mail addresses
named by forms are kept as keyed hashes, never in clear.

The sign-in failure throttle (``cocreate.accounts.services.authenticate``) is separate: it counts
failures, in the database, and locks; these count attempts.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from litestar import Request
from litestar.concurrency import sync_to_thread
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import TooManyRequestsException
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from redis.exceptions import RedisError
from sqlmodel import Field, Session, SQLModel, delete, select

from cocreate.db import Database
from cocreate.db.base import UTCDateTime, upsertable_insert, utcnow
from cocreate.settings import Settings
from cocreate.web.dependencies import is_read_only
from cocreate.web.load import busy
from cocreate.web.sessions import DatabaseStore

RATE_LIMIT_STORE = "rate_limit"
SESSION_STORE = "sessions"
LIMIT_OPT = "limit"
"""``opt`` key naming a route's account action (see :func:`limited`)."""
EXCLUDED_PREFIXES = ("/static",)
WRITE_WINDOW = 60


# --- what is limited ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """An account action's allowance: ``per_address`` requests per client address and ``per_target``
    per target (see ``targets``) within ``window`` seconds, both multiplied by
    ``COCREATE_RATE_LIMIT_SCALE``.

    ``targets`` names where the target accounts come from: ``"user"`` is the signed-in account,
    ``"form:<field>"`` the e-mail address the posted form names in that field."""

    window: int
    per_address: int
    per_target: int = 0
    targets: tuple[str, ...] = ()

    def scaled(self, limit: int, settings: Settings) -> int:
        return max(1, math.floor(limit * settings.rate_limit_scale))


BUDGETS: dict[str, Budget] = {
    # Per client address only: a budget per target account would let anyone who knows an address keep
    # its owner from signing in (issue 17: no lockout of the victim). The accounts' own protection is the
    # sign-in throttle (per account and client, growing waits; account-wide only far above that).
    "sign-in": Budget(window=15 * 60, per_address=30),
    # Each sends an e-mail: the target budget is what one inbox can receive from here in an hour.
    "password-reset": Budget(window=3600, per_address=10, per_target=3, targets=("form:email",)),
    "register": Budget(window=3600, per_address=10),
    # Each builds a zip of everything a person did and sends an e-mail.
    "data-export": Budget(window=24 * 3600, per_address=20, per_target=5, targets=("user",)),
    "email-change": Budget(window=3600, per_address=10, per_target=5, targets=("user", "form:new_email")),
    # A GET that writes a server-side session kept 14 days.
    "oidc-start": Budget(window=10 * 60, per_address=30),
}


def limited(action: str) -> dict[str, str]:
    """``opt`` of a route counted under the account action ``action`` (a key of :data:`BUDGETS`)."""
    if action not in BUDGETS:
        raise KeyError(f"no rate-limit budget named {action!r}")
    return {LIMIT_OPT: action}


def client_address(request: Request[Any, Any, Any]) -> str:
    """The client address limits count: the address as uvicorn gives it, an IPv6 address as its /64
    (an IPv4 address mapped into IPv6 as the IPv4 address)."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # a test client's name; nothing longer than an address goes into a key
        return host[:64] or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
    return str(address)


def _identity(request: Request[Any, Any, Any]) -> str:
    principal = request.scope.get("principal")  # type: ignore[typeddict-item]
    user_id = getattr(principal, "user_id", None)
    if user_id is not None:
        return f"user:{user_id}"
    return f"ip:{client_address(request)}"


# --- counters ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One counter to increment: ``key`` allows ``limit`` hits per ``window`` seconds."""

    key: str
    limit: int
    window: int


@dataclass(frozen=True)
class Hit:
    """A counter after its increment: the hits in its window and the seconds until the window ends."""

    check: Check
    count: int
    reset: int

    @property
    def refused(self) -> bool:
        return self.count > self.check.limit

    def headers(self) -> dict[str, str]:
        limit = self.check.limit
        return {
            "RateLimit-Policy": f"{limit}; w={self.check.window}",
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(max(limit - self.count, 0)),
            "RateLimit-Reset": str(self.reset),
        }


class CountersUnavailable(RuntimeError):
    """The counters cannot be reached (Redis down): the request is turned away as busy."""


class CountingStore(Store):
    """A Litestar :class:`~litestar.stores.base.Store` that can also count atomically."""

    async def count(self, checks: Sequence[Check]) -> list[Hit]:
        """Increment each counter in turn, atomically and shared by every process, stopping after the
        first that is over its limit; a counter's window starts at its first hit."""
        raise NotImplementedError


INCREMENT_SCRIPT = b"""
local hits = {}
for i, key in ipairs(KEYS) do
    local window = tonumber(ARGV[2 * i - 1])
    local limit = tonumber(ARGV[2 * i])
    local count = redis.call('INCR', key)
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then
        redis.call('PEXPIRE', key, window)
        ttl = window
    end
    hits[#hits + 1] = count
    hits[#hits + 1] = ttl
    if count > limit then
        break
    end
end
return hits
"""


class RedisCountingStore(RedisStore, CountingStore):
    """Litestar's Redis store plus counters: one Lua script increments them (INCR, then PEXPIRE when
    the key is new), so concurrent requests of every process and host count exactly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._increment_script = self._redis.register_script(INCREMENT_SCRIPT)

    async def count(self, checks: Sequence[Check]) -> list[Hit]:
        arguments: list[int] = []
        for check in checks:
            arguments += [check.window * 1000, check.limit]
        try:
            answer = await self._increment_script(keys=[self._make_key(check.key) for check in checks], args=arguments)
        except RedisError as error:
            raise CountersUnavailable(str(error)) from error
        return [Hit(check, int(answer[2 * index]), max(1, math.ceil(int(answer[2 * index + 1]) / 1000)))
                for index, check in enumerate(checks[: len(answer) // 2])]


class RateCounter(SQLModel, table=True):
    """A rate-limit counter of the embedded default: ``hits`` in the window that ends at ``expires_at``."""

    __tablename__ = "rate_limit_counter"

    key: str = Field(primary_key=True, max_length=200)
    hits: int = Field(default=0)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


def purge_expired(session: Session) -> int:
    """Delete the counters whose window has ended (they would start again from one anyway)."""
    result = session.exec(delete(RateCounter).where(RateCounter.expires_at <= utcnow()))  # type: ignore[call-overload]
    return result.rowcount or 0


def _increment(session: Session, check: Check) -> Hit:
    now = utcnow()
    ends = now + timedelta(seconds=check.window)
    table = RateCounter.__table__  # type: ignore[attr-defined]
    expired = table.c.expires_at <= now
    statement = upsertable_insert(session, table).values(key=check.key, hits=1, expires_at=ends)
    statement = statement.on_conflict_do_update(
        index_elements=["key"],
        set_={
            "hits": sa.case((expired, 1), else_=table.c.hits + 1),
            "expires_at": sa.case((expired, sa.literal(ends, UTCDateTime())), else_=table.c.expires_at),
        },
    ).returning(table.c.hits, table.c.expires_at)
    count, expires_at = session.execute(statement).one()
    if expires_at.tzinfo is None:  # a CASE result comes back without the column's type on SQLite
        expires_at = UTCDateTime().process_result_value(expires_at, session.get_bind().dialect)
    # ``now`` was read before the statement waited for its lock: a racing request may have opened the
    # window a moment later.
    return Hit(check, int(count), min(check.window, max(1, math.ceil((expires_at - now).total_seconds()))))


class DatabaseCountingStore(CountingStore):
    """Counters in the ``rate_limit_counter`` table: each is one INSERT … ON CONFLICT DO UPDATE …
    RETURNING (SQLite and PostgreSQL alike), all of a request's in one short write transaction, so
    the processes of the embedded default (``cocreate web --workers``) and several hosts on one
    PostgreSQL share them. The plain :class:`Store` methods read and write the same rows."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def _count(self, checks: Sequence[Check]) -> list[Hit]:
        hits: list[Hit] = []
        with self.database.transaction() as session:
            for check in checks:
                hit = _increment(session, check)
                hits.append(hit)
                if hit.refused:
                    break
        return hits

    async def count(self, checks: Sequence[Check]) -> list[Hit]:
        return await sync_to_thread(self._count, checks)

    def _get(self, key: str) -> tuple[int, datetime] | None:
        with self.database.reading(snapshot=False) as session:
            row = session.exec(select(RateCounter.hits, RateCounter.expires_at).where(RateCounter.key == key)).first()
        if row is None or row[1] <= utcnow():
            return None
        return int(row[0]), row[1]

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        row = await sync_to_thread(self._get, key)
        return None if row is None else str(row[0]).encode()

    def _set(self, key: str, value: str | bytes, expires_in: int | timedelta | None) -> None:
        seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else (expires_in or 365 * 86400)
        hits = int(value.decode() if isinstance(value, bytes) else value)
        with self.database.transaction() as session:
            row = session.get(RateCounter, key)
            if row is None:
                row = RateCounter(key=key)
                session.add(row)
            row.hits = hits
            row.expires_at = utcnow() + timedelta(seconds=seconds)

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        await sync_to_thread(self._set, key, value, expires_in)

    def _delete(self, key: str | None) -> None:
        with self.database.transaction() as session:
            statement = delete(RateCounter)
            if key is not None:
                statement = statement.where(RateCounter.key == key)  # type: ignore[arg-type]
            session.exec(statement)  # type: ignore[call-overload]

    async def delete(self, key: str) -> None:
        await sync_to_thread(self._delete, key)

    async def delete_all(self) -> None:
        await sync_to_thread(self._delete, None)

    async def exists(self, key: str) -> bool:
        return await sync_to_thread(self._get, key) is not None

    async def expires_in(self, key: str) -> int | None:
        row = await sync_to_thread(self._get, key)
        return None if row is None else max(int((row[1] - utcnow()).total_seconds()), 0)


COUNTERS_SUFFIX = "-counters"
"""The counters' own SQLite file is the main file's path with this suffix (``cocreate.sqlite3-counters``)."""


def counter_database(settings: Settings, database: Database) -> Database:
    """Where the rate-limit counters live: on SQLite a database file of their own beside the main one
    (its own write lock; created with its one table on first use), elsewhere ``database`` itself
    (PostgreSQL locks rows, not the database)."""
    if database.dialect != "sqlite":
        return database
    path = sa.make_url(settings.database_url).database
    if not path or path == ":memory:":
        return database
    counters = Database(settings.model_copy(update={"database_url": f"sqlite:///{path}{COUNTERS_SUFFIX}"}),
                        wait_seconds=database.wait_seconds)
    RateCounter.__table__.create(counters.engine, checkfirst=True)  # type: ignore[attr-defined]
    return counters


def make_stores(settings: Settings, database: Database) -> dict[str, Store]:
    """Sessions and rate-limit counters in Redis with ``COCREATE_SESSION_STORE_URL``, in the database
    otherwise (the counters in their own file on SQLite): shared by every web process either way."""
    if settings.session_store_url:
        redis = RedisCountingStore.with_client(settings.session_store_url, namespace="cocreate")
        return {SESSION_STORE: redis.with_namespace("sessions"), RATE_LIMIT_STORE: redis.with_namespace("ratelimit")}
    return {SESSION_STORE: DatabaseStore(database),
            RATE_LIMIT_STORE: DatabaseCountingStore(counter_database(settings, database))}


# --- the middleware ---------------------------------------------------------------------------------


def _target_digest(secret: bytes, value: str) -> str:
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:32]


async def _targets(request: Request[Any, Any, Any], budget: Budget, secret: bytes) -> list[str]:
    """The target keys of ``budget`` for this request: the signed-in account, and the addresses the
    form names (normalised as the services do: trimmed, lower case; left out when empty or too long
    to be one, since the form is then refused anyway)."""
    keys: list[str] = []
    form = None
    for target in budget.targets:
        if target == "user":
            user_id = getattr(request.scope.get("principal"), "user_id", None)  # type: ignore[typeddict-item]
            if user_id is not None:
                keys.append(f"user:{user_id}")
            continue
        name = target.removeprefix("form:")
        if form is None:
            form = await request.form()
        value = form.get(name)
        address = value.strip().lower() if isinstance(value, str) else ""
        if address and len(address) <= 320:
            keys.append(f"to:{_target_digest(secret, address)}")
    return keys


def _checks(request: Request[Any, Any, Any], settings: Settings) -> tuple[list[Check], Budget | None, str | None]:
    checks: list[Check] = []
    if not is_read_only(request):
        checks.append(Check(f"write:{_identity(request)}", settings.write_rate_limit, WRITE_WINDOW))
    action = request.route_handler.opt.get(LIMIT_OPT)
    budget = BUDGETS.get(action) if isinstance(action, str) else None
    if budget is not None:
        checks.append(Check(f"{action}:ip:{client_address(request)}", budget.scaled(budget.per_address, settings),
                            budget.window))
    return checks, budget, action


def too_many(hit: Hit) -> TooManyRequestsException:
    return TooManyRequestsException(detail="rate limit exceeded",
                                    headers={**hit.headers(), "Retry-After": str(hit.reset)})


def request_limits(secret: str) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware (after the user is known): count the request against the limits that apply,
    answer 429 with ``Retry-After`` when one is spent, and put the write allowance left in
    ``RateLimit-*`` headers. Budgets are read from the app's settings at each request."""
    key = secret.encode()

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["path"].startswith(EXCLUDED_PREFIXES):
                await app(scope, receive, send)
                return
            litestar_app = scope["litestar_app"]
            request: Request[Any, Any, Any] = litestar_app.request_class(scope, receive)
            settings: Settings = litestar_app.state.settings
            checks, budget, action = _checks(request, settings)
            if budget is not None and budget.targets:
                limit = budget.scaled(budget.per_target, settings)
                checks += [Check(f"{action}:{target}", limit, budget.window)
                           for target in await _targets(request, budget, key)]
            if not checks:
                await app(scope, receive, send)
                return
            store: CountingStore = litestar_app.stores.get(RATE_LIMIT_STORE)
            try:
                hits = await store.count(checks)
            except CountersUnavailable as error:
                raise busy(settings, f"rate-limit counters unavailable: {error}") from error
            for hit in hits:
                if hit.refused:
                    raise too_many(hit)
            shown = hits[0].headers()

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableScopeHeaders.from_message(message)
                    for name, value in shown.items():
                        headers[name] = value
                await send(message)

            await app(scope, receive, send_with_headers)

        return middleware

    return factory

