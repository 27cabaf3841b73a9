"""The demo surveys: the closed 「区民ニーズ調査」 with 274 responses (安全・安心 first), some entered by the desk,
loaded quickly, the same every time and once; and the open survey on a challenge."""

from __future__ import annotations

import random
import time

import pytest
from sqlmodel import Session, col, func, select

from cocreate import demo as core_demo
from cocreate.channels import Channel
from cocreate.db import Database
from cocreate.settings import Settings
from cocreate.surveys import demo, results, services
from cocreate.surveys.models import Survey, SurveyAnswer, SurveyResponse
from proposals import demo as proposals_demo

pytestmark = pytest.mark.databases("sqlite", why="demo content goes through the services")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    results.forget()


def _counts(session: Session, survey_id: int) -> tuple[int, ...]:
    return (session.exec(select(func.count()).select_from(SurveyResponse).where(SurveyResponse.survey_id == survey_id)).one(),
            session.exec(select(func.count()).select_from(SurveyAnswer).join(
                SurveyResponse, col(SurveyResponse.id) == SurveyAnswer.response_id)
                .where(SurveyResponse.survey_id == survey_id)).one())


def test_the_needs_survey(database: Database, settings: Settings, session: Session) -> None:
    with database.transaction() as db:
        core_demo.load(db, settings)
    started = time.perf_counter()
    with database.transaction() as db:
        summary = demo.load_needs_survey(db, settings)
    took = time.perf_counter() - started
    assert "added with 274 responses (12 entered by the support desk)" in summary
    assert took < 8, took  # a few seconds at most, even on a busy test machine
    survey = session.exec(select(Survey).where(Survey.title == demo.NEEDS_TITLE)).one()
    assert services.status_of(survey) is services.Status.CLOSED and survey.response_count == 274
    counted = results.results(session, survey)
    assert counted.responses == 274 and counted.desk == 12
    assert dict(counted.by_channel) == {Channel.ONLINE: 262, Channel.PAPER: 9, Channel.WORKSHOP: 3}
    fields, direction, scale, matrix, text = counted.questions
    ranking = [c.label for c in sorted(fields.choices, key=lambda c: -c.count)]
    assert ranking[0] == "安全・安心（防犯・防災）" and ranking[1:3] == ["子育て・教育", "健康・福祉・医療"]
    assert max(direction.choices, key=lambda c: c.count).label == "地域課題の解決を最優先する"
    assert 3.0 < (scale.mean or 0) < 4.0 and len(matrix.rows) == 5 and 60 < text.answered < 160
    # The demo residents' own responses are theirs (found by their key), the desk's nobody's.
    assert session.exec(select(func.count()).select_from(SurveyResponse).where(
        SurveyResponse.survey_id == survey.id, col(SurveyResponse.respondent_key).is_not(None))).one() == 6
    assert session.exec(select(func.count()).select_from(SurveyResponse).where(
        SurveyResponse.survey_id == survey.id, col(SurveyResponse.respondent_id).is_not(None))).one() == 0
    before = _counts(session, survey.id)  # type: ignore[arg-type]
    with database.transaction() as db:
        assert "already there" in demo.load_needs_survey(db, settings)
    assert _counts(session, survey.id) == before  # type: ignore[arg-type]


def test_the_same_answers_every_time(database: Database, settings: Settings, session: Session) -> None:
    with database.transaction() as db:
        core_demo.load(db, settings)
        demo.load_needs_survey(db, settings)
    survey = session.exec(select(Survey).where(Survey.title == demo.NEEDS_TITLE)).one()
    counted = results.results(session, survey)
    # Drawn from a seeded generator: these counts are the demo's, whatever the day it is loaded.
    assert [(c.label, c.count) for c in counted.questions[0].choices] == [
        ("安全・安心（防犯・防災）", 147), ("子育て・教育", 116), ("健康・福祉・医療", 86), ("交通・移動", 77),
        ("環境・エネルギー", 58), ("地域コミュニティ", 54), ("産業・商店街のにぎわい", 35), ("行政手続きのデジタル化", 37)]
    assert [c.count for c in counted.questions[2].scale] == [12, 31, 82, 94, 37]
    assert sum(c.count for c in counted.questions[1].choices) == 274
    # The bulk-written answers are what the services' parser makes of the same answers.
    form = services.load_form(session, survey)
    rng = random.Random(5)
    for _ in range(50):
        answers = demo._answers(rng, form)
        parsed = services.parse_answers(form, answers).rows
        assert demo.answer_rows(form, answers) == [
            {key: value for key, value in (("question_id", a.question_id), ("option_id", a.option_id),
                                           ("row_option_id", a.row_option_id), ("number", a.number),
                                           ("text", a.text)) if value not in (None, "")} for a in parsed]


def test_the_proposals_demo_adds_both_surveys(database: Database, settings: Settings, session: Session) -> None:
    with database.transaction() as db:
        core_demo.load(db, settings)
    with database.transaction() as db:
        summary = proposals_demo.load(db, settings)
    assert "「区民ニーズ調査」 added with 274 responses" in summary
    assert f"「{demo.OPEN_TITLE}」 added (open, 4 responses)" in summary
    survey = session.exec(select(Survey).where(Survey.title == demo.OPEN_TITLE)).one()
    assert survey.target_type == "challenge" and services.status_of(survey) is services.Status.OPEN
    assert survey.response_count == 4
