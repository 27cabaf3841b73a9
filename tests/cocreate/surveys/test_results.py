"""Survey results: the counts (SQL aggregates in a bounded number of queries, cached once closed), who sees
them (staff while open, everyone after the close when public), the pages, the chart and answer CSVs, the read
API, and that no output of an anonymous survey reveals who answered."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.accounts.models import Role
from cocreate.channels import Channel
from cocreate.db.base import utcnow
from cocreate.surveys import results
from cocreate.surveys.models import Survey
from tests.cocreate.surveys.builders import Built, answer, build_survey
from tests.factories import create_challenge, create_department, create_user, sign_in
from tests.helpers import count_queries

pytestmark = pytest.mark.databases("sqlite", why="aggregates and pages over the ORM; SQL is portable")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    results.forget()


def _three(session: Session, built: Built, desk_user_id: int | None = None) -> None:
    answer(session, built, single="safety", multiple=("parks", "bus"), scale=4,
           matrix={"row_safety": "good", "row_green": "bad"}, text="街灯を増やしてほしい")
    answer(session, built, single="safety", multiple=("bus",), scale=2, matrix={"row_safety": "good"},
           text="歩道が狭い")
    answer(session, built, single="children", scale=5, channel=Channel.PAPER.value, entered_by_id=desk_user_id,
           text="保育園を増やして")


def test_counts_shares_mean_matrix_texts_and_channels(session: Session) -> None:
    built = build_survey(session)
    _three(session, built)
    counted = results.results(session, built.survey)
    assert counted.responses == 3 and counted.desk == 1
    assert counted.by_channel == ((Channel.ONLINE, 2), (Channel.PAPER, 1))
    single, multiple, scale, matrix, text = counted.questions
    assert [(c.label, c.count) for c in single.choices] == [("安全・安心", 2), ("子育て・教育", 1), ("健康・福祉", 0)]
    assert round(single.choices[0].share, 1) == 66.7 and single.answered == 3
    assert multiple.answered == 2 and [(c.count, c.share) for c in multiple.choices] == [(1, 50.0), (2, 100.0),
                                                                                         (0, 0.0)]
    assert [c.count for c in scale.scale] == [0, 1, 0, 1, 1] and scale.mean == pytest.approx(11 / 3)
    assert [(r.label, r.answered, [c.count for c in r.counts]) for r in matrix.rows] == [
        ("治安", 2, [2, 0]), ("緑", 1, [0, 1])]
    assert text.answered == 3 and text.texts == tuple(sorted(["街灯を増やしてほしい", "歩道が狭い", "保育園を増やして"]))
    chart = matrix.chart()
    assert chart is not None and chart.kind == "stacked" and chart.rows() == [["治安", "2", "0"], ["緑", "0", "1"]]
    assert scale.chart().kind == "bar" and single.chart().kind == "hbar" and text.chart() is None
    paper = results.results(session, built.survey, Channel.PAPER)
    assert paper.responses == 1 and [c.count for c in paper.questions[0].choices] == [0, 1, 0]


def test_a_bounded_number_of_queries_and_the_cache_of_a_closed_survey(session: Session) -> None:
    built = build_survey(session)
    for index in range(40):
        answer(session, built, single=("safety", "children", "health")[index % 3], multiple=("parks",),
               scale=1 + index % 5, matrix={"row_safety": "good", "row_green": "bad"}, text=f"意見{index}")
    survey_id = built.survey.id
    session.expire_all()
    survey = session.get(Survey, survey_id)
    engine = session.get_bind()
    with count_queries(engine) as log:
        first = results.results(session, survey)
    assert len(log.statements) <= results.QUERIES - 1, log  # the survey itself was read before
    assert first.responses == 40
    with count_queries(engine) as log:
        assert results.results(session, survey) is first  # closed: counted once
    assert log.statements == []
    # Reopened (its close moved), it is counted afresh, and open surveys always are.
    survey.closes_at = utcnow() + timedelta(days=3)
    answer(session, built, single="health")
    with count_queries(engine) as log:
        again = results.results(session, survey)
    assert again.responses == 41 and 0 < len(log.statements) <= results.QUERIES - 1


def _people(session: Session) -> dict[str, object]:
    department = create_department(session)
    other = create_department(session, "other-dept", division_ja="区民文化部")
    return {
        "department": department,
        "challenge": create_challenge(session, department),
        "staff": create_user(session, "staff@example.jp", roles=[(Role.STAFF, department.id)]),
        "other_staff": create_user(session, "other@example.jp", roles=[(Role.STAFF, other.id)]),
        "admin": create_user(session, "admin@example.jp", roles=[Role.ADMIN]),
        "resident": create_user(session, "resident@example.jp"),
        "desk": create_user(session, "desk@example.jp", roles=[Role.SUPPORT_DESK]),
    }


@pytest.mark.parametrize(("who", "closed", "public", "status"), [
    ("visitor", True, True, 200), ("resident", True, True, 200),
    ("visitor", False, True, 403), ("resident", False, True, 403), ("other_staff", False, True, 403),
    ("staff", False, True, 200), ("admin", False, True, 200),
    ("resident", True, False, 403), ("other_staff", True, False, 403), ("staff", True, False, 200),
])
def test_who_sees_the_results_page(client: TestClient[Litestar], session: Session, who: str, closed: bool,
                                   public: bool, status: int) -> None:
    people = _people(session)
    built = build_survey(session, department_id=people["department"].id, closed=closed,  # type: ignore[attr-defined]
                         results_public=public, target_type="challenge",
                         target_id=people["challenge"].id)  # type: ignore[attr-defined]
    _three(session, built)
    session.commit()
    if who != "visitor":
        sign_in(client, people[who])  # type: ignore[arg-type]
    response = client.get(f"/surveys/{built.survey.id}/results", follow_redirects=False)
    if status == 403 and who == "visitor":
        assert response.status_code in (303, 401, 403)
    else:
        assert response.status_code == status
    if status == 200:
        assert f'id="chart-{built.single.id}"' in response.text and "安全・安心" in response.text
        assert ('id="answers-csv"' in response.text) is (who in ("staff", "admin"))
        assert ('id="results-filter"' in response.text) is (who in ("staff", "admin"))


@pytest.mark.parametrize(("closed", "public"), [(True, True), (True, False), (False, True)])
def test_the_survey_page_links_to_public_results_once_closed(client: TestClient[Litestar], session: Session,
                                                             closed: bool, public: bool) -> None:
    built = build_survey(session, closed=closed, results_public=public)
    session.commit()
    page = client.get(f"/surveys/{built.survey.id}").text
    link = f'href="/surveys/{built.survey.id}/results" id="survey-results-link"'
    assert (link in page) is (closed and public)


def test_a_draft_is_not_found_for_the_public(client: TestClient[Litestar], session: Session) -> None:
    built = build_survey(session)
    built.survey.published_at = None
    session.add(built.survey)
    session.commit()
    assert client.get(f"/surveys/{built.survey.id}/results").status_code == 404
    assert client.get(f"/api/v1/surveys/{built.survey.id}/results").status_code == 404
    assert client.get("/api/v1/surveys").json()["items"] == []
    assert client.get("/surveys/999999/results").status_code == 404


def test_the_page_in_a_bounded_number_of_queries(client: TestClient[Litestar], session: Session, query_log) -> None:
    built = build_survey(session)
    for index in range(30):
        answer(session, built, single="safety", multiple=("bus", "parks"), scale=3, matrix={"row_green": "good"},
               text=f"意見 {index}")
    session.commit()
    client.get("/")  # the app's own first-request work
    query_log.statements.clear()
    response = client.get(f"/surveys/{built.survey.id}/results")
    assert response.status_code == 200
    assert len(query_log.statements) <= results.QUERIES + 3, query_log  # + session, consents, navigation
    assert "30" in response.text and f'id="question-{built.text.id}-all"' in response.text


def test_staff_filter_by_channel(client: TestClient[Litestar], session: Session) -> None:
    people = _people(session)
    built = build_survey(session)
    _three(session, built)
    session.commit()
    sign_in(client, people["staff"])  # type: ignore[arg-type]
    page = client.get(f"/surveys/{built.survey.id}/results?channel=paper").text
    assert 'id="results-count">1 ' in page or "1件" in page
    assert '<option value="paper" selected>' in page
    # A visitor's channel is ignored: the public results are of every response.
    client.cookies.clear()
    page = client.get(f"/surveys/{built.survey.id}/results?channel=paper").text
    assert 'id="results-filter"' not in page and "3" in page


def test_free_texts_page_by_page_in_the_order_of_their_text(client: TestClient[Litestar], session: Session) -> None:
    built = build_survey(session)
    for index in range(25):
        answer(session, built, text=f"意見{index:02d}")
    session.commit()
    first = client.get(f"/surveys/{built.survey.id}/results/questions/{built.text.id}")
    assert first.status_code == 200 and "意見00" in first.text and "意見19" in first.text and "意見20" not in first.text
    second = client.get(f"/surveys/{built.survey.id}/results/questions/{built.text.id}?page=2")
    assert "意見24" in second.text and "意見00" not in second.text
    assert client.get(f"/surveys/{built.survey.id}/results/questions/{built.single.id}").status_code == 404
    assert client.get(f"/surveys/{built.survey.id}/results/questions/{built.text.id}?page=junk").status_code == 200


def test_chart_csv_with_and_without_a_byte_order_mark(client: TestClient[Litestar], session: Session) -> None:
    built = build_survey(session)
    _three(session, built)
    session.commit()
    url = f"/surveys/{built.survey.id}/results/questions/{built.single.id}/chart.csv"
    plain = client.get(url)
    assert plain.status_code == 200 and plain.headers["content-type"].startswith("text/csv")
    assert not plain.content.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(plain.content.decode())))[1] == ["安全・安心", "2"]
    assert client.get(url + "?bom=1").content.startswith(b"\xef\xbb\xbf")
    assert client.get(f"/surveys/{built.survey.id}/results/questions/{built.text.id}/chart.csv").status_code == 404


def test_answers_csv_for_staff_only_one_row_per_response(client: TestClient[Litestar], session: Session) -> None:
    people = _people(session)
    built = build_survey(session, department_id=people["department"].id)  # type: ignore[attr-defined]
    _three(session, built)
    session.commit()
    url = f"/surveys/{built.survey.id}/results/answers.csv"
    assert client.get(url, follow_redirects=False).status_code in (303, 401, 403)
    sign_in(client, people["resident"])  # type: ignore[arg-type]
    assert client.get(url).status_code == 403
    client.cookies.clear()
    sign_in(client, people["staff"])  # type: ignore[arg-type]
    response = client.get(url)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, body = rows[0], rows[1:]
    assert header[3:] == ["Q1. 最も重要な分野は？", "Q2. 関心のあるテーマ（複数可） [公園]", "Q2. 関心のあるテーマ（複数可） [バス]",
                          "Q2. 関心のあるテーマ（複数可） [図書館]", "Q3. 住みやすさ", "Q4. 満足度 [治安]", "Q4. 満足度 [緑]",
                          "Q5. ご意見"]
    assert [r[0] for r in body] == ["1", "2", "3"]
    by_text = {r[-1]: r for r in body}
    assert by_text["街灯を増やしてほしい"][3:-1] == ["安全・安心", "1", "1", "0", "4", "満足", "不満"]
    assert by_text["保育園を増やして"][3:-1] == ["子育て・教育", "", "", "", "5", "", ""]
    assert client.get(url + "?bom=1").content.startswith(b"\xef\xbb\xbf")


def test_api_lists_surveys_and_gives_closed_public_results(client: TestClient[Litestar], session: Session) -> None:
    closed = build_survey(session)
    _three(session, closed)
    still_open = build_survey(session, closed=False, title="開いている調査")
    private = build_survey(session, results_public=False, title="非公開の結果")
    session.commit()
    items = {item["id"]: item for item in client.get("/api/v1/surveys").json()["items"]}
    assert set(items) == {closed.survey.id, still_open.survey.id, private.survey.id}
    assert items[closed.survey.id]["results_url"] == f"/api/v1/surveys/{closed.survey.id}/results"
    assert items[still_open.survey.id]["results_url"] is None and items[private.survey.id]["results_url"] is None
    body = client.get(f"/api/v1/surveys/{closed.survey.id}/results").json()
    assert body["responses"] == 3 and body["questions"][0]["choices"][0] == {"label": "安全・安心", "count": 2,
                                                                             "share": 66.7}
    assert body["questions"][2]["mean"] == 3.67 and body["questions"][4]["texts_url"]
    assert client.get(f"/api/v1/surveys/{still_open.survey.id}/results").status_code == 404
    assert client.get(f"/api/v1/surveys/{private.survey.id}/results").status_code == 404
    assert "surveys" in client.get("/api/v1/").json()["resources"]


def test_an_anonymous_survey_never_reveals_who_answered(client: TestClient[Litestar], session: Session,
                                                        settings) -> None:
    people = _people(session)
    create_user(session, "zz.planted.respondent@example.jp", display_name="蔵出 秘匿太郎")
    built = build_survey(session, department_id=people["department"].id)  # type: ignore[attr-defined]
    key = "f" * 24 + "planted-key-0123456789abcdef0123456789"
    submitted = utcnow().replace(hour=3, minute=17, second=42)
    mine = answer(session, built, single="health", text="私の意見です", respondent_key=key, submitted_at=submitted)
    for index in range(5):
        answer(session, built, single="safety", text=f"他の意見{index}", respondent_key=f"other-key-{index}")
    session.commit()
    sign_in(client, people["staff"])  # type: ignore[arg-type]
    base = f"/surveys/{built.survey.id}/results"
    outputs = {
        "page": client.get(base).text,
        "texts": client.get(f"{base}/questions/{built.text.id}").text,
        "chart_csv": client.get(f"{base}/questions/{built.single.id}/chart.csv").content.decode(),
        "answers_csv": client.get(f"{base}/answers.csv").content.decode(),
        "api": json.dumps(client.get(f"/api/v1/surveys/{built.survey.id}/results").json(), ensure_ascii=False),
        "api_list": json.dumps(client.get("/api/v1/surveys").json(), ensure_ascii=False),
    }
    for name, text in outputs.items():
        for secret in ("zz.planted.respondent", "蔵出", "秘匿太郎", key, "other-key-", "03:17", "3:17:42"):
            assert secret not in text, (name, secret)
    rows = list(csv.reader(io.StringIO(outputs["answers_csv"])))
    assert "response" not in " ".join(rows[0]).lower() and "id" not in [h.lower() for h in rows[0]]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", row[2]) for row in rows[1:])  # the day, no finer
    # The rows' order is stable and not the order of submission (nor of the response ids).
    again = list(csv.reader(io.StringIO(client.get(f"{base}/answers.csv").content.decode())))
    assert again == rows
    texts_in_csv = [row[-1] for row in rows[1:]]
    assert texts_in_csv != ["私の意見です", *(f"他の意見{i}" for i in range(5))]
    assert mine.id is not None


def test_a_planted_resident_answering_through_the_services_appears_in_no_output(
        client: TestClient[Litestar], session: Session, settings, people) -> None:
    """A resident with a distinctive name and address answers an anonymous survey (and a desk member enters a
    paper answer); once it closes, no page, CSV, API answer, open-data row or analysis text names them."""
    from cocreate import components
    from cocreate.analysis import sources
    from cocreate.surveys import services
    from tests.cocreate.surveys.conftest import build_survey as build_with_services
    from tests.cocreate.surveys.conftest import full_answers

    planted = create_user(session, "zz.planted.respondent@example.jp", display_name="蔵出 秘匿太郎")
    staff = people.as_(session, people.staff)
    survey_id, q = build_with_services(session, staff, anonymous=True)
    services.submit_response(session, settings, people.as_(session, planted), survey_id,
                             full_answers(q, text="匿名のはずの意見"))
    services.submit_response(session, settings, people.as_(session, people.resident), survey_id, full_answers(q))
    services.enter_desk_response(session, people.as_(session, people.desk), survey_id, full_answers(q), "paper",
                                 True, "受付メモ planted-desk-note")
    services.close(session, staff, survey_id)
    session.commit()
    key = services.respondent_key(settings, survey_id, planted.id)  # type: ignore[arg-type]
    secrets = ("zz.planted.respondent", "蔵出", "秘匿太郎", key, "planted-desk-note", people.desk.email,
               "respondent", "entered_by")
    base = f"/surveys/{survey_id}/results"
    outputs: dict[str, str] = {}
    for who in ("visitor", "staff"):
        if who == "staff":
            sign_in(client, people.staff)
        page = client.get(base)
        assert page.status_code == 200 and "匿名のはずの意見" in page.text
        outputs[f"{who} page"] = page.text
        outputs[f"{who} texts"] = client.get(f"{base}/questions/{q['more'].id}").text
        outputs[f"{who} chart"] = client.get(f"{base}/questions/{q['uses'].id}/chart.csv").content.decode()
        outputs[f"{who} api"] = client.get(f"/api/v1/surveys/{survey_id}/results").text
        outputs[f"{who} api list"] = client.get("/api/v1/surveys").text
    answers = client.get(f"{base}/answers.csv")
    assert answers.status_code == 200 and "匿名のはずの意見" in answers.content.decode()
    outputs["answers csv"] = answers.content.decode()
    dataset = next(d for d in components.datasets() if d.name == "survey_results")
    outputs["open data"] = repr(list(dataset.rows(session)))
    source = sources.source("survey")
    outputs["analysis"] = repr(source.texts(session, source.subject(session, survey_id, None, None)))
    for name, text in outputs.items():
        for secret in secrets:
            assert secret not in text, (name, secret)
    assert not re.search(r"\d{2}:\d{2}:\d{2}", outputs["answers csv"])  # no time finer than the day
