"""The site pages (/terms, /privacy, /about, /help, /accessibility, /contact) and their editing under
/admin/pages. The editing routes are guarded by ``page.edit``; the services check the actor again."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate import permissions
from cocreate.accounts.consents import EXEMPT
from cocreate.accounts.permissions import allowed_to, principal_of
from cocreate.errors import Invalid, NotFound
from cocreate.i18n import gettext as _
from cocreate.pages import services
from cocreate.pages.models import PAGE_LABELS, VERSIONED_PAGES, SitePage
from cocreate.web.dependencies import DbSession
from cocreate.web.forms import Form, again_on_invalid, parse_id
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page

HELPERS = {"page_labels": PAGE_LABELS, "versioned_pages": VERSIONED_PAGES, "section": "pages"}


def _page(value: str) -> SitePage:
    """The page of an address, or :class:`NotFound` (404)."""
    return services.parse_page(value)


def _show(request: Request, db_session: Session, page: SitePage) -> Template:
    view = services.current(db_session, page)  # NotFound (404) before the page's first revision
    return render(request, "pages/page.html", {"view": view, "page": page})


def _page_handler(page: SitePage) -> Any:
    # One handler per address: Litestar mishandles a handler with several paths once a second app (tests
    # build more than one) registers it.
    @get(f"/{page.value}", name=f"site-page-{page.value}", sync_to_thread=True, opt=EXEMPT, include_in_schema=False)
    def site_page(request: Request, db_session: DbSession) -> Template:
        """A page as everyone sees it, in the reader's language; readable before agreeing to a new version."""
        return _show(request, db_session, page)

    return site_page


PAGE_HANDLERS = [_page_handler(page) for page in SitePage]


# --- administration ------------------------------------------------------------------------------


@get("/", name="admin-pages", sync_to_thread=True)
def page_list(request: Request, db_session: DbSession) -> Template:
    rows = services.overview(db_session, principal_of(request))
    return render(request, "admin/pages.html", {**HELPERS, "rows": rows})


def _edit_page(request: Request, db_session: Session, page: SitePage, form: services.PageForm | dict[str, Any],
               errors: dict[str, str], started_from: Any = None) -> Template:
    try:
        current = services.current(db_session, page).revision
    except NotFound:
        current = None
    return render(request, "admin/page_form.html", {
        **HELPERS, "page": page, "form": form, "errors": errors, "current": current, "started_from": started_from,
        "limits": {"title": services.TITLE_MAX, "body": services.BODY_MAX, "note": services.NOTE_MAX},
    })


@get("/{slug:str}/edit", name="admin-page-edit", sync_to_thread=True)
def page_edit(request: Request, db_session: DbSession, slug: FromPath[str], start: FromQuery[str] = "") -> Template:
    """The form, holding the current text, or an earlier revision's (``?start=<revision id>``) to restore it."""
    actor = principal_of(request)
    permissions.require(actor, "page.edit")
    site_page = _page(slug)
    try:
        current = services.current(db_session, site_page).revision
    except NotFound:
        current = None
    started_from = None
    if (start_id := parse_id(start)) is not None:
        started_from = services.revision(db_session, actor, site_page, start_id).revision
    source = started_from or current
    form = services.PageForm.of(source, current) if source is not None else services.PageForm.model_construct()
    if started_from is not None:
        form = form.model_copy(update={"note": _("Restores revision %(number)s.", number=started_from.id)})
    return _edit_page(request, db_session, site_page, form, {}, started_from=started_from)


def _save_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session, slug: str,
                **_kwargs: Any) -> Template:
    site_page = _page(slug)
    shown = {name: form.get(name, "") for name in services.PageForm.model_fields} | {
        "new_version": form.get("new_version", "") in ("on", "yes", "true", "1")}
    if "conflict" in failed.errors:
        # Build on the newest revision from now on: saving again is then a choice made knowingly.
        shown["base_revision_id"] = str(services.current(db_session, site_page).revision.id)
    return _edit_page(request, db_session, site_page, shown, failed.errors)


@post("/{slug:str}/edit", name="admin-page-save", sync_to_thread=True)
@again_on_invalid(_save_again)
def page_save(request: Request, db_session: DbSession, slug: FromPath[str], data: Form) -> Template | Redirect:
    site_page = _page(slug)
    revision = services.save(db_session, principal_of(request), site_page, services.PageForm.parse(data))
    if revision.new_version:
        message = _("%(page)s was saved as version %(version)s. Everyone will be asked to agree to it.",
                    page=str(PAGE_LABELS[site_page]), version=revision.version)
    else:
        message = _("%(page)s was saved.", page=str(PAGE_LABELS[site_page]))
    return after_post(request, request.app.route_reverse("admin-page-history", slug=site_page.value), message=message)


@get("/{slug:str}/revisions", name="admin-page-history", sync_to_thread=True)
def page_history(request: Request, db_session: DbSession, slug: FromPath[str],
                 page: FromQuery[str] = "1") -> Template:
    site_page = _page(slug)
    page_number, _per_page = clamp_page(page)
    rows = services.history(db_session, principal_of(request), site_page, page_number)

    history = request.app.route_reverse("admin-page-history", slug=site_page.value)

    def url_for_page(n: int) -> str:
        return f"{history}?" + urlencode({"page": n})

    return render(request, "admin/page_history.html",
                  {**HELPERS, "page": site_page, "rows": rows, "url_for_page": url_for_page})


@get("/{slug:str}/revisions/{revision_id:int}", name="admin-page-revision", sync_to_thread=True)
def page_revision(request: Request, db_session: DbSession, slug: FromPath[str],
                  revision_id: FromPath[int]) -> Template:
    site_page = _page(slug)
    row = services.revision(db_session, principal_of(request), site_page, revision_id)
    current = services.current(db_session, site_page).revision
    return render(request, "admin/page_revision.html",
                  {**HELPERS, "page": site_page, "row": row, "is_current": current.id == row.revision.id})


admin_pages_router = Router(
    path="/admin/pages",
    guards=[allowed_to("page.edit")],
    route_handlers=[page_list, page_edit, page_save, page_history, page_revision],
    include_in_schema=False,
)

ROUTES: list[Any] = [*PAGE_HANDLERS, admin_pages_router]
