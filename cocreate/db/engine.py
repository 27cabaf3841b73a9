"""Engine and session factory: one :class:`Database` per process, built from settings.

Two kinds of unit of work share one connection pool:

- **Read** sessions (safe web requests, feeds, the session and user lookup, health checks) begin a
  *deferred* transaction on SQLite, so any number of them read in parallel beside one writer (WAL);
  they refuse to write (:class:`ReadOnlyViolation`), so a GET cannot take the write lock by accident.
- **Write** sessions (form posts, tasks, the CLI) begin ``IMMEDIATE`` on SQLite: the write lock is
  taken up front and concurrent writers queue on the busy timeout instead of failing to upgrade.

Waiting is bounded everywhere: for a pooled connection (``pool_timeout``), for the SQLite write lock
(``busy_timeout``) and for a PostgreSQL row or table lock (``lock_timeout``). A wait that runs out
raises, and :func:`is_overload` tells the web layer to answer 503 with ``Retry-After``.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, sessionmaker
from sqlmodel import Session

from cocreate.db.work import unit_of_work
from cocreate.settings import Settings

READ_ONLY = "cocreate.read_only"
"""``Session.info`` key marking a read-only unit of work."""
DATABASE = "cocreate.database"
"""``Session.info`` key holding the :class:`Database` a session came from."""

TASK_WAIT_SECONDS = 30.0
"""Lock and pool waits of background work and the CLI: nobody is waiting at a browser."""


class ReadOnlyViolation(RuntimeError):
    """A read-only unit of work tried to write: the code must use a write session for that."""


def _sqlite_pragmas(busy_timeout_ms: int, dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web processes read while the worker writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA mmap_size=268435456")
    # Deleted rows are overwritten with zeros, so that what a person deleted is not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def erase_freed(engine: sa.Engine, *, wait_ms: int = 200) -> bool:
    """On SQLite, copy the write-ahead log into the database file and empty it, so that no older copy
    of deleted or overwritten rows stays in the log (``secure_delete`` already zeroes them in the file).
    Waits at most ``wait_ms`` for readers; returns whether the log was emptied (always true elsewhere)."""
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            (previous,) = cursor.execute("PRAGMA busy_timeout").fetchone()
            cursor.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
            busy, _frames, _copied = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            cursor.execute(f"PRAGMA busy_timeout={int(previous)}")
        finally:
            cursor.close()
    return busy == 0


class QueuedWriterConnection(sqlite3.Connection):
    """A pysqlite connection whose writers queue in the process before asking SQLite for its lock.

    SQLite hands its write lock over by polling: a writer that finds it taken sleeps (1, 2, 5 … up to
    100 ms) and tries again, so under a burst of votes most of a writer's wait is sleep after the lock
    was already free, and every thread of every process polls. Here the threads of one process take
    turns on a Python lock first (handed over at once, in arrival order) and only the one at the head
    asks SQLite, which then arbitrates between processes only. The lock is released when the
    transaction ends (commit, rollback or close) and waited for at most the engine's wait.
    """

    writers: threading.Lock
    wait_seconds: float
    lock_path: str

    def enter_writer(self) -> None:
        deadline = time.monotonic() + self.wait_seconds
        if not self.writers.acquire(timeout=self.wait_seconds):
            raise sqlite3.OperationalError("database is locked (waited for this process's other writers)")
        try:
            self._enter_across_processes(deadline)
        except BaseException:
            self.writers.release()
            raise
        self.holds_writer = True

    def _enter_across_processes(self, deadline: float) -> None:
        # The head writer of each process takes an advisory file lock beside the database: the kernel
        # hands it to the next process the moment it is released, where SQLite's busy handler would
        # sleep up to 100 ms between tries. Polled without blocking so the wait stays bounded.
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        pause = 0.0001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.writer_fd = fd
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise sqlite3.OperationalError("database is locked (waited for other processes' writers)") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.002)

    def leave_writer(self) -> None:
        if getattr(self, "holds_writer", False):
            self.holds_writer = False
            fd = self.writer_fd
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
                self.writers.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.leave_writer()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.leave_writer()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.leave_writer()


def _writer_queue(database_path: str, wait_seconds: float) -> type[QueuedWriterConnection]:
    """A connection class whose writers share one queue (one per engine, so one per process)."""
    return type("EngineQueuedWriterConnection", (QueuedWriterConnection,),
                {"writers": threading.Lock(), "wait_seconds": wait_seconds, "lock_path": f"{database_path}-writer"})


def _sqlite_begin(conn: sa.Connection) -> None:
    # pysqlite's deferred BEGIN lets two writers both read and then fail to upgrade their lock
    # ("database is locked" without waiting). BEGIN IMMEDIATE takes the write lock up front, so
    # concurrent writers queue on busy_timeout instead; it is what makes row locks meaningful here.
    # Read units of work use the execution option ``sqlite_deferred=True``: WAL readers never block
    # the writer nor each other. Tests' own sessions use ``sqlite_autocommit=True`` (every statement
    # commits on its own, so they always read the latest data and never hold a stale snapshot).
    options = conn.get_execution_options()
    if options.get("sqlite_autocommit", False):
        return
    if options.get("sqlite_deferred", False):
        conn.exec_driver_sql("BEGIN")
        return
    dbapi_connection = conn.connection.dbapi_connection
    queued = isinstance(dbapi_connection, QueuedWriterConnection)
    if queued:
        dbapi_connection.enter_writer()
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        if queued:
            dbapi_connection.leave_writer()
        raise


def make_engine(url: str, *, wait_seconds: float = TASK_WAIT_SECONDS, **kwargs: Any) -> sa.Engine:
    """An engine with the project's defaults for SQLite or PostgreSQL; lock waits end after ``wait_seconds``."""
    kwargs.setdefault("pool_timeout", wait_seconds)
    if url.startswith("sqlite"):
        database_path = sa.make_url(url).database
        if database_path and database_path != ":memory:":
            Path(database_path).parent.mkdir(parents=True, exist_ok=True)
        connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": wait_seconds}
        if database_path and database_path != ":memory:":
            connect_args["factory"] = _writer_queue(database_path, wait_seconds)
        engine = sa.create_engine(url, connect_args=connect_args | kwargs.pop("connect_args", {}), **kwargs)
        event.listen(engine, "connect", partial(_sqlite_pragmas, wait_seconds * 1000))
        # Take over transaction control from pysqlite so that BEGIN IMMEDIATE can be issued.
        event.listen(engine, "connect", lambda dbapi_conn, _r: setattr(dbapi_conn, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if url.startswith("postgresql"):
        options = f"-c lock_timeout={int(wait_seconds * 1000)}"
        connect_args = kwargs.pop("connect_args", {})
        connect_args["options"] = f"{connect_args.get('options', '')} {options}".strip()
        kwargs["connect_args"] = connect_args
    return sa.create_engine(url, **kwargs)


def is_overload(exc: BaseException) -> bool:
    """Whether a database error means "too busy right now" (a wait ran out), not a bug or bad data."""
    if isinstance(exc, sa.exc.TimeoutError):  # no pooled connection within pool_timeout
        return True
    if isinstance(exc, sa.exc.OperationalError):
        original = exc.orig
        message = str(original).lower()
        if "database is locked" in message or "database table is locked" in message:
            return True  # SQLite: busy_timeout ran out
        sqlstate = getattr(original, "sqlstate", None)
        # PostgreSQL: lock_not_available (lock_timeout), query_canceled, too_many_connections,
        # cannot_connect_now (starting up or shutting down)
        return sqlstate in {"55P03", "57014", "53300", "57P03"}
    return False


def _refuse_flush(session: sa.orm.Session, _context: Any, _instances: Any) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        changed = [type(obj).__name__ for obj in (*session.new, *session.dirty, *session.deleted)]
        raise ReadOnlyViolation(f"a read-only unit of work tried to write {', '.join(sorted(set(changed)))}")


def _refuse_dml(state: ORMExecuteState) -> None:
    if state.session.info.get(READ_ONLY) and (state.is_insert or state.is_update or state.is_delete):
        raise ReadOnlyViolation(f"a read-only unit of work tried to run {state.statement.__visit_name__}")


@contextmanager
def write_apart(session: Session) -> Iterator[Session]:
    """A short write unit of work of its own, beside ``session`` (typically a read-only one): for the
    rare read that must also record something, e.g. when a private feed was last fetched. Commits at
    the end of the block; ``session`` and its snapshot are untouched."""
    database = session.info.get(DATABASE)
    if database is None:  # a session made outside a Database (tests' own): same engine, own transaction
        with Session(session.get_bind(), expire_on_commit=False) as writer, unit_of_work(writer):
            yield writer
        return
    with database.transaction() as writer:
        yield writer


@contextmanager
def read_apart(session: Session, *, snapshot: bool = True) -> Iterator[Session]:
    """A read-only unit of work of its own beside ``session`` (typically a write one): checks that need
    no lock are made on a snapshot, before the write takes its locks, so refusals never queue."""
    database = session.info.get(DATABASE)
    if database is None:  # a session made outside a Database (tests' own): read on it
        yield session
        return
    with database.reading(snapshot=snapshot) as reader:
        yield reader


class Database:
    """The engine and session factories of one process (web worker, Celery worker or CLI run).

    ``wait_seconds`` bounds every wait for a connection or a lock: web processes pass the settings'
    ``db_wait_seconds``; background work and the CLI keep the longer default. ``engine_kwargs`` go to
    ``create_engine``.
    """

    def __init__(self, settings: Settings, *, wait_seconds: float | None = None, **engine_kwargs: Any) -> None:
        self.settings = settings
        self.wait_seconds = wait_seconds if wait_seconds is not None else TASK_WAIT_SECONDS
        engine_kwargs.setdefault("pool_size", settings.db_pool_size)
        engine_kwargs.setdefault("max_overflow", 0)
        self.engine = make_engine(settings.database_url, wait_seconds=self.wait_seconds, **engine_kwargs)
        self.session_factory = sessionmaker(
            bind=self.engine, class_=Session, expire_on_commit=False, info={DATABASE: self}
        )
        self.read_engine = self.engine.execution_options(sqlite_deferred=True)
        self.read_session_factory = sessionmaker(
            bind=self.read_engine, class_=Session, expire_on_commit=False, info={READ_ONLY: True, DATABASE: self}
        )
        # Reads of one statement (the session row, the signed-in user, a permission check) need no
        # snapshot of their own: without BEGIN and ROLLBACK around them they cost two calls to the
        # database less, on the hottest path there is (every signed-in request).
        self.statement_engine = self.engine.execution_options(
            **({"sqlite_autocommit": True} if self.engine.dialect.name == "sqlite" else {"isolation_level": "AUTOCOMMIT"}))
        self.statement_session_factory = sessionmaker(
            bind=self.statement_engine, class_=Session, expire_on_commit=False, info={READ_ONLY: True, DATABASE: self}
        )
        for factory in (self.read_session_factory, self.statement_session_factory):
            event.listen(factory, "before_flush", _refuse_flush)
            event.listen(factory, "do_orm_execute", _refuse_dml)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, *, read_only: bool = False) -> Session:
        """A new session; the caller commits and closes (or uses :meth:`transaction` / :meth:`reading`).

        A read-only session never takes the SQLite write lock and raises :class:`ReadOnlyViolation`
        when asked to write."""
        return (self.read_session_factory if read_only else self.session_factory)()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write session that commits on success and rolls back on error."""
        with self.session_factory() as session, unit_of_work(session):
            yield session

    @contextmanager
    def reading(self, *, snapshot: bool = True) -> Iterator[Session]:
        """A read-only session, closed (its snapshot released) at the end of the block.

        ``snapshot=False``: each statement reads the latest committed data on its own (no transaction
        around them); for a block of one statement, which is then its own snapshot."""
        with (self.read_session_factory if snapshot else self.statement_session_factory)() as session:
            yield session

    def ping(self) -> None:
        with self.read_engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
