"""Pages of surveys: the public list and the form (/surveys), the staff's builder (/staff/surveys) and the
support desk's entry of a resident's answers (/desk/surveys). HTTP only: the rules live in
:mod:`cocreate.surveys.services`. Every form works without JavaScript (POST, then 303): a conditional section
is shown with the condition it needs, and the server leaves out the answers of a section whose condition
was not picked and says so; with JavaScript those sections are hidden until their choice is picked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate import permissions
from cocreate.accounts.permissions import Principal, principal_of, signed_in
from cocreate.channels import Channel
from cocreate.errors import Invalid, NotFound
from cocreate.forms import Flag, as_text, parse_id
from cocreate.i18n import WARD_TIMEZONE, lazy_gettext
from cocreate.i18n import gettext as _
from cocreate.surveys import services, targets
from cocreate.surveys.models import QUESTION_KIND_LABELS, QuestionKind, Survey, SurveyStage
from cocreate.web.dependencies import DbSession
from cocreate.web.forms import Form, again_on_invalid
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page

LIST = "surveys/list.html"
DETAIL = "surveys/detail.html"
STAFF_LIST = "surveys/staff_list.html"
STAFF_FORM = "surveys/staff_form.html"
STAFF_EDIT = "surveys/staff_edit.html"
QUESTION_FORM = "surveys/question_form.html"
SECTION_FORM = "surveys/section_form.html"
PREVIEW = "surveys/preview.html"
DESK_LIST = "surveys/desk_list.html"
DESK_ENTRY = "surveys/desk_entry.html"
SECTION = "surveys/_section.html"
LINKED_SECTION = "surveys/_linked_section.html"
DESK_CHANNELS = {Channel.PAPER: lazy_gettext("Paper form"), Channel.WORKSHOP: lazy_gettext("Workshop"),
                 Channel.PHONE: lazy_gettext("Phone call")}
"""The desk's channels as its forms name them (the same words as the desk's other forms)."""


def _settings(request: Request) -> Any:
    return request.app.state.settings


def _local(value: datetime | None) -> str:
    return value.astimezone(WARD_TIMEZONE).strftime("%Y-%m-%dT%H:%M") if value else ""


def _about(session: Session, surveys: list[Survey]) -> dict[int, targets.Surveyed]:
    found = services.target_titles(session, surveys)
    return {s.id: found[(s.target_type, s.target_id)] for s in surveys  # type: ignore[misc]
            if s.target_type and s.target_id is not None and (s.target_type, s.target_id) in found}


def _public(surveys: list[Survey], about: dict[int, targets.Surveyed]) -> list[Survey]:
    """Surveys of the whole site, or of a thing everyone sees."""
    return [s for s in surveys if not s.target_type or (s.id in about and about[s.id].public)]


# --- the public pages ------------------------------------------------------------------------------


@get("/surveys", name="survey-list", sync_to_thread=True)
def survey_list(request: Request, db_session: DbSession, page: FromQuery[str] = "1", target: FromQuery[str] = "",
                target_id: FromQuery[str] = "") -> Template:
    """Open surveys (and those not yet open), then closed ones a page at a time; or, with ``target`` and
    ``target_id``, the surveys of one challenge or trial (its page loads that list with htmx, and links to it)."""
    number, _size = clamp_page(page)
    thing_id = parse_id(target_id)
    if target and thing_id is not None:
        try:
            thing = targets.load(db_session, as_text(target)[:20], thing_id)
        except NotFound:
            thing = None
        if thing is not None and thing.public:
            surveys = services.surveys_of(db_session, thing.type, thing.id)
            return render(request, LIST, {"thing": thing, "target_surveys": surveys, "open_surveys": [],
                                          "closed_surveys": [], "about": {}, "page": 1, "more": False,
                                          "status_of": services.status_of})
    open_now, _more_open = services.public_surveys(db_session, open_now=True, per_page=50)
    closed, more = services.public_surveys(db_session, open_now=False, page=number)
    about = _about(db_session, open_now + closed)
    return render(request, LIST, {"open_surveys": _public(open_now, about), "closed_surveys": _public(closed, about),
                                  "about": about, "thing": None, "target_surveys": [], "page": number, "more": more, "status_of": services.status_of})


def _detail(request: Request, db_session: Session, survey_id: int, *, values: dict[str, Any] | None = None,
            errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    actor = principal_of(request)
    survey = services.visible_survey(db_session, actor, survey_id)
    facts = services.on_survey(db_session, survey)
    own = services.own_response(db_session, _settings(request), actor, survey_id)
    if values is None:
        values = services.answers_of(db_session, own)
    about = _about(db_session, [survey])
    return render(request, DETAIL, {
        "survey": survey, "facts": facts, "form": services.load_form(db_session, survey), "values": values,
        "errors": errors or {}, "own": own, "about": about.get(survey_id), "status": facts.status,
        "decision": permissions.can(actor, "survey.answer", facts),
        "action": request.app.route_reverse("survey-answer", survey_id=survey_id),
    }, status_code=status_code)


@get("/surveys/{survey_id:int}", name="survey-detail", sync_to_thread=True)
def survey_detail(request: Request, db_session: DbSession, survey_id: FromPath[int]) -> Template:
    return _detail(request, db_session, survey_id)


def _answer_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                  survey_id: int, data: dict[str, Any], **_kwargs: Any) -> Template:
    return _detail(request, db_session, survey_id, values=_posted(data), errors=failed.errors)


def _posted(data: dict[str, Any]) -> dict[str, Any]:
    """The answers as sent (a checkbox list stays a list), to show again beside their errors."""
    return {key: value if isinstance(value, list) else as_text(value) for key, value in data.items()
            if key.startswith("q")}


def _skipped_message(db_session: Session, survey_id: int, data: dict[str, Any]) -> str:
    """Says which sections were left out because the answers did not meet their condition ("" for none)."""
    skipped = services.skipped_sections(db_session, survey_id, data)
    if not skipped:
        return ""
    titles = [s.title or _("Section %(number)s", number=s.position + 1) for s in skipped]
    return " " + _("These sections did not apply to your answers and were left out: %(sections)s.",
                   sections="、".join(titles))


@post("/surveys/{survey_id:int}", name="survey-answer", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_answer_again)
def survey_answer(request: Request, db_session: DbSession, survey_id: FromPath[int], data: Form) -> Redirect:
    actor = principal_of(request)
    response = services.submit_response(db_session, _settings(request), actor, survey_id, data)
    message = (_("Your answers were changed.") if response.edited_at else _("Thank you. Your answers were saved."))
    return after_post(request, request.app.route_reverse("survey-detail", survey_id=survey_id),  # type: ignore[return-value]
                      message=message + _skipped_message(db_session, survey_id, data))


# --- the staff's builder ---------------------------------------------------------------------------


def _require_staff(actor: Principal) -> None:
    permissions.require(actor, "survey.manage", services.manage_facts())


def _target_options(db_session: Session) -> list[tuple[str, str]]:
    options = [("", _("The whole site"))]
    options += [(kind.name, str(kind.label)) for kind in targets.all_targets()]
    return options


def _target_fields(db_session: Session) -> dict[str, Any]:
    return {"target_options": _target_options(db_session), "target_choices": _target_choices(db_session),
            "target_labels": {kind.name: str(kind.label) for kind in targets.all_targets()},
            "stage_options": _stage_options()}


def _target_errors(errors: dict[str, str], form: dict[str, Any]) -> dict[str, str]:
    """The thing's error under the list of its type (``target_id_challenge``), where the form shows it."""
    kind = as_text(form.get("target_type"))
    return {(f"target_id_{kind}" if key == "target_id" and kind else key): message for key, message in errors.items()}


def _target_choices(db_session: Session) -> dict[str, list[tuple[str, str]]]:
    return {kind.name: [("", _("Choose…"))] + [(str(i), title) for i, title in kind.choices(db_session)]
            for kind in targets.all_targets()}


def _stage_options() -> list[tuple[str, str]]:
    return [("", _("Not applicable")), (SurveyStage.BEFORE.value, _("Before the trial")),
            (SurveyStage.AFTER.value, _("After the trial"))]


@get("/staff/surveys", name="staff-surveys", guards=[signed_in], sync_to_thread=True)
def staff_list(request: Request, db_session: DbSession, page: FromQuery[str] = "1") -> Template:
    actor = principal_of(request)
    number, _size = clamp_page(page)
    surveys, more = services.managed_surveys(db_session, actor, number)
    about = _about(db_session, surveys)
    manages = {s.id: bool(permissions.can(actor, "survey.manage", services.OnSurvey(
        services.status_of(s), about[s.id].department_ids if s.id in about else (None if not s.target_type
                                                                                 else frozenset()))))
               for s in surveys}
    return render(request, STAFF_LIST, {"surveys": surveys, "about": about, "page": number, "more": more,
                                        "manages": manages, "status_of": services.status_of})


def _details_page(request: Request, db_session: Session, form: dict[str, Any], errors: dict[str, str],
                  survey: Survey | None = None, status_code: int = 200) -> Template:
    _require_staff(principal_of(request))
    return render(request, STAFF_FORM, {
        "form": form, "errors": _target_errors(errors, form), "survey": survey, **_target_fields(db_session),
        "published": survey is not None and survey.published_at is not None,
    }, status_code=status_code)


def _details_values(survey: Survey) -> dict[str, Any]:
    return {"title": survey.title, "description": survey.description, "target_type": survey.target_type,
            f"target_id_{survey.target_type}": str(survey.target_id or ""), "stage": survey.stage,
            "anonymous": "yes" if survey.anonymous else "", "results_public": "yes" if survey.results_public else "",
            "opens_at": _local(survey.opens_at), "closes_at": _local(survey.closes_at)}


def _details_form(data: dict[str, Any]) -> services.SurveyDetails:
    """The survey form: the thing it is about is chosen in the list of its type (``target_id_{type}``)."""
    values = dict(data)
    target_type = as_text(values.get("target_type")).strip()
    if target_type:
        values["target_id"] = values.get(f"target_id_{target_type}", values.get("target_id"))
    return services.SurveyDetails.parse(values)


@get("/staff/surveys/new", name="staff-survey-new", guards=[signed_in], sync_to_thread=True)
def staff_new(request: Request, db_session: DbSession) -> Template:
    target_type = as_text(request.query_params.get("target"))[:20]
    target_id = as_text(request.query_params.get("target_id"))[:20]
    form = {"anonymous": "yes", "results_public": "yes", "target_type": target_type,
            f"target_id_{target_type}": target_id}
    return _details_page(request, db_session, form, {})


def _new_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
               **_kwargs: Any) -> Template:
    return _details_page(request, db_session, form, failed.errors)


@post("/staff/surveys/new", name="staff-survey-create", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_new_again)
def staff_create(request: Request, db_session: DbSession, data: Form) -> Redirect:
    actor = principal_of(request)
    _require_staff(actor)
    survey = services.create_survey(db_session, actor, _details_form(data))
    return after_post(request, request.app.route_reverse("staff-survey-edit", survey_id=survey.id),  # type: ignore[return-value]
                      message=_("The survey was created as a draft. Add its questions."))


def _edit_page(request: Request, db_session: Session, survey_id: int, *, form: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None, question_form: dict[str, Any] | None = None,
               section_form: dict[str, Any] | None = None, status_code: int = 200) -> Template:
    actor = principal_of(request)
    survey = services.managed_survey(db_session, actor, survey_id)
    survey_form = services.load_form(db_session, survey)
    return render(request, STAFF_EDIT, {
        "survey": survey, "survey_form": survey_form, "status": services.status_of(survey),
        "about": _about(db_session, [survey]).get(survey_id), "errors": errors or {},
        "form": form if form is not None else _details_values(survey),
        "question_form": question_form or {"kind": QuestionKind.SINGLE.value},
        "section_form": section_form or {}, **_builder_options(survey_form), **_target_fields(db_session),
        "published": survey.published_at is not None,
    }, status_code=status_code)


def _builder_options(survey_form: services.SurveyForm) -> dict[str, Any]:
    sections = [(str(s.id), s.section.title or _("Section %(number)s", number=i + 1))
                for i, s in enumerate(survey_form.sections)]
    conditions = [("", _("Always shown"))] + [
        (str(option.id), f"{question.question.prompt} → {option.label}")
        for question in survey_form.questions if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
        for option in question.choices]
    kinds = [(kind.value, str(QUESTION_KIND_LABELS[kind])) for kind in QuestionKind]
    return {"section_options": sections, "condition_options": conditions, "kind_options": kinds}


@get("/staff/surveys/{survey_id:int}", name="staff-survey-edit", guards=[signed_in], sync_to_thread=True)
def staff_edit(request: Request, db_session: DbSession, survey_id: FromPath[int]) -> Template:
    return _edit_page(request, db_session, survey_id)


def _update_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                  survey_id: int, **_kwargs: Any) -> Template:
    return _edit_page(request, db_session, survey_id, form=form, errors=_target_errors(failed.errors, form))


@post("/staff/surveys/{survey_id:int}", name="staff-survey-update", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_update_again)
def staff_update(request: Request, db_session: DbSession, survey_id: FromPath[int], data: Form) -> Redirect:
    services.update_survey(db_session, principal_of(request), survey_id, _details_form(data))
    return after_post(request, request.app.route_reverse("staff-survey-edit", survey_id=survey_id),  # type: ignore[return-value]
                      message=_("The survey was saved."))


def _section_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                   survey_id: int, **_kwargs: Any) -> Template:
    errors = {f"section_{key}" if key in ("title", "description", "show_if_option_id") else key: message
              for key, message in failed.errors.items()}
    return _edit_page(request, db_session, survey_id, errors=errors, section_form=form)


@post("/staff/surveys/{survey_id:int}/sections", name="staff-survey-section-add", guards=[signed_in],
      sync_to_thread=True)
@again_on_invalid(_section_again)
def staff_section_add(request: Request, db_session: DbSession, survey_id: FromPath[int], data: Form) -> Redirect:
    values = {key.removeprefix("section_"): value for key, value in data.items()}
    services.add_section(db_session, principal_of(request), survey_id, services.SectionDetails.parse(values))
    return after_post(request, request.app.route_reverse("staff-survey-edit", survey_id=survey_id),  # type: ignore[return-value]
                      message=_("The section was added."))


def _section_page(request: Request, db_session: Session, survey_id: int, section_id: int, *,
                  form: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                  status_code: int = 200) -> Template:
    survey = services.managed_survey(db_session, principal_of(request), survey_id)
    survey_form = services.load_form(db_session, survey)
    section = next((s for s in survey_form.sections if s.id == section_id), None)
    if section is None:
        raise NotFound()
    earlier = services.SurveyForm(survey, [s for s in survey_form.sections
                                          if s.section.position < section.section.position])
    values = form if form is not None else {
        "section_title": section.section.title, "section_description": section.section.description,
        "section_show_if_option_id": str(section.section.show_if_option_id or "")}
    return render(request, SECTION_FORM, {
        "survey": survey, "section": section, "section_form": values, "errors": errors or {},
        "published": survey.published_at is not None,
        "condition_options": _builder_options(earlier)["condition_options"],
    }, status_code=status_code)


@get("/staff/surveys/{survey_id:int}/sections/{section_id:int}", name="staff-survey-section-edit",
     guards=[signed_in], sync_to_thread=True)
def staff_section_edit(request: Request, db_session: DbSession, survey_id: FromPath[int],
                       section_id: FromPath[int]) -> Template:
    return _section_page(request, db_session, survey_id, section_id)


def _section_update_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                          survey_id: int, section_id: int, **_kwargs: Any) -> Template:
    errors = {f"section_{key}" if key in ("title", "description", "show_if_option_id") else key: message
              for key, message in failed.errors.items()}
    return _section_page(request, db_session, survey_id, section_id, form=form, errors=errors)


@post("/staff/surveys/{survey_id:int}/sections/{section_id:int}", name="staff-survey-section-update",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_section_update_again)
def staff_section_update(request: Request, db_session: DbSession, survey_id: FromPath[int],
                         section_id: FromPath[int], data: Form) -> Redirect:
    values = {key.removeprefix("section_"): value for key, value in data.items()}
    services.update_section(db_session, principal_of(request), survey_id, section_id,
                            services.SectionDetails.parse(values))
    return after_post(request, request.app.route_reverse("staff-survey-edit", survey_id=survey_id),  # type: ignore[return-value]
                      message=_("The section was saved."))


@post("/staff/surveys/{survey_id:int}/sections/{section_id:int}/delete", name="staff-survey-section-delete",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_section_update_again)
def staff_section_delete(request: Request, db_session: DbSession, survey_id: FromPath[int],
                         section_id: FromPath[int]) -> Redirect:
    services.delete_section(db_session, principal_of(request), survey_id, section_id)
    return after_post(request, request.app.route_reverse("staff-survey-edit", survey_id=survey_id),  # type: ignore[return-value]
                      message=_("The section was deleted."))


def _question_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                    survey_id: int, **_kwargs: Any) -> Template:
    errors = {f"question_{key}": message for key, message in failed.errors.items()}
    return _edit_page(request, db_session, survey_id, errors=errors, question_form=form)


@post("/staff/surveys/{survey_id:int}/questions", name="staff-survey-question-add", guards=[signed_in],
      sync_to_thread=True)
@again_on_invalid(_question_again)
def staff_question_add(request: Request, db_session: DbSession, survey_id: FromPath[int], data: Form) -> Redirect:
    services.add_question(db_session, principal_of(request), survey_id, _question_details(data))
    return after_post(request, request.app.route_reverse("staff-survey-edit", survey_id=survey_id),  # type: ignore[return-value]
                      message=_("The question was added."))


def _question_details(data: dict[str, Any]) -> services.QuestionDetails:
    """The question form's fields are named ``question_…`` (the builder page has several forms)."""
    values = {key.removeprefix("question_"): value for key, value in data.items() if key.startswith("question_")}
    return services.QuestionDetails.parse(values)


def _question_page(request: Request, db_session: Session, survey_id: int, question_id: int, *,
                   form: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                   status_code: int = 200) -> Template:
    actor = principal_of(request)
    survey = services.managed_survey(db_session, actor, survey_id)
    survey_form = services.load_form(db_session, survey)
    question = survey_form.question(question_id)
    if question is None:
        raise NotFound()
    q = question.question
    values = form if form is not None else {
        "question_kind": q.kind.value if hasattr(q.kind, "value") else q.kind, "question_prompt": q.prompt,
        "question_help_text": q.help_text, "question_required": "yes" if q.required else "",
        "question_options": "\n".join(o.label for o in question.choices),
        "question_rows": "\n".join(o.label for o in question.rows),
        "question_max_choices": str(q.max_choices or ""), "question_scale_min": str(q.scale_min),
        "question_scale_max": str(q.scale_max), "question_scale_min_label": q.scale_min_label,
        "question_scale_max_label": q.scale_max_label, "question_section_id": str(q.section_id)}
    return render(request, QUESTION_FORM, {
        "survey": survey, "question": question, "question_form": values, "errors": errors or {},
        "published": survey.published_at is not None, **_builder_options(survey_form),
    }, status_code=status_code)


@get("/staff/surveys/{survey_id:int}/questions/{question_id:int}", name="staff-survey-question-edit",
     guards=[signed_in], sync_to_thread=True)
def staff_question_edit(request: Request, db_session: DbSession, survey_id: FromPath[int], question_id: FromPath[int]) -> Template:
    return _question_page(request, db_session, survey_id, question_id)


def _question_update_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                           survey_id: int, question_id: int, **_kwargs: Any) -> Template:
    errors = {f"question_{key}": message for key, message in failed.errors.items()}
    return _question_page(request, db_session, survey_id, question_id, form=form, errors=errors)


@post("/staff/surveys/{survey_id:int}/questions/{question_id:int}", name="staff-survey-question-update",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_question_update_again)
def staff_question_update(request: Request, db_session: DbSession, survey_id: FromPath[int], question_id: FromPath[int],
                          data: Form) -> Redirect:
    services.update_question(db_session, principal_of(request), survey_id, question_id, _question_details(data))
    return after_post(request, request.app.route_reverse("staff-survey-edit", survey_id=survey_id),  # type: ignore[return-value]
                      message=_("The question was saved."))


def _edit_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                survey_id: int, **_kwargs: Any) -> Template:
    return _edit_page(request, db_session, survey_id, errors=failed.errors)


@post("/staff/surveys/{survey_id:int}/questions/{question_id:int}/move", name="staff-survey-question-move",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_edit_again)
def staff_question_move(request: Request, db_session: DbSession, survey_id: FromPath[int], question_id: FromPath[int],
                        data: Form) -> Redirect:
    direction = as_text(data.get("direction"))
    services.move_question(db_session, principal_of(request), survey_id, question_id, direction)
    return after_post(request, request.app.route_reverse("staff-survey-edit", survey_id=survey_id)  # type: ignore[return-value]
                      + f"#question-{question_id}", message=_("The question was moved."))


@post("/staff/surveys/{survey_id:int}/questions/{question_id:int}/delete", name="staff-survey-question-delete",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_edit_again)
def staff_question_delete(request: Request, db_session: DbSession, survey_id: FromPath[int], question_id: FromPath[int]) -> Redirect:
    services.delete_question(db_session, principal_of(request), survey_id, question_id)
    return after_post(request, request.app.route_reverse("staff-survey-edit", survey_id=survey_id),  # type: ignore[return-value]
                      message=_("The question was deleted."))


@get("/staff/surveys/{survey_id:int}/preview", name="staff-survey-preview", guards=[signed_in], sync_to_thread=True)
def staff_preview(request: Request, db_session: DbSession, survey_id: FromPath[int]) -> Template:
    survey = services.managed_survey(db_session, principal_of(request), survey_id)
    return render(request, PREVIEW, {"survey": survey, "form": services.load_form(db_session, survey),
                                     "values": {}, "errors": {}})


@post("/staff/surveys/{survey_id:int}/publish", name="staff-survey-publish", guards=[signed_in],
      sync_to_thread=True)
@again_on_invalid(_edit_again)
def staff_publish(request: Request, db_session: DbSession, survey_id: FromPath[int]) -> Redirect:
    services.publish(db_session, principal_of(request), survey_id)
    return after_post(request, request.app.route_reverse("staff-survey-edit", survey_id=survey_id),  # type: ignore[return-value]
                      message=_("The survey was published."))


@post("/staff/surveys/{survey_id:int}/close", name="staff-survey-close", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_edit_again)
def staff_close(request: Request, db_session: DbSession, survey_id: FromPath[int]) -> Redirect:
    services.close(db_session, principal_of(request), survey_id)
    return after_post(request, request.app.route_reverse("staff-survey-edit", survey_id=survey_id),  # type: ignore[return-value]
                      message=_("The survey was closed. It takes no more answers."))


# --- the support desk ------------------------------------------------------------------------------


@get("/desk/surveys", name="desk-surveys", guards=[signed_in], sync_to_thread=True)
def desk_list(request: Request, db_session: DbSession) -> Template:
    """The surveys that take answers now: the desk enters a resident's paper answers into one of them."""
    permissions.require(principal_of(request), "desk.enter")
    surveys, _more = services.public_surveys(db_session, open_now=True, per_page=50)
    surveys = [s for s in surveys if services.status_of(s) is services.Status.OPEN]
    about = _about(db_session, surveys)
    return render(request, DESK_LIST, {"surveys": _public(surveys, about), "about": about})


def _desk_page(request: Request, db_session: Session, survey_id: int, *, values: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    actor = principal_of(request)
    permissions.require(actor, "desk.enter")
    survey = services.visible_survey(db_session, actor, survey_id)
    facts = services.on_survey(db_session, survey)
    return render(request, DESK_ENTRY, {
        "survey": survey, "form": services.load_form(db_session, survey), "values": values or
        {"channel": Channel.PAPER.value}, "errors": errors or {}, "status": facts.status,
        "decision": permissions.can(actor, "survey.enter_for_resident", facts),
        "channel_options": [("", _("Choose…"))] + [(c.value, str(label)) for c, label in DESK_CHANNELS.items()],
        "action": request.app.route_reverse("desk-survey-entry-create", survey_id=survey_id),
    }, status_code=status_code)


@get("/desk/surveys/{survey_id:int}", name="desk-survey-entry", guards=[signed_in], sync_to_thread=True)
def desk_entry(request: Request, db_session: DbSession, survey_id: FromPath[int]) -> Template:
    return _desk_page(request, db_session, survey_id)


def _desk_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                survey_id: int, data: dict[str, Any], **_kwargs: Any) -> Template:
    values = _posted(data) | {key: as_text(data.get(key)) for key in ("channel", "consent", "desk_note")}
    return _desk_page(request, db_session, survey_id, values=values, errors=failed.errors)


@post("/desk/surveys/{survey_id:int}", name="desk-survey-entry-create", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_desk_again)
def desk_entry_create(request: Request, db_session: DbSession, survey_id: FromPath[int], data: Form) -> Redirect:
    actor = principal_of(request)
    permissions.require(actor, "desk.enter")
    services.enter_desk_response(db_session, actor, survey_id, data, as_text(data.get("channel")),
                                 Flag().parse(data.get("consent")), as_text(data.get("desk_note")))
    return after_post(request, request.app.route_reverse("desk-survey-entry", survey_id=survey_id),  # type: ignore[return-value]
                      message=_("The resident's answers were recorded.")
                      + _skipped_message(db_session, survey_id, data))


# --- the sections of the challenge and trial pages --------------------------------------------------


def linked_section(actor: Principal, thing: targets.Surveyed, *, owner: bool) -> tuple[str, dict[str, Any]]:
    """The surveys section of a page with no query of its own (a page with a tight query budget): a link to
    the list of its surveys, which htmx loads in place; "create a survey" for its owners."""
    manages = owner or actor.is_admin
    return LINKED_SECTION, {"thing": thing, "manages": manages}


def target_section(session: Session, actor: Principal, target_type: str,
                   target_id: int) -> tuple[str, dict[str, Any]] | None:
    """The surveys of a challenge or a trial, with "create a survey" for its managers (None: nothing to show)."""
    surveys = services.surveys_of(session, target_type, target_id)
    try:
        thing = targets.load(session, target_type, target_id)
    except NotFound:
        return None
    manages = bool(permissions.can(actor, "survey.manage", services.OnSurvey(services.Status.DRAFT,
                                                                                thing.department_ids)))
    if not surveys and not manages:
        return None
    return SECTION, {"surveys": surveys, "thing": thing, "manages": manages, "status_of": services.status_of}


ROUTES = [Router(path="/", route_handlers=[
    survey_list, survey_detail, survey_answer,
    staff_list, staff_new, staff_create, staff_edit, staff_update, staff_section_add, staff_section_edit,
    staff_section_update, staff_section_delete, staff_question_add,
    staff_question_edit, staff_question_update, staff_question_move, staff_question_delete, staff_preview,
    staff_publish, staff_close,
    desk_list, desk_entry, desk_entry_create,
], include_in_schema=False)]
