"""Who may do what, in one place.

Routes use the guards (``signed_in``, ``has_any_role``); services call :func:`require` and the
``require_*`` helpers with the acting :class:`Principal`, so a rule holds whether it is reached
through a page, the API, the CLI or a background job. The role x route matrix in
``tests/cocreate/accounts/test_permission_matrix.py`` pins every protected route down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from sqlmodel import Session, col, select

from cocreate.accounts.models import Organisation, OrganisationMember, Role, RoleAssignment, User
from cocreate.errors import Forbidden, SignInRequired
from cocreate.i18n import gettext as _


@dataclass(frozen=True)
class Principal:
    """The actor of a request or job: a user (or nobody) and the roles they hold."""

    user: User | None = None
    roles: frozenset[tuple[Role, int | None]] = field(default_factory=frozenset)

    @classmethod
    def anonymous(cls) -> Principal:
        return cls()

    @classmethod
    def load(cls, session: Session, user: User | None) -> Principal:
        if user is None:
            return cls()
        rows = session.exec(
            select(RoleAssignment.role, RoleAssignment.department_id).where(RoleAssignment.user_id == user.id)
        ).all()
        return cls(user=user, roles=frozenset((Role(role), department_id) for role, department_id in rows))

    @classmethod
    def load_by_id(cls, session: Session, user_id: int) -> Principal | None:
        """The user with their roles in one query (every signed-in request does this); None if gone."""
        rows = session.exec(
            select(User, RoleAssignment.role, RoleAssignment.department_id)
            .outerjoin(RoleAssignment, col(RoleAssignment.user_id) == User.id)
            .where(User.id == user_id)
        ).all()
        if not rows:
            return None
        roles = frozenset((Role(role), department_id) for _user, role, department_id in rows if role is not None)
        return cls(user=rows[0][0], roles=roles)

    @property
    def is_signed_in(self) -> bool:
        return self.user is not None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None

    def has_role(self, role: Role) -> bool:
        return any(held == role for held, _department in self.roles)

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)

    @property
    def staff_department_ids(self) -> frozenset[int]:
        return frozenset(d for role, d in self.roles if role == Role.STAFF and d is not None)

    def is_staff_of(self, department_id: int | None) -> bool:
        return department_id is not None and department_id in self.staff_department_ids

    @property
    def is_staff(self) -> bool:
        return bool(self.staff_department_ids)


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    value = connection.scope.get("principal")  # type: ignore[typeddict-item]
    return value if isinstance(value, Principal) else Principal.anonymous()


# --- service checks ------------------------------------------------------------------------------


def require(condition: bool, reason: str | None = None) -> None:
    if not condition:
        raise Forbidden(reason)


def require_signed_in(actor: Principal) -> User:
    if actor.user is None:
        raise SignInRequired()
    return actor.user


def require_role(actor: Principal, *roles: Role) -> User:
    user = require_signed_in(actor)
    require(any(actor.has_role(role) for role in roles))
    return user


def membership(session: Session, user_id: int | None, organisation_id: int) -> OrganisationMember | None:
    if user_id is None:
        return None
    return session.exec(
        select(OrganisationMember).where(
            OrganisationMember.organisation_id == organisation_id, OrganisationMember.user_id == user_id
        )
    ).first()


def require_organisation_member(session: Session, actor: Principal, organisation_id: int) -> OrganisationMember:
    require_signed_in(actor)
    member = membership(session, actor.user_id, organisation_id)
    if member is None:
        raise Forbidden(_("Only members of this organisation can do this."))
    return member


def require_organisation_admin(session: Session, actor: Principal, organisation_id: int) -> OrganisationMember:
    member = require_organisation_member(session, actor, organisation_id)
    if not member.is_admin:
        raise Forbidden(_("Only administrators of this organisation can do this."))
    return member


def require_verified_organisation(session: Session, actor: Principal, organisation_id: int) -> Organisation:
    """A member acting for a verified organisation: the gate for proposals and bookings."""
    require_organisation_member(session, actor, organisation_id)
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or not organisation.is_verified:
        raise Forbidden(_("Your organisation must be verified by the ward before it can do this."))
    return organisation


# --- route guards --------------------------------------------------------------------------------


def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """Guard: someone must be signed in."""
    require_signed_in(principal_of(connection))


def has_any_role(*roles: Role):
    """Guard factory: the signed-in user must hold one of ``roles``."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        require_role(principal_of(connection), *roles)

    guard.__name__ = f"has_any_role_{'_'.join(role.value for role in roles)}"
    return guard


admin_only = has_any_role(Role.ADMIN)
