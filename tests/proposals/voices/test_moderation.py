"""Voices in the core's moderation, follows and comments: residents report a voice (not their own), three
reports hide it pending review and a moderator hides or restores it, after which it is gone from the list,
its page, the API and search, or back; people follow a voice and hear of its comments."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, select

from cocreate.accounts.models import Role, User
from cocreate.accounts.permissions import Principal
from cocreate.comments import events as comment_events
from cocreate.comments import services as comments
from cocreate.db import Database
from cocreate.errors import Forbidden
from cocreate.moderation import services as moderation
from cocreate.moderation.models import Report
from cocreate.notifications.models import Notification
from cocreate.search import indexer, query
from cocreate.settings import Settings
from proposals.models import Category, Voice
from tests.factories import create_user, sign_in
from tests.helpers import csrf_token, notified, tasks_announced

pytestmark = pytest.mark.databases("sqlite", why="moderation and follows of voices are Python")


def make_voice(session: Session, author: User, title: str = "ごみ集積所のカラス対策") -> Voice:
    voice = Voice(title=title, body="朝、ごみが散らかっています。", category=Category.ENVIRONMENT_ENERGY, author_id=author.id)
    session.add(voice)
    session.commit()
    session.refresh(voice)
    return voice


def report(session: Session, user: User, voice: Voice) -> bool:
    form = moderation.ReportForm.parse({"target_type": "voice", "target_id": str(voice.id), "reason": "spam"})
    return moderation.report(session, Principal.load(session, user), form)[1]


def test_reports_hide_a_voice_and_a_moderator_restores_it(
        session: Session, client: TestClient[Litestar], database: Database, settings: Settings) -> None:
    author = create_user(session, "author@example.jp")
    voice = make_voice(session, author)
    moderator = create_user(session, "moderator@example.jp", roles=[Role.MODERATOR])
    with pytest.raises(Forbidden):
        report(session, author, voice)  # nobody reports their own voice
    reporters = [create_user(session, f"r{i}@example.jp") for i in range(3)]
    assert [report(session, user, voice) for user in reporters] == [True, True, True]
    assert len(session.exec(select(Report).where(Report.target_type == "voice")).all()) == 3
    session.expire_all()
    assert session.get(Voice, voice.id).hidden_at is not None  # type: ignore[union-attr]
    indexer.process_pending(database, settings)

    def shown() -> tuple[bool, bool, bool, bool]:
        indexer.process_pending(database, settings)
        return (voice.title in client.get("/voices").text, client.get(f"/voices/{voice.id}").status_code == 200,
                client.get(f"/api/v1/voices/{voice.id}").status_code == 200,
                f"voice:{voice.id}" in {hit.key for hit in query.search(settings, "カラス", per_page=50).hits})

    assert shown() == (False, False, False, False)
    moderation.restore(session, Principal.load(session, moderator), "voice", voice.id)  # type: ignore[arg-type]
    assert shown() == (True, True, True, True)
    moderation.hide(session, Principal.load(session, moderator), "voice", voice.id,  # type: ignore[arg-type]
                    moderation.HideForm.parse({"reason": "個人情報が含まれています"}))
    assert shown() == (False, False, False, False)
    sign_in(client, moderator)
    item = client.get(f"/moderation/voice/{voice.id}")
    assert item.status_code == 200 and voice.title in item.text


def test_the_report_page_of_a_voice(session: Session, client: TestClient[Litestar]) -> None:
    author = create_user(session, "author@example.jp")
    voice = make_voice(session, author)
    sign_in(client, create_user(session, "neighbour@example.jp"))
    page = client.get(f"/reports/voice/{voice.id}")
    assert page.status_code == 200 and voice.title in page.text
    sent = client.post("/reports", data={"_csrf_token": csrf_token(client), "target_type": "voice",
                                         "target_id": str(voice.id), "reason": "off_topic"}, follow_redirects=False)
    assert sent.status_code == 303
    assert session.exec(select(Report.target_id).where(Report.target_type == "voice")).all() == [voice.id]


def test_followers_and_the_author_hear_of_comments(session: Session, client: TestClient[Litestar],
                                                   settings: Settings) -> None:
    author = create_user(session, "author@example.jp")
    follower = create_user(session, "follower@example.jp")
    commenter = create_user(session, "commenter@example.jp")
    voice = make_voice(session, author)
    hidden = make_voice(session, author, "隠された声")
    sign_in(client, follower)
    followed = client.post(f"/follows/voice/{voice.id}", data={"_csrf_token": csrf_token(client)},
                           follow_redirects=False)
    assert followed.status_code == 303
    assert voice.title in client.get("/account/following").text
    moderator = create_user(session, "moderator@example.jp", roles=[Role.MODERATOR])
    moderation.hide(session, Principal.load(session, moderator), "voice", hidden.id,  # type: ignore[arg-type]
                    moderation.HideForm.parse({"reason": "重複"}))
    assert client.post(f"/follows/voice/{hidden.id}", data={"_csrf_token": csrf_token(client)},
                       follow_redirects=False).status_code == 404
    with tasks_announced(session, comment_events.TASK) as announced:
        comment = comments.post(session, Principal.load(session, commenter), "voice", voice.id,  # type: ignore[arg-type]
                                comments.CommentForm(body="同感です"))
    session.expire_all()
    assert session.get(Voice, voice.id).comment_count == 1  # type: ignore[union-attr]
    comment_events.run(session, settings, *announced[0][1])
    assert notified(session, comment_events.COMMENT_POSTED) == sorted([author.id, follower.id])
    row = session.exec(select(Notification).where(Notification.user_id == author.id)).one()
    assert row.url == f"/voices/{voice.id}#comment-{comment.id}"
