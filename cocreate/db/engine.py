"""Engine and session factory: one :class:`Database` per process, built from settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from cocreate.settings import Settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web processes read while the worker writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    # pysqlite's deferred BEGIN lets two writers both read and then fail to upgrade their lock
    # ("database is locked" without waiting). BEGIN IMMEDIATE takes the write lock up front, so
    # concurrent writers queue on busy_timeout instead; it is what makes row locks meaningful here.
    # Read-only work may opt out with the execution option ``sqlite_deferred=True``; tests' own
    # sessions use ``sqlite_autocommit=True`` (every statement commits on its own, so they always
    # read the latest data and never hold a stale snapshot that cannot be upgraded to a write).
    options = conn.get_execution_options()
    if options.get("sqlite_autocommit", False):
        return
    conn.exec_driver_sql("BEGIN" if options.get("sqlite_deferred", False) else "BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    """An engine with the project's defaults for SQLite or PostgreSQL."""
    if url.startswith("sqlite"):
        database_path = sa.make_url(url).database
        if database_path and database_path != ":memory:":
            Path(database_path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 15} | kwargs.pop("connect_args", {}),
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # Take over transaction control from pysqlite so that BEGIN IMMEDIATE can be issued.
        event.listen(engine, "connect", lambda dbapi_conn, _r: setattr(dbapi_conn, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


class Database:
    """The engine and session factory of one process (web worker, Celery worker or CLI run)."""

    def __init__(self, settings: Settings, **engine_kwargs: Any) -> None:
        from cocreate import components

        components.load_models()  # every table, and the hooks that keep derived data (the search index) current
        self.settings = settings
        self.engine = make_engine(settings.database_url, **engine_kwargs)
        self.session_factory = sessionmaker(bind=self.engine, class_=Session, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        """A new session; the caller commits and closes (or uses :meth:`transaction`)."""
        return self.session_factory()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.session_factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
