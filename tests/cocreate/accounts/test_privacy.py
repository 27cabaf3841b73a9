"""Privacy: download my data, delete my account (contributions stay, shown as 退会したユーザー)."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, func, select

from cocreate import mail
from cocreate.accounts import self_service, services, throttle
from cocreate.accounts.models import (
    Consent,
    MailQuota,
    OidcIdentity,
    Organisation,
    OrganisationMember,
    ResidencyRequest,
    ResidencyStatus,
    Role,
    RoleAssignment,
    SignInThrottle,
    TokenPurpose,
    User,
    UserToken,
)
from cocreate.accounts.permissions import Principal
from cocreate.audit import AuditEntry, record
from cocreate.components import Component
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.i18n import WARD_TIMEZONE, using_locale
from cocreate.mail import OutboundEmail
from cocreate.pages.seed import FIRST_VERSION
from cocreate.settings import Settings
from tests.cocreate.accounts.self_service_helpers import is_signed_in, new_client, post, signed_in_client
from tests.factories import PASSWORD, create_department, create_organisation, create_user
from tests.helpers import csrf_token, extra_component

pytestmark = pytest.mark.databases("sqlite", why="data export and account deletion are Python over plain queries")


@pytest.fixture
def hanako(session: Session) -> User:
    user = create_user(session, "hanako@example.jp", display_name="はなこ")
    user.area = "高島平"
    session.add(user)
    session.add(OidcIdentity(user_id=user.id, provider="itabashi-id", subject="sub-hanako", email="h@id.example"))  # type: ignore[arg-type]
    session.add(ResidencyRequest(user_id=user.id, status=ResidencyStatus.REQUESTED, method="postal_code",  # type: ignore[arg-type]
                                 full_name="板橋 花子", postal_code="173-0004", address="板橋区板橋二丁目1番1号"))
    services.issue_token(session, user, TokenPurpose.CHANGE_EMAIL, timedelta(days=1), new_email="next@example.jp")
    session.commit()
    session.refresh(user)
    return user


@pytest.fixture
def hanako_client(app: Litestar, hanako: User) -> TestClient[Litestar]:
    return signed_in_client(app, hanako)


def reload(session: Session, user: User) -> User:
    session.expire_all()
    fresh = session.get(User, user.id)
    assert fresh is not None
    return fresh


def count(session: Session, model: Any, **where: Any) -> int:
    statement = select(func.count()).select_from(model)
    for name, value in where.items():
        statement = statement.where(getattr(model, name) == value)
    return session.exec(statement).one()


# --- download my data ----------------------------------------------------------------------------


def test_export_page_needs_an_account(client: TestClient[Litestar]) -> None:
    assert client.get("/account/export", follow_redirects=False).status_code == 303
    response = post(client, "/account/export")
    assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in")


def test_export_holds_my_data_and_nobody_elses(
    app: Litestar, session: Session, hanako: User, hanako_client: TestClient[Litestar]
) -> None:
    department = create_department(session)
    session.add(RoleAssignment(user_id=hanako.id, role=Role.STAFF, department_id=department.id))  # type: ignore[arg-type]
    session.commit()
    other = create_user(session, "taro@example.jp", display_name="たろう")
    session.add(OidcIdentity(user_id=other.id, provider="itabashi-id", subject="sub-taro"))  # type: ignore[arg-type]
    session.add(ResidencyRequest(user_id=other.id, status=ResidencyStatus.REQUESTED, method="postal_code",  # type: ignore[arg-type]
                                 full_name="板橋 太郎", postal_code="175-0082", address="高島平"))
    session.commit()
    create_organisation(session, "板橋モビリティ株式会社", admin=hanako, members=[other])

    assert "JSON" in hanako_client.get("/account/export").text
    response = post(hanako_client, "/account/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    today = utcnow().astimezone(WARD_TIMEZONE).date().isoformat()
    assert response.headers["content-disposition"] == f'attachment; filename="cocreate-data-{today}.json"'
    assert response.headers["cache-control"] == "no-store"
    data = response.json()

    assert data["profile"]["email"] == "hanako@example.jp" and data["profile"]["display_name"] == "はなこ"
    assert data["profile"]["area"] == "高島平"
    assert [(c["document"], c["version"]) for c in data["consents"]] == [("terms", FIRST_VERSION),
                                                                          ("privacy", FIRST_VERSION)]
    assert data["roles"][0]["role"] == "staff" and data["roles"][0]["department"] == "env-policy"
    assert data["organisations"] == [{"organisation_id": data["organisations"][0]["organisation_id"],
                                      "name": "板橋モビリティ株式会社", "kind": "company", "is_admin": True,
                                      "member_since": data["organisations"][0]["member_since"]}]
    assert [(i["provider"], i["subject"]) for i in data["oidc_identities"]] == [("itabashi-id", "sub-hanako")]
    assert data["residency_requests"][0]["address"] == "板橋区板橋二丁目1番1号"

    text = response.text
    for foreign in ("taro@example.jp", "たろう", "sub-taro", "板橋 太郎", "175-0082"):
        assert foreign not in text
    for secret in ("argon2", hanako.password_hash or "-", "token_hash", "code_hash", "session_epoch"):
        assert secret not in text
    stored = session.exec(select(UserToken.token_hash)).first()
    assert stored and stored not in text


def proposals_test_section(session: Session, user: User) -> list[dict[str, Any]]:
    return [{"title": "自動運転バス", "author": user.id}]


def test_components_add_export_sections_through_their_manifests(session: Session, hanako: User) -> None:
    test_component = Component(name="test", export_sections={
        "proposals_test": "tests.cocreate.accounts.test_privacy:proposals_test_section"})
    with extra_component(test_component):
        data = self_service.export_data(session, Principal.load(session, hanako))
    assert data["proposals_test"] == [{"title": "自動運転バス", "author": hanako.id}]
    assert json.loads(self_service.export_json(data))["proposals_test"][0]["title"] == "自動運転バス"


# --- delete my account ---------------------------------------------------------------------------


def delete(client: TestClient[Litestar], password: str = PASSWORD, confirm: str = "yes") -> Any:
    return post(client, "/account/delete", {"password": password, "confirm": confirm})


def test_deleted_account_is_wiped_but_references_still_resolve(
    app: Litestar, session: Session, hanako: User, hanako_client: TestClient[Litestar]
) -> None:
    organisation = create_organisation(session, "はなこラボ", admin=hanako)  # she is its only member
    session.add(RoleAssignment(user_id=hanako.id, role=Role.REVIEWER))  # type: ignore[arg-type]
    record(session, actor_id=hanako.id, actor_label="はなこ", action="proposal.submitted", target_type="proposal",
           target_id="1")
    session.commit()
    other_device = signed_in_client(app, hanako)
    outbox_before = count(session, OutboundEmail, to_address="hanako@example.jp")
    services.send_confirmation(session, app.state.settings, hanako)
    session.commit()
    assert count(session, OutboundEmail, to_address="hanako@example.jp") == outbox_before + 1

    response = delete(hanako_client)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "アカウントを削除しました" in hanako_client.get("/").text
    assert not is_signed_in(hanako_client) and not is_signed_in(other_device)

    user = reload(session, hanako)
    assert user.deleted_at is not None and user.email is None and user.password_hash is None
    assert (user.display_name, user.area, user.age_band, user.residency_verified_at) == ("", "", None, None)
    with using_locale("ja"):
        assert user.public_name == "退会したユーザー"
    with using_locale("en"):
        assert user.public_name == "Deleted user"
    for model in (OidcIdentity, UserToken, OrganisationMember, RoleAssignment):
        assert count(session, model, user_id=hanako.id) == 0, model
    assert count(session, OutboundEmail, to_address="hanako@example.jp") == 0
    [request] = session.exec(select(ResidencyRequest).where(ResidencyRequest.user_id == hanako.id)).all()
    assert request.status == ResidencyStatus.CANCELLED
    assert (request.full_name, request.postal_code, request.address) == ("", "", "")
    assert count(session, Consent, user_id=hanako.id) == 2  # kept on purpose: see delete_account

    # Rows pointing at her still resolve, and show her as a deleted user.
    session.expire_all()
    kept = session.get(Organisation, organisation.id)
    assert kept is not None and kept.created_by_id == hanako.id
    creator = session.get(User, kept.created_by_id)
    with using_locale("ja"):
        assert creator is not None and creator.public_name == "退会したユーザー"
    entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
    assert [e.action for e in entries] == ["proposal.submitted", "account.deleted"]
    assert entries[-1].actor_id == hanako.id and "はなこ" not in entries[-1].actor_label
    assert session.get(User, entries[0].actor_id) is not None

    # She cannot sign in, and the address is free to register again.
    fresh = new_client(app)
    refused = post(fresh, "/account/sign-in", {"email": "hanako@example.jp", "password": PASSWORD})
    assert refused.status_code == 400
    registered = fresh.post("/account/register", data={
        "email": "hanako@example.jp", "display_name": "新しいはなこ", "password": "another password 1",
        "accept_terms": "yes", "accept_privacy": "yes", "_csrf_token": csrf_token(fresh)})
    assert registered.status_code == 200
    newcomer = session.exec(select(User).where(User.email == "hanako@example.jp")).one()
    assert newcomer.id != hanako.id and newcomer.display_name == "新しいはなこ"


@pytest.mark.parametrize(("password", "confirm", "message"), [
    ("wrong password!", "yes", "現在のパスワードが正しくありません"),
    ("", "yes", "現在のパスワードを入力してください"),
    (PASSWORD, "", "チェックを入れてください"),
    (PASSWORD, "no", "チェックを入れてください"),
    ("x" * 100_000, "yes", "現在のパスワードが正しくありません"),
])
def test_deletion_needs_the_password_and_the_checkbox(
    session: Session, hanako: User, hanako_client: TestClient[Litestar], password: str, confirm: str, message: str
) -> None:
    response = delete(hanako_client, password, confirm)
    assert response.status_code == 400 and message in response.text and 'aria-invalid="true"' in response.text
    user = reload(session, hanako)
    assert user.deleted_at is None and user.email == "hanako@example.jp"
    assert count(session, OidcIdentity, user_id=hanako.id) == 1
    assert is_signed_in(hanako_client)


def test_last_admin_of_an_organisation_with_members_cannot_leave_it_orphaned(
    app: Litestar, session: Session, hanako: User, hanako_client: TestClient[Litestar]
) -> None:
    member = create_user(session, "member@example.jp")
    organisation = create_organisation(session, "板橋モビリティ株式会社", admin=hanako, members=[member])
    refused = delete(hanako_client)
    assert refused.status_code == 400
    assert "板橋モビリティ株式会社の唯一の管理者" in refused.text
    assert reload(session, hanako).deleted_at is None and is_signed_in(hanako_client)

    # With a second admin she may go; the organisation keeps its other admin.
    admin_row = session.exec(select(OrganisationMember).where(OrganisationMember.user_id == member.id)).one()
    admin_row.is_admin = True
    session.add(admin_row)
    session.commit()
    assert delete(hanako_client).status_code == 303
    remaining = session.exec(select(OrganisationMember).where(
        OrganisationMember.organisation_id == organisation.id)).all()
    assert [(row.user_id, row.is_admin) for row in remaining] == [(member.id, True)]


def test_last_system_admin_cannot_delete_their_account(app: Litestar, session: Session) -> None:
    admin = create_user(session, "admin@example.jp", roles=[Role.ADMIN])
    client = signed_in_client(app, admin)
    refused = delete(client)
    assert refused.status_code == 400 and "唯一のシステム管理者" in refused.text
    create_user(session, "admin2@example.jp", roles=[Role.ADMIN])
    assert delete(client).status_code == 303


DELETION_SEEN: list[tuple[int | None, str | None]] = []


def deletion_test_hook(session: Session, user: User) -> None:
    DELETION_SEEN.append((user.id, user.email))  # runs before the account is wiped


def test_deletion_hooks_let_components_erase_their_data(session: Session, settings: Settings, hanako: User) -> None:
    DELETION_SEEN.clear()
    test_component = Component(name="test", deletion_hooks=("tests.cocreate.accounts.test_privacy:deletion_test_hook",))
    with extra_component(test_component):
        self_service.delete_account(session, settings, Principal.load(session, hanako), PASSWORD, True)
    assert [(hanako.id, "hanako@example.jp")] == DELETION_SEEN


def test_deleting_needs_an_account(client: TestClient[Litestar]) -> None:
    assert client.get("/account/delete", follow_redirects=False).status_code == 303
    assert delete(client).status_code == 303


# --- deletion that deletes -----------------------------------------------------------------------


def _files_holding(paths: list[Path], *needles: bytes) -> list[str]:
    found = []
    for path in paths:
        if path.is_file():
            content = path.read_bytes().lower()
            found += [f"{path} holds {needle!r}" for needle in needles if needle.lower() in content]
    return found


@pytest.mark.committed("the deletion has to reach the files, not stay in a rolled-back transaction")
def test_a_deleted_account_leaves_no_trace_in_the_data_folder(app: Litestar, settings: Settings, database: Database,
                                                             session: Session) -> None:
    email, name = "erase-me-7f3a@example.jp", "消えるはずの名前7f3a"
    person = create_user(session, email, display_name=name)
    session.commit()
    client = signed_in_client(app, person)
    # A wrong password from elsewhere: the sign-in throttle now counts failures against the address.
    stranger = new_client(app)
    stranger.post("/account/sign-in", data={"email": email, "password": "wrong-password-1",
                                            "_csrf_token": csrf_token(stranger)})
    assert session.get(SignInThrottle, services.throttle_key(email)) is not None
    # A message sent to the address lands in the embedded mail folder, as on the demo; a reset request
    # counts against the address's mail quota.
    services.send_confirmation(session, settings, reload(session, person))
    session.commit()
    assert services.send_reset_link(session, settings, email)
    assert session.get(MailQuota, throttle.mail_key(throttle.RESET_MAILS, email)) is not None
    pending = session.exec(select(OutboundEmail.id).where(OutboundEmail.to_address == email)).all()
    assert pending and all(mail.deliver(database, settings, email_id) for email_id in pending)
    folder = Path(settings.mail_url.removeprefix("file://"))
    assert _files_holding(sorted(folder.glob("*.eml")), email.encode())

    response = delete(client)
    assert response.status_code == 303

    database_file = Path(make_url(settings.database_url).database or "")
    files = [database_file, Path(f"{database_file}-wal"), *settings.data_dir.rglob("*")]
    assert _files_holding(files, email.encode(), name.encode()) == []
    assert session.get(SignInThrottle, services.throttle_key(email)) is None
    assert session.get(MailQuota, throttle.mail_key(throttle.RESET_MAILS, email)) is None


def test_the_mail_folder_forgets_old_messages(settings: Settings, session: Session, database: Database) -> None:
    folder = Path(settings.mail_url.removeprefix("file://"))
    folder.mkdir(parents=True, exist_ok=True)
    old, recent = folder / "old.eml", folder / "recent.eml"
    for path in (old, recent):
        path.write_bytes(b"To: someone@example.jp\r\n\r\nhello")
    month_ago = (utcnow() - timedelta(days=30)).timestamp()
    os.utime(old, (month_ago, month_ago))
    assert mail.prune_folder(settings, timedelta(days=settings.mail_folder_days)) == 1
    assert not old.exists() and recent.exists()
