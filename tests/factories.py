"""Builders for test data: real rows through the real models, and sign-in through the real form."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.accounts import consents, passwords
from cocreate.accounts.models import (
    Department,
    Organisation,
    OrganisationKind,
    OrganisationMember,
    Role,
    RoleAssignment,
    User,
)
from cocreate.accounts.permissions import Principal
from cocreate.db.base import utcnow
from tests.helpers import csrf_token

PASSWORD = "correct horse battery"


@cache
def _password_hash(password: str) -> str:
    return passwords.hash_password(password)  # argon2 is slow on purpose; hash each test password once


def create_user(
    session: Session,
    email: str,
    *,
    display_name: str | None = None,
    password: str = PASSWORD,
    confirmed: bool = True,
    roles: Iterable[Role | tuple[Role, int]] = (),
    locale: str = "ja",
    consented: bool = True,
) -> User:
    """A user (confirmed by default) holding ``roles``; staff roles are ``(Role.STAFF, department_id)``.

    Like everyone who registers, they have agreed to the published terms and privacy policy, unless
    ``consented`` is false (they are then sent to the agreement page on their first page view)."""
    user = User(email=email.lower(), display_name=display_name or email.split("@")[0],
                password_hash=_password_hash(password), locale=locale,
                email_confirmed_at=utcnow() if confirmed else None)
    session.add(user)
    session.flush()
    if consented:
        consents.record(session, user, consents.current_versions(session))
    for role in roles:
        role_name, department_id = role if isinstance(role, tuple) else (role, None)
        session.add(RoleAssignment(user_id=user.id, role=role_name, department_id=department_id))  # type: ignore[arg-type]
    session.commit()
    session.refresh(user)
    return user


def create_department(session: Session, code: str = "env-policy", *, division_ja: str = "資源環境部",
                      section_ja: str = "環境政策課", division_en: str = "Resources and Environment Department",
                      section_en: str = "Environmental Policy Section") -> Department:
    department = Department(code=code, division_ja=division_ja, section_ja=section_ja,
                            division_en=division_en, section_en=section_en)
    session.add(department)
    session.commit()
    session.refresh(department)
    return department


def create_organisation(session: Session, name: str = "板橋モビリティ株式会社", *, admin: User | None = None,
                        members: Iterable[User] = (), verified: bool = False,
                        kind: OrganisationKind = OrganisationKind.COMPANY,
                        corporate_number: str | None = None) -> Organisation:
    organisation = Organisation(name=name, kind=kind, corporate_number=corporate_number,
                                created_by_id=admin.id if admin else None,
                                verified_at=utcnow() if verified else None)
    session.add(organisation)
    session.flush()
    if admin is not None:
        session.add(OrganisationMember(organisation_id=organisation.id, user_id=admin.id, is_admin=True))  # type: ignore[arg-type]
    for member in members:
        session.add(OrganisationMember(organisation_id=organisation.id, user_id=member.id, is_admin=False))  # type: ignore[arg-type]
    session.commit()
    session.refresh(organisation)
    return organisation


def sign_in(client: TestClient[Litestar], user: User | str, password: str = PASSWORD) -> None:
    """Sign ``client`` in through the real form; fails the test if that does not work."""
    email = user if isinstance(user, str) else user.email
    response = client.post("/account/sign-in", data={"email": email, "password": password,
                                                     "_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert response.status_code == 303, response.text[:2000]
    # Follow the redirect as a browser does: the page shows (and so removes) the "signed in" message,
    # and the next request a test measures is an ordinary page view.
    client.get(response.headers["location"])


def create_challenge(session: Session, department: Department, *, phase: str = "published",
                     title: str = "清掃工場の余熱で、地域のエネルギーを地産地消したい",
                     summary: str = "余熱と太陽光を組み合わせたい。", co_owners: Iterable[Department] = (),
                     category: str = "environment_energy", area: str = "高島平") -> Any:
    """A challenge owned by ``department`` (and ``co_owners``), in ``phase``."""
    from proposals.models import Category, Challenge, ChallengeDepartment, Phase

    challenge = Challenge(title=title, summary=summary, category=Category(category), area=area,
                          phase=Phase(phase), department_id=department.id,  # type: ignore[arg-type]
                          published_at=None if phase == "draft" else utcnow())
    session.add(challenge)
    session.flush()
    for owner in (department, *co_owners):
        session.add(ChallengeDepartment(challenge_id=challenge.id, department_id=owner.id))  # type: ignore[arg-type]
    session.commit()
    session.refresh(challenge)
    return challenge


def create_proposal(session: Session, challenge: Any, organisation: Organisation, *, status: str = "submitted",
                    title: str = "AIデマンド交通で高島平の移動を支える", summary: str = "予約制の乗合交通を実証します。",
                    author: User | None = None, confidential: str = "原価内訳：車両リース 120万円") -> Any:
    """A proposal of ``organisation`` (lead, confirmed) on ``challenge``; submitted unless said otherwise."""
    from proposals.models import Proposal, ProposalOrganisation, ProposalStatus

    now = utcnow()
    proposal = Proposal(challenge_id=challenge.id, lead_organisation_id=organisation.id,  # type: ignore[arg-type]
                        created_by_id=author.id if author else None, status=ProposalStatus(status), title=title,
                        summary=summary, description="## 提案の内容\n\n実証の概要です。", confidential=confidential,
                        submitted_at=now if status == "submitted" else None, version=1 if status == "submitted" else 0)
    session.add(proposal)
    session.flush()
    session.add(ProposalOrganisation(proposal_id=proposal.id, organisation_id=organisation.id, is_lead=True,  # type: ignore[arg-type]
                                     confirmed_at=now, confirmed_by_id=author.id if author else None))
    session.commit()
    session.refresh(proposal)
    return proposal


# --- the people and places most tests start from ----------------------------------------------------


def actor(session: Session, user: User | None) -> Principal:
    """The principal a service sees for ``user`` (anonymous for None)."""
    return Principal.load(session, user) if user is not None else Principal.anonymous()


def reload(session: Session, row: Any) -> Any:
    """``row`` as the database has it now (after the app or a service changed it)."""
    session.expire_all()
    return session.get(type(row), row.id)


OTHER_DEPARTMENT = {"division_ja": "都市整備部", "section_ja": "交通政策課", "division_en": "Urban Development",
                    "section_en": "Transport Policy"}


@dataclass
class Ward:
    """The usual cast: two departments with a member of staff each, a verified organisation whose admin
    wrote a submitted proposal on a challenge of the first department, a resident, a moderator and an
    administrator. Modules add the people their tests need on top."""

    department: Department
    other_department: Department
    staff: User
    other_staff: User
    member: User
    organisation: Organisation
    challenge: Any
    proposal: Any
    resident: User
    moderator: User
    admin: User


def create_ward(session: Session, *, phase: str = "voting", staff_email: str = "kankyo@example.jp",
                staff_name: str = "環境 花子", member_name: str = "提案 一郎",
                other_department_code: str = "transport") -> Ward:
    department = create_department(session)
    other_department = create_department(session, other_department_code, **OTHER_DEPARTMENT)
    member = create_user(session, "member@example.jp", display_name=member_name)
    organisation = create_organisation(session, admin=member, verified=True)
    challenge = create_challenge(session, department, phase=phase)
    return Ward(
        department=department,
        other_department=other_department,
        staff=create_user(session, staff_email, display_name=staff_name, roles=[(Role.STAFF, department.id)]),  # type: ignore[list-item]
        other_staff=create_user(session, "kotsu@example.jp", roles=[(Role.STAFF, other_department.id)]),  # type: ignore[list-item]
        member=member,
        organisation=organisation,
        challenge=challenge,
        proposal=create_proposal(session, challenge, organisation, author=member),
        resident=create_user(session, "resident@example.jp", display_name="区民 太郎"),
        moderator=create_user(session, "moderator@example.jp", display_name="モデレーター", roles=[Role.MODERATOR]),
        admin=create_user(session, "admin@example.jp", roles=[Role.ADMIN]),
    )


@dataclass
class Audience:
    """Who hears about events: a member of staff, a follower (Japanese), one who reads English and an
    outsider who follows nothing (the follows themselves are the test's)."""

    staff: User
    follower: User
    english: User
    outsider: User


def create_audience(session: Session, department: Department) -> Audience:
    return Audience(
        staff=create_user(session, "staff@example.jp", roles=[(Role.STAFF, department.id)]),  # type: ignore[list-item]
        follower=create_user(session, "follower@example.jp", display_name="フォロワー"),
        english=create_user(session, "english@example.jp", display_name="Emma", locale="en"),
        outsider=create_user(session, "outsider@example.jp"),
    )
