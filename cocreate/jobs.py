"""The core's background jobs (e-mail delivery, heartbeats, session and throttle purges) and the beat schedule."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery.schedules import crontab
from celery.signals import worker_ready

from cocreate import mail
from cocreate.tasks import heartbeat
from cocreate.tasks.app import celery_app, task_database, task_settings
from cocreate.web import ratelimit, sessions

log = logging.getLogger(__name__)

BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "cocreate.heartbeat", "schedule": 60.0, "args": ("beat",)},
    "resend-stuck-emails": {"task": "cocreate.resend_stuck_emails", "schedule": 300.0},
    "purge-expired-sessions": {"task": "cocreate.purge_expired_sessions", "schedule": 3600.0},
    # Drains the search outbox when its task was lost (cocreate/search/tasks.py).
    "search-sweep-outbox": {"task": "cocreate.search.sweep", "schedule": 180.0},
    # The daily notification digests, at 07:00 in the app's timezone (Asia/Tokyo).
    # Signs the audit log's length and head (cocreate/audit/checkpoints.py); a no-op when unchanged.
    # The embedded mail folder keeps copies of what was sent to people: not for ever (cocreate/mail.py).
    "prune-mail-folder": {"task": "cocreate.prune_mail_folder", "schedule": crontab(hour=3, minute=30)},
    # Sign-in throttle rows and e-mail quotas that count nothing any more, with the addresses in their
    # keys (cocreate/accounts/throttle.py).
    "expire-throttles": {"task": "cocreate.expire_throttles", "schedule": crontab(hour=3, minute=40)},
    # "Download my data" zips whose links have expired are deleted (cocreate/accounts/data_export.py).
    "expire-data-exports": {"task": "cocreate.accounts.expire_data_exports", "schedule": 3600.0},
    "audit-checkpoint": {"task": "cocreate.audit.checkpoint", "schedule": 3600.0},
    "notification-digests": {"task": "cocreate.notifications.schedule_digests", "schedule": crontab(hour=7, minute=0)},
    # The open data files (cocreate/opendata/generate.py), once a day before the ward's working day.
    "open-data": {"task": "cocreate.opendata.generate", "schedule": crontab(hour=4, minute=15)},
    # The statistics pages' snapshots (cocreate/stats/): recomputed at a quarter past every hour.
    "stats-refresh": {"task": "cocreate.stats.refresh", "schedule": crontab(minute=15)},
}


@celery_app.task(name="cocreate.heartbeat")
def record_heartbeat(source: str) -> None:
    """Record that a worker ran a task for ``source`` (beat's schedule, or a check)."""
    with task_database().transaction() as session:
        heartbeat.record(session, source)


@celery_app.task(name="cocreate.prune_mail_folder")
def prune_mail_folder() -> int:
    """Remove the embedded mail folder's messages older than ``COCREATE_MAIL_FOLDER_DAYS``."""
    settings = task_settings()
    return mail.prune_folder(settings, timedelta(days=settings.mail_folder_days))


@celery_app.task(name="cocreate.expire_throttles")
def expire_throttles() -> int:
    """Delete the sign-in throttle rows whose window has ended and which are not locked, and the e-mail
    quotas whose period has ended; how many rows went."""
    from cocreate.accounts import throttle

    with task_database().transaction() as session:
        return throttle.purge_expired(session)


@celery_app.task(name="cocreate.erase_freed", bind=True, max_retries=20)
def erase_freed(self) -> bool:  # type: ignore[no-untyped-def]
    """Empty SQLite's write-ahead log after a deletion (see :func:`cocreate.db.engine.erase_freed`);
    retried while readers keep it from completing."""
    from cocreate.db.engine import erase_freed as erase

    if not erase(task_database().engine, wait_ms=5000):
        raise self.retry(countdown=30)
    return True


@celery_app.task(name="cocreate.audit.checkpoint")
def audit_checkpoint() -> int | None:
    """Sign a checkpoint of the audit log if it grew, and keep it in the anchor file; its entry count."""
    from cocreate.audit import checkpoints

    settings = task_settings()
    with task_database().transaction() as session:
        checkpoint = checkpoints.make(session, settings)
    if checkpoint is None:
        return None
    checkpoints.write_anchor(settings, checkpoint)
    return checkpoint.entry_count


@celery_app.task(
    name="cocreate.deliver_email",
    bind=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def deliver_email(self, email_id: int) -> None:  # type: ignore[no-untyped-def]
    """Send one queued e-mail; a retried or duplicated task does not send it twice."""
    try:
        mail.deliver(task_database(), task_settings(), email_id)
    except mail.DeliveryUnderWay as under_way:
        # Another delivery holds the claim: look again once it has ended (or lapsed, if it died).
        raise self.retry(countdown=under_way.seconds + 1, max_retries=None) from None


@celery_app.task(name="cocreate.resend_stuck_emails")
def resend_stuck_emails(older_than_seconds: float = 600.0, limit: int = 500) -> int:
    """Re-enqueue e-mails whose delivery task was lost (e.g. the broker was down at commit)."""
    with task_database().transaction() as session:
        return mail.requeue_stuck(session, older_than=timedelta(seconds=older_than_seconds), limit=limit)


RESEND_ON_START_LIMIT = 10_000


@worker_ready.connect
def resend_unsent_emails_on_start(**_kwargs: object) -> None:
    """A worker that starts re-enqueues every unsent e-mail, whatever its age.

    A worker killed outright (SIGKILL, out of memory, power loss) loses the messages it had taken, despite
    ``task_acks_late``: kombu's SQLAlchemy transport (the embedded broker) marks a message invisible when a
    worker takes it and never shows it again, and Redis only after its visibility timeout (an hour). A
    restart is when that happens, so the outbox is swept then; the beat sweep (every five minutes, for
    e-mails older than ten) covers the rest, e.g. a web process killed between its commit and the send.
    """
    try:
        celery_app.send_task("cocreate.resend_stuck_emails",
                             kwargs={"older_than_seconds": 0.0, "limit": RESEND_ON_START_LIMIT})
    except Exception:  # an unreachable broker must not stop the worker from starting; beat sweeps later
        log.exception("could not queue the sweep of unsent e-mails")


@celery_app.task(name="cocreate.purge_expired_sessions")
def purge_expired_sessions() -> int:
    """Delete expired sessions and rate-limit counters (of the database and, on SQLite, of the counters'
    own file; Redis expires its own)."""
    database = task_database()
    with database.transaction() as session:
        purged = sessions.purge_expired(session) + ratelimit.purge_expired(session)
    counters = ratelimit.counter_database(database.settings, database)
    if counters is not database:
        try:
            with counters.transaction() as session:
                purged += ratelimit.purge_expired(session)
        finally:
            counters.dispose()
    return purged
