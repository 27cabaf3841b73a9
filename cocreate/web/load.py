"""Answering under a burst: one thread pool per web process sized from settings, a bounded number of
requests in flight, and 503 with ``Retry-After`` (never a hang, never a 500) when waits run out.

Sizing, from ``COCREATE_WEB_THREADS`` (see :class:`~cocreate.settings.Settings`): each web process runs
its synchronous handlers, the session lookup and the user lookup on ``web_threads`` threads, and keeps
``web_threads + 2`` database connections, so a thread never waits for a connection. Requests beyond
``max_requests_in_flight`` are turned away at once instead of queueing without end; a request that
waits longer than ``db_wait_seconds`` for a connection or a lock is answered 503 too.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import ASGIApp, Receive, Scope, Send

from cocreate.settings import Settings

EXEMPT_PREFIXES = ("/healthz", "/static/")
"""Never turned away: load balancers must see a live process, and assets are cheap."""


class ServiceBusy(HTTPException):
    """Too busy right now: answered 503 with ``Retry-After``; nothing was changed."""

    status_code = HTTP_503_SERVICE_UNAVAILABLE


def retry_after(settings: Settings) -> str:
    return str(max(1, math.ceil(settings.db_wait_seconds)))


def busy(settings: Settings, detail: str = "busy") -> ServiceBusy:
    return ServiceBusy(detail=detail, headers={"Retry-After": retry_after(settings)})


def thread_pool_starter(settings: Settings) -> Callable[[], Awaitable[None]]:
    """An ``on_startup`` hook giving the event loop a default executor of ``web_threads`` threads.

    Litestar runs synchronous handlers and dependencies with ``loop.run_in_executor(None, …)``; the
    loop's own default has ``min(32, cores + 4)`` threads, which knows nothing of the database pool.
    """

    async def start() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(
            ThreadPoolExecutor(max_workers=settings.web_threads, thread_name_prefix="cocreate-web")
        )

    return start


def in_flight_limit(settings: Settings):
    """ASGI middleware: at most ``max_requests_in_flight`` requests at once in this process; the next
    is answered 503 with ``Retry-After`` at once (a translated page, or a JSON problem under /api/)."""
    limit = settings.max_requests_in_flight

    def factory(app: ASGIApp) -> ASGIApp:
        in_flight = 0

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            nonlocal in_flight
            if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
                await app(scope, receive, send)
                return
            if in_flight >= limit:
                raise busy(settings, "too many requests in flight")
            in_flight += 1
            try:
                await app(scope, receive, send)
            finally:
                in_flight -= 1

        return middleware

    return factory
