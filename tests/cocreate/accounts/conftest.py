"""Fixtures of the accounts tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cocreate.accounts import services
from cocreate.db import Database
from cocreate.settings import Settings
from cocreate.tasks import queue

ACCOUNT_MAIL_TASKS: dict[str, Callable[..., bool]] = {
    services.ALREADY_REGISTERED_TASK: services.tell_already_registered,
    services.RESET_LINK_TASK: services.send_reset_link,
}


class AccountMail:
    """The account e-mail tasks committed requests sent (the e-mails anyone can cause), held back from
    the broker until the test runs them here, as the worker would (:mod:`cocreate.accounts.tasks`)."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database, self.settings = database, settings
        self.queued: list[tuple[str, tuple[Any, ...]]] = []

    def run(self) -> list[bool]:
        """Run what was queued, in order; whether each sent its e-mail."""
        sent = []
        while self.queued:
            name, args = self.queued.pop(0)
            with self.database.session() as session:
                sent.append(ACCOUNT_MAIL_TASKS[name](session, self.settings, *args))
        return sent


@pytest.fixture
def account_mail(monkeypatch: pytest.MonkeyPatch, database: Database, settings: Settings) -> AccountMail:
    held = AccountMail(database, settings)
    send_task = queue.celery_app.send_task

    def hold(name: str, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None, **options: Any) -> Any:
        if name in ACCOUNT_MAIL_TASKS:
            held.queued.append((name, tuple(args)))
            return None
        return send_task(name, args=args, kwargs=kwargs, **options)

    monkeypatch.setattr(queue.celery_app, "send_task", hold)
    return held
