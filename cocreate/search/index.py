"""The Whoosh index on disk: its schema, where the live copy is, and the single-writer lock.

Layout under ``settings.search_index_dir``::

    WRITELOCK       the writer lock every writer (outbox drain, rebuild) holds while it writes
    current         a symlink to the live generation, replaced atomically by a rebuild
    gen-<stamp>/    one complete Whoosh index per generation (the previous one is kept for readers)

Readers resolve ``current`` on each search, so a rebuild becomes visible at once and never half-built.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema
from whoosh.index import Index, LockError
from whoosh.searching import Searcher
from whoosh.util.filelock import FileLock

from cocreate.search import analysis
from cocreate.settings import Settings

__all__ = [
    "LockError",
    "live_dir",
    "new_generation",
    "open_index",
    "schema",
    "searcher",
    "swap_in",
    "writer_lock",
]

TITLE_BOOST = 3.0
EXTRA_BOOST = 0.5
FACETS = ("type", "phase", "category", "area")


def schema() -> Schema:
    analyzer = analysis.analyzer()
    return Schema(
        key=ID(stored=True, unique=True),
        id=STORED(),
        url=STORED(),
        type=ID(stored=True, sortable=True),
        phase=ID(stored=True, sortable=True),
        category=ID(stored=True, sortable=True),
        area=ID(stored=True, sortable=True),
        challenge_id=NUMERIC(stored=True, bits=64, signed=False),
        title=TEXT(analyzer=analyzer, stored=True, field_boost=TITLE_BOOST, multitoken_query="phrase"),
        # Character offsets in the postings: snippets mark matches without analysing the text again.
        body=TEXT(analyzer=analyzer, stored=True, chars=True, multitoken_query="phrase"),
        extra=TEXT(analyzer=analyzer, stored=False, field_boost=EXTRA_BOOST, multitoken_query="phrase"),
        updated=STORED(),
    )


def root(settings: Settings) -> Path:
    assert settings.search_index_dir is not None
    return Path(settings.search_index_dir)


def live_dir(settings: Settings) -> Path | None:
    """The live generation's folder, or None when no index was ever built."""
    link = root(settings) / "current"
    if not link.is_symlink():
        # A data folder copied without keeping symlinks (a backup restored with plain cp -r, say)
        # holds the live generation itself under "current".
        return link if link.is_dir() else None
    path = root(settings) / os.readlink(link)
    return path if path.is_dir() else None


def open_index(settings: Settings) -> Index | None:
    """The live index for reading, or None when there is none (search then finds nothing)."""
    path = live_dir(settings)
    if path is None:
        return None
    try:
        return whoosh_index.open_dir(str(path))
    except (whoosh_index.EmptyIndexError, OSError):
        return None


_readers = threading.local()
_KEEP_SEARCHERS = 4


def searcher(settings: Settings) -> Searcher | None:
    """A searcher on the live index's latest commit, or None when there is no index.

    Searchers are kept per thread (they are not thread-safe) and per index folder, and replaced when
    the index has a newer commit.
    """
    path = live_dir(settings)
    if path is None:
        return None
    cache: OrderedDict[str, tuple[Index, Searcher]] = getattr(_readers, "searchers", None) or OrderedDict()
    _readers.searchers = cache
    key = str(path)
    try:
        if key in cache:
            ix, current = cache[key]
            if ix.latest_generation() != current.reader().generation():
                # A commit since: open afresh (Whoosh's Searcher.refresh() can keep stale segments).
                current.close()
                current = ix.searcher()
        else:
            for stale in [other for other in cache if Path(other).parent == path.parent]:
                cache.pop(stale)[1].close()  # an earlier generation of this index (before a rebuild)
            ix = whoosh_index.open_dir(key)
            current = ix.searcher()
    except (whoosh_index.EmptyIndexError, OSError):
        cache.pop(key, None)
        return None
    cache[key] = (ix, current)
    cache.move_to_end(key)
    while len(cache) > _KEEP_SEARCHERS:
        _path, (_ix, old) = cache.popitem(last=False)
        old.close()
    return current


@contextmanager
def writer_lock(settings: Settings, *, wait: float = 0.0) -> Iterator[None]:
    """Hold the index's single-writer lock; raise :class:`LockError` if another writer keeps it ``wait`` s."""
    folder = root(settings)
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / "WRITELOCK"))
    deadline = time.monotonic() + wait
    while not lock.acquire(blocking=False):
        if time.monotonic() >= deadline:
            raise LockError("another process is writing the search index")
        time.sleep(0.05)
    try:
        yield
    finally:
        lock.release()


def writable_index(settings: Settings) -> Index:
    """The live index for writing (created empty on first use). Call with :func:`writer_lock` held."""
    existing = open_index(settings)
    if existing is not None:
        return existing
    path = new_generation(settings)
    created = whoosh_index.create_in(str(path), schema())
    swap_in(settings, path)
    return created


def new_generation(settings: Settings) -> Path:
    folder = root(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"gen-{time.time_ns()}-{os.getpid()}"
    path.mkdir()
    return path


def swap_in(settings: Settings, path: Path) -> None:
    """Make ``path`` the live generation atomically; drop generations older than the previous one."""
    folder = root(settings)
    previous = live_dir(settings)
    if previous is not None and previous.name == "current":
        # A copied "current" folder (see live_dir): make it an ordinary generation so the link can replace it.
        moved = folder / f"gen-{time.time_ns()}-copied"
        os.rename(previous, moved)
        previous = moved
    temporary = folder / f"current.{os.getpid()}.tmp"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    os.symlink(path.name, temporary)
    os.replace(temporary, folder / "current")
    keep = {path.name, previous.name if previous else ""}
    for old in folder.glob("gen-*"):
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
