"""Open data of surveys (the core manifest's ``datasets``): ``survey_results``, the aggregated counts per
question and answer of published surveys that have closed with public results. Never an individual response,
never who answered, never a free text (only how many answered it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlmodel import Session, col, select

from cocreate.db.base import utcnow
from cocreate.i18n import WARD_TIMEZONE
from cocreate.i18n import lazy_gettext as _l
from cocreate.opendata.datasets import Column, Dataset
from cocreate.surveys import results
from cocreate.surveys.models import QuestionKind, Survey


def public_closed_surveys(session: Session) -> list[Survey]:
    """Published surveys that have closed, whose results are public, by id."""
    now = utcnow()
    found = session.exec(select(Survey).where(col(Survey.published_at).is_not(None),
                                              col(Survey.results_public).is_(True))
                         .order_by(col(Survey.id))).all()
    return [survey for survey in found if results.is_closed(survey, now)]


def _rows(session: Session) -> Iterator[dict[str, Any]]:
    for survey in public_closed_surveys(session):
        counted = results.results(session, survey)
        closed = survey.closed_at or survey.closes_at
        base = {"survey_id": survey.id, "survey_title": survey.title,
                "closed_on": closed.astimezone(WARD_TIMEZONE).date() if closed else None,
                "responses": counted.responses}
        for q in counted.questions:
            question = {**base, "question_number": q.number, "question": q.prompt, "kind": q.kind.value,
                        "answered": q.answered}
            if q.kind is QuestionKind.MATRIX:
                for row in q.rows:
                    for c in row.counts:
                        yield {**question, "statement": row.label, "answer": c.label, "count": c.count,
                               "share": round(c.share, 1)}
            elif q.kind is QuestionKind.TEXT:
                yield {**question, "statement": "", "answer": "", "count": q.answered, "share": None}
            else:
                for c in q.table():
                    yield {**question, "statement": "", "answer": c.label, "count": c.count,
                           "share": round(c.share, 1)}


DATASETS = [
    Dataset(
        name="survey_results",
        title=_l("Survey results"),
        description=_l("One row per question and answer of each survey that has closed with public results: how "
                       "many chose each answer (each value of a scale, each answer to each statement of a matrix). "
                       "Free-text questions give only how many answered. No individual response and nothing about "
                       "who answered is included."),
        columns=(
            Column("survey_id", _l("The survey's number."), "integer"),
            Column("survey_title", _l("The survey's title.")),
            Column("closed_on", _l("The day the survey closed (Japan time)."), "date"),
            Column("responses", _l("Responses to the survey."), "integer"),
            Column("question_number", _l("The question's number in the survey."), "integer"),
            Column("question", _l("The question.")),
            Column("kind", _l("The kind of question: single, multiple, scale, text or matrix.")),
            Column("answered", _l("Responses that answered the question."), "integer"),
            Column("statement", _l("Matrix questions: the statement answered; empty otherwise.")),
            Column("answer", _l("The choice, or the value of a scale; empty for free text.")),
            Column("count", _l("Responses that gave this answer (for free text: that answered)."), "integer"),
            Column("share", _l("Percent of those who answered the question (or the statement)."), "number"),
        ),
        rows=_rows,
        keywords=("アンケート", "区民意識", "survey"),
    ),
]
