"""Demo content of the core: the ward's departments (from the policy documents in shared/seeds) and
one account per role, all with the same known password (listed in docs/demo-accounts.md).

Everything is done through the services, as on a new site: the first administrator is made on the
command line (``cocreate create-admin``'s service) and agrees to the terms at their first sign-in; they
create the departments; everyone else registers, confirms their address with the link their
confirmation e-mail carries, and is given their roles by the administrator, who also checks the residents
whose residency is verified; each organisation is created by its first member (who becomes its
administrator) and verified by the administrator. All of it happened the day the site opened
(:data:`SITE_OPENED_DAY`, before anything of the other demos; the checks the day after), played with
:mod:`cocreate.demo_playback`; the e-mails it sent wait in the outbox.

One argon2 hash of the published password serves every account (the administrator's, reused): argon2
takes about a fifth of a second per hash, which twenty accounts would add to every fresh demo.

Idempotent: what exists already is left exactly as it is (departments by code, accounts by e-mail,
organisations by name). Never in production: demo accounts with a published password there would be
an open door.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from cocreate.accounts import admin as administration
from cocreate.accounts import consents, organisations, passwords, residency, services
from cocreate.accounts.corporate_number import check_digit
from cocreate.accounts.models import ConsentDocument, Department, Organisation, OrganisationKind, Role, User
from cocreate.accounts.permissions import Principal
from cocreate.db.base import utcnow
from cocreate.demo_playback import Playback, ward_time
from cocreate.i18n import WARD_TIMEZONE
from cocreate.mail import OutboundEmail
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
    DemoAccount("demo-desk@example.jp", "赤塚地域センター 窓口（デモ）", "support desk (代理入力)",
                roles=(Role.SUPPORT_DESK,)),
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
                "organisation admin of an unverified startup", organisation=STARTUP_ORG, organisation_admin=True),
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


ADMIN = DEMO_ACCOUNTS[0]
assert ADMIN.roles == (Role.ADMIN,)
assert all(a.organisation_admin for a in DEMO_ACCOUNTS if a.organisation), \
    "an organisation's creator is its administrator (and each demo organisation has one account)"
RESIDENCY_NOTE = "デモ用のアカウントです（住所は確認していません）。"
"""What the administrator notes when marking a demo resident verified (the staff page shows it)."""
CONFIRM_LINK = re.compile(r"/account/confirm/(\S+)")

SITE_OPENED_DAY = -420
"""Days from today: the site opened and its people joined, before anything of the other demos happened
(the labs demo's coordinator sets up the test fields 400 days ago)."""
EVERY = timedelta(minutes=10)
"""Between two people joining, that first day."""
CHECKED_AFTER = timedelta(days=1)
"""The administrator verifies organisations and residents the day after they joined."""


@dataclass
class Opening:
    """The day the site opened: who acts, and when each of them joins."""

    playback: Playback
    admin: Principal
    opened: datetime
    admin_added: bool
    password_hash: str | None
    """The demo password's hash, made once and given to every registration (see the module's docstring)."""

    @property
    def session(self) -> Session:
        return self.playback.session

    def hashed(self) -> str:
        if self.password_hash is None:
            self.password_hash = passwords.hash_password(DEMO_PASSWORD)
        return self.password_hash


def _principal(session: Session, user_id: int | None) -> Principal:
    """The account as a signed-in request sees it, with the roles it holds now."""
    assert user_id is not None
    principal = Principal.load_by_id(session, user_id)
    assert principal is not None
    return principal


def _the_administrator(playback: Playback, opened: datetime) -> Opening:
    """The demo administrator, made as a site's first administrator is (``cocreate create-admin``), who
    then agrees to the terms and the privacy policy at their first sign-in."""
    session = playback.session
    user = session.exec(select(User).where(User.email == ADMIN.email)).first()
    if user is not None:
        return Opening(playback, _principal(session, user.id), opened, admin_added=False, password_hash=None)
    created = playback.at(opened, lambda: administration.create_admin(session, ADMIN.email, ADMIN.display_name,
                                                                      DEMO_PASSWORD))
    admin = _principal(session, created.user.id)
    playback.at(opened + timedelta(minutes=5),
                lambda: consents.agree(session, admin, dict.fromkeys(ConsentDocument, True), {}))
    # Its fresh hash is the demo password's: every other account gets it too.
    return Opening(playback, admin, opened, admin_added=True, password_hash=created.user.password_hash)


def _load_departments(site: Opening) -> tuple[int, int]:
    """The administrator creates the ward's departments that are not there yet (by code)."""
    session = site.session
    existing = set(session.exec(select(Department.code)).all())
    added = 0
    for code, division_ja, section_ja, division_en, section_en in DEPARTMENTS:
        if code in existing:
            continue
        form = administration.DepartmentForm(code=code, division_ja=division_ja, section_ja=section_ja,
                                             division_en=division_en, section_en=section_en)
        site.playback.at(site.opened + timedelta(minutes=10 + added),
                         lambda form=form: administration.create_department(session, site.admin, form))
        added += 1
    return added, len(existing)


def _confirmation_token(session: Session, email: str) -> str:
    """The token of the link in the newest confirmation e-mail to ``email`` (what its owner clicks)."""
    bodies = session.exec(select(OutboundEmail.body_text).where(OutboundEmail.to_address == email)
                          .order_by(col(OutboundEmail.id).desc())).all()
    for body in bodies:
        if found := CONFIRM_LINK.search(body):
            return found.group(1)
    raise AssertionError(f"no confirmation e-mail to {email} in the outbox")


def _register(site: Opening, account: DemoAccount, when: datetime) -> Principal:
    """The person registers (agreeing to the terms and the privacy policy) and, a few minutes later,
    confirms their address with the link of the e-mail it sent."""
    session, playback = site.session, site.playback
    form = services.RegistrationForm(email=account.email, display_name=account.display_name,
                                     password=DEMO_PASSWORD, accept_terms=True, accept_privacy=True)
    password_hash = site.hashed()
    user = playback.at(when, lambda: services.register(session, playback.settings, form,
                                                       password_hash=password_hash))
    assert user is not None, f"{account.email} is registered already"
    token = _confirmation_token(session, account.email)
    playback.at(when + timedelta(minutes=3), lambda: services.confirm_email(session, token))
    return _principal(session, user.id)


def _add_organisation(site: Opening, member: Principal, name: str, when: datetime) -> None:
    """The member creates the organisation (becoming its administrator); the next day the ward's
    administrator checks its corporate number and verifies it."""
    session, playback = site.session, site.playback
    _name, kind, base, verified, description = next(row for row in DEMO_ORGANISATIONS if row[0] == name)
    form = organisations.OrganisationForm(
        name=name, kind=kind, corporate_number=f"{check_digit(base)}{base}" if base else "",
        address="東京都板橋区", description=f"{description}（デモ用の架空の組織です。）")
    organisation = playback.at(when, lambda: organisations.create(session, member, form))
    organisation_id = organisation.id
    assert organisation_id is not None
    if verified:
        playback.at(when + CHECKED_AFTER,
                    lambda: organisations.verify(session, playback.settings, site.admin, organisation_id))


def _add_account(site: Opening, account: DemoAccount, when: datetime, departments: dict[str, int | None],
                 organisations_there: set[str]) -> None:
    """The person registers and confirms their address; the administrator gives them their roles, and the
    next day checks their residency; they create their organisation if it is not there yet."""
    session, playback = site.session, site.playback
    person = _register(site, account, when)
    user_id = person.user_id
    assert user_id is not None
    for role in account.roles:
        grant = administration.GrantForm(
            role=role, department_id=departments[account.department_code] if account.department_code else None)
        playback.at(when + timedelta(minutes=5),
                    lambda grant=grant: administration.grant_role(session, site.admin, user_id, grant))
    if account.verified_resident:
        checked = residency.VerifyForm(note=RESIDENCY_NOTE)
        playback.at(when + CHECKED_AFTER, lambda: residency.mark_verified(session, site.admin, user_id, checked))
    if account.organisation and account.organisation not in organisations_there:
        _add_organisation(site, person, account.organisation, when + timedelta(minutes=5))
        organisations_there.add(account.organisation)


def _load_accounts(site: Opening) -> int:
    """The other demo accounts that are not there yet (by e-mail), with their roles, residency and
    organisations, each person joining a little after the one before; returns how many were added."""
    session = site.session
    emails = [account.email for account in DEMO_ACCOUNTS[1:]]
    there = set(session.exec(select(User.email).where(col(User.email).in_(emails))).all())
    departments = {d.code: d.id for d in session.exec(select(Department)).all()}
    organisations_there = set(session.exec(select(Organisation.name).where(
        col(Organisation.name).in_([row[0] for row in DEMO_ORGANISATIONS]))).all())
    added = 0
    for number, account in enumerate(DEMO_ACCOUNTS[1:], start=1):
        if account.email in there:
            continue
        when = site.opened + timedelta(hours=1) + number * EVERY
        _add_account(site, account, when, departments, organisations_there)
        added += 1
    return added


def accounts_summary() -> str:
    lines = [f"demo accounts (password for all: {DEMO_PASSWORD}):"]
    width = max(len(account.email) for account in DEMO_ACCOUNTS)
    lines += [f"  {account.email:{width}} {account.role}" for account in DEMO_ACCOUNTS]
    return "\n".join(lines)


def load(session: Session, settings: Settings) -> str:
    if settings.is_production:
        raise DemoRefused("refusing to load demo content: COCREATE_ENV is production")
    today = utcnow().astimezone(WARD_TIMEZONE).date()
    playback = Playback(session, settings)
    # The administrator comes first: they create the departments, and the staff roles need those.
    site = _the_administrator(playback, ward_time(today, SITE_OPENED_DAY, "09:00"))
    added, there = _load_departments(site)
    accounts_added = int(site.admin_added) + _load_accounts(site)
    return (f"{added} departments added, {there} already there; "
            f"{accounts_added} demo accounts added, {len(DEMO_ACCOUNTS) - accounts_added} already there\n"
            f"{accounts_summary()}")
