"""Tasks of the core."""

from __future__ import annotations

from datetime import timedelta

from celery.schedules import crontab

from cocreate import mail
from cocreate.tasks import heartbeat
from cocreate.tasks.app import celery_app, task_database, task_settings
from cocreate.web import sessions

BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "cocreate.heartbeat", "schedule": 60.0, "args": ("beat",)},
    "resend-stuck-emails": {"task": "cocreate.resend_stuck_emails", "schedule": 300.0},
    "purge-expired-sessions": {"task": "cocreate.purge_expired_sessions", "schedule": 3600.0},
    # Drains the search outbox when its task was lost (cocreate/search/tasks.py).
    "search-sweep-outbox": {"task": "cocreate.search.sweep", "schedule": 180.0},
    # The daily notification digests, at 07:00 in the app's timezone (Asia/Tokyo).
    "notification-digests": {"task": "cocreate.notifications.schedule_digests", "schedule": crontab(hour=7, minute=0)},
}


@celery_app.task(name="cocreate.heartbeat")
def record_heartbeat(source: str) -> None:
    """Record that a worker ran a task for ``source`` (beat's schedule, or a check)."""
    with task_database().transaction() as session:
        heartbeat.record(session, source)


@celery_app.task(
    name="cocreate.deliver_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def deliver_email(email_id: int) -> None:
    """Send one queued e-mail; a retried or duplicated task does not send it twice."""
    mail.deliver(task_database(), task_settings(), email_id)


@celery_app.task(name="cocreate.resend_stuck_emails")
def resend_stuck_emails() -> int:
    """Re-enqueue e-mails whose delivery task was lost (e.g. the broker was down at commit)."""
    with task_database().transaction() as session:
        return mail.requeue_stuck(session, older_than=timedelta(minutes=10))


@celery_app.task(name="cocreate.purge_expired_sessions")
def purge_expired_sessions() -> int:
    with task_database().transaction() as session:
        return sessions.purge_expired(session)
