"""Units of work: a service's writes are committed together when it returns, and rolled back together
when it raises (a domain error from :mod:`cocreate.errors` or anything else).

Services are decorated with :func:`transactional` (or open :func:`unit_of_work` on the session they are
given) and never call ``rollback()`` themselves: raising is how they refuse. A service called from
another runs in a savepoint of the caller's unit of work; only the outermost one commits. This module
is the one place where sessions are rolled back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Concatenate, ParamSpec, TypeVar

from sqlmodel import Session

DEPTH = "cocreate.unit_of_work.depth"

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """Commit on leaving the block normally, roll back on any exception (then re-raise it).

    A block inside another on the same session is a savepoint: its exception undoes its own writes
    only, and the outermost block commits everything that was kept."""
    depth = session.info.get(DEPTH, 0)
    session.info[DEPTH] = depth + 1
    try:
        if depth:
            with session.begin_nested():
                yield session
            return
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()
    finally:
        session.info[DEPTH] = depth


def transactional(service: Callable[Concatenate[Session, P], R]) -> Callable[Concatenate[Session, P], R]:
    """Run a service (its first argument is the session) in a unit of work."""

    @functools.wraps(service)
    def run(session: Session, *args: P.args, **kwargs: P.kwargs) -> R:
        with unit_of_work(session):
            return service(session, *args, **kwargs)

    return run

