"""The commentable-target registry: comments know of what they are about only what a manifest declares
(cocreate.comments.targets), and moderation only the reportable types the manifests declare.

A test target, "note", declared in place of the manifests' own, shows that the core takes everything from
the declaration: whether the target exists and takes comments, its title, page and comment routes, how
comments on it are marked, its counter and who hears of its comments.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, func, select

from cocreate import components, permissions
from cocreate.accounts.models import Role
from cocreate.accounts.permissions import Principal
from cocreate.app import create_app
from cocreate.comments import events as comment_events
from cocreate.comments import routes as comment_routes
from cocreate.comments import services as comments
from cocreate.comments import targets
from cocreate.comments.models import Comment
from cocreate.comments.targets import CommentTarget, TargetInfo
from cocreate.db import Database
from cocreate.errors import Invalid, NotFound
from cocreate.moderation import targets as reportables
from cocreate.moderation.models import Report
from cocreate.notifications.models import Notification
from cocreate.permissions import ALLOW, Decision
from cocreate.settings import Settings
from tests.factories import actor, create_challenge, create_department, create_user, sign_in
from tests.helpers import csrf_token, notified, tasks_announced

pytestmark = pytest.mark.databases("sqlite", why="the registries are Python")


def test_the_manifests_declare_what_is_commented_on_and_reported() -> None:
    def declared(field: str) -> dict[str, str]:
        return {item.name: component.name for component in components.load() if getattr(component, field)
                for item in components.resolve(getattr(component, field))}

    assert declared("commentables") == {"challenge": "proposals", "proposal": "proposals", "voice": "proposals"}
    assert [target.name for target in targets.all_targets()] == ["challenge", "proposal", "voice"]
    assert declared("reportables") == {"comment": "core", "proposal": "proposals", "voice": "proposals"}
    assert sorted(reportables.names()) == ["comment", "proposal", "voice"]


def test_a_type_no_manifest_declares_takes_no_comments(session: Session, client: TestClient[Litestar]) -> None:
    challenge = create_challenge(session, create_department(session), phase="voting")
    resident = create_user(session, "resident@example.jp")
    for target_type in ("note", "question", "comment", "challenges", ""):
        with pytest.raises(NotFound):
            comments.post(session, actor(session, resident), target_type, challenge.id,  # type: ignore[arg-type]
                          comments.CommentForm(body="こんにちは"))
        with pytest.raises(NotFound):
            comments.load_target(session, Principal.anonymous(), target_type, challenge.id)  # type: ignore[arg-type]
    assert session.exec(select(func.count()).select_from(Comment)).one() == 0
    # A comment written around the services on an undeclared type is nobody's: no thread, no like, no report.
    stray = Comment(target_type="note", target_id=challenge.id, author_id=resident.id, body="迷子")  # type: ignore[arg-type]
    session.add(stray)
    session.commit()
    sign_in(client, create_user(session, "neighbour@example.jp"))
    assert client.get(f"/comments/{stray.id}/replies").status_code == 404
    assert client.post(f"/comments/{stray.id}/like", data={"_csrf_token": csrf_token(client), "like": "yes"},
                       follow_redirects=False).status_code == 404
    assert client.get(f"/notes/{challenge.id}/comments").status_code == 404  # no routes for it either
    response = client.post("/reports", data={"_csrf_token": csrf_token(client), "target_type": "note",
                                             "target_id": str(challenge.id), "reason": "spam"},
                           follow_redirects=False)
    assert response.status_code == 400
    assert session.exec(select(func.count()).select_from(Report)).one() == 0


# --- a target declared for the test --------------------------------------------------------------


class Notes:
    """A commentable thing of a component the core has never heard of: two notes, the second closed."""

    def __init__(self, audience: set[int]) -> None:
        self.counts: list[tuple[int, int]] = []
        self.locked: list[int] = []
        self.audience = audience
        self.target = CommentTarget(
            name="note", prefix="/notes", param="note_id", action="note.comment", back_label="Back to the note",
            load=self.load,
            official=lambda session, actor, target: "staff" if actor.is_admin else "",
            count_changed=lambda session, note_id, count: self.counts.append((note_id, count)),
            audience=lambda session, note_id: set(self.audience))

    def load(self, session: Session, actor: Principal, note_id: int, *, lock: bool = False) -> TargetInfo:
        if note_id not in (1, 2):
            raise NotFound()
        if lock:
            self.locked.append(note_id)
        takes = ALLOW if note_id == 1 else Decision(False, "This note is closed.", field="phase")
        return TargetInfo(self.target, note_id, f"メモ{note_id}", takes)  # the facts its rule reads


def _takes_note_comments(actor: Principal, facts: Decision) -> Decision:
    """The note component's rule of ``note.comment``: its facts are the answer."""
    return facts


@pytest.fixture
def notes(session: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[Notes]:
    follower = create_user(session, "follower@example.jp")
    declared = Notes({follower.id})  # type: ignore[arg-type]
    monkeypatch.setattr(targets, "_registry", lambda: {"note": declared.target})
    monkeypatch.setitem(permissions._rules, "note.comment", _takes_note_comments)  # its component's policy
    comment_routes.routes.cache_clear()  # the comment routes are built from the declarations
    try:
        yield declared
    finally:
        comment_routes.routes.cache_clear()


def test_comments_take_everything_from_the_declared_target(session: Session, settings: Settings,
                                                           notes: Notes) -> None:
    admin = create_user(session, "admin@example.jp", roles=[Role.ADMIN])
    with tasks_announced(session, comment_events.TASK) as announced:
        comment = comments.post(session, actor(session, admin), "note", 1, comments.CommentForm(body="メモへの意見"))
    assert (comment.target_type, comment.target_id, comment.official) == ("note", 1, "staff")
    assert notes.locked == [1] and notes.counts == [(1, 1)]
    with pytest.raises(Invalid) as refused:
        comments.post(session, actor(session, admin), "note", 2, comments.CommentForm(body="閉じたメモ"))
    assert refused.value.errors == {"body": "This note is closed."}
    with pytest.raises(NotFound):
        comments.post(session, actor(session, admin), "challenge", 1, comments.CommentForm(body="課題"))

    section = comments.section(session, Principal.anonymous(), comments.load_target(session, Principal.anonymous(),
                                                                                     "note", 1))
    assert (section.page.total, section.return_url, section.list_url) == (1, "/notes/1", "/notes/1/comments")

    # Who hears of it, and where it links to, are the target's too.
    assert [task[1][:2] for task in announced] == [(comment_events.COMMENT_POSTED, comment.id)]
    comment_events.run(session, settings, *announced[0][1])
    assert notified(session, comment_events.COMMENT_POSTED) == sorted(notes.audience)
    row = session.exec(select(Notification)).one()
    assert row.url == f"/notes/1#comment-{comment.id}" and "メモ1" in row.params_json


def test_each_declared_target_gets_its_comment_pages(session: Session, settings: Settings, database: Database,
                                                     notes: Notes) -> None:
    app = create_app(settings, database=database)
    paths = {route.path for route in app.routes}
    assert {"/notes/{note_id:int}/comments", "/comments/{comment_id:int}/replies"} <= paths
    assert "/challenges/{challenge_id:int}/comments" not in paths  # only what is declared
    assert app.route_reverse("note-comments", note_id=1) == "/notes/1/comments"
    assert app.route_reverse("note-comment-post", note_id=1) == "/notes/1/comments"

    resident = create_user(session, "resident@example.jp")
    comments.post(session, actor(session, resident), "note", 1, comments.CommentForm(body="一つ目"))
    with TestClient(app, base_url="http://testserver.local") as client:
        page = client.get("/notes/1/comments")
        assert page.status_code == 200
        assert 'href="/notes/1" id="back-to-target">Back to the note</a>' in page.text and "一つ目" in page.text
        assert client.get("/notes/3/comments").status_code == 404
        sign_in(client, resident)
        posted = client.post("/notes/1/comments", data={"_csrf_token": csrf_token(client), "body": "二つ目"},
                             follow_redirects=False)
        assert posted.status_code == 303 and posted.headers["location"].startswith("/notes/1#comment-")
        closed = client.post("/notes/2/comments", data={"_csrf_token": csrf_token(client), "body": "三つ目"},
                             follow_redirects=False)
        assert closed.status_code == 400 and "This note is closed." in closed.text
    assert sorted(session.exec(select(Comment.body)).all()) == ["一つ目", "二つ目"]
