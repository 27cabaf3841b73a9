"""Enqueue Celery tasks after the database transaction commits, never before.

A task sent before commit can run before its data is visible, or for data that is then rolled
back. ``enqueue`` parks the call on the session; the session's ``after_commit`` event sends it and
a rollback drops it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from celery import Task
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from cocreate.tasks.app import celery_app

log = logging.getLogger(__name__)

_PENDING = "cocreate.pending_tasks"
_PLAIN = (str, int, float, bool, type(None))

Sink = Callable[[str, tuple[Any, ...], dict[str, Any], str | None], None]
"""Takes ``(name, args, kwargs, queue)`` of a task whose transaction committed."""
_sink: ContextVar[Sink | None] = ContextVar("cocreate_task_sink", default=None)


@contextmanager
def diverted(sink: Sink) -> Iterator[None]:
    """Hand the tasks committed in this context to ``sink`` instead of the broker.

    For demo content (:mod:`cocreate.demo_playback`), which runs the follow-up work of each action in
    process, at the moment the action happened, rather than leaving it to a worker that runs later.
    """
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


def _check_plain(value: Any) -> None:
    if isinstance(value, _PLAIN):
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_plain(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_plain(key)
            _check_plain(item)
        return
    raise TypeError(f"task arguments must be ids and plain values, not {type(value).__name__}")


def enqueue(session: Session, task: Task | str, *args: Any, queue: str | None = None, **kwargs: Any) -> None:
    """Send ``task(*args, **kwargs)`` once ``session`` commits."""
    _check_plain(args)
    _check_plain(kwargs)
    name = task if isinstance(task, str) else task.name
    if not session.in_transaction():
        # Tie the task to a transaction even before any SQL ran, so that a rollback drops it.
        # (A SessionTransaction connects lazily: no database round trip here.)
        session.begin()
    session.info.setdefault(_PENDING, []).append((name, args, kwargs, queue))


def pending(session: Session) -> list[tuple[str, tuple[Any, ...], dict[str, Any], str | None]]:
    """Tasks waiting for this session's commit (for tests and diagnostics)."""
    return list(session.info.get(_PENDING, []))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    sink = _sink.get()
    for name, args, kwargs, queue in session.info.pop(_PENDING, []):
        if sink is not None:
            sink(name, args, kwargs, queue)
            continue
        options = {"queue": queue} if queue else {}
        try:
            celery_app.send_task(name, args=args, kwargs=kwargs, **options)
        except Exception:
            # The data is committed; sweepers (e.g. the outbound e-mail resend job) pick up
            # work whose task never reached the broker.
            log.exception("could not send task %s after commit", name)


@event.listens_for(Session, "after_transaction_end")
def _drop_on_rollback(session: Session, transaction: SessionTransaction) -> None:
    # after_commit has already popped the list when the outermost transaction committed; if it
    # is still here when the outermost transaction ends, that transaction was rolled back.
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_PENDING, None)
