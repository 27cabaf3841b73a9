"""The Celery app and the rule that tasks are enqueued only after the transaction commits.

Tasks take ids and plain values, never ORM objects: they read current state from the database
themselves, so a retried or delayed task never acts on stale data.
"""

from cocreate.tasks.app import celery_app, configure_celery, task_database
from cocreate.tasks.queue import enqueue

__all__ = ["celery_app", "configure_celery", "enqueue", "task_database"]
