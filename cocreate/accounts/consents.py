"""Consent to the versioned terms of use and privacy policy.

The published version of each document is the version of its newest revision (``cocreate.pages``).
Every signed-in request compares it with the versions the user last agreed to (kept on the user row,
which the request loads anyway); a user behind is taken to the agreement page before anything else.
The published versions are read in one query and kept per process for :data:`VERSIONS_TTL` seconds;
the process that publishes a new version forgets them at once, the others within the TTL.

Declining is not a state of its own: a user who does not agree signs out (or downloads their data and
deletes their account, which stay possible without agreeing), and is asked again at the next sign-in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from litestar import Request, Response
from litestar.concurrency import sync_to_thread
from litestar.response import Redirect
from sqlmodel import Session, col, select

from cocreate.accounts.models import Consent, ConsentDocument, User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.db import transactional
from cocreate.errors import Invalid
from cocreate.i18n import get_locale
from cocreate.i18n import gettext as _
from cocreate.pages.models import VERSIONED_PAGES, PageRevision
from cocreate.web.forms import safe_next
from cocreate.web.htmx import is_htmx

VERSIONS_TTL = 30.0
EXEMPT = {"consent_exempt": True}
"""``opt`` of a handler a user who has not agreed to the current versions may still reach: the documents
themselves, the agreement page, signing out, downloading their data and deleting their account."""
FREE_PREFIXES = ("/static/", "/api/", "/schema", "/healthz", "/readyz")
"""Files, the read API and health checks: nothing there takes part, so nothing there asks for consent."""

Versions = Mapping[ConsentDocument, str]

_versions: dict[str, tuple[float, dict[ConsentDocument, str]]] = {}
_lock = threading.Lock()


def _cache_key(bind: Any) -> str:
    return str(bind.engine.url)


def _load(session: Session) -> dict[ConsentDocument, str]:
    newest = (select(sa.func.max(PageRevision.id))
              .where(col(PageRevision.page).in_(list(VERSIONED_PAGES)))
              .group_by(PageRevision.page))
    rows = session.exec(select(PageRevision.page, PageRevision.version)
                        .where(col(PageRevision.id).in_(newest.scalar_subquery()))).all()
    return {VERSIONED_PAGES[page]: version for page, version in rows if version}


def current_versions(session: Session) -> dict[ConsentDocument, str]:
    """The published version of the terms and of the privacy policy (a document with none is left out)."""
    key = _cache_key(session.get_bind())
    now = time.monotonic()
    hit = _versions.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    versions = _load(session)
    with _lock:
        _versions[key] = (now + VERSIONS_TTL, versions)
    return versions


def forget_versions() -> None:
    """Read the published versions again on next use (after publishing one, and between tests)."""
    with _lock:
        _versions.clear()


def agreed_version(user: User, document: ConsentDocument) -> str | None:
    return user.terms_version if document is ConsentDocument.TERMS else user.privacy_version


def outstanding(user: User, versions: Versions) -> list[ConsentDocument]:
    """The documents whose published version ``user`` has not agreed to, terms first."""
    return [document for document in ConsentDocument
            if document in versions and agreed_version(user, document) != versions[document]]


def record(session: Session, user: User, versions: Versions, documents: list[ConsentDocument] | None = None) -> None:
    """Record that ``user`` agrees to ``versions`` (of ``documents``, all by default); the caller commits."""
    assert user.id is not None
    documents = list(versions) if documents is None else documents
    held = set(session.exec(select(Consent.document, Consent.version).where(Consent.user_id == user.id)).all())
    for document in documents:
        version = versions[document]
        if (document, version) not in held:
            session.add(Consent(user_id=user.id, document=document, version=version))  # type: ignore[arg-type]
        if document is ConsentDocument.TERMS:
            user.terms_version = version
        else:
            user.privacy_version = version
    session.add(user)


class ConsentChanged(Exception):
    """The versions shown to the person are no longer the published ones."""


def check_shown(versions: Versions, shown: Mapping[ConsentDocument, str]) -> None:
    """Refuse an agreement to versions other than the published ones (a new version came out meanwhile).

    A form that sent no version (an older page) agrees to what is published now."""
    for document, version in shown.items():
        if version and versions.get(document) != version:
            raise ConsentChanged(document)


# --- the agreement page --------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A document to agree to again: its published version, since when, and what changed."""

    document: ConsentDocument
    version: str
    title: str
    since: datetime
    note: str
    first_time: bool
    """The user has agreed to no version of it yet (an account made on the command line, say)."""


def pending(session: Session, actor: Principal) -> list[Pending]:
    """What the acting user has still to agree to (empty when they are up to date)."""
    user = require_signed_in(actor)
    versions = current_versions(session)
    documents = outstanding(user, versions)
    if not documents:
        return []
    pages = {document: page for page, document in VERSIONED_PAGES.items()}
    rows = session.exec(select(PageRevision)
                        .where(col(PageRevision.page).in_([pages[document] for document in documents]),
                               col(PageRevision.version).in_([versions[document] for document in documents]))
                        .order_by(col(PageRevision.id))).all()
    result = []
    for document in documents:
        revisions = [r for r in rows if r.page == pages[document] and r.version == versions[document]]
        first, newest = revisions[0], revisions[-1]
        result.append(Pending(document=document, version=versions[document], title=newest.title(get_locale()),
                              since=first.created_at, note=first.note,
                              first_time=agreed_version(user, document) is None))
    return result


@transactional
def agree(session: Session, actor: Principal, accepted: Mapping[ConsentDocument, bool],
          shown: Mapping[ConsentDocument, str]) -> User:
    """Record the acting user's agreement to the published versions they have not agreed to yet.

    Every outstanding document must be accepted; versions published after the page was shown are
    refused (the page then shows them). Raises :class:`cocreate.errors.Invalid`. Commits.
    """
    principal_user = require_signed_in(actor)
    versions = current_versions(session)
    user = session.get(User, principal_user.id, with_for_update=True)
    if user is None or not user.is_active:
        raise Invalid({"accept_terms": _("This account cannot sign in. Contact the ward if you think "
                                                   "this is a mistake.")})
    try:
        check_shown(versions, shown)
    except ConsentChanged:
        raise Invalid({"changed": _("A newer version was published while you were reading. "
                                             "Read it and agree again.")}) from None
    documents = outstanding(user, versions)
    errors: dict[str, str] = {}
    if ConsentDocument.TERMS in documents and not accepted.get(ConsentDocument.TERMS):
        errors["accept_terms"] = _("Agree to the terms of use to continue.")
    if ConsentDocument.PRIVACY in documents and not accepted.get(ConsentDocument.PRIVACY):
        errors["accept_privacy"] = _("Agree to the privacy policy to continue.")
    if errors:
        raise Invalid(errors)
    record(session, user, versions, documents)
    return user


# --- the gate every signed-in request passes -------------------------------------------------------


def _exempt(request: Request) -> bool:
    return bool(request.route_handler.opt.get("consent_exempt")) or request.url.path.startswith(FREE_PREFIXES)


def _versions_for(request: Request) -> dict[ConsentDocument, str]:
    with request.app.state.database.reading() as session:
        return current_versions(session)


def _target(request: Request) -> str:
    if request.method in ("GET", "HEAD"):
        query = request.url.query
        return safe_next(request.url.path + (f"?{query}" if query else ""))
    referer = request.headers.get("referer", "")
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return safe_next(referer[len(origin):]) if referer.startswith(origin + "/") else request.app.route_reverse("home")


async def consent_gate(request: Request) -> Response[Any] | Redirect | None:
    """``before_request``: a signed-in user who has not agreed to the published versions is sent to the
    agreement page first, with the page they asked for to return to.

    htmx GETs (a filter, a poll of the notification count) are let through: sending a half-typed page
    away from under its user is worse than a few seconds' delay; their next page view or form post goes
    to the agreement page. A form post is not carried out; its page stays in the browser's history.
    """
    user = request.scope.get("user")
    if user is None or _exempt(request):
        return None
    htmx = is_htmx(request)
    if htmx and request.method in ("GET", "HEAD"):
        return None
    key = _cache_key(request.app.state.database.engine)
    hit = _versions.get(key)
    versions = hit[1] if hit is not None and hit[0] > time.monotonic() else await sync_to_thread(_versions_for, request)
    if not outstanding(user, versions):
        return None
    location = f"{request.app.route_reverse('consent')}?{urlencode({'next': _target(request)})}"
    if htmx:
        return Response(content=b"", status_code=200, headers={"HX-Redirect": location})
    return Redirect(path=location, status_code=303)
