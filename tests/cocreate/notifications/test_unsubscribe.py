"""One-click unsubscribe: the signed link of a notification e-mail works without signing in; opening it changes
nothing, its one button (or a mail client's RFC 8058 POST, without a CSRF token) stops that kind's e-mails, and a
forged, damaged or foreign link does nothing."""

from __future__ import annotations

import json
import re

import pytest
from itsdangerous import URLSafeSerializer
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, select

from cocreate.accounts.models import User
from cocreate.db.base import utcnow
from cocreate.mail import OutboundEmail
from cocreate.notifications import kinds, preferences, services, unsubscribe
from cocreate.notifications.models import Delivery, Notification, NotificationPreference
from cocreate.settings import Settings
from tests.factories import create_user

pytestmark = pytest.mark.databases("sqlite", why="signed unsubscribe links are Python")

KIND = "question.answered"
PARAMS = {"challenge_id": 7, "challenge_title": "清掃工場の余熱", "question_id": 3, "question_excerpt": "温度は？"}


@pytest.fixture
def hanako(session: Session, app: Litestar) -> User:
    return create_user(session, "hanako@example.jp", display_name="はなこ")


def notify(session: Session, settings: Settings, user: User, event_key: str) -> None:
    services.notify(session, user_ids=[user.id], kind=KIND, target_type="question", target_id=3,  # type: ignore[list-item]
                    params=PARAMS, url="/challenges/7/questions/3", event_key=event_key, settings=settings)
    session.commit()


def emails_to(session: Session, address: str) -> list[OutboundEmail]:
    return list(session.exec(select(OutboundEmail).where(OutboundEmail.to_address == address)
                             .order_by(OutboundEmail.id)).all())  # type: ignore[arg-type]


def choices(session: Session, user: User) -> dict[str, str]:
    return dict(session.exec(select(NotificationPreference.kind, NotificationPreference.delivery)
                             .where(NotificationPreference.user_id == user.id)).all())


def link_path(settings: Settings, email: OutboundEmail) -> str:
    header = json.loads(email.headers_json)["List-Unsubscribe"]
    url = re.fullmatch(r"<(.+)>", header).group(1)  # type: ignore[union-attr]
    assert url in email.body_text
    return url.removeprefix(settings.base_url)


def test_the_link_in_the_e_mail_unsubscribes_that_kind_without_signing_in(
    session: Session, hanako: User, settings: Settings, app: Litestar
) -> None:
    notify(session, settings, hanako, "question.answered:1")
    path = link_path(settings, emails_to(session, "hanako@example.jp")[0])
    with TestClient(app, base_url="http://testserver.local") as browser:  # nobody signed in, no CSRF cookie
        page = browser.get(f"{path}?lang=en")
        assert page.status_code == 200 and 'id="unsubscribe-button"' in page.text
        assert "Answers to questions on challenges" in page.text
        assert page.headers["cache-control"] == "no-store"
        assert choices(session, hanako) == {}  # opening the link (a mail scanner, say) changes nothing
        done = browser.post(f"{path}?lang=en")
        assert done.status_code == 200 and 'id="unsubscribe-done"' in done.text
        assert choices(session, hanako) == {KIND: "none"}
        assert browser.post(path).status_code == 200  # again: still fine, nothing more
    assert choices(session, hanako) == {KIND: "none"}

    # The next event of that kind is listed in the site but e-mailed no more.
    notify(session, settings, hanako, "question.answered:2")
    assert len(emails_to(session, "hanako@example.jp")) == 1
    latest = session.exec(select(Notification).where(Notification.event_key == "question.answered:2")).one()
    assert latest.delivery == "none"
    # Other kinds are untouched.
    assert preferences.deliveries(session, [hanako.id], "booking.status") == {hanako.id: Delivery.IMMEDIATE}  # type: ignore[list-item]


def test_a_mail_client_one_click_post_unsubscribes(session: Session, hanako: User, settings: Settings,
                                                    app: Litestar) -> None:
    notify(session, settings, hanako, "question.answered:1")
    path = link_path(settings, emails_to(session, "hanako@example.jp")[0])
    with TestClient(app, base_url="http://testserver.local") as mail_client:
        response = mail_client.post(path, content=b"List-Unsubscribe=One-Click",
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 200
    assert choices(session, hanako) == {KIND: "none"}


def test_the_all_kinds_link_stops_every_kind(session: Session, hanako: User, settings: Settings,
                                             app: Litestar) -> None:
    preferences.set_delivery(session, hanako.id, "booking.status", Delivery.IMMEDIATE)  # type: ignore[arg-type]
    session.commit()
    path = unsubscribe.link(settings, hanako.id, preferences.ALL_KINDS).removeprefix(settings.base_url)  # type: ignore[arg-type]
    with TestClient(app, base_url="http://testserver.local") as browser:
        assert "including the daily summary" in browser.get(f"{path}?lang=en").text
        assert "any more" in browser.post(f"{path}?lang=en").text
    assert choices(session, hanako) == {preferences.ALL_KINDS: "none"}
    for kind in kinds.all_kinds():
        assert preferences.deliveries(session, [hanako.id], kind) == {hanako.id: Delivery.NONE}  # type: ignore[list-item]


def test_forged_damaged_and_foreign_links_do_nothing(session: Session, hanako: User, settings: Settings,
                                                     app: Litestar, xss_payloads: list[str]) -> None:
    good = unsubscribe.token(settings, hanako.id, KIND)  # type: ignore[arg-type]
    gone = create_user(session, "gone@example.jp")
    gone_token = unsubscribe.token(settings, gone.id, KIND)  # type: ignore[arg-type]
    gone.deleted_at = utcnow()
    session.add(gone)
    session.commit()
    bad_tokens = [
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),  # a damaged signature
        URLSafeSerializer("another-key", salt=unsubscribe.SALT).dumps({"u": hanako.id, "k": KIND}),  # forged
        URLSafeSerializer(settings.signing_key(), salt="other").dumps({"u": hanako.id, "k": KIND}),  # other use
        URLSafeSerializer(settings.signing_key(), salt=unsubscribe.SALT).dumps({"u": "1", "k": KIND}),  # wrong type
        URLSafeSerializer(settings.signing_key(), salt=unsubscribe.SALT).dumps([hanako.id, KIND]),
        gone_token,  # a deleted account
        "x" * 3000,
        "abc",
    ]
    with TestClient(app, base_url="http://testserver.local") as browser:
        for token in bad_tokens:
            page = browser.get(f"/unsubscribe/{token}?lang=en")
            assert page.status_code == 404 and 'id="unsubscribe-invalid"' in page.text, token
            assert browser.post(f"/unsubscribe/{token}").status_code == 404, token
        for payload in xss_payloads[:10]:
            response = browser.get("/unsubscribe/" + payload.replace("/", "%2F").replace("?", "%3F").replace("#", "%23"))
            assert response.status_code == 404 and "<script>alert" not in response.text
    assert session.exec(select(NotificationPreference)).all() == []
