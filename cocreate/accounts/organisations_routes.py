"""Organisation pages: public list and profiles, create and edit, members and invitations, and the
ward administrators' verification queue. HTTP only: the rules live in ``organisations``."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate import permissions
from cocreate.accounts import organisations
from cocreate.accounts.models import ORGANISATION_KIND_LABELS, OrganisationKind
from cocreate.accounts.permissions import allowed_to, principal_of, signed_in
from cocreate.accounts.services import AsSent, FormModel
from cocreate.errors import Invalid
from cocreate.forms import Flag, as_text
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.forms import Form, again_on_invalid
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page

# What is shown again of each field after an error (a little more than each field may hold).
FORM_LIMITS = {"name": 1000, "kind": 50, "corporate_number": 100, "address": 1000, "website": 2000,
               "description": 20_000}


def _kind_options(include_all: str | None = None) -> list[tuple[str, str]]:
    options = [(kind.value, str(label)) for kind, label in ORGANISATION_KIND_LABELS.items()]
    return [("", include_all), *options] if include_all is not None else options


def _shown(form: dict[str, Any], limits: dict[str, int]) -> dict[str, str]:
    return {name: as_text(form.get(name))[:limit] for name, limit in limits.items()}


def _query_url(path: str, **params: Any) -> str:
    """``path`` (a route's, from ``route_reverse``) with the query ``params`` that are not their defaults."""
    kept = {key: value for key, value in params.items() if value not in (None, "", 1)}
    return f"{path}?{urlencode(kept)}" if kept else path


# --- public --------------------------------------------------------------------------------------


@get("/organisations", name="organisations", sync_to_thread=True)
def organisation_list(request: Request, db_session: DbSession, kind: FromQuery[str] = "", q: FromQuery[str] = "",
                      page: FromQuery[str] = "1") -> Template:
    chosen = organisations.parse_kind(kind)
    query = q.strip()[: organisations.QUERY_MAX]
    number, _size = clamp_page(page)
    result = organisations.public_list(db_session, kind=chosen, query=query, page=number)
    kind_value = chosen.value if chosen else ""
    return render(request, "organisations/list.html", {
        "page": result, "kind": kind_value, "q": query, "kind_options": _kind_options(_("All kinds")),
        "kind_labels": ORGANISATION_KIND_LABELS,
        "url_for_page": lambda n: _query_url(request.app.route_reverse("organisations"), kind=kind_value, q=query,
                                             page=n),
    })


@get("/organisations/{organisation_id:int}", name="organisation", sync_to_thread=True)
def organisation_detail(request: Request, db_session: DbSession, organisation_id: FromPath[int]) -> Template:
    viewing = organisations.view(db_session, principal_of(request), organisation_id)
    return render(request, "organisations/detail.html", {
        "viewing": viewing, "organisation": viewing.organisation, "kind_labels": ORGANISATION_KIND_LABELS,
        "errors": {},
    })


# --- create and edit -----------------------------------------------------------------------------


@get("/organisations/new", name="organisation-new", guards=[signed_in], sync_to_thread=False)
def new_form(request: Request) -> Template:
    return render(request, "organisations/form.html", {
        "form": {"kind": OrganisationKind.COMPANY.value}, "errors": {}, "organisation": None,
        "kind_options": _kind_options(),
    })


def _form_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                organisation_id: int | None = None, **_kwargs: Any) -> Template:
    organisation = (organisations.view(db_session, principal_of(request), organisation_id).organisation
                    if organisation_id is not None else None)
    return render(request, "organisations/form.html", {
        "form": _shown(form, FORM_LIMITS), "errors": failed.errors, "organisation": organisation,
        "kind_options": _kind_options(),
    })


@post("/organisations/new", name="organisation-create", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_form_again)
def create(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    organisation = organisations.create(db_session, principal_of(request), organisations.OrganisationForm.parse(data))
    return after_post(request, request.app.route_reverse("organisation", organisation_id=organisation.id), message=_(
        "Your organisation has been created. The ward will verify it using its corporate number."))


@get("/organisations/{organisation_id:int}/edit", name="organisation-edit", guards=[signed_in],
     sync_to_thread=True)
def edit_form(request: Request, db_session: DbSession, organisation_id: FromPath[int]) -> Template:
    actor = principal_of(request)
    viewing = organisations.view(db_session, actor, organisation_id)
    permissions.require(actor, "organisation.edit", viewing)
    organisation = viewing.organisation
    form = {name: getattr(organisation, name) or "" for name in FORM_LIMITS}
    form["kind"] = organisation.kind.value
    return render(request, "organisations/form.html", {
        "form": form, "errors": {}, "organisation": organisation, "kind_options": _kind_options(),
    })


@post("/organisations/{organisation_id:int}/edit", name="organisation-update", guards=[signed_in],
      sync_to_thread=True)
@again_on_invalid(_form_again)
def update(request: Request, db_session: DbSession, organisation_id: FromPath[int], data: Form) -> Template | Redirect:
    actor = principal_of(request)
    # NotFound and Forbidden before the form is read
    permissions.require(actor, "organisation.edit", organisations.view(db_session, actor, organisation_id))
    edited = organisations.update(db_session, actor, organisation_id, organisations.OrganisationForm.parse(data))
    if edited.verification_cleared:
        return after_post(request, request.app.route_reverse("organisation", organisation_id=organisation_id),
                          category="warning", message=_(
            "The profile has been saved. Because the name or corporate number changed, the organisation "
            "is no longer verified until the ward checks it again."))
    return after_post(request, request.app.route_reverse("organisation", organisation_id=organisation_id),
                      message=_("The profile has been saved."))


# --- members and invitations ---------------------------------------------------------------------


def _members_page(request: Request, db_session: Session, organisation_id: int, *, page: str = "1",
                  form: dict[str, Any] | None = None, errors: dict[str, str] | None = None) -> Template:
    actor = principal_of(request)
    number, _size = clamp_page(page)
    viewing, result = organisations.members(db_session, actor, organisation_id, page=number)
    invitations = (organisations.pending_invitations(db_session, actor, organisation_id)
                   if permissions.can(actor, "organisation.manage_members", viewing) else [])
    return render(request, "organisations/members.html", {
        "viewing": viewing, "organisation": viewing.organisation, "page": result, "invitations": invitations,
        "admin_count": organisations.admin_count(db_session, organisation_id),
        "form": form or {}, "errors": errors or {}, "viewer_id": actor.user_id,
        "max_pending": organisations.MAX_PENDING_INVITATIONS,
        "url_for_page": lambda n: _query_url(
            request.app.route_reverse("organisation-members", organisation_id=organisation_id), page=n),
    })


@get("/organisations/{organisation_id:int}/members", name="organisation-members", guards=[signed_in],
     sync_to_thread=True)
def members_page(request: Request, db_session: DbSession, organisation_id: FromPath[int],
                 page: FromQuery[str] = "1") -> Template:
    return _members_page(request, db_session, organisation_id, page=page)


def _members_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                   organisation_id: int, **_kwargs: Any) -> Template:
    """The members page with the errors; the invitation form keeps what was typed in it."""
    shown: dict[str, Any] = {}
    if "email" in form:
        shown = {**_shown(form, {"email": 400}), "as_admin": Flag().parse(form.get("as_admin"))}
    return _members_page(request, db_session, organisation_id, form=shown, errors=failed.errors)


class InviteForm(FormModel):
    """Who to invite, as typed (:func:`organisations.invite` checks the address), and as what."""

    email: Annotated[str, AsSent(400)] = ""
    as_admin: Annotated[bool, Flag()] = False


class AdminFlagForm(FormModel):
    is_admin: Annotated[bool, Flag()] = False


@post("/organisations/{organisation_id:int}/invitations", name="organisation-invite", guards=[signed_in],
      sync_to_thread=True)
@again_on_invalid(_members_again)
def invite(request: Request, db_session: DbSession, settings: AppSettings, organisation_id: FromPath[int],
           data: Form) -> Template | Redirect:
    form = InviteForm.parse(data)
    invitation = organisations.invite(db_session, settings, principal_of(request), organisation_id, form.email,
                                      as_admin=form.as_admin)
    return after_post(request, request.app.route_reverse("organisation-members", organisation_id=organisation_id),
                      message=_("An invitation has been sent to %(email)s.", email=invitation.email))


@post("/organisations/{organisation_id:int}/invitations/{invitation_id:int}/revoke",
      name="organisation-invitation-revoke", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_members_again)
def revoke_invitation(request: Request, db_session: DbSession, organisation_id: FromPath[int],
                      invitation_id: FromPath[int]) -> Template | Redirect:
    organisations.revoke_invitation(db_session, principal_of(request), organisation_id, invitation_id)
    return after_post(request, request.app.route_reverse("organisation-members", organisation_id=organisation_id),
                      message=_("The invitation has been revoked; its link no longer works."))


@post("/organisations/{organisation_id:int}/members/{user_id:int}/remove", name="organisation-member-remove",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_members_again)
def remove_member(request: Request, db_session: DbSession, organisation_id: FromPath[int],
                  user_id: FromPath[int]) -> Template | Redirect:
    actor = principal_of(request)
    organisations.remove_member(db_session, actor, organisation_id, user_id)
    if user_id == actor.user_id:
        return after_post(request, request.app.route_reverse("my-organisations"),
                          message=_("You have left the organisation."))
    return after_post(request, request.app.route_reverse("organisation-members", organisation_id=organisation_id),
                      message=_("The member has been removed from the organisation."))


def _leave_again(failed: Invalid, _form: dict[str, Any], *, request: Request, db_session: Session,
                 organisation_id: int, **_kwargs: Any) -> Template:
    viewing = organisations.view(db_session, principal_of(request), organisation_id)
    return render(request, "organisations/detail.html", {
        "viewing": viewing, "organisation": viewing.organisation, "kind_labels": ORGANISATION_KIND_LABELS,
        "errors": failed.errors,
    })


@post("/organisations/{organisation_id:int}/leave", name="organisation-leave", guards=[signed_in],
      sync_to_thread=True)
@again_on_invalid(_leave_again)
def leave(request: Request, db_session: DbSession, organisation_id: FromPath[int]) -> Template | Redirect:
    actor = principal_of(request)
    organisations.remove_member(db_session, actor, organisation_id, actor.user_id or 0)
    return after_post(request, request.app.route_reverse("my-organisations"),
                      message=_("You have left the organisation."))


@post("/organisations/{organisation_id:int}/members/{user_id:int}/admin", name="organisation-member-admin",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_members_again)
def set_admin(request: Request, db_session: DbSession, organisation_id: FromPath[int], user_id: FromPath[int],
              data: Form) -> Template | Redirect:
    make_admin = AdminFlagForm.parse(data).is_admin
    organisations.set_admin(db_session, principal_of(request), organisation_id, user_id, make_admin)
    message = (_("The member is now an administrator of the organisation.") if make_admin
               else _("The member is no longer an administrator of the organisation."))
    return after_post(request, request.app.route_reverse("organisation-members", organisation_id=organisation_id),
                      message=message)


# --- accepting an invitation ---------------------------------------------------------------------


def _invitation_page(request: Request, found: organisations.InvitationLookup, token: str, *,
                     status_code: int | None = None) -> Template:
    user = principal_of(request).user
    invitation = found.invitation
    is_for_viewer = invitation is not None and organisations.invitation_is_for(invitation, user)
    if status_code is None:
        status_code = 200 if found.usable else (404 if found.status == organisations.INVITATION_UNKNOWN else 410)
    return render(request, "organisations/invitation.html", {
        "found": found, "organisation": found.organisation, "invitation": invitation, "token": token,
        "is_for_viewer": is_for_viewer, "viewer": user,
        "masked_email": organisations.mask_email(invitation.email) if invitation else "",
        "sign_in_url": _query_url(request.app.route_reverse("sign-in"),
                                  next=request.app.route_reverse("organisation-invitation", token=token)),
    }, status_code=status_code)


@get("/organisations/invitations/{token:str}", name="organisation-invitation", sync_to_thread=True)
def invitation_page(request: Request, db_session: DbSession, token: FromPath[str]) -> Template:
    return _invitation_page(request, organisations.look_up_invitation(db_session, token), token)


@post("/organisations/invitations/{token:str}", name="organisation-invitation-accept", guards=[signed_in],
      sync_to_thread=True)
def accept_invitation(request: Request, db_session: DbSession, token: FromPath[str]) -> Template | Redirect:
    try:
        member = organisations.accept_invitation(db_session, principal_of(request), token)
    except organisations.InvitationNotUsable:
        return _invitation_page(request, organisations.look_up_invitation(db_session, token), token)
    except organisations.InvitationForSomeoneElse:
        return _invitation_page(request, organisations.look_up_invitation(db_session, token), token,
                                status_code=403)
    return after_post(request, request.app.route_reverse("organisation", organisation_id=member.organisation_id),
                      message=_("Welcome! You are now a member of the organisation."))


# --- my organisations ----------------------------------------------------------------------------


@get("/account/organisations", name="my-organisations", guards=[signed_in], sync_to_thread=True)
def my_organisations(request: Request, db_session: DbSession, page: FromQuery[str] = "1") -> Template:
    number, _size = clamp_page(page)
    result = organisations.my_organisations(db_session, principal_of(request), page=number)
    return render(request, "organisations/mine.html", {
        "page": result, "kind_labels": ORGANISATION_KIND_LABELS,
        "url_for_page": lambda n: _query_url(request.app.route_reverse("my-organisations"), page=n),
    })


# --- ward administrators -------------------------------------------------------------------------


verifiers = allowed_to("organisation.verify")


@get("/admin/organisations", name="admin-organisations", guards=[verifiers], sync_to_thread=True)
def admin_queue(request: Request, db_session: DbSession, status: FromQuery[str] = "pending",
                kind: FromQuery[str] = "", q: FromQuery[str] = "", page: FromQuery[str] = "1") -> Template:
    status = status if status in organisations.ADMIN_STATUSES else "pending"
    chosen = organisations.parse_kind(kind)
    query = q.strip()[: organisations.QUERY_MAX]
    number, _size = clamp_page(page)
    result = organisations.admin_list(db_session, principal_of(request), status=status, kind=chosen, query=query,
                                      page=number)
    kind_value = chosen.value if chosen else ""
    return render(request, "admin/organisations.html", {
        "section": "organisations", "page": result, "status": status, "kind": kind_value, "q": query,
        "kind_options": _kind_options(_("All kinds")), "kind_labels": ORGANISATION_KIND_LABELS,
        "status_options": [("pending", _("Waiting for verification")), ("verified", _("Verified")),
                           ("all", _("All"))],
        "url_for_page": lambda n: _query_url(request.app.route_reverse("admin-organisations"), status=status,
                                             kind=kind_value, q=query, page=n),
    })


def _review_page(request: Request, db_session: Session, organisation_id: int, *,
                 errors: dict[str, str] | None = None, note: str = "") -> Template:
    organisation, creator, verifier = organisations.admin_review(db_session, principal_of(request), organisation_id)
    return render(request, "admin/organisations_review.html", {
        "section": "organisations", "organisation": organisation, "creator": creator, "verifier": verifier,
        "kind_labels": ORGANISATION_KIND_LABELS, "errors": errors or {}, "note": note,
        "nta_url": organisations.nta_lookup_url(organisation.corporate_number),
    })


@get("/admin/organisations/{organisation_id:int}", name="admin-organisation", guards=[verifiers],
     sync_to_thread=True)
def admin_review(request: Request, db_session: DbSession, organisation_id: FromPath[int]) -> Template:
    return _review_page(request, db_session, organisation_id)


def _review_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                  organisation_id: int, **_kwargs: Any) -> Template:
    return _review_page(request, db_session, organisation_id, errors=failed.errors,
                        note=_shown(form, {"note": 2000}).get("note", ""))


@post("/admin/organisations/{organisation_id:int}/verify", name="admin-organisation-verify", guards=[verifiers],
      sync_to_thread=True)
@again_on_invalid(_review_again)
def admin_verify(request: Request, db_session: DbSession, settings: AppSettings, organisation_id: FromPath[int],
                 data: Form) -> Template | Redirect:
    organisations.verify(db_session, settings, principal_of(request), organisation_id,
                         organisations.VerifyForm.parse(data))
    return after_post(request, request.app.route_reverse("admin-organisations"),
                      message=_("The organisation is now verified."))


@post("/admin/organisations/{organisation_id:int}/unverify", name="admin-organisation-unverify",
      guards=[verifiers], sync_to_thread=True)
@again_on_invalid(_review_again)
def admin_unverify(request: Request, db_session: DbSession, settings: AppSettings, organisation_id: FromPath[int],
                   data: Form) -> Template | Redirect:
    organisations.unverify(db_session, settings, principal_of(request), organisation_id,
                           organisations.UnverifyForm.parse(data))
    return after_post(request, request.app.route_reverse("admin-organisation", organisation_id=organisation_id),
                      message=_("The verification has been withdrawn."))


organisations_router = Router(
    path="/",
    route_handlers=[organisation_list, organisation_detail, new_form, create, edit_form, update, members_page,
                    invite, revoke_invitation, remove_member, leave, set_admin, invitation_page, accept_invitation,
                    my_organisations, admin_queue, admin_review, admin_verify, admin_unverify],
    include_in_schema=False,
)

ROUTES: list[Any] = [organisations_router]
