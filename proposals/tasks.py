"""Background jobs of the proposals component."""

from __future__ import annotations

from cocreate.tasks.app import celery_app, task_database
from proposals import lifecycle

BEAT_SCHEDULE = {
    "advance-challenge-phases": {"task": "proposals.advance_phases", "schedule": 60.0},
}


@celery_app.task(name="proposals.advance_phases")
def advance_phases() -> int:
    """Move challenges whose next phase date has passed; returns how many moved."""
    with task_database().session() as session:
        return len(lifecycle.advance_due(session))
