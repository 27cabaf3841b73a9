"""What people may do in the core, answered by :func:`cocreate.permissions.can` (declared in
``cocreate/component.py``).

- Administration (ward administrators): ``admin.access`` (the /admin pages and their menu),
  ``user.manage`` (find users, block and unblock them), ``role.assign``, ``department.manage``,
  ``staff.invite``, ``audit.read`` (the full audit log) and ``page.edit`` (the site's pages).
- Residency checks (any ward staff, and administrators): ``residency.manage``, and
  ``residency.verify`` of a resident (a :class:`~cocreate.accounts.models.User`), never oneself.
- One's own account: ``identity.unlink`` (a linked provider account, one's own only).
- Organisations, on an :class:`~cocreate.accounts.permissions.OrganisationFacts` target (an
  :class:`~cocreate.accounts.permissions.OnOrganisation` read by
  :func:`~cocreate.accounts.permissions.on_organisation`, or the page's ``Viewing``):
  ``organisation.view`` (verified ones are public; the others only to their members and ward
  administrators, and to everyone else they do not exist), ``organisation.see_members``,
  ``organisation.edit`` and ``organisation.manage_members`` (its administrators),
  ``organisation.leave``, ``organisation.draft_for`` (a member prepares something on its behalf),
  ``organisation.act_for`` (a member, once the ward has verified it: the gate for proposals and
  bookings) and ``organisation.verify`` (ward administrators; no target).

Rules read the actor's roles and the target's facts, never the database.
"""

from __future__ import annotations

from typing import Any

from cocreate.accounts.models import OidcIdentity, User
from cocreate.accounts.permissions import OrganisationFacts, Principal
from cocreate.i18n import gettext as _
from cocreate.permissions import Decision, Policy, admin, signed_in, when

POLICY = Policy("core")


# --- administration ------------------------------------------------------------------------------


@POLICY.rule("admin.access", "user.manage", "role.assign", "department.manage", "staff.invite", "audit.read",
             "page.edit")
def _administration(actor: Principal, _target: Any) -> Decision:
    return admin(actor)


# --- residency checks ----------------------------------------------------------------------------


@POLICY.rule("residency.manage")
def _residency_staff(actor: Principal, _target: Any) -> Decision:
    """Who verifies residents: ward staff of any department, and system administrators."""
    return signed_in(actor) & when(actor.is_staff or actor.is_admin,
                                   lambda: _("You do not have permission to do this."))


@POLICY.rule("residency.verify")
def _verify_resident(actor: Principal, resident: User) -> Decision:
    return _residency_staff(actor, resident) & when(
        resident.id != actor.user_id, lambda: _("You cannot verify your own residency. Ask a colleague."))


# --- one's own account ---------------------------------------------------------------------------


@POLICY.rule("identity.unlink")
def _unlink(actor: Principal, identity: OidcIdentity) -> Decision:
    """Remove a linked provider account: one's own only."""
    return signed_in(actor) & when(identity.user_id == actor.user_id,
                                   lambda: _("You do not have permission to do this."))


# --- organisations -------------------------------------------------------------------------------


def _member(actor: Principal, target: OrganisationFacts) -> Decision:
    return signed_in(actor) & when(target.is_member, lambda: _("Only members of this organisation can do this."))


def _org_admin(actor: Principal, target: OrganisationFacts) -> Decision:
    return _member(actor, target) & when(
        target.is_org_admin, lambda: _("Only administrators of this organisation can do this."))


@POLICY.rule("organisation.view")
def _view(actor: Principal, target: OrganisationFacts) -> Decision:
    return when(target.is_verified or target.is_member or actor.is_admin, lambda: _("Page not found"))


@POLICY.rule("organisation.see_members")
def _see_members(actor: Principal, target: OrganisationFacts) -> Decision:
    """Its members, and ward administrators when they verify it."""
    return signed_in(actor) & when(target.is_member or actor.is_admin,
                                   lambda: _("Only members of this organisation can do this."))


@POLICY.rule("organisation.edit", "organisation.manage_members")
def _administer(actor: Principal, target: OrganisationFacts) -> Decision:
    return _org_admin(actor, target)


@POLICY.rule("organisation.leave", "organisation.draft_for")
def _as_member(actor: Principal, target: OrganisationFacts) -> Decision:
    return _member(actor, target)


@POLICY.rule("organisation.act_for")
def _act_for(actor: Principal, target: OrganisationFacts) -> Decision:
    return _member(actor, target) & when(
        target.is_verified, lambda: _("Your organisation must be verified by the ward before it can do this."))


@POLICY.rule("organisation.verify")
def _verify(actor: Principal, _target: Any) -> Decision:
    return admin(actor)
