"""Links of the comments and moderation pages are built from route names (``url_for`` in templates,
``route_reverse`` in routes; code without a request takes the core's paths from ``cocreate.paths`` and a
target's from its declaration in the manifest): the declared paths are their routes' paths, and every
same-site link of the pages answers for the person the page is for."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.comments import services as comments
from cocreate.comments import targets
from cocreate.moderation import services as moderation
from cocreate.moderation import targets as reportables
from tests.cocreate.web.test_links import assert_links_answer
from tests.factories import actor, create_user, create_ward, sign_in

pytestmark = pytest.mark.databases("sqlite", why="links come from the app's routes")

PAGES = {"challenge": "challenge-detail", "proposal": "proposal-detail", "voice": "voice-detail"}
"""The route of each declared target's own page."""


def test_the_declared_targets_paths_are_their_routes_paths(app: Litestar) -> None:
    assert sorted(kind.name for kind in targets.all_targets()) == sorted(PAGES)
    for kind in targets.all_targets():
        parameters = {kind.param: 7}
        assert kind.url(7) == app.route_reverse(PAGES[kind.name], **parameters)
        assert kind.comments_url(7) == app.route_reverse(kind.list_route, **parameters)
        assert kind.comments_url(7) == app.route_reverse(kind.post_route, **parameters)
    assert reportables.reportable("proposal").url(SimpleNamespace(id=7)) == app.route_reverse("proposal-detail",
                                                                                              proposal_id=7)


@pytest.mark.parametrize(("person", "pages"), [
    (None, ("/proposals/{proposal}/comments", "/challenges/{challenge}/comments", "/comments/{thread}/replies")),
    ("author", ("/proposals/{proposal}/comments", "/comments/{thread}/replies")),
    ("reader", ("/proposals/{proposal}/comments", "/comments/{thread}/replies", "/reports/comment/{thread}")),
    ("moderator", ("/moderation", "/moderation/comment/{thread}", "/moderation/proposal/{proposal}")),
])
def test_every_same_site_link_of_the_comment_and_moderation_pages_answers(
        client: TestClient[Litestar], app: Litestar, session: Session, person: str | None,
        pages: tuple[str, ...]) -> None:
    ward = create_ward(session, phase="voting")
    author = ward.resident
    reader = create_user(session, "reader@example.jp", display_name="読者 三郎")
    thread = comments.post(session, actor(session, author), "proposal", ward.proposal.id,
                           comments.CommentForm(body="賛成です。"))
    comments.post(session, actor(session, reader), "proposal", ward.proposal.id,
                  comments.CommentForm(body="私もです。", parent_id=thread.id))
    comments.post(session, actor(session, reader), "challenge", ward.challenge.id,
                  comments.CommentForm(body="課題への意見"))
    for target_type, target_id in (("comment", thread.id), ("proposal", ward.proposal.id)):
        moderation.report(session, actor(session, reader),
                          moderation.ReportForm(target_type=target_type, target_id=target_id, reason="spam"))
    people = {"author": author, "reader": reader, "moderator": ward.moderator}
    if person is not None:
        sign_in(client, people[person])
    for page in pages:
        assert assert_links_answer(client, app, page.format(proposal=ward.proposal.id, challenge=ward.challenge.id,
                                                            thread=thread.id))
