"""The transparency page: the audit log's signed checkpoints, public, with an Atom feed, so that
anyone can keep a copy and later check that the log was not cut short (see
:mod:`cocreate.audit.checkpoints`)."""

from __future__ import annotations

from litestar import Request, Response, Router, get
from litestar.response import Template

from cocreate.audit import checkpoints
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.feeds import Entry, Feed, atom_response
from cocreate.web.htmx import render

PAGE_SIZE = 50


@get("/transparency", name="transparency", sync_to_thread=True)
def transparency(request: Request, db_session: DbSession, settings: AppSettings) -> Template:
    return render(request, "audit/transparency.html", {
        "checkpoints": checkpoints.recent(db_session, PAGE_SIZE),
        "key": checkpoints.public_key(settings),
        "version": checkpoints.STATEMENT_VERSION,
    })


@get("/transparency/checkpoints.atom", name="transparency-feed", sync_to_thread=True)
def transparency_feed(request: Request, db_session: DbSession, settings: AppSettings) -> Response[bytes]:
    page = request.app.route_reverse("transparency")
    entries = [
        Entry(key=f"audit-checkpoint/{c.id}",
              title=_("Audit log checkpoint: %(count)s entries", count=c.entry_count),
              path=f"{page}#checkpoint-{c.id}", updated=c.created_at, published=c.created_at,
              summary=(f"entry_count={c.entry_count}\nhead_id={c.head_id}\nhead_hash={c.head_hash}\n"
                       f"signed_at={c.created_at.isoformat(timespec='seconds')}\nkey_id={c.key_id}\n"
                       f"signature={c.signature}"))
        for c in checkpoints.recent(db_session, PAGE_SIZE)
    ]
    return atom_response(settings, Feed(key="audit-checkpoints", title=_("Audit log checkpoints"),
                                        path=page, self_path=request.app.route_reverse("transparency-feed"),
                                        entries=entries))


ROUTES = [Router(path="/", route_handlers=[transparency, transparency_feed], include_in_schema=False)]
