"""Tasks of the search index: the outbox drain (on the single-writer "search" queue) and its sweeper."""

from __future__ import annotations

from cocreate.search import indexer
from cocreate.search.index import LockError
from cocreate.tasks.app import SEARCH_QUEUE, celery_app, task_database, task_settings


@celery_app.task(
    name=indexer.DRAIN_TASK,
    autoretry_for=(LockError,),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=12,
)
def drain() -> int:
    """Write the outbox's stale documents into the index (sent to the "search" queue, as are retries).

    A rebuild or another writer holding the lock makes this raise LockError: the task is retried later
    and the outbox rows stay until then."""
    return indexer.process_pending(task_database(), task_settings(), wait=1.0)


@celery_app.task(name="cocreate.search.sweep")
def sweep() -> bool:
    """Send a drain when outbox rows have waited over a minute (their task never reached the broker)."""
    with task_database().transaction() as session:
        lost = indexer.lost_work(session)
    if lost:
        celery_app.send_task(indexer.DRAIN_TASK, queue=SEARCH_QUEUE)
    return lost
