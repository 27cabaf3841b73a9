"""Friendly, translated error pages (and JSON errors under /api/)."""

from __future__ import annotations

import logging
import math
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.response import Redirect
from litestar.status_codes import HTTP_401_UNAUTHORIZED, HTTP_500_INTERNAL_SERVER_ERROR

from cocreate import i18n
from cocreate.db.engine import is_overload
from cocreate.errors import DomainError, Invalid, NotFound
from cocreate.i18n import gettext as _
from cocreate.web.load import busy

log = logging.getLogger(__name__)

CSRF_FAILURE = "CSRF token verification failed"


def _messages(status_code: int, exc: Exception | None) -> tuple[str, str]:
    """(title, explanation) for a status code, in the current locale."""
    if isinstance(exc, PermissionDeniedException) and str(exc.detail) == CSRF_FAILURE:
        return (
            _("This form has expired"),
            _(
                "The form was open too long or was sent from another site. Go back, reload the page and try again."
            ),
        )
    table = {
        400: (
            _("The request could not be processed"),
            _("Some of what was sent is not valid. Check it and try again."),
        ),
        401: (_("Please sign in"), _("You need to sign in to see this page.")),
        403: (
            _("You do not have permission"),
            _("Your account is not allowed to see this page or do this action."),
        ),
        404: (
            _("Page not found"),
            _("The page may have been moved or deleted. Check the address or go to the home page."),
        ),
        405: (_("Not allowed here"), _("This address does not accept that kind of request.")),
        413: (_("Too large"), _("What you sent is larger than we accept. Make it smaller and try again.")),
        429: (
            _("Too many requests"),
            _("You have made too many requests in a short time. Wait a little and try again."),
        ),
        503: (
            _("The site is very busy right now"),
            _(
                "Please try again in a few seconds. If you were sending a form, it was not saved: "
                "go back and send it again."
            ),
        ),
    }
    wait = _retry_after(exc)
    if status_code == 429 and wait >= 90:
        return table[429][0], _(
            "You have made too many requests in a short time. Try again in %(minutes)s minutes.",
            minutes=math.ceil(wait / 60),
        )
    if status_code in table:
        return table[status_code]
    if status_code >= 500:
        return (
            _("Something went wrong on our side"),
            _("The error has been recorded. Please try again later. Nothing you sent has been lost."),
        )
    return (_("The request could not be processed"), _("Please go back and try again."))


def _retry_after(exc: Exception | None) -> int:
    """The seconds a refusal asks the client to wait (its ``Retry-After``), 0 when it says none."""
    headers = exc.headers if isinstance(exc, HTTPException) and exc.headers else {}
    value = headers.get("Retry-After", "")
    return int(value) if value.isdigit() else 0


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/schema")) or (
        "application/json" in request.headers.get("accept", "")
        and "text/html" not in request.headers.get("accept", "")
    )


def _render(request: Request, status_code: int, exc: Exception | None) -> Response:
    locale = request.scope.get("state", {}).get("locale") or i18n.negotiate(
        request.query_params.get("lang") or request.cookies.get(i18n.LOCALE_COOKIE),
        request.headers.get("accept-language"),
    )
    headers = {}
    if isinstance(exc, HTTPException) and exc.headers:
        headers.update(exc.headers)
    with i18n.using_locale(locale):
        title, explanation = _messages(status_code, exc)
        if _wants_json(request):
            detail = exc.detail if isinstance(exc, HTTPException) and status_code < 500 else title
            body: dict[str, object] = {"status_code": status_code, "title": title, "detail": detail}
            if isinstance(exc, HTTPException) and exc.extra and status_code < 500:
                body["extra"] = exc.extra
            return Response(body, status_code=status_code, media_type=MediaType.JSON, headers=headers)
        template = request.app.template_engine.get_template("errors/error.html")
        html = template.render(request=request, status_code=status_code, title=title, explanation=explanation)
    return Response(html, status_code=status_code, media_type=MediaType.HTML, headers=headers)


def _same_site_path(url: str, request: Request) -> str | None:
    parts = urlsplit(url)
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    if parts.netloc and parts.netloc != request.url.netloc:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == HTTP_401_UNAUTHORIZED and not _wants_json(request):
        # A page that needs an account: sign in, then come back (GET) or to the form's page.
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        else:
            # After signing in the browser GETs `next`: return to the page the form was on, not to the
            # form's POST-only address.
            target = _same_site_path(request.headers.get("referer", ""), request) or request.app.route_reverse("home")
        return Redirect(path=f"{request.app.route_reverse('sign-in')}?{urlencode({'next': target})}", status_code=303)
    return _render(request, exc.status_code, exc)


ROW_ID_RANGE = range(-(2**31), 2**31)
"""Integers a row id can be on every supported database (PostgreSQL's INTEGER columns; SQLite's are wider)."""
MAX_ROW_ID = ROW_ID_RANGE.stop - 1
"""The bound of an id in a query parameter (``le=MAX_ROW_ID``): beyond it a driver fails to bind it."""


def refuse_impossible_ids(request: Request) -> None:
    """``before_request``: a path's integer beyond any row id (``/proposals/9223372036854775808``) names
    nothing, so it is a 404 here, before a database driver fails to bind or cast it."""
    for value in request.path_params.values():
        if isinstance(value, int) and value not in ROW_ID_RANGE:
            raise NotFound()


def domain_error_handler(request: Request, exc: DomainError) -> Response:
    """A service's refusal, answered like the HTTP error it stands for (the reason as its detail, the
    errors per field as ``extra`` in JSON)."""
    extra = {"errors": exc.errors} if isinstance(exc, Invalid) else None
    return http_exception_handler(request, HTTPException(status_code=exc.status_code, detail=exc.detail, extra=extra))


def internal_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _render(request, HTTP_500_INTERNAL_SERVER_ERROR, exc)


def database_error_handler(request: Request, exc: Exception) -> Response:
    """A wait for a connection or a lock that ran out is "busy, try again" (503), not a failure."""
    if not is_overload(exc):
        return internal_error_handler(request, exc)
    log.warning("busy: %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return http_exception_handler(request, busy(request.app.state.settings, "database busy"))


EXCEPTION_HANDLERS = {
    HTTPException: http_exception_handler,
    DomainError: domain_error_handler,
    sa.exc.SQLAlchemyError: database_error_handler,
    HTTP_500_INTERNAL_SERVER_ERROR: internal_error_handler,
}
