"""Tasks of notifications: deliver the e-mails of one event, and the daily digests."""

from __future__ import annotations

from cocreate.notifications import digests, services
from cocreate.tasks.app import celery_app, task_database, task_settings


@celery_app.task(
    name=services.SEND_TASK,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def send_emails(event_key: str, email_ids: list[int]) -> int:
    """Send the outbox e-mails of event ``event_key``; a retried or duplicated task sends none twice."""
    return services.send_emails(task_database(), task_settings(), email_ids)


@celery_app.task(name=digests.SCHEDULE_TASK)
def schedule_digests() -> int:
    """Beat, every morning: one task per chunk of users with something new (see digests.schedule)."""
    return digests.schedule(task_database(), task_settings())


@celery_app.task(
    name=digests.SEND_TASK,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def send_digests(period: str, cutoff: str, user_ids: list[int]) -> int:
    """Write and send one chunk's digests; a retried or duplicated task sends nothing twice."""
    return digests.send_chunk(task_database(), task_settings(), period, cutoff, user_ids)
