"""Organisations end to end: create, edit, invite by e-mail, accept, leave, verification by the ward.

Everything goes through the real app (forms with CSRF, the real e-mail outbox, the audit log) on
SQLite and PostgreSQL; services are called directly only to set up state quickly.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, col, func, select

from cocreate.accounts import organisations
from cocreate.accounts.models import (
    Organisation,
    OrganisationInvitation,
    OrganisationKind,
    OrganisationMember,
    Role,
    User,
)
from cocreate.accounts.permissions import Forbidden, Principal, SignInRequired, require_verified_organisation
from cocreate.audit.models import AuditEntry
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.mail import OutboundEmail
from cocreate.settings import Settings
from tests.factories import create_department, create_organisation, create_user, sign_in
from tests.helpers import QueryLog, assert_no_live_markup, csrf_token

pytestmark = pytest.mark.databases("sqlite", why="organisation rules and pages are Python; the corporate-number race runs on both")

TOYOTA = "1180301018771"
NTA = "7000012050002"
TOKYO = "8000020130001"


# --- helpers -------------------------------------------------------------------------------------


def post(client: TestClient[Litestar], url: str, **data: object) -> object:
    return client.post(url, data={"_csrf_token": csrf_token(client), **data}, follow_redirects=False)


def switch_to(client: TestClient[Litestar], user: User | None) -> None:
    """Sign the client out, then in as ``user`` (or stay anonymous)."""
    post(client, "/account/sign-out")
    if user is not None:
        sign_in(client, user)


def org_form(**overrides: str) -> dict[str, str]:
    return {"name": "板橋モビリティ株式会社", "kind": "company", "corporate_number": TOYOTA,
            "address": "東京都板橋区板橋二丁目66番1号", "website": "https://mobility.example.jp/",
            "description": "**自動運転バス**の実証を行います。"} | overrides


def count(session: Session, model: type) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def audit_actions(session: Session, organisation_id: int | None = None) -> list[str]:
    statement = select(AuditEntry.action).order_by(col(AuditEntry.id))
    if organisation_id is not None:
        statement = statement.where(AuditEntry.target_type == "organisation",
                                    AuditEntry.target_id == str(organisation_id))
    return list(session.exec(statement).all())


def last_email(session: Session, to: str) -> OutboundEmail:
    session.expire_all()
    email = session.exec(select(OutboundEmail).where(OutboundEmail.to_address == to)
                         .order_by(col(OutboundEmail.id).desc())).first()
    assert email is not None, f"no e-mail to {to}"
    return email


def invitation_path(email: OutboundEmail) -> str:
    match = re.search(r"http://127\.0\.0\.1:8000(/organisations/invitations/\S+)", email.body_text)
    assert match is not None, email.body_text
    return match.group(1)


def principal(session: Session, user: User | None) -> Principal:
    return Principal.load(session, user)


def make_org(session: Session, admin: User, *, verified: bool = False, number: str | None = TOYOTA,
             name: str = "板橋モビリティ株式会社", members: tuple[User, ...] = (),
             kind: OrganisationKind = OrganisationKind.COMPANY) -> Organisation:
    return create_organisation(session, name, admin=admin, members=members, verified=verified,
                               corporate_number=number, kind=kind)


# --- creating ------------------------------------------------------------------------------------


def test_a_member_creates_an_organisation_and_becomes_its_admin(
    client: TestClient[Litestar], session: Session
) -> None:
    hanako = create_user(session, "hanako@example.jp", display_name="はなこ")
    sign_in(client, hanako)
    page = client.get("/organisations/new")
    assert page.status_code == 200 and 'id="organisation-form"' in page.text and "法人番号" in page.text

    response = post(client, "/organisations/new", **org_form(corporate_number="１-１８０３-０１０１-８７７１"))
    assert response.status_code == 303, response.text
    organisation = session.exec(select(Organisation)).one()
    assert response.headers["location"] == f"/organisations/{organisation.id}"
    assert organisation.name == "板橋モビリティ株式会社" and organisation.kind == OrganisationKind.COMPANY
    assert organisation.corporate_number == TOYOTA  # normalised to 13 ASCII digits
    assert organisation.website == "https://mobility.example.jp/" and organisation.created_by_id == hanako.id
    assert not organisation.is_verified
    member = session.exec(select(OrganisationMember)).one()
    assert (member.user_id, member.is_admin) == (hanako.id, True)
    assert audit_actions(session, organisation.id) == ["organisation.created"]

    profile = client.get(f"/organisations/{organisation.id}")
    assert profile.status_code == 200
    assert "区が法人番号をもとに確認します" in profile.text  # the flash
    assert 'id="not-verified-notice"' in profile.text and "未確認" in profile.text
    assert "<strong>自動運転バス</strong>" in profile.text  # Markdown rendered
    assert 'id="edit-link"' in profile.text and 'id="members-link"' in profile.text
    assert 'href="https://mobility.example.jp/" rel="nofollow noopener noreferrer ugc external"' in profile.text

    mine = client.get("/account/organisations")
    assert mine.status_code == 200 and "板橋モビリティ株式会社" in mine.text and "あなたは管理者です。" in mine.text

    # Unverified: not in the public list, and unknown to everyone but members and ward admins.
    assert f'id="organisation-{organisation.id}"' not in client.get("/organisations").text
    switch_to(client, None)
    assert client.get(f"/organisations/{organisation.id}").status_code == 404
    switch_to(client, create_user(session, "outsider@example.jp"))
    assert client.get(f"/organisations/{organisation.id}").status_code == 404
    switch_to(client, create_user(session, "root@example.jp", roles=[Role.ADMIN]))
    assert client.get(f"/organisations/{organisation.id}").status_code == 200


def test_corporate_number_is_optional_but_needed_for_verification(
    client: TestClient[Litestar], session: Session
) -> None:
    sign_in(client, create_user(session, "npo@example.jp"))
    response = post(client, "/organisations/new", **org_form(name="高島平みどりの会", kind="other", corporate_number=""))
    assert response.status_code == 303
    organisation = session.exec(select(Organisation)).one()
    assert organisation.corporate_number is None and organisation.kind == OrganisationKind.OTHER
    assert "区が確認できるよう、法人番号を登録してください。" in client.get(response.headers["location"]).text


def test_pages_that_need_an_account_send_visitors_to_sign_in(client: TestClient[Litestar], session: Session) -> None:
    admin = create_user(session, "admin@example.jp")
    organisation = make_org(session, admin, verified=True)
    for url in ("/organisations/new", f"/organisations/{organisation.id}/edit",
                f"/organisations/{organisation.id}/members", "/account/organisations", "/admin/organisations",
                f"/admin/organisations/{organisation.id}"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/account/sign-in?next="), url
    for url in ("/organisations/new", f"/organisations/{organisation.id}/edit",
                f"/organisations/{organisation.id}/invitations", f"/organisations/{organisation.id}/leave",
                f"/admin/organisations/{organisation.id}/verify"):
        response = post(client, url, **org_form(name="乗っ取り"))
        assert response.status_code == 303 and "/account/sign-in" in response.headers["location"], url
    assert count(session, Organisation) == 1 and count(session, OrganisationInvitation) == 0
    assert session.exec(select(Organisation.name)).one() == "板橋モビリティ株式会社"


def test_posting_without_the_csrf_token_is_refused(client: TestClient[Litestar], session: Session) -> None:
    sign_in(client, create_user(session, "hanako@example.jp"))
    response = client.post("/organisations/new", data=org_form(), follow_redirects=False)
    assert response.status_code == 403
    assert count(session, Organisation) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "組織の名称を入力してください。"),
        ("name", "   ", "組織の名称を入力してください。"),
        ("name", "あ" * 201, "名称は200文字以内で入力してください。"),
        ("name", "改行\nを含む名前", "名称に使用できない文字が含まれています。"),
        ("name", "\u202eevil", "名称に使用できない文字が含まれています。"),
        ("kind", "", "組織の種別を選んでください。"),
        ("kind", "government", "組織の種別を選んでください。"),
        ("corporate_number", "118030101877", "法人番号を13桁の数字で入力してください。"),
        ("corporate_number", "11803010187A1", "法人番号を13桁の数字で入力してください。"),
        ("corporate_number", "2180301018771", "先頭の検査用数字が残りの12桁と合いません"),
        ("corporate_number", "1180301018772", "先頭の検査用数字が残りの12桁と合いません"),
        ("address", "あ" * 301, "所在地は300文字以内で入力してください。"),
        ("address", "tab\there", "所在地に使用できない文字が含まれています。"),
        ("website", "javascript:alert(1)", "https:// または http:// から始まる形式"),
        ("website", "JAVASCRIPT://example.jp/%0Aalert(1)", "https:// または http:// から始まる形式"),
        ("website", "data:text/html;base64,PHNjcmlwdD4=", "https:// または http:// から始まる形式"),
        ("website", "ftp://example.jp/", "https:// または http:// から始まる形式"),
        ("website", "mobility.example.jp", "https:// または http:// から始まる形式"),
        ("website", "https://", "https:// または http:// から始まる形式"),
        ("website", 'https://example.jp/"><script>alert(1)</script>', "https:// または http:// から始まる形式"),
        ("website", "https://user:pass@example.jp/", "https:// または http:// から始まる形式"),
        ("website", "https://example.jp:port/", "https:// または http:// から始まる形式"),
        ("website", "https://example.jp/" + "a" * 500, "ウェブサイトのアドレスは500文字以内"),
        ("description", "あ" * 5001, "紹介文は5000文字以内で入力してください。"),
        ("description", "NUL\x00byte", "紹介文に使用できない文字が含まれています。"),
    ],
)
def test_each_invalid_field_is_reported_and_nothing_is_created(
    client: TestClient[Litestar], session: Session, field: str, value: str, message: str
) -> None:
    sign_in(client, create_user(session, "hanako@example.jp"))
    response = post(client, "/organisations/new", **org_form(**{field: value}))
    assert response.status_code == 400
    assert message in response.text
    assert f'id="field-{field}"' in response.text and 'aria-invalid="true"' in response.text
    assert count(session, Organisation) == 0 and count(session, OrganisationMember) == 0
    assert count(session, AuditEntry) == 0


def test_errors_are_reported_together_and_the_form_keeps_what_was_typed(
    client: TestClient[Litestar], session: Session
) -> None:
    sign_in(client, create_user(session, "hanako@example.jp"))
    response = post(client, "/organisations/new", **org_form(name="", kind="x", corporate_number="123",
                                                             website="javascript:alert(1)",
                                                             description="残したい説明"))
    assert response.status_code == 400
    for message in ("組織の名称を入力してください。", "組織の種別を選んでください。", "13桁の数字", "https:// または"):
        assert message in response.text
    assert "残したい説明</textarea>" in response.text and 'value="javascript:alert(1)"' in response.text
    english = post(client, "/organisations/new?lang=en", **org_form(name=""))
    assert english.status_code == 400 and "Enter the name of the organisation." in english.text


def test_huge_and_oddly_typed_input_is_refused_without_harm(client: TestClient[Litestar], session: Session) -> None:
    sign_in(client, create_user(session, "hanako@example.jp"))
    huge = post(client, "/organisations/new", **org_form(name="x" * 100_000, description="y" * 1_000_000,
                                                         address="z" * 50_000, website="https://e.jp/" + "a" * 9000,
                                                         corporate_number="1" * 10_000))
    assert huge.status_code == 400
    for message in ("名称は200文字以内", "紹介文は5000文字以内", "所在地は300文字以内", "500文字以内", "13桁の数字"):
        assert message in huge.text
    assert len(huge.text) < 200_000  # what was typed is echoed back only up to the read limit
    # A field sent twice counts once; a missing field is empty.
    twice = client.post("/organisations/new", content=(
        f"_csrf_token={csrf_token(client)}&name=A&name=B&kind=company&kind=npo").encode(),
        headers={"content-type": "application/x-www-form-urlencoded"}, follow_redirects=False)
    assert twice.status_code == 303
    organisation = session.exec(select(Organisation)).one()
    assert (organisation.name, organisation.kind, organisation.corporate_number) == ("A", "company", None)
    assert client.get("/organisations/not-a-number").status_code == 404
    assert client.get("/organisations/99999999").status_code == 404
    assert client.get("/organisations?page=-5&kind=nonsense&q=" + "%" * 500).status_code == 200


def test_a_corporate_number_belongs_to_one_organisation(client: TestClient[Litestar], session: Session) -> None:
    first_admin = create_user(session, "first@example.jp")
    make_org(session, first_admin, number=TOYOTA, name="トヨタ自動車株式会社")
    sign_in(client, create_user(session, "second@example.jp"))
    response = post(client, "/organisations/new", **org_form(corporate_number="1 1803 0101 8771"))
    assert response.status_code == 400
    assert "この法人番号はすでに別の組織で登録されています。" in response.text
    assert count(session, Organisation) == 1

    # Editing one's own organisation to another's number is refused the same way.
    post(client, "/organisations/new", **org_form(corporate_number=NTA))
    mine = session.exec(select(Organisation).where(Organisation.corporate_number == NTA)).one()
    edit = post(client, f"/organisations/{mine.id}/edit", **org_form(corporate_number=TOYOTA))
    assert edit.status_code == 400 and "すでに別の組織で登録されています" in edit.text
    session.expire_all()
    assert session.get(Organisation, mine.id).corporate_number == NTA  # type: ignore[union-attr]
    # Saving one's own number again is fine.
    assert post(client, f"/organisations/{mine.id}/edit", **org_form(corporate_number=NTA)).status_code == 303


@pytest.mark.databases("sqlite", "postgresql", why="the unique corporate number in each database")
def test_service_refuses_a_number_taken_in_a_race(session: Session) -> None:
    """The unique index is the backstop when two requests pass the friendly check at once."""
    first = create_user(session, "first@example.jp")
    second = create_user(session, "second@example.jp")
    organisations.create(session, principal(session, first), organisations.OrganisationForm(**org_form()))
    taken = session.exec(select(Organisation)).one()
    taken.corporate_number = None  # hide it from the friendly check...
    session.add(taken)
    session.commit()
    organisations.create(session, principal(session, second), organisations.OrganisationForm(
        **org_form(name="先に登録", corporate_number=NTA)))
    with pytest.raises(Invalid) as failed:
        organisations.update(session, principal(session, first), taken.id,  # type: ignore[arg-type]
                             organisations.OrganisationForm(**org_form(corporate_number=NTA)))
    assert "corporate_number" in failed.value.errors
    session.expire_all()
    assert session.get(Organisation, taken.id).corporate_number is None  # type: ignore[union-attr]


# --- hostile content -----------------------------------------------------------------------------


def test_hostile_text_is_stored_verbatim_and_never_becomes_markup(
    client: TestClient[Litestar], session: Session, xss_payloads: list[str]
) -> None:
    admin = create_user(session, "admin@example.jp")
    root = create_user(session, "root@example.jp", roles=[Role.ADMIN])
    actor = principal(session, admin)
    created: list[tuple[int, str]] = []
    for payload in xss_payloads:
        try:
            form = organisations.OrganisationForm(name=payload[:200], kind="startup", address=payload[:300],
                                                  description=payload)
            organisation = organisations.create(session, actor, form)
        except Invalid as failed:
            # Only line breaks and bidirectional overrides are refused in one-line fields.
            assert re.search(r"[\n\u202a-\u202e]", payload), payload
            assert set(failed.errors) <= {"name", "address"}
            organisation = organisations.create(session, actor, organisations.OrganisationForm(
                name="安全な名前", kind="startup", description=payload))
        created.append((organisation.id, payload))  # type: ignore[arg-type]
    for organisation_id, payload in created:
        stored = session.get(Organisation, organisation_id)
        assert stored is not None and stored.description == payload.strip()
        if stored.name != "安全な名前":
            assert stored.name == payload[:200].strip() and stored.address == payload[:300].strip()
        stored.verified_at = utcnow()
        session.add(stored)
    session.commit()

    sign_in(client, root)
    pages = [f"/organisations?page={n}" for n in range(1, len(created) // 20 + 2)]
    pages += ["/admin/organisations?status=all&page=1", "/admin/organisations?status=all&page=2",
              "/account/organisations?page=1"]
    for organisation_id, _payload in created:
        pages += [f"/organisations/{organisation_id}", f"/admin/organisations/{organisation_id}"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_live_markup(response.text)
        assert "<script>alert" not in response.text
    profile = client.get(f"/organisations/{created[0][0]}").text  # "<script>alert(1)</script>"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in profile
    template_payload = next(i for i, p in created if p.startswith("{{ 7*7 }}"))
    assert "{{ 7*7 }}{{ config }}" in client.get(f"/organisations/{template_payload}").text


def test_hostile_names_stay_plain_text_in_e_mails(
    client: TestClient[Litestar], session: Session, settings: Settings
) -> None:
    admin = create_user(session, "admin@example.jp", display_name="<b>管理</b>")
    organisation = make_org(session, admin, name='<script>alert("x")</script> & Co.')
    organisations.invite(session, settings, principal(session, admin), organisation.id, "new@example.jp")  # type: ignore[arg-type]
    email = last_email(session, "new@example.jp")
    assert email.subject == '【コクリエ板橋】<script>alert("x")</script> & Co.への招待'
    assert '<script>alert("x")</script> & Co.' in email.body_text and "&lt;" not in email.body_text
    assert email.body_html is None


# --- editing -------------------------------------------------------------------------------------


def test_editing_the_name_or_number_of_a_verified_organisation_clears_its_verification(
    client: TestClient[Litestar], session: Session
) -> None:
    admin = create_user(session, "admin@example.jp")
    organisation = make_org(session, admin, verified=True)
    sign_in(client, admin)
    form_page = client.get(f"/organisations/{organisation.id}/edit")
    assert form_page.status_code == 200 and 'id="reverification-warning"' in form_page.text
    assert f'value="{TOYOTA}"' in form_page.text

    # Description, address and website: still verified.
    kept = post(client, f"/organisations/{organisation.id}/edit",
                **org_form(name=organisation.name, description="新しい紹介文", website="http://example.jp"))
    assert kept.status_code == 303
    session.expire_all()
    refreshed = session.get(Organisation, organisation.id)
    assert refreshed is not None and refreshed.is_verified and refreshed.description == "新しい紹介文"
    assert "organisation.verification_cleared" not in audit_actions(session)

    renamed = post(client, f"/organisations/{organisation.id}/edit", **org_form(name="板橋モビリティ合同会社"))
    assert renamed.status_code == 303
    assert "区が改めて確認するまで" in client.get(renamed.headers["location"]).text
    session.expire_all()
    refreshed = session.get(Organisation, organisation.id)
    assert refreshed is not None and not refreshed.is_verified and refreshed.verified_by_id is None
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "organisation.verification_cleared")).one()
    assert entry.actor_id == admin.id and entry.target_id == str(organisation.id)
    details = json.loads(entry.details_json)
    assert details["changed"] == ["name"] and details["before"] == {"name": "板橋モビリティ株式会社"}
    with pytest.raises(Forbidden):  # the gate for proposals and bookings is closed again
        require_verified_organisation(session, principal(session, admin), organisation.id)  # type: ignore[arg-type]

    # A changed corporate number clears it too.
    refreshed.verified_at = utcnow()
    session.add(refreshed)
    session.commit()
    post(client, f"/organisations/{organisation.id}/edit", **org_form(name="板橋モビリティ合同会社",
                                                                        corporate_number=TOKYO))
    session.expire_all()
    assert not session.get(Organisation, organisation.id).is_verified  # type: ignore[union-attr]
    assert audit_actions(session, organisation.id).count("organisation.verification_cleared") == 2


def test_only_organisation_admins_edit_the_profile(client: TestClient[Litestar], session: Session) -> None:
    admin = create_user(session, "admin@example.jp")
    member = create_user(session, "member@example.jp")
    outsider = create_user(session, "outsider@example.jp")
    root = create_user(session, "root@example.jp", roles=[Role.ADMIN])
    verified = make_org(session, admin, verified=True, members=(member,))
    hidden = make_org(session, admin, number=None, name="未確認の会", members=(member,))
    for user, expected_verified, expected_hidden in ((member, 403, 403), (outsider, 403, 404), (root, 403, 403)):
        switch_to(client, user)
        assert client.get(f"/organisations/{verified.id}/edit").status_code == expected_verified
        assert client.get(f"/organisations/{hidden.id}/edit").status_code == expected_hidden
        response = post(client, f"/organisations/{verified.id}/edit", **org_form(name="書き換え"))
        assert response.status_code == 403
    session.expire_all()
    assert session.get(Organisation, verified.id).name == "板橋モビリティ株式会社"  # type: ignore[union-attr]


# --- invitations ---------------------------------------------------------------------------------


def test_invite_by_e_mail_and_accept(client: TestClient[Litestar], session: Session) -> None:
    admin = create_user(session, "admin@example.jp", display_name="管理者はなこ")
    organisation = make_org(session, admin, verified=True)
    sign_in(client, admin)
    page = client.get(f"/organisations/{organisation.id}/members")
    assert page.status_code == 200 and 'id="invite-form"' in page.text and 'id="no-invitations"' in page.text

    response = post(client, f"/organisations/{organisation.id}/invitations", email=" Taro@Example.JP ")
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "taro@example.jp に招待を送信しました。" in page and "taro@example.jp" in page

    invitation = session.exec(select(OrganisationInvitation)).one()
    assert invitation.email == "taro@example.jp" and not invitation.as_admin and invitation.invited_by_id == admin.id
    assert timedelta(days=13, hours=23) < invitation.expires_at - utcnow() <= timedelta(days=14)
    email = last_email(session, "taro@example.jp")
    assert email.subject == "【コクリエ板橋】板橋モビリティ株式会社への招待"
    assert "管理者はなこ さんから" in email.body_text
    path = invitation_path(email)
    token = path.rsplit("/", 1)[1]
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps([invitation.model_dump(mode="json")])  # only the hash is stored
    assert "organisation.member_invited" in audit_actions(session, organisation.id)

    # The invitee opens the link before having an account: told to sign in or register.
    switch_to(client, None)
    landing = client.get(path)
    assert landing.status_code == 200 and 'id="invitation-sign-in"' in landing.text
    assert "t***@example.jp" in landing.text and "taro@example.jp" not in landing.text
    assert "板橋モビリティ株式会社" in landing.text
    # Posting while signed out goes to sign-in and comes back to the link.
    anonymous = post(client, path)
    assert anonymous.status_code == 303 and "next=" in anonymous.headers["location"]

    taro = create_user(session, "taro@example.jp", display_name="たろう")
    sign_in(client, taro)
    landing = client.get(path)
    assert 'id="accept-invitation"' in landing.text
    accepted = post(client, path)
    assert accepted.status_code == 303 and accepted.headers["location"] == f"/organisations/{organisation.id}"
    assert "組織のメンバーになりました" in client.get(accepted.headers["location"]).text
    joined = session.exec(select(OrganisationMember).where(OrganisationMember.user_id == taro.id)).one()
    assert joined.organisation_id == organisation.id and not joined.is_admin
    session.expire_all()
    invitation = session.get(OrganisationInvitation, invitation.id)
    assert invitation is not None and invitation.accepted_at is not None and invitation.accepted_by_id == taro.id
    assert "organisation.member_joined" in audit_actions(session, organisation.id)
    require_verified_organisation(session, principal(session, taro), organisation.id)  # type: ignore[arg-type]

    # Single use: the link does not work a second time.
    again = post(client, path)
    assert again.status_code == 410 and "この招待はすでに承諾されています。" in again.text
    assert client.get(path).status_code == 410
    assert count(session, OrganisationMember) == 2

    # Members see the list read-only.
    members = client.get(f"/organisations/{organisation.id}/members").text
    assert "管理者はなこ" in members and "たろう" in members
    assert 'id="invite-form"' not in members and "remove-" not in members and "promote-" not in members


def test_an_admin_invitation_makes_an_admin_and_the_mail_follows_the_invitee_s_language(
    client: TestClient[Litestar], session: Session, settings: Settings
) -> None:
    admin = create_user(session, "admin@example.jp")
    organisation = make_org(session, admin)
    create_user(session, "jane@example.jp", locale="en", display_name="Jane")
    sign_in(client, admin)
    post(client, f"/organisations/{organisation.id}/invitations", email="jane@example.jp", as_admin="yes")
    english = last_email(session, "jane@example.jp")
    assert english.subject == "Invitation to join 板橋モビリティ株式会社 on cocreate"
    assert "as an administrator" in english.body_text
    # No account: the inviter's language.
    post(client, f"/organisations/{organisation.id}/invitations", email="nobody@example.jp")
    assert last_email(session, "nobody@example.jp").subject.startswith("【コクリエ板橋】")

    switch_to(client, session.exec(select(User).where(User.email == "jane@example.jp")).one())
    assert post(client, invitation_path(english)).status_code == 303
    jane_member = session.exec(select(OrganisationMember).where(OrganisationMember.is_admin,
                                                                OrganisationMember.user_id != admin.id)).one()
    assert jane_member.is_admin


def test_someone_else_cannot_accept_the_invitation(client: TestClient[Litestar], session: Session,
                                                    settings: Settings) -> None:
    admin = create_user(session, "admin@example.jp")
    organisation = make_org(session, admin)
    organisations.invite(session, settings, principal(session, admin), organisation.id, "taro@example.jp")  # type: ignore[arg-type]
    path = invitation_path(last_email(session, "taro@example.jp"))

    mallory = create_user(session, "mallory@example.jp", display_name="まろりー")
    sign_in(client, mallory)
    page = client.get(path)
    assert page.status_code == 200 and 'id="invitation-wrong-account"' in page.text
    assert 'id="accept-invitation"' not in page.text
    refused = post(client, path)
    assert refused.status_code == 403 and "まろりー としてログインしていますが" in refused.text
    assert membership_count(session, organisation.id) == 1
    session.expire_all()
    assert session.exec(select(OrganisationInvitation)).one().accepted_at is None

    # An unconfirmed account with the invited address cannot accept either (service level: such an
    # account cannot sign in at all).
    unconfirmed = create_user(session, "taro@example.jp", confirmed=False)
    with pytest.raises(Forbidden):
        organisations.accept_invitation(session, principal(session, unconfirmed), path.rsplit("/", 1)[1])

    # The invited person still can.
    unconfirmed.email_confirmed_at = utcnow()
    session.add(unconfirmed)
    session.commit()
    switch_to(client, unconfirmed)
    assert post(client, path).status_code == 303
    assert membership_count(session, organisation.id) == 2


def membership_count(session: Session, organisation_id: int | None) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(OrganisationMember)
                        .where(OrganisationMember.organisation_id == organisation_id)).one()


def test_expired_revoked_replaced_and_unknown_links_do_not_work(
    client: TestClient[Litestar], session: Session, settings: Settings
) -> None:
    admin = create_user(session, "admin@example.jp")
    taro = create_user(session, "taro@example.jp")
    organisation = make_org(session, admin)
    actor = principal(session, admin)

    organisations.invite(session, settings, actor, organisation.id, "taro@example.jp")  # type: ignore[arg-type]
    expired_path = invitation_path(last_email(session, "taro@example.jp"))
    invitation = session.exec(select(OrganisationInvitation)).one()
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    session.add(invitation)
    session.commit()
    sign_in(client, taro)
    page = client.get(expired_path)
    assert page.status_code == 410 and "有効期限が切れています" in page.text
    assert post(client, expired_path).status_code == 410

    # Re-inviting the same address replaces the open invitation: only the newest link works.
    organisations.invite(session, settings, actor, organisation.id, "taro@example.jp")  # type: ignore[arg-type]
    first_path = invitation_path(last_email(session, "taro@example.jp"))
    organisations.invite(session, settings, actor, organisation.id, "TARO@example.jp")  # type: ignore[arg-type]
    second_path = invitation_path(last_email(session, "taro@example.jp"))
    assert first_path != second_path
    assert client.get(first_path).status_code == 410 and "取り消されました" in client.get(first_path).text
    assert len(organisations.pending_invitations(session, actor, organisation.id)) == 1  # type: ignore[arg-type]

    # The admin revokes it from the members page.
    switch_to(client, admin)
    pending = session.exec(select(OrganisationInvitation).where(
        col(OrganisationInvitation.revoked_at).is_(None), col(OrganisationInvitation.accepted_at).is_(None),
        OrganisationInvitation.expires_at > utcnow())).one()
    assert f'id="invitation-{pending.id}"' in client.get(f"/organisations/{organisation.id}/members").text
    revoked = post(client, f"/organisations/{organisation.id}/invitations/{pending.id}/revoke")
    assert revoked.status_code == 303
    assert "organisation.invitation_revoked" in audit_actions(session, organisation.id)
    again = post(client, f"/organisations/{organisation.id}/invitations/{pending.id}/revoke")
    assert again.status_code == 400 and "すでに承諾されたか、取り消されています" in again.text
    switch_to(client, taro)
    assert post(client, second_path).status_code == 410
    assert membership_count(session, organisation.id) == 1

    for path in ("/organisations/invitations/nonsense", "/organisations/invitations/" + "a" * 300):
        response = client.get(path)
        assert response.status_code == 404 and "この招待が見つかりません" in response.text
        assert post(client, path).status_code == 404


def test_invitation_rules(client: TestClient[Litestar], session: Session, settings: Settings) -> None:
    admin = create_user(session, "admin@example.jp")
    member = create_user(session, "member@example.jp")
    outsider = create_user(session, "outsider@example.jp")
    organisation = make_org(session, admin, members=(member,), verified=True)
    sign_in(client, admin)
    for email, message in (("", "メールアドレス"), ("not-an-address", "name@example.jp"),
                           ("a" * 300 + "@example.jp", "name@example.jp"),
                           ("member@example.jp", "この方はすでに組織のメンバーです。"),
                           ("ADMIN@example.jp", "この方はすでに組織のメンバーです。")):
        response = post(client, f"/organisations/{organisation.id}/invitations", email=email)
        assert response.status_code == 400 and message in response.text, email
        assert 'id="field-email"' in response.text
    assert count(session, OrganisationInvitation) == 0 and count(session, OutboundEmail) == 0

    for user, status in ((member, 403), (outsider, 403)):
        switch_to(client, user)
        assert post(client, f"/organisations/{organisation.id}/invitations", email="x@example.jp").status_code == status
    assert count(session, OrganisationInvitation) == 0

    # At most 50 open invitations per organisation.
    actor = principal(session, admin)
    for index in range(organisations.MAX_PENDING_INVITATIONS):
        organisations.invite(session, settings, actor, organisation.id, f"person{index}@example.jp")  # type: ignore[arg-type]
    switch_to(client, admin)
    refused = post(client, f"/organisations/{organisation.id}/invitations", email="one-more@example.jp")
    assert refused.status_code == 400 and "未承諾の招待がすでに50件あります" in refused.text
    assert count(session, OrganisationInvitation) == organisations.MAX_PENDING_INVITATIONS
    # Re-inviting someone already invited stays possible (it replaces, not adds).
    assert post(client, f"/organisations/{organisation.id}/invitations", email="person0@example.jp").status_code == 303


def test_invitations_per_day_are_capped(client: TestClient[Litestar], session: Session) -> None:
    admin = create_user(session, "admin@example.jp")
    organisation = make_org(session, admin)
    now = utcnow()
    for index in range(organisations.MAX_INVITATIONS_PER_DAY):
        session.add(OrganisationInvitation(organisation_id=organisation.id, email=f"p{index}@example.jp",  # type: ignore[arg-type]
                                           token_hash=f"{index:064d}", expires_at=now + timedelta(days=14),
                                           revoked_at=now))
    session.commit()
    sign_in(client, admin)
    refused = post(client, f"/organisations/{organisation.id}/invitations", email="spam@example.jp")
    assert refused.status_code == 400 and "過去24時間に100件の招待を送信しています" in refused.text
    assert count(session, OutboundEmail) == 0
    for invitation in session.exec(select(OrganisationInvitation)).all():
        invitation.created_at = now - timedelta(days=1, minutes=1)
        session.add(invitation)
    session.commit()
    assert post(client, f"/organisations/{organisation.id}/invitations", email="spam@example.jp").status_code == 303


# --- members -------------------------------------------------------------------------------------


def test_the_last_admin_can_neither_leave_nor_be_removed_nor_step_down(
    client: TestClient[Litestar], session: Session
) -> None:
    admin = create_user(session, "admin@example.jp")
    member = create_user(session, "member@example.jp", display_name="めんばー")
    organisation = make_org(session, admin, members=(member,))
    sign_in(client, admin)
    page = client.get(f"/organisations/{organisation.id}/members").text
    assert f'id="remove-{member.id}"' in page and f'id="promote-{member.id}"' in page
    assert f'id="remove-{admin.id}"' not in page and f'id="demote-{admin.id}"' not in page

    left = post(client, f"/organisations/{organisation.id}/leave")
    assert left.status_code == 400 and "組織には管理者が1人以上必要です。" in left.text
    demoted = post(client, f"/organisations/{organisation.id}/members/{admin.id}/admin", is_admin="no")
    assert demoted.status_code == 400 and "組織には管理者が1人以上必要です。" in demoted.text
    removed_self = post(client, f"/organisations/{organisation.id}/members/{admin.id}/remove")
    assert removed_self.status_code == 400
    assert membership_count(session, organisation.id) == 2

    # A member cannot remove anyone, nor make themselves an admin.
    switch_to(client, member)
    assert post(client, f"/organisations/{organisation.id}/members/{admin.id}/remove").status_code == 403
    assert post(client, f"/organisations/{organisation.id}/members/{member.id}/admin", is_admin="yes").status_code == 403

    # Promote the member, then the first admin may leave.
    switch_to(client, admin)
    promoted = post(client, f"/organisations/{organisation.id}/members/{member.id}/admin", is_admin="yes")
    assert promoted.status_code == 303
    left = post(client, f"/organisations/{organisation.id}/leave")
    assert left.status_code == 303 and left.headers["location"] == "/account/organisations"
    assert "組織から退会しました。" in client.get("/account/organisations").text
    session.expire_all()
    remaining = session.exec(select(OrganisationMember)).one()
    assert (remaining.user_id, remaining.is_admin) == (member.id, True)
    assert audit_actions(session, organisation.id) == ["organisation.admin_granted", "organisation.member_left"]
    # The former admin no longer sees the unverified organisation at all.
    assert client.get(f"/organisations/{organisation.id}").status_code == 404


def test_admins_remove_members_and_members_leave(client: TestClient[Litestar], session: Session) -> None:
    admin = create_user(session, "admin@example.jp")
    first = create_user(session, "first@example.jp")
    second = create_user(session, "second@example.jp")
    organisation = make_org(session, admin, members=(first, second), verified=True)
    sign_in(client, admin)
    removed = post(client, f"/organisations/{organisation.id}/members/{first.id}/remove")
    assert removed.status_code == 303
    assert post(client, f"/organisations/{organisation.id}/members/{first.id}/remove").status_code == 404
    switch_to(client, second)
    assert post(client, f"/organisations/{organisation.id}/leave").status_code == 303
    assert membership_count(session, organisation.id) == 1
    with pytest.raises(Forbidden):
        require_verified_organisation(session, principal(session, second), organisation.id)  # type: ignore[arg-type]
    assert audit_actions(session, organisation.id) == ["organisation.member_removed", "organisation.member_left"]
    removed_entry = session.exec(select(AuditEntry).where(AuditEntry.action == "organisation.member_removed")).one()
    assert json.loads(removed_entry.details_json) == {"user_id": first.id, "was_admin": False}
    assert removed_entry.actor_id == admin.id


def test_who_sees_the_member_list(client: TestClient[Litestar], session: Session) -> None:
    admin = create_user(session, "admin@example.jp")
    member = create_user(session, "member@example.jp")
    outsider = create_user(session, "outsider@example.jp")
    staff = create_user(session, "staff@example.jp", roles=[(Role.STAFF, create_department(session).id)])
    root = create_user(session, "root@example.jp", roles=[Role.ADMIN])
    verified = make_org(session, admin, members=(member,), verified=True)
    hidden = make_org(session, admin, members=(member,), number=None, name="未確認")
    expectations = [(member, 200, 200), (outsider, 403, 404), (staff, 403, 404), (root, 200, 200),
                    (admin, 200, 200)]
    for user, on_verified, on_hidden in expectations:
        switch_to(client, user)
        assert client.get(f"/organisations/{verified.id}/members").status_code == on_verified, user.email
        assert client.get(f"/organisations/{hidden.id}/members").status_code == on_hidden, user.email
    switch_to(client, root)
    page = client.get(f"/organisations/{verified.id}/members").text
    assert 'id="invite-form"' not in page and "remove-" not in page  # ward admins look, they do not manage


def test_member_list_paginates_in_the_database(client: TestClient[Litestar], session: Session,
                                               query_log: QueryLog) -> None:
    admin = create_user(session, "admin@example.jp")
    organisation = make_org(session, admin)
    for index in range(3):
        session.add(User(email=f"m{index}@example.jp", display_name=f"メンバー{index}"))
    session.commit()
    for user in session.exec(select(User).where(User.id != admin.id)).all():
        session.add(OrganisationMember(organisation_id=organisation.id, user_id=user.id))  # type: ignore[arg-type]
    session.commit()
    sign_in(client, admin)
    client.get(f"/organisations/{organisation.id}/members")
    query_log.statements.clear()
    client.get(f"/organisations/{organisation.id}/members")
    few = query_log.count
    for index in range(3, 80):
        user = User(email=f"m{index}@example.jp", display_name=f"メンバー{index:02d}")
        session.add(user)
        session.flush()
        session.add(OrganisationMember(organisation_id=organisation.id, user_id=user.id))  # type: ignore[arg-type]
    session.commit()
    query_log.statements.clear()
    page = client.get(f"/organisations/{organisation.id}/members")
    assert query_log.count == few, str(query_log)
    assert page.text.count('<tr id="member-') == 50 and 'rel="next"' in page.text
    assert client.get(f"/organisations/{organisation.id}/members?page=2").text.count('<tr id="member-') == 31


# --- verification --------------------------------------------------------------------------------


ROLES = ["anonymous", "resident", "org_member", "org_admin", "staff", "moderator", "admin"]


@pytest.mark.parametrize("role", ROLES)
def test_only_ward_admins_verify(client: TestClient[Litestar], session: Session, settings: Settings,
                                 role: str) -> None:
    org_admin = create_user(session, "orgadmin@example.jp")
    org_member = create_user(session, "orgmember@example.jp")
    organisation = make_org(session, org_admin, members=(org_member,))
    users = {
        "anonymous": None,
        "resident": create_user(session, "resident@example.jp"),
        "org_member": org_member,
        "org_admin": org_admin,
        "staff": create_user(session, "staff@example.jp", roles=[(Role.STAFF, create_department(session).id)]),
        "moderator": create_user(session, "mod@example.jp", roles=[Role.MODERATOR]),
        "admin": create_user(session, "root@example.jp", roles=[Role.ADMIN]),
    }
    user = users[role]
    if user is not None:
        sign_in(client, user)
    queue = client.get("/admin/organisations", follow_redirects=False)
    review = client.get(f"/admin/organisations/{organisation.id}", follow_redirects=False)
    verified = post(client, f"/admin/organisations/{organisation.id}/verify", note="登記簿と照合")
    session.expire_all()
    stored = session.get(Organisation, organisation.id)
    assert stored is not None
    if role == "anonymous":
        assert queue.status_code == review.status_code == verified.status_code == 303
        assert "/account/sign-in" in verified.headers["location"]
    elif role != "admin":
        assert queue.status_code == review.status_code == verified.status_code == 403
    if role != "admin":
        assert not stored.is_verified and "organisation.verified" not in audit_actions(session)
        with pytest.raises((Forbidden, SignInRequired)):
            organisations.verify(session, settings, principal(session, user), organisation.id)  # type: ignore[arg-type]
        return
    assert queue.status_code == 200 and review.status_code == 200
    assert verified.status_code == 303 and verified.headers["location"] == "/admin/organisations"
    assert stored.is_verified and stored.verified_by_id == users["admin"].id  # type: ignore[union-attr]
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "organisation.verified")).one()
    assert entry.actor_id == users["admin"].id and entry.target_type == "organisation"  # type: ignore[union-attr]
    assert json.loads(entry.details_json)["note"] == "登記簿と照合"
    # The organisation's admins hear about it, in their language; members do not get this e-mail.
    email = last_email(session, "orgadmin@example.jp")
    assert email.subject == "【コクリエ板橋】板橋モビリティ株式会社の確認が完了しました"
    assert "登記簿と照合" in email.body_text
    assert session.exec(select(OutboundEmail).where(OutboundEmail.to_address == "orgmember@example.jp")).first() is None
    # Now it is public, with the badge, and the gate opens for its members.
    switch_to(client, None)
    listing = client.get("/organisations").text
    assert f'id="organisation-{organisation.id}"' in listing and "区確認済み" in listing
    assert client.get(f"/organisations/{organisation.id}").status_code == 200
    assert require_verified_organisation(session, principal(session, org_member), organisation.id).id == organisation.id  # type: ignore[arg-type]


def test_verification_rules_and_withdrawal(client: TestClient[Litestar], session: Session) -> None:
    org_admin = create_user(session, "orgadmin@example.jp", locale="en")
    root = create_user(session, "root@example.jp", roles=[Role.ADMIN])
    without_number = make_org(session, org_admin, number=None, name="番号なしの会")
    organisation = make_org(session, org_admin, number=NTA, name="国税庁")
    sign_in(client, root)

    refused = post(client, f"/admin/organisations/{without_number.id}/verify")
    assert refused.status_code == 400 and "法人番号が登録されていない組織は確認できません。" in refused.text
    too_long = post(client, f"/admin/organisations/{organisation.id}/verify", note="あ" * 501)
    assert too_long.status_code == 400 and "メモは500文字以内" in too_long.text
    assert count(session, AuditEntry) == 0

    review = client.get(f"/admin/organisations/{organisation.id}").text
    assert f"selHouzinNo={NTA}" in review and 'id="verify-form"' in review
    assert post(client, f"/admin/organisations/{organisation.id}/verify").status_code == 303  # the note is optional
    twice = post(client, f"/admin/organisations/{organisation.id}/verify")
    assert twice.status_code == 400 and "すでに確認済み" in twice.text

    no_reason = post(client, f"/admin/organisations/{organisation.id}/unverify", note="  ")
    assert no_reason.status_code == 400 and "理由を入力してください。" in no_reason.text
    session.expire_all()
    assert session.get(Organisation, organisation.id).is_verified  # type: ignore[union-attr]

    withdrawn = post(client, f"/admin/organisations/{organisation.id}/unverify", note="法人が解散したため")
    assert withdrawn.status_code == 303
    session.expire_all()
    assert not session.get(Organisation, organisation.id).is_verified  # type: ignore[union-attr]
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "organisation.unverified")).one()
    assert json.loads(entry.details_json)["note"] == "法人が解散したため"
    email = last_email(session, "orgadmin@example.jp")
    assert email.subject == "The verification of 国税庁 was withdrawn" and "法人が解散したため" in email.body_text
    assert post(client, f"/admin/organisations/{organisation.id}/unverify", note="再度").status_code == 400
    assert audit_actions(session, organisation.id) == ["organisation.verified", "organisation.unverified"]

    switch_to(client, None)
    assert f'id="organisation-{organisation.id}"' not in client.get("/organisations").text
    assert client.get(f"/organisations/{organisation.id}").status_code == 404


def test_admin_queue_puts_unverified_first_and_filters(client: TestClient[Litestar], session: Session) -> None:
    owner = create_user(session, "owner@example.jp", display_name="登録者")
    root = create_user(session, "root@example.jp", roles=[Role.ADMIN])
    verified = make_org(session, owner, verified=True, number=TOYOTA, name="A 確認済み")
    older = make_org(session, owner, number=NTA, name="B 古い申請", kind=OrganisationKind.UNIVERSITY)
    newer = make_org(session, owner, number=None, name="C 新しい申請", kind=OrganisationKind.NPO)
    older.created_at = utcnow() - timedelta(days=3)
    session.add(older)
    session.commit()
    sign_in(client, root)

    def names(url: str) -> list[str]:
        html = client.get(url).text
        return re.findall(r'<a href="/admin/organisations/\d+" lang="\w+">([^<]+)</a>', html)

    assert names("/admin/organisations") == ["B 古い申請", "C 新しい申請"]  # pending by default
    assert names("/admin/organisations?status=all") == ["B 古い申請", "C 新しい申請", "A 確認済み"]
    assert names("/admin/organisations?status=verified") == ["A 確認済み"]
    assert names("/admin/organisations?status=all&kind=npo") == ["C 新しい申請"]
    assert names("/admin/organisations?status=all&q=古い") == ["B 古い申請"]
    assert names(f"/admin/organisations?status=all&q={NTA[:6]}") == ["B 古い申請"]
    assert names("/admin/organisations?status=all&q=%25") == []  # LIKE wildcards are literal
    assert names("/admin/organisations?status=bogus") == ["B 古い申請", "C 新しい申請"]
    assert "登録者" in client.get("/admin/organisations").text
    assert verified.id and newer.id


def test_public_list_shows_verified_organisations_by_kind_and_page(
    client: TestClient[Litestar], session: Session
) -> None:
    owner = create_user(session, "owner@example.jp")
    for index in range(25):
        make_org(session, owner, verified=True, number=None, name=f"企業{index:02d}")
    make_org(session, owner, verified=True, number=None, name="大学A", kind=OrganisationKind.UNIVERSITY)
    make_org(session, owner, verified=False, number=None, name="未確認の大学", kind=OrganisationKind.UNIVERSITY)
    first = client.get("/organisations").text
    assert "26件の組織" in first and first.count('class="card"') == 20 and 'rel="next"' in first
    assert "企業00" in first and "大学A" not in first  # by name: 企業 sorts before 大学
    second = client.get("/organisations?page=2").text
    assert second.count('class="card"') == 6 and "大学A" in second
    universities = client.get("/organisations?kind=university").text
    assert "大学A" in universities and "未確認の大学" not in universities and "企業00" not in universities
    assert "企業07" in client.get("/organisations?q=企業07").text
    assert client.get("/organisations?q=該当なし").text.count('class="card"') == 0
    assert 'id="no-organisations"' in client.get("/organisations?q=該当なし").text
    english = client.get("/organisations?lang=en&kind=university").text
    assert "University or research institute" in english and "Verified by the ward" in english


def test_public_list_query_count_does_not_grow(
    client: TestClient[Litestar], session: Session, query_log: QueryLog
) -> None:
    owner = create_user(session, "owner@example.jp")
    make_org(session, owner, verified=True, number=None, name="最初の組織")
    client.get("/organisations")
    query_log.statements.clear()
    client.get("/organisations")
    with_one = query_log.count
    for index in range(29):
        make_org(session, owner, verified=True, number=None, name=f"組織{index:02d}")
    query_log.statements.clear()
    page = client.get("/organisations")
    assert page.text.count('class="card"') == 20
    assert query_log.count == with_one, str(query_log)
    assert query_log.count <= 3, str(query_log)


def test_my_organisations_lists_only_mine(client: TestClient[Litestar], session: Session) -> None:
    hanako = create_user(session, "hanako@example.jp")
    other = create_user(session, "other@example.jp")
    make_org(session, hanako, number=None, name="はなこの会社")
    make_org(session, other, number=None, name="他人の会社", members=(hanako,))
    make_org(session, other, number=None, name="無関係の会社")
    sign_in(client, hanako)
    page = client.get("/account/organisations").text
    assert "はなこの会社" in page and "他人の会社" in page and "無関係の会社" not in page
    assert "あなたは管理者です。" in page and "あなたはメンバーです。" in page
    switch_to(client, create_user(session, "new@example.jp"))
    assert 'id="no-organisations"' in client.get("/account/organisations").text


def test_services_check_the_actor_whatever_the_route(session: Session, settings: Settings) -> None:
    admin = create_user(session, "admin@example.jp")
    member = create_user(session, "member@example.jp")
    organisation = make_org(session, admin, members=(member,))
    assert organisation.id is not None
    anonymous = Principal.anonymous()
    with pytest.raises(Exception) as anon:
        organisations.create(session, anonymous, organisations.OrganisationForm(**org_form()))
    assert anon.value.status_code == 401  # type: ignore[attr-defined]
    for call in (
        lambda: organisations.update(session, principal(session, member), organisation.id,
                                     organisations.OrganisationForm(**org_form())),
        lambda: organisations.invite(session, settings, principal(session, member), organisation.id, "x@example.jp"),
        lambda: organisations.set_admin(session, principal(session, member), organisation.id, member.id, True),
        lambda: organisations.remove_member(session, principal(session, member), organisation.id, admin.id),
        lambda: organisations.pending_invitations(session, principal(session, member), organisation.id),
        lambda: organisations.admin_list(session, principal(session, admin)),
        lambda: organisations.unverify(session, settings, principal(session, admin), organisation.id,
                                       organisations.UnverifyForm(note="x")),
    ):
        with pytest.raises(Forbidden):
            call()
    assert count(session, AuditEntry) == 0 and count(session, OrganisationInvitation) == 0
