"""My account (profile, password, e-mail, residency, data download, deletion) and the staff's
residency verification pages."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import File, Redirect, Template
from pydantic import Field
from sqlmodel import Session

from cocreate import components, i18n
from cocreate.accounts import auth, consents, data_export, residency, self_service
from cocreate.accounts.models import AGE_BAND_LABELS, ROLE_LABELS, ResidencyStatus
from cocreate.accounts.permissions import allowed_to, principal_of, signed_in
from cocreate.accounts.services import AsSent, FormModel
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.forms import RowIds, as_text
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from cocreate.web.dependencies import WRITES, AppSettings, DbSession
from cocreate.web.forms import Form, again_on_invalid
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page
from cocreate.web.ratelimit import limited

STAFF_PER_PAGE = 50
LOCALE_COOKIE_AGE = 365 * 24 * 3600

STATUS_LABELS = {
    ResidencyStatus.REQUESTED: i18n.lazy_gettext("Waiting for a code"),
    ResidencyStatus.CODE_ISSUED: i18n.lazy_gettext("Code mailed"),
    ResidencyStatus.VERIFIED: i18n.lazy_gettext("Verified"),
    ResidencyStatus.REJECTED: i18n.lazy_gettext("Rejected"),
    ResidencyStatus.CANCELLED: i18n.lazy_gettext("Cancelled"),
}


def _shown(form: dict[str, Any], limits: dict[str, int]) -> dict[str, str]:
    """What was typed in these fields, to show again (cut to the lengths the fields were read at)."""
    return {name: as_text(form.get(name))[:limit] for name, limit in limits.items()}


def _no_store(response: Response[Any]) -> Response[Any]:
    response.headers["Cache-Control"] = "no-store"
    return response


# --- my account ----------------------------------------------------------------------------------


@get("/", name="account", guards=[signed_in], sync_to_thread=True)
def overview(request: Request, db_session: DbSession) -> Template:
    actor = principal_of(request)
    status = residency.resident_status(db_session, actor)
    return render(request, "accounts/overview.html", {
        "user": status.user, "status": status, "age_band_labels": AGE_BAND_LABELS,
        "roles": sorted({str(ROLE_LABELS[role]) for role, _department in actor.roles}),
    })


def _profile_page(request: Request, form: dict[str, str], errors: dict[str, str]) -> Template:
    return render(request, "accounts/profile.html", {
        "form": form, "errors": errors, "age_band_labels": AGE_BAND_LABELS,
        "locales": [(locale, i18n.locale_display_name(locale)) for locale in i18n.SUPPORTED_LOCALES],
    })


@get("/profile", name="account-profile", guards=[signed_in], sync_to_thread=True)
def profile_form(request: Request, db_session: DbSession) -> Template:
    user = residency.resident_status(db_session, principal_of(request)).user
    form = {"display_name": user.display_name, "area": user.area,
            "age_band": user.age_band.value if user.age_band else "", "locale": user.locale}
    return _profile_page(request, form, {})


def _profile_again(failed: Invalid, form: dict[str, Any], *, request: Request, **_kwargs: Any) -> Template:
    return _profile_page(request, _shown(form, {"display_name": 200, "area": 400, "age_band": 40, "locale": 10}),
                         failed.errors)


@post("/profile", name="account-profile-submit", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_profile_again)
def profile_submit(request: Request, db_session: DbSession, settings: AppSettings, data: Form) -> Template | Redirect:
    user = self_service.update_profile(db_session, principal_of(request), self_service.ProfileForm.parse(data))
    with i18n.using_locale(user.locale):
        message = _("Your profile has been saved.")
    response = after_post(request, request.app.route_reverse("account-profile"), message=message)
    # The chosen language applies to the pages at once, not only to e-mails.
    response.set_cookie(i18n.LOCALE_COOKIE, user.locale, max_age=LOCALE_COOKIE_AGE, path="/", samesite="lax",
                        secure=settings.secure_cookies)
    return response


@get("/password", name="account-password", guards=[signed_in], sync_to_thread=False)
def password_form(request: Request) -> Template:
    return render(request, "accounts/password.html", {"errors": {}})


def _password_again(failed: Invalid, _form: dict[str, Any], *, request: Request, **_kwargs: Any) -> Template:
    return render(request, "accounts/password.html", {"errors": failed.errors})


@post("/password", name="account-password-submit", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_password_again)
def password_submit(request: Request, db_session: DbSession, settings: AppSettings, data: Form) -> Template | Redirect:
    form = self_service.PasswordChangeForm.parse(data)
    user = self_service.change_password(db_session, settings, principal_of(request), form.current_password,
                                        form.new_password)
    auth.sign_in(request, user)  # a fresh session at the new epoch: this device stays signed in
    return after_post(request, request.app.route_reverse("account"),
                      message=_("Your password has been changed. Other devices were signed out."))


@get("/email", name="account-email", guards=[signed_in], sync_to_thread=False)
def email_form(request: Request) -> Template:
    return render(request, "accounts/email.html", {"form": {}, "errors": {}})


def _email_again(failed: Invalid, form: dict[str, Any], *, request: Request, **_kwargs: Any) -> Template:
    return render(request, "accounts/email.html", {"form": _shown(form, {"new_email": 400}), "errors": failed.errors})


@post("/email", name="account-email-submit", guards=[signed_in], sync_to_thread=True,
      opt=limited("email-change"))
@again_on_invalid(_email_again)
def email_submit(request: Request, db_session: DbSession, settings: AppSettings, data: Form) -> Template:
    form = self_service.EmailChangeForm.parse(data)
    email = self_service.request_email_change(db_session, settings, principal_of(request), form.new_email,
                                              form.password)
    return render(request, "accounts/email_sent.html", {"email": email})


@get("/email/confirm/{token:str}", name="account-email-confirm", sync_to_thread=True, opt=WRITES)
def email_confirm(request: Request, db_session: DbSession, token: FromPath[str]) -> Template | Redirect:
    user = self_service.confirm_email_change(db_session, token)
    if user is None:
        return render(request, "accounts/link_invalid.html", {}, status_code=400)
    message = _("Your e-mail address is now %(email)s.", email=user.email)
    if principal_of(request).user_id == user.id:
        return after_post(request, request.app.route_reverse("account"), message=message)
    return after_post(request, request.app.route_reverse("sign-in"), message=message)


# --- residency (the resident's side) -------------------------------------------------------------


def _residency_page(request: Request, db_session: Session, form: dict[str, str] | None = None,
                    errors: dict[str, str] | None = None) -> Template:
    status = residency.resident_status(db_session, principal_of(request))
    return render(request, "accounts/residency.html", {
        "status": status, "form": form or {}, "errors": errors or {}, "status_labels": STATUS_LABELS,
        "method": residency.POSTAL_CODE,
    })


@get("/residency", name="account-residency", guards=[signed_in], sync_to_thread=True)
def residency_page(request: Request, db_session: DbSession) -> Template:
    return _residency_page(request, db_session)


ADDRESS_FIELDS = {"full_name": 400, "postal_code": 40, "address": 1000}


def _residency_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                     **_kwargs: Any) -> Template:
    """The residency page with the errors; the address form keeps what was typed in it."""
    return _residency_page(request, db_session, _shown(form, ADDRESS_FIELDS), failed.errors)


class CodeForm(FormModel):
    """The code from the letter, as typed: :func:`residency.redeem_code` reads it."""

    code: Annotated[str, AsSent(100)] = ""


@post("/residency/request", name="account-residency-request", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_residency_again)
def residency_request(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    residency.request_code(db_session, principal_of(request), residency.AddressForm.parse(data))
    return after_post(request, request.app.route_reverse("account-residency"),
                      message=_("Your request has been received. The ward will mail you a code."))


@post("/residency/code", name="account-residency-code", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_residency_again)
def residency_code(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    residency.redeem_code(db_session, principal_of(request), CodeForm.parse(data).code)
    return after_post(request, request.app.route_reverse("account-residency"),
                      message=_("Thank you. You are now verified as a resident."))


@post("/residency/cancel", name="account-residency-cancel", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_residency_again)
def residency_cancel(request: Request, db_session: DbSession) -> Template | Redirect:
    residency.cancel_request(db_session, principal_of(request))
    return after_post(request, request.app.route_reverse("account-residency"),
                      message=_("Your request has been cancelled and your address erased."))


# --- privacy -------------------------------------------------------------------------------------


def _export_page(request: Request, db_session: Session, settings: Settings, errors: dict[str, str] | None = None,
                 status_code: int = 200) -> Template:
    return render(request, "accounts/export.html", {
        "sections": list(components.export_sections()), "errors": errors or {},
        "state": data_export.latest(db_session, settings, principal_of(request)), "days": settings.data_export_days,
    }, status_code=status_code)


@get("/export", name="account-export", guards=[signed_in], opt=consents.EXEMPT, sync_to_thread=True)
def export_page(request: Request, db_session: DbSession, settings: AppSettings) -> Template:
    return _no_store(_export_page(request, db_session, settings))  # type: ignore[return-value]


@post("/export", name="account-export-download", guards=[signed_in], opt=consents.EXEMPT, sync_to_thread=True)
def export_download(request: Request, db_session: DbSession) -> Response[bytes]:
    """The immediate download: one JSON file, built while the person waits (the zip with CSVs is mailed)."""
    body = self_service.export_json(self_service.export_data(db_session, principal_of(request)))
    today = utcnow().astimezone(i18n.WARD_TIMEZONE).date().isoformat()
    return _no_store(Response(body, status_code=200, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="cocreate-data-{today}.json"'}))


def _export_again(failed: Invalid, _form: dict[str, Any], *, request: Request, db_session: Session,
                  settings: Settings, **_kwargs: Any) -> Template:
    return _export_page(request, db_session, settings, failed.errors, status_code=409)


@post("/export/request", name="account-export-request", guards=[signed_in], opt={**consents.EXEMPT, **limited(
      "data-export")}, sync_to_thread=True)
@again_on_invalid(_export_again)
def export_request(request: Request, db_session: DbSession, settings: AppSettings) -> Template | Redirect:
    data_export.request_export(db_session, principal_of(request))
    return after_post(request, request.app.route_reverse("account-export"),
                      message=_("We are preparing your data. We will e-mail you a link when it is ready."))


@get("/export/file/{token:str}", name="account-export-file", guards=[signed_in], opt=consents.EXEMPT,
     sync_to_thread=True)
def export_file(request: Request, db_session: DbSession, settings: AppSettings, token: FromPath[str]) -> File:
    """The zip, for its signed-in owner only, while the link works (404 otherwise: nothing tells whose it is)."""
    path, name = data_export.open_file(db_session, settings, principal_of(request), token)
    response = File(path=path, filename=name, media_type="application/zip")
    response.headers["Cache-Control"] = "no-store"
    return response


@get("/delete", name="account-delete", guards=[signed_in], opt=consents.EXEMPT, sync_to_thread=False)
def delete_form(request: Request) -> Template:
    return render(request, "accounts/delete.html", {"errors": {}})


def _delete_again(failed: Invalid, _form: dict[str, Any], *, request: Request, **_kwargs: Any) -> Template:
    return render(request, "accounts/delete.html", {"errors": failed.errors})


@post("/delete", name="account-delete-submit", guards=[signed_in], opt=consents.EXEMPT, sync_to_thread=True)
@again_on_invalid(_delete_again)
def delete_submit(request: Request, db_session: DbSession, settings: AppSettings, data: Form) -> Template | Redirect:
    form = self_service.DeletionForm.parse(data)
    self_service.delete_account(db_session, settings, principal_of(request), form.password, form.confirm)
    auth.sign_out(request)
    return after_post(request, request.app.route_reverse("home"),
                      message=_("Your account has been deleted. Thank you for taking part."))


account_router = Router(
    path="/account",
    route_handlers=[overview, profile_form, profile_submit, password_form, password_submit, email_form,
                    email_submit, email_confirm, residency_page, residency_request, residency_code,
                    residency_cancel, export_page, export_download, export_request, export_file, delete_form, delete_submit],
    include_in_schema=False,
)


# --- residency (the staff's side) ----------------------------------------------------------------


def _staff_list(request: Request, db_session: Session, status: str = "", page: Any = 1,
                errors: dict[str, str] | None = None, find_email: str = "", status_code: int = 200) -> Template:
    actor = principal_of(request)
    status = status if status in residency.STATUS_FILTERS else ""
    number, per_page = clamp_page(page, STAFF_PER_PAGE)
    listing = residency.pending_requests(db_session, actor, status, number, per_page)
    return render(request, "staff/residency.html", {
        "page": listing, "status": status, "counts": residency.open_counts(db_session, actor),
        "errors": errors or {}, "find_email": find_email, "status_labels": STATUS_LABELS,
        "max_batch": residency.MAX_BATCH, "validity_days": residency.POSTAL_CODE.validity_days,
        "page_url": lambda number: staff_page_url(request, status, number),
    }, status_code=status_code)


@get("/", name="staff-residency", sync_to_thread=True)
def staff_list(request: Request, db_session: DbSession, status: FromQuery[str] = "",
               page: FromQuery[str] = "1") -> Template:
    return _staff_list(request, db_session, status, page)


class CodesForm(FormModel):
    """Codes for every request waiting for one (``scope=all``), or for the requests ticked."""

    scope: Annotated[str, AsSent(20)] = ""
    request_id: Annotated[list[int], RowIds(i18n.lazy_gettext("Select requests from the list."))] = Field(
        default_factory=list)

    @property
    def request_ids(self) -> list[int] | None:
        return None if self.scope == "all" else self.request_id


def _staff_list_again(failed: Invalid, _form: dict[str, Any], *, request: Request, db_session: Session,
                      **_kwargs: Any) -> Template:
    # The checkboxes are each a ``request_id``; their errors are shown beside the table, ``request_ids``.
    errors = {"request_ids" if name == "request_id" else name: message for name, message in failed.errors.items()}
    return _staff_list(request, db_session, errors=errors)


@post("/codes", name="staff-residency-codes", sync_to_thread=True)
@again_on_invalid(_staff_list_again)
def staff_codes(request: Request, db_session: DbSession, data: Form) -> Response[bytes] | Template:
    issued = residency.issue_codes(db_session, principal_of(request), CodesForm.parse(data).request_ids)
    stamp = utcnow().astimezone(i18n.WARD_TIMEZONE).strftime("%Y%m%d-%H%M%S")
    return _no_store(Response(residency.codes_csv(issued), status_code=200, media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="residency-codes-{stamp}.csv"'}))


@get("/find", name="staff-residency-find", sync_to_thread=True)
def staff_find(request: Request, db_session: DbSession, email: FromQuery[str] = "") -> Template | Redirect:
    user = residency.find_user(db_session, principal_of(request), email[:400])
    if user is None:
        message = _("No account has this e-mail address.") if email.strip() else _("Enter an e-mail address.")
        return _staff_list(request, db_session, errors={"email": message}, find_email=email[:400],
                           status_code=404 if email.strip() else 400)
    return Redirect(path=request.app.route_reverse("staff-residency-user", user_id=user.id), status_code=303)


def _staff_user(request: Request, db_session: Session, user_id: int, errors: dict[str, str] | None = None,
                form: dict[str, str] | None = None) -> Template:
    info = residency.user_residency(db_session, principal_of(request), user_id)
    return render(request, "staff/residency_user.html", {
        "info": info, "errors": errors or {}, "form": form or {}, "status_labels": STATUS_LABELS,
        "method_label": residency.method_label,
    })


@get("/users/{user_id:int}", name="staff-residency-user", sync_to_thread=True)
def staff_user(request: Request, db_session: DbSession, user_id: FromPath[int]) -> Template:
    return _staff_user(request, db_session, user_id)


def _staff_user_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                      user_id: int, **_kwargs: Any) -> Template:
    return _staff_user(request, db_session, user_id, failed.errors,
                       _shown(form, {"note": 2000, "reason": 2000, "revoke_reason": 2000}))


@post("/users/{user_id:int}/verify", name="staff-residency-verify", sync_to_thread=True)
@again_on_invalid(_staff_user_again)
def staff_verify(request: Request, db_session: DbSession, user_id: FromPath[int], data: Form) -> Template | Redirect:
    residency.mark_verified(db_session, principal_of(request), user_id, residency.VerifyForm.parse(data))
    return after_post(request, request.app.route_reverse("staff-residency-user", user_id=user_id),
                      message=_("The user is now verified as a resident."))


@post("/users/{user_id:int}/reject", name="staff-residency-reject", sync_to_thread=True)
@again_on_invalid(_staff_user_again)
def staff_reject(request: Request, db_session: DbSession, settings: AppSettings, user_id: FromPath[int],
                 data: Form) -> Template | Redirect:
    residency.reject_request(db_session, settings, principal_of(request), user_id, residency.RejectForm.parse(data))
    return after_post(request, request.app.route_reverse("staff-residency-user", user_id=user_id),
                      message=_("The request has been rejected and the resident told why."))


@post("/users/{user_id:int}/revoke", name="staff-residency-revoke", sync_to_thread=True)
@again_on_invalid(_staff_user_again)
def staff_revoke(request: Request, db_session: DbSession, settings: AppSettings, user_id: FromPath[int],
                 data: Form) -> Template | Redirect:
    residency.revoke(db_session, settings, principal_of(request), user_id, residency.RevokeForm.parse(data))
    return after_post(request, request.app.route_reverse("staff-residency-user", user_id=user_id),
                      message=_("The verification has been withdrawn and the resident told why."))


def staff_page_url(request: Request, status: str, page: int) -> str:
    query = {"status": status, "page": page} if status else {"page": page}
    return request.app.route_reverse("staff-residency") + "?" + urlencode(query)


staff_router = Router(
    path="/staff/residency",
    route_handlers=[staff_list, staff_codes, staff_find, staff_user, staff_verify, staff_reject, staff_revoke],
    guards=[allowed_to("residency.manage")],
    include_in_schema=False,
)

ROUTES: list[Any] = [account_router, staff_router]
