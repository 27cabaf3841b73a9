"""A survey's results: counts per question, their charts, the paged free-text answers.

**Who sees them** (rules ``survey.results`` and ``survey.results_staff`` of the core policy, on an
:class:`OnResults`): the staff who own the survey (of its department, any ward staff when it has none, and
administrators) while it is open and after; everyone once it has closed, when ``results_public``. Drafts
exist for nobody else. The staff alone filter by channel and download every answer as CSV
(:mod:`cocreate.surveys.exports`).

**How they are counted**: SQL aggregates over ``survey_answer`` grouped by question, option, matrix row and
scale value, so a page costs a fixed number of queries whatever the number of responses (:data:`QUERIES`).
A closed survey's results no longer change: they are kept in memory per survey and channel, under a key that
holds the close time, so closing (or reopening) a survey refreshes them. An open survey's are counted afresh
for the staff who look.

**Anonymity**: nothing here reads who answered (no account, no respondent key); free-text answers are listed
in the order of their text, never in the order they were given.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate.accounts.permissions import Principal
from cocreate.channels import Channel
from cocreate.charts import Chart, Series
from cocreate.errors import NotFound
from cocreate.i18n import gettext as _
from cocreate.permissions import can, require
from cocreate.surveys.models import (
    OptionRole,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
    SurveySection,
)
from cocreate.surveys.services import Status, department_ids_of, status_of
from cocreate.web.pagination import Page, paginate

QUERIES = 7
"""The most queries :func:`results` makes (the survey, its questions, options, counts, respondents per
question, responses per channel, the first free-text answers)."""

TEXTS_SHOWN = 5
"""Free-text answers shown per question on the results page (the rest on the question's own pages)."""

TEXTS_PER_PAGE = 20


# --- who may see them ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnResults:
    """The facts the rules read about a survey's results."""

    published: bool
    closed: bool
    results_public: bool
    department_ids: frozenset[int] | None
    """The staff who manage the survey: of these departments (its challenge's or trial's owners), or any
    ward staff (None: a site-wide survey), as ``survey.manage`` reads them."""


def is_closed(survey: Survey, now: datetime | None = None) -> bool:
    return status_of(survey, now) is Status.CLOSED


def on_results(session: Session, survey: Survey) -> OnResults:
    """The facts of the rules (a site-wide survey reads nothing more; a challenge's or trial's, its owners)."""
    return OnResults(published=survey.published_at is not None, closed=is_closed(survey),
                     results_public=survey.results_public, department_ids=department_ids_of(session, survey))


@dataclass(frozen=True)
class Viewed:
    """A survey whose results someone may see, and whether they see them as its staff."""

    survey: Survey
    facts: OnResults
    staff: bool

    @property
    def closed(self) -> bool:
        return self.facts.closed


def visible_survey(session: Session, actor: Principal, survey_id: int) -> Viewed:
    """The survey whose results ``actor`` may see; NotFound for drafts and unknown ids (to those who do not
    manage them), Forbidden/SignInRequired while its results are not (yet) theirs to see."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(_("This survey does not exist."))
    facts = on_results(session, survey)
    staff = bool(can(actor, "survey.results_staff", facts))
    if not facts.published and not staff:
        raise NotFound(_("This survey does not exist."))
    require(actor, "survey.results", facts)
    return Viewed(survey, facts, staff)


# --- the counts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Count:
    label: str
    count: int
    share: float
    """Percent of those who answered the question."""


@dataclass(frozen=True)
class MatrixRow:
    label: str
    counts: tuple[Count, ...]
    answered: int


@dataclass(frozen=True)
class QuestionResult:
    id: int
    number: int
    """1, 2, … in the survey's order."""
    kind: QuestionKind
    prompt: str
    answered: int
    """Responses that answered this question."""
    choices: tuple[Count, ...] = ()
    rows: tuple[MatrixRow, ...] = ()
    scale: tuple[Count, ...] = ()
    """A scale's values from its minimum to its maximum, with their counts."""
    mean: float | None = None
    scale_min_label: str = ""
    scale_max_label: str = ""
    texts: tuple[str, ...] = ()
    """The first free-text answers (in the order of their text)."""

    def chart(self) -> Chart | None:
        """The question's chart (None for free text)."""
        title = f"Q{self.number}. {self.prompt}"
        answered = _("%(count)d answered.") % {"count": self.answered}
        if self.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            top = max(self.choices, key=lambda c: c.count, default=None)
            summary = answered if top is None or not top.count else " ".join((answered, _(
                "Most chose “%(label)s” (%(count)d, %(share)s%%).")
                % {"label": top.label, "count": top.count, "share": _percent(top.share)}))
            return Chart("hbar", title, summary, [c.label for c in self.choices],
                         [Series(_("Answers"), [c.count for c in self.choices])], label_heading=_("Choice"))
        if self.kind is QuestionKind.SCALE:
            summary = answered if self.mean is None else " ".join((answered, _("Mean %(mean)s.")
                                                                   % {"mean": f"{self.mean:.2f}"}))
            return Chart("bar", title, summary, [c.label for c in self.scale],
                         [Series(_("Answers"), [c.count for c in self.scale])], label_heading=_("Rating"))
        if self.kind is QuestionKind.MATRIX:
            columns = [c.label for c in self.rows[0].counts] if self.rows else []
            return Chart("stacked", title, " ".join((answered, _("One bar per statement, stacked by answer."))),
                         [r.label for r in self.rows],
                         [Series(column, [r.counts[i].count for r in self.rows]) for i, column in enumerate(columns)],
                         label_heading=_("Statement"))
        return None

    def table(self) -> list[Count]:
        """Counts and shares shown beside the chart (choices or scale values)."""
        return list(self.choices or self.scale)


@dataclass(frozen=True)
class Results:
    survey_id: int
    responses: int
    by_channel: tuple[tuple[Channel, int], ...]
    """Responses per channel (online, and each desk channel), in the channels' order."""
    questions: tuple[QuestionResult, ...] = field(default_factory=tuple)

    @property
    def desk(self) -> int:
        return sum(count for channel, count in self.by_channel if channel is not Channel.ONLINE)


def _percent(value: float) -> str:
    return f"{value:.1f}"


def _share(count: int, total: int) -> float:
    return 100.0 * count / total if total else 0.0


def counted(survey_id: int, channel: Channel | None = None) -> list[sa.ColumnElement[bool]]:
    """The conditions of the responses counted: submitted ones of the survey (of one channel)."""
    conditions = [SurveyResponse.survey_id == survey_id,
                  col(SurveyResponse.submitted_at).is_not(None)]
    if channel is not None:
        conditions.append(SurveyResponse.channel == channel.value)
    return conditions


def questions_of(session: Session, survey_id: int) -> list[SurveyQuestion]:
    """The survey's questions in its order (sections by position, then questions)."""
    return list(session.exec(
        select(SurveyQuestion).join(SurveySection, col(SurveySection.id) == SurveyQuestion.section_id)
        .where(SurveyQuestion.survey_id == survey_id)
        .order_by(col(SurveySection.position), col(SurveySection.id), col(SurveyQuestion.position),
                  col(SurveyQuestion.id))).all())


def options_of(session: Session, question_ids: list[int]) -> dict[int, tuple[list[SurveyOption], list[SurveyOption]]]:
    """Question id → (choices or matrix columns, matrix rows), each in order."""
    found: dict[int, tuple[list[SurveyOption], list[SurveyOption]]] = {qid: ([], []) for qid in question_ids}
    if not question_ids:
        return found
    for option in session.exec(select(SurveyOption).where(col(SurveyOption.question_id).in_(question_ids))
                               .order_by(col(SurveyOption.question_id), col(SurveyOption.position),
                                         col(SurveyOption.id))).all():
        choices, rows = found[option.question_id]
        (rows if option.role == OptionRole.ROW.value else choices).append(option)
    return found


_cache: OrderedDict[tuple[object, ...], Results] = OrderedDict()
_cache_lock = threading.Lock()
CACHE_SIZE = 200


def forget() -> None:
    """Empty the cache of closed surveys' results (tests; a survey's answers rewritten by hand)."""
    with _cache_lock:
        _cache.clear()


def results(session: Session, survey: Survey, channel: Channel | None = None) -> Results:
    """The survey's results (of one channel's responses): at most :data:`QUERIES` queries, none for a closed
    survey counted before."""
    assert survey.id is not None
    key = (survey.id, channel, survey.closed_at, survey.closes_at) if is_closed(survey) else None
    if key is not None:
        with _cache_lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]
    counted_now = _count(session, survey.id, channel)
    if key is not None:
        with _cache_lock:
            _cache[key] = counted_now
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return counted_now


def _count(session: Session, survey_id: int, channel: Channel | None) -> Results:
    questions = questions_of(session, survey_id)
    options = options_of(session, [q.id for q in questions])  # type: ignore[misc]
    responses = select(SurveyResponse.id).where(*counted(survey_id, channel))
    in_responses = col(SurveyAnswer.response_id).in_(responses)
    groups = session.exec(
        select(SurveyAnswer.question_id, SurveyAnswer.option_id, SurveyAnswer.row_option_id, SurveyAnswer.number,
               sa.func.count()).where(in_responses, SurveyAnswer.text == "")
        .group_by(SurveyAnswer.question_id, SurveyAnswer.option_id, SurveyAnswer.row_option_id,
                  SurveyAnswer.number)).all()
    answered_rows = session.exec(
        select(SurveyAnswer.question_id, SurveyAnswer.row_option_id,
               sa.func.count(sa.distinct(SurveyAnswer.response_id)))
        .where(in_responses).group_by(SurveyAnswer.question_id, SurveyAnswer.row_option_id)).all()
    channels = dict(session.exec(select(SurveyResponse.channel, sa.func.count())
                                 .where(*counted(survey_id, channel)).group_by(SurveyResponse.channel)).all())
    texts = _first_texts(session, [q.id for q in questions if q.kind is QuestionKind.TEXT],  # type: ignore[misc]
                         responses)
    count_of: dict[tuple[int, int | None, int | None, int | None], int] = {
        (qid, option_id, row_id, number): int(n) for qid, option_id, row_id, number, n in groups}
    answered: dict[int, int] = {}
    answered_row: dict[tuple[int, int], int] = {}
    for qid, row_id, n in answered_rows:
        if row_id is None:
            answered[qid] = answered.get(qid, 0) + int(n)
        else:
            answered_row[(qid, row_id)] = int(n)
            answered[qid] = max(answered.get(qid, 0), int(n))
    out = []
    for number, question in enumerate(questions, start=1):
        qid = question.id
        assert qid is not None
        choices, rows = options[qid]
        total = answered.get(qid, 0)
        base = {"id": qid, "number": number, "kind": question.kind, "prompt": question.prompt, "answered": total}
        if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            out.append(QuestionResult(**base, choices=tuple(
                Count(o.label, n := count_of.get((qid, o.id, None, None), 0), _share(n, total)) for o in choices)))
        elif question.kind is QuestionKind.SCALE:
            values = range(question.scale_min, question.scale_max + 1)
            scale = tuple(Count(str(v), n := count_of.get((qid, None, None, v), 0), _share(n, total)) for v in values)
            weighted = sum(int(c.label) * c.count for c in scale)
            counted_values = sum(c.count for c in scale)
            out.append(QuestionResult(**base, scale=scale, mean=weighted / counted_values if counted_values else None,
                                      scale_min_label=question.scale_min_label,
                                      scale_max_label=question.scale_max_label))
        elif question.kind is QuestionKind.MATRIX:
            matrix = []
            for row in rows:
                row_total = answered_row.get((qid, row.id), 0)  # type: ignore[arg-type]
                matrix.append(MatrixRow(row.label, tuple(
                    Count(o.label, n := count_of.get((qid, o.id, row.id, None), 0), _share(n, row_total))
                    for o in choices), row_total))
            out.append(QuestionResult(**base, rows=tuple(matrix)))
        else:
            out.append(QuestionResult(**base, texts=tuple(texts.get(qid, ()))))
    by_channel = tuple((c, int(channels.get(c.value, 0))) for c in Channel if channels.get(c.value))
    return Results(survey_id=survey_id, responses=sum(n for _c, n in by_channel), by_channel=by_channel,
                   questions=tuple(out))


def _first_texts(session: Session, question_ids: list[int], responses: sa.Select[tuple[int | None]]
                 ) -> dict[int, list[str]]:
    """The first :data:`TEXTS_SHOWN` free-text answers of each question, in one query (a window function)."""
    if not question_ids:
        return {}
    ranked = (select(SurveyAnswer.question_id, SurveyAnswer.text,
                     sa.func.row_number().over(partition_by=SurveyAnswer.question_id,
                                               order_by=[SurveyAnswer.text, SurveyAnswer.id]).label("rank"))
              .where(col(SurveyAnswer.question_id).in_(question_ids), SurveyAnswer.text != "",
                     col(SurveyAnswer.response_id).in_(responses))).subquery()
    found: dict[int, list[str]] = {}
    for qid, text in session.exec(select(ranked.c.question_id, ranked.c.text).where(ranked.c.rank <= TEXTS_SHOWN)
                                  .order_by(ranked.c.question_id, ranked.c.rank)).all():
        found.setdefault(qid, []).append(text)
    return found


def text_answers(session: Session, survey: Survey, question_id: int, page: int,
                 channel: Channel | None = None) -> tuple[SurveyQuestion, Page[str]]:
    """One page of a free-text question's answers, in the order of their text (never of their time)."""
    question = session.get(SurveyQuestion, question_id)
    if question is None or question.survey_id != survey.id or question.kind is not QuestionKind.TEXT:
        raise NotFound(_("This question does not exist."))
    statement = (select(SurveyAnswer.text)
                 .where(SurveyAnswer.question_id == question_id, SurveyAnswer.text != "",
                        col(SurveyAnswer.response_id).in_(select(SurveyResponse.id)
                                                          .where(*counted(survey.id, channel))))  # type: ignore[arg-type]
                 .order_by(col(SurveyAnswer.text), col(SurveyAnswer.id)))
    return question, paginate(session, statement, page, TEXTS_PER_PAGE)
