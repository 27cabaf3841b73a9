"""Surveys (アンケート): staff build them, residents answer them, the support desk enters paper answers.

Rules, all checked here whatever the caller (permissions through :mod:`cocreate.permissions`, rules in
:mod:`cocreate.accounts.policy`):

- ``survey.manage``: a site-wide survey is managed by any ward staff; a challenge's or a trial's survey by
  the staff of the departments that own it (:mod:`cocreate.surveys.targets`); administrators manage all.
- A **draft** is built freely: sections, questions, options and matrix rows. Once **published** its
  questions are frozen (answers refer to them); its title, description and dates can still change.
- A published survey **takes answers** from ``opens_at`` (or its publication) until ``closes_at`` or until
  staff close it early (``closed_at``).
- ``survey.answer``: a signed-in, confirmed account answers once; answering again replaces its response
  while the survey takes answers. The response is found by :func:`respondent_key` (a keyed hash), and in an
  **anonymous** survey no account id is stored anywhere in its rows.
- ``survey.enter_for_resident``: the support desk enters a resident's paper, workshop or phone answer (one
  response per entry, with the channel, the time consent was recorded and a private note).

**Answers** come as a mapping (the posted form is one): ``q{question_id}`` → the chosen option's id (single
choice), a list of ids (multiple choice), a number (scale) or a text (free text); a matrix answers one
``q{question_id}_r{row_option_id}`` → the chosen column's option id per row. Integer keys (the question's id)
are read too, a matrix's value then being a mapping row id → column id. Answers to the questions of a
conditional section whose condition fails are ignored (:func:`applicable_sections` says which apply).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from cocreate import audit, permissions
from cocreate.accounts.permissions import Principal
from cocreate.channels import Channel
from cocreate.db import transactional
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.forms import (
    Choice,
    Flag,
    FormModel,
    Line,
    LocalDateTime,
    Problems,
    RowId,
    Text,
    WholeNumber,
    as_text,
    parse_id,
    text_error,
)
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext as _l
from cocreate.settings import Settings
from cocreate.surveys import targets
from cocreate.surveys.models import (
    OptionRole,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
    SurveySection,
    SurveyStage,
)

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
PROMPT_MAX = 500
HELP_MAX = 1000
OPTION_MAX = 300
MAX_OPTIONS = 30
MAX_ROWS = 20
MAX_QUESTIONS = 100
MAX_SECTIONS = 20
TEXT_ANSWER_MAX = 2000
"""A free-text answer: at most this many characters."""
SCALE_LIMIT = 10
"""A scale runs between -10 and 10 at the widest (1..5 by default)."""
DESK_NOTE_MAX = 200
PER_PAGE = 20


class Status(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    Status.DRAFT: _l("Draft"),
    Status.SCHEDULED: _l("Not yet open"),
    Status.OPEN: _l("Open"),
    Status.CLOSED: _l("Closed"),
}


def status_of(survey: Survey, now: datetime | None = None) -> Status:
    now = now or utcnow()
    if survey.published_at is None:
        return Status.DRAFT
    if survey.closed_at is not None or (survey.closes_at is not None and now >= survey.closes_at):
        return Status.CLOSED
    if survey.opens_at is not None and now < survey.opens_at:
        return Status.SCHEDULED
    return Status.OPEN


@dataclass(frozen=True)
class OnSurvey:
    """A survey as the rules read it (``survey.manage``, ``survey.answer``, ``survey.enter_for_resident``)."""

    status: Status
    department_ids: frozenset[int] | None
    """The owning departments of its challenge or trial; None for a site-wide survey (any ward staff)."""
    anonymous: bool = True

    @property
    def accepting(self) -> bool:
        return self.status is Status.OPEN

    @property
    def draft(self) -> bool:
        return self.status is Status.DRAFT


def department_ids_of(session: Session, survey: Survey) -> frozenset[int] | None:
    if not survey.target_type or survey.target_id is None:
        return None
    try:
        return targets.load(session, survey.target_type, survey.target_id).department_ids
    except NotFound:
        return frozenset({survey.department_id}) if survey.department_id is not None else frozenset()


def on_survey(session: Session, survey: Survey, now: datetime | None = None) -> OnSurvey:
    return OnSurvey(status_of(survey, now), department_ids_of(session, survey), survey.anonymous)


def manage_facts(target_type: str = "", department_ids: frozenset[int] | None = None) -> OnSurvey:
    """Facts of a survey not yet created (``survey.manage`` on a new one)."""
    return OnSurvey(Status.DRAFT, department_ids if target_type else None)


# --- reading --------------------------------------------------------------------------------------


def _get(session: Session, survey_id: int, *, lock: bool = False) -> Survey:
    survey = session.get(Survey, survey_id, with_for_update=lock, populate_existing=lock)
    if survey is None:
        raise NotFound()
    return survey


def managed_survey(session: Session, actor: Principal, survey_id: int, *, lock: bool = False) -> Survey:
    """A survey the actor manages (NotFound for others' drafts, Forbidden for others' published ones)."""
    survey = _get(session, survey_id, lock=lock)
    facts = on_survey(session, survey)
    decision = permissions.can(actor, "survey.manage", facts)
    if not decision:
        if facts.draft:
            raise NotFound()
        decision.require()
    return survey


def visible_survey(session: Session, actor: Principal, survey_id: int) -> Survey:
    """A published survey (of a public target), or a draft its managers preview; NotFound otherwise."""
    survey = _get(session, survey_id)
    if survey.published_at is not None and _target_public(session, survey):
        return survey
    if permissions.can(actor, "survey.manage", on_survey(session, survey)):
        return survey
    raise NotFound()


def _target_public(session: Session, survey: Survey) -> bool:
    if not survey.target_type or survey.target_id is None:
        return True
    try:
        return targets.load(session, survey.target_type, survey.target_id).public
    except NotFound:
        return False


@dataclass
class Question:
    """A question with its choices (columns of a matrix) and matrix rows, in order."""

    question: SurveyQuestion
    choices: list[SurveyOption] = field(default_factory=list)
    rows: list[SurveyOption] = field(default_factory=list)

    @property
    def id(self) -> int:
        assert self.question.id is not None
        return self.question.id

    @property
    def kind(self) -> QuestionKind:
        return QuestionKind(self.question.kind)

    @property
    def name(self) -> str:
        """The form field's name (a matrix row's is ``{name}_r{row id}``)."""
        return f"q{self.id}"

    @property
    def scale_values(self) -> list[int]:
        return list(range(self.question.scale_min, self.question.scale_max + 1))


@dataclass
class Section:
    section: SurveySection
    questions: list[Question] = field(default_factory=list)
    condition: tuple[Question, SurveyOption] | None = None
    """The earlier question and its choice that must have been picked for this section to apply."""

    @property
    def id(self) -> int:
        assert self.section.id is not None
        return self.section.id


@dataclass
class SurveyForm:
    """A survey's sections and questions, as the form, the builder and the results show them (4 queries)."""

    survey: Survey
    sections: list[Section]

    @property
    def questions(self) -> list[Question]:
        return [question for section in self.sections for question in section.questions]

    def question(self, question_id: int) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def option_owner(self, option_id: int) -> Question | None:
        return next((q for q in self.questions if any(o.id == option_id for o in q.choices)), None)


def load_form(session: Session, survey: Survey) -> SurveyForm:
    """The survey's sections, questions and options in three queries."""
    sections = session.exec(select(SurveySection).where(SurveySection.survey_id == survey.id)
                            .order_by(col(SurveySection.position), col(SurveySection.id))).all()
    questions = session.exec(select(SurveyQuestion).where(SurveyQuestion.survey_id == survey.id)
                             .order_by(col(SurveyQuestion.position), col(SurveyQuestion.id))).all()
    options = session.exec(select(SurveyOption)
                           .join(SurveyQuestion, col(SurveyQuestion.id) == SurveyOption.question_id)
                           .where(SurveyQuestion.survey_id == survey.id)
                           .order_by(col(SurveyOption.position), col(SurveyOption.id))).all() if questions else []
    by_question = {q.id: Question(q) for q in questions}
    for option in options:
        owner = by_question.get(option.question_id)
        if owner is not None:
            (owner.rows if option.role == OptionRole.ROW.value else owner.choices).append(option)
    by_section = {s.id: Section(s) for s in sections}
    for question in by_question.values():
        if question.question.section_id in by_section:
            by_section[question.question.section_id].questions.append(question)
    result = SurveyForm(survey, list(by_section.values()))
    for section in result.sections:
        option_id = section.section.show_if_option_id
        if option_id is not None:
            owner = result.option_owner(option_id)
            if owner is not None:
                option = next(o for o in owner.choices if o.id == option_id)
                section.condition = (owner, option)
    return result


# --- building -------------------------------------------------------------------------------------


class SurveyDetails(FormModel):
    """What the builder's survey form sends (new and edit)."""

    title: Annotated[str, Line(TITLE_MAX, required=_l("Enter the survey's title."))] = ""
    description: Annotated[str, Text(DESCRIPTION_MAX)] = ""
    target_type: Annotated[str, Line(20)] = ""
    target_id: Annotated[int | None, RowId()] = None
    stage: Annotated[SurveyStage | None, Choice(SurveyStage, required=False)] = None
    anonymous: Annotated[bool, Flag()] = False
    results_public: Annotated[bool, Flag()] = False
    opens_at: Annotated[datetime | None, LocalDateTime()] = None
    closes_at: Annotated[datetime | None, LocalDateTime()] = None


class SectionDetails(FormModel):
    title: Annotated[str, Line(TITLE_MAX)] = ""
    description: Annotated[str, Text(DESCRIPTION_MAX)] = ""
    show_if_option_id: Annotated[int | None, RowId()] = None


class QuestionDetails(FormModel):
    """A question: its kind, prompt, and the choices (or matrix columns) and matrix rows one per line."""

    section_id: Annotated[int | None, RowId()] = None
    kind: Annotated[QuestionKind, Choice(QuestionKind, _l("Choose the kind of question."))] = QuestionKind.SINGLE
    prompt: Annotated[str, Line(PROMPT_MAX, required=_l("Write the question."))] = ""
    help_text: Annotated[str, Text(HELP_MAX)] = ""
    required: Annotated[bool, Flag()] = False
    options: Annotated[str, Text(MAX_OPTIONS * (OPTION_MAX + 1))] = ""
    """Choices (or a matrix's columns), one per line."""
    rows: Annotated[str, Text(MAX_ROWS * (OPTION_MAX + 1))] = ""
    """A matrix's rows, one per line."""
    max_choices: Annotated[int | None, WholeNumber(minimum=1, maximum=MAX_OPTIONS)] = None
    scale_min: Annotated[int | None, WholeNumber(minimum=-SCALE_LIMIT, maximum=SCALE_LIMIT)] = None
    scale_max: Annotated[int | None, WholeNumber(minimum=-SCALE_LIMIT, maximum=SCALE_LIMIT)] = None
    scale_min_label: Annotated[str, Line(100)] = ""
    scale_max_label: Annotated[str, Line(100)] = ""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def _audit(session: Session, actor: Principal, action: str, target_type: str, target_id: object,
           details: Mapping[str, Any] | None = None) -> None:
    user = actor.user
    audit.record(session, actor_id=user.id if user else None,
                 actor_label=f"{user.display_name} (#{user.id})"[:200] if user else "",
                 action=action, target_type=target_type, target_id=str(target_id), details=details or {})


def _check_details(session: Session, form: SurveyDetails, problems: Problems) -> targets.Surveyed | None:
    thing = None
    if form.target_type:
        try:
            kind = targets.target(form.target_type)
        except NotFound:
            problems.add("target_type", _("Choose what the survey is about from the list."))
        else:
            if form.target_id is None:
                problems.add("target_id", _("Choose what the survey is about from the list."))
            else:
                try:
                    thing = targets.load_one(kind, session, form.target_id)
                except NotFound:
                    problems.add("target_id", _("Choose what the survey is about from the list."))
    if form.opens_at and form.closes_at and form.closes_at <= form.opens_at:
        problems.add("closes_at", _("The survey must close after it opens."))
    return thing


def _facts_for(form: SurveyDetails, thing: targets.Surveyed | None) -> OnSurvey:
    return manage_facts(form.target_type, thing.department_ids if thing else None)


@transactional
def create_survey(session: Session, actor: Principal, form: SurveyDetails) -> Survey:
    """A new draft, with one empty section, for the whole site or a challenge or a trial the actor's
    department owns."""
    permissions.require(actor, "survey.manage", manage_facts())  # staff at all, before reading anything
    problems = Problems()
    thing = _check_details(session, form, problems)
    problems.raise_any()
    permissions.require(actor, "survey.manage", _facts_for(form, thing))
    department = min(thing.department_ids) if thing and thing.department_ids else (
        min(actor.staff_department_ids) if actor.staff_department_ids else None)
    survey = Survey(title=form.title, description=form.description,
                    target_type=thing.type if thing else "", target_id=thing.id if thing else None,
                    stage=(form.stage or SurveyStage.NONE).value if thing and thing.type == "trial" else "",
                    department_id=department, created_by_id=actor.user_id, anonymous=form.anonymous,
                    results_public=form.results_public, opens_at=form.opens_at, closes_at=form.closes_at)
    session.add(survey)
    session.flush()
    session.add(SurveySection(survey_id=survey.id, position=0))
    _audit(session, actor, "survey.created", "survey", survey.id, {"title": survey.title})
    return survey


@transactional
def update_survey(session: Session, actor: Principal, survey_id: int, form: SurveyDetails) -> Survey:
    """Change a survey's title, description and dates; while it is a draft, also what it is about and
    whether it is anonymous (a published survey's respondents were told)."""
    survey = managed_survey(session, actor, survey_id, lock=True)
    problems = Problems()
    published = survey.published_at is not None
    if published:
        form = form.model_copy(update={"target_type": survey.target_type, "target_id": survey.target_id,
                                       "anonymous": survey.anonymous})
    thing = _check_details(session, form, problems)
    problems.raise_any()
    permissions.require(actor, "survey.manage", _facts_for(form, thing))
    survey.title, survey.description = form.title, form.description
    survey.opens_at, survey.closes_at = form.opens_at, form.closes_at
    survey.results_public = form.results_public
    if not published:
        survey.target_type = thing.type if thing else ""
        survey.target_id = thing.id if thing else None
        survey.anonymous = form.anonymous
        if thing and thing.department_ids:
            survey.department_id = min(thing.department_ids)
    survey.stage = (form.stage or SurveyStage.NONE).value if survey.target_type == "trial" else ""
    survey.updated_at = utcnow()
    session.add(survey)
    _audit(session, actor, "survey.updated", "survey", survey.id)
    return survey


def _draft(session: Session, actor: Principal, survey_id: int, field_name: str = "survey") -> Survey:
    survey = managed_survey(session, actor, survey_id, lock=True)
    if survey.published_at is not None:
        raise Invalid({field_name: _("This survey has been published: its questions can no longer change.")})
    return survey


def _check_condition(session: Session, survey: Survey, option_id: int | None, before_position: int | None,
                     problems: Problems) -> None:
    """A section's condition: a choice of a single or multiple choice question of an earlier section."""
    if option_id is None:
        return
    row = session.exec(select(SurveyOption, SurveyQuestion, SurveySection)
                       .join(SurveyQuestion, col(SurveyQuestion.id) == SurveyOption.question_id)
                       .join(SurveySection, col(SurveySection.id) == SurveyQuestion.section_id)
                       .where(SurveyOption.id == option_id, SurveyQuestion.survey_id == survey.id)).first()
    if (row is None or row[0].role != OptionRole.CHOICE.value
            or row[1].kind not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
            or (before_position is not None and row[2].position >= before_position)):
        problems.add("show_if_option_id", _("Choose a choice of a question in an earlier section."))


@transactional
def add_section(session: Session, actor: Principal, survey_id: int, form: SectionDetails) -> SurveySection:
    survey = _draft(session, actor, survey_id, "title")
    count = session.exec(select(func.count()).select_from(SurveySection)
                         .where(SurveySection.survey_id == survey_id)).one()
    problems = Problems()
    if count >= MAX_SECTIONS:
        problems.add("title", _("A survey has at most %(max)s sections.", max=MAX_SECTIONS))
    _check_condition(session, survey, form.show_if_option_id, None, problems)
    problems.raise_any()
    position = session.exec(select(func.coalesce(func.max(SurveySection.position), -1))
                            .where(SurveySection.survey_id == survey_id)).one() + 1
    section = SurveySection(survey_id=survey_id, position=position, title=form.title, description=form.description,
                            show_if_option_id=form.show_if_option_id)
    session.add(section)
    session.flush()
    _audit(session, actor, "survey.section_added", "survey", survey_id, {"section_id": section.id})
    return section


def _draft_section(session: Session, actor: Principal, survey_id: int, section_id: int) -> tuple[Survey, SurveySection]:
    survey = _draft(session, actor, survey_id, "section_title")
    section = session.get(SurveySection, section_id)
    if section is None or section.survey_id != survey_id:
        raise NotFound()
    return survey, section


@transactional
def update_section(session: Session, actor: Principal, survey_id: int, section_id: int,
                   form: SectionDetails) -> SurveySection:
    """Change a draft's section: its title, introduction and condition (a choice of an earlier section)."""
    survey, section = _draft_section(session, actor, survey_id, section_id)
    problems = Problems()
    _check_condition(session, survey, form.show_if_option_id, section.position, problems)
    problems.raise_any()
    section.title, section.description = form.title, form.description
    section.show_if_option_id = form.show_if_option_id
    session.add(section)
    _audit(session, actor, "survey.section_updated", "survey", survey_id, {"section_id": section_id})
    return section


@transactional
def delete_section(session: Session, actor: Principal, survey_id: int, section_id: int) -> None:
    """Delete a draft's section with its questions (a survey keeps at least one section); conditions that
    named its choices are lifted."""
    _survey, section = _draft_section(session, actor, survey_id, section_id)
    count = session.exec(select(func.count()).select_from(SurveySection)
                         .where(SurveySection.survey_id == survey_id)).one()
    if count <= 1:
        raise Invalid({"survey": _("A survey keeps at least one section.")})
    question_ids = session.exec(select(SurveyQuestion.id).where(SurveyQuestion.section_id == section_id)).all()
    if question_ids:
        option_ids = session.exec(select(SurveyOption.id).where(col(SurveyOption.question_id).in_(question_ids))).all()
        if option_ids:
            session.execute(sa.update(SurveySection).where(col(SurveySection.show_if_option_id).in_(option_ids))
                            .values(show_if_option_id=None))
            session.execute(sa.delete(SurveyOption).where(col(SurveyOption.id).in_(option_ids)))
        session.execute(sa.delete(SurveyQuestion).where(col(SurveyQuestion.id).in_(question_ids)))
    session.delete(section)
    _audit(session, actor, "survey.section_deleted", "survey", survey_id, {"section_id": section_id})


def _question_problems(form: QuestionDetails) -> tuple[list[str], list[str], Problems]:
    problems = Problems()
    choices, rows = _lines(form.options), _lines(form.rows)
    for label in choices + rows:
        if message := text_error(label, OPTION_MAX, single_line=True):
            problems.add("rows" if label in rows and label not in choices else "options", message)
    if form.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.MATRIX):
        if len(choices) < 2:
            problems.add("options", _("Give at least two choices, one per line."))
        elif len(choices) > MAX_OPTIONS:
            problems.add("options", _("Give at most %(max)s choices.", max=MAX_OPTIONS))
        elif len(set(choices)) != len(choices):
            problems.add("options", _("Each choice must be different."))
    if form.kind is QuestionKind.MATRIX:
        if not rows:
            problems.add("rows", _("Give at least one row, one per line."))
        elif len(rows) > MAX_ROWS:
            problems.add("rows", _("Give at most %(max)s rows.", max=MAX_ROWS))
        elif len(set(rows)) != len(rows):
            problems.add("rows", _("Each row must be different."))
    if form.kind is QuestionKind.MULTIPLE and form.max_choices is not None and form.max_choices > len(choices):
        problems.add("max_choices", _("The limit cannot be more than the number of choices."))
    if form.kind is QuestionKind.SCALE:
        low = 1 if form.scale_min is None else form.scale_min
        high = 5 if form.scale_max is None else form.scale_max
        if high <= low:
            problems.add("scale_max", _("The end of the scale must be more than its start."))
    return choices, rows, problems


def _apply_question(session: Session, question: SurveyQuestion, form: QuestionDetails,
                    choices: list[str], rows: list[str]) -> None:
    question.kind = form.kind
    question.prompt, question.help_text, question.required = form.prompt, form.help_text, form.required
    question.max_choices = form.max_choices if form.kind is QuestionKind.MULTIPLE else None
    question.scale_min = 1 if form.scale_min is None else form.scale_min
    question.scale_max = 5 if form.scale_max is None else form.scale_max
    question.scale_min_label = form.scale_min_label if form.kind is QuestionKind.SCALE else ""
    question.scale_max_label = form.scale_max_label if form.kind is QuestionKind.SCALE else ""
    session.add(question)
    session.flush()
    existing = session.exec(select(SurveyOption).where(SurveyOption.question_id == question.id)
                            .order_by(col(SurveyOption.position), col(SurveyOption.id))).all()
    wanted = []
    if form.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.MATRIX):
        wanted += [(OptionRole.CHOICE.value, label) for label in choices]
    if form.kind is QuestionKind.MATRIX:
        wanted += [(OptionRole.ROW.value, label) for label in rows]
    # Keep the rows of options whose label stays (a section's condition may name them), in the new order.
    kept: dict[tuple[str, str], SurveyOption] = {(o.role, o.label): o for o in existing}
    used: set[int] = set()
    for position, (role, label) in enumerate(wanted):
        option = kept.get((role, label))
        if option is None or option.id in used:
            option = SurveyOption(question_id=question.id, role=role, label=label)
        option.position = position
        session.add(option)
        session.flush()
        assert option.id is not None
        used.add(option.id)
    for option in existing:
        if option.id not in used:
            session.execute(sa.update(SurveySection).where(col(SurveySection.show_if_option_id) == option.id)
                            .values(show_if_option_id=None))
            session.delete(option)


@transactional
def add_question(session: Session, actor: Principal, survey_id: int, form: QuestionDetails) -> SurveyQuestion:
    """A question at the end of a section (the survey's last one unless ``form.section_id`` names one)."""
    survey = _draft(session, actor, survey_id, "prompt")
    choices, rows, problems = _question_problems(form)
    count = session.exec(select(func.count()).select_from(SurveyQuestion)
                         .where(SurveyQuestion.survey_id == survey_id)).one()
    if count >= MAX_QUESTIONS:
        problems.add("prompt", _("A survey has at most %(max)s questions.", max=MAX_QUESTIONS))
    query = select(SurveySection).where(SurveySection.survey_id == survey.id)
    if form.section_id is not None:
        section = session.exec(query.where(SurveySection.id == form.section_id)).first()
        if section is None:
            problems.add("section_id", _("Choose a section from the list."))
    else:
        section = session.exec(query.order_by(col(SurveySection.position).desc())).first()
        if section is None:
            section = SurveySection(survey_id=survey.id, position=0)
            session.add(section)
            session.flush()
    problems.raise_any()
    assert section is not None
    position = session.exec(select(func.coalesce(func.max(SurveyQuestion.position), -1))
                            .where(SurveyQuestion.section_id == section.id)).one() + 1
    question = SurveyQuestion(survey_id=survey.id, section_id=section.id, position=position,  # type: ignore[arg-type]
                              kind=form.kind, prompt=form.prompt)
    _apply_question(session, question, form, choices, rows)
    _audit(session, actor, "survey.question_added", "survey", survey_id, {"question_id": question.id})
    return question


def _draft_question(session: Session, actor: Principal, survey_id: int, question_id: int,
                    field_name: str = "prompt") -> SurveyQuestion:
    _draft(session, actor, survey_id, field_name)
    question = session.get(SurveyQuestion, question_id)
    if question is None or question.survey_id != survey_id:
        raise NotFound()
    return question


@transactional
def update_question(session: Session, actor: Principal, survey_id: int, question_id: int,
                    form: QuestionDetails) -> SurveyQuestion:
    question = _draft_question(session, actor, survey_id, question_id)
    choices, rows, problems = _question_problems(form)
    problems.raise_any()
    _apply_question(session, question, form, choices, rows)
    _audit(session, actor, "survey.question_updated", "survey", survey_id, {"question_id": question_id})
    return question


@transactional
def move_question(session: Session, actor: Principal, survey_id: int, question_id: int, direction: str) -> None:
    """Swap a question with the one above (``up``) or below (``down``) it in its section."""
    question = _draft_question(session, actor, survey_id, question_id)
    siblings = list(session.exec(select(SurveyQuestion).where(SurveyQuestion.section_id == question.section_id)
                                 .order_by(col(SurveyQuestion.position), col(SurveyQuestion.id))).all())
    index = next(i for i, q in enumerate(siblings) if q.id == question.id)
    other = index - 1 if direction == "up" else index + 1 if direction == "down" else -1
    if not 0 <= other < len(siblings):
        return
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, sibling in enumerate(siblings):
        sibling.position = position
        session.add(sibling)
    _audit(session, actor, "survey.question_moved", "survey", survey_id, {"question_id": question_id})


@transactional
def delete_question(session: Session, actor: Principal, survey_id: int, question_id: int) -> None:
    question = _draft_question(session, actor, survey_id, question_id)
    option_ids = session.exec(select(SurveyOption.id).where(SurveyOption.question_id == question_id)).all()
    if option_ids:
        session.execute(sa.update(SurveySection).where(col(SurveySection.show_if_option_id).in_(option_ids))
                        .values(show_if_option_id=None))
    session.execute(sa.delete(SurveyOption).where(col(SurveyOption.question_id) == question_id))
    session.delete(question)
    _audit(session, actor, "survey.question_deleted", "survey", survey_id, {"question_id": question_id})


@transactional
def publish(session: Session, actor: Principal, survey_id: int, now: datetime | None = None) -> Survey:
    """Publish a draft: it has a question, and closes in the future."""
    survey = _draft(session, actor, survey_id)
    now = now or utcnow()
    problems = Problems()
    count = session.exec(select(func.count()).select_from(SurveyQuestion)
                         .where(SurveyQuestion.survey_id == survey_id)).one()
    if not count:
        problems.add("survey", _("Add at least one question before publishing."))
    if survey.closes_at is not None and survey.closes_at <= now:
        problems.add("survey", _("The closing date has passed: change it before publishing."))
    problems.raise_any()
    survey.published_at = now
    session.add(survey)
    _audit(session, actor, "survey.published", "survey", survey.id)
    return survey


@transactional
def close(session: Session, actor: Principal, survey_id: int, now: datetime | None = None) -> Survey:
    """Close a published survey now, before its closing date."""
    survey = managed_survey(session, actor, survey_id, lock=True)
    now = now or utcnow()
    if status_of(survey, now) in (Status.DRAFT, Status.CLOSED):
        raise Invalid({"survey": _("Only a published survey that has not closed can be closed.")})
    survey.closed_at = now
    session.add(survey)
    _audit(session, actor, "survey.closed", "survey", survey.id)
    return survey


# --- answering ------------------------------------------------------------------------------------


def respondent_key(settings: Settings, survey_id: int, user_id: int) -> str:
    """The keyed hash (HMAC-SHA256 with the site's secret) that finds one person's response to one survey,
    without storing who they are: 64 hex characters."""
    message = f"survey:{survey_id}:account:{user_id}".encode()
    return hmac.new(settings.signing_key().encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Parsed:
    """Answers read against a survey's form: the rows to store, and the sections left out."""

    rows: list[SurveyAnswer]
    skipped_sections: list[int]


def _raw(answers: Mapping[Any, Any], question: Question) -> Any:
    for key in (question.name, question.id, str(question.id)):
        if key in answers:
            return answers[key]
    return None


def _matrix_raw(answers: Mapping[Any, Any], question: Question, row: SurveyOption) -> Any:
    key = f"{question.name}_r{row.id}"
    if key in answers:
        return answers[key]
    nested = _raw(answers, question)
    if isinstance(nested, Mapping):
        return nested.get(row.id, nested.get(str(row.id)))
    return None


def _many(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | tuple | set) else [value]


def applicable_sections(form: SurveyForm, answers: Mapping[Any, Any]) -> tuple[list[Section], list[Section]]:
    """(the sections that apply, those skipped) for these answers: a conditional section applies when its
    condition's choice was picked in a section that applies itself."""
    picked: set[int] = set()
    applied, skipped = [], []
    for section in form.sections:
        if section.condition is not None and section.condition[1].id not in picked:
            skipped.append(section)
            continue
        applied.append(section)
        for question in section.questions:
            if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
                ids = {parse_id(value) for value in _many(_raw(answers, question))}
                picked |= {o.id for o in question.choices if o.id in ids}  # type: ignore[misc]
    return applied, skipped


def parse_answers(form: SurveyForm, answers: Mapping[Any, Any]) -> Parsed:
    """Check answers against the survey's questions; :class:`Invalid` with one message per question."""
    problems = Problems()
    rows: list[SurveyAnswer] = []
    applied, skipped = applicable_sections(form, answers)
    for section in applied:
        for question in section.questions:
            q = question.question
            name = question.name
            raw = _raw(answers, question)
            if question.kind is QuestionKind.SINGLE:
                value = _many(raw)[:1]
                option_id = parse_id(value[0]) if value and as_text(value[0]).strip() else None
                if option_id is None:
                    if value and as_text(value[0]).strip():
                        problems.add(name, _("Choose one of the options."))
                    elif q.required:
                        problems.add(name, _("Answer this question."))
                    continue
                if option_id not in {o.id for o in question.choices}:
                    problems.add(name, _("Choose one of the options."))
                    continue
                rows.append(SurveyAnswer(question_id=question.id, option_id=option_id, response_id=0))
            elif question.kind is QuestionKind.MULTIPLE:
                values = [v for v in _many(raw) if as_text(v).strip()][:MAX_OPTIONS + 1]
                ids = [parse_id(v) for v in values]
                valid = {o.id for o in question.choices}
                if any(i is None or i not in valid for i in ids):
                    problems.add(name, _("Choose from the options."))
                    continue
                unique = list(dict.fromkeys(ids))
                if not unique and q.required:
                    problems.add(name, _("Answer this question."))
                    continue
                if q.max_choices is not None and len(unique) > q.max_choices:
                    problems.add(name, _("Choose at most %(max)s.", max=q.max_choices))
                    continue
                rows += [SurveyAnswer(question_id=question.id, option_id=i, response_id=0) for i in unique]
            elif question.kind is QuestionKind.SCALE:
                value = _many(raw)[:1]
                text = as_text(value[0]).strip() if value else ""
                if not text:
                    if q.required:
                        problems.add(name, _("Answer this question."))
                    continue
                try:
                    number = int(text)
                except ValueError:
                    number = None
                if number is None or not q.scale_min <= number <= q.scale_max:
                    problems.add(name, _("Choose a value between %(low)s and %(high)s.",
                                         low=q.scale_min, high=q.scale_max))
                    continue
                rows.append(SurveyAnswer(question_id=question.id, number=number, response_id=0))
            elif question.kind is QuestionKind.TEXT:
                value = _many(raw)[:1]
                text = as_text(value[0]).strip() if value else ""
                if message := text_error(text, TEXT_ANSWER_MAX,
                                         required=_("Answer this question.") if q.required else None):
                    problems.add(name, message)
                    continue
                if text:
                    rows.append(SurveyAnswer(question_id=question.id, text=text, response_id=0))
            elif question.kind is QuestionKind.MATRIX:
                columns = {o.id for o in question.choices}
                cells = []
                missing = False
                for row in question.rows:
                    value = _many(_matrix_raw(answers, question, row))[:1]
                    text = as_text(value[0]).strip() if value else ""
                    if not text:
                        missing = True
                        continue
                    column = parse_id(text)
                    if column not in columns:
                        problems.add(name, _("Choose one of the options."))
                        break
                    cells.append(SurveyAnswer(question_id=question.id, option_id=column, row_option_id=row.id,
                                              response_id=0))
                else:
                    if missing and q.required:
                        problems.add(name, _("Answer every row of this question."))
                        continue
                    rows += cells
    problems.raise_any()
    return Parsed(rows, [section.id for section in skipped])


def _store(session: Session, response: SurveyResponse, parsed: Parsed) -> None:
    session.execute(sa.delete(SurveyAnswer).where(col(SurveyAnswer.response_id) == response.id))
    for row in parsed.rows:
        row.response_id = response.id  # type: ignore[assignment]
        session.add(row)


def _answerable(session: Session, actor: Principal, survey_id: int, action: str) -> Survey:
    """The survey, locked (one response per person, and its ``response_count``), if the actor may answer it."""
    survey = _get(session, survey_id, lock=True)
    if survey.published_at is None or not _target_public(session, survey):
        raise NotFound()
    permissions.require(actor, action, on_survey(session, survey), field="survey")
    return survey


def _count(session: Session, survey: Survey) -> None:
    survey.response_count = session.exec(select(func.count()).select_from(SurveyResponse)
                                         .where(SurveyResponse.survey_id == survey.id)).one()
    session.add(survey)


@transactional
def submit_response(session: Session, settings: Settings, actor: Principal, survey_id: int,
                    answers: Mapping[Any, Any]) -> SurveyResponse:
    """The actor's response: created, or replaced while the survey takes answers (one per person)."""
    survey = _answerable(session, actor, survey_id, "survey.answer")
    assert actor.user_id is not None
    parsed = parse_answers(load_form(session, survey), answers)
    key = respondent_key(settings, survey_id, actor.user_id)
    now = utcnow()
    response = session.exec(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id,
                                                         SurveyResponse.respondent_key == key)).first()
    created = response is None
    if response is None:
        response = SurveyResponse(survey_id=survey_id, respondent_key=key, submitted_at=now,
                                  respondent_id=None if survey.anonymous else actor.user_id,
                                  channel=Channel.ONLINE.value)
        try:
            with session.begin_nested():
                session.add(response)
                session.flush()
        except sa.exc.IntegrityError:  # the same person's other submission won the race: replace it
            response = session.exec(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id,
                                                                 SurveyResponse.respondent_key == key)).one()
            created = False
    if not created:
        response.edited_at = now
        session.add(response)
    _store(session, response, parsed)
    _count(session, survey)
    # An anonymous survey's answers leave no audit entry: its time and response id beside the sign-in
    # records would say who answered. A named survey's are logged with the account, as other writes are.
    if not survey.anonymous:
        _audit(session, actor, "survey.answered", "survey", survey_id,
               {"response_id": response.id, "edited": not created})
    return response


def own_response(session: Session, settings: Settings, actor: Principal, survey_id: int) -> SurveyResponse | None:
    """The actor's response to a survey (None when they have not answered, or nobody is signed in)."""
    if actor.user_id is None:
        return None
    key = respondent_key(settings, survey_id, actor.user_id)
    return session.exec(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id,
                                                     SurveyResponse.respondent_key == key)).first()


def answers_of(session: Session, response: SurveyResponse | None) -> dict[str, Any]:
    """A stored response as the form's values (``q12`` → id, ids, number or text; ``q12_r5`` → id)."""
    if response is None:
        return {}
    values: dict[str, Any] = {}
    rows = session.exec(select(SurveyAnswer, SurveyQuestion.kind)
                        .join(SurveyQuestion, col(SurveyQuestion.id) == SurveyAnswer.question_id)
                        .where(SurveyAnswer.response_id == response.id).order_by(col(SurveyAnswer.id))).all()
    for answer, kind in rows:
        name = f"q{answer.question_id}"
        if kind == QuestionKind.MULTIPLE:
            values.setdefault(name, []).append(str(answer.option_id))
        elif kind == QuestionKind.MATRIX:
            values[f"{name}_r{answer.row_option_id}"] = str(answer.option_id)
        elif kind == QuestionKind.SCALE:
            values[name] = str(answer.number)
        elif kind == QuestionKind.TEXT:
            values[name] = answer.text
        else:
            values[name] = str(answer.option_id)
    return values


@transactional
def enter_desk_response(session: Session, actor: Principal, survey_id: int, answers: Mapping[Any, Any],
                        channel: Channel | str | None, consent: bool, desk_note: str = "") -> SurveyResponse:
    """A resident's answer entered by the support desk (paper, workshop, phone): one response per entry,
    with no respondent, the desk member, the channel, the time consent was recorded and a private note."""
    survey = _answerable(session, actor, survey_id, "survey.enter_for_resident")
    problems = Problems()
    try:
        chosen = Channel(as_text(channel.value if isinstance(channel, Channel) else channel).strip())
    except ValueError:
        chosen = None
    if chosen is None or chosen is Channel.ONLINE:
        problems.add("channel", _("Choose how the opinion reached the ward."))
    if not consent:
        problems.add("consent", _("Confirm that the resident agreed to the publication of their opinion."))
    note = as_text(desk_note).strip()
    if message := text_error(note, DESK_NOTE_MAX, single_line=True):
        problems.add("desk_note", message)
    try:
        parsed = parse_answers(load_form(session, survey), answers)
    except Invalid as failed:
        problems.extend(failed.errors)
        parsed = None
    problems.raise_any()
    assert parsed is not None and chosen is not None
    now = utcnow()
    response = SurveyResponse(survey_id=survey_id, respondent_key=None, respondent_id=None, submitted_at=now,
                              channel=chosen.value, entered_by_id=actor.user_id, consent_at=now, desk_note=note)
    session.add(response)
    session.flush()
    _store(session, response, parsed)
    _count(session, survey)
    _audit(session, actor, "survey.desk_entered", "survey", survey_id,
           {"response_id": response.id, "channel": chosen.value})
    return response


# --- lists ----------------------------------------------------------------------------------------


def skipped_sections(session: Session, survey_id: int, answers: Mapping[Any, Any]) -> list[SurveySection]:
    """The conditional sections whose condition these answers do not meet (their answers were left out)."""
    survey = _get(session, survey_id)
    _applied, skipped = applicable_sections(load_form(session, survey), answers)
    return [section.section for section in skipped]


def _public() -> sa.ColumnElement[bool]:
    return col(Survey.published_at).is_not(None)


MAX_PAGE = 100_000
"""Pages of the survey lists beyond this are this one (an OFFSET must fit the database's integer)."""


def public_surveys(session: Session, *, open_now: bool, page: int = 1, now: datetime | None = None,
                   per_page: int = PER_PAGE) -> tuple[list[Survey], bool]:
    """Published surveys, open (or not yet open) ones or closed ones, a page at a time (newest first);
    and whether there is a further page. Surveys of a target the public does not see are left out by the
    page (:func:`public_filter`)."""
    now = now or utcnow()
    closed = sa.or_(col(Survey.closed_at).is_not(None),
                    sa.and_(col(Survey.closes_at).is_not(None), col(Survey.closes_at) <= now))
    query = select(Survey).where(_public(), sa.not_(closed) if open_now else closed)
    order = (col(Survey.closes_at).asc().nulls_last(), col(Survey.id).desc()) if open_now else \
        (col(Survey.id).desc(),)
    rows = list(session.exec(query.order_by(*order).offset((min(max(page, 1), MAX_PAGE) - 1) * per_page).limit(per_page + 1)).all())
    return rows[:per_page], len(rows) > per_page


def surveys_of(session: Session, target_type: str, target_id: int) -> list[Survey]:
    """The published surveys of one challenge or trial (at most 20, newest first)."""
    return list(session.exec(select(Survey).where(Survey.target_type == target_type, Survey.target_id == target_id,
                                                  _public()).order_by(col(Survey.id).desc()).limit(20)).all())


def managed_surveys(session: Session, actor: Principal, page: int = 1,
                    per_page: int = PER_PAGE) -> tuple[list[Survey], bool]:
    """The surveys the staff list shows, newest first, a page at a time: for administrators every survey; for
    ward staff the published ones, the site-wide ones and their departments' drafts (each row says whether
    they manage it)."""
    permissions.require(actor, "survey.manage", manage_facts())
    query = select(Survey)
    if not actor.is_admin:
        query = query.where(sa.or_(_public(), Survey.target_type == "",
                                   col(Survey.department_id).in_(sorted(actor.staff_department_ids))))
    rows = list(session.exec(query.order_by(col(Survey.id).desc())
                             .offset((min(max(page, 1), MAX_PAGE) - 1) * per_page).limit(per_page + 1)).all())
    return rows[:per_page], len(rows) > per_page


def target_titles(session: Session, surveys: Sequence[Survey]) -> dict[tuple[str, int], targets.Surveyed]:
    """What each survey of a list is about (one query or two per type of target)."""
    return targets.load_all(session, [(s.target_type, s.target_id) for s in surveys
                                      if s.target_type and s.target_id is not None])
