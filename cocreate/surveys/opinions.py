"""What the opinion analysis may read of surveys (the core manifest's ``opinion_sources``): ``survey``, the
free-text answers of a published survey's questions marked analysable, of every submitted response (online
and entered by the desk). Analysed by the staff who manage the survey (``survey.manage``: any ward staff
for a site-wide one, the staff of its challenge's or trial's departments otherwise). Only the texts are
read: never who wrote them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlmodel import Session, col, select

from cocreate.analysis.sources import Opinion, OpinionSource, Subject
from cocreate.errors import NotFound
from cocreate.i18n import gettext as _
from cocreate.surveys.models import QuestionKind, Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
from cocreate.surveys.services import department_ids_of

REF = "survey_answer"


def _subject(session: Session, subject_id: int | None, _start: date | None, _end: date | None) -> Subject:
    survey = session.get(Survey, subject_id) if subject_id is not None else None
    if survey is None or survey.published_at is None:
        raise NotFound()
    owners = department_ids_of(session, survey)  # who manages it (survey.manage) analyses it
    return Subject(source="survey", id=survey.id, title=survey.title,
                   department_ids=tuple(sorted(owners)) if owners is not None else None,
                   page_route="survey-results", page_param="survey_id")


def _analysable() -> tuple[object, ...]:
    return (SurveyAnswer.text != "",
            col(SurveyAnswer.question_id).in_(select(SurveyQuestion.id).where(
                SurveyQuestion.kind == QuestionKind.TEXT, col(SurveyQuestion.analysable).is_(True))),
            col(SurveyAnswer.response_id).in_(select(SurveyResponse.id).where(
                col(SurveyResponse.submitted_at).is_not(None))))


def _texts(session: Session, subject: Subject) -> list[Opinion]:
    """The texts in the order of the survey's questions, then of the text (never of when it was given)."""
    rows = session.exec(select(SurveyAnswer.id, SurveyAnswer.text)
                        .join(SurveyQuestion, col(SurveyQuestion.id) == SurveyAnswer.question_id)
                        .where(SurveyQuestion.survey_id == subject.id, *_analysable())
                        .order_by(col(SurveyQuestion.position), col(SurveyQuestion.id), col(SurveyAnswer.text),
                                  col(SurveyAnswer.id))).all()
    return [Opinion(f"{REF}:{id_}", text) for id_, text in rows]


def _still_public(session: Session, refs: Collection[str]) -> set[str]:
    """Which quoted answers still exist (a response replaced by its author's edit loses its old ones)."""
    ids = [int(number) for kind, _, number in (ref.partition(":") for ref in refs)
           if kind == REF and number.isdigit()]
    if not ids:
        return set()
    return {f"{REF}:{id_}" for id_ in session.exec(select(SurveyAnswer.id).where(
        col(SurveyAnswer.id).in_(ids), *_analysable())).all()}


SOURCES = [
    OpinionSource(name="survey", label=lambda: _("Survey"), by_period=False, subject=_subject, texts=_texts,
                  still_public=_still_public),
]
