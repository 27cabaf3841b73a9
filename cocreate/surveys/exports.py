"""Every answer of a survey as CSV, for its staff (one row per response, one column per question, option of
a multiple choice or statement of a matrix).

**Anonymity**: a row names no account, no respondent key, no response id and no time finer than the day the
response was given; rows come in a stable order that is not the order of submission (a keyed hash of each
response, with the site's secret), numbered 1, 2, … in that order. The columns are the same for anonymous
and named surveys.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Iterator
from typing import Any

from sqlmodel import Session, col, select

from cocreate.channels import Channel
from cocreate.i18n import WARD_TIMEZONE
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from cocreate.surveys.models import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
)
from cocreate.surveys.results import counted, options_of, questions_of

CHUNK = 500
"""Responses whose answers are read per query."""


def shuffled_order(secret: str, survey_id: int, response_id: int) -> str:
    """A response's place in exports: a keyed hash, stable but unrelated to when it was given."""
    return hmac.new(secret.encode(), f"survey-export:{survey_id}:{response_id}".encode(), hashlib.sha256).hexdigest()


def _label(option: SurveyOption | None) -> str:
    return option.label if option is not None else ""


class _Columns:
    """The CSV's question columns, and how a response's answers fill them."""

    def __init__(self, questions: list[SurveyQuestion], options: dict[int, tuple[list[SurveyOption],
                                                                                     list[SurveyOption]]]) -> None:
        self.headings: list[str] = []
        self.cells: list[tuple[int, Any, str]] = []  # (question id, option or row id or None, what is read)
        self.options: dict[int, SurveyOption] = {}
        for number, question in enumerate(questions, start=1):
            qid = question.id
            assert qid is not None
            choices, rows = options[qid]
            for option in (*choices, *rows):
                self.options[option.id] = option  # type: ignore[index]
            prefix = f"Q{number}. {question.prompt}"
            if question.kind is QuestionKind.MULTIPLE:
                for option in choices:
                    self.headings.append(f"{prefix} [{option.label}]")
                    self.cells.append((qid, option.id, "picked"))
            elif question.kind is QuestionKind.MATRIX:
                for row in rows:
                    self.headings.append(f"{prefix} [{row.label}]")
                    self.cells.append((qid, row.id, "row"))
            else:
                self.headings.append(prefix)
                self.cells.append((qid, None, {QuestionKind.SINGLE: "choice", QuestionKind.SCALE: "number",
                                               QuestionKind.TEXT: "text"}[question.kind]))

    def row(self, answers: list[SurveyAnswer]) -> list[str]:
        by_question: dict[int, list[SurveyAnswer]] = {}
        for answer in answers:
            by_question.setdefault(answer.question_id, []).append(answer)
        cells = []
        for qid, key, what in self.cells:
            given = by_question.get(qid, [])
            if what == "choice":
                cells.append(_label(self.options.get(given[0].option_id)) if given else "")  # type: ignore[arg-type]
            elif what == "number":
                cells.append(str(given[0].number) if given and given[0].number is not None else "")
            elif what == "text":
                cells.append(given[0].text if given else "")
            elif what == "picked":
                cells.append(("1" if any(a.option_id == key for a in given) else "0") if given else "")
            else:  # a matrix row: the column picked in it
                cell = next((a for a in given if a.row_option_id == key), None)
                cells.append(_label(self.options.get(cell.option_id)) if cell is not None else "")  # type: ignore[arg-type]
        return cells


def answer_rows(session: Session, settings: Settings, survey: Survey) -> Iterator[list[str]]:
    """The header, then one row per submitted response in the export's order."""
    assert survey.id is not None
    questions = questions_of(session, survey.id)
    columns = _Columns(questions, options_of(session, [q.id for q in questions]))  # type: ignore[misc]
    yield [_("No."), _("Channel"), _("Date answered"), *columns.headings]
    responses = session.exec(select(SurveyResponse.id, SurveyResponse.channel, SurveyResponse.submitted_at)
                             .where(*counted(survey.id))).all()
    secret = settings.signing_key()
    ordered = sorted(responses, key=lambda r: shuffled_order(secret, survey.id, r[0]))  # type: ignore[arg-type]
    number = 0
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start:start + CHUNK]
        answers: dict[int, list[SurveyAnswer]] = {}
        for answer in session.exec(select(SurveyAnswer).where(
                col(SurveyAnswer.response_id).in_([r[0] for r in chunk])).order_by(col(SurveyAnswer.id))).all():
            answers.setdefault(answer.response_id, []).append(answer)
        for response_id, channel, submitted_at in chunk:
            number += 1
            day = submitted_at.astimezone(WARD_TIMEZONE).date().isoformat() if submitted_at else ""
            label = Channel(channel).label if channel in Channel._value2member_map_ else channel
            yield [str(number), label, day, *columns.row(answers.get(response_id, []))]


def answers_csv(session: Session, settings: Settings, survey: Survey, *, bom: bool = False) -> bytes:
    out = io.StringIO()
    if bom:
        out.write("\ufeff")
    csv.writer(out, lineterminator="\r\n").writerows(answer_rows(session, settings, survey))
    return out.getvalue().encode("utf-8")
