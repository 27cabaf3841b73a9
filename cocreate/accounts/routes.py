"""Registration, e-mail confirmation, sign-in and out, password reset."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate.accounts import auth, consents, services
from cocreate.accounts.models import ConsentDocument
from cocreate.accounts.permissions import principal_of, signed_in
from cocreate.accounts.services import AsSent, FormModel
from cocreate.errors import Invalid
from cocreate.forms import Flag, as_text
from cocreate.i18n import LOCALE_COOKIE, SUPPORTED_LOCALES, get_locale, using_locale
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import WRITES, AppSettings, DbSession
from cocreate.web.forms import Form, again_on_invalid
from cocreate.web.forms import safe_next as _safe_next
from cocreate.web.htmx import after_post, render
from cocreate.web.ratelimit import client_address, limited


def _register_page(request: Request, db_session: Session, form: dict[str, Any], errors: dict[str, str]) -> Template:
    # The versions shown go back with the form: agreeing is to these, not to one published meanwhile.
    versions = consents.current_versions(db_session)
    return render(request, "accounts/register.html", {"form": form, "errors": errors, "versions": versions})


@get("/register", name="register", sync_to_thread=True)
def register_form(request: Request, db_session: DbSession) -> Template:
    return _register_page(request, db_session, {}, {})


def _register_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                    **_kwargs: Any) -> Template:
    shown = {"email": as_text(form.get("email"))[:400], "display_name": as_text(form.get("display_name"))[:200]}
    return _register_page(request, db_session, shown, failed.errors)


@post("/register", name="register-submit", sync_to_thread=True, opt=limited("register"))
@again_on_invalid(_register_again)
def register_submit(request: Request, db_session: DbSession, settings: AppSettings, data: Form) -> Template | Redirect:
    form = services.RegistrationForm.parse({**data, "locale": get_locale()})
    services.register(db_session, settings, form)
    return render(request, "accounts/check_email.html", {"email": form.email})


@get("/confirm/{token:str}", name="confirm-email", sync_to_thread=True, opt=WRITES)
def confirm(request: Request, db_session: DbSession, token: FromPath[str]) -> Template | Redirect:
    user = services.confirm_email(db_session, token)
    if user is None:
        return render(request, "accounts/link_invalid.html", {}, status_code=400)
    return after_post(request, request.app.route_reverse("sign-in"),
                      message=_("Your e-mail address is confirmed. You can sign in now."))


@get("/sign-in", name="sign-in", sync_to_thread=False)
def sign_in_form(request: Request, next: FromQuery[str] = "", lang: FromQuery[str] = "") -> Template:
    return render(request, "accounts/sign_in.html", {"form": {}, "errors": {}, "next": _safe_next(next),
                                                     "page_lang": _chosen_language(lang)})


def _chosen_language(value: str) -> str:
    """A language the visitor chose on the sign-in page itself (its language switcher), or ""."""
    return value if value in SUPPORTED_LOCALES else ""


def _sign_in_again(failed: Invalid, form: dict[str, Any], *, request: Request, **_kwargs: Any) -> Template:
    context = {"form": {"email": as_text(form.get("email"))[:400]}, "errors": failed.errors,
               "next": _safe_next(as_text(form.get("next"))[:500]),
               "page_lang": _chosen_language(as_text(form.get("lang"))[:10])}
    return render(request, "accounts/sign_in.html", context)


@post("/sign-in", name="sign-in-submit", sync_to_thread=True, opt=limited("sign-in"))
@again_on_invalid(_sign_in_again)
def sign_in_submit(request: Request, db_session: DbSession, settings: AppSettings, data: Form) -> Template | Redirect:
    form = services.SignInForm.parse(data)
    user = services.authenticate(db_session, form.email, form.password, client_address(request))
    auth.sign_in(request, user)
    # The language chosen in the profile follows the person to every device they sign in on, unless they
    # have just chosen another on the sign-in page itself: what they chose on the page wins.
    locale = _chosen_language(form.lang) or user.locale
    with using_locale(locale):
        message = _("Signed in as %(name)s.", name=user.display_name)
    response = after_post(request, _safe_next(form.next), message=message)
    response.set_cookie(LOCALE_COOKIE, locale, max_age=365 * 24 * 3600, path="/", samesite="lax", httponly=True,
                        secure=settings.secure_cookies)
    return response


@post("/sign-out", name="sign-out", sync_to_thread=False, opt=consents.EXEMPT)
def sign_out(request: Request) -> Redirect | Template:
    auth.sign_out(request)
    return after_post(request, request.app.route_reverse("home"), message=_("You have signed out."))


@get("/password/forgot", name="password-forgot", sync_to_thread=False)
def forgot_form(request: Request) -> Template:
    return render(request, "accounts/forgot.html", {"form": {}, "errors": {}, "sent": False})


def _forgot_again(failed: Invalid, form: dict[str, Any], *, request: Request, **_kwargs: Any) -> Template:
    shown = {"email": services.normalize_email(as_text(form.get("email"))[:400])}
    return render(request, "accounts/forgot.html", {"form": shown, "errors": failed.errors, "sent": False})


@post("/password/forgot", name="password-forgot-submit", sync_to_thread=True, opt=limited("password-reset"))
@again_on_invalid(_forgot_again)
def forgot_submit(request: Request, db_session: DbSession, data: Form) -> Template:
    email = services.ForgotForm.parse(data).email
    services.request_password_reset(db_session, email)
    return render(request, "accounts/forgot.html", {"form": {}, "errors": {}, "sent": True, "email": email})


@get("/password/reset/{token:str}", name="password-reset", sync_to_thread=False)
def reset_form(request: Request, token: FromPath[str]) -> Template:
    return render(request, "accounts/reset.html", {"token": token, "errors": {}})


def _reset_again(failed: Invalid, _form: dict[str, Any], *, request: Request, token: str,
                 **_kwargs: Any) -> Template:
    if "token" in failed.errors:
        return render(request, "accounts/link_invalid.html", {}, status_code=400)
    return render(request, "accounts/reset.html", {"token": token, "errors": failed.errors})


@post("/password/reset/{token:str}", name="password-reset-submit", sync_to_thread=True)
@again_on_invalid(_reset_again)
def reset_submit(request: Request, db_session: DbSession, token: FromPath[str], data: Form) -> Template | Redirect:
    services.reset_password(db_session, token, services.ResetForm.parse(data).password)
    auth.sign_out(request)
    return after_post(request, request.app.route_reverse("sign-in"),
                      message=_("Your password has been changed. Sign in with it."))


# --- agreeing to a new version of the terms or the privacy policy ---------------------------------


class ConsentForm(FormModel):
    """What the consent form sends: the boxes ticked, and the versions it showed."""

    next: Annotated[str, AsSent(500)] = ""
    accept_terms: Annotated[bool, Flag()] = False
    accept_privacy: Annotated[bool, Flag()] = False
    terms_version: Annotated[str, AsSent(40)] = ""
    privacy_version: Annotated[str, AsSent(40)] = ""


def _consent_page(request: Request, db_session: Session, target: str, errors: dict[str, str]) -> Template | Redirect:
    documents = consents.pending(db_session, principal_of(request))
    if not documents and not errors:
        return Redirect(path=target, status_code=303)
    return render(request, "accounts/consent.html", {"documents": documents, "next": target, "errors": errors})


@get("/consent", name="consent", guards=[signed_in], sync_to_thread=True, opt=consents.EXEMPT)
def consent_form(request: Request, db_session: DbSession, next: FromQuery[str] = "") -> Template | Redirect:
    return _consent_page(request, db_session, _safe_next(next), {})


def _consent_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                   **_kwargs: Any) -> Template | Redirect:
    return _consent_page(request, db_session, _safe_next(as_text(form.get("next"))[:500]), failed.errors)


@post("/consent", name="consent-submit", guards=[signed_in], sync_to_thread=True, opt=consents.EXEMPT)
@again_on_invalid(_consent_again)
def consent_submit(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    form = ConsentForm.parse(data)
    consents.agree(
        db_session, principal_of(request),
        accepted={ConsentDocument.TERMS: form.accept_terms, ConsentDocument.PRIVACY: form.accept_privacy},
        shown={ConsentDocument.TERMS: form.terms_version, ConsentDocument.PRIVACY: form.privacy_version},
    )
    return after_post(request, _safe_next(form.next), message=_("Thank you. You can continue where you were."))


account_router = Router(
    path="/account",
    route_handlers=[register_form, register_submit, confirm, sign_in_form, sign_in_submit, sign_out,
                    forgot_form, forgot_submit, reset_form, reset_submit, consent_form, consent_submit],
    include_in_schema=False,
)
def _all_routes() -> list[Any]:
    from cocreate.accounts import admin_routes, oidc_routes, organisations_routes, self_service_routes

    return [account_router, *oidc_routes.ROUTES, *organisations_routes.ROUTES, *admin_routes.ROUTES,
            *self_service_routes.ROUTES]


ROUTES = _all_routes()
