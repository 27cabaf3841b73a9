"""Helpers the tests import (fixtures live in conftest.py; nothing is imported from there)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, col, select

from cocreate import components
from cocreate.app import CSRF_COOKIE
from cocreate.mail import OutboundEmail
from cocreate.notifications.models import Notification
from cocreate.settings import Settings
from cocreate.tasks.queue import pending

TEST_SECRET = "test-secret-key-not-for-production-0123456789"


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings of a test: its own data folder, the cheap argon2 profile, generous write limits."""
    values: dict[str, object] = {
        "env": "test",
        "data_dir": data_dir,
        "secret_key": TEST_SECRET,
        "mail_url": f"file://{data_dir / 'mail'}",
        "write_rate_limit": 100_000,  # tests post faster than people; test_rate_limit.py sets its own
        "rate_limit_scale": 1_000,  # so do they sign in, register and reset; test_account_limits.py sets its own
        "public_cache_seconds": 0,  # tests read their own writes as visitors at once; test_pagecache.py turns it on
        "password_hashing": "fast-for-tests",  # argon2 with its cheapest parameters; test_passwords.py checks the real ones
    }
    values.update(overrides)
    settings = Settings(**values)  # type: ignore[arg-type]
    settings.ensure_dirs()
    return settings


def csrf_token(client: TestClient[Litestar]) -> str:
    """The CSRF token of the client's cookie jar (after a GET that set it)."""
    if CSRF_COOKIE not in client.cookies:
        client.get("/")
    return client.cookies[CSRF_COOKIE]


@dataclass
class QueryLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __str__(self) -> str:
        return "\n".join(f"{i + 1}. {s}" for i, s in enumerate(self.statements))


TRANSACTION_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA)", re.I)


@contextmanager
def extra_component(component: components.Component) -> Iterator[None]:
    """Run with one more component manifest loaded (a test's own sections, hooks, ...)."""
    before = components.load()
    components._loaded = (*before, component)
    try:
        yield
    finally:
        components._loaded = before


@contextmanager
def count_queries(engine: sa.Engine) -> Iterator[QueryLog]:
    """Record the SQL statements an engine runs (transaction control excluded)."""
    log = QueryLog()

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not TRANSACTION_CONTROL.match(statement):
            log.statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield log
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment of a ``cocreate`` process (a Celery worker, a CLI run) with these settings."""
    return {
        "COCREATE_ENV": "test",
        "COCREATE_DATA_DIR": str(settings.data_dir),
        "COCREATE_DATABASE_URL": settings.database_url,
        "COCREATE_BROKER_URL": settings.broker_url,
        "COCREATE_MAIL_URL": settings.mail_url,
        "COCREATE_SECRET_KEY": settings.signing_key(),
        "COCREATE_PASSWORD_HASHING": settings.password_hashing,
    }


# --- what the services sent ------------------------------------------------------------------------


def notified(session: Session, kind: str) -> list[int]:
    """Who got a notification of this kind, in id order."""
    session.expire_all()
    return sorted(session.exec(select(Notification.user_id).where(Notification.kind == kind)).all())


def emails(session: Session) -> dict[str, OutboundEmail]:
    """The latest e-mail to each address."""
    session.expire_all()
    return {row.to_address: row for row in session.exec(select(OutboundEmail).order_by(col(OutboundEmail.id))).all()}


def email_count(session: Session) -> int:
    return len(session.exec(select(OutboundEmail.id)).all())


Task = tuple[str, tuple[Any, ...], dict[str, Any], str | None]


@contextmanager
def tasks_announced(session: Session, *task_names: str) -> Iterator[list[Task]]:
    """The tasks named ``task_names`` that services using ``session`` queue (caught before each commit)."""
    tasks: list[Task] = []

    def catch(committing: Session) -> None:
        tasks.extend(task for task in pending(committing) if task[0] in task_names)

    sa.event.listen(session, "before_commit", catch)
    try:
        yield tasks
    finally:
        sa.event.remove(session, "before_commit", catch)


class _Tags(HTMLParser):
    """Collects every tag and attribute of a page, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def assert_no_live_markup(html: str) -> None:
    """No event handlers, no script but ours, no javascript:/data: links: hostile text stayed text."""
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag not in ("iframe", "object", "embed", "svg", "math", "base", "marquee", "video"), tag
        if tag == "details":  # ours: the site menu; a hostile one would have no such id and class only
            assert attrs.get("id") == "site-menu" and set(attrs) == {"class", "id"}, attrs
        if tag == "script":
            assert (attrs.get("src") or "").startswith("/static/"), attrs
        if tag == "meta":
            assert "http-equiv" not in attrs, attrs
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, attrs)
            assert name != "style", (tag, attrs)
            if name in ("href", "src", "action", "formaction") and value:
                assert not re.match(r"\s*(javascript|vbscript|data):", value, re.I), (tag, attrs)


def run_coroutine(coroutine: Any) -> Any:
    """``asyncio.run`` in a thread of its own: a browser test's synchronous Playwright keeps an event
    loop running in the worker's main thread, where ``asyncio.run`` refuses to start another."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
