"""Read and write units of work: reads never take the SQLite write lock, read-only sessions refuse to
write, and waits for a connection or a lock end in time with an error the web layer maps to 503."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from cocreate.accounts.models import Department
from cocreate.db import Database, transactional, unit_of_work
from cocreate.db.engine import ReadOnlyViolation, is_overload
from cocreate.errors import Invalid
from cocreate.settings import Settings

pytestmark = [
    pytest.mark.databases("sqlite", why="SQLite's write lock"),
    pytest.mark.committed("other connections hold locks and connections beside the test's"),
]


@contextmanager
def sqlite_write_lock(database: Database) -> Iterator[None]:
    """Another process's writer in the middle of its transaction: the SQLite write lock is held."""
    path = sa.make_url(database.settings.database_url).database
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_read_sessions_run_beside_a_writer_on_sqlite(settings: Settings, database: Database) -> None:
    quick = Database(settings, wait_seconds=0.3)
    try:
        with sqlite_write_lock(quick):
            with quick.reading() as session:  # a deferred BEGIN: WAL readers do not wait for the writer
                assert session.exec(select(Department)).all() == []
            with quick.reading(snapshot=False) as session:  # no BEGIN at all: one statement, its own snapshot
                assert session.exec(select(Department)).all() == []
            with pytest.raises(sa.exc.OperationalError) as raised, quick.transaction() as session:
                session.exec(select(Department)).all()  # BEGIN IMMEDIATE: queues for the lock, then gives up
            assert is_overload(raised.value)
    finally:
        quick.dispose()


@pytest.mark.databases("sqlite", "postgresql", why="the guard sits on the ORM, for every database")
@pytest.mark.parametrize("snapshot", [True, False], ids=["snapshot", "statement"])
def test_read_only_sessions_refuse_to_write(database: Database, snapshot: bool) -> None:
    with database.reading(snapshot=snapshot) as session:
        session.add(Department(code="X1", division_ja="試験部", section_ja="試験課", division_en="Tests", section_en="Test"))
        with pytest.raises(ReadOnlyViolation, match="Department"):
            session.flush()
        session.rollback()
        with pytest.raises(ReadOnlyViolation, match="update"):
            session.exec(sa.update(Department).values(section_en="changed"))  # type: ignore[call-overload]
        with pytest.raises(ReadOnlyViolation, match="delete"):
            session.exec(sa.delete(Department))  # type: ignore[call-overload]
    with database.transaction() as session:
        session.add(Department(code="X1", division_ja="試験部", section_ja="試験課", division_en="Tests", section_en="Test"))
    with database.reading(snapshot=snapshot) as session:
        assert [d.code for d in session.exec(select(Department))] == ["X1"]


@pytest.mark.databases("sqlite", "postgresql", why="the pool wait, on each driver")
def test_a_full_pool_fails_in_bounded_time_as_overload(settings: Settings) -> None:
    small = Database(settings, wait_seconds=0.2, pool_size=1)
    try:
        with small.reading() as holder:
            holder.exec(select(Department)).all()  # holds the only connection
            with pytest.raises(sa.exc.TimeoutError) as raised, small.reading() as session:
                session.exec(select(Department)).all()
            assert is_overload(raised.value)
    finally:
        small.dispose()


@pytest.mark.databases("postgresql", why="lock_timeout is PostgreSQL's")
def test_postgres_lock_waits_end_with_lock_timeout(settings: Settings, database: Database) -> None:
    with database.transaction() as session:
        session.add(Department(code="L1", division_ja="部", section_ja="課", division_en="Division", section_en="Section"))
    quick = Database(settings, wait_seconds=0.3)
    locked = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with database.transaction() as session:
            session.exec(select(Department).where(Department.code == "L1").with_for_update()).one()
            locked.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        with pytest.raises(sa.exc.OperationalError) as raised, quick.transaction() as session:
            session.exec(select(Department).where(Department.code == "L1").with_for_update()).one()
        assert is_overload(raised.value)
    finally:
        release.set()
        holder.join()
        quick.dispose()


@pytest.mark.databases("sqlite", "postgresql", why="each driver reports its own errors")
def test_other_database_errors_are_not_overload(database: Database) -> None:
    with pytest.raises(sa.exc.SQLAlchemyError) as raised, database.reading() as session:
        session.exec(sa.text("SELECT * FROM no_such_table")).all()  # type: ignore[call-overload]
    assert not is_overload(raised.value)


# --- services' units of work ---------------------------------------------------------------------


def department(code: str) -> Department:
    return Department(code=code, division_ja="試験部", section_ja="試験課", division_en="Tests", section_en="Test")


def codes(database: Database) -> list[str]:
    with database.reading() as session:
        return sorted(d.code for d in session.exec(select(Department)))


@transactional
def add_departments(session: Session, *names: str, refuse: bool = False) -> None:
    for name in names:
        session.add(department(name))
        session.flush()
    if refuse:
        raise Invalid({"code": "refused after writing"})


@transactional
def add_then_call(session: Session, name: str, inner: str, *, refuse_inner: bool) -> None:
    session.add(department(name))
    session.flush()
    with suppress(Invalid):
        add_departments(session, inner, refuse=refuse_inner)


@pytest.mark.databases("sqlite", "postgresql", why="commit and rollback on each database")
def test_a_service_commits_when_it_returns_and_rolls_back_when_it_raises(database: Database) -> None:
    with database.session() as session:
        add_departments(session, "U1", "U2")
        assert not session.in_transaction()  # committed: no lock, no snapshot left behind
        with pytest.raises(Invalid) as refused:
            add_departments(session, "U3", refuse=True)
        assert refused.value.errors == {"code": "refused after writing"} and refused.value.status_code == 400
        assert not session.in_transaction()
    assert codes(database) == ["U1", "U2"]  # the refused service's flushed row is gone


@pytest.mark.databases("sqlite", "postgresql", why="commit and rollback on each database")
def test_a_service_called_by_another_joins_its_unit_of_work(database: Database) -> None:
    with database.session() as session:
        add_then_call(session, "N1", "N2", refuse_inner=False)
    assert codes(database) == ["N1", "N2"]
    with database.session() as session:
        # The inner service's refusal undoes its own row (a savepoint); the outer one goes on and commits.
        add_then_call(session, "N3", "N4", refuse_inner=True)
    assert codes(database) == ["N1", "N2", "N3"]
    with database.session() as session, pytest.raises(RuntimeError), unit_of_work(session):
        add_departments(session, "N5")
        raise RuntimeError("the outer block fails after the inner service returned")
    assert codes(database) == ["N1", "N2", "N3"]
