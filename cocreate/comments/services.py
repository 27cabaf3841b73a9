"""Comments on any commentable target (challenges and proposals): threads one reply deep, likes, an edit
window, soft delete.

What a comment is about is a target a component declares (:mod:`cocreate.comments.targets`): it says
whether the actor may read its comments, whether it takes comments now (a challenge's phase, a proposal's
state) and why not, its title and page, how official comments are marked and which counter it keeps.
Rules, all checked here whatever the caller:

- Commenting needs a signed-in, confirmed account that is not blocked, and a target that takes comments
  now (for challenges and proposals, a challenge phase that allows comments; proposals take comments only
  while submitted and not hidden). These are permission rules (:mod:`cocreate.accounts.policy`:
  ``comment.write``, ``comment.post``, ``comment.reply``, ``comment.edit``, ``comment.like``,
  ``comment.delete``; whether the target takes comments is the rule its component declares), asked here
  with :func:`cocreate.permissions.require` and by the templates with ``can()``.
- A thread is a top-level comment (depth 0) and its replies (depth 1). A reply to a reply joins the
  same thread, so threads never go deeper.
- ``official`` is set when the comment is written, as the target says: ``staff`` for staff of a department
  that owns the challenge, ``proposer`` for a member of an organisation authoring the proposal.
- The author may edit a comment within :data:`EDIT_WINDOW` of posting it (it is then marked as
  edited) and delete it at any time: the row stays, its body is never shown again and its replies
  stay in place. Moderators hide comments (``hidden_at``/``hidden_reason``): the reason is shown in
  place of the body.
- A user likes a comment once (:class:`CommentLike` has the pair as primary key); unliking is
  allowed. ``like_count``, ``reply_count`` and the target's own counter if it keeps one
  (``Proposal.comment_count``: comments not deleted) are recounted under row locks on every change, so
  they stay exact.

Pages read a fixed number of queries whatever the number of comments: one page of top-level
comments with their authors (COUNT + SELECT), then the viewer's likes for those comments. Replies
are loaded only when asked for, a page at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache, lru_cache
from typing import Annotated, Any

import nh3
import sqlalchemy as sa
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlmodel import Session, col, func, select

from cocreate import paths, permissions
from cocreate.accounts.models import User
from cocreate.accounts.permissions import Forbidden, Principal, require_signed_in, user_allowed_to
from cocreate.comments import events, targets
from cocreate.comments.models import Channel, Comment, CommentLike
from cocreate.comments.targets import TargetInfo
from cocreate.db import transactional
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.forms import Choice, FormModel, RowId, Text
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from cocreate.moderation.services import hidden_notice
from cocreate.web import markdown as web_markdown
from cocreate.web.pagination import Page, paginate

BODY_MAX = 4000
EDIT_WINDOW = timedelta(minutes=15)
PER_PAGE = 20
REPLIES_PER_PAGE = 50
STAFF = "staff"
PROPOSER = "proposer"


class Sort:
    NEWEST = "newest"
    OLDEST = "oldest"
    LIKED = "liked"
    ALL = (NEWEST, OLDEST, LIKED)


# --- Markdown-lite -------------------------------------------------------------------------------

LITE_TAGS = {"p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a"}
LITE_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}


@cache
def _lite_parser() -> MarkdownIt:
    """CommonMark without raw HTML, headings, images or tables; single newlines become line breaks."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False, "breaks": True})
    md.enable(["strikethrough", "linkify"])
    md.disable(["heading", "lheading", "image", "html_block", "html_inline"])
    return md


def render_lite(source: str | None) -> Markup:
    """Safe HTML for a comment: emphasis, lists, quotes, code and links, nothing else; never raises."""
    if not source:
        return Markup("")
    return Markup(_lite_html(source))  # noqa: S704 - sanitised by an allow-list in _lite_html


# A busy proposal's page shows the same twenty comments to everyone: parsing and sanitising them was
# a sixth of the page's time. Pure, so each process keeps the newest results.
@lru_cache(maxsize=8192)
def _lite_html(source: str) -> str:
    source = source[: web_markdown.MAX_SOURCE_LENGTH].replace("\x00", "\ufffd")
    return nh3.clean(_lite_parser().render(source), tags=LITE_TAGS, attributes=LITE_ATTRIBUTES,
                     url_schemes=web_markdown.URL_SCHEMES, link_rel=web_markdown.LINK_REL, strip_comments=True)


# --- targets -------------------------------------------------------------------------------------


def load_target(session: Session, actor: Principal, target_type: str, target_id: int) -> TargetInfo:
    """The target if the actor may read its comments; else 404 (also for a type nobody declared)."""
    return targets.load(session, actor, target_type, target_id)


def _lock_target(session: Session, actor: Principal, target_type: str, target_id: int) -> TargetInfo:
    """The target for a change (a target that keeps a comment counter locks its row)."""
    return targets.load(session, actor, target_type, target_id, lock=True)


def recount(session: Session, target: TargetInfo) -> int | None:
    """Tell the target its comments and replies not deleted, if it keeps a counter (caller holds the lock).

    Comments hidden by moderators still count (they stay in place with the reason), so hiding
    changes no counter. Challenges keep no counter.
    """
    count_changed = target.kind.count_changed
    if count_changed is None:
        return None
    session.flush()
    count = session.exec(select(func.count()).select_from(Comment).where(
        Comment.target_type == target.type, Comment.target_id == target.id,
        col(Comment.deleted_at).is_(None))).one()
    count_changed(session, target.id, count)
    return count


# --- who may comment -----------------------------------------------------------------------------


def comment_state(actor: Principal) -> str:
    """The actor as a commenter, as ``comment.write`` answers: ``anonymous``, ``refused`` (blocked, or the
    address not confirmed) or ``ok``."""
    decision = permissions.can(actor, "comment.write")
    if decision:
        return "ok"
    return "anonymous" if decision.sign_in else "refused"


@dataclass(frozen=True)
class OnComment:
    """A comment as the rules of writing (``comment.reply``, ``comment.edit``, ``comment.like``,
    ``comment.delete``) see it for one actor, at one moment."""

    target: TargetInfo
    mine: bool
    removed: bool
    """Deleted by its author or hidden by a moderator."""
    in_edit_window: bool

    edit_minutes = int(EDIT_WINDOW.total_seconds() // 60)

    @classmethod
    def of(cls, target: TargetInfo, comment: Comment, actor: Principal, now: datetime | None = None) -> OnComment:
        return cls(target, mine=actor.user_id is not None and comment.author_id == actor.user_id,
                   removed=comment.deleted_at is not None or comment.hidden_at is not None,
                   in_edit_window=edit_window_open(comment, now))


def _official(session: Session, actor: Principal, target: TargetInfo) -> str:
    return target.kind.official(session, actor, target)


# --- writing -------------------------------------------------------------------------------------


class CommentForm(FormModel):
    """What the comment and reply forms send (a reply names the comment it answers)."""

    body: Annotated[str, Text(BODY_MAX, required=lazy_gettext("Write your comment."))] = ""
    parent_id: Annotated[int | None, RowId(lazy_gettext("The comment you are replying to does not exist."))] = None


class EditForm(FormModel):
    body: Annotated[str, Text(BODY_MAX, required=lazy_gettext("Write your comment."))] = ""


class Liking(StrEnum):
    YES = "yes"
    NO = "no"


class LikeForm(FormModel):
    """``like=yes|no`` says which, so a double submit changes nothing; without it the like toggles."""

    like: Annotated[Liking | None, Choice(Liking, required=False)] = None

    @property
    def wanted(self) -> bool | None:
        return None if self.like is None else self.like is Liking.YES


@transactional
def post(session: Session, actor: Principal, target_type: str, target_id: int, form: CommentForm, *,
         now: datetime | None = None) -> Comment:
    """Post a comment, or a reply when the form names a parent (a reply to a reply joins its thread)."""
    user = user_allowed_to(actor, "comment.write")
    target = _lock_target(session, actor, target_type, target_id)
    permissions.require(actor, "comment.post", target, field="body")
    parent: Comment | None = None
    if form.parent_id is not None:
        parent = _lock_parent(session, actor, target, form.parent_id)
    comment = Comment(target_type=target.type, target_id=target.id, parent_id=parent.id if parent else None,
                      depth=1 if parent else 0, author_id=user.id, body=form.body,
                      official=_official(session, actor, target))
    if now is not None:
        comment.created_at = comment.updated_at = now
    session.add(comment)
    session.flush()
    if parent is not None:
        parent.reply_count = session.exec(
            select(func.count()).select_from(Comment).where(Comment.parent_id == parent.id)).one()
        session.add(parent)
        events.announce(session, events.COMMENT_REPLIED, comment.id, actor_id=user.id,  # type: ignore[arg-type]
                        related_id=form.parent_id)
    if target.kind.audience is not None:
        events.announce(session, events.COMMENT_POSTED, comment.id, actor_id=user.id,  # type: ignore[arg-type]
                        related_id=form.parent_id if parent is not None else None)
    recount(session, target)
    return comment


@dataclass(frozen=True)
class AssistedComment:
    """A resident's comment the support desk records for them (代理入力): what they said, from what, and a
    private note for the ward (never public)."""

    body: str
    channel: Channel
    note: str = ""


@transactional
def post_assisted(session: Session, actor: Principal, target_type: str, target_id: int,
                  entries: Sequence[AssistedComment], *, consent_at: datetime) -> list[Comment]:
    """Record residents' comments on a target for them, all or none (the caller's unit of work): no author,
    the desk member as ``entered_by_id``, the channel shown publicly instead of a name, and the time the
    residents' consent to publication was recorded (``desk.enter``, and ``comment.assist``: the target takes
    comments now). Top-level comments only; whoever follows the target hears of them as of any comment."""
    user = user_allowed_to(actor, "desk.enter")
    target = _lock_target(session, actor, target_type, target_id)
    permissions.require(actor, "comment.assist", target, field="target")
    comments = []
    for entry in entries:
        if entry.channel is Channel.ONLINE:
            raise Invalid({"channel": _("Choose how the opinion reached the ward.")})
        comment = Comment(target_type=target.type, target_id=target.id, author_id=None, body=entry.body,
                          channel=entry.channel.value, entered_by_id=user.id, consent_at=consent_at,
                          desk_note=entry.note)
        session.add(comment)
        comments.append(comment)
    session.flush()
    if target.kind.audience is not None:
        for comment in comments:
            events.announce(session, events.COMMENT_POSTED, comment.id, actor_id=user.id)  # type: ignore[arg-type]
    recount(session, target)
    return comments


def _lock_parent(session: Session, actor: Principal, target: TargetInfo, parent_id: int) -> Comment:
    """The top-level comment a reply joins, locked (its ``reply_count`` changes)."""
    parent = session.get(Comment, parent_id)
    if parent is not None and parent.parent_id is not None:
        parent = session.get(Comment, parent.parent_id)
    if parent is None or parent.target_type != target.type or parent.target_id != target.id:
        raise Invalid({"body": _("The comment you are replying to does not exist.")})
    parent = session.get(Comment, parent.id, with_for_update=True, populate_existing=True)
    assert parent is not None
    permissions.require(actor, "comment.reply", OnComment.of(target, parent, actor), field="body")
    return parent


def _lock_comment(session: Session, actor: Principal, comment_id: int) -> tuple[TargetInfo, Comment]:
    """The comment and its target, target first (the order every writer here locks in)."""
    found = session.exec(select(Comment.target_type, Comment.target_id).where(Comment.id == comment_id)).first()
    if found is None:
        raise NotFound()
    target = _lock_target(session, actor, *found)
    comment = session.get(Comment, comment_id, with_for_update=True, populate_existing=True)
    if comment is None:
        raise NotFound()
    return target, comment


def edit_window_open(comment: Comment, now: datetime | None = None) -> bool:
    return (now or utcnow()) <= comment.created_at + EDIT_WINDOW


@transactional
def edit(session: Session, actor: Principal, comment_id: int, form: EditForm, *,
         now: datetime | None = None) -> Comment:
    """The author changes a comment within the edit window; it is then marked as edited."""
    user_allowed_to(actor, "comment.write")
    target, comment = _lock_comment(session, actor, comment_id)
    permissions.require(actor, "comment.edit", OnComment.of(target, comment, actor, now), field="body")
    if form.body != comment.body:
        comment.body = form.body
        comment.edited_at = now or utcnow()
        session.add(comment)
    return comment


@transactional
def delete(session: Session, actor: Principal, comment_id: int, *, now: datetime | None = None) -> Comment:
    """The author deletes a comment: its body is never shown again, its replies stay."""
    require_signed_in(actor)
    target, comment = _lock_comment(session, actor, comment_id)
    permissions.require(actor, "comment.delete", OnComment.of(target, comment, actor, now))
    if comment.deleted_at is None:
        comment.deleted_at = now or utcnow()
        session.add(comment)
        recount(session, target)
    return comment


@transactional
def set_like(session: Session, actor: Principal, comment_id: int, liked: bool | None = None) -> tuple[Comment, bool]:
    """Like (``True``), unlike (``False``) or toggle (``None``) a comment; returns it and the new state.

    Liking twice changes nothing: a user's like is one row, and the count is recounted under the
    comment's row lock.
    """
    user = user_allowed_to(actor, "comment.write")
    target, comment = _lock_comment(session, actor, comment_id)
    existing = session.get(CommentLike, (comment.id, user.id))
    wanted = existing is None if liked is None else liked
    if wanted and existing is None:
        permissions.require(actor, "comment.like", OnComment.of(target, comment, actor), field="like")
        session.add(CommentLike(comment_id=comment.id, user_id=user.id))  # type: ignore[arg-type]
    elif not wanted and existing is not None:
        session.delete(existing)
    else:
        return comment, wanted
    session.flush()
    comment.like_count = session.exec(
        select(func.count()).select_from(CommentLike).where(CommentLike.comment_id == comment.id)).one()
    session.add(comment)
    return comment, wanted


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentView:
    """A comment as one viewer sees it (what they may do with it: ``can("comment.edit", item.on)``…)."""

    comment: Comment
    author_name: str
    liked: bool
    on: OnComment

    @property
    def is_mine(self) -> bool:
        return self.on.mine

    @property
    def id(self) -> int:
        assert self.comment.id is not None
        return self.comment.id

    @property
    def is_deleted(self) -> bool:
        return self.comment.deleted_at is not None

    @property
    def is_hidden(self) -> bool:
        return self.comment.hidden_at is not None and not self.is_deleted

    @property
    def is_removed(self) -> bool:
        return self.is_deleted or self.is_hidden

    @property
    def is_reply(self) -> bool:
        return self.comment.parent_id is not None

    @property
    def thread_id(self) -> int:
        return self.comment.parent_id or self.id

    @property
    def hidden_notice(self) -> str:
        """What moderation shows in place of a hidden comment (its reason, or "pending review")."""
        return hidden_notice(self.comment) if self.is_hidden else ""

    @property
    def html(self) -> Markup:
        """The body as Markdown-lite; empty for removed comments (the template shows why instead)."""
        return Markup("") if self.is_removed else render_lite(self.comment.body)

    @property
    def replies_url(self) -> str:
        return paths.comment_replies(self.thread_id)


def _with_authors(actor: Principal, *conditions: Any) -> Any:
    """``(comment, author, liked by the actor)`` rows: the like rides along, so a page is one query."""
    liked: Any = sa.false()
    if actor.user_id is not None:
        liked = sa.exists().where(col(CommentLike.comment_id) == Comment.id, col(CommentLike.user_id) == actor.user_id)
    return (select(Comment, User, liked.label("liked")).outerjoin(User, col(User.id) == col(Comment.author_id))
            .where(*conditions))


def _views(actor: Principal, target: TargetInfo, rows: Sequence[Any]) -> list[CommentView]:
    """Views of the rows of :func:`_with_authors`."""
    now = utcnow()
    return [CommentView(comment, _author_name(comment, user), bool(liked), OnComment.of(target, comment, actor, now))
            for comment, user, liked in rows]


def _author_name(comment: Comment, user: User | None) -> str:
    """The author's public name; for an assisted entry, how the ward received it (there is no author)."""
    if comment.is_assisted:
        return Channel(comment.channel).label
    return user.public_name if user is not None else _("Deleted user")


def parse_sort(value: Any) -> str:
    text = str(value or "")
    return text if text in Sort.ALL else Sort.NEWEST


ORDERS = {
    Sort.NEWEST: (col(Comment.created_at).desc(), col(Comment.id).desc()),
    Sort.OLDEST: (col(Comment.created_at), col(Comment.id)),
    Sort.LIKED: (col(Comment.like_count).desc(), col(Comment.created_at).desc(), col(Comment.id).desc()),
}


@dataclass
class Section:
    """One page of a target's threads as one viewer sees them, read in a fixed number of queries."""

    target: TargetInfo
    page: Page[CommentView]
    sort: str
    state: str
    """The viewer as a commenter (:func:`comment_state`); the page asks ``can("comment.post", cm.target)``."""
    return_url: str
    """Where plain forms on this page send the browser back to."""
    form: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    sorts: tuple[str, ...] = Sort.ALL

    @property
    def list_url(self) -> str:
        return self.target.list_url

    def page_url(self, number: int, sort: str | None = None) -> str:
        sort = sort or self.sort
        query = [] if sort == Sort.NEWEST else [f"sort={sort}"]
        if number > 1:
            query.append(f"page={number}")
        return self.list_url + ("?" + "&".join(query) if query else "")


def section(session: Session, actor: Principal, target: TargetInfo, *, sort: Any = Sort.NEWEST, page: int = 1,
            return_url: str | None = None, form: dict[str, Any] | None = None,
            errors: dict[str, str] | None = None) -> Section:
    """A page of top-level comments (newest, oldest or most liked first); replies are not loaded."""
    sort = parse_sort(sort)
    statement = _with_authors(actor, Comment.target_type == target.type, Comment.target_id == target.id,
                              col(Comment.parent_id).is_(None)).order_by(*ORDERS[sort])
    result = paginate(session, statement, page, PER_PAGE, scalars=False)
    views = _views(actor, target, result.items)
    return Section(target=target, page=Page(items=views, page=result.page, per_page=result.per_page, total=result.total),
                   sort=sort, state=comment_state(actor),
                   return_url=return_url or target.url, form={"body": ""} | (form or {}), errors=errors or {})


@dataclass
class Thread:
    """A top-level comment and one page of its replies (oldest first)."""

    target: TargetInfo
    top: CommentView
    replies: Page[CommentView]
    state: str
    """The viewer as a commenter (:func:`comment_state`); the page asks ``can("comment.reply", th.top.on)``."""
    form: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return paths.comment_replies(self.top.id)

    def page_url(self, number: int) -> str:
        return f"{self.url}?page={number}" if number > 1 else self.url


def thread(session: Session, actor: Principal, comment_id: int, *, page: int | None = None,
           form: dict[str, Any] | None = None, errors: dict[str, str] | None = None) -> Thread:
    """The thread a comment belongs to, with one page of replies (the last page when ``page`` is None)."""
    row = session.exec(_with_authors(actor, Comment.id == comment_id)).first()
    if row is None:
        raise NotFound()
    if row[0].parent_id is not None:
        row = session.exec(_with_authors(actor, Comment.id == row[0].parent_id)).first()
        assert row is not None
    top = row[0]
    target = load_target(session, actor, top.target_type, top.target_id)
    statement = _with_authors(actor, Comment.parent_id == top.id).order_by(col(Comment.created_at), col(Comment.id))
    if page is None:
        page = max(1, -(-top.reply_count // REPLIES_PER_PAGE))
    result = paginate(session, statement, page, REPLIES_PER_PAGE, scalars=False)
    views = _views(actor, target, [row, *result.items])
    return Thread(target=target, top=views[0],
                  replies=Page(items=views[1:], page=result.page, per_page=result.per_page, total=result.total),
                  state=comment_state(actor),
                  form={"body": ""} | (form or {}), errors=errors or {})


@dataclass
class Single:
    """One comment for the fragments that swap it in place (after an edit, a delete or a like)."""

    target: TargetInfo
    item: CommentView
    return_url: str
    errors: dict[str, str] = field(default_factory=dict)
    form: dict[str, Any] = field(default_factory=dict)


def single(session: Session, actor: Principal, comment_id: int, *, return_url: str | None = None,
           errors: dict[str, str] | None = None, form: dict[str, Any] | None = None) -> Single:
    row = session.exec(_with_authors(actor, Comment.id == comment_id)).first()
    if row is None:
        raise NotFound()
    target = load_target(session, actor, row[0].target_type, row[0].target_id)
    views = _views(actor, target, [row])
    return Single(target, views[0], return_url or target.url, errors or {}, form or {})


def editing(session: Session, actor: Principal, comment_id: int, *, errors: dict[str, str],
            form: dict[str, Any]) -> Single:
    """A comment with its edit form again, for its author only: anyone else is refused here as the
    edit itself refuses them, whatever they sent."""
    user_allowed_to(actor, "comment.write")
    one = single(session, actor, comment_id, errors=errors, form=form)
    if not one.item.is_mine:
        raise Forbidden(_("Only the author can edit this comment."))
    return one
