"""Review (審査) pages: reviewers score under /review, owning staff assign reviewers, read the results
and publish decisions under /staff/challenges/{id}. HTTP only: the rules live in ``proposals.review``.

Every form works without JavaScript (POST, then 303; errors re-render the page with 400, through
:func:`cocreate.web.forms.again_on_invalid`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate.accounts.models import Role
from cocreate.accounts.permissions import has_any_role, principal_of
from cocreate.errors import Invalid
from cocreate.forms import as_text
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.forms import Form, again_on_invalid
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page
from proposals import review
from proposals.models import DecisionOutcome

MY_CHALLENGES = "proposals/review/list.html"
CHALLENGE_PAGE = "proposals/review/challenge.html"
PROPOSAL_PAGE = "proposals/review/proposal.html"
REVIEWERS_PAGE = "proposals/review/staff/reviewers.html"
RESULTS_PAGE = "proposals/review/staff/review_results.html"
DECISIONS_PAGE = "proposals/review/staff/decisions.html"


# --- reviewers -----------------------------------------------------------------------------------


@get("/review", name="review-home", sync_to_thread=True)
def my_challenges(request: Request, db_session: DbSession, page: FromQuery[str] = "1") -> Template:
    number, size = clamp_page(page)
    result = review.my_challenges(db_session, principal_of(request), number, size)
    base = request.app.route_reverse("review-home")
    return render(request, MY_CHALLENGES, {"page": result, "url_for_page": lambda n: f"{base}?page={n}"})


@get("/review/challenges/{challenge_id:int}", name="review-challenge", sync_to_thread=True)
def challenge_page(request: Request, db_session: DbSession, challenge_id: FromPath[int],
                   page: FromQuery[str] = "1") -> Template:
    number, size = clamp_page(page)
    found = review.challenge_for_reviewer(db_session, principal_of(request), challenge_id, number, size)
    base = request.app.route_reverse("review-challenge", challenge_id=challenge_id)
    return render(request, CHALLENGE_PAGE, {
        "r": found, "state_labels": review.STATE_LABELS,
        "url_for_page": lambda n: f"{base}?page={n}",
    })


def _proposal_page(request: Request, db_session: Session, proposal_id: int, *, errors: dict[str, str] | None = None,
                   typed: dict[str, Any] | None = None) -> Template:
    """The reviewer's page of a proposal; ``typed`` re-shows what was sent with a form that failed."""
    found = review.proposal_for_reviewer(db_session, principal_of(request), proposal_id)
    form = {"comment": found.review.comment if found.review else "",
            "has_conflict": "" if found.declaration is None else ("yes" if found.declaration.has_conflict else "no"),
            "note": found.declaration.note if found.declaration else "",
            "scores": {cid: str(score) for cid, score in found.scores.items()}} | (typed or {})
    return render(request, PROPOSAL_PAGE, {"r": found, "errors": errors or {}, "form": form,
                                           "scores": review.SCORES, "score_field": review.score_field})


@get("/review/proposals/{proposal_id:int}", name="review-proposal", sync_to_thread=True)
def proposal_page(request: Request, db_session: DbSession, proposal_id: FromPath[int]) -> Template:
    return _proposal_page(request, db_session, proposal_id)


def _declare_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                   proposal_id: int, **_kwargs: Any) -> Template:
    return _proposal_page(request, db_session, proposal_id, errors=failed.errors,
                          typed={"has_conflict": as_text(form.get("has_conflict")), "note": as_text(form.get("note"))})


@post("/review/proposals/{proposal_id:int}/conflict", name="review-conflict", sync_to_thread=True)
@again_on_invalid(_declare_again)
def declare(request: Request, db_session: DbSession, proposal_id: FromPath[int], data: Form) -> Template | Redirect:
    declaration = review.declare_conflict(db_session, principal_of(request), proposal_id,
                                          review.DeclareForm.parse(data))
    message = (_("Your conflict of interest has been recorded. You will not score this proposal.")
               if declaration.has_conflict else _("Recorded: no conflict of interest. You can now score the proposal."))
    return after_post(request, request.app.route_reverse("review-proposal", proposal_id=proposal_id), message=message)


def _save_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                proposal_id: int, **_kwargs: Any) -> Template:
    return _proposal_page(request, db_session, proposal_id, errors=failed.errors,
                          typed={"comment": as_text(form.get("comment")), "scores": review.typed_scores(form)})


@post("/review/proposals/{proposal_id:int}", name="review-save", sync_to_thread=True)
@again_on_invalid(_save_again)
def save(request: Request, db_session: DbSession, proposal_id: FromPath[int], data: Form) -> Template | Redirect:
    form = review.ReviewForm.parse(data)
    found = review.save_review(db_session, principal_of(request), proposal_id, form, submit=form.submit)
    message = (_("Your review has been submitted. You can now see the other reviewers' submitted scores.")
               if found.submitted_at else _("Your draft has been saved. Submit it when every criterion is scored."))
    return after_post(request, request.app.route_reverse("review-proposal", proposal_id=proposal_id), message=message)


# --- staff: reviewers ----------------------------------------------------------------------------


def _reviewers_page(request: Request, db_session: Session, challenge_id: int, query: str = "", *,
                    errors: dict[str, str] | None = None) -> Template:
    challenge = review.owned_challenge(db_session, principal_of(request), challenge_id)
    return render(request, REVIEWERS_PAGE, {
        "challenge": challenge, "reviewers": review.assigned_reviewers(db_session, challenge_id),
        "query": query, "candidates": review.candidates(db_session, challenge_id, query) if query.strip() else [],
        "errors": errors or {},
    })


@get("/{challenge_id:int}/reviewers", name="staff-reviewers", sync_to_thread=True)
def reviewers(request: Request, db_session: DbSession, challenge_id: FromPath[int], q: FromQuery[str] = "") -> Template:
    return _reviewers_page(request, db_session, challenge_id, q[:review.SEARCH_MAX])


def _assign_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                  challenge_id: int, **_kwargs: Any) -> Template:
    """The reviewers page again, with the search that was shown when the person was chosen."""
    return _reviewers_page(request, db_session, challenge_id, as_text(form.get("q"))[:review.SEARCH_MAX],
                           errors=failed.errors)


@post("/{challenge_id:int}/reviewers", name="staff-reviewer-assign", sync_to_thread=True)
@again_on_invalid(_assign_again)
def assign(request: Request, db_session: DbSession, challenge_id: FromPath[int], data: Form) -> Template | Redirect:
    form = review.AssignForm.parse(data)
    user = review.assign(db_session, principal_of(request), challenge_id, form.user_id)  # type: ignore[arg-type]
    return after_post(request, request.app.route_reverse("staff-reviewers", challenge_id=challenge_id),
                      message=_("%(name)s is now a reviewer of this challenge.", name=user.display_name))


def _unassign_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                    challenge_id: int, **_kwargs: Any) -> Template:
    """The reviewers page again; the removal's error is shown above the list of reviewers."""
    errors = {"remove" if name == "user_id" else name: text for name, text in failed.errors.items()}
    return _reviewers_page(request, db_session, challenge_id, errors=errors)


@post("/{challenge_id:int}/reviewers/remove", name="staff-reviewer-remove", sync_to_thread=True)
@again_on_invalid(_unassign_again)
def unassign(request: Request, db_session: DbSession, challenge_id: FromPath[int], data: Form) -> Template | Redirect:
    form = review.UnassignForm.parse(data)
    user = review.unassign(db_session, principal_of(request), challenge_id, form.user_id)  # type: ignore[arg-type]
    return after_post(request, request.app.route_reverse("staff-reviewers", challenge_id=challenge_id),
                      message=_("%(name)s is no longer a reviewer of this challenge.", name=user.display_name))


# --- staff: results and decisions ----------------------------------------------------------------


@get("/{challenge_id:int}/review", name="staff-review-results", sync_to_thread=True)
def results(request: Request, db_session: DbSession, challenge_id: FromPath[int]) -> Template:
    return render(request, RESULTS_PAGE, {"r": review.results(db_session, principal_of(request), challenge_id)})


@get("/{challenge_id:int}/review.csv", name="staff-review-results-csv", sync_to_thread=True)
def results_csv(request: Request, db_session: DbSession, challenge_id: FromPath[int]) -> Response[str]:
    challenge, body = review.results_csv(db_session, principal_of(request), challenge_id)
    return Response(body, media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="challenge-{challenge.id}-review.csv"',
        "Cache-Control": "no-store",
    })


def _decisions_path(request: Request, challenge_id: int) -> str:
    return request.app.route_reverse("staff-decisions", challenge_id=challenge_id)


def _decisions_page(request: Request, db_session: Session, challenge_id: int, *,
                    form: dict[int, tuple[str, str]] | None = None, errors: dict[str, str] | None = None) -> Template:
    found = review.decisions(db_session, principal_of(request), challenge_id, form)
    options = [("", _("Not decided yet"))] + [(o.value, str(review.OUTCOME_LABELS[o])) for o in DecisionOutcome]
    return render(request, DECISIONS_PAGE, {
        "d": found, "errors": errors or {}, "options": options, "outcome_label": review.outcome_label,
        "outcome_field": review.outcome_field, "rationale_field": review.rationale_field,
        "rationale_max": review.RATIONALE_MAX,
    })


@get("/{challenge_id:int}/decisions", name="staff-decisions", sync_to_thread=True)
def decisions(request: Request, db_session: DbSession, challenge_id: FromPath[int]) -> Template:
    return _decisions_page(request, db_session, challenge_id)


def _decisions_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                     challenge_id: int, **_kwargs: Any) -> Template:
    """The decisions page again, with what was typed (a failed publish sent none: the saved decisions)."""
    return _decisions_page(request, db_session, challenge_id, form=review.DecisionsForm.typed(form),
                           errors=failed.errors)


@post("/{challenge_id:int}/decisions", name="staff-decisions-save", sync_to_thread=True)
@again_on_invalid(_decisions_again)
def save_decisions(request: Request, db_session: DbSession, challenge_id: FromPath[int],
                   data: Form) -> Template | Redirect:
    changed = review.save_decisions(db_session, principal_of(request), challenge_id, review.DecisionsForm.parse(data))
    message = (_("The decisions have been saved. They stay private until you publish them.") if changed
               else _("Nothing has changed."))
    return after_post(request, _decisions_path(request, challenge_id), message=message)


@post("/{challenge_id:int}/decisions/publish", name="staff-decisions-publish", sync_to_thread=True)
@again_on_invalid(_decisions_again)
def publish(request: Request, db_session: DbSession, settings: AppSettings, challenge_id: FromPath[int],
            data: Form) -> Template | Redirect:
    review.publish_decisions(db_session, settings, principal_of(request), challenge_id,
                             without_reviews=review.PublishForm.parse(data).without_reviews)
    return after_post(request, _decisions_path(request, challenge_id),
                      message=_("The decisions have been published. The proposers and followers are being notified."))


reviewer_router = Router(path="/", guards=[has_any_role(Role.REVIEWER, Role.STAFF)],
                         route_handlers=[my_challenges, challenge_page, proposal_page, declare, save],
                         include_in_schema=False)
staff_review_router = Router(path="/staff/challenges", guards=[has_any_role(Role.STAFF)],
                             route_handlers=[reviewers, assign, unassign, results, results_csv, decisions,
                                             save_decisions, publish],
                             include_in_schema=False)

ROUTES: list[Any] = [reviewer_router, staff_review_router]
