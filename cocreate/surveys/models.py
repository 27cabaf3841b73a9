"""Tables of surveys (アンケート).

A survey belongs to the whole site (``target_type`` ""), or to something a component declares surveyable
(``target_type`` "challenge" or "trial" with its id; a trial's survey says whether it measures ``before`` or
``after`` the trial, for its KPIs). Staff build it from sections and questions while it is a draft, publish
it, and it takes answers between ``opens_at`` and ``closes_at`` (or until closed early, ``closed_at``).

**Who answered.** One response per person: a signed-in resident's response is found again by
``respondent_key``, a keyed hash of the survey and the account (:func:`cocreate.surveys.services` computes
it with the site's secret), never by the account's id. In an **anonymous** survey ``respondent_id`` stays
empty, so no table, export, CSV or API answer links an answer to a person; the key only lets that person
find and edit their own response until the survey closes (and lists it in "download my data"). In a
named survey ``respondent_id`` is kept as well (staff may see who answered). A response the support desk
enters for a resident from paper, a workshop or a phone call (代理入力) has no respondent: it has the
desk member (``entered_by_id``), the ``channel``, the time consent was recorded and a private note, and
counts as one response per desk entry.

**Answers** are one row per choice picked (single and multiple choice), per matrix cell (``row_option_id``
and ``option_id``), per scale value (``number``) and per free text (``text``), so results are SQL
aggregates over ``survey_answer``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from cocreate.channels import Channel
from cocreate.db.base import TimestampedModel, UTCDateTime, enum_type
from cocreate.i18n import lazy_gettext as _l


class QuestionKind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    SCALE = "scale"
    TEXT = "text"
    MATRIX = "matrix"

    @property
    def label(self) -> str:
        return str(QUESTION_KIND_LABELS[self])


QUESTION_KIND_LABELS = {
    QuestionKind.SINGLE: _l("Single choice"),
    QuestionKind.MULTIPLE: _l("Multiple choice"),
    QuestionKind.SCALE: _l("Scale"),
    QuestionKind.TEXT: _l("Free text"),
    QuestionKind.MATRIX: _l("Matrix"),
}


class SurveyStage(StrEnum):
    """For a trial's survey: whether it measures before or after the trial ("" for other surveys)."""

    NONE = ""
    BEFORE = "before"
    AFTER = "after"


class OptionRole(StrEnum):
    CHOICE = "choice"
    """A choice of a single or multiple choice question, or a column of a matrix."""
    ROW = "row"
    """A row of a matrix (the statement each column answers)."""


class Survey(TimestampedModel, table=True):
    __tablename__ = "survey"
    __table_args__ = (
        sa.Index("ix_survey_target", "target_type", "target_id"),
        sa.Index("ix_survey_published_closes", "published_at", "closes_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    target_type: str = Field(default="", max_length=20, description="'' (the whole site), challenge or trial")
    target_id: int | None = Field(default=None)
    stage: str = Field(default=SurveyStage.NONE.value, max_length=10)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text, description="Markdown")
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True, ondelete="SET NULL")
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    anonymous: bool = Field(default=True, nullable=False)
    results_public: bool = Field(default=True, nullable=False,
                                 description="Whether everyone sees the results once the survey has closed.")
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    opens_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, description="Closed early by staff.")
    response_count: int = Field(default=0, nullable=False)


class SurveySection(TimestampedModel, table=True):
    """A page of questions. A conditional section shows only when ``show_if_option_id`` (a choice of an
    earlier question) was picked."""

    __tablename__ = "survey_section"

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0, nullable=False)
    title: str = Field(default="", max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    show_if_option_id: int | None = Field(default=None, description="A survey_option id of an earlier question "
                                          "(no foreign key: the tables would reference each other in a cycle).")


class SurveyQuestion(TimestampedModel, table=True):
    __tablename__ = "survey_question"
    __table_args__ = (sa.Index("ix_survey_question_order", "survey_id", "section_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", ondelete="CASCADE")
    section_id: int = Field(foreign_key="survey_section.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0, nullable=False)
    kind: QuestionKind = Field(sa_type=enum_type(QuestionKind, 20))
    prompt: str = Field(max_length=500)
    help_text: str = Field(default="", max_length=1000)
    required: bool = Field(default=False, nullable=False)
    max_choices: int | None = Field(default=None, description="Multiple choice: at most this many.")
    scale_min: int = Field(default=1, nullable=False)
    scale_max: int = Field(default=5, nullable=False)
    scale_min_label: str = Field(default="", max_length=100)
    scale_max_label: str = Field(default="", max_length=100)
    analysable: bool = Field(default=True, nullable=False,
                             description="Free text: may be given to the opinion analysis.")


class SurveyOption(TimestampedModel, table=True):
    __tablename__ = "survey_option"
    __table_args__ = (sa.Index("ix_survey_option_order", "question_id", "role", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="survey_question.id", ondelete="CASCADE")
    role: str = Field(default=OptionRole.CHOICE.value, max_length=10)
    position: int = Field(default=0, nullable=False)
    label: str = Field(max_length=300)


class SurveyResponse(TimestampedModel, table=True):
    __tablename__ = "survey_response"
    __table_args__ = (
        sa.UniqueConstraint("survey_id", "respondent_key", name="uq_survey_response_respondent"),
        sa.Index("ix_survey_response_survey_submitted", "survey_id", "submitted_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", ondelete="CASCADE")
    respondent_key: str | None = Field(default=None, max_length=64,
                                       description="Keyed hash of survey and account; None for desk entries.")
    respondent_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL",
                                      description="Only in named surveys.")
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    channel: str = Field(default=Channel.ONLINE.value, max_length=20)
    entered_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    consent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    desk_note: str = Field(default="", max_length=200)


class SurveyAnswer(TimestampedModel, table=True):
    __tablename__ = "survey_answer"
    __table_args__ = (
        sa.Index("ix_survey_answer_response", "response_id", "question_id"),
        sa.Index("ix_survey_answer_question_option", "question_id", "option_id", "row_option_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="survey_response.id", ondelete="CASCADE")
    question_id: int = Field(foreign_key="survey_question.id", ondelete="CASCADE")
    option_id: int | None = Field(default=None, foreign_key="survey_option.id", ondelete="CASCADE")
    row_option_id: int | None = Field(default=None, foreign_key="survey_option.id", ondelete="CASCADE")
    number: int | None = Field(default=None)
    text: str = Field(default="", sa_type=sa.Text)
