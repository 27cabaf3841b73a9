"""The permission helpers and the sign-in redirect, through the real middleware."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.accounts.models import Role
from cocreate.accounts.permissions import (
    Forbidden,
    Principal,
    SignInRequired,
    require_organisation_admin,
    require_role,
    require_verified_organisation,
)
from tests.factories import create_department, create_organisation, create_user

pytestmark = pytest.mark.databases("sqlite", why="permission checks are Python")


def test_principal_loads_roles_per_department(session: Session) -> None:
    env = create_department(session)
    other = create_department(session, "roads", division_ja="土木部", section_ja="計画課",
                              division_en="Civil Engineering", section_en="Planning")
    user = create_user(session, "staff@example.jp", roles=[(Role.STAFF, env.id), Role.REVIEWER])
    principal = Principal.load(session, user)
    assert principal.is_staff and principal.is_staff_of(env.id) and not principal.is_staff_of(other.id)
    assert principal.has_role(Role.REVIEWER) and not principal.is_admin
    require_role(principal, Role.REVIEWER, Role.ADMIN)
    with pytest.raises(Forbidden):
        require_role(principal, Role.ADMIN)
    with pytest.raises(SignInRequired):
        require_role(Principal.anonymous(), Role.ADMIN)


def test_organisation_checks(session: Session) -> None:
    admin = create_user(session, "admin@example.jp")
    member = create_user(session, "member@example.jp")
    outsider = create_user(session, "outsider@example.jp")
    org = create_organisation(session, admin=admin, members=[member])
    assert org.id is not None
    require_organisation_admin(session, Principal.load(session, admin), org.id)
    with pytest.raises(Forbidden):
        require_organisation_admin(session, Principal.load(session, member), org.id)
    with pytest.raises(Forbidden, match="区による組織の確認"):
        require_verified_organisation(session, Principal.load(session, member), org.id)
    org.verified_at = org.created_at
    session.add(org)
    session.commit()
    assert require_verified_organisation(session, Principal.load(session, member), org.id).id == org.id
    with pytest.raises(Forbidden):
        require_verified_organisation(session, Principal.load(session, outsider), org.id)


def test_blocked_user_is_signed_out_on_the_next_request(client: TestClient[Litestar], session: Session) -> None:
    from tests.factories import sign_in

    user = create_user(session, "hanako@example.jp", display_name="はなこ")
    sign_in(client, user)
    assert 'id="sign-out"' in client.get("/").text
    user.blocked_at = user.created_at
    session.add(user)
    session.commit()
    assert 'id="sign-in-link"' in client.get("/").text


def test_anonymous_page_needing_an_account_redirects_to_sign_in(fresh_app: Litestar) -> None:
    app = fresh_app
    from litestar import get, post

    from cocreate.accounts.permissions import signed_in
    from tests.helpers import csrf_token

    @get("/needs-account", guards=[signed_in], sync_to_thread=False)
    def needs_account() -> str:
        return "ok"

    @post("/needs-account-post", guards=[signed_in], sync_to_thread=False)
    def needs_account_post() -> str:
        return "ok"

    app.register(needs_account)
    app.register(needs_account_post)
    with TestClient(app, base_url="http://testserver.local") as client:
        response = client.get("/needs-account?x=1", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/account/sign-in?next=%2Fneeds-account%3Fx%3D1"
        posted = client.post("/needs-account-post", data={"_csrf_token": csrf_token(client)},
                             headers={"referer": "http://testserver.local/challenges/7?page=2"}, follow_redirects=False)
        assert posted.headers["location"] == "/account/sign-in?next=%2Fchallenges%2F7%3Fpage%3D2"
        foreign = client.post("/needs-account-post", data={"_csrf_token": csrf_token(client)},
                              headers={"referer": "https://evil.example/x"}, follow_redirects=False)
        assert foreign.headers["location"] == "/account/sign-in?next=%2F"
        api = client.get("/needs-account", headers={"accept": "application/json"})
        assert api.status_code == 401 and api.json()["detail"] == "続けるにはログインしてください。"
