"""Who is signed in: the session holds the user id and the account's session epoch.

Raising ``User.session_epoch`` (password reset, blocking) signs out every session of that user.
"""

from __future__ import annotations

from typing import Any

from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Receive, Scope, Send

from cocreate.accounts.models import User
from cocreate.accounts.permissions import Principal
from cocreate.db import Database

SESSION_USER = "user_id"
SESSION_EPOCH = "epoch"
ROTATE_MARKER = "_rotate"


def sign_in(connection: ASGIConnection[Any, Any, Any, Any], user: User) -> None:
    """Start a fresh session for ``user`` (a new session id: no fixation)."""
    connection.set_session({SESSION_USER: user.id, SESSION_EPOCH: user.session_epoch, ROTATE_MARKER: True})


def sign_out(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """End the session: its stored row is deleted; a flash added afterwards lives in a new one."""
    connection.set_session({ROTATE_MARKER: True})
    connection.scope["user"] = None  # type: ignore[typeddict-unknown-key]
    connection.scope["principal"] = Principal.anonymous()  # type: ignore[typeddict-unknown-key]


def _load_principal(database: Database, user_id: int, epoch: int) -> Principal | None:
    with database.reading(snapshot=False) as session:  # one statement
        principal = Principal.load_by_id(session, user_id)
        user = principal.user if principal is not None else None
        if user is None or not user.is_active or user.session_epoch != epoch:
            return None
        session.expunge(user)
        return principal


def current_user_middleware(database: Database):
    """Puts the signed-in :class:`User` (or None) into ``scope["user"]`` and the acting
    :class:`Principal` into ``scope["principal"]``; two queries for a signed-in request, none otherwise."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            principal = None
            session = scope.get("session")
            if scope["type"] == "http" and isinstance(session, dict) and isinstance(session.get(SESSION_USER), int):
                principal = await sync_to_thread(
                    _load_principal, database, session[SESSION_USER], session.get(SESSION_EPOCH, 0)
                )
                if principal is None:
                    session.clear()  # stale: account gone, blocked, or signed out everywhere
            principal = principal or Principal.anonymous()
            scope["user"] = principal.user  # type: ignore[typeddict-unknown-key]
            scope["principal"] = principal  # type: ignore[typeddict-unknown-key]
            await app(scope, receive, send)

        return middleware

    return factory
