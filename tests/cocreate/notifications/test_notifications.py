"""Follows and notifications: idempotent follows and notifications, one outbox e-mail per user and event in
the reader's language, and the notification pages (list, mark read, unread-count badge)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, func, select

from cocreate.accounts.models import User
from cocreate.db import Database
from cocreate.mail import OutboundEmail
from cocreate.notifications import services
from cocreate.notifications.models import Follow, Notification
from cocreate.settings import Settings
from cocreate.tasks.queue import pending
from tests.factories import create_user, sign_in
from tests.helpers import count_queries, csrf_token

pytestmark = pytest.mark.databases("sqlite", why="notification rules are Python; ON CONFLICT inserts run on both")

PARAMS = {"challenge_id": 7, "challenge_title": "清掃工場の余熱を活かしたい", "question_id": 3,
          "question_excerpt": "余熱の温度は？"}


@pytest.fixture
def people(session: Session, app: Litestar) -> dict[str, User]:
    # ``app`` configures Celery with the test settings, so enqueued tasks go to the test broker.
    return {
        "hanako": create_user(session, "hanako@example.jp", display_name="はなこ"),
        "alice": create_user(session, "alice@example.jp", display_name="Alice", locale="en"),
        "new": create_user(session, "new@example.jp", confirmed=False),
    }


def notify(session: Session, settings: Settings, user_ids: list[int], event_key: str = "question.answered:3",
           **params: object) -> list[int]:
    return services.notify(session, user_ids=user_ids, kind="question.answered", target_type="question",
                           target_id=3, params=PARAMS | params, url="/challenges/7/questions/3",
                           event_key=event_key, settings=settings)


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


@contextmanager
def browser(app: Litestar, user: User | None = None) -> Iterator[TestClient[Litestar]]:
    with TestClient(app, base_url="http://testserver.local") as client:
        if user is not None:
            sign_in(client, user)
        yield client


# --- follows -------------------------------------------------------------------------------------


@pytest.mark.databases("sqlite", "postgresql", why="ON CONFLICT inserts differ per database")
def test_follows_are_idempotent(session: Session, people: dict[str, User]) -> None:
    hanako, alice = people["hanako"].id, people["alice"].id
    assert services.follow(session, hanako, "challenge", 1)  # type: ignore[arg-type]
    assert not services.follow(session, hanako, "challenge", 1)  # type: ignore[arg-type]
    assert services.follow(session, alice, "challenge", 1)  # type: ignore[arg-type]
    assert services.follow(session, alice, "proposal", 1)  # type: ignore[arg-type]
    session.commit()
    assert services.followers(session, "challenge", 1) == sorted([hanako, alice])  # type: ignore[type-var]
    assert services.follower_count(session, "challenge", 1) == 2
    assert services.is_following(session, hanako, "challenge", 1)
    assert not services.is_following(session, hanako, "proposal", 1)
    assert not services.is_following(session, None, "challenge", 1)
    assert services.unfollow(session, hanako, "challenge", 1)  # type: ignore[arg-type]
    assert not services.unfollow(session, hanako, "challenge", 1)  # type: ignore[arg-type]
    session.commit()
    assert services.followers(session, "challenge", 1) == [alice]
    assert count(session, Follow) == 2


# --- notify --------------------------------------------------------------------------------------


@pytest.mark.databases("sqlite", "postgresql", why="ON CONFLICT inserts differ per database")
def test_notify_once_per_user_and_event_with_one_task(
    txn_session: Session, people: dict[str, User], settings: Settings
) -> None:
    session = txn_session
    ids = [people["hanako"].id, people["alice"].id, people["new"].id]
    notified = notify(session, settings, [*ids, ids[0], 999_999])  # a duplicate and an unknown user
    assert notified == sorted(ids)  # type: ignore[type-var]
    # One delivery task for the whole event, carrying the outbox e-mails (the unconfirmed address gets none).
    tasks = pending(session)
    assert [(name, args[0]) for name, args, _kwargs, _queue in tasks] == [
        (services.SEND_TASK, "question.answered:3")]
    email_ids = tasks[0][1][1]
    session.commit()
    assert len(email_ids) == 2 and count(session, OutboundEmail) == 2

    # The same event again (a retry): nothing new, no task.
    assert notify(session, settings, ids) == []
    assert pending(session) == []
    session.commit()
    assert count(session, Notification) == 3 and count(session, OutboundEmail) == 2
    # Another event notifies again.
    assert notify(session, settings, [people["hanako"].id], event_key="question.answered:4") == [people["hanako"].id]
    session.commit()
    assert count(session, Notification) == 4
    assert services.mark_all_read(session, people["hanako"].id) == 2  # type: ignore[arg-type]
    assert services.mark_all_read(session, people["hanako"].id) == 0  # type: ignore[arg-type]
    assert services.unread_count(session, people["alice"].id) == 1  # type: ignore[arg-type]


def test_each_reader_gets_the_e_mail_in_their_language(
    txn_session: Session, people: dict[str, User], settings: Settings
) -> None:
    notify(txn_session, settings, [people["hanako"].id, people["alice"].id], yours=True)
    txn_session.commit()
    emails = {e.to_address: e for e in txn_session.exec(select(OutboundEmail)).all()}
    english = emails["alice@example.jp"]
    assert english.subject == "Your question has been answered: 清掃工場の余熱を活かしたい"
    assert "Hello Alice," in english.body_text
    assert f"{settings.base_url}/challenges/7/questions/3" in english.body_text
    japanese = emails["hanako@example.jp"]
    assert japanese.subject != english.subject and "清掃工場の余熱を活かしたい" in japanese.subject
    assert "はなこ" in japanese.body_text and "Hello" not in japanese.body_text


def test_notify_refuses_unknown_kinds_and_foreign_urls(session: Session, people: dict[str, User],
                                                       settings: Settings) -> None:
    with pytest.raises(ValueError):
        services.notify(session, user_ids=[people["hanako"].id], kind="nope", target_type="x", target_id=1,  # type: ignore[list-item]
                        params={}, url="/", event_key="k", settings=settings)
    for url in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            services.notify(session, user_ids=[people["hanako"].id], kind="question.answered",  # type: ignore[list-item]
                            target_type="x", target_id=1, params={}, url=url, event_key="k", settings=settings)
    assert notify(session, settings, []) == []
    assert count(session, Notification) == 0


@pytest.mark.databases("sqlite", "postgresql", why="ON CONFLICT inserts differ per database")
def test_the_e_mail_task_sends_each_e_mail_once_however_often_it_runs(
    txn_session: Session, people: dict[str, User], settings: Settings, database: Database
) -> None:
    notify(txn_session, settings, [people["hanako"].id, people["alice"].id])
    email_ids = pending(txn_session)[0][1][1]
    txn_session.commit()
    assert services.send_emails(database, settings, email_ids) == 2
    assert services.send_emails(database, settings, email_ids) == 0  # a retry, or a duplicated task
    outbox = Path(settings.mail_url.removeprefix("file://"))
    assert len(list(outbox.glob("*.eml"))) == 2
    txn_session.expire_all()
    assert all(e.sent_at is not None for e in txn_session.exec(select(OutboundEmail)).all())


# --- pages ---------------------------------------------------------------------------------------


def test_the_notification_list_and_marking_read(
    session: Session, people: dict[str, User], settings: Settings, app: Litestar, xss_payloads: list[str]
) -> None:
    hanako, alice = people["hanako"], people["alice"]
    for n in range(25):
        notify(session, settings, [hanako.id], event_key=f"question.answered:{n}",  # type: ignore[list-item]
               challenge_title=f"課題{n} {xss_payloads[n % len(xss_payloads)]}")
    notify(session, settings, [alice.id], event_key="question.answered:alice")  # type: ignore[list-item]
    session.commit()
    ids = session.exec(select(Notification.id).where(Notification.user_id == hanako.id)
                       .order_by(Notification.id.desc())).all()  # type: ignore[union-attr]
    alice_id = session.exec(select(Notification.id).where(Notification.user_id == alice.id)).one()

    with browser(app) as anonymous:
        response = anonymous.get("/notifications", follow_redirects=False)
        assert response.status_code == 303 and "/account/sign-in" in response.headers["location"]
        response = anonymous.get("/notifications/unread-count")
        assert response.status_code == 286 and response.text == ""
    with browser(app, hanako) as client:
        page = client.get("/notifications").text
        assert page.count('<li class="card notification notification-unread"') == 20
        assert page.index(f'id="notification-{ids[0]}"') < page.index(f'id="notification-{ids[1]}"')  # newest first
        assert "<script>alert" not in page and "課題24" in page
        assert 'href="/challenges/7/questions/3"' in page
        assert 'href="/notifications?page=2"' in page
        assert client.get("/notifications?page=2").text.count('<li class="card notification') == 5
        badge = client.get("/notifications/unread-count")
        assert badge.status_code == 200 and 'id="notifications-unread-count">25' in badge.text

        response = client.post(f"/notifications/{ids[0]}/read", data={"_csrf_token": csrf_token(client)},
                               follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/notifications"
        page = client.get("/notifications").text
        assert f'id="notification-{ids[0]}-unread"' not in page and f'id="notification-{ids[1]}-unread"' in page
        assert services.unread_count(session, hanako.id) == 24  # type: ignore[arg-type]
        # Someone else's notification, or none: not found, and nothing changes.
        for other in (alice_id, 999_999):
            response = client.post(f"/notifications/{other}/read", data={"_csrf_token": csrf_token(client)},
                                   follow_redirects=False)
            assert response.status_code == 404
        assert services.unread_count(session, alice.id) == 1  # type: ignore[arg-type]
        assert client.post("/notifications/abc/read", data={"_csrf_token": csrf_token(client)}).status_code in (
            400, 404, 405)

        response = client.post("/notifications/read-all", data={"_csrf_token": csrf_token(client)},
                               headers={"HX-Request": "true"})
        assert response.status_code == 200 and response.text.lstrip().startswith('<div id="notifications">')
        assert "notification-unread" not in response.text and "cocreate:flash" in response.headers["hx-trigger"]
        assert services.unread_count(session, hanako.id) == 0  # type: ignore[arg-type]
        badge = client.get("/notifications/unread-count")
        assert "notifications-unread-count" not in badge.text and 'href="/notifications"' in badge.text
    assert services.unread_count(session, alice.id) == 1  # type: ignore[arg-type]


def test_the_list_reads_in_a_constant_number_of_queries(
    session: Session, people: dict[str, User], settings: Settings, app: Litestar
) -> None:
    hanako = people["hanako"]
    counts = []
    with browser(app, hanako) as client:
        for total in (3, 30):
            for n in range(total - services.unread_count(session, hanako.id)):  # type: ignore[arg-type]
                notify(session, settings, [hanako.id], event_key=f"question.answered:{total}-{n}")  # type: ignore[list-item]
            session.commit()
            client.get("/notifications")
            with count_queries(app.state.database.engine) as log:
                assert client.get("/notifications").status_code == 200
            counts.append(log.count)
    assert counts[0] == counts[1], counts
