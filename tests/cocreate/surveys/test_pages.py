"""Survey pages over HTTP: staff build and publish through the builder's forms, residents answer and change
their answers, the desk enters paper answers; bad input is a form error (400), never a 500; pages show
what each person may do and ask a bounded number of queries."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, select

from cocreate.db import Database
from cocreate.surveys import services
from cocreate.surveys.models import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
from tests.cocreate.surveys.conftest import People, build_survey, full_answers, option_id
from tests.factories import create_challenge, sign_in
from tests.helpers import assert_no_live_markup, count_queries, csrf_token

pytestmark = pytest.mark.databases("sqlite", why="pages and forms; the rules are Python")


def _post(client: TestClient[Litestar], path: str, data: dict[str, object]) -> object:
    return client.post(path, data={**data, "_csrf_token": csrf_token(client)}, follow_redirects=False)


def test_staff_build_publish_and_close_a_survey_through_the_forms(client: TestClient[Litestar], session: Session,
                                                                   people: People) -> None:
    sign_in(client, people.staff)
    assert client.get("/staff/surveys").status_code == 200
    assert client.get("/staff/surveys/new").status_code == 200
    bad = _post(client, "/staff/surveys/new", {"title": "", "closes_at": "not a date"})
    assert bad.status_code == 400 and "field-title-error" in bad.text
    created = _post(client, "/staff/surveys/new", {"title": "公園アンケート", "anonymous": "yes",
                                                   "closes_at": "2099-01-01T10:00"})
    assert created.status_code == 303
    survey_id = int(re.search(r"/staff/surveys/(\d+)", created.headers["location"]).group(1))  # type: ignore[union-attr]
    base = f"/staff/surveys/{survey_id}"
    refused = _post(client, f"{base}/questions", {"question_kind": "single", "question_prompt": "使いますか",
                                                  "question_options": "はい"})
    assert refused.status_code == 400 and "field-question_options-error" in refused.text
    assert _post(client, f"{base}/questions", {"question_kind": "single", "question_prompt": "使いますか",
                                               "question_options": "はい\nいいえ", "question_required": "yes"}
                 ).status_code == 303
    question = session.exec(select(SurveyQuestion).where(SurveyQuestion.survey_id == survey_id)).one()
    page = client.get(base)
    assert page.status_code == 200 and "使いますか" in page.text and 'id="survey-publish"' in page.text
    assert f'id="question-{question.id}-up"' in page.text and f'id="question-{question.id}-delete"' in page.text
    assert _post(client, f"{base}/questions", {"question_kind": "text", "question_prompt": "ご意見"}).status_code == 303
    assert _post(client, f"{base}/questions/{question.id}/move", {"direction": "down"}).status_code == 303
    prompts = session.exec(select(SurveyQuestion.prompt).where(SurveyQuestion.survey_id == survey_id)
                           .order_by(SurveyQuestion.position)).all()
    assert prompts == ["ご意見", "使いますか"]
    extra = session.exec(select(SurveyQuestion).where(SurveyQuestion.prompt == "ご意見")).one()
    assert _post(client, f"{base}/questions/{extra.id}/delete", {}).status_code == 303
    section = _post(client, f"{base}/sections", {"section_title": "利用者へ", "section_show_if_option_id": "999999"})
    assert section.status_code == 400 and "field-section_show_if_option_id-error" in section.text
    assert client.get(f"{base}/preview").status_code == 200
    assert client.get(f"{base}/questions/{question.id}").status_code == 200
    assert _post(client, f"{base}/publish", {}).status_code == 303
    page = client.get(base)
    assert 'id="survey-frozen"' in page.text and 'id="question-form"' not in page.text
    frozen = _post(client, f"{base}/questions/{question.id}", {"question_kind": "text", "question_prompt": "x"})
    assert frozen.status_code == 400
    assert _post(client, f"{base}/close", {}).status_code == 303
    session.expire_all()
    assert session.get(Survey, survey_id).closed_at is not None  # type: ignore[union-attr]


def test_a_resident_answers_and_changes_answers(client: TestClient[Litestar], session: Session, people: People,
                                                app: Litestar) -> None:
    sid, q = build_survey(session, people.as_(session, people.staff))
    page = client.get(f"/surveys/{sid}")
    assert page.status_code == 200 and 'id="survey-sign-in"' in page.text and 'id="survey-form"' not in page.text
    sign_in(client, people.resident)
    page = client.get(f"/surveys/{sid}")
    assert 'id="survey-form"' in page.text and f'data-show-if="{option_id(q["uses"], "はい")}"' in page.text
    missing = _post(client, f"/surveys/{sid}", {})
    assert missing.status_code == 400 and f'field-{q["uses"].name}-error' in missing.text
    assert "公園を利用しますか：" in missing.text  # the error summary names the question
    answers = full_answers(q)
    assert _post(client, f"/surveys/{sid}", answers).status_code == 303
    page = client.get(f"/surveys/{sid}")
    assert 'id="survey-own"' in page.text and "トイレを増やしてほしい" in page.text
    answers[q["more"].name] = "ベンチ"
    assert _post(client, f"/surveys/{sid}", answers).status_code == 303
    assert len(session.exec(select(SurveyResponse)).all()) == 1
    # 「いいえ」: the section for users is left out, and the page says so.
    answers = full_answers(q, uses="いいえ")
    response = _post(client, f"/surveys/{sid}", answers)
    assert response.status_code == 303
    shown = client.get(response.headers["location"])  # type: ignore[attr-defined]
    assert "利用者のかたへ" in shown.text
    texts = session.exec(select(SurveyAnswer.text).where(SurveyAnswer.text != "")).all()
    assert texts == []


def test_the_desk_enters_a_paper_answer(client: TestClient[Litestar], session: Session, people: People) -> None:
    sid, q = build_survey(session, people.as_(session, people.staff))
    sign_in(client, people.desk)
    desk = client.get("/desk")
    assert 'id="desk-surveys-link"' in desk.text
    listing = client.get("/desk/surveys")
    assert f'id="desk-survey-{sid}"' in listing.text
    assert client.get(f"/desk/surveys/{sid}").status_code == 200
    refused = _post(client, f"/desk/surveys/{sid}", full_answers(q))
    assert refused.status_code == 400 and "field-consent-error" in refused.text
    done = _post(client, f"/desk/surveys/{sid}", {**full_answers(q), "channel": "paper", "consent": "yes",
                                                 "desk_note": "用紙12"})
    assert done.status_code == 303
    row = session.exec(select(SurveyResponse)).one()
    assert (row.channel, row.desk_note, row.respondent_key) == ("paper", "用紙12", None)


def test_the_challenge_page_lists_its_surveys(client: TestClient[Litestar], session: Session,
                                              people: People) -> None:
    challenge = create_challenge(session, people.department)
    sid, _q = build_survey(session, people.as_(session, people.staff), target_type="challenge",
                           target_id=challenge.id)
    page = client.get(f"/challenges/{challenge.id}")
    assert 'id="target-surveys-link"' in page.text and "target-survey-new" not in page.text
    listed = client.get(f"/surveys?target=challenge&target_id={challenge.id}")  # what the link (and htmx) loads
    assert listed.status_code == 200 and f'href="/surveys/{sid}"' in listed.text
    assert 'id="target-surveys-list"' in listed.text
    assert client.get("/surveys?target=nothing&target_id=1").status_code == 200  # the whole list instead
    sign_in(client, people.staff)
    page = client.get(f"/challenges/{challenge.id}")
    assert 'id="target-survey-new"' in page.text
    listing = client.get("/surveys")
    assert f'id="survey-{sid}"' in listing.text


def test_the_trial_page_lists_its_surveys(client: TestClient[Litestar], session: Session, people: People) -> None:
    from labs.models import Trial

    trial = Trial(title="自動運転バス実証", department_id=people.department.id, published=True)
    session.add(trial)
    session.commit()
    sid, _q = build_survey(session, people.as_(session, people.staff), target_type="trial", target_id=trial.id,
                           stage="before")
    assert session.get(Survey, sid).stage == "before"  # type: ignore[union-attr]
    page = client.get(f"/trials/{trial.id}")
    assert page.status_code == 200 and f'href="/surveys/{sid}"' in page.text
    sign_in(client, people.other_staff)  # not of the trial's department: no "create a survey"
    assert 'id="target-survey-new"' not in client.get(f"/trials/{trial.id}").text


def test_pages_ask_a_bounded_number_of_queries(client: TestClient[Litestar], session: Session, people: People,
                                               database: Database) -> None:
    challenge = create_challenge(session, people.department)
    staff = people.as_(session, people.staff)
    for _ in range(3):
        build_survey(session, staff, target_type="challenge", target_id=challenge.id)
    sid, _q = build_survey(session, staff)
    counts = {}
    for path in ("/surveys", f"/surveys/{sid}"):
        client.get(path)
        with count_queries(database.engine) as log:
            assert client.get(path).status_code == 200
        counts[path] = log.count
    for _ in range(5):
        build_survey(session, staff, target_type="challenge", target_id=challenge.id)
    with count_queries(database.engine) as log:
        client.get("/surveys")
    assert log.count == counts["/surveys"]  # more surveys, no more queries
    assert counts[f"/surveys/{sid}"] <= 12


def _line(payload: str, limit: int) -> str:
    return " ".join(payload.split())[:limit].strip() or "x"


def test_hostile_text_in_every_field_is_shown_as_text(client: TestClient[Litestar], session: Session,
                                                      people: People, xss_payloads: list[str]) -> None:
    """Every text field of a survey (title, description, section, prompt, help, choices, matrix rows, scale
    labels, a free-text answer, the desk's note) holding each hostile string: stored as typed (or refused as a
    form error), and every page shows it as text, never as markup or a script link."""
    staff = people.as_(session, people.staff)
    sign_in(client, people.admin)  # the admin sees the builder, the preview and the desk's form
    payloads = [p for p in xss_payloads if p.strip()]
    for index in range(0, len(payloads), 8):
        chunk = payloads[index:index + 8]
        joined = " ".join(chunk)
        try:
            survey = services.create_survey(session, staff, services.SurveyDetails(
                title=_line(joined, 200), description="\n".join(chunk)))
        except Exception as failed:
            assert type(failed).__name__ == "Invalid"
            continue
        sid = survey.id
        assert sid is not None
        services.add_section(session, staff, sid, services.SectionDetails(title=_line(chunk[0], 200),
                                                                          description=joined[:10000]))
        labels = list(dict.fromkeys(_line(p, 300) for p in chunk))
        options = "\n".join(labels if len(labels) > 1 else [*labels, "いいえ"])
        single = services.add_question(session, staff, sid, services.QuestionDetails(
            kind="single", prompt=_line(joined, 500), help_text=joined[:1000], options=options))
        services.add_question(session, staff, sid, services.QuestionDetails(
            kind="matrix", prompt=_line(chunk[-1], 500), options=options, rows=options))
        services.add_question(session, staff, sid, services.QuestionDetails(
            kind="scale", prompt="満足度", scale_min_label=_line(chunk[0], 100), scale_max_label=_line(chunk[-1], 100)))
        text = services.add_question(session, staff, sid, services.QuestionDetails(kind="text", prompt="ご意見"))
        services.publish(session, staff, sid)
        answer = _post(client, f"/surveys/{sid}", {f"q{text.id}": joined[:2000]})
        assert answer.status_code in (303, 400)
        desk = _post(client, f"/desk/surveys/{sid}", {f"q{text.id}": joined[:2000], "channel": "paper",
                                                      "consent": "yes", "desk_note": _line(joined, 200)})
        assert desk.status_code in (303, 400)
        assert single.id is not None
        for path in (f"/surveys/{sid}", f"/staff/surveys/{sid}", f"/staff/surveys/{sid}/preview",
                     f"/staff/surveys/{sid}/questions/{single.id}", f"/desk/surveys/{sid}", "/surveys",
                     "/staff/surveys"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert_no_live_markup(page.text)
    stored = session.exec(select(SurveyAnswer.text).where(SurveyAnswer.text != "")).all()
    assert any("<" in text for text in stored)  # stored as typed, shown escaped


@pytest.mark.parametrize(("person", "page"), [
    (None, "/surveys"),
    (None, "/surveys/{survey}"),
    ("resident", "/surveys/{survey}"),
    ("staff", "/staff/surveys"),
    ("staff", "/staff/surveys/new"),
    ("staff", "/staff/surveys/{survey}"),
    ("staff", "/staff/surveys/{draft}"),
    ("staff", "/staff/surveys/{draft}/preview"),
    ("desk", "/desk/surveys"),
    ("desk", "/desk/surveys/{survey}"),
])
def test_every_same_site_link_of_a_survey_page_answers(client: TestClient[Litestar], app: Litestar,
                                                        session: Session, people: People, person: str | None,
                                                        page: str) -> None:
    from tests.cocreate.web.test_links import assert_links_answer

    challenge = create_challenge(session, people.department)
    sid, _q = build_survey(session, people.as_(session, people.staff), target_type="challenge",
                           target_id=challenge.id)
    draft, _dq = build_survey(session, people.as_(session, people.staff), publish=False)
    if person is not None:
        sign_in(client, getattr(people, person))
    assert_links_answer(client, app, page.format(survey=sid, draft=draft))
