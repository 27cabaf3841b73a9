"""Votes (応援): the vote box of the proposal page, voting and withdrawing (htmx or plain forms), and the
staff page /staff/challenges/{id}/voting. Routes do HTTP only; proposals.votes.services decides."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate.accounts.permissions import principal_of, signed_in
from cocreate.errors import Forbidden, Invalid, NotFound
from cocreate.forms import FormModel, Line
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import DbSession
from cocreate.web.forms import Form, again_on_invalid, safe_next
from cocreate.web.htmx import after_post, is_htmx, render
from proposals.models import Proposal
from proposals.submissions.routes import detail_page
from proposals.votes import services as votes

SECTION = "proposals/votes/_vote.html"


def proposal_section(session: Any, actor: Any, proposal: Any) -> tuple[str, dict[str, Any]] | None:
    """The vote (応援) button and count on the proposal page, and the report link."""
    view = votes.section(session, actor, proposal)
    return None if view is None else (SECTION, {"vote": view})


class BackForm(FormModel):
    """Where a vote form was sent from (the list or the proposal's page), to go back to."""

    next: Annotated[str, Line(500)] = ""


def _back(request: Request, target: str, proposal_id: int) -> str:
    return safe_next(target) if target else request.app.route_reverse("proposal-detail", proposal_id=proposal_id)


def _sign_in_first(request: Request, back: str) -> Redirect | Response[str]:
    target = request.app.route_reverse("sign-in") + "?" + urlencode({"next": back})
    if is_htmx(request):
        return Response("", status_code=200, headers={"HX-Redirect": target})
    return Redirect(path=target, status_code=303)


def _answer(request: Request, db_session: DbSession, proposal_id: int, back: str, message: str,
            category: str, ballot: votes.Ballot | None = None) -> Template | Redirect:
    """303 back to the page the form was on, or the refreshed vote box for htmx (drawn from the ballot
    when there is one, else read again)."""
    context: dict[str, Any] = {}
    if is_htmx(request) and ballot is not None:
        context = {"ctx": {"vote": votes.section_after(principal_of(request), ballot, back=back)}}
    elif is_htmx(request):
        # The vote is committed: the refreshed box is a read, so it must not queue for the write lock.
        with request.app.state.database.reading() as reader:
            proposal = reader.get(Proposal, proposal_id)
            view = votes.section(reader, principal_of(request), proposal, back=back) if proposal else None  # type: ignore[arg-type]
        if view is None:
            raise NotFound()
        context = {"ctx": {"vote": view}}
    return after_post(request, f"{back}#vote-{proposal_id}", message=message, category=category, fragment=SECTION,
                      context=context)


def _vote_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                proposal_id: int, **_kwargs: Any) -> Template | Redirect:
    """A vote refused for a rule (the limit, the phase…): the reason, where the form was."""
    back = _back(request, "" if "next" in failed.errors else form.get("next", ""), proposal_id)
    return _answer(request, db_session, proposal_id, back, next(iter(failed.errors.values())), "error")


def _change(request: Request, db_session: DbSession, proposal_id: int, data: dict[str, Any],
            adding: bool) -> Template | Redirect | Response[str]:
    actor = principal_of(request)
    back = _back(request, BackForm.parse(data).next, proposal_id)
    if not actor.is_signed_in:
        return _sign_in_first(request, back)
    try:
        ballot = (votes.cast if adding else votes.withdraw)(db_session, actor, proposal_id)
    except Forbidden as refused:  # an author or owning staff: refused (403) with the reason on the page
        if is_htmx(request):
            return _answer(request, db_session, proposal_id, back, str(refused.detail), "error")
        return detail_page(request, db_session, proposal_id, errors={"vote": str(refused.detail)}, status_code=403)
    if adding:
        message = _("Thank you for your support.") if ballot.changed else _("You already support this proposal.")
    else:
        message = _("Your vote was withdrawn.") if ballot.changed else _("You had not voted for this proposal.")
    return _answer(request, db_session, proposal_id, back, message, "success", ballot)


@post("/proposals/{proposal_id:int}/vote", name="proposal-vote", sync_to_thread=True)
@again_on_invalid(_vote_again)
def vote(request: Request, db_session: DbSession, proposal_id: FromPath[int],
         data: Form) -> Template | Redirect | Response[str]:
    return _change(request, db_session, proposal_id, data, adding=True)


@post("/proposals/{proposal_id:int}/unvote", name="proposal-unvote", sync_to_thread=True)
@again_on_invalid(_vote_again)
def unvote(request: Request, db_session: DbSession, proposal_id: FromPath[int],
           data: Form) -> Template | Redirect | Response[str]:
    return _change(request, db_session, proposal_id, data, adding=False)


# --- staff: voting settings ----------------------------------------------------------------------


def _settings_page(request: Request, challenge: Any, form: dict[str, Any], errors: dict[str, str],
                   status_code: int = 200) -> Template:
    return render(request, "proposals/votes/_vote_settings.html", {
        "challenge": challenge, "form": form, "errors": errors,
        "limit_min": votes.LIMIT_MIN, "limit_max": votes.LIMIT_MAX,
    }, status_code=status_code)


@get("/staff/challenges/{challenge_id:int}/voting", name="staff-voting", guards=[signed_in], sync_to_thread=True)
def staff_voting(request: Request, db_session: DbSession, challenge_id: FromPath[int]) -> Template:
    challenge = votes.owned_challenge(db_session, principal_of(request), challenge_id)
    return _settings_page(request, challenge, {"vote_limit": str(challenge.vote_limit),
                                               "votes_require_verified": challenge.votes_require_verified}, {})


def _settings_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                    challenge_id: int, **_kwargs: Any) -> Template:
    challenge = votes.owned_challenge(db_session, principal_of(request), challenge_id)
    return _settings_page(request, challenge, form, failed.errors)


@post("/staff/challenges/{challenge_id:int}/voting", name="staff-voting-update", guards=[signed_in],
      sync_to_thread=True)
@again_on_invalid(_settings_again)
def staff_voting_update(request: Request, db_session: DbSession, challenge_id: FromPath[int],
                        data: Form) -> Template | Redirect:
    challenge = votes.update_settings(db_session, principal_of(request), challenge_id, votes.VotingForm.parse(data))
    return after_post(request, request.app.route_reverse("staff-voting", challenge_id=challenge.id),
                      message=_("The voting settings were saved."))


# The pages of this module, kept out of the OpenAPI schema (it documents the read API only).
vote_router = Router(path="/", route_handlers=[vote, unvote, staff_voting, staff_voting_update],
                     include_in_schema=False)

ROUTES: list[Any] = [vote_router]
