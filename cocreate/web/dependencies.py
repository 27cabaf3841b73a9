"""Dependencies injected into route handlers of every component."""

from __future__ import annotations

from collections.abc import AsyncIterator

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlmodel import Session

from cocreate.db import Database
from cocreate.settings import Settings

DbSession = NamedDependency[Session]
"""Annotation for route handler parameters named ``db_session``."""

AppSettings = NamedDependency[Settings]
"""Annotation for route handler parameters named ``settings``."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


WRITES = {"writes": True}
"""``opt`` of a GET handler that writes by nature (a confirmation link, a sign-in callback, an audited
export): its request gets a write session like a form post. Declared, never guessed."""


def is_read_only(request: Request) -> bool:
    return request.method in SAFE_METHODS and not request.route_handler.opt.get("writes", False)


async def provide_db_session(request: Request, state: State) -> AsyncIterator[Session]:
    """One session per request, read-only for safe methods (it never takes the SQLite write lock)
    unless the handler declares ``opt=WRITES``.

    Services commit; anything uncommitted is rolled back when the request ends. The generator is
    asynchronous on purpose: Litestar runs a synchronous generator's clean-up in the same thread pool as
    the handlers, so under a burst the clean-up that would release a connection (and the write lock)
    queued behind handlers waiting for that very lock. Closing here runs on the event loop at once.
    A read that must also record something does it in its own short unit of work
    (:func:`cocreate.db.write_apart`).
    """
    database: Database = state.database
    read_only = is_read_only(request)
    session = database.session(read_only=read_only)
    try:
        yield session
    finally:
        if read_only and session.in_transaction() and not (session.new or session.dirty or session.deleted):
            # A read ends the way it began, without writing: commit (as cheap as a rollback) rather than
            # roll back. Where transactions nest (tests run in savepoints), a rollback would also undo
            # what a short write beside this read (write_apart) committed meanwhile.
            session.commit()
        session.close()


def provide_settings(state: State) -> Settings:
    return state.settings
