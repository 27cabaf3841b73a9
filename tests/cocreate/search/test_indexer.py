"""Keeping the index in step with the database: outbox rows in the changing transaction, the drain,
retries and duplicates, the single-writer lock, rebuilds, and a real worker on the "search" queue.

Most tests use a small source registered here over a core table (departments; a department whose code
starts with "hidden-" is not public), so they test the engine and not the components' sources. The
real-worker tests use the proposals component's challenge source, as production does.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate.accounts.models import Department
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.search import index, indexer, query, registry, tasks
from cocreate.search.models import SearchOutbox
from cocreate.search.registry import SearchDoc, Source, doc_key
from cocreate.settings import Settings
from cocreate.tasks import celery_app, configure_celery
from cocreate.tasks.app import SEARCH_QUEUE
from cocreate.tasks.queue import pending
from tests.factories import create_challenge, create_department
from tests.helpers import worker_env
from tests.servers import Worker, start_worker, wait_until

pytestmark = pytest.mark.databases("sqlite", why="the index and its lock do not depend on the database")

TYPE = "department"


def _load(session: Session, ids: Sequence[int]) -> dict[int, SearchDoc]:
    rows = session.exec(select(Department).where(col(Department.id).in_(ids))).all()
    return {
        row.id: SearchDoc(type=TYPE, id=row.id, title=f"{row.division_ja} {row.section_ja}",  # type: ignore[misc]
                          body=f"{row.division_en} {row.section_en}", url=f"/departments/{row.id}",
                          updated_at=row.updated_at, category="ward")
        for row in rows
        if not row.code.startswith("hidden-")
    }


def _all_ids(session: Session) -> Iterator[int]:
    yield from session.exec(select(Department.id)).all()  # type: ignore[misc]


TEST_SOURCE = Source(type=TYPE, label=lambda: "Department", load=_load, all_ids=_all_ids,
                     watches={Department: lambda _session, row: [doc_key(TYPE, row.id)]})


@pytest.fixture
def departments() -> Iterator[None]:
    """Register the departments source beside the components' sources for one test."""
    registry.sources()
    registry._cache[TYPE] = TEST_SOURCE
    indexer._watch_cache.clear()
    yield
    registry._cache.pop(TYPE, None)
    indexer._watch_cache.clear()


@pytest.fixture(autouse=True)
def _celery(settings: Settings) -> None:
    """Send tasks to the test broker (nothing consumes the "search" queue unless a test starts a worker)."""
    configure_celery(settings)




def outbox(database: Database) -> list[str]:
    with database.session() as session:
        return list(session.exec(select(SearchOutbox.doc_key).order_by(col(SearchOutbox.id))).all())


def found(settings: Settings, text: str) -> list[str]:
    return [hit.key for hit in query.search(settings, text).hits]


def index_size(settings: Settings) -> int:
    ix = index.open_index(settings)
    assert ix is not None
    try:
        return ix.doc_count()
    finally:
        ix.close()


# --- the outbox -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("departments")
@pytest.mark.databases("sqlite", "postgresql", why="the outbox hooks and their SQL")
def test_a_change_writes_its_key_in_the_same_transaction_and_a_rollback_drops_both(
    database: Database, txn_session: Session
) -> None:
    department = Department(code="parks", division_ja="都市整備部", section_ja="みどり公園課",
                            division_en="Urban Development", section_en="Parks")
    txn_session.add(department)
    txn_session.flush()
    key = doc_key(TYPE, department.id)  # type: ignore[arg-type]
    rows = txn_session.exec(select(SearchOutbox.doc_key)).all()
    assert rows == [key]
    assert pending(txn_session) == [(indexer.DRAIN_TASK, (), {}, SEARCH_QUEUE)]
    txn_session.rollback()
    assert outbox(database) == []
    assert pending(txn_session) == []

    txn_session.add(Department(code="parks", division_ja="都市整備部", section_ja="みどり公園課",
                               division_en="Urban Development", section_en="Parks"))
    txn_session.commit()
    assert len(outbox(database)) == 1


@pytest.mark.usefixtures("departments")
@pytest.mark.databases("sqlite", "postgresql", why="the outbox hooks and their SQL")
def test_one_drain_task_per_transaction_and_unchanged_rows_mark_nothing(database: Database) -> None:
    with database.transaction() as session:
        one = Department(code="a", division_ja="甲部", section_ja="甲課", division_en="A", section_en="A")
        two = Department(code="b", division_ja="乙部", section_ja="乙課", division_en="B", section_en="B")
        session.add_all([one, two])
        session.flush()
        one.section_en = "A2"
        session.flush()
        assert [name for name, *_ in pending(session)] == [indexer.DRAIN_TASK]
    assert sorted(outbox(database)) == sorted([doc_key(TYPE, one.id), doc_key(TYPE, two.id), doc_key(TYPE, one.id)])  # type: ignore[arg-type]
    indexer.process_pending(database, database.settings)
    with database.transaction() as session:
        row = session.get(Department, one.id)
        assert row is not None
        row.section_en = "A2"  # the same value: not modified
        session.add(row)
        session.flush()
        assert pending(session) == []
    assert outbox(database) == []


# --- draining -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("departments")
@pytest.mark.databases("sqlite", "postgresql", why="the outbox hooks and their SQL")
def test_drain_indexes_updates_and_removes_documents(database: Database, settings: Settings, session: Session) -> None:
    department = create_department(session, "parks", division_ja="都市整備部", section_ja="みどり公園課",
                                   division_en="Urban Development Department", section_en="Parks Section")
    assert found(settings, "公園") == []  # nothing indexed yet (no index at all)
    assert indexer.process_pending(database, settings) == 1
    assert outbox(database) == []
    assert found(settings, "公園") == [doc_key(TYPE, department.id)]  # type: ignore[arg-type]
    assert found(settings, "park") == [doc_key(TYPE, department.id)]  # type: ignore[arg-type]

    department.section_ja = "道路管理課"
    session.add(department)
    session.commit()
    indexer.process_pending(database, settings)
    assert found(settings, "公園") == []
    assert found(settings, "道路") == [doc_key(TYPE, department.id)]  # type: ignore[arg-type]

    department.code = "hidden-roads"  # no longer public: the source returns nothing for it
    session.add(department)
    session.commit()
    indexer.process_pending(database, settings)
    assert found(settings, "道路") == []
    assert index_size(settings) == 0

    department.code = "roads"
    session.add(department)
    session.commit()
    indexer.process_pending(database, settings)
    assert found(settings, "道路") == [doc_key(TYPE, department.id)]  # type: ignore[arg-type]
    session.delete(department)
    session.commit()
    indexer.process_pending(database, settings)
    assert found(settings, "道路") == []


@pytest.mark.usefixtures("departments")
@pytest.mark.databases("sqlite", "postgresql", why="the outbox hooks and their SQL")
def test_mark_stale_covers_bulk_sql_the_orm_never_sees(database: Database, settings: Settings, session: Session) -> None:
    department = create_department(session, "parks", section_ja="みどり公園課")
    indexer.process_pending(database, settings)
    with database.transaction() as txn:
        txn.execute(sa.update(Department).where(col(Department.id) == department.id).values(section_ja="道路管理課"))
        assert txn.exec(select(SearchOutbox)).all() == []  # not seen by the flush hook
        indexer.mark_stale(txn, [doc_key(TYPE, department.id), doc_key(TYPE, department.id)])  # type: ignore[arg-type]
        assert [name for name, *_ in pending(txn)] == [indexer.DRAIN_TASK]
    assert outbox(database) == [doc_key(TYPE, department.id)]  # type: ignore[arg-type]
    indexer.process_pending(database, settings)
    assert found(settings, "道路") == [doc_key(TYPE, department.id)]  # type: ignore[arg-type]


@pytest.mark.usefixtures("departments")
def test_a_retried_or_duplicated_drain_is_harmless(database: Database, settings: Settings, session: Session) -> None:
    department = create_department(session, "parks", section_ja="みどり公園課")
    key = doc_key(TYPE, department.id)  # type: ignore[arg-type]
    indexer.process_pending(database, settings)
    # A drain that committed the index but died before deleting its rows leaves them behind (here: many
    # copies of them, as from duplicated tasks); running again writes the same state once more.
    with database.transaction() as txn:
        indexer.mark_stale(txn, [key])
        indexer.mark_stale(txn, [key, "unknown-type:5", "not a key"])
    assert indexer.process_pending(database, settings) == 3
    assert indexer.process_pending(database, settings) == 0  # a duplicated task finds nothing to do
    assert outbox(database) == []
    assert index_size(settings) == 1
    assert found(settings, "公園") == [key]


@pytest.mark.usefixtures("departments")
def test_a_drain_works_in_batches(database: Database, settings: Settings, session: Session) -> None:
    for number in range(7):
        session.add(Department(code=f"d{number}", division_ja="区民部", section_ja=f"第{number}係",
                               division_en="Citizens", section_en=f"Unit {number}"))
    session.commit()
    assert indexer.process_pending(database, settings, limit=3) == 7
    assert outbox(database) == []
    assert query.search(settings, "区民").total == 7


@pytest.mark.usefixtures("departments")
def test_while_another_writer_holds_the_lock_a_drain_fails_and_keeps_its_rows(
    database: Database, settings: Settings, session: Session
) -> None:
    department = create_department(session, "parks", section_ja="みどり公園課")
    with index.writer_lock(settings), pytest.raises(index.LockError):
        indexer.process_pending(database, settings, wait=0.2)
    assert outbox(database) == [doc_key(TYPE, department.id)]  # type: ignore[arg-type]
    assert found(settings, "公園") == []
    assert indexer.process_pending(database, settings, wait=0) == 1
    assert found(settings, "公園") == [doc_key(TYPE, department.id)]  # type: ignore[arg-type]


# --- rebuilding -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("departments")
def test_rebuild_replaces_the_index_with_the_databases_public_documents(
    database: Database, settings: Settings, session: Session
) -> None:
    indexer.build(settings, [SearchDoc(type=TYPE, id=999, title="消えた公園", body="", url="/x",
                                       updated_at=utcnow())])
    assert found(settings, "公園") == [doc_key(TYPE, 999)]
    first = index.live_dir(settings)
    visible = create_department(session, "parks", section_ja="みどり公園課")
    create_department(session, "hidden-parks", section_ja="秘密の公園課")
    assert len(outbox(database)) == 2

    assert indexer.rebuild(database, settings) >= 1
    assert found(settings, "公園") == [doc_key(TYPE, visible.id)]  # type: ignore[arg-type]
    assert outbox(database) == []  # the rebuild covered the waiting rows
    assert index.live_dir(settings) != first

    indexer.rebuild(database, settings)
    indexer.rebuild(database, settings)
    generations = sorted(p.name for p in index.root(settings).glob("gen-*"))
    assert len(generations) == 2  # the live one and the previous one (for searches still reading it)
    assert os.readlink(index.root(settings) / "current") in generations


@pytest.mark.usefixtures("departments")
def test_a_rebuild_waits_for_the_writer_and_drains_wait_for_a_rebuild(
    database: Database, settings: Settings, session: Session
) -> None:
    create_department(session, "parks", section_ja="みどり公園課")
    with index.writer_lock(settings):
        with pytest.raises(index.LockError):
            indexer.rebuild(database, settings, wait=0.2)
        with pytest.raises(index.LockError):
            indexer.process_pending(database, settings, wait=0.0)
    assert len(outbox(database)) == 1
    indexer.rebuild(database, settings)
    assert query.search(settings, "公園").total == 1


def test_an_index_copied_without_its_symlink_is_read_and_replaced(settings: Settings) -> None:
    """A data folder restored with a plain ``cp -r`` turns the "current" link into a folder."""
    indexer.build(settings, [SearchDoc(type=TYPE, id=1, title="公園", body="", url="/x", updated_at=utcnow())])
    folder = index.root(settings)
    live = folder / os.readlink(folder / "current")
    (folder / "current").unlink()
    shutil.copytree(live, folder / "current")
    shutil.rmtree(live)
    assert found(settings, "公園") == [doc_key(TYPE, 1)]

    indexer.build(settings, [SearchDoc(type=TYPE, id=2, title="図書館", body="", url="/y", updated_at=utcnow())])
    assert (folder / "current").is_symlink()
    assert found(settings, "図書館") == [doc_key(TYPE, 2)] and found(settings, "公園") == []


def test_a_failed_rebuild_leaves_the_live_index_alone(database: Database, settings: Settings) -> None:
    indexer.build(settings, [SearchDoc(type=TYPE, id=1, title="公園", body="", url="/x", updated_at=utcnow())])
    live = index.live_dir(settings)

    def broken() -> Iterator[SearchDoc]:
        yield SearchDoc(type=TYPE, id=2, title="図書館", body="", url="/y", updated_at=utcnow())
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        indexer.build(settings, broken())
    assert index.live_dir(settings) == live
    assert found(settings, "公園") == [doc_key(TYPE, 1)]
    assert sorted(p.name for p in index.root(settings).glob("gen-*")) == [live.name]  # type: ignore[union-attr]


# --- a real worker on the search queue --------------------------------------------------------------


@pytest.fixture
def search_worker(settings: Settings, database: Database, tmp_path: Path) -> Iterator[Worker]:
    """A real ``cocreate worker`` consuming only the "search" queue, writing this test's index."""
    configure_celery(settings)
    purge_search_queue()  # drains other tests left behind (nothing else consumes the queue)
    worker = start_worker(worker_env(settings), tmp_path / "search-worker.log", queues="search")
    yield worker
    worker.stop()


def purge_search_queue() -> None:
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge(SEARCH_QUEUE)


def worker_idle(worker: Worker) -> bool:
    """Every task the worker received has ended (Celery logs "received", then "succeeded", "retry" or
    "raised" for each)."""
    log = worker.log()
    ended = log.count(" succeeded in ") + log.count(": Retry in ") + log.count(" raised unexpected")
    return log.count("] received") <= ended


def wait_for(worker: Worker, predicate: Any, message: str, timeout: float = 30) -> None:
    try:
        wait_until(predicate, timeout, message, interval=0.1)
    except AssertionError:
        raise AssertionError(f"{message}; worker log:\n{worker.log()[-4000:]}") from None


@pytest.mark.worker
@pytest.mark.databases("sqlite", "postgresql", why="the outbox hooks and their SQL")
def test_a_real_worker_drains_the_outbox_after_commit_and_retries_while_locked(
    search_worker: Worker, database: Database, settings: Settings, session: Session
) -> None:
    department = create_department(session)
    challenge = create_challenge(session, department, phase="accepting", title="自動運転バスで団地の足を守りたい")
    key = doc_key("challenge", challenge.id)
    wait_for(search_worker, lambda: found(settings, "自動運転") == [key], "the challenge was not indexed")
    wait_for(search_worker, lambda: outbox(database) == [], "the outbox was not emptied")

    # A row whose task was lost (the broker was down at commit, say) waits until the sweeper sends one.
    purge_search_queue()  # the factories' several commits each queued a drain
    wait_for(search_worker, lambda: worker_idle(search_worker), "the drain the worker held did not end")
    with database.transaction() as txn:
        txn.execute(sa.insert(SearchOutbox).values(doc_key=key, created_at=utcnow() - timedelta(seconds=30)))
    assert tasks.sweep.apply().get() is False  # not yet lost: its own task may be on the way (none sent)
    assert outbox(database) == [key]
    with database.transaction() as txn:
        txn.execute(sa.update(SearchOutbox).values(created_at=utcnow() - timedelta(minutes=5)))
    assert tasks.sweep.apply().get() is True  # the sweeper's check runs here; the drain it sends, in the worker
    wait_for(search_worker, lambda: outbox(database) == [], "the sweeper's drain did not run")
    assert found(settings, "自動運転") == [key]

    # Another writer (a rebuild, say) holds the lock: the drain fails, keeps its rows and is retried.
    with index.writer_lock(settings):
        challenge = create_challenge(session, department, phase="accepting", title="高島平の公園を子育ての場に")
        wait_for(search_worker, lambda: "Retry in" in search_worker.log(), "the drain did not retry")
        assert set(outbox(database)) == {doc_key("challenge", challenge.id)}  # rows kept for the retry
    wait_for(search_worker, lambda: found(settings, "子育て") == [doc_key("challenge", challenge.id)],
             "the retried drain did not index the challenge", timeout=60)
    assert outbox(database) == []


def test_beat_sweeps_for_lost_drains() -> None:
    from cocreate import components

    entry = components.beat_schedule()["search-sweep-outbox"]
    assert entry["task"] == tasks.sweep.name and entry["schedule"] <= 300
