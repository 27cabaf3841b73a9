"""Keeping the index in step with the database: the outbox, its drain, and rebuilds.

1. Any flush that inserts, updates or deletes a watched model (see ``Source.watches``) writes the
   affected document keys to :class:`SearchOutbox` in the same transaction (:func:`_note_changes`).
   Bulk SQL that bypasses the ORM calls :func:`mark_stale` itself.
2. After that transaction commits, one drain task goes to the "search" queue, consumed by exactly
   one worker process (Whoosh allows one writer).
3. :func:`process_pending` reads a batch of outbox rows, loads each document's public form from its
   source (or nothing, when it is no longer public), writes the index, commits it, and only then
   deletes the rows it handled. A crash in between leaves the rows, and a second run writes the same
   state again: a retried or duplicated drain is harmless.
4. A beat sweeper enqueues a drain when rows older than a minute wait (the task was lost).
"""

from __future__ import annotations

import logging
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select
from whoosh.writing import IndexWriter

from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.search import index
from cocreate.search.models import SearchOutbox
from cocreate.search.registry import SearchDoc, Source, sources, split_key
from cocreate.settings import Settings
from cocreate.tasks.app import SEARCH_QUEUE
from cocreate.tasks.queue import enqueue, pending
from cocreate.web.markdown import markdown_to_text

log = logging.getLogger(__name__)

DRAIN_TASK = "cocreate.search.drain"
LOAD_BATCH = 500
LOST_AFTER = timedelta(minutes=1)


def mark_stale(session: Session | OrmSession, keys: Iterable[str]) -> None:
    """Queue these documents for re-indexing once the session commits (for bulk SQL the ORM never sees)."""
    rows = [{"doc_key": key, "created_at": utcnow()} for key in dict.fromkeys(keys)]
    if not rows:
        return
    session.execute(sa.insert(SearchOutbox.__table__), rows)  # type: ignore[attr-defined]
    _enqueue_drain(session)


def _enqueue_drain(session: Session | OrmSession) -> None:
    if any(name == DRAIN_TASK for name, *_ in pending(session)):
        return
    enqueue(session, DRAIN_TASK, queue=SEARCH_QUEUE)


def _watchers() -> dict[type, list[Callable[[Any, Any], Iterable[str]]]]:
    if not _watch_cache:
        table: dict[type, list[Callable[[Any, Any], Iterable[str]]]] = defaultdict(list)
        for source in sources().values():
            for model, watcher in source.watches.items():
                table[model].append(watcher)
        _watch_cache.update(table)
        _watch_cache.setdefault(SearchOutbox, [])  # never empty once built
    return _watch_cache


_watch_cache: dict[type, list[Callable[[Any, Any], Iterable[str]]]] = {}


@event.listens_for(OrmSession, "after_flush")
def _note_changes(session: OrmSession, _context: Any) -> None:
    changed = [*session.new, *session.deleted, *(obj for obj in session.dirty if session.is_modified(obj))]
    if not changed:
        return
    watchers = _watchers()
    keys: list[str] = []
    for obj in changed:
        for watcher in watchers.get(type(obj), ()):
            keys.extend(watcher(session, obj))
    if keys:
        mark_stale(session, keys)


# --- draining -------------------------------------------------------------------------------------


def process_pending(database: Database, settings: Settings, *, limit: int = 2000, wait: float = 30.0) -> int:
    """Drain the outbox into the index now; returns the number of documents written or removed.

    Waits up to ``wait`` seconds for the writer lock, then raises :class:`index.LockError` (rows kept).
    """
    done = 0
    with index.writer_lock(settings, wait=wait):
        while True:
            handled = _drain_batch(database, settings, limit)
            done += handled
            if handled == 0:
                return done


def _drain_batch(database: Database, settings: Settings, limit: int) -> int:
    with database.transaction() as session:
        rows = session.exec(
            select(SearchOutbox.id, SearchOutbox.doc_key).order_by(col(SearchOutbox.id)).limit(limit)
        ).all()
        if not rows:
            return 0
        keys = list(dict.fromkeys(key for _id, key in rows))
        documents = load(session, keys)
        ix = index.writable_index(settings)
        writer = ix.writer()
        try:
            for key in keys:
                document = documents.get(key)
                if document is None:
                    writer.delete_by_term("key", key)
                else:
                    _write(writer, document, update=True)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        ix.close()
        # The index holds the new state: only now forget the rows (rows added since stay for the next run).
        session.execute(
            sa.delete(SearchOutbox).where(col(SearchOutbox.id).in_([row_id for row_id, _ in rows]))
        )
        return len(keys)


def load(session: Session, keys: Iterable[str]) -> dict[str, SearchDoc]:
    """The public documents among ``keys`` (keys of unknown types or non-public things are left out)."""
    by_type: dict[str, list[int]] = defaultdict(list)
    for key in keys:
        try:
            type_, id_ = split_key(key)
        except ValueError:
            log.warning("ignoring malformed search key %r", key)
            continue
        by_type[type_].append(id_)
    registered = sources()
    found: dict[str, SearchDoc] = {}
    for type_, ids in by_type.items():
        source = registered.get(type_)
        if source is None:
            continue
        for start in range(0, len(ids), LOAD_BATCH):
            for document in source.load(session, ids[start : start + LOAD_BATCH]).values():
                found[document.key] = document
    return found


def _write(writer: IndexWriter, document: SearchDoc, *, update: bool) -> None:
    fields = fields_of(document)
    if update:
        writer.update_document(**fields)
    else:
        writer.add_document(**fields)


def fields_of(document: SearchDoc) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "key": document.key,
        "id": document.id,
        "url": document.url,
        "type": document.type,
        "title": document.title or "",
        "body": markdown_to_text(document.body),  # snippets show text, never Markdown syntax
        "extra": document.extra or "",
        "updated": document.updated_at.isoformat() if document.updated_at else "",
    }
    for name in ("phase", "category", "area"):
        value = getattr(document, name)
        if value:
            fields[name] = str(value)
    if document.challenge_id is not None:
        fields["challenge_id"] = document.challenge_id
    return fields


# --- rebuilding -----------------------------------------------------------------------------------


def rebuild(database: Database, settings: Settings, *, wait: float = 600.0) -> int:
    """Build the whole index afresh from the database and swap it in; returns the number of documents.

    Holds the writer lock throughout, so drains meanwhile fail with LockError and keep their rows.
    Outbox rows that existed when the rebuild started are covered by it and deleted afterwards.
    """
    with index.writer_lock(settings, wait=wait):
        with database.transaction() as session:
            seen = list(session.exec(select(SearchOutbox.id)).all())
        with database.transaction() as session:
            count = _build(settings, iter_documents(session))
        if seen:
            with database.transaction() as session:
                for start in range(0, len(seen), 1000):
                    chunk = seen[start : start + 1000]
                    session.execute(sa.delete(SearchOutbox).where(col(SearchOutbox.id).in_(chunk)))
        return count


def build(settings: Settings, documents: Iterable[SearchDoc], *, wait: float = 600.0) -> int:
    """Replace the index with exactly ``documents`` (tests and the benchmark; :func:`rebuild` for real)."""
    with index.writer_lock(settings, wait=wait):
        return _build(settings, documents)


def _build(settings: Settings, documents: Iterable[SearchDoc]) -> int:
    from whoosh import index as whoosh_index

    path = index.new_generation(settings)
    ix = whoosh_index.create_in(str(path), index.schema())
    writer = ix.writer(limitmb=256)
    count = 0
    try:
        for document in documents:
            _write(writer, document, update=False)
            count += 1
    except BaseException:
        writer.cancel()
        ix.close()
        shutil.rmtree(path, ignore_errors=True)
        raise
    writer.commit(optimize=True)
    ix.close()
    index.swap_in(settings, path)
    return count


def iter_documents(session: Session) -> Iterator[SearchDoc]:
    for source in sources().values():
        yield from _documents_of(session, source)


def _documents_of(session: Session, source: Source) -> Iterator[SearchDoc]:
    batch: list[int] = []
    for id_ in source.all_ids(session):
        batch.append(id_)
        if len(batch) >= LOAD_BATCH:
            yield from source.load(session, batch).values()
            batch = []
    if batch:
        yield from source.load(session, batch).values()


# --- status ---------------------------------------------------------------------------------------


def status(database: Database, settings: Settings) -> dict[str, Any]:
    """Numbers for ``cocreate search status`` and health checks."""
    with database.transaction() as session:
        waiting, oldest = session.exec(
            select(sa.func.count(SearchOutbox.id), sa.func.min(SearchOutbox.created_at))  # type: ignore[arg-type]
        ).one()
    ix = index.open_index(settings)
    documents = ix.doc_count() if ix is not None else 0
    if ix is not None:
        ix.close()
    return {
        "index": str(index.live_dir(settings) or "(none)"),
        "documents": documents,
        "pending": waiting,
        "oldest_pending": oldest.isoformat() if oldest else None,
    }


def lost_work(session: Session) -> bool:
    """Whether outbox rows have waited longer than a drain should take (their task was lost)."""
    cutoff = utcnow() - LOST_AFTER
    return (
        session.exec(select(SearchOutbox.id).where(col(SearchOutbox.created_at) < cutoff).limit(1)).first()
        is not None
    )
