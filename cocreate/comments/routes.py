"""The comments (コメント) pages: the section of a target's page (a challenge's, a proposal's), the full list,
a thread's replies, and the forms to comment, reply, edit, delete and like. HTTP only: the rules live in
:mod:`cocreate.comments.services`.

Each commentable target (:mod:`cocreate.comments.targets`) gets its list and its comment form under its
own page, ``{prefix}/{id}/comments`` (``/challenges/{challenge_id}/comments``, named ``challenge-comments``
and ``challenge-comment-post``), built by :func:`routes` from the manifests; a thread, an edit, a delete and
a like are the same for every target (``/comments/{comment_id}/…``). A target's page shows its section with
:func:`page_section`.

Every form works without JavaScript (POST, then 303 back to the page it was on, given as ``next``).
With htmx, a new comment swaps the whole section, a reply swaps its thread's replies, an edit or a
delete swaps the comment and a like swaps its button. htmx does not swap 4xx answers, so for htmx a
form with errors comes back as 200 with the errors in the fragment; plain browsers get 400 and a page.
"""

from __future__ import annotations

from functools import cache, partial
from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate.accounts.permissions import Principal, principal_of, signed_in
from cocreate.comments import services as comments
from cocreate.comments import targets
from cocreate.comments.targets import CommentTarget, TargetInfo
from cocreate.errors import Invalid, NotFound
from cocreate.forms import FormModel, ReturnPath, as_text, parse_id
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import DbSession
from cocreate.web.forms import Form, again_on_invalid
from cocreate.web.htmx import after_post, is_htmx, render
from cocreate.web.pagination import clamp_page

SECTION = "comments/_comments.html"
LIST_PAGE = "comments/comments.html"
REPLIES = "comments/_comment_replies.html"
THREAD_PAGE = "comments/comment_thread.html"
ITEM = "comments/_comment_item.html"
LIKE = "comments/_comment_like.html"
COMMENT_PAGE = "comments/comment.html"


def page_section(session: Session, actor: Principal, target: TargetInfo) -> tuple[str, dict[str, Any]]:
    """The comments section of a target's page (first page, newest first), for the target's component to
    list among its page's sections."""
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


@get("/comments/{comment_id:int}/replies", name="comment-replies", sync_to_thread=True)
def replies(request: Request, db_session: DbSession, comment_id: FromPath[int], page: FromQuery[str] = "") -> Template:
    """A thread with a page of its replies (the latest page unless asked); for htmx, the replies alone."""
    number = clamp_page(page)[0] if page else None
    thread = comments.thread(db_session, principal_of(request), comment_id, page=number)
    return render(request, THREAD_PAGE, {"th": thread}, fragment=REPLIES)


# --- writing -------------------------------------------------------------------------------------


def _post_again(failed: Invalid, form: dict[str, Any], *, kind: CommentTarget, request: Request,
                db_session: Session, **_kwargs: Any) -> Template:
    """A comment or reply refused: the thread with the reply form again, or the section with the comment form."""
    actor = principal_of(request)
    target = comments.load_target(db_session, actor, kind.name, request.path_params[kind.param])
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


# --- the routes of each target --------------------------------------------------------------------


def _target_routes(kind: CommentTarget) -> list[Any]:
    """The list and the comment form of one commentable target, under its page: ``{prefix}/{id}/comments``."""
    path = kind.route_path

    @get(path, name=kind.list_route, sync_to_thread=True)
    def listing(request: Request, db_session: DbSession, sort: FromQuery[str] = comments.Sort.NEWEST,
                page: FromQuery[str] = "1") -> Template:
        """Every comment thread on the target, a page at a time; for htmx, the section alone."""
        return _list(request, db_session, kind.name, request.path_params[kind.param], sort, page)

    @post(path, name=kind.post_route, guards=[signed_in], sync_to_thread=True)
    @again_on_invalid(partial(_post_again, kind=kind))
    def posting(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
        return _post(request, db_session, kind.name, request.path_params[kind.param], data)

    return [listing, posting]


@cache
def routes() -> list[Any]:
    """The comment pages: each declared target's list and form, then threads, edits, deletes and likes
    (built once the components are loaded; listed by the core's routes)."""
    handlers = [handler for kind in targets.all_targets() for handler in _target_routes(kind)]
    return [Router(path="/", route_handlers=[*handlers, replies, edit, delete, like], include_in_schema=False)]
