"""The dialogue (質疑応答) pages: the Q&A section of a challenge, the full list, each question's own page,
and the forms to ask, answer, pin, merge, hide and follow. HTTP only: the rules live in ``questions``.

Every form works without JavaScript (POST, then 303). With htmx, forms in the section swap the
whole section, forms on a question's page swap that page's main block, and "more questions" appends
the next page to the list. htmx does not swap 4xx answers, so for htmx a form with errors comes back
as 200 with the errors shown in the fragment; plain browsers get 400 and the full page.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate.accounts.permissions import Principal, principal_of, signed_in
from cocreate.errors import Invalid, NotFound
from cocreate.forms import FormModel, Line
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.forms import Form, again_on_invalid
from cocreate.web.htmx import after_post, is_htmx, render
from cocreate.web.pagination import clamp_page
from proposals.challenges.services import ChallengeViewer
from proposals.dialogue import questions
from proposals.models import Challenge, Phase, QuestionVisibility

SECTION = "proposals/dialogue/_questions.html"
LIST_PAGE = "proposals/dialogue/questions.html"
ITEMS = "proposals/dialogue/question_items.html"
QUESTION_PAGE = "proposals/dialogue/question.html"
QUESTION_BLOCK = "proposals/dialogue/question_detail.html"
FOLLOW = "proposals/dialogue/question_follow.html"



def detail_section(session: Session, actor: Principal, challenge: Challenge,
                   viewer: ChallengeViewer | None = None) -> tuple[str, dict[str, Any]] | None:
    """The Q&A section of the challenge page: (template, context), or None for drafts.

    The template reads its context as ``ctx`` (``{% with ctx = context %}{% include … %}{% endwith %}``).
    """
    if challenge.phase is Phase.DRAFT:
        return None
    return SECTION, {"qa": questions.section(session, actor, challenge, known=viewer)}


def _section_context(section: questions.Section) -> dict[str, Any]:
    return {"ctx": {"qa": section}, "qa": section}


def _section_response(request: Request, section: questions.Section, status_code: int = 200) -> Template:
    """The list page, or for htmx the section alone (errors then come back as 200: htmx swaps no 4xx)."""
    if is_htmx(request):
        return render(request, LIST_PAGE, _section_context(section), fragment=SECTION)
    return render(request, LIST_PAGE, _section_context(section), status_code=status_code)


def _detail_response(request: Request, detail: questions.Detail, *, errors: dict[str, str] | None = None,
                     form: dict[str, str] | None = None, status_code: int = 200) -> Template:
    context = {"d": detail, "errors": errors or {}, "form": form or {}}
    if is_htmx(request):
        return render(request, QUESTION_PAGE, context, fragment=QUESTION_BLOCK)
    return render(request, QUESTION_PAGE, context, status_code=status_code)


def _challenge_page(request: Request, challenge_id: int, fragment: str = "") -> str:
    """The challenge's page (at ``fragment``): where the section's forms come back to."""
    return request.app.route_reverse("challenge-detail", challenge_id=challenge_id) + fragment


# --- reading -------------------------------------------------------------------------------------


@get("/challenges/{challenge_id:int}/questions", name="challenge-questions", sync_to_thread=True)
def question_list(request: Request, db_session: DbSession, challenge_id: FromPath[int],
                  page: FromQuery[str] = "1") -> Template:
    """Every question of a challenge, one page at a time; for htmx, the next page's items only."""
    actor = principal_of(request)
    challenge = questions.load_challenge(db_session, actor, challenge_id)
    if challenge.phase is Phase.DRAFT:
        raise NotFound()
    number, _size = clamp_page(page)
    section = questions.section(db_session, actor, challenge, page=number)
    return render(request, LIST_PAGE, _section_context(section), fragment=ITEMS)


@get("/challenges/{challenge_id:int}/questions/{question_id:int}", name="question", sync_to_thread=True)
def question_page(request: Request, db_session: DbSession, challenge_id: FromPath[int],
                  question_id: FromPath[int]) -> Template:
    detail = questions.detail(db_session, principal_of(request), challenge_id, question_id)
    return _detail_response(request, detail)


# --- asking and following ------------------------------------------------------------------------


def _ask_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
               challenge_id: int, **_kwargs: Any) -> Template:
    actor = principal_of(request)
    challenge = questions.load_challenge(db_session, actor, challenge_id)
    return _section_response(request, questions.section(db_session, actor, challenge, form=form,
                                                        errors=failed.errors))


@post("/challenges/{challenge_id:int}/questions", name="question-ask", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_ask_again)
def ask(request: Request, db_session: DbSession, challenge_id: FromPath[int], data: Form) -> Template | Redirect:
    actor = principal_of(request)
    question = questions.ask(db_session, actor, challenge_id, questions.AskForm.parse(data))
    if question.visibility is QuestionVisibility.PRIVATE:
        message = _("Your question has been sent privately. Only the ward's staff in charge can read it until "
                    "they answer; then it is published without your name.")
    else:
        message = _("Your question has been published. We will tell you when it is answered.")
    challenge = questions.load_challenge(db_session, actor, challenge_id)
    return after_post(request, _challenge_page(request, challenge_id, f"#question-{question.id}"),
                      message=message, fragment=SECTION,
                      context=_section_context(questions.section(db_session, actor, challenge)))


@post("/challenges/{challenge_id:int}/follow", name="challenge-follow", guards=[signed_in], sync_to_thread=True)
def follow(request: Request, db_session: DbSession, challenge_id: FromPath[int], data: Form) -> Template | Redirect:
    actor = principal_of(request)
    following = questions.set_following(db_session, actor, challenge_id, FollowForm.parse(data).follow == "yes")
    message = (_("You now follow this challenge. We will tell you when a question on it is answered.")
               if following else _("You no longer follow this challenge."))
    return after_post(request, _challenge_page(request, challenge_id), message=message, fragment=FOLLOW,
                      context={"challenge_id": challenge_id, "following": following, "signed_in": True})


# --- staff ---------------------------------------------------------------------------------------


class FollowForm(FormModel):
    follow: Annotated[str, Line(10)] = ""


class WhereForm(FormModel):
    """Where a staff form was sent from: the challenge page's section or the question's own page."""

    view: Annotated[str, Line(20)] = ""


STAFF_FIELDS = ("answer", "pin", "into", "reason")


def _staff_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                 challenge_id: int, question_id: int, **_kwargs: Any) -> Template:
    """A staff form with errors, again where it was: in the section (errors keyed by question) or on
    the question's own page."""
    actor = principal_of(request)
    if form.get("view") == "section":
        challenge = questions.load_challenge(db_session, actor, challenge_id)
        errors = {f"{name}-{question_id}" if name in STAFF_FIELDS else name: text
                  for name, text in failed.errors.items()}
        answers = {question_id: form.get("answer", "")}
        return _section_response(request, questions.section(db_session, actor, challenge, errors=errors,
                                                            answers=answers))
    detail = questions.detail(db_session, actor, challenge_id, question_id)
    return _detail_response(request, detail, errors=failed.errors, form=form)


def _staff_done(request: Request, db_session: Session, challenge_id: int, question_id: int, data: dict[str, Any],
                message: str) -> Template | Redirect:
    """Answer a staff action from where its form was: the section of the challenge page, or the
    question's own page."""
    actor = principal_of(request)
    if WhereForm.parse(data).view == "section":
        challenge = questions.load_challenge(db_session, actor, challenge_id)
        return after_post(request, _challenge_page(request, challenge_id, f"#question-{question_id}"),
                          message=message, fragment=SECTION,
                      context=_section_context(questions.section(db_session, actor, challenge)))
    detail = questions.detail(db_session, actor, challenge_id, question_id)
    question_page = request.app.route_reverse("question", challenge_id=challenge_id, question_id=question_id)
    return after_post(request, question_page, message=message, fragment=QUESTION_BLOCK,
                      context={"d": detail, "errors": {}, "form": {}})


@post("/challenges/{challenge_id:int}/questions/{question_id:int}/answer", name="question-answer",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_staff_again)
def answer(request: Request, db_session: DbSession, settings: AppSettings, challenge_id: FromPath[int],
           question_id: FromPath[int], data: Form) -> Template | Redirect:
    questions.require_staff(db_session, principal_of(request), question_id, challenge_id)
    edit = questions.has_answer(db_session, question_id)
    questions.answer(db_session, settings, principal_of(request), question_id, questions.AnswerForm.parse(data),
                     challenge_id=challenge_id)
    message = _("The answer has been updated.") if edit else _("The answer has been published.")
    return _staff_done(request, db_session, challenge_id, question_id, data, message)


@post("/challenges/{challenge_id:int}/questions/{question_id:int}/pin", name="question-pin",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_staff_again)
def pin(request: Request, db_session: DbSession, challenge_id: FromPath[int], question_id: FromPath[int],
        data: Form) -> Template | Redirect:
    questions.require_staff(db_session, principal_of(request), question_id, challenge_id)
    pinned = questions.PinForm.parse(data).pin
    questions.set_pinned(db_session, principal_of(request), question_id, pinned, challenge_id=challenge_id)
    message = (_("The question has been pinned to the top of the list.") if pinned
               else _("The question has been unpinned."))
    return _staff_done(request, db_session, challenge_id, question_id, data, message)


@post("/challenges/{challenge_id:int}/questions/{question_id:int}/merge", name="question-merge",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_staff_again)
def merge(request: Request, db_session: DbSession, challenge_id: FromPath[int], question_id: FromPath[int],
          data: Form) -> Template | Redirect:
    questions.require_staff(db_session, principal_of(request), question_id, challenge_id)
    form = questions.MergeForm.parse(data)
    questions.merge(db_session, principal_of(request), question_id, form, challenge_id=challenge_id)
    message = _("The question has been merged into question No. %(number)s.", number=form.into)
    return _staff_done(request, db_session, challenge_id, question_id, data, message)


@post("/challenges/{challenge_id:int}/questions/{question_id:int}/hide", name="question-hide",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_staff_again)
def hide(request: Request, db_session: DbSession, challenge_id: FromPath[int], question_id: FromPath[int],
         data: Form) -> Template | Redirect:
    questions.require_staff(db_session, principal_of(request), question_id, challenge_id)
    questions.hide(db_session, principal_of(request), question_id, questions.HideForm.parse(data),
                   challenge_id=challenge_id)
    message = _("The question has been hidden; the reason is shown in its place.")
    return _staff_done(request, db_session, challenge_id, question_id, data, message)


question_router = Router(
    path="/",
    route_handlers=[question_list, question_page, ask, follow, answer, pin, merge, hide],
    include_in_schema=False,
)

ROUTES: list[Any] = [question_router]
