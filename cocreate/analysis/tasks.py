"""The opinion analysis's Celery task."""

from __future__ import annotations

from cocreate.analysis import services
from cocreate.tasks.app import celery_app, task_database


@celery_app.task(name=services.TASK)
def run_analysis(run_id: int) -> str:
    """Group one run's texts into topics (:func:`cocreate.analysis.services.execute`); idempotent."""
    with task_database().session() as session:
        return services.execute(session, run_id)
