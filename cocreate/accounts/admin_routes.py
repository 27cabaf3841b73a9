"""Ward administration pages under /admin, and the page where invited staff set their password.

Every /admin route is guarded by ``admin_only`` (``admin.access``); the services check the actor again,
each for its own action.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate import permissions
from cocreate.accounts import admin, auth
from cocreate.accounts.models import ROLE_LABELS, Role
from cocreate.accounts.permissions import admin_only, principal_of
from cocreate.errors import Invalid
from cocreate.forms import as_text
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.forms import Form, again_on_invalid
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page
from cocreate.web.sections import page_sections

DEPARTMENT_FIELDS = ("code", "division_ja", "section_ja", "division_en", "section_en")
LIST_HELPERS = {"role_labels": ROLE_LABELS, "status_of": admin.user_status}


# --- dashboard -----------------------------------------------------------------------------------


@get("/", name="admin-dashboard", sync_to_thread=True)
def dashboard(request: Request, db_session: DbSession) -> Template:
    actor = principal_of(request)
    counts = admin.dashboard(db_session, actor)
    return render(request, "admin/dashboard.html", {"counts": counts, "section": "dashboard",
                                                    "sections": page_sections("admin", db_session, actor)})


# --- departments ---------------------------------------------------------------------------------


def _department_page(request: Request, department: Any, form: dict[str, Any], errors: dict[str, str]) -> Template:
    return render(request, "admin/department_form.html",
                  {"department": department, "form": form, "errors": errors, "section": "departments"})


def _department_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                      department_id: int | None = None, **_kwargs: Any) -> Template:
    """The department form again, with what was typed (or, after a refused deletion, the saved values)."""
    current = admin.get_department(db_session, principal_of(request), department_id) if department_id else None
    if current is not None and "delete" in failed.errors:
        form = {name: getattr(current, name) for name in DEPARTMENT_FIELDS}
    return _department_page(request, current, {name: as_text(form.get(name))[:1000] for name in DEPARTMENT_FIELDS},
                            failed.errors)


@get("/departments", name="admin-departments", sync_to_thread=True)
def department_list(request: Request, db_session: DbSession) -> Template:
    rows = admin.list_departments(db_session, principal_of(request))
    return render(request, "admin/departments.html", {"rows": rows, "section": "departments"})


@get("/departments/new", name="admin-department-new", sync_to_thread=False)
def department_new(request: Request) -> Template:
    permissions.require(principal_of(request), "department.manage")
    return _department_page(request, None, {}, {})


@post("/departments", name="admin-department-create", sync_to_thread=True)
@again_on_invalid(_department_again)
def department_create(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    department = admin.create_department(db_session, principal_of(request), admin.DepartmentForm.parse(data))
    return after_post(request, request.app.route_reverse("admin-departments"),
                      message=_("Department %(name)s was created.", name=department.display_name()))


@get("/departments/{department_id:int}/edit", name="admin-department-edit", sync_to_thread=True)
def department_edit(request: Request, db_session: DbSession, department_id: FromPath[int]) -> Template:
    department = admin.get_department(db_session, principal_of(request), department_id)
    form = {name: getattr(department, name) for name in DEPARTMENT_FIELDS}
    return _department_page(request, department, form, {})


@post("/departments/{department_id:int}/edit", name="admin-department-update", sync_to_thread=True)
@again_on_invalid(_department_again)
def department_update(request: Request, db_session: DbSession, department_id: FromPath[int],
                      data: Form) -> Template | Redirect:
    department = admin.update_department(db_session, principal_of(request), department_id,
                                         admin.DepartmentForm.parse(data))
    return after_post(request, request.app.route_reverse("admin-departments"),
                      message=_("Department %(name)s was saved.", name=department.display_name()))


@post("/departments/{department_id:int}/delete", name="admin-department-delete", sync_to_thread=True)
@again_on_invalid(_department_again)
def department_delete(request: Request, db_session: DbSession, department_id: FromPath[int]) -> Template | Redirect:
    admin.delete_department(db_session, principal_of(request), department_id)
    return after_post(request, request.app.route_reverse("admin-departments"), message=_("The department was deleted."))


# --- users ---------------------------------------------------------------------------------------


def role_options(include_all: bool = False) -> list[tuple[str, str]]:
    options = [(role.value, str(ROLE_LABELS[role])) for role in Role]
    return [("", _("All roles")), *options] if include_all else options


@get("/users", name="admin-users", sync_to_thread=True)
def user_list(request: Request, db_session: DbSession, q: FromQuery[str] = "", role: FromQuery[str] = "",
              page: FromQuery[str] = "1") -> Template:
    page_number, per_page = clamp_page(page)
    query = q[:200]
    role_value = role if role in {r.value for r in Role} else ""
    result = admin.search_users(db_session, principal_of(request), query, role_value, page_number, per_page)

    def url_for_page(number: int) -> str:
        params = {key: value for key, value in (("q", query), ("role", role_value)) if value}
        return request.app.route_reverse("admin-users") + "?" + urlencode(params | {"page": number})

    return render(request, "admin/users.html", {
        **LIST_HELPERS, "page": result, "q": query, "role": role_value, "role_options": role_options(include_all=True),
        "url_for_page": url_for_page, "section": "users",
    })


def _user_page(request: Request, db_session: Session, user_id: int, errors: dict[str, str] | None = None,
               form: dict[str, Any] | None = None) -> Template:
    detail = admin.user_detail(db_session, principal_of(request), user_id)
    department_options = [("", _("No department (not ward staff)"))] + [
        (str(d.id), d.display_name()) for d in detail.departments
    ]
    return render(request, "admin/user.html", {
        **LIST_HELPERS, "detail": detail, "errors": errors or {}, "form": form or {}, "role_options": role_options(),
        "department_options": department_options, "section": "users",
    })


USER_FORM_FIELDS = {"role": 50, "department_id": 50, "reason": 5000}


def _user_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session, user_id: int,
                **_kwargs: Any) -> Template:
    """The user's page with the errors of one of its forms, and what was typed in it."""
    shown = {name: as_text(form[name])[:limit] for name, limit in USER_FORM_FIELDS.items() if name in form}
    return _user_page(request, db_session, user_id, failed.errors, shown)


@get("/users/{user_id:int}", name="admin-user", sync_to_thread=True)
def user_page(request: Request, db_session: DbSession, user_id: FromPath[int]) -> Template:
    return _user_page(request, db_session, user_id)


@post("/users/{user_id:int}/roles", name="admin-user-grant", sync_to_thread=True)
@again_on_invalid(_user_again)
def user_grant(request: Request, db_session: DbSession, user_id: FromPath[int], data: Form) -> Template | Redirect:
    assignment = admin.grant_role(db_session, principal_of(request), user_id, admin.GrantForm.parse(data))
    return after_post(request, request.app.route_reverse("admin-user", user_id=user_id),
                      message=_("The role %(role)s was granted.", role=str(ROLE_LABELS[Role(assignment.role)])))


@post("/users/{user_id:int}/roles/{assignment_id:int}/revoke", name="admin-user-revoke", sync_to_thread=True)
@again_on_invalid(_user_again)
def user_revoke(request: Request, db_session: DbSession, user_id: FromPath[int],
                assignment_id: FromPath[int]) -> Template | Redirect:
    admin.revoke_role(db_session, principal_of(request), user_id, assignment_id)
    return after_post(request, request.app.route_reverse("admin-user", user_id=user_id),
                      message=_("The role was revoked."))


@post("/users/{user_id:int}/block", name="admin-user-block", sync_to_thread=True)
@again_on_invalid(_user_again)
def user_block(request: Request, db_session: DbSession, user_id: FromPath[int], data: Form) -> Template | Redirect:
    admin.block_user(db_session, principal_of(request), user_id, admin.BlockForm.parse(data))
    return after_post(request, request.app.route_reverse("admin-user", user_id=user_id),
                      message=_("The account was blocked and signed out everywhere."))


@post("/users/{user_id:int}/unblock", name="admin-user-unblock", sync_to_thread=True)
@again_on_invalid(_user_again)
def user_unblock(request: Request, db_session: DbSession, user_id: FromPath[int]) -> Template | Redirect:
    admin.unblock_user(db_session, principal_of(request), user_id)
    return after_post(request, request.app.route_reverse("admin-user", user_id=user_id),
                      message=_("The account was unblocked."))


@post("/users/{user_id:int}/resend-invitation", name="admin-user-resend-invitation", sync_to_thread=True)
@again_on_invalid(_user_again)
def user_resend_invitation(request: Request, db_session: DbSession, settings: AppSettings,
                           user_id: FromPath[int]) -> Template | Redirect:
    user = admin.resend_invitation(db_session, settings, principal_of(request), user_id)
    return after_post(request, request.app.route_reverse("admin-user", user_id=user_id),
                      message=_("A new invitation was sent to %(email)s.", email=user.email))


# --- staff invitations ---------------------------------------------------------------------------


def _invite_page(request: Request, db_session: Session, form: dict[str, Any], errors: dict[str, str]) -> Template:
    departments = admin.departments(db_session)
    options = [("", _("Choose a department"))] + [(str(d.id), d.display_name()) for d in departments]
    extra = [(role.value, str(ROLE_LABELS[role])) for role in admin.EXTRA_ROLES]
    return render(request, "admin/invite_staff.html", {
        "form": form, "errors": errors, "department_options": options, "extra_role_options": extra,
        "section": "invite",
    })


@get("/staff/invite", name="admin-staff-invite", sync_to_thread=True)
def invite_form(request: Request, db_session: DbSession, department: FromQuery[str] = "") -> Template:
    permissions.require(principal_of(request), "staff.invite")
    return _invite_page(request, db_session, {"department_id": department[:20], "extra_roles": []}, {})


def _invite_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                  **_kwargs: Any) -> Template:
    extra_roles = form.get("extra_roles", [])
    shown = {"email": as_text(form.get("email"))[:400], "display_name": as_text(form.get("display_name"))[:200],
             "department_id": as_text(form.get("department_id"))[:50],
             "extra_roles": [value[:100] for value in (extra_roles if isinstance(extra_roles, list) else [extra_roles])
                             if value][:100]}
    return _invite_page(request, db_session, shown, failed.errors)


@post("/staff/invite", name="admin-staff-invite-submit", sync_to_thread=True)
@again_on_invalid(_invite_again)
def invite_submit(request: Request, db_session: DbSession, settings: AppSettings, data: Form) -> Template | Redirect:
    result = admin.invite_staff(db_session, settings, principal_of(request), admin.StaffInvitationForm.parse(data))
    if result.invitation_sent:
        message = _("An invitation was sent to %(email)s.", email=result.user.email)
    else:
        message = _("%(email)s already has an account: the roles were granted and the person was told by e-mail.",
                    email=result.user.email)
    return after_post(request, request.app.route_reverse("admin-user", user_id=result.user.id), message=message)


# --- audit log -----------------------------------------------------------------------------------


@get("/audit", name="admin-audit", sync_to_thread=True)
def audit_page(request: Request, db_session: DbSession, action: FromQuery[str] = "",
               page: FromQuery[str] = "1") -> Template:
    page_number, _per_page = clamp_page(page)
    action = action[:100]
    view = admin.audit_log(db_session, principal_of(request), action, page_number)
    chosen = action if action in view.actions else ""

    path = request.app.route_reverse("admin-audit")

    def url_for_page(number: int) -> str:
        return f"{path}?" + urlencode(({"action": chosen} if chosen else {}) | {"page": number})

    return render(request, "admin/audit.html", {
        "view": view, "action": chosen, "url_for_page": url_for_page, "section": "audit",
        "action_options": [("", _("All actions"))] + [(name, name) for name in view.actions],
    })


admin_router = Router(
    path="/admin",
    guards=[admin_only],
    route_handlers=[dashboard, department_list, department_new, department_create, department_edit,
                    department_update, department_delete, user_list, user_page, user_grant, user_revoke,
                    user_block, user_unblock, user_resend_invitation, invite_form, invite_submit, audit_page],
    include_in_schema=False,
)


# --- the invited person's side -------------------------------------------------------------------


def _invitation_page(request: Request, db_session: Session, token: str, errors: dict[str, str]) -> Template:
    """The invited person's form, or the page saying the link cannot be used (400)."""
    user = admin.invitation_user(db_session, token) if "token" not in errors else None
    if user is None:
        return render(request, "accounts/staff_invitation_invalid.html", {}, status_code=400)
    return render(request, "accounts/staff_invitation.html", {"token": token, "invitee": user, "errors": errors})


@get("/{token:str}", name="staff-invitation", sync_to_thread=True)
def invitation_form(request: Request, db_session: DbSession, token: FromPath[str]) -> Template:
    return _invitation_page(request, db_session, token, {})


def _invitation_again(failed: Invalid, _form: dict[str, Any], *, request: Request, db_session: Session, token: str,
                      **_kwargs: Any) -> Template:
    return _invitation_page(request, db_session, token, failed.errors)


@post("/{token:str}", name="staff-invitation-submit", sync_to_thread=True)
@again_on_invalid(_invitation_again)
def invitation_submit(request: Request, db_session: DbSession, token: FromPath[str], data: Form) -> Template | Redirect:
    user = admin.accept_invitation(db_session, token, admin.InvitationAcceptForm.parse(data))
    auth.sign_in(request, user)
    return after_post(request, request.app.route_reverse("home"), message=_(
        "Welcome, %(name)s. Your password is set and you are signed in.", name=user.display_name))


invitation_router = Router(
    path="/account/staff-invitation",
    route_handlers=[invitation_form, invitation_submit],
    include_in_schema=False,
)

ROUTES: list[Any] = [admin_router, invitation_router]
