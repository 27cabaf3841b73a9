"""The statistics' refresh runs in a real Celery worker: sent when staff ask (after the commit), it stores both
snapshots, which the page then reads."""

from __future__ import annotations

import json

import pytest

from cocreate import components
from cocreate.db import Database
from cocreate.settings import Settings
from cocreate.stats import snapshot
from cocreate.stats.models import StatsSnapshot
from cocreate.tasks import configure_celery
from tests.factories import actor, create_ward
from tests.servers import Worker, wait_until

pytestmark = [pytest.mark.databases("sqlite", why="a real worker; the aggregates run on both backends elsewhere"),
              pytest.mark.worker]


def test_the_refresh_runs_in_a_real_worker(smtp_worker_settings: tuple[Settings, Worker], database: Database) -> None:
    worker_settings, worker = smtp_worker_settings
    configure_celery(worker_settings)
    with database.session() as session:
        ward = create_ward(session, phase="voting")
        assert session.get(StatsSnapshot, "public") is None
        snapshot.request_refresh(session, actor(session, ward.staff))

    def stored() -> dict[str, StatsSnapshot] | None:
        with database.session() as session:
            rows = {scope: session.get(StatsSnapshot, scope) for scope in (snapshot.PUBLIC, snapshot.STAFF)}
            return rows if all(rows.values()) else None  # type: ignore[return-value]

    try:
        rows = wait_until(stored, 120, "the worker stored the statistics")
    except AssertionError:
        raise AssertionError(worker.log()[-4000:]) from None
    public = json.loads(rows[snapshot.PUBLIC].data)
    assert public["staff"] is False and json.loads(rows[snapshot.STAFF].data)["staff"] is True
    assert public["funnel"]["challenges"] == 1 and public["funnel"]["proposals"] == 1
    assert public["monthly"]["accounts"][-1] == 6


def test_the_refresh_is_on_the_beat_schedule() -> None:
    schedule = components.beat_schedule()
    assert any(entry["task"] == snapshot.TASK for entry in schedule.values())
