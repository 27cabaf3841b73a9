"""Surveys written straight into their tables (the results' tests need rows, not the builder's forms)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from cocreate.db.base import utcnow
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


@dataclass
class Built:
    survey: Survey
    single: SurveyQuestion
    multiple: SurveyQuestion
    scale: SurveyQuestion
    matrix: SurveyQuestion
    text: SurveyQuestion
    options: dict[str, SurveyOption] = field(default_factory=dict)


def build_survey(session: Session, *, department_id: int | None = None, anonymous: bool = True,
                 closed: bool = True, results_public: bool = True, title: str = "区民ニーズ調査",
                 target_type: str = "", target_id: int | None = None) -> Built:
    now = utcnow()
    survey = Survey(title=title, department_id=department_id, anonymous=anonymous, results_public=results_public,
                    target_type=target_type, target_id=target_id,
                    published_at=now - timedelta(days=10), opens_at=now - timedelta(days=10),
                    closes_at=now - timedelta(days=1) if closed else now + timedelta(days=10))
    session.add(survey)
    session.flush()
    section = SurveySection(survey_id=survey.id, position=0, title="")  # type: ignore[arg-type]
    session.add(section)
    session.flush()

    def question(position: int, kind: QuestionKind, prompt: str, **more: Any) -> SurveyQuestion:
        row = SurveyQuestion(survey_id=survey.id, section_id=section.id, position=position, kind=kind,  # type: ignore[arg-type]
                             prompt=prompt, **more)
        session.add(row)
        session.flush()
        return row

    built = Built(survey=survey,
                  single=question(0, QuestionKind.SINGLE, "最も重要な分野は？"),
                  multiple=question(1, QuestionKind.MULTIPLE, "関心のあるテーマ（複数可）"),
                  scale=question(2, QuestionKind.SCALE, "住みやすさ", scale_min=1, scale_max=5,
                                 scale_min_label="住みにくい", scale_max_label="住みやすい"),
                  matrix=question(3, QuestionKind.MATRIX, "満足度"),
                  text=question(4, QuestionKind.TEXT, "ご意見"))
    for name, q, role, position, label in [
        ("safety", built.single, OptionRole.CHOICE, 0, "安全・安心"),
        ("children", built.single, OptionRole.CHOICE, 1, "子育て・教育"),
        ("health", built.single, OptionRole.CHOICE, 2, "健康・福祉"),
        ("parks", built.multiple, OptionRole.CHOICE, 0, "公園"),
        ("bus", built.multiple, OptionRole.CHOICE, 1, "バス"),
        ("library", built.multiple, OptionRole.CHOICE, 2, "図書館"),
        ("good", built.matrix, OptionRole.CHOICE, 0, "満足"),
        ("bad", built.matrix, OptionRole.CHOICE, 1, "不満"),
        ("row_safety", built.matrix, OptionRole.ROW, 0, "治安"),
        ("row_green", built.matrix, OptionRole.ROW, 1, "緑"),
    ]:
        option = SurveyOption(question_id=q.id, role=role.value, position=position, label=label)  # type: ignore[arg-type]
        session.add(option)
        built.options[name] = option
    session.flush()
    return built


def answer(session: Session, built: Built, *, single: str | None = None, multiple: tuple[str, ...] = (),
           scale: int | None = None, matrix: dict[str, str] | None = None, text: str = "", channel: str = "online",
           respondent_key: str | None = None, respondent_id: int | None = None,
           submitted_at: datetime | None = None, entered_by_id: int | None = None) -> SurveyResponse:
    response = SurveyResponse(survey_id=built.survey.id, respondent_key=respondent_key,  # type: ignore[arg-type]
                              respondent_id=respondent_id, submitted_at=submitted_at or utcnow(), channel=channel,
                              entered_by_id=entered_by_id, consent_at=utcnow() if entered_by_id else None)
    session.add(response)
    session.flush()
    o = built.options
    rows: list[SurveyAnswer] = []
    if single:
        rows.append(SurveyAnswer(response_id=response.id, question_id=built.single.id, option_id=o[single].id))  # type: ignore[arg-type]
    rows.extend(SurveyAnswer(response_id=response.id, question_id=built.multiple.id, option_id=o[m].id)  # type: ignore[arg-type]
                for m in multiple)
    if scale is not None:
        rows.append(SurveyAnswer(response_id=response.id, question_id=built.scale.id, number=scale))  # type: ignore[arg-type]
    for row, column in (matrix or {}).items():
        rows.append(SurveyAnswer(response_id=response.id, question_id=built.matrix.id,  # type: ignore[arg-type]
                                 row_option_id=o[row].id, option_id=o[column].id))
    if text:
        rows.append(SurveyAnswer(response_id=response.id, question_id=built.text.id, text=text))  # type: ignore[arg-type]
    session.add_all(rows)
    built.survey.response_count += 1
    session.add(built.survey)
    session.flush()
    return response
