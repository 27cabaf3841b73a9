"""Demo accounts: one per role, known password, idempotent, never in production; made through the
services (each row with what its service writes with it, at the same moment)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, func, select

from cocreate import audit, demo
from cocreate.accounts import corporate_number, passwords
from cocreate.accounts.models import (
    Consent,
    Department,
    Organisation,
    OrganisationMember,
    ResidencyRequest,
    ResidencyStatus,
    Role,
    RoleAssignment,
    TokenPurpose,
    User,
    UserToken,
)
from cocreate.accounts.permissions import Principal
from cocreate.mail import OutboundEmail
from cocreate.settings import Settings
from tests.cocreate.test_cli import ROOT, cli, cli_env, counts, ok, table_rows
from tests.factories import sign_in

pytestmark = pytest.mark.databases("sqlite", why="demo accounts are loaded through the services")

EMAILS = [account.email for account in demo.DEMO_ACCOUNTS]


def by_email(session: Session) -> dict[str, User]:
    session.expire_all()
    return {user.email: user for user in session.exec(select(User)).all() if user.email}


def test_demo_creates_one_account_per_role(session: Session, settings: Settings) -> None:
    summary = demo.load(session, settings)
    session.commit()
    assert f"8 departments added, 0 already there; {len(EMAILS)} demo accounts added, 0 already there" in summary
    assert demo.DEMO_PASSWORD in summary and all(email in summary for email in EMAILS)

    users = by_email(session)
    assert set(users) == set(EMAILS)
    for user in users.values():
        assert user.is_confirmed and user.is_active
        assert passwords.verify_password(user.password_hash, demo.DEMO_PASSWORD)
        assert session.exec(select(func.count()).select_from(Consent).where(Consent.user_id == user.id)).one() == 2

    def principal(name: str) -> Principal:
        return Principal.load(session, users[f"demo-{name}@example.jp"])

    department_of = {d.code: d.id for d in session.exec(select(Department)).all()}
    assert principal("admin").is_admin
    assert principal("staff").is_staff_of(department_of["env-policy"]) and not principal("staff").is_admin
    assert principal("staff-transport").is_staff_of(department_of["transport"])
    assert principal("staff-takashimadaira").is_staff_of(department_of["takashimadaira"])
    assert not principal("staff").is_staff_of(department_of["transport"])
    assert principal("reviewer").has_role(Role.REVIEWER) and principal("reviewer2").has_role(Role.REVIEWER)
    assert principal("coordinator").has_role(Role.COORDINATOR)
    assert principal("moderator").has_role(Role.MODERATOR)
    residents = [a for a in demo.DEMO_ACCOUNTS if a.email.startswith("demo-resident")]
    assert len(residents) == 6
    for account in residents + [a for a in demo.DEMO_ACCOUNTS if a.organisation]:
        assert principal(account.email.removeprefix("demo-").removesuffix("@example.jp")).roles == frozenset()
        assert users[account.email].is_verified_resident is account.verified_resident
    assert users["demo-resident@example.jp"].is_verified_resident
    assert not users["demo-company@example.jp"].is_verified_resident

    organisations = {o.name: o for o in session.exec(select(Organisation)).all()}
    assert set(organisations) == {row[0] for row in demo.DEMO_ORGANISATIONS}
    for name, _kind, base, verified, _description in demo.DEMO_ORGANISATIONS:
        organisation = organisations[name]
        assert organisation.is_verified is verified and "デモ" in organisation.description
        if verified:
            assert organisation.verified_by_id == users["demo-admin@example.jp"].id
            assert organisation.corporate_number and corporate_number.is_valid(organisation.corporate_number)
            assert organisation.corporate_number.endswith(base)
    startup = organisations[demo.STARTUP_ORG]
    assert not startup.is_verified and startup.corporate_number is None
    members = {(m.organisation_id, m.user_id, m.is_admin) for m in session.exec(select(OrganisationMember)).all()}
    assert members == {(organisations[a.organisation].id, users[a.email].id, a.organisation_admin)
                       for a in demo.DEMO_ACCOUNTS if a.organisation}
    assert (organisations[demo.COMPANY_ORG].id, users["demo-company@example.jp"].id, True) in members
    assert (startup.id, users["demo-startup@example.jp"].id, True) in members  # its creator, so its administrator

    staff_department = session.get(Department, department_of["env-policy"])
    assert staff_department is not None
    assert (staff_department.division_ja, staff_department.section_ja) == ("資源環境部", "環境政策課")


def test_the_demo_accounts_went_through_the_services(session: Session, settings: Settings) -> None:
    """The administrator made on the command line, then everything else by the services the pages call:
    each department, role, residency check and organisation has its service's audit entry at the moment
    of its row; each account registered (its confirmation e-mail is in the outbox) and confirmed its
    address with that e-mail's link; the audit log's chain holds."""
    demo.load(session, settings)
    session.commit()
    users = by_email(session)
    admin = users[demo.ADMIN.email]
    entries = session.exec(select(audit.AuditEntry).order_by(audit.AuditEntry.id)).all()

    def logged(action: str, target_type: str, target_id: int | None) -> list[audit.AuditEntry]:
        return [e for e in entries if (e.action, e.target_type, e.target_id) == (action, target_type, str(target_id))]

    [made] = logged("user.created", "user", admin.id)
    assert made.actor_label == "cli" and made.created_at == admin.created_at
    assert admin.terms_version and admin.privacy_version  # agreed at the first sign-in

    for department in session.exec(select(Department)).all():
        [created] = logged("department.created", "department", department.id)
        assert created.actor_id == admin.id and created.created_at == department.created_at

    for account in demo.DEMO_ACCOUNTS[1:]:
        user = users[account.email]
        [link] = session.exec(select(UserToken).where(UserToken.user_id == user.id,
                                                      UserToken.purpose == TokenPurpose.CONFIRM_EMAIL)).all()
        assert link.created_at == user.created_at and link.used_at == user.email_confirmed_at
        mails = session.exec(select(OutboundEmail).where(OutboundEmail.to_address == account.email)).all()
        assert any("/account/confirm/" in m.body_text and m.created_at == user.created_at for m in mails)

    for assignment in session.exec(select(RoleAssignment)).all():
        granted = [e for e in logged("role.granted", "user", assignment.user_id)
                   if json.loads(e.details_json)["role"] == Role(assignment.role).value]
        assert [e.created_at for e in granted] == [assignment.created_at]
        by_cli = assignment.user_id == admin.id
        assert granted[0].actor_id == assignment.granted_by_id == (None if by_cli else admin.id)

    for account in demo.DEMO_ACCOUNTS:
        user = users[account.email]
        checked = logged("residency.verified", "user", user.id)
        assert [e.created_at for e in checked] == ([user.residency_verified_at] if account.verified_resident else [])
        if account.verified_resident:
            assert checked[0].actor_id == admin.id and user.residency_method == "staff_check"
            request = session.exec(select(ResidencyRequest).where(ResidencyRequest.user_id == user.id)).one()
            assert request.status is ResidencyStatus.VERIFIED and request.decided_by_id == admin.id

    for organisation in session.exec(select(Organisation)).all():
        [created] = logged("organisation.created", "organisation", organisation.id)
        assert created.actor_id == organisation.created_by_id and created.created_at == organisation.created_at
        verified = logged("organisation.verified", "organisation", organisation.id)
        assert [e.created_at for e in verified] == ([organisation.verified_at] if organisation.is_verified else [])
        if organisation.is_verified:  # its administrator was told
            creator = session.get(User, organisation.created_by_id)
            assert creator is not None
            assert session.exec(select(OutboundEmail).where(OutboundEmail.to_address == creator.email,
                                                            OutboundEmail.created_at == organisation.verified_at)).one()
    assert audit.verify(session).ok


def test_demo_twice_changes_nothing(session: Session, settings: Settings) -> None:
    demo.load(session, settings)
    session.commit()
    before = {table: session.exec(select(func.count()).select_from(model)).one()
              for table, model in (("user", User), ("role", RoleAssignment), ("org", Organisation),
                                   ("member", OrganisationMember), ("consent", Consent))}
    hashes = {u.email: (u.password_hash, u.updated_at) for u in by_email(session).values()}
    summary = demo.load(session, settings)
    session.commit()
    assert f"0 demo accounts added, {len(EMAILS)} already there" in summary
    after = {table: session.exec(select(func.count()).select_from(model)).one()
             for table, model in (("user", User), ("role", RoleAssignment), ("org", Organisation),
                                  ("member", OrganisationMember), ("consent", Consent))}
    assert after == before == {"user": 23, "role": 9, "org": 8, "member": 8, "consent": 46}
    assert {u.email: (u.password_hash, u.updated_at) for u in by_email(session).values()} == hashes


def test_demo_accounts_sign_in_and_reach_their_pages(client: TestClient[Litestar], session: Session,
                                                     settings: Settings) -> None:
    demo.load(session, settings)
    session.commit()
    for email in EMAILS:
        sign_in(client, email, demo.DEMO_PASSWORD)
        expected = 200 if email == "demo-admin@example.jp" else 403
        assert client.get("/admin/users").status_code == expected, email
        client.post("/account/sign-out", data={"_csrf_token": client.cookies["cocreate_csrf"]})


def test_demo_refuses_production_in_the_service(session: Session, settings: Settings) -> None:
    production = Settings(env="production", data_dir=settings.data_dir, database_url=settings.database_url,
                          secret_key="a-production-secret-key-0123456789")
    assert production.is_production
    with pytest.raises(demo.DemoRefused, match="production"):
        demo.load(session, production)
    session.rollback()
    assert session.exec(select(func.count()).select_from(User)).one() == 0


def test_demo_command_prints_accounts_is_idempotent_and_refused_in_production(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    migrated = tmp_path_factory.mktemp("demo-accounts") / "data"
    ok(cli(cli_env(migrated), "db", "upgrade"))

    production_dir = tmp_path / "production"
    shutil.copytree(migrated, production_dir)
    refused = cli(cli_env(production_dir, COCREATE_ENV="production",
                          COCREATE_SECRET_KEY="a-production-secret-key-0123456789"), "demo")
    assert refused.returncode != 0 and "refusing to load demo content: COCREATE_ENV is production" in refused.stderr
    assert demo.DEMO_PASSWORD not in refused.stdout
    assert counts(production_dir)["user_account"] == 0

    loaded = cli(cli_env(migrated), "demo")
    output = ok(loaded)
    # Quiet: one line per component (and the accounts), nothing on stderr, no traceback of a task sent nowhere.
    assert loaded.stderr == "", loaded.stderr
    assert "Traceback" not in output
    summaries = [line for line in output.splitlines() if not line.startswith(" ")]
    assert [line.split(":")[0] for line in summaries] == ["core", "demo accounts (password for all", "proposals",
                                                          "labs", "search", "open data"], output
    assert f"{len(EMAILS)} demo accounts added, 0 already there" in output
    assert f"password for all: {demo.DEMO_PASSWORD}" in output
    for account in demo.DEMO_ACCOUNTS:
        assert account.email in output
    before = table_rows(migrated)
    second = cli(cli_env(migrated), "demo")
    again = ok(second)
    assert second.stderr == "", second.stderr
    assert f"0 demo accounts added, {len(EMAILS)} already there" in again and demo.DEMO_PASSWORD in again
    assert table_rows(migrated) == before


def test_docs_list_every_demo_account() -> None:
    text = (ROOT / "docs" / "demo-accounts.md").read_text(encoding="utf-8")
    assert demo.DEMO_PASSWORD in text
    for account in demo.DEMO_ACCOUNTS:
        assert f"`{account.email}`" in text, account.email
