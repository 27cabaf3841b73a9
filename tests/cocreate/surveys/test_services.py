"""Surveys' services: building, publishing, answering (one response per person, edited until the close),
anonymity, conditional sections and the desk's entries, per role."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from cocreate.audit.models import AuditEntry
from cocreate.channels import Channel
from cocreate.db.base import utcnow
from cocreate.errors import Forbidden, Invalid, NotFound, SignInRequired
from cocreate.settings import Settings
from cocreate.surveys import services
from cocreate.surveys.models import QuestionKind, Survey, SurveyAnswer, SurveyResponse
from tests.cocreate.surveys.conftest import People, build_survey, full_answers, option_id
from tests.factories import create_challenge

pytestmark = pytest.mark.databases("sqlite", why="the survey rules are Python; the writes are plain inserts "
                                   "(the concurrency test runs on SQLite's real write lock)")


def _answers(session: Session, response_id: int | None) -> list[SurveyAnswer]:
    return list(session.exec(select(SurveyAnswer).where(SurveyAnswer.response_id == response_id)).all())


def test_a_resident_answers_once_and_edits_until_the_close(session: Session, settings: Settings,
                                                           people: People) -> None:
    staff = people.as_(session, people.staff)
    sid, q = build_survey(session, staff)
    resident = people.as_(session, people.resident)
    first = services.submit_response(session, settings, resident, sid, full_answers(q))
    assert len(_answers(session, first.id)) == 7  # one choice, two picks, a number, two cells, a text
    again = services.submit_response(session, settings, resident, sid, full_answers(q, text="ベンチを増やして"))
    assert again.id == first.id and again.edited_at is not None
    texts = [a.text for a in _answers(session, first.id) if a.text]
    assert texts == ["ベンチを増やして"]
    assert session.get(Survey, sid).response_count == 1  # type: ignore[union-attr]
    assert services.answers_of(session, services.own_response(session, settings, resident, sid))[q["more"].name] \
        == "ベンチを増やして"
    services.close(session, staff, sid)
    with pytest.raises(Invalid) as refused:
        services.submit_response(session, settings, resident, sid, full_answers(q, text="変更"))
    assert "survey" in refused.value.errors
    assert [a.text for a in _answers(session, first.id) if a.text] == ["ベンチを増やして"]


def test_an_anonymous_survey_stores_no_account(session: Session, settings: Settings, people: People) -> None:
    sid, q = build_survey(session, people.as_(session, people.staff))
    response = services.submit_response(session, settings, people.as_(session, people.resident), sid, full_answers(q))
    row = session.execute(sa.select(SurveyResponse.__table__).where(
        SurveyResponse.__table__.c.id == response.id)).mappings().one()
    assert row["respondent_id"] is None and row["entered_by_id"] is None
    assert row["respondent_key"] == services.respondent_key(settings, sid, people.resident.id)  # type: ignore[arg-type]
    assert people.resident.id not in row.values()
    # Nor does the audit log (its time beside the sign-in records would say who answered).
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "survey.answered")).all() == []


def test_a_named_survey_keeps_the_account(session: Session, settings: Settings, people: People) -> None:
    sid, q = build_survey(session, people.as_(session, people.staff), anonymous=False)
    response = services.submit_response(session, settings, people.as_(session, people.resident), sid, full_answers(q))
    assert response.respondent_id == people.resident.id
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "survey.answered")).one()
    assert entry.actor_id == people.resident.id


def test_a_conditional_section_is_ignored_when_its_choice_was_not_picked(session: Session, settings: Settings,
                                                                         people: People) -> None:
    sid, q = build_survey(session, people.as_(session, people.staff))
    resident = people.as_(session, people.resident)
    # 「いいえ」: the section of users is skipped, its required question too, and its answer is not stored.
    response = services.submit_response(session, settings, resident, sid, full_answers(q, uses="いいえ"))
    assert not [a for a in _answers(session, response.id) if a.text]
    assert [s.id for s in services.skipped_sections(session, sid, full_answers(q, uses="いいえ"))] == [q["section"]]
    # 「はい」: the section applies and its required question must be answered.
    with pytest.raises(Invalid) as refused:
        services.submit_response(session, settings, resident, sid, full_answers(q, text=""))
    assert refused.value.errors == {q["more"].name: "この質問に回答してください。"} or q["more"].name in refused.value.errors


@pytest.mark.parametrize("bad", [
    {"score": "9"}, {"score": "abc"}, {"uses": "999999"}, {"ways": ["1", "2", "3"]},
])
def test_bad_answers_are_refused_and_change_nothing(session: Session, settings: Settings, people: People,
                                                   bad: dict[str, object]) -> None:
    sid, q = build_survey(session, people.as_(session, people.staff))
    answers = full_answers(q)
    for key, value in bad.items():
        if key == "ways":
            value = [str(o.id) for o in q["ways"].choices]  # three picks, at most two allowed
        answers[q[key].name] = value
    with pytest.raises(Invalid):
        services.submit_response(session, settings, people.as_(session, people.resident), sid, answers)
    assert session.exec(select(SurveyResponse)).all() == []


def test_text_too_long_is_refused(session: Session, settings: Settings, people: People) -> None:
    sid, q = build_survey(session, people.as_(session, people.staff))
    with pytest.raises(Invalid) as refused:
        services.submit_response(session, settings, people.as_(session, people.resident), sid,
                                 full_answers(q, text="あ" * (services.TEXT_ANSWER_MAX + 1)))
    assert q["more"].name in refused.value.errors


def test_who_may_answer(session: Session, settings: Settings, people: People) -> None:
    sid, q = build_survey(session, people.as_(session, people.staff))
    with pytest.raises(SignInRequired):
        services.submit_response(session, settings, people.as_(session, None), sid, full_answers(q))
    with pytest.raises(Forbidden):
        services.submit_response(session, settings, people.as_(session, people.unconfirmed), sid, full_answers(q))
    draft, dq = build_survey(session, people.as_(session, people.staff), publish=False)
    with pytest.raises(NotFound):
        services.submit_response(session, settings, people.as_(session, people.resident), draft, full_answers(dq))


def test_not_yet_open_refuses(session: Session, settings: Settings, people: People) -> None:
    sid, q = build_survey(session, people.as_(session, people.staff), opens_at=utcnow() + timedelta(days=1))
    with pytest.raises(Invalid):
        services.submit_response(session, settings, people.as_(session, people.resident), sid, full_answers(q))


def test_published_questions_are_frozen_but_dates_change(session: Session, people: People) -> None:
    staff = people.as_(session, people.staff)
    sid, q = build_survey(session, staff)
    with pytest.raises(Invalid):
        services.add_question(session, staff, sid, services.QuestionDetails(kind=QuestionKind.TEXT, prompt="追加"))
    with pytest.raises(Invalid):
        services.delete_question(session, staff, sid, q["score"].id)
    closes = utcnow() + timedelta(days=30)
    survey = services.update_survey(session, staff, sid, services.SurveyDetails(
        title="新しい題名", closes_at=closes, anonymous=False))
    assert survey.title == "新しい題名" and survey.closes_at == closes
    assert survey.anonymous  # a published survey's anonymity does not change


def test_who_manages_a_challenges_survey(session: Session, people: People) -> None:
    challenge = create_challenge(session, people.department)
    details = services.SurveyDetails(title="課題のアンケート", target_type="challenge", target_id=challenge.id)
    with pytest.raises(Forbidden):
        services.create_survey(session, people.as_(session, people.other_staff), details)
    for user in (people.resident, people.desk):
        with pytest.raises(Forbidden):
            services.create_survey(session, people.as_(session, user), details)
    with pytest.raises(SignInRequired):
        services.create_survey(session, people.as_(session, None), details)
    survey = services.create_survey(session, people.as_(session, people.staff), details)
    assert survey.target_type == "challenge" and survey.department_id == people.department.id
    # Others' drafts do not exist for them; administrators manage every survey.
    with pytest.raises(NotFound):
        services.add_question(session, people.as_(session, people.other_staff), survey.id,  # type: ignore[arg-type]
                              services.QuestionDetails(kind=QuestionKind.TEXT, prompt="質問"))
    services.add_question(session, people.as_(session, people.admin), survey.id,  # type: ignore[arg-type]
                          services.QuestionDetails(kind=QuestionKind.TEXT, prompt="質問"))
    # A site-wide survey: any ward staff.
    site = services.create_survey(session, people.as_(session, people.other_staff), services.SurveyDetails(title="区全体"))
    # The staff list: others' drafts are not listed; site-wide ones and one's own department's are.
    listed, _more = services.managed_surveys(session, people.as_(session, people.other_staff))
    assert [x.id for x in listed] == [site.id]
    listed, _more = services.managed_surveys(session, people.as_(session, people.staff))
    assert {x.id for x in listed} == {site.id, survey.id}
    with pytest.raises(Forbidden):
        services.managed_surveys(session, people.as_(session, people.resident))


def test_unknown_target_is_a_form_error(session: Session, people: People) -> None:
    with pytest.raises(Invalid) as refused:
        services.create_survey(session, people.as_(session, people.staff), services.SurveyDetails(
            title="x", target_type="nothing", target_id=1))
    assert "target_type" in refused.value.errors


def test_the_desk_enters_paper_answers(session: Session, settings: Settings, people: People) -> None:
    sid, q = build_survey(session, people.as_(session, people.staff))
    desk = people.as_(session, people.desk)
    first = services.enter_desk_response(session, desk, sid, full_answers(q), Channel.PAPER, True, "用紙 No.12")
    second = services.enter_desk_response(session, desk, sid, full_answers(q), "phone", True, "")
    assert first.id != second.id
    assert (first.respondent_key, first.respondent_id, first.entered_by_id) == (None, None, people.desk.id)
    assert first.channel == "paper" and first.consent_at is not None and first.desk_note == "用紙 No.12"
    assert session.get(Survey, sid).response_count == 2  # type: ignore[union-attr]
    with pytest.raises(Invalid) as refused:
        services.enter_desk_response(session, desk, sid, full_answers(q), "online", False, "x\ny")
    assert set(refused.value.errors) >= {"channel", "consent", "desk_note"}
    for user in (people.resident, people.staff):
        with pytest.raises(Forbidden):
            services.enter_desk_response(session, people.as_(session, user), sid, full_answers(q), "paper", True)


def test_questions_are_checked(session: Session, people: People) -> None:
    staff = people.as_(session, people.staff)
    sid, _q = build_survey(session, staff, publish=False)
    for form, field in [
        (dict(kind=QuestionKind.SINGLE, prompt="x", options="ひとつ"), "options"),
        (dict(kind=QuestionKind.MATRIX, prompt="x", options="a\nb"), "rows"),
        (dict(kind=QuestionKind.SCALE, prompt="x", scale_min=5, scale_max=1), "scale_max"),
        (dict(kind=QuestionKind.MULTIPLE, prompt="x", options="a\nb", max_choices=3), "max_choices"),
        (dict(kind=QuestionKind.SINGLE, prompt="x", options="a\na"), "options"),
    ]:
        with pytest.raises(Invalid) as refused:
            services.add_question(session, staff, sid, services.QuestionDetails(**form))
        assert field in refused.value.errors


def test_publish_needs_a_question(session: Session, people: People) -> None:
    staff = people.as_(session, people.staff)
    survey = services.create_survey(session, staff, services.SurveyDetails(title="空"))
    with pytest.raises(Invalid):
        services.publish(session, staff, survey.id)  # type: ignore[arg-type]


def test_move_and_delete(session: Session, people: People) -> None:
    staff = people.as_(session, people.staff)
    sid, q = build_survey(session, staff, publish=False)
    services.move_question(session, staff, sid, q["ways"].id, "up")
    form = services.load_form(session, session.get(Survey, sid))  # type: ignore[arg-type]
    assert [x.id for x in form.sections[0].questions][:2] == [q["ways"].id, q["uses"].id]
    services.delete_question(session, staff, sid, q["uses"].id)
    form = services.load_form(session, session.get(Survey, sid))  # type: ignore[arg-type]
    assert q["uses"].id not in [x.id for x in form.questions]
    assert form.sections[1].condition is None  # its condition's choice went with it


@pytest.mark.committed("racing threads each use their own connection")
@pytest.mark.databases("sqlite", "postgresql", why="SQLite's write lock and PostgreSQL's row lock and unique index")
def test_one_response_per_person_under_concurrency(session: Session, settings: Settings, people: People) -> None:
    """Two submissions of the same person at the same moment (two tabs, a double click) keep one response,
    and the survey counts one."""
    import threading

    from cocreate.accounts.models import User
    from cocreate.accounts.permissions import Principal
    from cocreate.db import Database

    sid, q = build_survey(session, people.as_(session, people.staff))
    racing = Database(settings, pool_size=4, max_overflow=0)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def attempt(text: str) -> None:
        try:
            with racing.session() as db:
                principal = Principal.load(db, db.get(User, people.resident.id))
                db.commit()
                barrier.wait(timeout=30)
                services.submit_response(db, settings, principal, sid, full_answers(q, text=text))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=attempt, args=(text,)) for text in ("一つ目", "二つ目")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    racing.dispose()
    assert errors == []
    session.expire_all()
    responses = session.exec(select(SurveyResponse).where(SurveyResponse.survey_id == sid)).all()
    assert len(responses) == 1
    assert session.get(Survey, sid).response_count == 1  # type: ignore[union-attr]
    texts = session.exec(select(SurveyAnswer.text).where(SurveyAnswer.response_id == responses[0].id,
                                                         SurveyAnswer.text != "")).all()
    assert len(texts) == 1 and texts[0] in ("一つ目", "二つ目")  # the later one replaced the earlier one whole


def test_the_rules_per_role(session: Session, people: People) -> None:
    """survey.manage, survey.answer and survey.enter_for_resident for every kind of person, on the facts only."""
    from cocreate import permissions

    owned = frozenset({people.department.id})  # type: ignore[arg-type]
    open_owned = services.OnSurvey(services.Status.OPEN, owned)
    closed = services.OnSurvey(services.Status.CLOSED, owned)
    site = services.OnSurvey(services.Status.DRAFT, None)
    expected = {  # person: (manage owned, manage site-wide, answer open, answer closed, desk open, desk closed)
        None: (False, False, False, False, False, False),
        "resident": (False, False, True, False, False, False),
        "unconfirmed": (False, False, False, False, False, False),
        "staff": (True, True, True, False, False, False),
        "other_staff": (False, True, True, False, False, False),
        "desk": (False, False, True, False, True, False),
        "admin": (True, True, True, False, True, False),
    }
    for person, answers in expected.items():
        actor = people.as_(session, getattr(people, person) if person else None)
        got = (bool(permissions.can(actor, "survey.manage", open_owned)),
               bool(permissions.can(actor, "survey.manage", site)),
               bool(permissions.can(actor, "survey.answer", open_owned)),
               bool(permissions.can(actor, "survey.answer", closed)),
               bool(permissions.can(actor, "survey.enter_for_resident", open_owned)),
               bool(permissions.can(actor, "survey.enter_for_resident", closed)))
        assert got == answers, person
    # A closed survey says so to everyone, under the form's "survey" field; nobody signed in is asked to sign in.
    assert permissions.can(people.as_(session, people.resident), "survey.answer", closed).field == "survey"
    assert permissions.can(people.as_(session, None), "survey.answer", open_owned).sign_in


def test_dates(session: Session, settings: Settings, people: People) -> None:
    staff = people.as_(session, people.staff)
    draft, _q = build_survey(session, staff, publish=False, closes_at=utcnow() - timedelta(hours=1))
    with pytest.raises(Invalid):
        services.publish(session, staff, draft)  # its closing date has passed
    with pytest.raises(Invalid) as refused:
        services.create_survey(session, staff, services.SurveyDetails(
            title="x", opens_at=utcnow() + timedelta(days=2), closes_at=utcnow() + timedelta(days=1)))
    assert "closes_at" in refused.value.errors
    sid, _q = build_survey(session, staff, closes_at=utcnow() + timedelta(days=1))
    survey = session.get(Survey, sid)
    assert survey is not None
    assert services.status_of(survey) is services.Status.OPEN
    assert services.status_of(survey, utcnow() + timedelta(days=2)) is services.Status.CLOSED
    services.close(session, staff, sid)
    with pytest.raises(Invalid):
        services.close(session, staff, sid)  # already closed


def test_sections_are_edited_and_deleted_while_a_draft(session: Session, settings: Settings, people: People) -> None:
    staff = people.as_(session, people.staff)
    sid, q = build_survey(session, staff, publish=False)
    section, more = q["section"], q["more"].id
    services.update_section(session, staff, sid, section, services.SectionDetails(title="新しい題"))
    form = services.load_form(session, session.get(Survey, sid))  # type: ignore[arg-type]
    assert form.sections[1].section.title == "新しい題" and form.sections[1].condition is None  # condition lifted
    with pytest.raises(Invalid) as refused:  # a condition on a choice of its own (or a later) section
        services.update_section(session, staff, sid, form.sections[0].id, services.SectionDetails(
            show_if_option_id=option_id(q["uses"], "はい")))
    assert "show_if_option_id" in refused.value.errors
    services.delete_section(session, staff, sid, section)
    form = services.load_form(session, session.get(Survey, sid))  # type: ignore[arg-type]
    assert len(form.sections) == 1 and more not in [x.id for x in form.questions]
    with pytest.raises(Invalid):
        services.delete_section(session, staff, sid, form.sections[0].id)  # the last one stays
    with pytest.raises(NotFound):
        services.update_section(session, staff, sid, 999999, services.SectionDetails())
    with pytest.raises(NotFound):  # a draft does not exist for residents
        services.delete_section(session, people.as_(session, people.resident), sid, form.sections[0].id)
