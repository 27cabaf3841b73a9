"""Dependencies injected into route handlers of every component."""

from __future__ import annotations

from collections.abc import Iterator

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlmodel import Session

from cocreate.db import Database
from cocreate.settings import Settings

DbSession = NamedDependency[Session]
"""Annotation for route handler parameters named ``db_session``."""

AppSettings = NamedDependency[Settings]
"""Annotation for route handler parameters named ``settings``."""


def provide_db_session(state: State) -> Iterator[Session]:
    """One session per request; services commit, anything uncommitted is rolled back at the end."""
    database: Database = state.database
    session = database.session()
    try:
        yield session
    finally:
        session.close()


def provide_settings(state: State) -> Settings:
    return state.settings
