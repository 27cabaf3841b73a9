"""Who the actor is, and the facts about them that the permission rules read.

The core's rules themselves are in :mod:`cocreate.accounts.policy` (answered by
:func:`cocreate.permissions.can`). Here: the acting :class:`Principal` and its roles, the facts about an
organisation the rules need (:class:`OnOrganisation`, read once), :func:`user_allowed_to` for services,
and the route guards (``signed_in``, :func:`allowed_to`, ``has_any_role``). Services check the actor
themselves, so a rule holds whether it is reached through a page, the API, the CLI or a background job.
The role x route matrix in ``tests/cocreate/accounts/test_permission_matrix.py`` pins every protected
route down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from sqlmodel import Session, col, select

from cocreate import permissions as rules
from cocreate.accounts.models import Organisation, OrganisationMember, Role, RoleAssignment, User
from cocreate.errors import Forbidden, SignInRequired


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


def user_allowed_to(actor: Principal, action: str, target: Any = None) -> User:
    """The signed-in user, allowed to do ``action`` (see :func:`cocreate.permissions.require`)."""
    rules.require(actor, action, target)
    return require_signed_in(actor)


# --- organisations -------------------------------------------------------------------------------


def membership(session: Session, user_id: int | None, organisation_id: int) -> OrganisationMember | None:
    if user_id is None:
        return None
    return session.exec(
        select(OrganisationMember).where(
            OrganisationMember.organisation_id == organisation_id, OrganisationMember.user_id == user_id
        )
    ).first()


class OrganisationFacts(Protocol):
    """What the organisation rules know of an organisation, for one actor (an :class:`OnOrganisation`,
    or the page's :class:`cocreate.accounts.organisations.Viewing`)."""

    @property
    def is_verified(self) -> bool: ...

    @property
    def is_member(self) -> bool: ...

    @property
    def is_org_admin(self) -> bool: ...


@dataclass(frozen=True)
class OnOrganisation:
    """An organisation as the rules see it for one actor."""

    is_verified: bool
    is_member: bool
    is_org_admin: bool
    """The actor is one of the organisation's administrators (not the site's)."""


def on_organisation(session: Session, actor: Principal, organisation_id: int) -> OnOrganisation:
    """The facts in one query (an organisation that does not exist: nobody's, and not verified). Reads
    columns, not rows, so the organisation a service locks afterwards is read fresh."""
    is_actor = col(OrganisationMember.user_id) == actor.user_id if actor.user_id is not None else sa.false()
    row = session.execute(
        sa.select(col(Organisation.verified_at), col(OrganisationMember.user_id), col(OrganisationMember.is_admin))
        .outerjoin(OrganisationMember, sa.and_(col(OrganisationMember.organisation_id) == Organisation.id, is_actor))
        .where(col(Organisation.id) == organisation_id)
    ).first()
    if row is None:
        return OnOrganisation(is_verified=False, is_member=False, is_org_admin=False)
    verified_at, member_id, is_admin = row
    return OnOrganisation(is_verified=verified_at is not None, is_member=member_id is not None,
                          is_org_admin=bool(is_admin))


def require_organisation_member(session: Session, actor: Principal, organisation_id: int) -> OnOrganisation:
    """A member preparing something for the organisation (``organisation.draft_for``)."""
    facts = on_organisation(session, actor, organisation_id)
    rules.require(actor, "organisation.draft_for", facts)
    return facts


def require_organisation_admin(session: Session, actor: Principal, organisation_id: int) -> OnOrganisation:
    """One of the organisation's administrators (``organisation.manage_members``)."""
    facts = on_organisation(session, actor, organisation_id)
    rules.require(actor, "organisation.manage_members", facts)
    return facts


def require_verified_organisation(session: Session, actor: Principal, organisation_id: int) -> Organisation:
    """A member acting for a verified organisation (``organisation.act_for``): the gate for proposals
    and bookings."""
    rules.require(actor, "organisation.act_for", on_organisation(session, actor, organisation_id))
    organisation = session.get(Organisation, organisation_id)
    assert organisation is not None  # verified, so it exists
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


def allowed_to(action: str):
    """Guard factory: the acting person may do ``action`` (its rule must need no target)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        rules.require(principal_of(connection), action)

    guard.__name__ = f"allowed_to_{action.replace('.', '_')}"
    return guard


admin_only = allowed_to("admin.access")
