"""The generation runs in a real Celery worker: staff ask for it, the task writes the files into the
worker's data folder, and the catalogue lists what the database holds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from cocreate import components
from cocreate.db import Database
from cocreate.opendata import generate as files
from cocreate.opendata import services
from cocreate.settings import Settings
from cocreate.tasks import configure_celery
from tests.factories import actor, create_ward
from tests.servers import Worker, wait_until

pytestmark = [pytest.mark.databases("sqlite", why="a real worker; the datasets' SQL is portable"), pytest.mark.worker]


def test_staff_ask_and_a_real_worker_writes_the_files(smtp_worker_settings: tuple[Settings, Worker],
                                                      database: Database, session: Session) -> None:
    worker_settings, worker = smtp_worker_settings
    configure_celery(worker_settings)
    ward = create_ward(session)
    asked_at = datetime.now(UTC)
    services.request_generation(session, actor(session, ward.staff))

    def generated() -> files.Published | None:
        published = files.current(worker_settings)
        return published if published is not None and published.generated_at >= asked_at.replace(microsecond=0) \
            else None

    try:
        published = wait_until(generated, 120, "the open data files were generated")
    except AssertionError:
        raise AssertionError(worker.log()[-4000:]) from None
    assert set(published.manifest["datasets"]) == {dataset.name for dataset in components.datasets()}
    assert published.manifest["datasets"]["proposals"]["row_count"] == 1
    assert ward.proposal.title in (published.path / "proposals.csv").read_text(encoding="utf-8")
    assert (published.path / files.ZIP).stat().st_size == published.manifest["files"][files.ZIP]["size"]
