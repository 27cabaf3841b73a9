"""Demo content of the core: the ward's departments (from the policy documents in shared/seeds) and
one account per role, all with the same known password (listed in docs/demo-accounts.md).

Idempotent: what exists already is left exactly as it is. Never in production: demo accounts with a
published password there would be an open door.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from cocreate.accounts import consents, passwords
from cocreate.accounts.corporate_number import check_digit
from cocreate.accounts.models import (
    Department,
    Organisation,
    OrganisationKind,
    OrganisationMember,
    Role,
    RoleAssignment,
    User,
)
from cocreate.db.base import utcnow
from cocreate.settings import Settings

# code, 部, 課, division, section
DEPARTMENTS = [
    (
        "env-policy",
        "資源環境部",
        "環境政策課",
        "Resources and Environment Department",
        "Environmental Policy Section",
    ),
    (
        "smart-city",
        "政策経営部",
        "スマートシティ推進課",
        "Policy Management Department",
        "Smart City Promotion Section",
    ),
    (
        "industry",
        "産業経済部",
        "産業振興課",
        "Industry and Economy Department",
        "Industrial Promotion Section",
    ),
    ("transport", "都市整備部", "交通政策課", "Urban Development Department", "Transport Policy Section"),
    (
        "takashimadaira",
        "都市整備部",
        "高島平まちづくり推進課",
        "Urban Development Department",
        "Takashimadaira Regeneration Section",
    ),
    ("disaster", "危機管理室", "防災危機管理課", "Crisis Management Office", "Disaster Prevention Section"),
    ("dx", "政策経営部", "ＩＣＴ推進課", "Policy Management Department", "ICT Promotion Section"),
    ("facilities", "政策経営部", "施設経営課", "Policy Management Department", "Public Facilities Section"),
]


class DemoRefused(RuntimeError):
    """Demo content was asked for where it must not exist (production)."""


DEMO_PASSWORD = "cocreate-demo-2026"  # noqa: S105 - published on purpose, for demo sites only


@dataclass(frozen=True)
class DemoAccount:
    email: str
    display_name: str
    role: str  # what the account demonstrates, for the printed list and docs/demo-accounts.md
    roles: tuple[Role, ...] = ()
    department_code: str | None = None  # for the staff role
    verified_resident: bool = False
    organisation: str | None = None  # name of a demo organisation the account belongs to
    organisation_admin: bool = False


# name, kind, 法人番号 base (12 digits; the check digit is computed), verified, description
DEMO_ORGANISATIONS = [
    ("株式会社いたばしモビリティ（デモ）", OrganisationKind.COMPANY, "999901000001", True,
     "電動アシスト自転車や小型の電動モビリティのシェアリングを運営する、区内のモビリティ事業者です。"),
    ("合同会社たかしまだいらラボ（デモ）", OrganisationKind.STARTUP, None, False,
     "高島平の団地の一室から始まった、まちのデータを扱うスタートアップです。"),
    ("板橋サイネージ株式会社（デモ）", OrganisationKind.COMPANY, "999901000002", True,
     "駅やバス停、商業施設のデジタルサイネージの企画・設置・運用を行っています。"),
    ("東京北部大学 都市工学研究室（デモ）", OrganisationKind.UNIVERSITY, "999901000003", True,
     "都市交通とエネルギー、住民参加のまちづくりを研究しています。"),
    ("NPO法人 いたばし地域ネット（デモ）", OrganisationKind.NPO, "999901000004", True,
     "町会・自治会、商店街、外国人住民の支援団体をつなぐ地域の中間支援組織です。"),
    ("株式会社エコポリスエナジー（デモ）", OrganisationKind.COMPANY, "999901000005", True,
     "太陽光発電・蓄電池とエネルギーマネジメントシステムの導入を手がけています。"),
    ("株式会社みどりの音響デザイン（デモ）", OrganisationKind.STARTUP, "999901000006", True,
     "位置に合わせて音声が流れる、屋内外の音声ガイドを開発しているスタートアップです。"),
    ("いたばし北バス株式会社（デモ）", OrganisationKind.COMPANY, "999901000007", True,
     "区の北部で路線バスを運行しているバス事業者です。"),
]
COMPANY_ORG, STARTUP_ORG, SIGNAGE_ORG, UNIVERSITY_ORG, NPO_ORG, ENERGY_ORG, AUDIO_ORG, BUS_ORG = (
    row[0] for row in DEMO_ORGANISATIONS)

DEMO_ACCOUNTS = [
    DemoAccount("demo-admin@example.jp", "管理者（デモ）", "admin", roles=(Role.ADMIN,)),
    DemoAccount("demo-staff@example.jp", "環境政策課 職員（デモ）", "ward staff, 資源環境部 環境政策課",
                roles=(Role.STAFF,), department_code="env-policy"),
    DemoAccount("demo-staff-transport@example.jp", "交通政策課 職員（デモ）", "ward staff, 都市整備部 交通政策課",
                roles=(Role.STAFF,), department_code="transport"),
    DemoAccount("demo-staff-takashimadaira@example.jp", "高島平まちづくり推進課 職員（デモ）",
                "ward staff, 都市整備部 高島平まちづくり推進課", roles=(Role.STAFF,), department_code="takashimadaira"),
    DemoAccount("demo-reviewer@example.jp", "審査員（デモ）", "reviewer", roles=(Role.REVIEWER,)),
    DemoAccount("demo-reviewer2@example.jp", "外部審査員 山田 誠（デモ）", "reviewer (external expert)",
                roles=(Role.REVIEWER,)),
    DemoAccount("demo-coordinator@example.jp", "実証フィールド担当（デモ）", "field coordinator",
                roles=(Role.COORDINATOR,)),
    DemoAccount("demo-moderator@example.jp", "モデレーター（デモ）", "moderator", roles=(Role.MODERATOR,)),
    DemoAccount("demo-resident@example.jp", "板橋 花子（デモ）", "resident (verified, 区民確認済み)",
                verified_resident=True),
    DemoAccount("demo-resident2@example.jp", "高島 一郎（デモ）", "resident (verified)", verified_resident=True),
    DemoAccount("demo-resident3@example.jp", "志村 さくら（デモ）", "resident"),
    DemoAccount("demo-resident4@example.jp", "成増 健太（デモ）", "resident (verified)", verified_resident=True),
    DemoAccount("demo-resident5@example.jp", "大山 美咲（デモ）", "resident"),
    DemoAccount("demo-resident6@example.jp", "グエン・ミン（デモ）", "resident"),
    DemoAccount("demo-company@example.jp", "いたばしモビリティ 担当（デモ）",
                "organisation admin of a verified company", organisation=COMPANY_ORG, organisation_admin=True),
    DemoAccount("demo-startup@example.jp", "たかしまだいらラボ 担当（デモ）",
                "member of an unverified startup", organisation=STARTUP_ORG),
    DemoAccount("demo-signage@example.jp", "板橋サイネージ 担当（デモ）", "organisation admin (company)",
                organisation=SIGNAGE_ORG, organisation_admin=True),
    DemoAccount("demo-university@example.jp", "東京北部大学 研究室（デモ）", "organisation admin (university)",
                organisation=UNIVERSITY_ORG, organisation_admin=True),
    DemoAccount("demo-npo@example.jp", "いたばし地域ネット 事務局（デモ）", "organisation admin (NPO)",
                organisation=NPO_ORG, organisation_admin=True),
    DemoAccount("demo-energy@example.jp", "エコポリスエナジー 担当（デモ）", "organisation admin (company)",
                organisation=ENERGY_ORG, organisation_admin=True),
    DemoAccount("demo-audio@example.jp", "みどりの音響デザイン 担当（デモ）", "organisation admin (startup)",
                organisation=AUDIO_ORG, organisation_admin=True),
    DemoAccount("demo-bus@example.jp", "いたばし北バス 担当（デモ）", "organisation admin (bus operator)",
                organisation=BUS_ORG, organisation_admin=True),
]


def _load_accounts(session: Session, departments: dict[str, Department]) -> tuple[int, int]:
    emails = [account.email for account in DEMO_ACCOUNTS]
    users = {user.email: user for user in session.exec(select(User).where(User.email.in_(emails))).all()}  # type: ignore[union-attr]
    organisations = {org.name: org for org in session.exec(
        select(Organisation).where(Organisation.name.in_([row[0] for row in DEMO_ORGANISATIONS]))  # type: ignore[attr-defined]
    ).all()}
    now = utcnow()
    added = 0
    password_hash = None
    for account in DEMO_ACCOUNTS:
        if account.email in users:
            continue
        # One hash for every demo account: the password is published anyway, and argon2 takes a noticeable
        # fraction of a second per hash, which twenty accounts would add to every fresh demo.
        password_hash = password_hash or passwords.hash_password(DEMO_PASSWORD)
        user = User(email=account.email, display_name=account.display_name,
                    password_hash=password_hash, email_confirmed_at=now,
                    residency_verified_at=now if account.verified_resident else None,
                    residency_method="demo" if account.verified_resident else None)
        session.add(user)
        session.flush()
        users[account.email] = user
        added += 1
        consents.record(session, user, consents.current_versions(session))
        for role in account.roles:
            department = departments[account.department_code] if role is Role.STAFF and account.department_code else None
            session.add(RoleAssignment(user_id=user.id, role=role,  # type: ignore[arg-type]
                                       department_id=department.id if department else None))
        if account.organisation:
            organisation = organisations.get(account.organisation)
            if organisation is None:
                name, kind, base, verified, description = next(
                    row for row in DEMO_ORGANISATIONS if row[0] == account.organisation)
                admin = users.get(DEMO_ACCOUNTS[0].email)
                organisation = Organisation(
                    name=name, kind=kind, corporate_number=f"{check_digit(base)}{base}" if base else None,
                    address="東京都板橋区", created_by_id=user.id,
                    description=f"{description}（デモ用の架空の組織です。）", verified_at=now if verified else None,
                    verified_by_id=admin.id if verified and admin else None)
                session.add(organisation)
                session.flush()
                organisations[name] = organisation
            session.add(OrganisationMember(organisation_id=organisation.id, user_id=user.id,  # type: ignore[arg-type]
                                           is_admin=account.organisation_admin))
    session.flush()
    return added, len(DEMO_ACCOUNTS) - added


def accounts_summary() -> str:
    lines = [f"demo accounts (password for all: {DEMO_PASSWORD}):"]
    width = max(len(account.email) for account in DEMO_ACCOUNTS)
    lines += [f"  {account.email:{width}} {account.role}" for account in DEMO_ACCOUNTS]
    return "\n".join(lines)


def load(session: Session, settings: Settings) -> str:
    if settings.is_production:
        raise DemoRefused("refusing to load demo content: COCREATE_ENV is production")
    existing = set(session.exec(select(Department.code)).all())
    added = 0
    for code, division_ja, section_ja, division_en, section_en in DEPARTMENTS:
        if code in existing:
            continue
        session.add(
            Department(
                code=code,
                division_ja=division_ja,
                section_ja=section_ja,
                division_en=division_en,
                section_en=section_en,
            )
        )
        added += 1
    session.flush()
    by_code = {d.code: d for d in session.exec(select(Department)).all()}
    accounts_added, accounts_there = _load_accounts(session, by_code)
    return (f"{added} departments added, {len(existing)} already there; "
            f"{accounts_added} demo accounts added, {accounts_there} already there\n{accounts_summary()}")
