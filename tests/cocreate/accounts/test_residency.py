"""Residency verification (区民確認): codes by post, staff checks, rejection and revocation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, col, select

from cocreate import permissions
from cocreate.accounts import residency
from cocreate.accounts.models import ResidencyRequest, ResidencyStatus, Role, User
from cocreate.accounts.permissions import Forbidden, Principal, SignInRequired
from cocreate.audit import AuditEntry
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from tests.cocreate.accounts.self_service_helpers import (
    emails_to,
    parse_csv,
    post,
    signed_in_client,
    staff_user,
)
from tests.factories import create_department, create_user
from tests.helpers import count_queries

pytestmark = pytest.mark.databases("sqlite", why="residency verification rules are Python")

ADDRESS = {"full_name": "板橋 花子", "postal_code": "173-0004", "address": "板橋区板橋二丁目1番1号 101号室"}


@pytest.fixture
def resident(session: Session) -> User:
    return create_user(session, "hanako@example.jp", display_name="はなこ")


@pytest.fixture
def resident_client(app: Litestar, resident: User) -> TestClient[Litestar]:
    return signed_in_client(app, resident)


@pytest.fixture
def staff(session: Session) -> User:
    return staff_user(session)


@pytest.fixture
def staff_client(app: Litestar, staff: User) -> TestClient[Litestar]:
    return signed_in_client(app, staff)


def requests_of(session: Session, user: User) -> list[ResidencyRequest]:
    session.expire_all()
    return list(session.exec(select(ResidencyRequest).where(ResidencyRequest.user_id == user.id)
                             .order_by(col(ResidencyRequest.id))).all())


def reload(session: Session, user: User) -> User:
    session.expire_all()
    fresh = session.get(User, user.id)
    assert fresh is not None
    return fresh


def ask_for_code(client: TestClient[Litestar], **overrides: str) -> object:
    return post(client, "/account/residency/request", ADDRESS | overrides)


def generate(staff_client: TestClient[Litestar], *request_ids: int, scope: str = "selected") -> dict[int, list[str]]:
    """Generate codes through the staff page; returns the CSV rows by request id."""
    response = post(staff_client, "/staff/residency/codes", {"scope": scope, "request_id": [str(i) for i in request_ids]})
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "text/csv; charset=utf-8"  # declared once
    assert response.headers["content-disposition"].startswith('attachment; filename="residency-codes-')
    rows = parse_csv(response.content)
    assert rows[0] == ["申請番号", "氏名", "郵便番号", "住所", "確認コード", "有効期限"]
    return {int(row[0]): row for row in rows[1:]}


def enter_code(client: TestClient[Litestar], code: str) -> object:
    return post(client, "/account/residency/code", {"code": code})


def audit_actions(session: Session) -> list[str]:
    return list(session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))).all())


# --- who may ------------------------------------------------------------------------------------


STAFF_PATHS = ["/staff/residency", "/staff/residency/users/1", "/staff/residency/find?email=a@example.jp"]


@pytest.mark.parametrize("path", STAFF_PATHS)
def test_anonymous_visitors_of_staff_pages_are_sent_to_sign_in(client: TestClient[Litestar], path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in?next=")


@pytest.mark.parametrize("role", [None, Role.REVIEWER, Role.COORDINATOR, Role.MODERATOR])
def test_residents_and_other_roles_cannot_reach_staff_pages(
    app: Litestar, session: Session, resident: User, role: Role | None
) -> None:
    user = create_user(session, "other@example.jp", roles=[role] if role else [])
    client = signed_in_client(app, user)
    for path in [*STAFF_PATHS, f"/staff/residency/users/{resident.id}"]:
        assert client.get(path).status_code == 403, path
    for path in ["/staff/residency/codes", f"/staff/residency/users/{resident.id}/verify",
                 f"/staff/residency/users/{resident.id}/reject", f"/staff/residency/users/{resident.id}/revoke"]:
        assert post(client, path, {"scope": "all", "note": "x", "reason": "x"}).status_code == 403, path
    assert not reload(session, resident).is_verified_resident


def test_staff_of_any_department_and_admins_reach_staff_pages(app: Litestar, session: Session) -> None:
    roads = create_department(session, "roads", division_ja="土木部", section_ja="計画課",
                              division_en="Civil Engineering", section_en="Planning")
    staff = create_user(session, "roads@example.jp", roles=[(Role.STAFF, roads.id)])  # type: ignore[list-item]
    admin = create_user(session, "admin@example.jp", roles=[Role.ADMIN])
    for user in (staff, admin):
        assert signed_in_client(app, user).get("/staff/residency").status_code == 200


def test_who_counts_as_residency_staff(session: Session) -> None:
    department = create_department(session)
    cases = [
        (create_user(session, "s@example.jp", roles=[(Role.STAFF, department.id)]), True),  # type: ignore[list-item]
        (create_user(session, "a@example.jp", roles=[Role.ADMIN]), True),
        (create_user(session, "m@example.jp", roles=[Role.MODERATOR, Role.REVIEWER]), False),
        (create_user(session, "r@example.jp"), False),
    ]
    for user, expected in cases:
        assert bool(permissions.can(Principal.load(session, user), "residency.manage")) is expected
    assert not permissions.can(Principal.anonymous(), "residency.manage")
    with pytest.raises(SignInRequired):
        residency.pending_requests(session, Principal.anonymous(), "", 1, 20)
    with pytest.raises(Forbidden):
        residency.issue_codes(session, Principal.load(session, create_user(session, "x@example.jp")), None)


def test_methods_are_registered_by_name() -> None:
    assert isinstance(residency.get_method("postal_code"), residency.PostalCodeMethod)
    assert isinstance(residency.get_method("staff_check"), residency.StaffCheckMethod)
    assert all(isinstance(method, residency.ResidencyMethod) for method in residency.METHODS.values())
    assert residency.get_method("my_number") is None and residency.method_label("my_number") == "my_number"

    class CounterCheck:
        name = "counter_test"
        resident_can_request = False
        label = "Counter"

    try:
        residency.register_method(CounterCheck())
        assert residency.method_label("counter_test") == "Counter"
    finally:
        residency.METHODS.pop("counter_test")


# --- asking for a code --------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("173-0004", "173-0004"), ("1730004", "173-0004"), ("〒１７３－０００４", "173-0004"),
    ("〒 175 ー 0082", "175-0082"), ("１７４‐００５１", "174-0051"), ("173-000", None), ("abc-defg", None),
    ("173-00045", None), ("", None), ("١٧٣٠٠٠٤", None),
])
def test_postal_codes_are_normalised(raw: str, expected: str | None) -> None:
    assert residency.normalise_postal_code(raw) == expected


def test_resident_asks_for_a_code(session: Session, resident: User, resident_client: TestClient[Litestar]) -> None:
    page = resident_client.get("/account/residency")
    assert "確認コードを郵送で申し込む" in page.text
    response = ask_for_code(resident_client, postal_code="〒１７３－０００４")
    assert response.status_code == 303 and response.headers["location"] == "/account/residency"
    [request] = requests_of(session, resident)
    assert request.status == ResidencyStatus.REQUESTED and request.method == "postal_code"
    assert (request.full_name, request.postal_code, request.address) == (
        "板橋 花子", "173-0004", "板橋区板橋二丁目1番1号 101号室")
    page = resident_client.get("/account/residency").text
    assert "申請を受け付けました" in page and "〒173-0004" in page and "この申請を取り消す" in page

    # One open request per user.
    again = ask_for_code(resident_client)
    assert again.status_code == 400 and "手続き中の申請があります" in again.text
    assert len(requests_of(session, resident)) == 1


@pytest.mark.parametrize(("field", "value", "message"), [
    ("full_name", "", "宛名（氏名）を入力してください"),
    ("full_name", "あ" * 101, "100文字以内"),
    ("full_name", "板橋\x00花子", "使用できない文字"),
    ("postal_code", "", "郵便番号を入力してください"),
    ("postal_code", "12-34", "7桁で入力してください"),
    ("postal_code", "100-0001", "板橋区内の郵便番号"),
    ("address", "", "建物名・部屋番号まで入力してください"),
    ("address", "あ" * 301, "300文字以内"),
    ("address", "板橋\n二丁目", "使用できない文字"),
])
def test_code_request_validation_errors_change_nothing(
    session: Session, resident: User, resident_client: TestClient[Litestar], field: str, value: str, message: str
) -> None:
    response = ask_for_code(resident_client, **{field: value})
    assert response.status_code == 400
    assert message in response.text and 'aria-invalid="true"' in response.text
    assert requests_of(session, resident) == []


def test_code_request_survives_huge_and_repeated_fields(
    session: Session, resident: User, resident_client: TestClient[Litestar]
) -> None:
    huge = ask_for_code(resident_client, full_name="x" * 200_000, address="y" * 200_000, postal_code="1" * 10_000)
    assert huge.status_code == 400 and requests_of(session, resident) == []
    repeated = post(resident_client, "/account/residency/request",
                    {"full_name": ["板橋 花子", "別人"], "postal_code": ["1730004", "x"], "address": [ADDRESS["address"]]})
    assert repeated.status_code == 303
    assert requests_of(session, resident)[0].full_name == "板橋 花子"


def test_hostile_address_is_stored_verbatim_and_shown_escaped(
    session: Session, resident: User, resident_client: TestClient[Litestar], staff_client: TestClient[Litestar],
    xss_payloads: list[str],
) -> None:
    payload = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    ask_for_code(resident_client, full_name=payload[:100], address=payload)
    [request] = requests_of(session, resident)
    assert request.full_name == payload[:100] and request.address == payload
    for page in (resident_client.get("/account/residency").text, staff_client.get("/staff/residency").text,
                 staff_client.get(f"/staff/residency/users/{resident.id}").text):
        assert payload not in page and "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for hostile in xss_payloads:
        line = hostile.replace("\n", " ").strip()[:300]
        if not line:
            continue
        post(resident_client, "/account/residency/cancel")
        assert ask_for_code(resident_client, address=line).status_code == 303, hostile
        assert requests_of(session, resident)[-1].address == line


def test_resident_cancels_and_the_address_is_erased(
    session: Session, resident: User, resident_client: TestClient[Litestar]
) -> None:
    assert post(resident_client, "/account/residency/cancel").status_code == 400  # nothing to cancel
    ask_for_code(resident_client)
    assert post(resident_client, "/account/residency/cancel").status_code == 303
    [request] = requests_of(session, resident)
    assert request.status == ResidencyStatus.CANCELLED
    assert (request.full_name, request.postal_code, request.address, request.code_hash) == ("", "", "", None)
    assert ask_for_code(resident_client).status_code == 303  # a new request is possible


# --- the code by post ----------------------------------------------------------------------------


@pytest.mark.committed("reads the stored code hash on a connection of its own")
def test_codes_by_post_work_exactly_once_and_are_stored_only_hashed(
    app: Litestar, session: Session, resident: User, resident_client: TestClient[Litestar],
    staff: User, staff_client: TestClient[Litestar],
) -> None:
    ask_for_code(resident_client)
    [request] = requests_of(session, resident)
    listing = staff_client.get("/staff/residency").text
    assert "板橋 花子" in listing and "〒173-0004" in listing and "コード発行待ち：1件" in listing

    rows = generate(staff_client, request.id)  # type: ignore[arg-type]
    row = rows[request.id]  # type: ignore[index]
    assert row[1:4] == ["板橋 花子", "173-0004", "板橋区板橋二丁目1番1号 101号室"]
    code = row[4]
    assert len(code) == 9 and code[4] == "-" and all(ch in residency.POSTAL_CODE.alphabet for ch in code.replace("-", ""))
    expected_last_day = (utcnow().astimezone(residency.WARD_TIMEZONE) + timedelta(days=60)).date().isoformat()
    assert row[5] == expected_last_day

    # Only the hash is in the database, in no column of any residency row.
    [request] = requests_of(session, resident)
    assert request.status == ResidencyStatus.CODE_ISSUED and request.issued_by_id == staff.id
    plain = code.replace("-", "")
    with app.state.database.engine.connect() as conn:
        for values in conn.execute(sa.text("SELECT * FROM residency_request")):
            assert not any(plain in str(value) or code in str(value) for value in values)
    assert request.code_hash == residency.POSTAL_CODE.code_hash(plain)

    page = resident_client.get("/account/residency").text
    assert "確認コードの入力" in page and 'autocomplete="one-time-code"' in page

    # Typed in lower case with full-width characters and spaces: still the code.
    typed = " " + plain[:4].lower() + "　" + plain[4:].translate(str.maketrans("ABCDEFGHJKLMNPQRSTUVWXYZ23456789",
                                                                           "ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＳＴＵＶＷＸＹＺ２３４５６７８９"))
    response = enter_code(resident_client, typed)
    assert response.status_code == 303
    user = reload(session, resident)
    assert user.is_verified_resident and user.residency_method == "postal_code"
    [request] = requests_of(session, resident)
    assert request.status == ResidencyStatus.VERIFIED and request.decided_at is not None
    assert (request.full_name, request.postal_code, request.address, request.code_hash) == ("", "", "", None)
    assert "区民確認が完了しています" in resident_client.get("/account/residency").text
    assert audit_actions(session) == ["residency.code_issued", "residency.code_redeemed"]
    redeemed = session.exec(select(AuditEntry).where(AuditEntry.action == "residency.code_redeemed")).one()
    assert redeemed.actor_id == resident.id and "はなこ" not in redeemed.actor_label

    # Exactly once: the code cannot be used again, not even by another account.
    assert enter_code(resident_client, code).status_code == 400
    other = create_user(session, "other@example.jp")
    other_client = signed_in_client(app, other)
    ask_for_code(other_client)
    failed = enter_code(other_client, code)
    assert failed.status_code == 400 and "確認コードはまだ発送されていません" in failed.text
    assert not reload(session, other).is_verified_resident


def test_wrong_codes_are_limited_to_five_and_a_new_code_resets(
    session: Session, resident: User, resident_client: TestClient[Litestar], staff_client: TestClient[Litestar]
) -> None:
    ask_for_code(resident_client)
    [request] = requests_of(session, resident)
    code = generate(staff_client, request.id)[request.id][4]  # type: ignore[arg-type, index]
    wrong = "ABCD-EFGH" if code != "ABCD-EFGH" else "HGFE-DCBA"
    # Malformed input does not use up a try.
    assert "英数字8文字" in enter_code(resident_client, "123").text
    assert "英数字8文字" in enter_code(resident_client, "ABCD-EFG0").text  # 0 is not in the alphabet
    assert "確認コードを入力してください" in enter_code(resident_client, " - ").text
    assert requests_of(session, resident)[0].code_attempts == 0
    for left in (4, 3, 2, 1):
        response = enter_code(resident_client, wrong)
        assert response.status_code == 400 and f"あと{left}回入力できます" in response.text
    last = enter_code(resident_client, wrong)
    assert "このコードは使用できなくなりました" in last.text
    refused = enter_code(resident_client, code)
    assert refused.status_code == 400 and "入力誤りが上限に達した" in refused.text
    assert requests_of(session, resident)[0].code_attempts == 5
    assert not reload(session, resident).is_verified_resident

    # Re-issued: the old code is dead, the new one works, and the tries start again.
    new_code = generate(staff_client, request.id)[request.id][4]  # type: ignore[arg-type, index]
    assert requests_of(session, resident)[0].code_attempts == 0
    if new_code != code:
        assert enter_code(resident_client, code).status_code == 400
    assert enter_code(resident_client, new_code).status_code == 303
    assert reload(session, resident).is_verified_resident


def test_expired_codes_are_refused_clearly(
    session: Session, resident: User, resident_client: TestClient[Litestar], staff_client: TestClient[Litestar]
) -> None:
    ask_for_code(resident_client)
    [request] = requests_of(session, resident)
    code = generate(staff_client, request.id)[request.id][4]  # type: ignore[arg-type, index]
    request.code_expires_at = utcnow() - timedelta(minutes=1)
    session.add(request)
    session.commit()
    response = enter_code(resident_client, code)
    assert response.status_code == 400 and "有効期限" in response.text and "新しいコードをお申し込みください" in response.text
    assert not reload(session, resident).is_verified_resident
    assert requests_of(session, resident)[0].code_attempts == 0
    assert "確認コードの有効期限が過ぎています" in resident_client.get("/account/residency").text


def test_generating_for_all_covers_only_requests_waiting_for_a_code(
    app: Litestar, session: Session, staff_client: TestClient[Litestar]
) -> None:
    users = [create_user(session, f"r{i}@example.jp") for i in range(3)]
    for user in users:
        ask_for_code(signed_in_client(app, user), full_name=f"区民 {user.id}")
    first = requests_of(session, users[0])[0]
    generate(staff_client, first.id)  # type: ignore[arg-type]
    rows = generate(staff_client, scope="all")
    assert sorted(rows) == sorted(requests_of(session, user)[0].id for user in users[1:])  # type: ignore[misc]
    nothing = post(staff_client, "/staff/residency/codes", {"scope": "all"})
    assert nothing.status_code == 400 and "発行できる手続き中の申請はありません" in nothing.text
    assert audit_actions(session).count("residency.code_issued") == 3


@pytest.mark.parametrize("ids", [[], ["abc"], ["1 OR 1=1"], ["-1"], ["99999"]])
def test_code_generation_rejects_bad_selections(staff_client: TestClient[Litestar], ids: list[str]) -> None:
    response = post(staff_client, "/staff/residency/codes", {"scope": "selected", "request_id": ids})
    assert response.status_code == 400
    assert "選択してください" in response.text or "発行できる手続き中の申請はありません" in response.text


def test_csv_cells_cannot_become_formulas(
    session: Session, resident: User, resident_client: TestClient[Litestar], staff_client: TestClient[Litestar]
) -> None:
    ask_for_code(resident_client, full_name='=HYPERLINK("http://evil")', address="+cmd|' /C calc'!A0")
    [request] = requests_of(session, resident)
    row = generate(staff_client, request.id)[request.id]  # type: ignore[arg-type, index]
    assert row[1] == "'=HYPERLINK(\"http://evil\")" and row[3] == "'+cmd|' /C calc'!A0"


# --- staff decisions -----------------------------------------------------------------------------


def test_staff_marks_a_resident_verified_after_checking_the_address(
    session: Session, resident: User, resident_client: TestClient[Litestar], staff: User,
    staff_client: TestClient[Litestar],
) -> None:
    ask_for_code(resident_client)
    found = staff_client.get("/staff/residency/find?email=HANAKO@example.jp", follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == f"/staff/residency/users/{resident.id}"
    page = staff_client.get(found.headers["location"]).text
    assert "板橋 花子" in page and "hanako@example.jp" in page and "区民確認済みにする" in page

    empty = post(staff_client, f"/staff/residency/users/{resident.id}/verify", {"note": "  "})
    assert empty.status_code == 400 and "確認した内容" in empty.text
    too_long = post(staff_client, f"/staff/residency/users/{resident.id}/verify", {"note": "あ" * 501})
    assert too_long.status_code == 400 and "500文字以内" in too_long.text
    assert not reload(session, resident).is_verified_resident

    done = post(staff_client, f"/staff/residency/users/{resident.id}/verify", {"note": "窓口で運転免許証を確認"})
    assert done.status_code == 303
    user = reload(session, resident)
    assert user.is_verified_resident and user.residency_method == "staff_check"
    [request] = requests_of(session, resident)
    assert request.status == ResidencyStatus.VERIFIED and request.method == "staff_check"
    assert request.decided_by_id == staff.id and request.note == "窓口で運転免許証を確認"
    assert (request.full_name, request.postal_code, request.address) == ("", "", "")
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "residency.verified")).one()
    assert entry.actor_id == staff.id and entry.target_id == str(resident.id)
    again = post(staff_client, f"/staff/residency/users/{resident.id}/verify", {"note": "二度目"})
    assert again.status_code == 400 and "すでに区民確認が済んでいます" in again.text


def test_staff_verify_without_a_request_and_never_themselves(
    session: Session, resident: User, staff: User, staff_client: TestClient[Litestar]
) -> None:
    assert post(staff_client, f"/staff/residency/users/{resident.id}/verify",
                {"note": "住民票の写しを確認"}).status_code == 303
    [request] = requests_of(session, resident)
    assert request.status == ResidencyStatus.VERIFIED and request.method == "staff_check"
    assert post(staff_client, f"/staff/residency/users/{staff.id}/verify", {"note": "自分"}).status_code == 403
    assert not reload(session, staff).is_verified_resident
    assert staff_client.get("/staff/residency/users/999999").status_code == 404
    assert post(staff_client, "/staff/residency/users/999999/verify", {"note": "x"}).status_code == 404


def test_staff_rejects_with_a_reason_the_resident_is_told(
    session: Session, resident: User, resident_client: TestClient[Litestar], staff_client: TestClient[Litestar]
) -> None:
    ask_for_code(resident_client)
    missing = post(staff_client, f"/staff/residency/users/{resident.id}/reject", {"reason": ""})
    assert missing.status_code == 400 and "理由を記入してください" in missing.text
    assert requests_of(session, resident)[0].status == ResidencyStatus.REQUESTED

    reason = "住所が区外のため <b>"
    assert post(staff_client, f"/staff/residency/users/{resident.id}/reject", {"reason": reason}).status_code == 303
    [request] = requests_of(session, resident)
    assert request.status == ResidencyStatus.REJECTED and request.note == reason
    assert (request.full_name, request.postal_code, request.address) == ("", "", "")
    [mail] = emails_to(session, "hanako@example.jp")
    assert mail.subject == "【コクリエ板橋】区民確認の申請について" and reason in mail.body_text
    page = resident_client.get("/account/residency").text
    assert "前回の申請は受け付けられませんでした" in page and "住所が区外のため &lt;b&gt;" in page
    assert "residency.rejected" in audit_actions(session)
    nothing = post(staff_client, f"/staff/residency/users/{resident.id}/reject", {"reason": "再度"})
    assert nothing.status_code == 400 and "手続き中の申請はありません" in nothing.text


def test_staff_revokes_a_verification(
    session: Session, resident: User, staff_client: TestClient[Litestar]
) -> None:
    not_yet = post(staff_client, f"/staff/residency/users/{resident.id}/revoke", {"revoke_reason": "転出"})
    assert not_yet.status_code == 400 and "区民確認が済んでいません" in not_yet.text
    post(staff_client, f"/staff/residency/users/{resident.id}/verify", {"note": "窓口で確認"})
    missing = post(staff_client, f"/staff/residency/users/{resident.id}/revoke", {"revoke_reason": ""})
    assert missing.status_code == 400 and reload(session, resident).is_verified_resident
    done = post(staff_client, f"/staff/residency/users/{resident.id}/revoke", {"revoke_reason": "区外へ転出"})
    assert done.status_code == 303
    user = reload(session, resident)
    assert not user.is_verified_resident and user.residency_method is None
    mail = emails_to(session, "hanako@example.jp")[-1]
    assert mail.subject == "【コクリエ板橋】区民確認の取り消しについて" and "区外へ転出" in mail.body_text
    assert audit_actions(session) == ["residency.verified", "residency.revoked"]


def test_find_reports_unknown_addresses(staff_client: TestClient[Litestar]) -> None:
    unknown = staff_client.get("/staff/residency/find?email=nobody@example.jp")
    assert unknown.status_code == 404 and "このメールアドレスのアカウントはありません" in unknown.text
    assert staff_client.get("/staff/residency/find?email=").status_code == 400
    assert staff_client.get("/staff/residency/find?email=" + "x" * 10_000).status_code == 404


def test_staff_list_filters_paginates_and_keeps_its_query_count(
    app: Litestar, session: Session, staff_client: TestClient[Litestar]
) -> None:
    def add_requests(count: int, start: int) -> None:
        for i in range(start, start + count):
            user = User(email=f"r{i}@example.jp", display_name=f"区民{i}", email_confirmed_at=utcnow())
            session.add(user)
            session.flush()
            session.add(ResidencyRequest(user_id=user.id, status=ResidencyStatus.REQUESTED, method="postal_code",  # type: ignore[arg-type]
                                         full_name=f"氏名{i}", postal_code="173-0004", address=f"板橋{i}"))
        session.commit()

    add_requests(3, 0)
    staff_client.get("/staff/residency")  # warm up
    with count_queries(app.state.database.engine) as few:
        assert staff_client.get("/staff/residency").status_code == 200
    add_requests(57, 3)
    with count_queries(app.state.database.engine) as many:
        page = staff_client.get("/staff/residency")
    assert few.count == many.count, str(many)
    assert page.text.count('name="request_id"') == 50 and 'rel="next"' in page.text
    second = staff_client.get("/staff/residency?page=2").text
    assert second.count('name="request_id"') == 10 and "区民59" in second
    assert staff_client.get("/staff/residency?page=abc").status_code == 200
    assert staff_client.get("/staff/residency?status=code_issued").text.count('name="request_id"') == 0
    assert staff_client.get("/staff/residency?status=<script>").status_code == 200


def test_services_refuse_bad_states(session: Session, resident: User) -> None:
    actor = Principal.load(session, resident)
    with pytest.raises(Invalid) as failed:
        residency.redeem_code(session, actor, "ABCD-EFGH")
    assert "code" in failed.value.errors
    residency.request_code(session, actor, residency.AddressForm(**ADDRESS))
    with pytest.raises(Invalid):
        residency.request_code(session, actor, residency.AddressForm(**ADDRESS))
    with pytest.raises(SignInRequired):
        residency.request_code(session, Principal.anonymous(), residency.AddressForm(**ADDRESS))
