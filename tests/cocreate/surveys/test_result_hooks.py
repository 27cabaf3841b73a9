"""What survey results give the rest of the platform: the opinion analysis's ``survey`` source, the open
dataset ``survey_results`` and the "download my data" section ``survey_responses``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from cocreate import components
from cocreate.accounts.models import Role
from cocreate.analysis import sources
from cocreate.analysis.sources import Subject
from cocreate.errors import NotFound
from cocreate.permissions import can
from cocreate.surveys import results
from tests.cocreate.surveys.builders import answer, build_survey
from tests.factories import actor, create_challenge, create_department, create_user

pytestmark = pytest.mark.databases("sqlite", why="reads over the ORM; SQL is portable")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    results.forget()


def test_the_survey_opinion_source_reads_analysable_free_texts_only(session: Session) -> None:
    department = create_department(session)
    challenge = create_challenge(session, department)
    built = build_survey(session, department_id=department.id, target_type="challenge", target_id=challenge.id)
    answer(session, built, single="safety", text="公園が暗い")
    answer(session, built, text="バスが少ない")
    answer(session, built, single="children")
    source = sources.source("survey")
    subject = source.subject(session, built.survey.id, None, None)
    assert subject.department_ids == (department.id,) and subject.page_route == "survey-results"
    opinions = source.texts(session, subject)
    assert sorted(o.text for o in opinions) == ["バスが少ない", "公園が暗い"]
    assert all(o.ref.startswith("survey_answer:") for o in opinions)
    refs = {o.ref for o in opinions}
    assert source.still_public(session, refs | {"comment:1", "survey_answer:999999"}) == refs
    # A question the staff marked not to be analysed leaves it.
    built.text.analysable = False
    session.add(built.text)
    session.flush()
    assert source.texts(session, subject) == [] and source.still_public(session, refs) == set()
    # Drafts are no subject; the survey's own staff may analyse it, others not.
    built.survey.published_at = None
    session.flush()
    with pytest.raises(NotFound):
        source.subject(session, built.survey.id, None, None)
    staff = create_user(session, "staff@example.jp", roles=[(Role.STAFF, department.id)])
    other = create_user(session, "other@example.jp",
                        roles=[(Role.STAFF, create_department(session, "x-dept", division_ja="総務部").id)])
    target = Subject("survey", built.survey.id, "", (department.id,))
    assert can(actor(session, staff), "analysis.run", target)
    assert not can(actor(session, other), "analysis.run", target)
    # A site-wide survey is any ward staff's to analyse.
    site_wide = build_survey(session, department_id=department.id, title="全体の調査")
    assert source.subject(session, site_wide.survey.id, None, None).department_ids is None


def test_the_open_dataset_counts_closed_public_surveys_only(session: Session) -> None:
    closed = build_survey(session)
    answer(session, closed, single="safety", multiple=("bus",), scale=4, matrix={"row_green": "good"},
           text="秘密の自由記述 planted-free-text")
    answer(session, closed, single="safety", scale=2)
    still_open = build_survey(session, closed=False, title="開いている調査 planted-open")
    answer(session, still_open, single="health")
    private = build_survey(session, results_public=False, title="非公開 planted-private")
    answer(session, private, single="health")
    draft = build_survey(session, title="下書き planted-draft")
    draft.survey.published_at = None
    session.add(draft.survey)
    session.flush()
    dataset = next(d for d in components.datasets() if d.name == "survey_results")
    rows = list(dataset.rows(session))
    names = [c.name for c in dataset.columns]
    assert all(set(row) == set(names) for row in rows)
    assert {row["survey_id"] for row in rows} == {closed.survey.id}
    text = repr(rows)
    for planted in ("planted-free-text", "planted-open", "planted-private", "planted-draft", "秘密"):
        assert planted not in text
    single = [(r["answer"], r["count"], r["share"]) for r in rows if r["question_number"] == 1]
    assert single == [("安全・安心", 2, 100.0), ("子育て・教育", 0, 0.0), ("健康・福祉", 0, 0.0)]
    matrix = [(r["statement"], r["answer"], r["count"]) for r in rows if r["question_number"] == 4]
    assert matrix == [("治安", "満足", 0), ("治安", "不満", 0), ("緑", "満足", 1), ("緑", "不満", 0)]
    free = [r for r in rows if r["question_number"] == 5]
    assert [(r["answer"], r["count"]) for r in free] == [("", 1)]
    assert rows[0]["closed_on"] == (closed.survey.closes_at + timedelta(hours=9)).date()
    assert rows[0]["responses"] == 2


def test_dataset_is_empty_without_surveys(session: Session) -> None:
    dataset = next(d for d in components.datasets() if d.name == "survey_results")
    assert list(dataset.rows(session)) == []


def test_download_my_data_has_ones_own_answers_found_by_key(session: Session, settings, people) -> None:
    from cocreate.accounts import self_service
    from cocreate.surveys import services
    from tests.cocreate.surveys.conftest import build_survey as build_with_services
    from tests.cocreate.surveys.conftest import full_answers

    staff = people.as_(session, people.staff)
    anonymous_id, q = build_with_services(session, staff, anonymous=True)
    services.submit_response(session, settings, people.as_(session, people.resident), anonymous_id,
                             full_answers(q, text="花子の意見"))
    services.submit_response(session, settings, people.as_(session, people.second), anonymous_id,
                             full_answers(q, text="太郎の意見"))
    services.enter_desk_response(session, people.as_(session, people.desk), anonymous_id, full_answers(q, text="紙の意見"),
                                 "paper", True, "")
    data = self_service.export_data(session, people.as_(session, people.resident))
    mine = data["survey_responses"]
    assert len(mine) == 1 and mine[0]["survey_id"] == anonymous_id and mine[0]["channel"] == "online"
    texts = [a["text"] for a in mine[0]["answers"] if a["text"]]
    assert texts == ["花子の意見"]
    choices = {(a["question"], a["statement"], a["choice"]) for a in mine[0]["answers"] if a["choice"]}
    assert ("公園を利用しますか", None, "はい") in choices and ("設備の評価", "ベンチ", "良い") in choices
    assert [a["number"] for a in mine[0]["answers"] if a["number"] is not None] == [4]
    # Nothing of anyone else's, nor of the desk's entry; the desk member's own download has none either.
    assert "太郎の意見" not in repr(data) and "紙の意見" not in repr(data)
    assert self_service.export_data(session, people.as_(session, people.desk))["survey_responses"] == []


def test_staff_start_an_analysis_of_a_surveys_free_texts(session: Session) -> None:
    from cocreate.accounts.permissions import Forbidden
    from cocreate.analysis import services as analysis
    from cocreate.tasks.queue import diverted

    department = create_department(session)
    challenge = create_challenge(session, department)
    built = build_survey(session, department_id=department.id, target_type="challenge", target_id=challenge.id)
    for text in ("公園が暗くて夜は怖い", "公園の照明を増やしてほしい", "バスの本数が少ない", "バス停に屋根がほしい"):
        answer(session, built, text=text)
    staff = create_user(session, "staff@example.jp", roles=[(Role.STAFF, department.id)])
    resident = create_user(session, "resident@example.jp")
    with pytest.raises(Forbidden):
        analysis.start(session, actor(session, resident), "survey", built.survey.id)
    sent: list[object] = []
    with diverted(lambda name, args, _kwargs, _queue: sent.append(name)):
        run = analysis.start(session, actor(session, staff), "survey", built.survey.id)
    assert run.source == "survey" and run.title == built.survey.title and sent == [analysis.TASK]
    subject = sources.source("survey").subject(session, built.survey.id, None, None)
    assert len(sources.source("survey").texts(session, subject)) == 4
