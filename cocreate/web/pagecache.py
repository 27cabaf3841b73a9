"""A few seconds of cache for what visitors who are not signed in see ("micro-caching").

A ward newsletter link brings hundreds of visitors to the same few pages within a minute, none of
them signed in. Each web process keeps what it answered such a visitor for
``COCREATE_PUBLIC_CACHE_SECONDS`` (2 s by default; 0 turns it off) and answers the same request from
memory meanwhile; concurrent misses of one page wait for a single rendering. Signed-in people never
get a cached answer, so whoever votes, comments or edits sees the result at once; visitors see it
within the few seconds.

What is cached, and how it stays correct:

- ``GET`` requests whose only cookies are the CSRF and language cookies (no session: no flash
  messages, nobody signed in), answered ``200`` with no cookie of their own. The key is the path,
  the query, the locale and the headers pages vary on (``HX-Request``, ``Accept``).
- Pages carry the visitor's CSRF token (``hx-headers`` on ``<body>``, hidden form fields). It is
  replaced by a marker when stored and by the next visitor's own token when served, and a visitor
  without the CSRF cookie gets one, exactly as Litestar's CSRF middleware would have set it.
- A handler opts out with ``opt={"public_cache": False}`` (pages that must always be fresh); GETs
  that write (``opt={"writes": True}``) are never cached.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie
from litestar.middleware.csrf import generate_csrf_token
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from cocreate.i18n import LOCALE_COOKIE

CACHE_HEADER = b"x-cocreate-cache"
MAX_ENTRIES = 2000
MAX_BODY_BYTES = 2_000_000
VARY_ON = (b"hx-request", b"hx-history-restore-request", b"hx-target", b"accept")


@dataclass
class Entry:
    expires_at: float
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class PublicPageCache:
    """Answers of one web process to visitors who are not signed in, for ``ttl`` seconds."""

    def __init__(self, ttl: float, csrf: CSRFConfig) -> None:
        self.ttl = ttl
        self.csrf = csrf
        self.entries: OrderedDict[tuple[Any, ...], Entry] = OrderedDict()
        self.rendering: dict[tuple[Any, ...], asyncio.Future[None]] = {}
        # Stands in for the CSRF token in stored bodies; random, so no page can contain it by chance.
        self.marker = f"csrf-{secrets.token_hex(16)}".encode()
        self.allowed_cookies = {csrf.cookie_name, LOCALE_COOKIE}

    # --- which requests ------------------------------------------------------------------------

    def key_for(self, scope: Scope) -> tuple[Any, ...] | None:
        if scope["type"] != "http" or scope["method"] != "GET":
            return None
        handler = scope.get("route_handler")
        if handler is None or not handler.opt.get("public_cache", True) or handler.opt.get("writes", False):
            return None
        varies: list[bytes] = []
        cookie = b""
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookie = value
            elif name in VARY_ON:
                varies.append(name + b"=" + value)
        if cookie and not self._only_allowed_cookies(cookie):
            return None
        locale = scope.get("state", {}).get("locale")
        return (scope["path"], scope.get("query_string", b""), locale, tuple(sorted(varies)))

    def _only_allowed_cookies(self, header: bytes) -> bool:
        for part in header.decode("latin-1").split(";"):
            name = part.split("=", 1)[0].strip()
            if name and name not in self.allowed_cookies:
                return False
        return True

    def _csrf_cookie(self, scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    key, _, token = part.strip().partition("=")
                    if key == self.csrf.cookie_name and token:
                        return token
        return None

    # --- answering -----------------------------------------------------------------------------

    def fresh(self, key: tuple[Any, ...]) -> Entry | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= time.monotonic():
            del self.entries[key]
            return None
        self.entries.move_to_end(key)
        return entry

    async def serve(self, entry: Entry, scope: Scope, send: Send) -> None:
        headers = list(entry.headers)
        token = self._csrf_cookie(scope)
        if token is None:
            token = generate_csrf_token(secret=self.csrf.secret)
            cookie = Cookie(
                key=self.csrf.cookie_name,
                value=token,
                path=self.csrf.cookie_path,
                secure=self.csrf.cookie_secure,
                httponly=self.csrf.cookie_httponly,
                samesite=self.csrf.cookie_samesite,
                domain=self.csrf.cookie_domain,
            )
            headers.append((b"set-cookie", cookie.to_header(header="").encode("latin-1")))
        body = entry.body.replace(self.marker, token.encode("latin-1"))
        headers.append((b"content-length", str(len(body)).encode()))
        headers.append((CACHE_HEADER, b"hit"))
        await send({"type": "http.response.start", "status": entry.status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def render_and_store(self, app: ASGIApp, key: tuple[Any, ...], scope: Scope, receive: Receive,
                               send: Send) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []
        size = 0

        async def capture(message: Message) -> None:
            nonlocal size
            if message["type"] == "http.response.start":
                start.update(message)
                headers = list(message.get("headers", []))
                if message["status"] == 200:
                    headers.append((CACHE_HEADER, b"miss"))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if size <= MAX_BODY_BYTES:
                    chunks.append(message.get("body", b""))
            await send(message)

        await app(scope, receive, capture)
        if start.get("status") != 200 or size > MAX_BODY_BYTES:
            return
        headers: list[tuple[bytes, bytes]] = []
        for name, value in start.get("headers", []):
            lowered = name.lower()
            if lowered == b"set-cookie":
                if not value.startswith(self.csrf.cookie_name.encode() + b"="):
                    return  # a cookie of its own (a shuffle seed, say): this answer is this visitor's
                continue
            if lowered not in (b"content-length", CACHE_HEADER):
                headers.append((name, value))
        body = b"".join(chunks)
        token = ScopeState.from_scope(scope).csrf_token
        if isinstance(token, str) and token:
            body = body.replace(token.encode("latin-1"), self.marker)
        self.entries[key] = Entry(time.monotonic() + self.ttl, 200, headers, body)
        self.entries.move_to_end(key)
        while len(self.entries) > MAX_ENTRIES:
            self.entries.popitem(last=False)


def public_page_cache(ttl: float, csrf: CSRFConfig):
    """ASGI middleware (innermost of the app's, so the locale and session are known) caching what
    visitors who are not signed in get, for ``ttl`` seconds; see the module's docstring."""

    def factory(app: ASGIApp) -> ASGIApp:
        if ttl <= 0:
            return app
        cache = PublicPageCache(ttl, csrf)

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            key = cache.key_for(scope)
            if key is None:
                await app(scope, receive, send)
                return
            entry = cache.fresh(key)
            if entry is None and (pending := cache.rendering.get(key)) is not None:
                await asyncio.shield(pending)  # one rendering for a crowd arriving at once
                entry = cache.fresh(key)
            if entry is not None:
                await cache.serve(entry, scope, send)
                return
            done = asyncio.get_running_loop().create_future()
            cache.rendering[key] = done
            try:
                await cache.render_and_store(app, key, scope, receive, send)
            finally:
                cache.rendering.pop(key, None)
                done.set_result(None)

        return middleware

    return factory
