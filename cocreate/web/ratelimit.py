"""Limits on writes and where sessions and counters live.

Sign-in has its own, stricter throttle (per account and per address, in the database; see
``cocreate.accounts.services.authenticate``). This limit covers every other unsafe request: form
posts, votes, comments, uploads. It counts per signed-in account, or per address for visitors.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore

from cocreate.db import Database
from cocreate.settings import Settings
from cocreate.web.sessions import DatabaseStore

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RATE_LIMIT_STORE = "rate_limit"
SESSION_STORE = "sessions"


def _is_write(request: Request[Any, Any, Any]) -> bool:
    return request.method not in SAFE_METHODS


def _identifier(request: Request[Any, Any, Any]) -> str:
    principal = request.scope.get("principal")  # type: ignore[typeddict-item]
    user_id = getattr(principal, "user_id", None)
    if user_id is not None:
        return f"user:{user_id}"
    return f"ip:{request.client.host if request.client else 'unknown'}"


def write_rate_limit(settings: Settings) -> RateLimitConfig:
    return RateLimitConfig(
        rate_limit=("minute", settings.write_rate_limit),
        identifier_for_request=_identifier,
        check_throttle_handler=_is_write,
        exclude=["/static"],
        store=RATE_LIMIT_STORE,
    )


def make_stores(settings: Settings, database: Database) -> dict[str, Store]:
    """Sessions in the database (or Redis), rate-limit counters per process (or in Redis)."""
    if settings.session_store_url:
        redis = RedisStore.with_client(settings.session_store_url, namespace="cocreate")
        return {SESSION_STORE: redis.with_namespace("sessions"), RATE_LIMIT_STORE: redis.with_namespace("ratelimit")}
    return {SESSION_STORE: DatabaseStore(database), RATE_LIMIT_STORE: MemoryStore()}
