"""Background jobs of the labs component."""

from __future__ import annotations

from cocreate.tasks.app import celery_app, task_database, task_settings
from labs import bookings, events, notices, recruitment

BEAT_SCHEDULE = {
    "complete-finished-bookings": {"task": "labs.complete_finished_bookings", "schedule": 300.0},
    "delete-expired-participant-data": {"task": "labs.delete_expired_participant_data", "schedule": 3600.0},
}

@celery_app.task(name=notices.SEND_NOTICE_TASK, bind=True, max_retries=5, default_retry_delay=30)
def send_booking_notice(self, notice_id: int) -> int:  # type: ignore[no-untyped-def]
    """Tell the subscribers of a booking notice; safe to retry (each subscriber is told once)."""
    try:
        with task_database().session() as session:
            return notices.send(session, task_settings(), notice_id)
    except Exception as error:  # a database or broker hiccup: try again later
        raise self.retry(exc=error) from error


@celery_app.task(name="labs.complete_finished_bookings")
def complete_finished_bookings() -> int:
    """Approved bookings whose last period has ended become completed; returns how many."""
    with task_database().session() as session:
        return bookings.complete_finished(session)


@celery_app.task(name="labs.delete_expired_participant_data")
def delete_expired_participant_data() -> int:
    """Delete recruitment applications of trials past their retention time; returns how many."""
    with task_database().session() as session:
        return recruitment.delete_expired_participant_data(session)


@celery_app.task(name="labs.notify_event", bind=True, max_retries=5, default_retry_delay=30)
def notify_event(self, event: str, object_id: int, actor_id: int | None = None) -> int:  # type: ignore[no-untyped-def]
    """Tell a trial's followers about one event (:mod:`labs.events`); safe to retry (nobody is told twice)."""
    try:
        with task_database().session() as session:
            return events.run(session, task_settings(), event, object_id, actor_id)
    except Exception as error:  # a database or broker hiccup: try again later
        raise self.retry(exc=error) from error
