"""The core's part of assisted comments (代理入力): ``post_assisted`` and the rules ``desk.enter``,
``desk.read_note`` and ``comment.assist``, per role, through the services; the comment view's public name."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from cocreate import permissions
from cocreate.accounts.models import Role
from cocreate.comments import services as comments
from cocreate.comments.models import Channel, Comment
from cocreate.db.base import utcnow
from cocreate.errors import Forbidden, Invalid, NotFound, SignInRequired
from proposals.models import Phase
from tests.cocreate.desk.conftest import World
from tests.factories import actor, create_challenge, create_user

pytestmark = pytest.mark.databases("sqlite", why="the rules are Python; the writes are plain inserts")

ENTRY = comments.AssistedComment("紙の意見です。", Channel.PAPER, "用紙 No. 5")


def test_the_rules_per_role(session: Session, world: World) -> None:
    moderator = create_user(session, "mod@example.jp", roles=[Role.MODERATOR])
    expected = {"desk": (True, True), "admin": (True, True), "staff": (False, True), "resident": (False, False)}
    for persona, (enter, read_note) in expected.items():
        principal = actor(session, world[persona])
        assert bool(permissions.can(principal, "desk.enter")) is enter, persona
        assert bool(permissions.can(principal, "desk.read_note")) is read_note, persona
    assert not permissions.can(actor(session, moderator), "desk.enter")
    assert not permissions.can(actor(session, moderator), "desk.read_note")
    anonymous = permissions.can(actor(session, None), "desk.enter")
    assert not anonymous and anonymous.sign_in
    assert not permissions.can(actor(session, None), "desk.read_note")


@pytest.mark.parametrize(("persona", "error"), [(None, SignInRequired), ("resident", Forbidden), ("staff", Forbidden)])
def test_only_the_desk_records_comments_for_residents(session: Session, world: World, persona: str | None,
                                                      error: type[Exception]) -> None:
    principal = actor(session, world[persona] if persona else None)
    with pytest.raises(error):
        comments.post_assisted(session, principal, "challenge", world["challenge"].id, [ENTRY], consent_at=utcnow())
    assert session.exec(select(func.count()).select_from(Comment)).one() == 0


def test_an_assisted_comment_has_no_author_and_shows_its_channel(session: Session, world: World) -> None:
    desk = actor(session, world["desk"])
    at = utcnow()
    [comment] = comments.post_assisted(session, desk, "challenge", world["challenge"].id, [ENTRY], consent_at=at)
    assert comment.author_id is None and comment.entered_by_id == world["desk"].id
    assert comment.channel == "paper" and comment.consent_at == at and comment.desk_note == "用紙 No. 5"
    assert comment.official == "" and comment.is_assisted
    target = comments.load_target(session, actor(session, None), "challenge", world["challenge"].id)
    [view] = comments.section(session, actor(session, None), target).page.items
    assert view.author_name == str(Channel.PAPER.label) and view.author_name != "Deleted user"
    assert not view.is_mine
    # Nobody edits or deletes it as its author (it has none), not even the desk member who typed it.
    assert not permissions.can(desk, "comment.delete", comments.OnComment.of(target, comment, desk))


def test_all_or_none_and_only_where_comments_are_taken(session: Session, world: World) -> None:
    desk = actor(session, world["desk"])
    closed = create_challenge(session, world["department"], phase="published", title="締切")
    closed.phase = Phase.DRAFT
    session.add(closed)
    session.commit()
    with pytest.raises(NotFound):
        comments.post_assisted(session, desk, "challenge", closed.id, [ENTRY], consent_at=utcnow())
    with pytest.raises(Invalid) as refused:
        comments.post_assisted(session, desk, "challenge", world["challenge"].id,
                               [ENTRY, comments.AssistedComment("オンライン", Channel.ONLINE)], consent_at=utcnow())
    assert "channel" in refused.value.errors
    assert session.exec(select(func.count()).select_from(Comment)).one() == 0
