"""Ward administration through the real app: departments, users and roles, blocking, staff
invitations and the audit log viewer, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from markupsafe import escape
from sqlmodel import Session, col, func, select

from cocreate import audit
from cocreate.accounts import admin
from cocreate.accounts.models import (
    Department,
    Role,
    RoleAssignment,
    TokenPurpose,
    User,
    UserToken,
)
from cocreate.accounts.permissions import Forbidden, Principal, SignInRequired
from cocreate.audit.models import AuditEntry
from cocreate.db.base import utcnow
from cocreate.mail import OutboundEmail
from cocreate.settings import Settings
from tests.factories import PASSWORD, create_department, create_organisation, create_user, sign_in
from tests.helpers import count_queries, csrf_token

pytestmark = pytest.mark.databases("sqlite", why="admin pages and services; the rules are Python, the constraints they rely on are tested elsewhere")

BASE_URL = "http://127.0.0.1:8000"

UNUSABLE_IN_A_LINE = re.compile(r"[\x00-\x1f\x7f]")
"""Characters a single-line field refuses (control characters, tabs, line breaks)."""


# --- helpers -------------------------------------------------------------------------------------


def post(client: TestClient[Litestar], url: str, **data: object):  # type: ignore[no-untyped-def]
    return client.post(url, data={**data, "_csrf_token": csrf_token(client)}, follow_redirects=False)


def entries(session: Session, action: str | None = None) -> list[AuditEntry]:
    statement = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        statement = statement.where(AuditEntry.action == action)
    return list(session.exec(statement).all())


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def assert_chain_ok(session: Session) -> None:
    result = audit.verify(session)
    assert result.ok, result


def roles_of(session: Session, user_id: int) -> set[tuple[str, int | None]]:
    rows = session.exec(select(RoleAssignment.role, RoleAssignment.department_id)
                        .where(RoleAssignment.user_id == user_id)).all()
    return {(Role(role).value, department) for role, department in rows}


def fresh(session: Session, model: type, id_: int):  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.get(model, id_)


def last_email(session: Session, to: str) -> OutboundEmail:
    session.expire_all()
    email = session.exec(select(OutboundEmail).where(OutboundEmail.to_address == to)
                         .order_by(col(OutboundEmail.id).desc())).first()
    assert email is not None, f"no e-mail to {to}"
    return email


def link_path(email: OutboundEmail) -> str:
    match = re.search(r"http://\S+", email.body_text)
    assert match, email.body_text
    return match.group(0).removeprefix(BASE_URL)


@pytest.fixture
def admin_user(session: Session) -> User:
    return create_user(session, "admin@example.jp", display_name="管理者 太郎", roles=[Role.ADMIN])


@pytest.fixture
def as_admin(client: TestClient[Litestar], admin_user: User) -> TestClient[Litestar]:
    sign_in(client, admin_user)
    return client


@pytest.fixture
def env_policy(session: Session) -> Department:
    return create_department(session)


def department_form(**overrides: str) -> dict[str, str]:
    return {"code": "roads", "division_ja": "土木部", "section_ja": "計画課", "division_en": "Civil Engineering",
            "section_en": "Planning Section"} | overrides


# --- permissions ---------------------------------------------------------------------------------


def admin_pages(department: Department, user: User) -> list[str]:
    return ["/admin", "/admin/departments", "/admin/departments/new", f"/admin/departments/{department.id}/edit",
            "/admin/users", f"/admin/users/{user.id}", "/admin/users?q=a&role=staff&page=2", "/admin/staff/invite",
            "/admin/audit", "/admin/audit?action=role.granted"]


def admin_posts(department: Department, user: User) -> list[tuple[str, dict[str, object]]]:
    return [
        ("/admin/departments", department_form()),
        (f"/admin/departments/{department.id}/edit", department_form(code="changed")),
        (f"/admin/departments/{department.id}/delete", {}),
        (f"/admin/users/{user.id}/roles", {"role": "admin"}),
        (f"/admin/users/{user.id}/block", {"reason": "spam"}),
        (f"/admin/users/{user.id}/unblock", {}),
        (f"/admin/users/{user.id}/resend-invitation", {}),
        ("/admin/staff/invite", {"email": "new@example.jp", "display_name": "new",
                                 "department_id": str(department.id)}),
    ]


ROLE_CASES = ["anonymous", "resident", "staff", "reviewer", "coordinator", "moderator", "organisation_admin"]


@pytest.mark.parametrize("who", ROLE_CASES)
def test_admin_pages_and_forms_refuse_everyone_but_admins(
    client: TestClient[Litestar], session: Session, env_policy: Department, admin_user: User, who: str
) -> None:
    target = create_user(session, "target@example.jp")
    if who != "anonymous":
        roles = {"staff": [(Role.STAFF, env_policy.id)], "reviewer": [Role.REVIEWER],
                 "coordinator": [Role.COORDINATOR], "moderator": [Role.MODERATOR]}.get(who, [])
        user = create_user(session, f"{who}@example.jp", roles=roles)  # type: ignore[arg-type]
        if who == "organisation_admin":
            create_organisation(session, admin=user, verified=True)
        sign_in(client, user)
    for path in admin_pages(env_policy, target):
        response = client.get(path, follow_redirects=False)
        if who == "anonymous":
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/account/sign-in?next=%2Fadmin"), path
        else:
            assert response.status_code == 403, path
            assert "権限がありません" in response.text
    audit_before = count(session, AuditEntry)
    for path, data in admin_posts(env_policy, target):
        response = post(client, path, **data)
        assert response.status_code == (303 if who == "anonymous" else 403), path
        if who == "anonymous":
            assert response.headers["location"].startswith("/account/sign-in"), path
    session.expire_all()
    assert count(session, Department) == 1 and fresh(session, Department, env_policy.id).code == "env-policy"
    assert roles_of(session, target.id) == set() and fresh(session, User, target.id).blocked_at is None
    assert session.exec(select(User).where(User.email == "new@example.jp")).first() is None
    assert count(session, AuditEntry) == audit_before == 0


def test_admin_sees_every_page(as_admin: TestClient[Litestar], session: Session, env_policy: Department,
                               admin_user: User) -> None:
    target = create_user(session, "target@example.jp")
    for path in admin_pages(env_policy, target):
        response = as_admin.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        assert '<html lang="ja">' in response.text and 'id="admin-nav"' in response.text
    dashboard = as_admin.get("/admin").text
    for link in ("/admin/departments", "/admin/users", "/admin/organisations", "/admin/audit", "/admin/staff/invite"):
        assert f'href="{link}"' in dashboard
    assert as_admin.get("/admin/users/999999").status_code == 404
    assert as_admin.get("/admin/users/abc").status_code == 404
    assert as_admin.get("/admin/departments/999999/edit").status_code == 404
    assert as_admin.get("/admin/users?page=abc&role=nonsense").status_code == 200
    english = as_admin.get("/admin/users", params={"lang": "en"}).text
    assert '<html lang="en">' in english and "Users and roles" in english and "Administrator" in english


def test_services_check_the_actor_themselves(session: Session, env_policy: Department) -> None:
    moderator = Principal.load(session, create_user(session, "mod@example.jp", roles=[Role.MODERATOR]))
    target = create_user(session, "target@example.jp")
    form = admin.DepartmentForm(**department_form())
    calls = [
        lambda actor: admin.create_department(session, actor, form),
        lambda actor: admin.update_department(session, actor, env_policy.id, form),
        lambda actor: admin.delete_department(session, actor, env_policy.id),
        lambda actor: admin.grant_role(session, actor, target.id, admin.GrantForm(role="admin")),
        lambda actor: admin.block_user(session, actor, target.id, admin.BlockForm(reason="spam")),
        lambda actor: admin.search_users(session, actor),
        lambda actor: admin.audit_log(session, actor),
        lambda actor: admin.list_departments(session, actor),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call(moderator)
        with pytest.raises(SignInRequired):
            call(Principal.anonymous())
    session.expire_all()
    assert count(session, Department) == 1 and roles_of(session, target.id) == set()
    assert count(session, AuditEntry) == 0


# --- departments ---------------------------------------------------------------------------------


def test_department_create_edit_delete_are_audited(
    as_admin: TestClient[Litestar], session: Session, admin_user: User
) -> None:
    created = post(as_admin, "/admin/departments", **department_form(code=" roads "))
    assert created.status_code == 303 and created.headers["location"] == "/admin/departments"
    department = session.exec(select(Department)).one()
    assert (department.code, department.division_ja, department.section_en) == ("roads", "土木部", "Planning Section")
    listing = as_admin.get("/admin/departments").text
    assert "部署「土木部 計画課」を登録しました。" in listing and "<code>roads</code>" in listing

    edit = as_admin.get(f"/admin/departments/{department.id}/edit").text
    assert 'value="土木部"' in edit
    updated = post(as_admin, f"/admin/departments/{department.id}/edit",
                   **department_form(code="civil-planning", section_ja="都市計画課"))
    assert updated.status_code == 303
    department = fresh(session, Department, department.id)
    assert (department.code, department.section_ja) == ("civil-planning", "都市計画課")
    # Saving without a change records nothing.
    post(as_admin, f"/admin/departments/{department.id}/edit",
         **department_form(code="civil-planning", section_ja="都市計画課"))

    deleted = post(as_admin, f"/admin/departments/{department.id}/delete")
    assert deleted.status_code == 303
    assert count(session, Department) == 0

    log = entries(session)
    assert [e.action for e in log] == ["department.created", "department.updated", "department.deleted"]
    assert all(e.actor_id == admin_user.id and e.actor_label == "管理者 太郎" for e in log)
    assert json.loads(log[0].details_json)["code"] == "roads"
    assert json.loads(log[1].details_json)["changes"] == {"code": ["roads", "civil-planning"],
                                                           "section_ja": ["計画課", "都市計画課"]}
    assert log[2].target_id == str(department.id)
    assert_chain_ok(session)


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"code": ""}, "code", "部署コードを入力してください"),
    ({"code": "Roads"}, "code", "半角英小文字"),
    ({"code": "road works"}, "code", "半角英小文字"),
    ({"code": "-roads"}, "code", "半角英小文字"),
    ({"code": "roads-"}, "code", "半角英小文字"),
    ({"code": "道路"}, "code", "半角英小文字"),
    ({"code": "a" * 65}, "code", "半角英小文字"),
    ({"code": "env-policy"}, "code", "部署コード env-policy は、すでに別の部署で使われています"),
    ({"division_ja": "資源環境部", "section_ja": "環境政策課"}, "section_ja", "同じ部・課の部署がすでに登録されています"),
    ({"division_ja": ""}, "division_ja", "部の名称（日本語）を入力してください"),
    ({"section_ja": "   "}, "section_ja", "課の名称（日本語）を入力してください"),
    ({"division_en": ""}, "division_en", "部の名称（英語）を入力してください"),
    ({"section_en": ""}, "section_en", "課の名称（英語）を入力してください"),
    ({"division_ja": "部" * 101}, "division_ja", "100文字以内"),
    ({"section_en": "x" * 151}, "section_en", "150文字以内"),
    ({"section_ja": "計画\x00課"}, "section_ja", "使用できない文字"),
    ({"division_en": "Civil\nEngineering"}, "division_en", "使用できない文字"),
    ({"section_en": "x" * 200_000}, "section_en", "150文字以内"),
])
def test_department_validation(
    as_admin: TestClient[Litestar], session: Session, env_policy: Department, overrides: dict[str, str], field: str,
    message: str
) -> None:
    response = post(as_admin, "/admin/departments", **department_form(**overrides))
    assert response.status_code == 400
    assert message in response.text
    assert f'id="field-{field}" ' in response.text and 'aria-invalid="true"' in response.text
    assert count(session, Department) == 1 and count(session, AuditEntry) == 0
    # The same on edit: nothing changes.
    other = create_department(session, "other", division_ja="区民文化部", section_ja="文化・国際交流課",
                              division_en="Culture", section_en="Culture Section")
    edited = post(as_admin, f"/admin/departments/{other.id}/edit", **department_form(**overrides))
    assert edited.status_code == 400 and message in edited.text
    assert fresh(session, Department, other.id).code == "other" and count(session, AuditEntry) == 0


def test_department_code_duplicate_on_edit_and_fields_sent_twice(
    as_admin: TestClient[Litestar], session: Session, env_policy: Department
) -> None:
    other = create_department(session, "other", division_ja="区民文化部", section_ja="文化課",
                              division_en="Culture", section_en="Culture Section")
    response = post(as_admin, f"/admin/departments/{other.id}/edit",
                    **department_form(code="env-policy", division_ja="区民文化部", section_ja="文化課"))
    assert response.status_code == 400 and "すでに別の部署で使われています" in response.text
    # A field sent twice takes its first value instead of failing.
    twice = as_admin.post("/admin/departments", data={**department_form(), "code": ["roads", "other"],
                                                      "_csrf_token": csrf_token(as_admin)}, follow_redirects=False)
    assert twice.status_code == 303
    assert session.exec(select(Department.code).order_by(Department.code)).all() == ["env-policy", "other", "roads"]


def test_department_with_staff_is_not_deleted(
    as_admin: TestClient[Litestar], session: Session, env_policy: Department
) -> None:
    create_user(session, "staff@example.jp", roles=[(Role.STAFF, env_policy.id)])
    listing = as_admin.get("/admin/departments").text
    assert re.search(rf'id="department-{env_policy.id}".*?<td>1</td>', listing, re.S)
    response = post(as_admin, f"/admin/departments/{env_policy.id}/delete")
    assert response.status_code == 400
    assert "この部署には職員の権限が1件あるため、削除できません" in response.text
    assert count(session, Department) == 1 and count(session, AuditEntry) == 0
    assert as_admin.post("/admin/departments/999999/delete",
                         data={"_csrf_token": csrf_token(as_admin)}).status_code == 404


def test_hostile_department_names_are_stored_verbatim_and_escaped(
    as_admin: TestClient[Litestar], session: Session, xss_payloads: list[str]
) -> None:
    payloads = [p for p in xss_payloads if len(p) <= 100 and "\n" not in p and not UNUSABLE_IN_A_LINE.search(p)]
    for index, payload in enumerate(payloads):
        response = post(as_admin, "/admin/departments", **department_form(
            code=f"x{index}", division_ja=payload, section_ja=f"課{index}", division_en=payload[:150]))
        assert response.status_code == 303, (payload, response.text[:300])
    stored = dict(session.exec(select(Department.code, Department.division_ja)).all())
    assert [stored[f"x{i}"] for i in range(len(payloads))] == payloads
    listing = as_admin.get("/admin/departments").text
    for index, payload in enumerate(payloads):
        assert str(escape(payload)) in listing
        if str(escape(payload)) != payload:
            assert payload not in listing
        edit = as_admin.get(f"/admin/departments/{session.exec(select(Department.id).where(Department.code == f'x{index}')).one()}/edit").text
        assert payload not in edit or str(escape(payload)) == payload


# --- users list ----------------------------------------------------------------------------------


def test_users_search_filter_and_paginate(
    as_admin: TestClient[Litestar], session: Session, env_policy: Department
) -> None:
    create_user(session, "hanako@example.jp", display_name="板橋 花子")
    create_user(session, "taro@example.jp", display_name="Taro", roles=[(Role.STAFF, env_policy.id), Role.REVIEWER])
    create_user(session, "percent_100@example.jp", display_name="Percent")
    for number in range(25):
        create_user(session, f"bulk{number:02}@example.jp", display_name=f"bulk {number}")

    found = as_admin.get("/admin/users", params={"q": "花子"}).text
    assert "hanako@example.jp" in found and "taro@example.jp" not in found
    assert "該当するユーザー：1人" in found
    by_email = as_admin.get("/admin/users", params={"q": "TARO@"}).text
    assert "taro@example.jp" in by_email and "区職員（資源環境部 環境政策課）" in by_email and "審査員" in by_email
    # LIKE wildcards in the query are taken literally.
    literal = as_admin.get("/admin/users", params={"q": "%"}).text
    assert "該当するユーザー：0人" in literal
    underscore = as_admin.get("/admin/users", params={"q": "t_1"}).text
    assert "percent_100@example.jp" in underscore and "該当するユーザー：1人" in underscore
    staff = as_admin.get("/admin/users", params={"role": "staff"}).text
    assert "taro@example.jp" in staff and "該当するユーザー：1人" in staff
    admins = as_admin.get("/admin/users", params={"role": "admin"}).text
    assert "admin@example.jp" in admins and "該当するユーザー：1人" in admins

    first = as_admin.get("/admin/users").text
    assert "該当するユーザー：29人" in first and first.count('<tr id="user-') == 20
    assert 'href="/admin/users?page=2"' in first
    second = as_admin.get("/admin/users", params={"page": "2"}).text
    assert second.count('<tr id="user-') == 9
    assert as_admin.get("/admin/users", params={"page": "999"}).text.count('<tr id="user-') == 9
    filtered_pager = as_admin.get("/admin/users", params={"q": "bulk", "page": "1"}).text
    assert 'href="/admin/users?q=bulk&amp;page=2"' in filtered_pager
    huge = as_admin.get("/admin/users", params={"q": "x" * 10_000})
    assert huge.status_code == 200 and "該当するユーザー：0人" in huge.text


def test_hostile_search_and_names_are_escaped(
    as_admin: TestClient[Litestar], session: Session, xss_payloads: list[str]
) -> None:
    payload = "<script>alert(1)</script>"
    create_user(session, "evil@example.jp", display_name=payload)
    page = as_admin.get("/admin/users", params={"q": payload}).text
    assert payload not in page and str(escape(payload)) in page
    for hostile in xss_payloads[:10]:
        response = as_admin.get("/admin/users", params={"q": hostile})
        assert response.status_code == 200 and hostile not in response.text


def test_users_list_query_count_does_not_grow_with_users(
    as_admin: TestClient[Litestar], session: Session, env_policy: Department, app: Litestar
) -> None:
    def measure() -> int:
        with count_queries(app.state.database.engine) as log:
            response = as_admin.get("/admin/users")
        assert response.status_code == 200
        return log.count

    for number in range(3):
        create_user(session, f"few{number}@example.jp", roles=[(Role.STAFF, env_policy.id), Role.REVIEWER])
    few = measure()
    for number in range(30):
        create_user(session, f"many{number}@example.jp", roles=[(Role.STAFF, env_policy.id), Role.MODERATOR])
    many = measure()
    assert few == many, (few, many)


# --- roles ---------------------------------------------------------------------------------------


def test_grant_and_revoke_roles_are_audited(
    as_admin: TestClient[Litestar], session: Session, env_policy: Department, admin_user: User
) -> None:
    user = create_user(session, "hanako@example.jp", display_name="はなこ")
    url = f"/admin/users/{user.id}/roles"
    granted = post(as_admin, url, role="staff", department_id=str(env_policy.id))
    assert granted.status_code == 303 and granted.headers["location"] == f"/admin/users/{user.id}"
    assert "区職員の権限を付与しました" in as_admin.get(f"/admin/users/{user.id}").text
    assert post(as_admin, url, role="reviewer", department_id=str(env_policy.id)).status_code == 303
    assert roles_of(session, user.id) == {("staff", env_policy.id), ("reviewer", None)}

    duplicate_staff = post(as_admin, url, role="staff", department_id=str(env_policy.id))
    assert duplicate_staff.status_code == 400
    assert "このユーザーは、すでに資源環境部 環境政策課の区職員です。" in duplicate_staff.text
    duplicate_reviewer = post(as_admin, url, role="reviewer")  # NULL department: the database cannot catch it
    assert duplicate_reviewer.status_code == 400 and "すでに審査員の権限を持っています" in duplicate_reviewer.text
    no_department = post(as_admin, url, role="staff", department_id="")
    assert no_department.status_code == 400 and "職員の所属部署を選んでください" in no_department.text
    assert post(as_admin, url, role="staff", department_id="999999").status_code == 400
    assert post(as_admin, url, role="staff", department_id="abc").status_code == 400
    bad_role = post(as_admin, url, role="superuser")
    assert bad_role.status_code == 400 and "権限を選んでください" in bad_role.text
    assert post(as_admin, "/admin/users/999999/roles", role="reviewer").status_code == 404
    assert roles_of(session, user.id) == {("staff", env_policy.id), ("reviewer", None)}

    staff_assignment = session.exec(select(RoleAssignment).where(RoleAssignment.user_id == user.id,
                                                                 RoleAssignment.role == Role.STAFF)).one()
    other = create_user(session, "other@example.jp")
    # An assignment id under another user's address is not found.
    assert post(as_admin, f"/admin/users/{other.id}/roles/{staff_assignment.id}/revoke").status_code == 404
    revoked = post(as_admin, f"/admin/users/{user.id}/roles/{staff_assignment.id}/revoke")
    assert revoked.status_code == 303
    assert roles_of(session, user.id) == {("reviewer", None)}

    log = entries(session)
    assert [(e.action, e.target_id) for e in log] == [("role.granted", str(user.id)), ("role.granted", str(user.id)),
                                                      ("role.revoked", str(user.id))]
    assert json.loads(log[0].details_json) == {"role": "staff", "department_id": env_policy.id,
                                               "department_code": "env-policy"}
    assert json.loads(log[1].details_json) == {"role": "reviewer"}
    assert json.loads(log[2].details_json)["role"] == "staff"
    assert all(e.actor_id == admin_user.id for e in log)
    grant_row = session.exec(select(RoleAssignment).where(RoleAssignment.user_id == user.id)).one()
    assert grant_row.granted_by_id == admin_user.id
    assert_chain_ok(session)


def test_the_last_admin_keeps_the_admin_role(
    as_admin: TestClient[Litestar], session: Session, admin_user: User
) -> None:
    own = session.exec(select(RoleAssignment).where(RoleAssignment.user_id == admin_user.id)).one()
    refused = post(as_admin, f"/admin/users/{admin_user.id}/roles/{own.id}/revoke")
    assert refused.status_code == 400 and "最後のシステム管理者のため" in refused.text
    assert roles_of(session, admin_user.id) == {("admin", None)}

    # A blocked administrator does not count as one left.
    blocked = create_user(session, "blocked-admin@example.jp", roles=[Role.ADMIN])
    blocked.blocked_at = utcnow()
    session.add(blocked)
    session.commit()
    assert post(as_admin, f"/admin/users/{admin_user.id}/roles/{own.id}/revoke").status_code == 400
    assert count(session, AuditEntry) == 0

    # With another active administrator, one may step down; then the admin pages close to them.
    create_user(session, "second-admin@example.jp", roles=[Role.ADMIN])
    stepped_down = post(as_admin, f"/admin/users/{admin_user.id}/roles/{own.id}/revoke")
    assert stepped_down.status_code == 303
    assert roles_of(session, admin_user.id) == set()
    assert as_admin.get("/admin").status_code == 403
    assert [e.action for e in entries(session)] == ["role.revoked"]


def test_revoking_another_admin_while_two_remain(
    as_admin: TestClient[Litestar], session: Session, admin_user: User
) -> None:
    second = create_user(session, "second-admin@example.jp", roles=[Role.ADMIN])
    assignment = session.exec(select(RoleAssignment).where(RoleAssignment.user_id == second.id)).one()
    assert post(as_admin, f"/admin/users/{second.id}/roles/{assignment.id}/revoke").status_code == 303
    own = session.exec(select(RoleAssignment).where(RoleAssignment.user_id == admin_user.id)).one()
    assert post(as_admin, f"/admin/users/{admin_user.id}/roles/{own.id}/revoke").status_code == 400


# --- blocking ------------------------------------------------------------------------------------


def test_block_signs_the_user_out_and_unblock_lets_them_back(
    app: Litestar, as_admin: TestClient[Litestar], session: Session, admin_user: User
) -> None:
    resident = create_user(session, "hanako@example.jp", display_name="はなこ")
    epoch_before = resident.session_epoch
    with TestClient(app, base_url="http://testserver.local") as device:
        sign_in(device, resident)
        assert 'id="sign-out"' in device.get("/").text

        missing = post(as_admin, f"/admin/users/{resident.id}/block", reason="  ")
        assert missing.status_code == 400 and "利用停止の理由を入力してください" in missing.text
        too_long = post(as_admin, f"/admin/users/{resident.id}/block", reason="x" * 501)
        assert too_long.status_code == 400 and "500文字以内" in too_long.text
        assert fresh(session, User, resident.id).blocked_at is None

        reason = '<script>alert("spam")</script> 宣伝の連続投稿'
        blocked = post(as_admin, f"/admin/users/{resident.id}/block", reason=reason)
        assert blocked.status_code == 303
        user = fresh(session, User, resident.id)
        assert user.blocked_at is not None and user.blocked_reason == reason
        assert user.session_epoch == epoch_before + 1

        assert 'id="sign-in-link"' in device.get("/").text  # that session has ended
        refused = device.post("/account/sign-in", data={"email": "hanako@example.jp", "password": PASSWORD,
                                                        "_csrf_token": csrf_token(device)})
        assert refused.status_code == 400 and "このアカウントではログインできません" in refused.text

        page = as_admin.get(f"/admin/users/{resident.id}").text
        assert reason not in page and str(escape(reason)) in page and "利用停止中" in page
        again = post(as_admin, f"/admin/users/{resident.id}/block", reason="again")
        assert again.status_code == 400 and "すでに利用停止" in again.text

        assert post(as_admin, f"/admin/users/{resident.id}/unblock").status_code == 303
        user = fresh(session, User, resident.id)
        assert user.blocked_at is None and user.blocked_reason is None
        assert post(as_admin, f"/admin/users/{resident.id}/unblock").status_code == 400
        sign_in(device, resident)
        assert 'id="sign-out"' in device.get("/").text

    log = entries(session)
    assert [e.action for e in log] == ["user.blocked", "user.unblocked"]
    assert json.loads(log[0].details_json) == {"reason": reason}
    assert json.loads(log[1].details_json) == {"previous_reason": reason}
    assert_chain_ok(session)


def test_admin_cannot_block_themselves(as_admin: TestClient[Litestar], session: Session, admin_user: User) -> None:
    response = post(as_admin, f"/admin/users/{admin_user.id}/block", reason="oops")
    assert response.status_code == 400 and "ご自身のアカウントは利用停止にできません" in response.text
    assert fresh(session, User, admin_user.id).blocked_at is None
    assert as_admin.get("/admin").status_code == 200


# --- staff invitations ---------------------------------------------------------------------------


def test_staff_invitation_full_flow(
    app: Litestar, as_admin: TestClient[Litestar], session: Session, env_policy: Department, admin_user: User
) -> None:
    response = post(as_admin, "/admin/staff/invite", email=" Kankyo.Taro@City.Example.jp ", display_name="環境 太郎",
                    department_id=str(env_policy.id), extra_roles=["reviewer", "coordinator"])
    assert response.status_code == 303
    user = session.exec(select(User).where(User.email == "kankyo.taro@city.example.jp")).one()
    assert response.headers["location"] == f"/admin/users/{user.id}"
    assert user.password_hash is None and not user.is_confirmed and user.display_name == "環境 太郎"
    assert roles_of(session, user.id) == {("staff", env_policy.id), ("reviewer", None), ("coordinator", None)}
    user_page = as_admin.get(f"/admin/users/{user.id}").text
    assert "kankyo.taro@city.example.jp に招待を送信しました。" in user_page
    assert "招待中（パスワード未設定）" in user_page and 'id="field-invitation"' in user_page

    email = last_email(session, "kankyo.taro@city.example.jp")
    assert email.subject == "【コクリエ板橋】職員アカウントへのご招待"
    assert "環境 太郎 様" in email.body_text and "管理者 太郎 から" in email.body_text
    assert "資源環境部 環境政策課" in email.body_text and "審査員" in email.body_text
    assert "7日間" in email.body_text
    path = link_path(email)
    token = path.rsplit("/", 1)[1]
    assert path.startswith("/account/staff-invitation/")
    row = session.exec(select(UserToken).where(UserToken.user_id == user.id)).one()
    assert row.purpose == TokenPurpose.STAFF_INVITATION and token not in row.token_hash
    assert timedelta(days=6, hours=23) < row.expires_at - utcnow() <= timedelta(days=7)
    # An invited account cannot sign in before choosing a password.
    with TestClient(app, base_url="http://testserver.local") as invitee:
        early = invitee.post("/account/sign-in", data={"email": user.email, "password": "",
                                                       "_csrf_token": csrf_token(invitee)})
        assert early.status_code == 400

        form = invitee.get(path)
        assert form.status_code == 200 and "kankyo.taro@city.example.jp" in form.text
        assert "職員アカウントの設定" in form.text
        short = post(invitee, path, password="short", accept_terms="yes", accept_privacy="yes")
        assert short.status_code == 400 and "10文字以上" in short.text
        no_terms = post(invitee, path, password="a good staff password")
        assert no_terms.status_code == 400 and "利用規約への同意" in no_terms.text
        assert fresh(session, User, user.id).password_hash is None  # nothing changed, link still usable

        done = post(invitee, path, password="a good staff password", accept_terms="yes", accept_privacy="yes")
        assert done.status_code == 303 and done.headers["location"] == "/"
        home = invitee.get("/").text
        assert 'id="sign-out"' in home and "環境 太郎 さん、ようこそ" in home

        reused = invitee.get(path)
        assert reused.status_code == 400 and "この招待リンクは使用できません" in reused.text
        reposted = post(invitee, path, password="another password!", accept_terms="yes", accept_privacy="yes")
        assert reposted.status_code == 400 and "この招待リンクは使用できません" in reposted.text

    user = fresh(session, User, user.id)
    assert user.is_confirmed and user.password_hash and user.password_hash.startswith("$argon2id$")
    principal = Principal.load(session, user)
    assert principal.is_staff_of(env_policy.id) and principal.has_role(Role.REVIEWER)
    with TestClient(app, base_url="http://testserver.local") as later:
        sign_in(later, user.email or "", "a good staff password")

    actions = [(e.action, e.actor_id) for e in entries(session)]
    assert actions == [("role.granted", admin_user.id), ("role.granted", admin_user.id),
                       ("role.granted", admin_user.id), ("staff.invited", admin_user.id),
                       ("staff.invitation_accepted", user.id)]
    invited = json.loads(entries(session, "staff.invited")[0].details_json)
    assert invited == {"email": "kankyo.taro@city.example.jp", "department_code": "env-policy",
                       "roles": ["staff", "reviewer", "coordinator"], "account_created": True}
    assert_chain_ok(session)


def test_expired_invitation_link(
    client: TestClient[Litestar], session: Session, settings: Settings, env_policy: Department, admin_user: User
) -> None:
    result = admin.invite_staff(session, settings, Principal.load(session, admin_user),
                                admin.StaffInvitationForm(email="late@example.jp", display_name="遅刻 さん",
                                                          department_id=env_policy.id))
    path = link_path(last_email(session, "late@example.jp"))
    row = session.exec(select(UserToken).where(UserToken.user_id == result.user.id)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    page = client.get(path)
    assert page.status_code == 400 and "有効期限（7日間）" in page.text
    attempt = post(client, path, password="a good staff password", accept_terms="yes", accept_privacy="yes")
    assert attempt.status_code == 400 and "この招待リンクは使用できません" in attempt.text
    assert fresh(session, User, result.user.id).password_hash is None
    assert client.get("/account/staff-invitation/not-a-token").status_code == 400
    assert client.get("/account/staff-invitation/" + "x" * 300).status_code == 400


def test_resend_invitation_retires_the_old_link(
    as_admin: TestClient[Litestar], session: Session, env_policy: Department
) -> None:
    post(as_admin, "/admin/staff/invite", email="new@example.jp", display_name="新人", department_id=str(env_policy.id))
    user = session.exec(select(User).where(User.email == "new@example.jp")).one()
    old = link_path(last_email(session, "new@example.jp"))
    resent = post(as_admin, f"/admin/users/{user.id}/resend-invitation")
    assert resent.status_code == 303
    new = link_path(last_email(session, "new@example.jp"))
    assert new != old and count(session, OutboundEmail) == 2
    assert as_admin.get(old).status_code == 400
    assert as_admin.get(new).status_code == 200
    # Inviting the same address again also sends a fresh link (and adds no duplicate role).
    again = post(as_admin, "/admin/staff/invite", email="new@example.jp", display_name="新人",
                 department_id=str(env_policy.id))
    assert again.status_code == 303
    assert as_admin.get(new).status_code == 400
    assert roles_of(session, user.id) == {("staff", env_policy.id)}
    assert [e.action for e in entries(session)] == ["role.granted", "staff.invited", "staff.invitation_resent",
                                                    "staff.invited"]
    active = create_user(session, "active@example.jp")
    refused = post(as_admin, f"/admin/users/{active.id}/resend-invitation")
    assert refused.status_code == 400 and "招待の受付待ちではありません" in refused.text


def test_inviting_an_existing_account_grants_roles_and_tells_them(
    as_admin: TestClient[Litestar], session: Session, env_policy: Department
) -> None:
    resident = create_user(session, "hanako@example.jp", display_name="はなこ")
    response = post(as_admin, "/admin/staff/invite", email="HANAKO@example.jp", display_name="ignored",
                    department_id=str(env_policy.id), extra_roles="moderator")
    assert response.status_code == 303
    assert "すでにアカウントをお持ちのため" in as_admin.get(response.headers["location"]).text
    assert roles_of(session, resident.id) == {("staff", env_policy.id), ("moderator", None)}
    user = fresh(session, User, resident.id)
    assert user.display_name == "はなこ" and user.password_hash == resident.password_hash
    email = last_email(session, "hanako@example.jp")
    assert email.subject == "【コクリエ板橋】権限が追加されました"
    assert "モデレーター" in email.body_text and "資源環境部 環境政策課" in email.body_text
    assert "/account/staff-invitation/" not in email.body_text
    assert count(session, UserToken) == 0

    again = post(as_admin, "/admin/staff/invite", email="hanako@example.jp", display_name="はなこ",
                 department_id=str(env_policy.id))
    assert again.status_code == 400 and "すでにこれらの権限を持っています" in again.text
    assert count(session, OutboundEmail) == 1

    blocked = create_user(session, "blocked@example.jp")
    blocked.blocked_at = utcnow()
    session.add(blocked)
    session.commit()
    refused = post(as_admin, "/admin/staff/invite", email="blocked@example.jp", display_name="x",
                   department_id=str(env_policy.id))
    assert refused.status_code == 400 and "利用停止中です" in refused.text


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"email": ""}, "email", "メールアドレスを入力してください"),
    ({"email": "not-an-address"}, "email", "name@example.jp のような形式"),
    ({"email": "a" * 300 + "@example.jp"}, "email", "name@example.jp のような形式"),
    ({"display_name": ""}, "display_name", "表示名を入力してください"),
    ({"display_name": "あ" * 51}, "display_name", "50文字以内"),
    ({"department_id": ""}, "department_id", "職員の所属部署を選んでください"),
    ({"department_id": "999999"}, "department_id", "職員の所属部署を選んでください"),
    ({"department_id": "1; DROP TABLE user_account"}, "department_id", "職員の所属部署を選んでください"),
    ({"extra_roles": ["reviewer", "staff"]}, "extra_roles", "表示されている権限の中から選んでください"),
    ({"extra_roles": "root"}, "extra_roles", "表示されている権限の中から選んでください"),
])
def test_invitation_validation(
    as_admin: TestClient[Litestar], session: Session, env_policy: Department, form: dict[str, object], field: str,
    message: str
) -> None:
    data = {"email": "new@example.jp", "display_name": "新人", "department_id": str(env_policy.id)} | form
    response = post(as_admin, "/admin/staff/invite", **data)
    assert response.status_code == 400
    assert message in response.text and "field-" + field in response.text
    assert count(session, User) == 1 and count(session, OutboundEmail) == 0 and count(session, AuditEntry) == 0


def test_hostile_invitation_names_are_escaped(
    as_admin: TestClient[Litestar], session: Session, env_policy: Department, xss_payloads: list[str]
) -> None:
    for index, payload in enumerate(xss_payloads[:12]):
        name = payload[:50]
        if UNUSABLE_IN_A_LINE.search(name) or not name.strip():
            continue
        response = post(as_admin, "/admin/staff/invite", email=f"x{index}@example.jp", display_name=name,
                        department_id=str(env_policy.id))
        assert response.status_code == 303, response.text[:300]
        user = session.exec(select(User).where(User.email == f"x{index}@example.jp")).one()
        assert user.display_name == name.strip()
        page = as_admin.get(f"/admin/users/{user.id}").text
        assert str(escape(user.display_name)) in page
        if str(escape(user.display_name)) != user.display_name:
            assert user.display_name not in page
        invitation = as_admin.get(link_path(last_email(session, f"x{index}@example.jp"))).text
        assert str(escape(user.display_name)) in invitation


# --- audit log -----------------------------------------------------------------------------------


def test_audit_log_page(as_admin: TestClient[Litestar], session: Session, admin_user: User) -> None:
    target = create_user(session, "target@example.jp")
    for index in range(55):
        audit.record(session, actor_id=admin_user.id, actor_label='<b>"evil"</b>' if index == 54 else "管理者 太郎",
                     action="role.granted" if index % 2 else "user.blocked", target_type="user",
                     target_id=str(target.id), details={"n": index, "note": "<script>x</script>"})
        session.commit()
    page = as_admin.get("/admin/audit").text
    assert "監査ログは改ざんされていません（全55件と、その連鎖を確認しました）。" in page
    ids = [int(i) for i in re.findall(r'<tr id="audit-entry-(\d+)"', page)]
    assert len(ids) == 50 and ids == sorted(ids, reverse=True)  # newest first, 50 a page
    assert "<b>" not in page and "&lt;b&gt;" in page and "<script>x</script>" not in page
    second = as_admin.get("/admin/audit", params={"page": "2"}).text
    assert len(re.findall(r'<tr id="audit-entry-', second)) == 5
    only_blocks = as_admin.get("/admin/audit", params={"action": "user.blocked"}).text
    assert "記録：28件（新しい順）" in only_blocks and "<code>role.granted</code>" not in only_blocks
    assert "記録：55件" in as_admin.get("/admin/audit", params={"action": "no.such_action"}).text

    # An entry that does not fit the chain (appends are allowed by the triggers, edits are not).
    last = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc())).first()
    assert last is not None
    session.add(AuditEntry(actor_id=None, actor_label="intruder", action="role.granted", target_type="user",
                           target_id="1", previous_hash=last.entry_hash, entry_hash="f" * 64))
    session.commit()
    broken = as_admin.get("/admin/audit").text
    assert 'data-ok="false"' in broken and "監査ログが改ざんされています" in broken


def test_audit_page_query_count_is_constant(as_admin: TestClient[Litestar], session: Session, app: Litestar,
                                            admin_user: User) -> None:
    def measure() -> int:
        with count_queries(app.state.database.engine) as log:
            assert as_admin.get("/admin/audit").status_code == 200
        return log.count

    audit.record(session, actor_id=admin_user.id, actor_label="a", action="user.blocked", target_type="user")
    session.commit()
    few = measure()
    for _ in range(30):
        audit.record(session, actor_id=admin_user.id, actor_label="a", action="user.blocked", target_type="user")
        session.commit()
    assert measure() == few
