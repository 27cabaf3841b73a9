"""The comments (コメント) pages: the section of the challenge and proposal pages, the full list, a thread's
replies, and the forms to comment, reply, edit, delete and like. HTTP only: the rules live in ``comments``.

Every form works without JavaScript (POST, then 303 back to the page it was on, given as ``next``).
With htmx, a new comment swaps the whole section, a reply swaps its thread's replies, an edit or a
delete swaps the comment and a like swaps its button. htmx does not swap 4xx answers, so for htmx a
form with errors comes back as 200 with the errors in the fragment; plain browsers get 400 and a page.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate.accounts.permissions import Principal, principal_of, signed_in
from cocreate.errors import Invalid, NotFound
from cocreate.forms import FormModel, ReturnPath, as_text, parse_id
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import DbSession
from cocreate.web.forms import Form, again_on_invalid
from cocreate.web.htmx import after_post, is_htmx, render
from cocreate.web.pagination import clamp_page
from proposals import comments
from proposals.models import Challenge, Phase, Proposal

SECTION = "proposals/_comments.html"
LIST_PAGE = "proposals/comments.html"
REPLIES = "proposals/_comment_replies.html"
THREAD_PAGE = "proposals/comment_thread.html"
ITEM = "proposals/_comment_item.html"
LIKE = "proposals/_comment_like.html"
COMMENT_PAGE = "proposals/comment.html"


def detail_section(session: Session, actor: Principal, challenge: Challenge,
                   viewer: Any = None) -> tuple[str, dict[str, Any]] | None:
    """The comments section of the challenge page (first page, newest first), or None for drafts."""
    if challenge.phase is Phase.DRAFT:
        return None
    return SECTION, {"cm": comments.section(session, actor, comments.Target(challenge))}


def proposal_section(session: Session, actor: Principal, proposal: Proposal) -> tuple[str, dict[str, Any]] | None:
    """The comments section of the proposal page, or None where the proposal shows no comments."""
    try:
        target = comments.load_target(session, actor, comments.PROPOSAL, proposal.id)  # type: ignore[arg-type]
    except NotFound:
        return None
    return SECTION, {"cm": comments.section(session, actor, target)}


def _section_context(section: comments.Section) -> dict[str, Any]:
    return {"ctx": {"cm": section}, "cm": section}


class BackForm(FormModel):
    """Where a plain form sends the browser back to (the page it was on)."""

    next: Annotated[str, ReturnPath()] = ""


def _next(data: dict[str, Any], default: str) -> str:
    return BackForm.parse(data).next.split("#", 1)[0] or default


# --- reading -------------------------------------------------------------------------------------


def _list(request: Request, session: Session, target_type: str, target_id: int, sort: str, page: str) -> Template:
    actor = principal_of(request)
    target = comments.load_target(session, actor, target_type, target_id)
    number, _size = clamp_page(page)
    section = comments.section(session, actor, target, sort=sort, page=number, return_url=target.list_url)
    return render(request, LIST_PAGE, _section_context(section), fragment=SECTION)


@get("/challenges/{challenge_id:int}/comments", name="challenge-comments", sync_to_thread=True)
def challenge_comments(request: Request, db_session: DbSession, challenge_id: FromPath[int],
                       sort: FromQuery[str] = comments.Sort.NEWEST, page: FromQuery[str] = "1") -> Template:
    """Every comment thread on a challenge, a page at a time; for htmx, the section alone."""
    return _list(request, db_session, comments.CHALLENGE, challenge_id, sort, page)


@get("/proposals/{proposal_id:int}/comments", name="proposal-comments", sync_to_thread=True)
def proposal_comments(request: Request, db_session: DbSession, proposal_id: FromPath[int],
                      sort: FromQuery[str] = comments.Sort.NEWEST, page: FromQuery[str] = "1") -> Template:
    """Every comment thread on a proposal, a page at a time; for htmx, the section alone."""
    return _list(request, db_session, comments.PROPOSAL, proposal_id, sort, page)


@get("/comments/{comment_id:int}/replies", name="comment-replies", sync_to_thread=True)
def replies(request: Request, db_session: DbSession, comment_id: FromPath[int], page: FromQuery[str] = "") -> Template:
    """A thread with a page of its replies (the latest page unless asked); for htmx, the replies alone."""
    number = clamp_page(page)[0] if page else None
    thread = comments.thread(db_session, principal_of(request), comment_id, page=number)
    return render(request, THREAD_PAGE, {"th": thread}, fragment=REPLIES)


# --- writing -------------------------------------------------------------------------------------


def _target_of(challenge_id: int | None, proposal_id: int | None) -> tuple[str, int]:
    if challenge_id is not None:
        return comments.CHALLENGE, challenge_id
    assert proposal_id is not None
    return comments.PROPOSAL, proposal_id


def _post_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                challenge_id: int | None = None, proposal_id: int | None = None, **_kwargs: Any) -> Template:
    """A comment or reply refused: the thread with the reply form again, or the section with the comment form."""
    actor = principal_of(request)
    target = comments.load_target(db_session, actor, *_target_of(challenge_id, proposal_id))
    message = failed.errors.get("body") or failed.errors.get("parent_id") or next(iter(failed.errors.values()))
    body = as_text(form.get("body"))
    if parent := parse_id(form.get("parent_id")):
        try:
            thread = comments.thread(db_session, actor, parent, form={"body": body})
        except NotFound:
            thread = None
        if thread is not None and thread.target.type == target.type and thread.target.id == target.id:
            thread.errors = {f"reply-{thread.top.id}": message}
            if is_htmx(request):
                return render(request, THREAD_PAGE, {"th": thread}, fragment=REPLIES)
            return render(request, THREAD_PAGE, {"th": thread})
    section = comments.section(db_session, actor, target, return_url=_next(form, target.url),
                               form={"body": body}, errors={"body": message})
    if is_htmx(request):
        return render(request, LIST_PAGE, _section_context(section), fragment=SECTION)
    return render(request, LIST_PAGE, _section_context(section))


def _post(request: Request, session: Session, target_type: str, target_id: int, data: dict[str, Any]) -> Template | Redirect:
    actor = principal_of(request)
    comment = comments.post(session, actor, target_type, target_id, comments.CommentForm.parse(data))
    if comment.parent_id is not None:
        thread = comments.thread(session, actor, comment.parent_id)
        return after_post(request, f"{thread.page_url(thread.replies.page)}#comment-{comment.id}",
                          message=_("Your reply has been posted."), fragment=REPLIES, context={"th": thread})
    target = comments.load_target(session, actor, target_type, target_id)
    return_url = _next(data, target.url)
    section = comments.section(session, actor, target, return_url=return_url)
    return after_post(request, f"{return_url}#comment-{comment.id}", message=_("Your comment has been posted."),
                      fragment=SECTION, context=_section_context(section))


@post("/challenges/{challenge_id:int}/comments", name="challenge-comment-post", guards=[signed_in],
      sync_to_thread=True)
@again_on_invalid(_post_again)
def post_on_challenge(request: Request, db_session: DbSession, challenge_id: FromPath[int],
                      data: Form) -> Template | Redirect:
    return _post(request, db_session, comments.CHALLENGE, challenge_id, data)


@post("/proposals/{proposal_id:int}/comments", name="proposal-comment-post", guards=[signed_in],
      sync_to_thread=True)
@again_on_invalid(_post_again)
def post_on_proposal(request: Request, db_session: DbSession, proposal_id: FromPath[int],
                     data: Form) -> Template | Redirect:
    return _post(request, db_session, comments.PROPOSAL, proposal_id, data)


def _answer(request: Request, session: Session, actor: Principal, comment_id: int, data: dict[str, Any], *,
            fragment: str, message: str | None) -> Template | Redirect:
    one = comments.single(session, actor, comment_id)
    one.return_url = _next(data, one.item.replies_url)
    return after_post(request, f"{one.return_url}#comment-{comment_id}", message=message, fragment=fragment,
                      context={"one": one})


def _again(request: Request, one: comments.Single, sent: dict[str, Any], fragment: str) -> Template:
    """One comment again with the error beside it (the page, or for htmx the fragment that swaps it)."""
    one.return_url = _next(sent, one.item.replies_url)
    if is_htmx(request):
        return render(request, COMMENT_PAGE, {"one": one}, fragment=fragment)
    return render(request, COMMENT_PAGE, {"one": one})


def _edit_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session, comment_id: int,
                **_kwargs: Any) -> Template:
    message = failed.errors.get("body") or next(iter(failed.errors.values()))
    one = comments.editing(db_session, principal_of(request), comment_id, errors={f"edit-{comment_id}": message},
                           form={"body": as_text(form.get("body"))})
    return _again(request, one, form, ITEM)


@post("/comments/{comment_id:int}/edit", name="comment-edit", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_edit_again)
def edit(request: Request, db_session: DbSession, comment_id: FromPath[int], data: Form) -> Template | Redirect:
    actor = principal_of(request)
    comments.edit(db_session, actor, comment_id, comments.EditForm.parse(data))
    return _answer(request, db_session, actor, comment_id, data, fragment=ITEM,
                   message=_("Your comment has been updated."))


@post("/comments/{comment_id:int}/delete", name="comment-delete", guards=[signed_in], sync_to_thread=True)
def delete(request: Request, db_session: DbSession, comment_id: FromPath[int], data: Form) -> Template | Redirect:
    actor = principal_of(request)
    comments.delete(db_session, actor, comment_id)
    return _answer(request, db_session, actor, comment_id, data, fragment=ITEM,
                   message=_("Your comment has been deleted."))


def _like_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session, comment_id: int,
                **_kwargs: Any) -> Template:
    message = failed.errors.get("like") or next(iter(failed.errors.values()))
    one = comments.single(db_session, principal_of(request), comment_id, errors={f"like-{comment_id}": message})
    return _again(request, one, form, LIKE)


@post("/comments/{comment_id:int}/like", name="comment-like", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_like_again)
def like(request: Request, db_session: DbSession, comment_id: FromPath[int], data: Form) -> Template | Redirect:
    """Like or unlike: the form says which (``like=yes|no``), so a double submit changes nothing."""
    actor = principal_of(request)
    comments.set_like(db_session, actor, comment_id, comments.LikeForm.parse(data).wanted)
    return _answer(request, db_session, actor, comment_id, data, fragment=LIKE, message=None)


comment_router = Router(
    path="/",
    route_handlers=[challenge_comments, proposal_comments, replies, post_on_challenge, post_on_proposal,
                    edit, delete, like],
    include_in_schema=False,
)

ROUTES: list[Any] = [comment_router]
