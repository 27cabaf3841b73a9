"""Comments on challenges and proposals: who may comment in which phase, threads one reply deep, official
marks, the edit window, soft delete, likes, Markdown-lite, hidden comments, sorting, paging, replies on
demand and constant query counts, through the services and the real app.

Most tests run on SQLite only (the rules live in Python); the counters under concurrent likes run on both.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, func, select

from cocreate.accounts.models import Role, User
from cocreate.accounts.permissions import Forbidden, Principal, SignInRequired
from cocreate.comments import services as comments
from cocreate.comments.models import Comment, CommentLike
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.web.sessions import StoredSession
from proposals import comment_targets, phases
from proposals.models import Phase, Proposal, ProposalStatus
from proposals.phases import Action
from tests.factories import (
    create_challenge,
    create_department,
    create_organisation,
    create_proposal,
    create_user,
    sign_in,
)
from tests.helpers import count_queries, csrf_token

pytestmark = pytest.mark.databases("sqlite", why="comment rules are Python; concurrent likes run on both")

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
World = dict[str, Any]


@pytest.fixture
def world(session: Session) -> World:
    env = create_department(session)
    other = create_department(session, "transport", division_ja="都市整備部", section_ja="交通政策課",
                              division_en="Urban Development", section_en="Transport Policy")
    member = create_user(session, "member@example.jp", display_name="会員 一郎")
    blocked = create_user(session, "blocked@example.jp")
    blocked.blocked_at = utcnow()
    session.add(blocked)
    session.commit()
    world: World = {
        "staff": create_user(session, "kankyo@example.jp", display_name="環境 花子", roles=[(Role.STAFF, env.id)]),  # type: ignore[list-item]
        "other_staff": create_user(session, "kotsu@example.jp", roles=[(Role.STAFF, other.id)]),  # type: ignore[list-item]
        "resident": create_user(session, "resident@example.jp", display_name="区民 太郎"),
        "neighbour": create_user(session, "neighbour@example.jp", display_name="隣人 次郎"),
        "unconfirmed": create_user(session, "new@example.jp", confirmed=False),
        "blocked": blocked,
        "member": member,
    }
    organisation = create_organisation(session, admin=member, verified=True)
    world["challenge"] = create_challenge(session, env, phase="voting")
    world["proposal"] = create_proposal(session, world["challenge"], organisation, author=member)
    return world


def actor(session: Session, world: World, name: str | None) -> Principal:
    return Principal.anonymous() if name is None else Principal.load(session, world[name])


def say(session: Session, world: World, name: str = "resident", body: str = "賛成です。", *,
        target: str = "challenge", parent: Comment | None = None, **kwargs: Any) -> Comment:
    target_id = world[target].id
    return comments.post(session, actor(session, world, name), target, target_id, comments.CommentForm(body=body, parent_id=parent.id if parent else None), **kwargs)


def fresh(session: Session, model: Any, key: Any) -> Any:
    session.expire_all()
    return session.get(model, key)


def stored(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Comment)).one()


@contextmanager
def browser(app: Litestar, user: User | None = None, *, directly: bool = False) -> Iterator[TestClient[Litestar]]:
    """A client of its own signed in as ``user`` (``directly``: a session row, for accounts the form refuses)."""
    with TestClient(app, base_url="http://testserver.local") as client:
        if user is not None and directly:
            key = secrets.token_hex(32)
            with app.state.database.transaction() as session:
                session.add(StoredSession(key=key, expires_at=utcnow() + timedelta(hours=1),
                                          data=json.dumps({"user_id": user.id, "epoch": user.session_epoch}).encode()))
            client.cookies.set("cocreate_session", key, domain="testserver.local")
        elif user is not None:
            sign_in(client, user)
        yield client


def send(client: TestClient[Litestar], url: str, htmx: bool = False, **data: object) -> Any:
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url, data={"_csrf_token": csrf_token(client), **data}, headers=headers,
                       follow_redirects=False)


def main_of(page: str) -> str:
    return page.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def article(page: str, comment_id: int) -> str:
    return page.split(f'id="comment-{comment_id}"', 1)[1].split("</article>", 1)[0]


# --- who may comment, and when -------------------------------------------------------------------


@SQLITE
@pytest.mark.parametrize("phase", [p for p in Phase if p is not Phase.DRAFT])
def test_comments_follow_the_challenge_phase(session: Session, world: World, phase: Phase) -> None:
    world["challenge"].phase = phase
    session.add(world["challenge"])
    session.commit()
    for target in ("challenge", "proposal"):
        if phases.allows(phase, Action.COMMENT):
            assert say(session, world, target=target).id is not None
        else:
            with pytest.raises(Invalid) as failed:
                say(session, world, target=target)
            assert failed.value.errors["body"] == phases.phase_reason(phase, Action.COMMENT)
    assert stored(session) == (2 if phases.allows(phase, Action.COMMENT) else 0)


@SQLITE
def test_drafts_and_unknown_targets_are_not_found(session: Session, world: World) -> None:
    draft = create_challenge(session, create_department(session, "spare"), phase="draft")
    for target_type, target_id in (("challenge", draft.id), ("challenge", 999_999), ("proposal", 999_999),
                                   ("vote", world["challenge"].id)):
        with pytest.raises(NotFound):
            comments.post(session, actor(session, world, "resident"), target_type, target_id, comments.CommentForm(body="こんにちは"))
    assert stored(session) == 0


@SQLITE
def test_only_confirmed_active_accounts_comment(session: Session, world: World) -> None:
    with pytest.raises(SignInRequired):
        say(session, world, None)
    for name in ("unconfirmed", "blocked"):
        with pytest.raises(Forbidden):
            say(session, world, name)
    assert stored(session) == 0
    for name in ("resident", "member", "staff", "other_staff"):
        say(session, world, name)
    assert stored(session) == 4


@SQLITE
def test_proposals_take_comments_only_when_submitted_and_not_hidden(session: Session, world: World) -> None:
    proposal: Proposal = world["proposal"]
    proposal.status = ProposalStatus.WITHDRAWN
    session.add(proposal)
    session.commit()
    with pytest.raises(Invalid) as failed:
        say(session, world, target="proposal")
    assert "no longer takes comments" in failed.value.errors["body"] or "受け付けていません" in failed.value.errors["body"]
    proposal.hidden_at = utcnow()
    proposal.status = ProposalStatus.SUBMITTED
    session.add(proposal)
    session.commit()
    with pytest.raises(NotFound):
        say(session, world, target="proposal")
    proposal.hidden_at = None
    proposal.status = ProposalStatus.DRAFT
    session.add(proposal)
    session.commit()
    with pytest.raises(NotFound):
        say(session, world, target="proposal")
    assert stored(session) == 0


@SQLITE
def test_posting_over_http_per_role(app: Litestar, session: Session, world: World) -> None:
    url = f"/challenges/{world['challenge'].id}/comments"
    with browser(app) as client:
        response = send(client, url, body="匿名です")
        assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in")
    for name in ("unconfirmed", "blocked"):
        with browser(app, world[name], directly=True) as client:
            assert send(client, url, body="未確認です").status_code in (303, 403)
    assert stored(session) == 0
    with browser(app, world["resident"]) as client:
        response = send(client, url, body="**坂道**が多いので助かります", next=f"/challenges/{world['challenge'].id}")
        assert response.status_code == 303
        comment = session.exec(select(Comment)).one()
        assert response.headers["location"] == f"/challenges/{world['challenge'].id}#comment-{comment.id}"
        page = client.get(f"/challenges/{world['challenge'].id}").text
        assert 'id="comments"' in page and "<strong>坂道</strong>が多いので助かります" in article(page, comment.id)
        response = send(client, url, htmx=True, body="htmxからの投稿")
        assert response.status_code == 200 and "<html" not in response.text
        assert response.text.lstrip().startswith('<section class="comments" id="comments"')
        assert "htmxからの投稿" in response.text and "cocreate:flash" in response.headers["HX-Trigger"]
    assert (comment.target_type, comment.target_id, comment.depth, comment.author_id) == (
        "challenge", world["challenge"].id, 0, world["resident"].id)


@SQLITE
def test_validation_errors_change_nothing(app: Litestar, session: Session, world: World) -> None:
    url = f"/proposals/{world['proposal'].id}/comments"
    with browser(app, world["resident"]) as client:
        for body, message in (("   ", "コメントを入力してください。"), ("あ" * 4001, "4000文字以内"),
                              ("制御\x07文字", "使用できない文字")):
            response = send(client, url, body=body)
            assert response.status_code == 400
            assert message in main_of(response.text)
            assert 'id="error-summary"' in response.text
        response = send(client, url, htmx=True, body="")
        assert response.status_code == 200 and "<html" not in response.text
        assert "コメントを入力してください。" in response.text
        # A reply to something that is not a comment of this target.
        response = send(client, url, body="返信", parent_id="abc")
        assert response.status_code == 400 and "返信先のコメントが見つかりません。" in response.text
        other = say(session, world, target="challenge")
        response = send(client, url, body="返信", parent_id=str(other.id))
        assert response.status_code == 400
        assert client.post("/proposals/999999/comments", data={"_csrf_token": csrf_token(client), "body": "x"},
                           follow_redirects=False).status_code == 404
    assert stored(session) == 1
    assert fresh(session, Proposal, world["proposal"].id).comment_count == 0


# --- threads ------------------------------------------------------------------------------------


@SQLITE
def test_replies_go_one_level_deep(session: Session, world: World) -> None:
    top = say(session, world, target="proposal")
    reply = say(session, world, "neighbour", "私もそう思います", target="proposal", parent=top)
    deeper = say(session, world, "resident", "ありがとうございます", target="proposal", parent=reply)
    assert (reply.parent_id, reply.depth) == (top.id, 1)
    assert (deeper.parent_id, deeper.depth) == (top.id, 1)  # a reply to a reply joins the same thread
    assert fresh(session, Comment, top.id).reply_count == 2
    assert fresh(session, Proposal, world["proposal"].id).comment_count == 3
    # The database refuses anything deeper, whatever the code does.
    with pytest.raises(sa.exc.IntegrityError):
        session.add(Comment(target_type="proposal", target_id=world["proposal"].id, parent_id=reply.id, depth=2,
                            author_id=world["resident"].id, body="x"))
        session.commit()
    session.rollback()


@SQLITE
def test_removed_comments_take_no_replies(session: Session, world: World) -> None:
    top = say(session, world)
    comments.delete(session, actor(session, world, "resident"), top.id)  # type: ignore[arg-type]
    with pytest.raises(Invalid):
        say(session, world, "neighbour", parent=top)
    hidden = say(session, world)
    hidden.hidden_at, hidden.hidden_reason = utcnow(), "個人情報を含むため"
    session.add(hidden)
    session.commit()
    with pytest.raises(Invalid):
        say(session, world, "neighbour", parent=hidden)
    assert fresh(session, Comment, top.id).reply_count == 0


# --- official marks -------------------------------------------------------------------------------


@SQLITE
def test_official_marks_for_owning_staff_and_proposers(app: Litestar, session: Session, world: World) -> None:
    by_staff = say(session, world, "staff", "担当課です。", target="proposal")
    by_other_staff = say(session, world, "other_staff", target="proposal")
    by_proposer = say(session, world, "member", "提案者です。", target="proposal")
    by_resident = say(session, world, "resident", target="proposal")
    on_challenge_by_member = say(session, world, "member")
    on_challenge_by_staff = say(session, world, "staff")
    assert [c.official for c in (by_staff, by_other_staff, by_proposer, by_resident, on_challenge_by_member,
                                 on_challenge_by_staff)] == ["staff", "", "proposer", "", "", "staff"]
    with browser(app) as client:
        page = client.get(f"/proposals/{world['proposal'].id}/comments").text
    assert "担当部署" in article(page, by_staff.id) and f'id="comment-{by_staff.id}-official"' in page
    assert "提案団体" in article(page, by_proposer.id)
    assert f'id="comment-{by_resident.id}-official"' not in page
    assert f'id="comment-{by_other_staff.id}-official"' not in page


# --- edit window and soft delete -------------------------------------------------------------------


@SQLITE
def test_edit_within_fifteen_minutes_only(session: Session, world: World) -> None:
    comment = say(session, world)
    resident = actor(session, world, "resident")
    created = comment.created_at
    with pytest.raises(Forbidden):
        comments.edit(session, actor(session, world, "neighbour"), comment.id, comments.EditForm(body="乗っ取り"), now=created)  # type: ignore[arg-type]
    edited = comments.edit(session, resident, comment.id, comments.EditForm(body="訂正しました。"), now=created + timedelta(minutes=14))  # type: ignore[arg-type]
    assert edited.body == "訂正しました。" and edited.edited_at == created + timedelta(minutes=14)
    with pytest.raises(Invalid) as failed:
        comments.edit(session, resident, comment.id, comments.EditForm(body="もう一度"), now=created + timedelta(minutes=15, seconds=1))  # type: ignore[arg-type]
    assert "15分以内" in failed.value.errors["body"]
    assert fresh(session, Comment, comment.id).body == "訂正しました。"
    with pytest.raises(Invalid):
        comments.edit(session, resident, comment.id, comments.EditForm(body=""), now=created)  # type: ignore[arg-type]


@SQLITE
def test_edit_over_http_marks_the_comment_edited(app: Litestar, session: Session, world: World) -> None:
    comment = say(session, world)
    with browser(app, world["neighbour"]) as client:
        assert send(client, f"/comments/{comment.id}/edit", body="他人の編集").status_code == 403
    with browser(app, world["resident"]) as client:
        page = client.get(f"/challenges/{world['challenge'].id}/comments").text
        assert f'action="/comments/{comment.id}/edit"' in page
        response = send(client, f"/comments/{comment.id}/edit", body="言い直します", next="/challenges/1/comments")
        assert response.status_code == 303
        assert response.headers["location"] == f"/challenges/1/comments#comment-{comment.id}"
        response = send(client, f"/comments/{comment.id}/edit", htmx=True, body="もう一度言い直します")
        assert response.status_code == 200 and "<html" not in response.text
        assert "もう一度言い直します" in response.text and f'id="comment-{comment.id}-edited"' in response.text
        # After the window the form is gone and a post is refused with the reason.
        session.execute(sa.update(Comment).where(Comment.id == comment.id)  # type: ignore[arg-type]
                        .values(created_at=utcnow() - timedelta(minutes=16)))
        session.commit()
        page = client.get(f"/challenges/{world['challenge'].id}/comments").text
        assert f'action="/comments/{comment.id}/edit"' not in page
        response = send(client, f"/comments/{comment.id}/edit", body="遅すぎる編集")
        assert response.status_code == 400 and "投稿から15分以内です" in response.text
    assert fresh(session, Comment, comment.id).body == "もう一度言い直します"


@SQLITE
def test_an_edit_refused_shows_the_form_to_its_author_only(app: Litestar, session: Session, world: World) -> None:
    comment = say(session, world)
    with browser(app, world["neighbour"]) as client:
        assert send(client, f"/comments/{comment.id}/edit", body="").status_code == 403
        assert send(client, f"/comments/{comment.id}/edit").status_code == 403
    with browser(app, world["resident"]) as client:
        response = send(client, f"/comments/{comment.id}/edit")  # no body sent at all
        assert response.status_code == 400 and "コメントを入力してください。" in response.text
        response = send(client, f"/comments/{comment.id}/edit", htmx=True, body="x" * 4001)
        assert response.status_code == 200 and "4000文字以内" in response.text and "<html" not in response.text
        # A page to go back to that is not on this site sends the browser to the comment's thread.
        response = send(client, f"/comments/{comment.id}/edit", body="直しました", next="https://evil.example/")
        assert response.status_code == 303
        assert response.headers["location"] == f"/comments/{comment.id}/replies#comment-{comment.id}"
    assert fresh(session, Comment, comment.id).body == "直しました"


@SQLITE
def test_soft_delete_keeps_replies_and_hides_the_body(app: Litestar, session: Session, world: World) -> None:
    top = say(session, world, body="消す予定の本文", target="proposal")
    reply = say(session, world, "neighbour", "返信は残ります", target="proposal", parent=top)
    assert fresh(session, Proposal, world["proposal"].id).comment_count == 2
    with browser(app, world["neighbour"]) as client:
        assert send(client, f"/comments/{top.id}/delete").status_code == 403
    with browser(app, world["resident"]) as client:
        response = send(client, f"/comments/{top.id}/delete", htmx=True)
        assert response.status_code == 200 and "この投稿は削除されました" in response.text
        assert "消す予定の本文" not in response.text
        assert send(client, f"/comments/{top.id}/delete").status_code == 303  # again: nothing changes
    row = fresh(session, Comment, top.id)
    assert row.deleted_at is not None and row.body == "消す予定の本文"  # kept for moderation, never shown
    assert fresh(session, Proposal, world["proposal"].id).comment_count == 1
    with browser(app) as client:
        page = client.get(f"/proposals/{world['proposal'].id}/comments").text
        assert "この投稿は削除されました" in article(page, top.id) and "消す予定の本文" not in page
        assert "区民 太郎" not in article(page, top.id)
        thread = client.get(f"/comments/{top.id}/replies").text
        assert "返信は残ります" in article(thread, reply.id) and "消す予定の本文" not in thread


# --- likes ----------------------------------------------------------------------------------------


@SQLITE
def test_like_once_then_unlike(app: Litestar, session: Session, world: World) -> None:
    comment = say(session, world)
    neighbour = actor(session, world, "neighbour")
    for _ in range(2):  # liking twice is one like
        assert comments.set_like(session, neighbour, comment.id, True)[1] is True  # type: ignore[arg-type]
    assert fresh(session, Comment, comment.id).like_count == 1
    assert comments.set_like(session, neighbour, comment.id, None)[1] is False  # type: ignore[arg-type]
    assert fresh(session, Comment, comment.id).like_count == 0
    with pytest.raises(Forbidden):
        comments.set_like(session, actor(session, world, "unconfirmed"), comment.id, True)  # type: ignore[arg-type]
    with browser(app, world["neighbour"]) as client:
        for _ in range(2):
            response = send(client, f"/comments/{comment.id}/like", htmx=True, like="yes")
            assert response.status_code == 200 and 'aria-pressed="true"' in response.text
            assert '<span class="comment-like-count">1</span>' in response.text
        assert fresh(session, Comment, comment.id).like_count == 1
        response = send(client, f"/comments/{comment.id}/like", like="no", next=f"/challenges/{world['challenge'].id}")
        assert response.status_code == 303
        assert response.headers["location"] == f"/challenges/{world['challenge'].id}#comment-{comment.id}"
        page = client.get(f"/challenges/{world['challenge'].id}/comments").text
        assert 'aria-pressed="false"' in article(page, comment.id)
    assert session.exec(select(func.count()).select_from(CommentLike)).one() == 0
    with browser(app, world["neighbour"]) as client:  # a value the form never sends changes nothing
        response = send(client, f"/comments/{comment.id}/like", like="maybe")
        assert response.status_code == 400 and 'id="error-summary"' in response.text
    assert fresh(session, Comment, comment.id).like_count == 0
    # Removed comments take no likes.
    comments.delete(session, actor(session, world, "resident"), comment.id)  # type: ignore[arg-type]
    with pytest.raises(Invalid):
        comments.set_like(session, neighbour, comment.id, True)  # type: ignore[arg-type]


@pytest.mark.committed("racing threads each use their own connection")
@pytest.mark.databases("sqlite", "postgresql", why="row locks and constraints under concurrency")
def test_concurrent_likes_keep_the_count_exact(database: Database, session: Session, world: World) -> None:
    comment = say(session, world)
    users = [world["neighbour"], world["member"], world["staff"], world["other_staff"]]
    principals = [Principal.load(session, user) for user in users] * 3  # each user likes three times at once
    barrier = threading.Barrier(len(principals))
    errors: list[BaseException] = []

    def like(principal: Principal) -> None:
        try:
            with Session(database.engine, expire_on_commit=False) as own:
                barrier.wait()
                comments.set_like(own, principal, comment.id, True)  # type: ignore[arg-type]
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=like, args=(p,)) for p in principals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert fresh(session, Comment, comment.id).like_count == 4
    assert session.exec(select(func.count()).select_from(CommentLike)).one() == 4


# --- Markdown-lite and hostile input ----------------------------------------------------------------


def test_markdown_lite_allows_little() -> None:
    html = str(comments.render_lite("# 見出し\n\n**太字** と *斜体*\n次の行\n\n- 項目\n\n> 引用\n\n"
                                    "![画像](https://example.com/a.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
                                    "https://example.com/x"))
    assert "<h" not in html and "<img" not in html and "<table" not in html
    assert "<strong>太字</strong>" in html and "<em>斜体</em>" in html and "<br" in html
    assert "<li>項目</li>" in html and "<blockquote>" in html
    assert 'href="https://example.com/x"' in html and 'rel="nofollow ugc noopener"' in html


def test_markdown_lite_sanitises_hostile_input(xss_payloads: list[str]) -> None:
    for payload in [*xss_payloads, "<b onclick=alert(1)>x</b>", "[x](data:text/html,<script>alert(1)</script>)",
                    "<iframe src=//evil>", "<style>*{}</style>", "\x00<script>"]:
        html = str(comments.render_lite(payload))
        assert not re.search(r"<(script|img|svg|iframe|style|object|embed|h[1-6]|table)\b", html, re.I), payload
        assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", html, re.I), payload
        assert not re.search(r'<a[^>]*\shref="\s*(javascript|data|vbscript):', html, re.I), payload


@SQLITE
def test_hostile_comments_are_stored_verbatim_and_rendered_escaped(app: Litestar, session: Session, world: World,
                                                                   xss_payloads: list[str]) -> None:
    payloads = xss_payloads[:40]
    with browser(app, world["resident"]) as client:
        for payload in payloads:
            assert send(client, f"/proposals/{world['proposal'].id}/comments", body=payload).status_code == 303
        bodies = set(session.exec(select(Comment.body)).all())
        assert bodies == {payload.strip() for payload in payloads}
        pages = [main_of(client.get(f"/proposals/{world['proposal'].id}/comments?page={n}").text) for n in (1, 2)]
    for page in pages:
        assert not re.search(r"<(script|img|svg|iframe|object|embed)\b", page, re.I)
        assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", page, re.I)  # no event handler in any tag
        assert not re.search(r'<[a-z][^>]*\s(href|src)="\s*(javascript|data|vbscript):', page, re.I)


# --- reading: hidden, sorting, paging, replies on demand --------------------------------------------


@SQLITE
def test_hidden_comments_show_the_reason_not_the_body(app: Litestar, session: Session, world: World) -> None:
    comment = say(session, world, body="電話番号は090-0000-0000です")
    comment.hidden_at, comment.hidden_reason = utcnow(), "個人情報を含むため"
    session.add(comment)
    session.commit()
    with browser(app, world["resident"]) as client:
        page = client.get(f"/challenges/{world['challenge'].id}/comments").text
    block = article(page, comment.id)
    assert "個人情報を含むため" in block and f'id="comment-{comment.id}-hidden"' in block
    assert "090-0000-0000" not in page
    assert f'action="/comments/{comment.id}/edit"' not in block and f'action="/comments/{comment.id}/like"' not in block
    with pytest.raises(Invalid):
        comments.edit(session, actor(session, world, "resident"), comment.id, comments.EditForm(body="直します"))  # type: ignore[arg-type]


def _bulk(session: Session, world: World, count: int, *, target: str = "challenge", parent: Comment | None = None,
          likes: bool = False) -> list[int]:
    """``count`` comments straight into the table (old enough to be outside the edit window)."""
    start = utcnow() - timedelta(days=1)
    authors = [world[name].id for name in ("resident", "neighbour", "member", "staff")]
    target_type = "proposal" if isinstance(world[target], Proposal) else "challenge"
    rows = [{"target_type": target_type, "target_id": world[target].id, "parent_id": parent.id if parent else None,
             "depth": 1 if parent else 0, "author_id": authors[i % len(authors)], "body": f"コメント{i:04d}",
             "official": "", "like_count": (i * 7) % 11 if likes else 0, "reply_count": 0, "report_count": 0,
             "hidden_reason": "", "created_at": start + timedelta(seconds=i), "updated_at": start + timedelta(seconds=i)}
            for i in range(count)]
    session.execute(sa.insert(Comment), rows)
    if parent is not None:
        session.execute(sa.update(Comment).where(Comment.id == parent.id).values(reply_count=count))  # type: ignore[arg-type]
    session.commit()
    return list(session.exec(select(Comment.id).where(Comment.body.in_([r["body"] for r in rows]))).all())  # type: ignore[attr-defined]


def _bodies(page: str) -> list[str]:
    return re.findall(r"コメント\d{4}", page)


@SQLITE
def test_sorting_and_paging(app: Litestar, session: Session, world: World) -> None:
    _bulk(session, world, 45, likes=True)
    url = f"/challenges/{world['challenge'].id}/comments"
    with browser(app) as client:
        newest = _bodies(client.get(url).text)
        assert newest == [f"コメント{i:04d}" for i in range(44, 24, -1)]
        assert _bodies(client.get(f"{url}?page=3").text) == [f"コメント{i:04d}" for i in range(4, -1, -1)]
        assert _bodies(client.get(f"{url}?page=99").text) == _bodies(client.get(f"{url}?page=3").text)
        assert _bodies(client.get(f"{url}?sort=junk&page=x").text) == newest
        oldest = _bodies(client.get(f"{url}?sort=oldest&page=2").text)
        assert oldest == [f"コメント{i:04d}" for i in range(20, 40)]
        liked = _bodies(client.get(f"{url}?sort=liked").text)
        expected = sorted(range(45), key=lambda i: (-((i * 7) % 11), -i))[:20]
        assert liked == [f"コメント{i:04d}" for i in expected]
        fragment = client.get(f"{url}?sort=oldest", headers={"HX-Request": "true"})
        assert fragment.status_code == 200 and "<html" not in fragment.text and 'id="comments"' in fragment.text
        assert 'aria-current="true"' in fragment.text.split('id="comment-sort-oldest"', 1)[1][:40]
        assert f'href="{url}?sort=oldest&amp;page=2"' in fragment.text


@SQLITE
def test_replies_are_loaded_on_demand(app: Litestar, session: Session, world: World) -> None:
    top = say(session, world, body="スレッドの最初", target="proposal")
    reply = say(session, world, "neighbour", "返信の本文", target="proposal", parent=top)
    with browser(app, world["resident"]) as client:
        section = client.get(f"/proposals/{world['proposal'].id}/comments").text
        assert "スレッドの最初" in section and "返信の本文" not in section
        assert f'href="/comments/{top.id}/replies" hx-get="/comments/{top.id}/replies"' in section
        fragment = client.get(f"/comments/{top.id}/replies", headers={"HX-Request": "true"})
        assert fragment.status_code == 200 and "<html" not in fragment.text
        assert "返信の本文" in fragment.text and f'id="replies-{top.id}"' in fragment.text
        assert f'id="reply-form-{top.id}"' in fragment.text
        full = client.get(f"/comments/{reply.id}/replies")  # a reply's address opens its thread
        assert full.status_code == 200 and "<html" in full.text and "スレッドの最初" in full.text
        response = send(client, f"/proposals/{world['proposal'].id}/comments", htmx=True, body="二つ目の返信",
                        parent_id=str(reply.id))
        assert response.status_code == 200 and "二つ目の返信" in response.text and "返信の本文" in response.text
        response = send(client, f"/proposals/{world['proposal'].id}/comments", body="三つ目の返信",
                        parent_id=str(top.id))
        assert response.status_code == 303 and response.headers["location"].startswith(f"/comments/{top.id}/replies")
        response = send(client, f"/proposals/{world['proposal'].id}/comments", body="", parent_id=str(top.id))
        assert response.status_code == 400 and f'id="field-reply-{top.id}"' in response.text
    assert fresh(session, Comment, top.id).reply_count == 3
    assert fresh(session, Proposal, world["proposal"].id).comment_count == 4
    with browser(app) as client:
        assert client.get("/comments/999999/replies").status_code == 404


@SQLITE
@pytest.mark.parametrize("kind", ["proposal", "challenge"])
def test_thousand_comments_cost_the_same_queries_as_three(app: Litestar, database: Database, session: Session,
                                                          world: World, kind: str) -> None:
    if kind == "proposal":
        other = create_organisation(session, "高島平ラボ合同会社", admin=world["neighbour"], verified=True)
        world["few"] = create_proposal(session, world["challenge"], other, title="小さな提案")
    else:
        world["few"] = create_challenge(session, create_department(session, "few"), phase="voting")
    big_id, few_id = world[kind].id, world["few"].id
    _bulk(session, world, 3, target="few")
    _bulk(session, world, 1000, target=kind, likes=True)
    latest = session.exec(select(Comment).where(Comment.target_type == kind, Comment.target_id == big_id)
                          .order_by(Comment.id.desc())).first()  # type: ignore[union-attr]
    few_top = session.exec(select(Comment).where(Comment.target_type == kind, Comment.target_id == few_id)).first()
    assert latest is not None and few_top is not None
    _bulk(session, world, 300, target=kind, parent=latest)
    _bulk(session, world, 2, target="few", parent=few_top)
    session.add(CommentLike(comment_id=latest.id, user_id=world["neighbour"].id))  # type: ignore[arg-type]
    session.commit()

    def counted(client: TestClient[Litestar], url: str, htmx: bool = False) -> int:
        with count_queries(app.state.database.engine) as log:
            response = client.get(url, headers={"HX-Request": "true"} if htmx else {})
        assert response.status_code == 200, response.text[:500]
        return log.count

    for user in (None, world["neighbour"]):
        with browser(app, user) as client:
            urls = [("comments", "comments", False), ("comments", "comments", True),
                    ("comments?sort=liked&page=3", "comments?sort=liked", False),  # page 3 of 3 comments: none
                    ("", "", False)]  # the challenge's or proposal's own page, with the section
            for suffix, small_suffix, htmx in urls:
                big = counted(client, f"/{kind}s/{big_id}/{suffix}".rstrip("/"), htmx)
                small = counted(client, f"/{kind}s/{few_id}/{small_suffix}".rstrip("/"), htmx)
                assert big == small, (suffix, big, small)
            if kind == "proposal":  # the benchmarked page's budget (docs/performance.md)
                assert counted(client, f"/{kind}s/{big_id}") <= 10
            # A page past the end shows the last page, for a count and one more page query.
            in_range = counted(client, f"/{kind}s/{few_id}/comments?sort=liked")
            assert counted(client, f"/{kind}s/{few_id}/comments?sort=liked&page=3") == in_range + 2
            assert counted(client, f"/comments/{latest.id}/replies", True) == counted(
                client, f"/comments/{few_top.id}/replies", True)
            assert counted(client, f"/comments/{latest.id}/replies") == counted(client, f"/comments/{few_top.id}/replies")
    with browser(app, world["neighbour"]) as client:
        page = client.get(f"/{kind}s/{big_id}").text
    assert len(re.findall(r'<li class="card comment-thread"', page)) == 20
    assert 'aria-pressed="true"' in article(page, latest.id)
    assert "300" in page.split(f'id="replies-{latest.id}-link"', 1)[1][:200]

    principal = actor(session, world, "neighbour")
    for target_id in (big_id, few_id):
        target = comments.load_target(session, principal, kind, target_id)
        with count_queries(database.engine) as log:
            section = comments.section(session, principal, target)
        assert section.page.total in (1000, 3)
        assert log.count == 1  # the page with its total, its authors and the viewer's likes


@SQLITE
def test_section_on_the_proposal_page(app: Litestar, session: Session, world: World) -> None:
    say(session, world, target="proposal")
    section = comment_targets.proposal_section(session, actor(session, world, None), world["proposal"])
    assert section is not None and section[0] == "comments/_comments.html"
    assert section[1]["cm"].page.total == 1 and section[1]["cm"].state == "anonymous"
    with TestClient(app, base_url="http://testserver.local") as client:
        page = client.get(f"/proposals/{world['proposal'].id}").text
    assert 'id="comments"' in page and "賛成です。" in page
    world["proposal"].status = ProposalStatus.DRAFT
    assert comment_targets.proposal_section(session, actor(session, world, None), world["proposal"]) is None
