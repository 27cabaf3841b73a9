""""Download my data": the person's own survey responses (the core manifest's ``survey_responses`` export
section), found by their respondent key (a keyed hash of the survey and their account), so the answers of
anonymous surveys, which store no account, are theirs to download too. Responses the support desk entered
for someone on paper are not linked to any account and so are in nobody's download."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, or_, select

from cocreate.accounts.models import User
from cocreate.db.engine import DATABASE
from cocreate.settings import Settings
from cocreate.surveys.models import Survey, SurveyAnswer, SurveyOption, SurveyQuestion, SurveyResponse

KEYS_PER_QUERY = 500


def _settings(session: Session) -> Settings:
    database = session.info.get(DATABASE)
    return database.settings if database is not None else Settings.from_env()


def export_survey_responses(session: Session, user: User) -> list[dict[str, Any]]:
    from cocreate.surveys.services import respondent_key

    assert user.id is not None
    settings = _settings(session)
    survey_ids = session.exec(select(Survey.id).where(col(Survey.published_at).is_not(None))).all()
    keys = {respondent_key(settings, survey_id, user.id): survey_id for survey_id in survey_ids}  # type: ignore[arg-type]
    key_list = list(keys)
    responses: dict[int, tuple[SurveyResponse, str]] = {}
    for start in range(0, max(1, len(key_list)), KEYS_PER_QUERY):
        chunk = key_list[start:start + KEYS_PER_QUERY]
        mine = or_(col(SurveyResponse.respondent_key).in_(chunk), SurveyResponse.respondent_id == user.id) \
            if start == 0 else col(SurveyResponse.respondent_key).in_(chunk)
        for response, title in session.exec(select(SurveyResponse, Survey.title)
                                            .join(Survey, col(Survey.id) == SurveyResponse.survey_id)
                                            .where(mine)).all():
            responses[response.id] = (response, title)  # type: ignore[index]
    if not responses:
        return []
    row_option = aliased(SurveyOption)
    answers: dict[int, list[dict[str, Any]]] = {}
    for answer, prompt, option, row in session.exec(
            select(SurveyAnswer, SurveyQuestion.prompt, SurveyOption.label, row_option.label)
            .join(SurveyQuestion, col(SurveyQuestion.id) == SurveyAnswer.question_id)
            .outerjoin(SurveyOption, col(SurveyOption.id) == SurveyAnswer.option_id)
            .outerjoin(row_option, col(row_option.id) == SurveyAnswer.row_option_id)
            .where(col(SurveyAnswer.response_id).in_(list(responses)))
            .order_by(col(SurveyAnswer.response_id), col(SurveyQuestion.position), col(SurveyAnswer.id))).all():
        answers.setdefault(answer.response_id, []).append({
            "question": prompt, "choice": option, "statement": row, "number": answer.number,
            "text": answer.text or None})
    return [{"survey_id": response.survey_id, "survey": title, "channel": response.channel,
             "submitted_at": response.submitted_at, "edited_at": response.edited_at,
             "answers": answers.get(response_id, [])}
            for response_id, (response, title) in sorted(responses.items(), key=lambda item: item[1][0].survey_id)]
