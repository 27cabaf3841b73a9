"""Helpers for tests that search (owned by the search sources part; any test may import them)."""

from __future__ import annotations

from pathlib import Path

from cocreate.db import Database
from cocreate.search import indexer
from cocreate.settings import Settings
from cocreate.tasks import configure_celery
from tests.helpers import make_settings


def unread_broker(settings: Settings, folder: Path) -> None:
    """Send this test's drain tasks to a broker of its own that no worker reads.

    A real worker of another test (the session's SMTP worker consumes the "search" queue too) would
    otherwise drain the outbox into its own index before the test does.
    """
    configure_celery(make_settings(folder / "unread", database_url=settings.database_url,
                                   broker_url=f"sqla+sqlite:///{folder / 'unread-broker.sqlite3'}"))


def index_now(database: Database, settings: Settings) -> int:
    """Drain the search outbox into the index now, as the search worker does after each commit."""
    return indexer.process_pending(database, settings)
