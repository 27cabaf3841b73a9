"""Background jobs of comments."""

from __future__ import annotations

from cocreate.comments import events
from cocreate.tasks.app import celery_app, task_database, task_settings


@celery_app.task(name=events.TASK, bind=True, max_retries=5, default_retry_delay=30)
def notify_event(self, event: str, object_id: int, actor_id: int | None = None,  # type: ignore[no-untyped-def]
                 related_id: int | None = None) -> int:
    """Tell the people concerned about one event (:mod:`cocreate.comments.events`); safe to retry (nobody is
    told twice)."""
    try:
        with task_database().session() as session:
            return events.run(session, task_settings(), event, object_id, actor_id, related_id)
    except Exception as error:  # a database or broker hiccup: try again later
        raise self.retry(exc=error) from error
