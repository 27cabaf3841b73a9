"""The statistics' Celery task: recompute the snapshots (hourly on the beat schedule, and when staff ask)."""

from __future__ import annotations

from cocreate.stats import snapshot
from cocreate.tasks.app import celery_app, task_database, task_settings


@celery_app.task(name=snapshot.TASK)
def refresh() -> str:
    """Compute and store the public and the staff statistics; when, as ISO time. Idempotent."""
    with task_database().session() as session:
        return snapshot.refresh(session, min_cell=task_settings().stats_min_cell).isoformat()
