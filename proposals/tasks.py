"""Background jobs of the proposals component."""

from __future__ import annotations

from cocreate.tasks.app import celery_app, task_database, task_settings
from proposals.challenges import lifecycle

BEAT_SCHEDULE = {
    "advance-challenge-phases": {"task": "proposals.advance_phases", "schedule": 60.0},
}


@celery_app.task(name="proposals.advance_phases")
def advance_phases() -> int:
    """Move challenges whose next phase date has passed; returns how many moved."""
    with task_database().session() as session:
        return len(lifecycle.advance_due(session))


@celery_app.task(name="proposals.notify_event", bind=True, max_retries=5, default_retry_delay=30)
def notify_event(self, event: str, object_id: int, actor_id: int | None = None,  # type: ignore[no-untyped-def]
                 related_id: int | None = None) -> int:
    """Tell the followers about one event (:mod:`proposals.events`); safe to retry (nobody is told twice)."""
    from proposals import events

    try:
        with task_database().session() as session:
            return events.run(session, task_settings(), event, object_id, actor_id, related_id)
    except Exception as error:  # a database or broker hiccup: try again later
        raise self.retry(exc=error) from error
