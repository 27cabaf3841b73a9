"""People and surveys the survey tests start from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session

from cocreate.accounts.models import Department, Role, User
from cocreate.accounts.permissions import Principal
from cocreate.surveys import services
from cocreate.surveys.models import QuestionKind
from tests.factories import OTHER_DEPARTMENT, actor, create_department, create_user


@dataclass
class People:
    department: Department
    other_department: Department
    staff: User
    other_staff: User
    admin: User
    desk: User
    resident: User
    second: User
    unconfirmed: User

    def as_(self, session: Session, user: User | None) -> Principal:
        return actor(session, user)


@pytest.fixture
def people(session: Session) -> People:
    department = create_department(session)
    other = create_department(session, "transport", **OTHER_DEPARTMENT)
    return People(
        department=department, other_department=other,
        staff=create_user(session, "kankyo@example.jp", roles=[(Role.STAFF, department.id)]),  # type: ignore[list-item]
        other_staff=create_user(session, "kotsu@example.jp", roles=[(Role.STAFF, other.id)]),  # type: ignore[list-item]
        admin=create_user(session, "admin@example.jp", roles=[Role.ADMIN]),
        desk=create_user(session, "desk@example.jp", roles=[Role.SUPPORT_DESK]),
        resident=create_user(session, "hanako@example.jp", display_name="花子"),
        second=create_user(session, "taro@example.jp", display_name="太郎"),
        unconfirmed=create_user(session, "new@example.jp", confirmed=False),
    )


def build_survey(session: Session, staff: Principal, *, anonymous: bool = True, publish: bool = True,
                 **details: Any) -> tuple[int, dict[str, Any]]:
    """A survey with one question of each kind and a section shown only for the choice 「はい」 of the first
    question; published unless said otherwise. Returns its id and the questions and options by name."""
    survey = services.create_survey(session, staff, services.SurveyDetails(
        title="公園の使い方アンケート", description="ご意見をお聞かせください。", anonymous=anonymous,
        results_public=True, **details))
    assert survey.id is not None
    sid = survey.id
    add = lambda **form: services.add_question(session, staff, sid, services.QuestionDetails(**form))  # noqa: E731
    uses = add(kind=QuestionKind.SINGLE, prompt="公園を利用しますか", options="はい\nいいえ", required=True)
    ways = add(kind=QuestionKind.MULTIPLE, prompt="何をしますか", options="散歩\n運動\n読書", max_choices=2)
    score = add(kind=QuestionKind.SCALE, prompt="満足度", scale_min=1, scale_max=5, scale_min_label="不満",
                scale_max_label="満足", required=True)
    grid = add(kind=QuestionKind.MATRIX, prompt="設備の評価", options="良い\n悪い", rows="ベンチ\nトイレ")
    section = services.add_section(session, staff, sid, services.SectionDetails(
        title="利用者のかたへ", show_if_option_id=_option(session, uses.id, "はい")))
    more = add(kind=QuestionKind.TEXT, prompt="改善してほしい点", section_id=section.id, required=True)
    if publish:
        services.publish(session, staff, sid)
    form = services.load_form(session, services._get(session, sid))
    names = {"uses": form.question(uses.id), "ways": form.question(ways.id), "score": form.question(score.id),
             "grid": form.question(grid.id), "more": form.question(more.id), "section": section.id}
    return sid, names


def _option(session: Session, question_id: int | None, label: str) -> int:
    from sqlmodel import select

    from cocreate.surveys.models import SurveyOption
    option = session.exec(select(SurveyOption).where(SurveyOption.question_id == question_id,
                                                     SurveyOption.label == label)).one()
    assert option.id is not None
    return option.id


def option_id(question: Any, label: str) -> int:
    return next(o.id for o in question.choices + question.rows if o.label == label)


def full_answers(q: dict[str, Any], *, uses: str = "はい", text: str = "トイレを増やしてほしい") -> dict[str, Any]:
    return {
        q["uses"].name: str(option_id(q["uses"], uses)),
        q["ways"].name: [str(option_id(q["ways"], "散歩")), str(option_id(q["ways"], "読書"))],
        q["score"].name: "4",
        f"{q['grid'].name}_r{option_id(q['grid'], 'ベンチ')}": str(option_id(q["grid"], "良い")),
        f"{q['grid'].name}_r{option_id(q['grid'], 'トイレ')}": str(option_id(q["grid"], "悪い")),
        q["more"].name: text,
    }
