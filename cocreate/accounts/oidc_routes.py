"""Sign-in with OpenID Connect providers: start, the provider's answer, and the new-account form."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from cocreate.accounts import auth, oidc
from cocreate.errors import Invalid, NotFound
from cocreate.forms import as_text
from cocreate.i18n import get_locale
from cocreate.i18n import gettext as _
from cocreate.settings import OidcProvider, Settings
from cocreate.web.dependencies import WRITES, AppSettings, DbSession
from cocreate.web.forms import Form, again_on_invalid
from cocreate.web.forms import safe_next as _safe_next
from cocreate.web.htmx import after_post, render
from cocreate.web.ratelimit import limited

NO_STORE = {"Cache-Control": "no-store"}
CALLBACK_PARAMS = ("state", "code", "error", "iss")


def _provider(settings: Settings, slug: str) -> OidcProvider:
    provider = settings.oidc_provider(slug)
    if provider is None:
        raise NotFound()
    return provider


def _error_page(request: Request, provider: OidcProvider | None, error: oidc.OidcError) -> Template:
    oidc.log.warning("OpenID Connect sign-in failed: %s", error.detail)
    template = render(request, "accounts/oidc_error.html", {"provider": provider, "message": error.message},
                      status_code=error.status_code)
    template.headers.update(NO_STORE)
    return template


def _conclude(request: Request, settings: Settings, provider: OidcProvider, outcome: oidc.Outcome,
              next_url: str) -> Template | Redirect:
    if isinstance(outcome, oidc.SignedIn):
        auth.sign_in(request, outcome.user)
        if outcome.created:
            message = _("Welcome to cocreate, %(name)s. Your account has been created.", name=outcome.user.display_name)
        elif outcome.linked:
            message = _("Your %(provider)s account is now linked to your cocreate account. Signed in as %(name)s.",
                        provider=provider.name, name=outcome.user.display_name)
        else:
            message = _("Signed in as %(name)s.", name=outcome.user.display_name)
        return after_post(request, _safe_next(next_url), message=message)
    if isinstance(outcome, oidc.NeedsCompletion):
        oidc.keep_pending(request.session, outcome.identity, _safe_next(next_url))
        return Redirect(path=request.app.route_reverse("oidc-complete"), status_code=303, headers=NO_STORE)
    oidc.forget_pending(request.session)
    template = render(request, "accounts/oidc_refused.html",
                      {"provider": provider, "reason": outcome.reason.value, "email": outcome.email},
                      status_code=403)
    template.headers.update(NO_STORE)
    return template


@get("/{slug:str}/start", name="oidc-start", sync_to_thread=True, opt=limited("oidc-start"))
def start(request: Request, settings: AppSettings, slug: FromPath[str],
          next: FromQuery[str] = "") -> Redirect | Template:
    """Send the browser to the provider (a GET link only redirects; nothing is changed but the session,
    which is why it is counted: ``limited("oidc-start")``)."""
    provider = _provider(settings, slug)
    try:
        url = oidc.begin(request.session, settings, provider, _safe_next(next))
    except oidc.OidcError as error:
        return _error_page(request, provider, error)
    return Redirect(path=url, status_code=303, headers=NO_STORE)


@get("/{slug:str}/callback", name="oidc-callback", sync_to_thread=True, opt=WRITES)
def callback(request: Request, db_session: DbSession, settings: AppSettings, slug: FromPath[str]) -> Redirect | Template:
    """The provider's answer: verify it, then sign in, link, refuse or ask to complete a new account."""
    provider = _provider(settings, slug)
    params = {name: request.query_params.get(name) for name in CALLBACK_PARAMS}
    try:
        identity, next_url = oidc.finish(request.session, settings, provider, params)
    except oidc.OidcError as error:
        return _error_page(request, provider, error)
    return _conclude(request, settings, provider, oidc.resolve(db_session, identity), next_url)


def _pending_or_error(request: Request, settings: Settings) -> tuple[oidc.PendingAccount, OidcProvider] | Template:
    pending = oidc.pending_account(request.session, settings)
    if pending is None:
        oidc.forget_pending(request.session)
        return _error_page(request, None, oidc.OidcError(
            _("This sign-in attempt has expired or was already used. Nothing was changed. Start again from the "
              "sign-in page."), "no pending OpenID Connect account in the session"))
    return pending, _provider(settings, pending.provider)


def _complete_page(request: Request, pending: oidc.PendingAccount, provider: OidcProvider, form: dict[str, Any],
                   errors: dict[str, str]) -> Template:
    template = render(request, "accounts/oidc_complete.html",
                      {"pending": pending, "provider": provider, "form": form, "errors": errors})
    template.headers.update(NO_STORE)
    return template


@get("/complete", name="oidc-complete", sync_to_thread=False)
def complete_form(request: Request, settings: AppSettings) -> Template:
    found = _pending_or_error(request, settings)
    if isinstance(found, Template):
        return found
    pending, provider = found
    return _complete_page(request, pending, provider, {"display_name": pending.suggested_name}, {})


def _complete_again(failed: Invalid, form: dict[str, Any], *, request: Request, settings: Settings,
                    **_kwargs: Any) -> Template:
    found = _pending_or_error(request, settings)
    if isinstance(found, Template):
        return found
    pending, provider = found
    shown = {"display_name": as_text(form.get("display_name"))[:200]}
    return _complete_page(request, pending, provider, shown, failed.errors)


@post("/complete", name="oidc-complete-submit", sync_to_thread=True, opt=limited("register"))
@again_on_invalid(_complete_again)
def complete_submit(request: Request, db_session: DbSession, settings: AppSettings, data: Form) -> Template | Redirect:
    found = _pending_or_error(request, settings)
    if isinstance(found, Template):
        return found
    pending, provider = found
    outcome = oidc.complete_sign_up(db_session, pending, oidc.CompletionForm.parse(data), locale=get_locale())
    return _conclude(request, settings, provider, outcome, pending.next_url)


oidc_router = Router(
    path="/account/oidc",
    route_handlers=[start, callback, complete_form, complete_submit],
    include_in_schema=False,
)

ROUTES: list[Any] = [oidc_router]
