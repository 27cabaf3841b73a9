"""E-mail delivery per user and kind: notify records each reader's choice (immediate, daily digest, none) and
e-mails only those who chose "immediate", with the unsubscribe link and headers; the settings page lists every
registered kind by its translated name and saves the choices."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, col, select

from cocreate import mail
from cocreate.accounts.models import User
from cocreate.i18n import lazy_gettext
from cocreate.mail import OutboundEmail
from cocreate.notifications import kinds, preferences, services
from cocreate.notifications.models import Delivery, Notification, NotificationPreference
from cocreate.settings import Settings
from cocreate.tasks.queue import pending
from tests.factories import create_user, sign_in
from tests.helpers import count_queries, csrf_token

pytestmark = pytest.mark.databases("sqlite", why="preference rules are Python")

PARAMS = {"challenge_id": 7, "challenge_title": "清掃工場の余熱を活かしたい", "question_id": 3,
          "question_excerpt": "余熱の温度は？"}
KIND = "question.answered"


@pytest.fixture
def people(session: Session, app: Litestar) -> dict[str, User]:
    return {
        "hanako": create_user(session, "hanako@example.jp", display_name="はなこ"),
        "alice": create_user(session, "alice@example.jp", display_name="Alice", locale="en"),
        "quiet": create_user(session, "quiet@example.jp", display_name="静か"),
    }


def notify(session: Session, settings: Settings, user_ids: list[int], event_key: str = "question.answered:3") -> list[int]:
    return services.notify(session, user_ids=user_ids, kind=KIND, target_type="question", target_id=3,
                           params=PARAMS, url="/challenges/7/questions/3", event_key=event_key, settings=settings)


@contextmanager
def browser(app: Litestar, user: User | None = None) -> Iterator[TestClient[Litestar]]:
    with TestClient(app, base_url="http://testserver.local") as client:
        if user is not None:
            sign_in(client, user)
        yield client


def choice(session: Session, user: User, kind: str = KIND) -> str | None:
    return session.exec(select(NotificationPreference.delivery).where(
        NotificationPreference.user_id == user.id, NotificationPreference.kind == kind)).first()


# --- notify follows the choice -------------------------------------------------------------------


def test_notify_records_each_choice_and_mails_only_immediate_readers(
    txn_session: Session, people: dict[str, User], settings: Settings
) -> None:
    session = txn_session
    hanako, alice, quiet = people["hanako"], people["alice"], people["quiet"]
    preferences.set_delivery(session, alice.id, KIND, Delivery.DIGEST)  # type: ignore[arg-type]
    preferences.set_delivery(session, quiet.id, KIND, Delivery.NONE)  # type: ignore[arg-type]
    session.commit()
    assert notify(session, settings, [hanako.id, alice.id, quiet.id]) == sorted(  # type: ignore[list-item]
        [hanako.id, alice.id, quiet.id])  # type: ignore[type-var]
    tasks = pending(session)
    session.commit()
    rows = {n.user_id: n.delivery for n in session.exec(select(Notification)).all()}
    assert rows == {hanako.id: "immediate", alice.id: "digest", quiet.id: "none"}
    emails = session.exec(select(OutboundEmail)).all()
    assert [e.to_address for e in emails] == ["hanako@example.jp"]
    assert len(tasks) == 1 and tasks[0][1][1] == [emails[0].id]

    # The e-mail carries the one-click unsubscribe link in its headers and above its signature.
    headers = json.loads(emails[0].headers_json)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<(.+)>", headers["List-Unsubscribe"]).group(1)  # type: ignore[union-attr]
    assert link.startswith(f"{settings.base_url}/unsubscribe/")
    body = emails[0].body_text
    assert link in body and f"{settings.base_url}/account/notifications" in body
    assert body.index(link) < body.index("\n-- \n")
    # Sent as one line, not folded into encoded words a mail client could not read as a URL.
    assert f"List-Unsubscribe: <{link}>".encode() in mail.build_message(settings, emails[0]).as_bytes()

    # Nobody has chosen yet for another kind: the default (immediate) applies to all three.
    assert preferences.deliveries(session, [hanako.id, alice.id, quiet.id], "booking.status") == {  # type: ignore[list-item]
        hanako.id: Delivery.IMMEDIATE, alice.id: Delivery.IMMEDIATE, quiet.id: Delivery.IMMEDIATE}


def test_all_kinds_choice_applies_unless_a_kind_has_its_own(
    session: Session, people: dict[str, User], settings: Settings
) -> None:
    hanako = people["hanako"]
    preferences.set_delivery(session, hanako.id, "booking.status", Delivery.DIGEST)  # type: ignore[arg-type]
    preferences.set_delivery(session, hanako.id, preferences.ALL_KINDS, Delivery.NONE)  # type: ignore[arg-type]
    session.commit()
    # Everything off replaces the choices per kind.
    assert preferences.deliveries(session, [hanako.id], "booking.status") == {hanako.id: Delivery.NONE}  # type: ignore[list-item]
    preferences.set_delivery(session, hanako.id, KIND, Delivery.IMMEDIATE)  # type: ignore[arg-type]
    session.commit()
    assert preferences.deliveries(session, [hanako.id], KIND) == {hanako.id: Delivery.IMMEDIATE}  # type: ignore[list-item]
    assert preferences.deliveries(session, [hanako.id], "booking.notice") == {hanako.id: Delivery.NONE}  # type: ignore[list-item]
    assert preferences.deliveries(session, [], KIND) == {}


def test_kinds_keep_registering_positionally_and_may_carry_a_label_and_a_default(people: dict[str, User]) -> None:
    def message(params: dict[str, object]) -> str:
        return "m"

    name = "test.labelled"
    try:
        services.register_kind(name, services.Kind(message, message, "mail/question_answered.txt",
                                                   label=lazy_gettext("Test label"), default=Delivery.DIGEST))
        assert services.kind_label(name) == "Test label"
        assert preferences.default_delivery(name) is Delivery.DIGEST
        # Existing callers pass three values: they still work, and known kinds have a name.
        services.register_kind("test.plain", services.Kind(message, message, "mail/question_answered.txt"))
        assert services.kind_label("test.plain") == "test.plain"
        assert services.kind_label(KIND) != KIND
        assert preferences.default_delivery("test.plain") is Delivery.IMMEDIATE
    finally:
        kinds.all_kinds().pop(name, None)
        kinds.all_kinds().pop("test.plain", None)


# --- the settings page ---------------------------------------------------------------------------


def test_the_settings_page_lists_every_kind_and_saves_choices(
    session: Session, people: dict[str, User], app: Litestar
) -> None:
    hanako, alice = people["hanako"], people["alice"]
    with browser(app) as anonymous:
        response = anonymous.get("/account/notifications", follow_redirects=False)
        assert response.status_code == 303 and "/account/sign-in" in response.headers["location"]
        response = anonymous.post("/account/notifications", data={"_csrf_token": csrf_token(anonymous)},
                                  follow_redirects=False)
        assert response.status_code == 303 and "/account/sign-in" in response.headers["location"]
    with browser(app, hanako) as client:
        page = client.get("/account/notifications?lang=en").text
        for kind in kinds.all_kinds():
            assert f'name="{preferences.field_name(kind)}"' in page
            assert services.kind_label(kind) != kind, f"{kind} has no name"
        assert "Answers to questions on challenges" in page
        assert page.count('value="immediate" selected') == len(kinds.all_kinds())
        japanese = client.get("/account/notifications?lang=ja").text
        assert "Answers to questions on challenges" not in japanese

        form = {preferences.field_name(kind): "immediate" for kind in kinds.all_kinds()}
        form[preferences.field_name(KIND)] = "digest"
        form[preferences.field_name("booking.status")] = "none"
        response = client.post("/account/notifications", data=form | {"_csrf_token": csrf_token(client)},
                               follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/account/notifications"
        assert choice(session, hanako) == "digest" and choice(session, hanako, "booking.status") == "none"
        with count_queries(app.state.database.engine) as log:
            page = client.get("/account/notifications").text
        assert re.search(r'name="delivery-question\.answered".*?value="digest" selected', page, re.S)
        # The choices in one query, not one per kind.
        assert sum("notification_preference" in q for q in log.statements) == 1, str(log)
    assert choice(session, alice) is None  # only the signed-in user's own choices


def test_a_bad_choice_is_refused_and_nothing_changes(
    session: Session, people: dict[str, User], app: Litestar, xss_payloads: list[str]
) -> None:
    hanako = people["hanako"]
    form = {preferences.field_name(kind): "none" for kind in kinds.all_kinds()}
    with browser(app, hanako) as client:
        for bad in ["sometimes", "", "IMMEDIATE", "x" * 5000, *xss_payloads[:5]]:
            form[preferences.field_name(KIND)] = bad  # type: ignore[assignment]
            response = client.post("/account/notifications?lang=en",
                                   data=form | {"_csrf_token": csrf_token(client)})
            assert response.status_code == 400, bad
            assert "Choose how you want to hear about “Answers to questions on challenges”." in response.text
            assert 'href="#field-delivery-question.answered"' in response.text
            assert "<script>alert(1)</script>" not in response.text
            assert response.text.count('aria-invalid="true"') == 1
        # A missing field is refused the same way.
        del form[preferences.field_name(KIND)]
        response = client.post("/account/notifications", data=form | {"_csrf_token": csrf_token(client)})
        assert response.status_code == 400
    assert session.exec(select(NotificationPreference).where(col(NotificationPreference.user_id) == hanako.id)).all() == []
