"""Tasks of notifications: deliver the e-mails of one event."""

from __future__ import annotations

from cocreate.notifications import services
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
