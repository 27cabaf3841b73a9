"""Ward administration: departments, roles, blocking, staff invitations and the audit log viewer.

Every function checks that the acting :class:`Principal` may do it (``department.manage``,
``user.manage``, ``role.assign``, ``staff.invite``, ``audit.read``, ``admin.access`` in
:mod:`cocreate.accounts.policy`; the routes' guard is a second line, not the only one), validates
everything before changing anything, and records each change in the audit log in the same transaction.

Departments are deleted only while nothing refers to them: a department with staff (or with anything
else pointing at it, such as challenges) is refused with the reason, so history never loses its owner.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import Field
from sqlmodel import Session, col, select

from cocreate import audit, mail, paths, permissions
from cocreate.accounts import consents, passwords, services
from cocreate.accounts.models import (
    ROLE_LABELS,
    Department,
    Organisation,
    OrganisationMember,
    Role,
    RoleAssignment,
    TokenPurpose,
    User,
    UserToken,
)
from cocreate.accounts.permissions import Principal, user_allowed_to
from cocreate.accounts.services import (
    AGREE_TO_PRIVACY,
    AGREE_TO_TERMS,
    DisplayName,
    Email,
    FormModel,
    Password,
    Ticked,
)
from cocreate.audit.models import AuditEntry
from cocreate.db import transactional, unit_of_work
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.forms import Choice, Choices, FieldType, Line, RowId, Text, as_text, refuse
from cocreate.i18n import N_, lazy_gettext, using_locale
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from cocreate.web.pagination import Page, paginate
from cocreate.web.templating import render_standalone

STAFF_INVITATION_TTL = timedelta(days=7)
CODE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
CODE_MAX = 64
JA_NAME_MAX = 100
EN_NAME_MAX = 150
REASON_MAX = 500
SEARCH_MAX = 200
CLI_ACTOR = "cli"
CHOOSE_DEPARTMENT = lazy_gettext("Choose the department this staff member works in.")


# --- helpers -------------------------------------------------------------------------------------


def _record(session: Session, actor: User | None, action: str, target_type: str, target_id: object,
            details: dict[str, Any]) -> None:
    audit.record(session, actor_id=actor.id if actor else None,
                 actor_label=actor.display_name if actor else CLI_ACTOR,
                 action=action, target_type=target_type, target_id=str(target_id), details=details)


def _get_user(session: Session, user_id: int, *, lock: bool = False) -> User:
    user = session.get(User, user_id, with_for_update=lock)
    if user is None:
        raise NotFound()
    return user


def _get_department(session: Session, department_id: int) -> Department:
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound()
    return department


def departments(session: Session) -> list[Department]:
    """Every department, by 部 then 課 (for choosers)."""
    return list(session.exec(select(Department).order_by(Department.division_ja, Department.section_ja,
                                                         Department.id)).all())


# --- departments ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentCode(FieldType):
    """A department's code: lowercase letters, digits and hyphens, as in addresses and exports."""

    def parse(self, value: Any) -> str:
        code = as_text(value).strip()
        if not code:
            raise refuse(_("Enter a code for the department."))
        if len(code) > CODE_MAX or not CODE_RE.match(code):
            raise refuse(_("Use up to %(max)s lowercase letters (a-z), digits and hyphens for the code, "
                            "starting and ending with a letter or digit.", max=CODE_MAX))
        return code


class DepartmentForm(FormModel):
    """A department's code and names (部 and 課, in Japanese and English)."""

    code: Annotated[str, DepartmentCode()] = ""
    division_ja: Annotated[str, Line(JA_NAME_MAX, lazy_gettext("Enter the division (部) in Japanese."))] = ""
    section_ja: Annotated[str, Line(JA_NAME_MAX, lazy_gettext("Enter the section (課) in Japanese."))] = ""
    division_en: Annotated[str, Line(EN_NAME_MAX, lazy_gettext("Enter the division in English."))] = ""
    section_en: Annotated[str, Line(EN_NAME_MAX, lazy_gettext("Enter the section in English."))] = ""


@dataclass(frozen=True)
class DepartmentRow:
    department: Department
    staff_count: int


def list_departments(session: Session, actor: Principal) -> list[DepartmentRow]:
    """Every department with the number of staff assigned to it (one query)."""
    permissions.require(actor, "department.manage")
    staff = (
        sa.select(sa.func.count(RoleAssignment.id))  # type: ignore[arg-type]
        .where(RoleAssignment.department_id == Department.id, RoleAssignment.role == Role.STAFF)
        .correlate(Department)
        .scalar_subquery()
    )
    rows = session.exec(
        select(Department, staff).order_by(Department.division_ja, Department.section_ja, Department.id)
    ).all()
    return [DepartmentRow(department, count) for department, count in rows]


def get_department(session: Session, actor: Principal, department_id: int) -> Department:
    permissions.require(actor, "department.manage")
    return _get_department(session, department_id)


def _validate_department(session: Session, form: DepartmentForm, current_id: int | None) -> None:
    """What the typed form cannot know: the code and the pair of names are not another department's."""
    errors: dict[str, str] = {}
    taken = session.exec(select(Department.id).where(Department.code == form.code)).first()
    if taken is not None and taken != current_id:
        errors["code"] = _("The code %(code)s is already used by another department.", code=form.code)
    twin = session.exec(select(Department.id).where(Department.division_ja == form.division_ja,
                                                    Department.section_ja == form.section_ja)).first()
    if twin is not None and twin != current_id:
        errors["section_ja"] = _("A department with this division and section already exists.")
    if errors:
        raise Invalid(errors)


def _code_taken(form: DepartmentForm) -> Invalid:
    return Invalid({"code": _("The code %(code)s is already used by another department.", code=form.code)})


@transactional
def create_department(session: Session, actor: Principal, form: DepartmentForm) -> Department:
    """A new department (部署); the code must be unique."""
    admin = user_allowed_to(actor, "department.manage")
    _validate_department(session, form, None)
    department = Department(code=form.code, division_ja=form.division_ja, section_ja=form.section_ja,
                            division_en=form.division_en, section_en=form.section_en)
    session.add(department)
    try:
        session.flush()
    except sa.exc.IntegrityError:  # the same code created concurrently
        raise _code_taken(form) from None
    _record(session, admin, "department.created", "department", department.id, form.model_dump())
    return department


@transactional
def update_department(session: Session, actor: Principal, department_id: int, form: DepartmentForm) -> Department:
    """Change a department's code or names; the audit entry lists what changed (nothing: no entry)."""
    admin = user_allowed_to(actor, "department.manage")
    department = _get_department(session, department_id)
    _validate_department(session, form, department.id)
    changes = {name: [getattr(department, name), value] for name, value in form.model_dump().items()
               if getattr(department, name) != value}
    if not changes:
        return department
    for name, (_old, new) in changes.items():
        setattr(department, name, new)
    session.add(department)
    try:
        session.flush()
    except sa.exc.IntegrityError:
        raise _code_taken(form) from None
    _record(session, admin, "department.updated", "department", department.id, {"changes": changes})
    return department


@transactional
def delete_department(session: Session, actor: Principal, department_id: int) -> None:
    """Delete a department nobody refers to; otherwise :class:`Invalid` says why."""
    admin = user_allowed_to(actor, "department.manage")
    department = _get_department(session, department_id)
    staff = session.exec(select(sa.func.count()).select_from(RoleAssignment)
                         .where(RoleAssignment.department_id == department.id)).one()
    if staff:
        raise Invalid({"delete": _(
            "This department cannot be deleted: %(count)s staff role(s) belong to it. "
            "Revoke them or move the staff to another department first.", count=staff)})
    details = {"code": department.code, "division_ja": department.division_ja, "section_ja": department.section_ja}
    _record(session, admin, "department.deleted", "department", department.id, details)
    session.delete(department)
    try:
        session.flush()
    except sa.exc.IntegrityError:  # challenges or other records still point at it
        raise Invalid({"delete": _(
            "This department cannot be deleted: challenges or other records belong to it.")}) from None


# --- users ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldRole:
    assignment: RoleAssignment
    department: Department | None

    @property
    def role(self) -> Role:
        return Role(self.assignment.role)


@dataclass(frozen=True)
class UserRow:
    user: User
    roles: list[HeldRole]


def user_status(user: User) -> str:
    """One word for lists: deleted, blocked, invited (no password yet), unconfirmed or active."""
    if user.deleted_at is not None:
        return "deleted"
    if user.blocked_at is not None:
        return "blocked"
    if is_pending_invitation(user):
        return "invited"
    if not user.is_confirmed:
        return "unconfirmed"
    return "active"


def is_pending_invitation(user: User) -> bool:
    """An account created by a staff invitation whose owner has not chosen a password yet."""
    return user.password_hash is None and user.email_confirmed_at is None and user.deleted_at is None


def _roles_of(session: Session, user_ids: Sequence[int]) -> dict[int, list[HeldRole]]:
    found: dict[int, list[HeldRole]] = {user_id: [] for user_id in user_ids}
    if not user_ids:
        return found
    rows = session.exec(
        select(RoleAssignment, Department)
        .join(Department, col(RoleAssignment.department_id) == Department.id, isouter=True)
        .where(col(RoleAssignment.user_id).in_(user_ids))
        .order_by(RoleAssignment.role, RoleAssignment.id)
    ).all()
    for assignment, department in rows:
        found[assignment.user_id].append(HeldRole(assignment, department))
    return found


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_users(session: Session, actor: Principal, query: str = "", role: str = "", page: int = 1,
                 per_page: int = 20) -> Page[UserRow]:
    """Users whose e-mail or display name contains ``query``, optionally holding ``role``; newest first.

    Three queries whatever the page size: a count, the page, and the roles of the users on it.
    """
    permissions.require(actor, "user.manage")
    statement = select(User)
    text = (query or "").strip()[:SEARCH_MAX]
    if text:
        pattern = _like(text.lower())
        statement = statement.where(sa.or_(
            sa.func.lower(User.email).like(pattern, escape="\\"),
            sa.func.lower(User.display_name).like(pattern, escape="\\"),
        ))
    if (chosen := _parse_role(role)) is not None:
        statement = statement.where(
            sa.exists().where(RoleAssignment.user_id == User.id, RoleAssignment.role == chosen)
        )
    statement = statement.order_by(col(User.created_at).desc(), col(User.id).desc())
    result = paginate(session, statement, page, per_page)
    roles = _roles_of(session, [user.id for user in result.items])
    rows = [UserRow(user, roles[user.id]) for user in result.items]
    return Page(items=rows, page=result.page, per_page=result.per_page, total=result.total)


@dataclass(frozen=True)
class UserDetail:
    user: User
    roles: list[HeldRole]
    organisations: list[tuple[Organisation, bool]]
    departments: list[Department]
    status: str


def user_detail(session: Session, actor: Principal, user_id: int) -> UserDetail:
    """A user with their roles and organisations, and the departments to choose from for a new role."""
    permissions.require(actor, "user.manage")
    user = _get_user(session, user_id)
    organisations = session.exec(
        select(Organisation, OrganisationMember.is_admin)
        .join(OrganisationMember, col(OrganisationMember.organisation_id) == Organisation.id)
        .where(OrganisationMember.user_id == user.id)
        .order_by(Organisation.name)
    ).all()
    return UserDetail(user=user, roles=_roles_of(session, [user_id])[user_id],
                      organisations=[(org, bool(is_admin)) for org, is_admin in organisations],
                      departments=departments(session), status=user_status(user))


def _parse_role(value: object) -> Role | None:
    try:
        return Role(str(value or ""))
    except ValueError:
        return None


def _role_details(role: Role, department: Department | None, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"role": role.value}
    if department is not None:
        details["department_id"] = department.id
        details["department_code"] = department.code
    return details | extra


def _grant(session: Session, actor: User | None, user: User, role: Role, department: Department | None,
           **extra: Any) -> RoleAssignment | None:
    """Add the role unless the user holds it already (None then); audited."""
    department_id = department.id if department is not None else None
    held = session.exec(select(RoleAssignment.id).where(
        RoleAssignment.user_id == user.id, RoleAssignment.role == role,
        RoleAssignment.department_id == department_id if department_id is not None
        else col(RoleAssignment.department_id).is_(None),
    )).first()
    if held is not None:
        return None
    assignment = RoleAssignment(user_id=user.id, role=role, department_id=department_id,  # type: ignore[arg-type]
                                granted_by_id=actor.id if actor else None)
    session.add(assignment)
    session.flush()
    _record(session, actor, "role.granted", "user", user.id, _role_details(role, department, **extra))
    return assignment


def _duplicate_role(role: Role, department: Department | None) -> Invalid:
    if department is not None:
        return Invalid({"role": _("This user is already %(role)s of %(department)s.",
                                           role=str(ROLE_LABELS[role]), department=department.display_name())})
    return Invalid({"role": _("This user already holds the role %(role)s.", role=str(ROLE_LABELS[role]))})


class GrantForm(FormModel):
    """A role to give, and for ward staff their department."""

    role: Annotated[Role, Choice(Role, lazy_gettext("Choose a role."))] = None  # type: ignore[assignment]
    department_id: Annotated[int | None, RowId(CHOOSE_DEPARTMENT)] = None


@transactional
def grant_role(session: Session, actor: Principal, user_id: int, form: GrantForm) -> RoleAssignment:
    """Give a user a role; ward staff need a department, other roles have none."""
    admin = user_allowed_to(actor, "role.assign")
    role = form.role
    department: Department | None = None
    if role is Role.STAFF:
        department = session.get(Department, form.department_id) if form.department_id else None
        if department is None:
            raise Invalid({"department_id": _("Choose the department this staff member works in.")})
    user = _get_user(session, user_id, lock=True)  # serialises grants to one user
    if user.deleted_at is not None:
        raise Invalid({"role": _("This account has been deleted.")})
    try:
        assignment = _grant(session, admin, user, role, department)
    except sa.exc.IntegrityError:  # the same staff role granted concurrently
        raise _duplicate_role(role, department) from None
    if assignment is None:
        raise _duplicate_role(role, department)
    return assignment


def _active_admin_count(session: Session) -> int:
    # Locking every admin assignment serialises concurrent revocations on PostgreSQL (SQLite's
    # BEGIN IMMEDIATE already does), so two admins cannot remove each other at the same moment.
    rows = session.exec(
        select(RoleAssignment.user_id).join(User, col(User.id) == RoleAssignment.user_id)
        .where(RoleAssignment.role == Role.ADMIN, col(User.blocked_at).is_(None), col(User.deleted_at).is_(None))
        .with_for_update(of=RoleAssignment)  # type: ignore[arg-type]
    ).all()
    return len(set(rows))


@transactional
def revoke_role(session: Session, actor: Principal, user_id: int, assignment_id: int) -> None:
    """Take a role away; the last active administrator keeps theirs."""
    admin = user_allowed_to(actor, "role.assign")
    assignment = session.get(RoleAssignment, assignment_id)
    if assignment is None or assignment.user_id != user_id:
        raise NotFound()
    role = Role(assignment.role)
    if role is Role.ADMIN:
        target = _get_user(session, user_id)
        remaining = _active_admin_count(session) - (1 if target.is_active else 0)
        if remaining < 1:
            raise Invalid({"roles": _(
                "You cannot revoke this administrator role: it is the last one, and the ward would be left "
                "without an administrator. Make someone else an administrator first.")})
    department = session.get(Department, assignment.department_id) if assignment.department_id else None
    _record(session, admin, "role.revoked", "user", user_id, _role_details(role, department))
    session.delete(assignment)


class BlockForm(FormModel):
    reason: Annotated[str, Text(REASON_MAX, required=lazy_gettext("Enter the reason for blocking this account."))] = ""


@transactional
def block_user(session: Session, actor: Principal, user_id: int, form: BlockForm) -> User:
    """Block an account with a reason; every session of it ends at once."""
    admin = user_allowed_to(actor, "user.manage")
    user = _get_user(session, user_id, lock=True)
    if user.id == admin.id:
        raise Invalid({"reason": _("You cannot block your own account.")})
    if user.deleted_at is not None:
        raise Invalid({"reason": _("This account has been deleted.")})
    if user.blocked_at is not None:
        raise Invalid({"reason": _("This account is already blocked.")})
    user.blocked_at = utcnow()
    user.blocked_reason = form.reason
    user.session_epoch += 1  # auth.py drops every session holding the old epoch
    session.add(user)
    _record(session, admin, "user.blocked", "user", user.id, {"reason": form.reason})
    return user


@transactional
def unblock_user(session: Session, actor: Principal, user_id: int) -> User:
    admin = user_allowed_to(actor, "user.manage")
    user = _get_user(session, user_id, lock=True)
    if user.blocked_at is None:
        raise Invalid({"reason": _("This account is not blocked.")})
    previous = user.blocked_reason or ""
    user.blocked_at = None
    user.blocked_reason = None
    session.add(user)
    _record(session, admin, "user.unblocked", "user", user.id, {"previous_reason": previous})
    return user


# --- staff invitations ---------------------------------------------------------------------------


class StaffInvitationForm(FormModel):
    """Who to invite as ward staff, their department and the roles they get besides staff."""

    email: Annotated[str, Email()] = ""
    display_name: Annotated[str, DisplayName()] = ""
    department_id: Annotated[int | None, RowId(CHOOSE_DEPARTMENT, required=True)] = None
    extra_roles: Annotated[list[Role], Choices(Role, lazy_gettext("Choose only from the roles listed."))] = Field(
        default_factory=list)


@dataclass(frozen=True)
class InvitationResult:
    user: User
    created: bool
    invitation_sent: bool  # False: an existing account was told about its new roles instead
    granted: list[Role]


EXTRA_ROLES = (Role.REVIEWER, Role.COORDINATOR, Role.MODERATOR, Role.SUPPORT_DESK, Role.ADMIN)


def _send_mail(session: Session, settings: Settings, user: User, template: str, subject: str,
               **context: object) -> None:
    assert user.email is not None
    with using_locale(user.locale):
        text = render_standalone(f"mail/{template}.txt", user=user, base_url=settings.base_url, **context)
        mail.queue_email(session, to=user.email, subject=_(subject), text=text)


def _send_invitation(session: Session, settings: Settings, admin: User, user: User, department: Department | None,
                     roles: Iterable[Role]) -> None:
    # Only the newest link works: earlier, unused invitation links of this account are retired.
    for old in session.exec(select(UserToken).where(UserToken.user_id == user.id,
                                                    UserToken.purpose == TokenPurpose.STAFF_INVITATION,
                                                    col(UserToken.used_at).is_(None))).all():
        old.used_at = utcnow()
        session.add(old)
    token = services.issue_token(session, user, TokenPurpose.STAFF_INVITATION, STAFF_INVITATION_TTL)
    _send_mail(session, settings, user, "staff_invitation", N_("You are invited to cocreate as ward staff"),
               link=paths.absolute(settings, paths.staff_invitation(token)), inviter=admin.display_name,
               department=department, roles=[ROLE_LABELS[role] for role in roles],
               days=STAFF_INVITATION_TTL.days)


@transactional
def invite_staff(session: Session, settings: Settings, actor: Principal, form: StaffInvitationForm) -> InvitationResult:
    """Make someone ward staff of a department (and optionally more).

    A new address gets an account without a password and an invitation link (7 days, single use)
    with which they choose their own password. An existing account gets the roles and an e-mail
    saying so; an account still waiting for its first password gets a fresh invitation link.
    """
    admin = user_allowed_to(actor, "staff.invite")
    email = form.email
    errors: dict[str, str] = {}
    department = session.get(Department, form.department_id)
    if department is None:
        errors["department_id"] = _("Choose the department this staff member works in.")
    extra = form.extra_roles
    if any(role not in EXTRA_ROLES for role in extra):
        errors["extra_roles"] = _("Choose only from the roles listed.")
    if errors:
        raise Invalid(errors)

    user = session.exec(select(User).where(User.email == email).with_for_update()).first()
    created = user is None
    if user is None:
        user = User(email=email, display_name=form.display_name, password_hash=None,
                    locale=settings.default_locale, email_confirmed_at=None)
        session.add(user)
        try:
            session.flush()
        except sa.exc.IntegrityError:  # the same address registered at this very moment
            raise Invalid({"email": _("An account for this address was just created. "
                                      "Send the invitation again.")}) from None
    elif not user.is_active:
        raise Invalid({"email": _("The account for this address is blocked. Unblock it first.")})

    roles = [Role.STAFF, *extra]
    granted = [role for role in roles
               if _grant(session, admin, user, role, department if role is Role.STAFF else None,
                         via="staff_invitation") is not None]
    pending = is_pending_invitation(user)
    if not granted and not pending:
        raise Invalid({"department_id": _("This person already holds these roles.")})
    assert department is not None
    _record(session, admin, "staff.invited", "user", user.id,
            {"email": email, "department_code": department.code, "roles": [role.value for role in roles],
             "account_created": created})
    if pending:
        _send_invitation(session, settings, admin, user, department, roles)
    else:
        _send_mail(session, settings, user, "staff_roles_granted", N_("You have new roles on cocreate"),
                   link=paths.absolute(settings, paths.sign_in()), inviter=admin.display_name, department=department,
                   roles=[ROLE_LABELS[role] for role in granted])
    return InvitationResult(user=user, created=created, invitation_sent=pending, granted=granted)


@transactional
def resend_invitation(session: Session, settings: Settings, actor: Principal, user_id: int) -> User:
    """A new invitation link for an account that has not chosen its password yet (the old link stops working)."""
    admin = user_allowed_to(actor, "staff.invite")
    user = _get_user(session, user_id, lock=True)
    if not is_pending_invitation(user) or not user.is_active:
        raise Invalid({"invitation": _(
            "This account does not wait for an invitation: its owner has already set a password.")})
    held = _roles_of(session, [user_id])[user_id]
    department = next((h.department for h in held if h.role is Role.STAFF and h.department), None)
    _send_invitation(session, settings, admin, user, department, [h.role for h in held])
    _record(session, admin, "staff.invitation_resent", "user", user.id, {"email": user.email})
    return user


@transactional
def invitation_user(session: Session, token: str) -> User | None:
    """The account a still-valid invitation link belongs to, without using the link up (its reads end
    with it: the page is rendered outside any transaction)."""
    if not token or len(token) > 200:
        return None
    row = session.exec(select(UserToken).where(
        UserToken.token_hash == services._token_hash(token),
        UserToken.purpose == TokenPurpose.STAFF_INVITATION,
    )).first()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.is_active else None


class InvitationAcceptForm(FormModel):
    """The invited person's new password and their agreement to the terms and the privacy policy."""

    password: Annotated[str, Password()] = ""
    accept_terms: Annotated[bool, Ticked(AGREE_TO_TERMS)] = False
    accept_privacy: Annotated[bool, Ticked(AGREE_TO_PRIVACY)] = False


def accept_invitation(session: Session, token: str, form: InvitationAcceptForm) -> User:
    """Set the invited person's password with their link; their e-mail address is confirmed by it."""
    # Hashed before the unit of work (and its first query): no write lock is held while argon2 works.
    password_hash = passwords.hash_password(form.password)
    with unit_of_work(session):
        row = services.redeem_token(session, token, TokenPurpose.STAFF_INVITATION)
        user = session.get(User, row.user_id) if row else None
        if user is None or not user.is_active:
            raise Invalid({"token": _("This link has expired or was already used. Ask for a new one.")})
        if message := services.check_password(form.password, user.email or ""):
            raise Invalid({"password": message})
        had_password = user.password_hash is not None
        user.password_hash = password_hash
        if had_password:
            user.session_epoch += 1  # like a reset: sessions from before the link stop working
        if user.email_confirmed_at is None:
            user.email_confirmed_at = utcnow()  # the link proves the address
        user.last_sign_in_at = utcnow()
        session.add(user)
        consents.record(session, user, consents.current_versions(session))
        _record(session, user, "staff.invitation_accepted", "user", user.id, {})
        return user


# --- audit log -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditView:
    entries: Page[AuditEntry]
    actions: list[str]
    verification: audit.VerificationResult


def audit_log(session: Session, actor: Principal, action: str = "", page: int = 1, per_page: int = 50) -> AuditView:
    """One page of the audit log, newest first, optionally of one action; and whether the chain is intact."""
    permissions.require(actor, "audit.read")
    actions = list(session.exec(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all())
    statement = select(AuditEntry).order_by(col(AuditEntry.id).desc())
    if action in actions:
        statement = statement.where(AuditEntry.action == action)
    return AuditView(entries=paginate(session, statement, page, per_page), actions=actions,
                     verification=audit.verify(session))


@dataclass(frozen=True)
class DashboardCounts:
    users: int
    blocked: int
    invited: int
    departments: int
    admins: int


def dashboard(session: Session, actor: Principal) -> DashboardCounts:
    permissions.require(actor, "admin.access")
    row = session.exec(select(
        sa.func.count(User.id),  # type: ignore[arg-type]
        sa.func.count(User.blocked_at),  # type: ignore[arg-type]
        sa.func.sum(sa.case((sa.and_(col(User.password_hash).is_(None), col(User.email_confirmed_at).is_(None),
                                     col(User.deleted_at).is_(None)), 1), else_=0)),
    )).one()
    department_count = session.exec(select(sa.func.count()).select_from(Department)).one()
    admins = session.exec(select(sa.func.count(sa.distinct(RoleAssignment.user_id)))
                          .where(RoleAssignment.role == Role.ADMIN)).one()
    return DashboardCounts(users=row[0], blocked=row[1], invited=int(row[2] or 0), departments=department_count,
                           admins=admins)


# --- the first administrator (CLI) ---------------------------------------------------------------


@dataclass(frozen=True)
class CliAdminResult:
    user: User
    created: bool
    granted: bool


class AdminForm(FormModel):
    """The first administrator's account (from the CLI)."""

    email: Annotated[str, Email()] = ""
    display_name: Annotated[str, DisplayName()] = ""
    password: Annotated[str, Password()] = ""


def create_admin(session: Session, email: str, display_name: str, password: str) -> CliAdminResult:
    """Create (or promote) a confirmed administrator with this password; audited as the actor "cli".

    An existing account keeps its display name but gets the new password (so this also recovers an
    administrator who lost theirs) and every session of it ends.
    """
    form = AdminForm(email=email, display_name=display_name, password=password or "")
    if message := services.check_password(form.password, form.email):
        raise Invalid({"password": message})
    password_hash = passwords.hash_password(form.password)  # before the unit of work: no lock held meanwhile
    with unit_of_work(session):
        return _create_admin(session, form, password_hash)


def _create_admin(session: Session, form: AdminForm, password_hash: str) -> CliAdminResult:
    user = session.exec(select(User).where(User.email == form.email).with_for_update()).first()
    created = user is None
    if user is None:
        user = User(email=form.email, display_name=form.display_name, password_hash=password_hash,
                    email_confirmed_at=utcnow())
        session.add(user)
        session.flush()
        _record(session, None, "user.created", "user", user.id, {"email": form.email, "via": CLI_ACTOR})
    else:
        if not user.is_active:
            raise Invalid({"email": _("The account for this address is blocked. Unblock it first.")})
        user.password_hash = password_hash
        user.session_epoch += 1
        if user.email_confirmed_at is None:
            user.email_confirmed_at = utcnow()
        session.add(user)
        _record(session, None, "user.password_set", "user", user.id, {"via": CLI_ACTOR})
    granted = _grant(session, None, user, Role.ADMIN, None, via=CLI_ACTOR) is not None
    return CliAdminResult(user=user, created=created, granted=granted)
