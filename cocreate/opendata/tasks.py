"""The open data's Celery task: a new generation of the files (:func:`cocreate.opendata.generate.generate`),
daily on the beat schedule (``cocreate.jobs.BEAT_SCHEDULE``) and when staff ask for it (``/open-data``)."""

from __future__ import annotations

from cocreate.opendata import generate as files
from cocreate.tasks.app import celery_app, task_database, task_settings

TASK = "cocreate.opendata.generate"


@celery_app.task(name=TASK)
def generate_open_data() -> int:
    """Write every dataset's files; how many rows were written in all. Idempotent: each run is a new
    generation that replaces the current one whole."""
    published = files.generate(task_database(), task_settings())
    return sum(entry["row_count"] for entry in published.manifest["datasets"].values())
