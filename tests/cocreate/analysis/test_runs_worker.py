"""The analysis task runs in a real Celery worker: enqueued on commit, progress recorded, topics stored."""

from __future__ import annotations

import pytest
from sqlmodel import select

from cocreate.analysis import services
from cocreate.analysis.models import AnalysisRun, AnalysisTopic, RunStatus
from cocreate.comments.models import Comment
from cocreate.db import Database
from cocreate.settings import Settings
from cocreate.tasks import configure_celery
from tests.factories import actor, create_ward
from tests.servers import Worker, wait_until

pytestmark = [pytest.mark.databases("sqlite", why="a real worker; the analysis rules are Python"), pytest.mark.worker]

SAID = ["公園のトイレが汚い。清掃してほしい。", "公園の遊具が壊れている。", "公園にベンチを増やして。",
        "バスの本数を増やしてほしい。", "バス停に屋根がほしい。", "夜のバスがなくて困る。"]


def test_the_analysis_runs_in_a_real_worker(smtp_worker_settings: tuple[Settings, Worker],
                                            database: Database) -> None:
    worker_settings, worker = smtp_worker_settings
    configure_celery(worker_settings)
    with database.session() as session:
        ward = create_ward(session, phase="voting")
        for body in SAID:
            session.add(Comment(target_type="challenge", target_id=ward.challenge.id, author_id=ward.resident.id,
                                body=body))
        session.commit()
        run_id = services.start(session, actor(session, ward.staff), "challenge", ward.challenge.id).id

    def finished() -> AnalysisRun | None:
        with database.session() as session:
            run = session.get(AnalysisRun, run_id)
            return run if run is not None and run.status in (RunStatus.DONE, RunStatus.FAILED) else None

    try:
        run = wait_until(finished, 120, "the analysis finished")
    except AssertionError:
        raise AssertionError(worker.log()[-4000:]) from None
    assert run.status is RunStatus.DONE, run.error  # type: ignore[union-attr]
    assert run.progress == 100 and run.text_count == len(SAID)  # type: ignore[union-attr]
    with database.session() as session:
        topics = session.exec(select(AnalysisTopic).where(AnalysisTopic.run_id == run_id)).all()
    assert sum(topic.size for topic in topics) == len(SAID)
