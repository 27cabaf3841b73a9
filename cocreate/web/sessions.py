"""Server-side sessions kept in the database, so several web processes share them.

Implements Litestar's :class:`~litestar.stores.base.Store` on top of the ``web_session`` table; the
cookie carries only a random session id.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items
from sqlmodel import Field, Session, SQLModel, delete, select, update

from cocreate.db import Database
from cocreate.db.base import UTCDateTime, utcnow
from cocreate.db.engine import is_overload


class StoredSession(SQLModel, table=True):
    __tablename__ = "web_session"

    key: str = Field(primary_key=True, max_length=200)
    data: bytes = Field(sa_type=sa.LargeBinary)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


def _expiry(expires_in: int | timedelta | None) -> datetime | None:
    if expires_in is None:
        return None
    seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
    return utcnow() + timedelta(seconds=seconds)


def purge_expired(session: Session) -> int:
    result = session.exec(delete(StoredSession).where(StoredSession.expires_at < utcnow()))  # type: ignore[call-overload]
    return result.rowcount or 0


WRITE_ATTEMPTS = 4


class DatabaseStore(Store):
    def __init__(self, database: Database) -> None:
        self.database = database

    def _get(self, key: str, renew_for: int | timedelta | None) -> bytes | None:
        # Every request with a session cookie reads here: a read unit of work, so that page views
        # never queue for the write lock. Only an expired row or a renewal writes, on its own.
        with self.database.reading(snapshot=False) as session:
            row = session.exec(
                select(StoredSession.data, StoredSession.expires_at).where(StoredSession.key == key)
            ).first()
        if row is None:
            return None
        data, expires_at = row
        if expires_at is not None and expires_at <= utcnow():
            self._delete(key)
            return None
        if renew_for is not None and expires_at is not None:
            with self.database.transaction() as session:
                session.exec(
                    update(StoredSession).where(StoredSession.key == key).values(expires_at=_expiry(renew_for))  # type: ignore[call-overload]
                )
        return data

    def _write(self, change: Callable[[Session], None]) -> None:
        # A session is written after the request's own work has committed (the response is on its
        # way): give up only after several of the usual waits, rather than turn a done action into an
        # error. The write itself is one tiny row.
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self.database.transaction() as session:
                    change(session)
                return
            except sa.exc.SQLAlchemyError as exc:
                if attempt + 1 == WRITE_ATTEMPTS or not is_overload(exc):
                    raise

    def _set(self, key: str, value: bytes, expires_in: int | timedelta | None) -> None:
        def change(session: Session) -> None:
            row = session.get(StoredSession, key)
            if row is None:
                session.add(StoredSession(key=key, data=value, expires_at=_expiry(expires_in)))
            else:
                row.data = value
                row.expires_at = _expiry(expires_in)

        self._write(change)

    def _delete(self, key: str) -> None:
        self._write(lambda session: session.exec(delete(StoredSession).where(StoredSession.key == key)))  # type: ignore[call-overload]

    def _expires_in(self, key: str) -> int | None:
        with self.database.reading() as session:
            expires_at = session.exec(
                select(StoredSession.expires_at).where(StoredSession.key == key)
            ).first()
        if expires_at is None:
            return None
        return max(int((expires_at - utcnow()).total_seconds()), 0)

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        await sync_to_thread(self._set, key, data, expires_in)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        return await sync_to_thread(self._get, key, renew_for)

    async def delete(self, key: str) -> None:
        await sync_to_thread(self._delete, key)

    async def delete_all(self) -> None:
        def _all() -> None:
            with self.database.transaction() as session:
                session.exec(delete(StoredSession))  # type: ignore[call-overload]

        await sync_to_thread(_all)

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        return await sync_to_thread(self._expires_in, key)


LOADED_KEY = "cocreate.session_loaded"
SEEN_KEY = "_seen"
REFRESH_AFTER = 24 * 3600
"""A session unchanged by a request is written again (renewing its 14 days) at most once a day."""


class LazySessionBackend(ServerSideSessionBackend):
    """Litestar's server-side backend, minus the writes a page view does not need.

    Litestar stores the session (and sets its cookie) on every response. Here a visitor who never put
    anything into a session gets neither, an emptied session is deleted, and a session the request
    did not change is not written again, except once a day to keep it alive while it is used: a
    signed-in page view reads, it does not queue for the write lock.
    """

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.scope.setdefault("state", {})[LOADED_KEY] = self.serialize_data(data) if data else None  # type: ignore[typeddict-item]
        return data

    def _unchanged(self, scope_session: dict[str, Any], connection: ASGIConnection) -> bool:
        loaded = connection.scope.get("state", {}).get(LOADED_KEY)
        if loaded is None or self.serialize_data(scope_session, connection.scope) != loaded:
            return False
        seen = scope_session.get(SEEN_KEY)
        return isinstance(seen, int | float) and time.time() - seen < REFRESH_AFTER

    async def store_in_message(self, scope_session: ScopeSession, message: Message, connection: ASGIConnection) -> None:
        cookie_id = connection.cookies.get(self.config.key)
        if cookie_id == "null":
            cookie_id = None
        store = self.config.get_store_from_app(connection.scope["app"])
        headers = MutableScopeHeaders.from_message(message)
        params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        rotate = isinstance(scope_session, dict) and bool(scope_session.pop("_rotate", False))
        if not scope_session or scope_session is Empty or set(scope_session) == {SEEN_KEY}:
            if cookie_id:
                # Emptied (signed out, last flash shown): forget it on both sides. Max-Age=0 is what
                # removes a cookie; Litestar's own "null" cookie keeps the configured max age.
                await self.delete(cookie_id, store=store)
                params["max_age"] = 0
                headers.add("Set-Cookie", Cookie(value="", key=self.config.key, **params).to_header(header=""))
            return
        session_id = cookie_id
        if session_id and not rotate and isinstance(scope_session, dict) and self._unchanged(scope_session, connection):
            return
        if isinstance(scope_session, dict):
            scope_session[SEEN_KEY] = int(time.time())
        if rotate or not session_id:
            # Sign-in rotates the id: one an attacker planted before sign-in is worth nothing after.
            if session_id:
                await self.delete(session_id, store=store)
            session_id = self.generate_session_id()
        await self.set(session_id=session_id, data=self.serialize_data(scope_session, connection.scope), store=store)
        headers.add("Set-Cookie", Cookie(value=session_id, key=self.config.key, **params).to_header(header=""))


class DatabaseSessionConfig(ServerSideSessionConfig):
    _backend_class = LazySessionBackend
