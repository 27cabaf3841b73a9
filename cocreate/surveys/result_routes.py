"""Pages and API of survey results: the results page (charts, counts, free texts), a free-text question's
answers page by page, each chart's data as CSV, every answer as CSV (staff), and the read API
(``/api/v1/surveys``, ``/api/v1/surveys/{id}/results``). Everything is a plain GET: no JavaScript needed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Response, Router, get
from litestar.params import FromPath, FromQuery, Parameter
from litestar.response import Template
from sqlmodel import col, select

from cocreate.accounts.permissions import principal_of
from cocreate.channels import Channel
from cocreate.db.base import utcnow
from cocreate.errors import Forbidden, NotFound
from cocreate.i18n import gettext as _
from cocreate.surveys import exports, results
from cocreate.surveys.models import QuestionKind, Survey
from cocreate.web.dependencies import DbSession
from cocreate.web.downloads import csv_download
from cocreate.web.htmx import render
from cocreate.web.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE, PageInfo, clamp_page, paginate

RESULTS = "surveys/results.html"
TEXTS = "surveys/result_texts.html"


def _channel(viewed: results.Viewed, value: str | None) -> Channel | None:
    """The staff's channel filter (ignored for others, and when unknown)."""
    if not value or value not in Channel._value2member_map_ or not viewed.staff:
        return None
    return Channel(value)


@get("/surveys/{survey_id:int}/results", name="survey-results", sync_to_thread=True)
def results_page(request: Request, db_session: DbSession, survey_id: FromPath[int],
                 channel: FromQuery[str | None] = None) -> Template:
    """Per question a chart with its table; the number of responses, per channel."""
    viewed = results.visible_survey(db_session, principal_of(request), survey_id)
    chosen = _channel(viewed, channel)
    counts = results.results(db_session, viewed.survey, chosen)
    analysable = viewed.staff and any(q.kind is QuestionKind.TEXT and q.answered for q in counts.questions)
    return render(request, RESULTS, {"survey": viewed.survey, "results": counts, "staff": viewed.staff,
                                     "channel": chosen, "channels": list(Channel), "closed": viewed.closed,
                                     "analysable": analysable})


@get("/surveys/{survey_id:int}/results/questions/{question_id:int}", name="survey-result-texts",
     sync_to_thread=True)
def texts_page(request: Request, db_session: DbSession, survey_id: FromPath[int], question_id: FromPath[int],
               page: FromQuery[str] = "1", channel: FromQuery[str | None] = None) -> Template:
    """A free-text question's answers, page by page."""
    viewed = results.visible_survey(db_session, principal_of(request), survey_id)
    survey = viewed.survey
    chosen = _channel(viewed, channel)
    number, _size = clamp_page(page)
    question, answers = results.text_answers(db_session, survey, question_id, number, chosen)
    base = request.app.route_reverse("survey-result-texts", survey_id=survey_id, question_id=question_id)

    def url_for_page(n: int) -> str:
        return f"{base}?page={n}" + (f"&channel={chosen.value}" if chosen else "")

    return render(request, TEXTS, {"survey": survey, "question": question, "answers": answers, "channel": chosen,
                                   "url_for_page": url_for_page})


@get("/surveys/{survey_id:int}/results/questions/{question_id:int}/chart.csv", name="survey-result-chart-csv",
     sync_to_thread=True)
def chart_csv(request: Request, db_session: DbSession, survey_id: FromPath[int], question_id: FromPath[int],
              bom: FromQuery[str] = "", channel: FromQuery[str | None] = None) -> Response[bytes]:
    """The data of one question's chart (``bom=1``: with a byte-order mark, for Excel)."""
    viewed = results.visible_survey(db_session, principal_of(request), survey_id)
    counts = results.results(db_session, viewed.survey, _channel(viewed, channel))
    question = next((q for q in counts.questions if q.id == question_id), None)
    chart = question.chart() if question is not None else None
    if chart is None:
        raise NotFound(_("This question has no chart."))
    return csv_download(chart.csv(bom=bom == "1"), f"survey-{survey_id}-q{question.number}.csv")  # type: ignore[union-attr]


@get("/surveys/{survey_id:int}/results/answers.csv", name="survey-result-answers-csv", sync_to_thread=True)
def answers_csv(request: Request, db_session: DbSession, survey_id: FromPath[int],
                bom: FromQuery[str] = "") -> Response[bytes]:
    """Every answer, one row per response (the survey's staff; ``bom=1`` for Excel)."""
    viewed = results.visible_survey(db_session, principal_of(request), survey_id)
    if not viewed.staff:
        raise Forbidden()
    body = exports.answers_csv(db_session, request.app.state.settings, viewed.survey, bom=bom == "1")
    return csv_download(body, f"survey-{survey_id}-answers.csv")


# --- the read API -------------------------------------------------------------------------------------


@dataclass
class SurveySummaryOut:
    id: int
    url: str
    title: str
    target_type: str
    """"" (the whole site), challenge or trial."""
    target_id: int | None
    anonymous: bool
    opens_at: datetime | None
    closes_at: datetime | None
    closed: bool
    response_count: int
    results_url: str | None
    """The results in this API, once the survey has closed and if its results are public."""


@dataclass
class SurveyListOut:
    items: list[SurveySummaryOut]
    page: PageInfo


@dataclass
class CountOut:
    label: str
    count: int
    share: float
    """Percent of those who answered the question (of the statement, in a matrix)."""


@dataclass
class MatrixRowOut:
    label: str
    answered: int
    counts: list[CountOut]


@dataclass
class QuestionResultOut:
    id: int
    number: int
    kind: QuestionKind
    prompt: str
    answered: int
    choices: list[CountOut]
    scale: list[CountOut]
    mean: float | None
    rows: list[MatrixRowOut]
    texts_url: str | None
    """Free text: the answers' page."""


@dataclass
class ChannelCountOut:
    channel: Channel
    label: str
    count: int


@dataclass
class SurveyResultsOut:
    id: int
    title: str
    responses: int
    channels: list[ChannelCountOut]
    questions: list[QuestionResultOut]


def _public_surveys() -> Any:
    return select(Survey).where(col(Survey.published_at).is_not(None))


def _summary(request: Request, survey: Survey, now: datetime) -> SurveySummaryOut:
    assert survey.id is not None
    closed = results.is_closed(survey, now)
    return SurveySummaryOut(
        id=survey.id, url=request.app.route_reverse("survey-results", survey_id=survey.id), title=survey.title,
        target_type=survey.target_type, target_id=survey.target_id, anonymous=survey.anonymous,
        opens_at=survey.opens_at, closes_at=survey.closes_at, closed=closed, response_count=survey.response_count,
        results_url=request.app.route_reverse("api-survey-results", survey_id=survey.id)
        if closed and survey.results_public else None)


@get("/surveys", name="api-survey-list", sync_to_thread=True, tags=["surveys"], summary="List published surveys")
def api_survey_list(
    request: Request, db_session: DbSession,
    page: Annotated[int, Parameter(ge=1, description="Page number; past the end gives the last page.")] = 1,
    per_page: Annotated[int, Parameter(ge=1, le=MAX_PER_PAGE, description="Items per page.")] = DEFAULT_PER_PAGE,
) -> SurveyListOut:
    """Published surveys (never drafts), newest first, with where their results are once public."""
    found = paginate(db_session, _public_surveys().order_by(col(Survey.published_at).desc(), col(Survey.id).desc()),
                     page, per_page)
    base = request.app.route_reverse("api-survey-list")
    now = utcnow()

    def link(number: int) -> str:
        return f"{base}?page={number}&per_page={found.per_page}"

    return SurveyListOut(items=[_summary(request, s, now) for s in found.items], page=PageInfo(
        page=found.page, per_page=found.per_page, total=found.total, pages=found.pages,
        next=link(found.page + 1) if found.has_next else None,
        previous=link(found.page - 1) if found.has_previous else None))


def _counts(counts: Any) -> list[CountOut]:
    return [CountOut(c.label, c.count, round(c.share, 1)) for c in counts]


@get("/surveys/{survey_id:int}/results", name="api-survey-results", sync_to_thread=True, tags=["surveys"],
     summary="A closed survey's results")
def api_survey_results(request: Request, db_session: DbSession, survey_id: FromPath[int]) -> SurveyResultsOut:
    """Counts per question (choices, scale values with the mean, matrix statements); for free text, where its
    answers are listed. Only once the survey has closed and if its results are public; never who answered."""
    survey = db_session.get(Survey, survey_id)
    if survey is None or survey.published_at is None or not survey.results_public or not results.is_closed(survey):
        raise NotFound(_("These results do not exist or are not public."))
    counts = results.results(db_session, survey)
    return SurveyResultsOut(
        id=survey_id, title=survey.title, responses=counts.responses,
        channels=[ChannelCountOut(c, c.label, n) for c, n in counts.by_channel],
        questions=[QuestionResultOut(
            id=q.id, number=q.number, kind=q.kind, prompt=q.prompt, answered=q.answered, choices=_counts(q.choices),
            scale=_counts(q.scale), mean=round(q.mean, 2) if q.mean is not None else None,
            rows=[MatrixRowOut(r.label, r.answered, _counts(r.counts)) for r in q.rows],
            texts_url=request.app.route_reverse("survey-result-texts", survey_id=survey_id, question_id=q.id)
            if q.kind is QuestionKind.TEXT else None) for q in counts.questions])


page_routes = Router(path="/", route_handlers=[results_page, texts_page, chart_csv, answers_csv],
                     include_in_schema=False)
api_routes = Router(path="/api/v1", route_handlers=[api_survey_list, api_survey_results])
ROUTES = [page_routes, api_routes]
