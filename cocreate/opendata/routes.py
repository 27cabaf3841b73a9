"""Pages and files of the open data: the catalogue page (``/open-data``), the files of the current generation
(``/open-data/<file>``, the DCAT catalogue ``catalog.jsonld`` among them) and the staff's "generate now"
button.

The files are served from the data folder as static files: only the names the current generation's
manifest lists (nothing else in the folder, whatever the name), with their SHA-256 as a strong ETag, the
generation time as Last-Modified, and 304 Not Modified for a matching ``If-None-Match`` (or, without it, an
``If-Modified-Since`` not before the generation). The page reads the manifest and the manifests' dataset
declarations: no database query of its own.
"""

from __future__ import annotations

from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath
from litestar.response import File, Redirect, Template

from cocreate import components
from cocreate.accounts.permissions import principal_of
from cocreate.errors import NotFound
from cocreate.i18n import gettext as _
from cocreate.opendata import generate as files
from cocreate.opendata import services
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.downloads import content_disposition, file_size
from cocreate.web.htmx import after_post, render

CACHE = "public, max-age=300, must-revalidate"
"""The files change once a day or when staff ask: caches keep them briefly and revalidate (ETag)."""
INLINE = {files.CATALOG, files.MANIFEST, files.README}


@get("/open-data", name="open-data", sync_to_thread=True)
def catalogue_page(request: Request, settings: AppSettings) -> Template:
    published = files.current(settings)
    entries: list[dict[str, Any]] = []
    for dataset in components.datasets():
        facts = published.dataset(dataset.name) if published is not None else None
        downloads = []
        if facts is not None and published is not None:
            for kind, filename in files.filenames(dataset.name).items():
                entry = published.file(filename)
                if entry is not None:
                    downloads.append({"kind": kind, "filename": filename, "size": file_size(entry["size"])})
        entries.append({"dataset": dataset, "facts": facts, "downloads": downloads})
    bundle = published.file(files.ZIP) if published is not None else None
    return render(request, "opendata/index.html", {
        "entries": entries, "published": published, "zip_size": file_size(bundle["size"]) if bundle else None,
        "zip_name": files.ZIP, "catalog_name": files.CATALOG, "license_url": files.LICENSE_URL,
        "attribution": files.ATTRIBUTION,
    })


def _not_modified(request: Request, etag: str, modified: Any) -> bool:
    asked = request.headers.get("if-none-match")
    if asked is not None:
        return any(tag.strip() in (etag, "*", f"W/{etag}") for tag in asked.split(","))
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


# Not kept by the page cache: a file may be tens of megabytes, and caches revalidate it by its ETag anyway.
@get("/open-data/{filename:str}", name="open-data-file", sync_to_thread=True, opt={"public_cache": False})
def download(request: Request, settings: AppSettings, filename: FromPath[str]) -> Response[Any] | File:
    published = files.current(settings)
    entry = published.file(filename) if published is not None else None
    if published is None or entry is None:
        raise NotFound(_("This open data file does not exist (yet). The list of files is on the open data page."))
    modified = published.generated_at
    etag = f'"{entry["sha256"]}"'
    headers = {"etag": etag, "last-modified": format_datetime(modified, usegmt=True), "cache-control": CACHE,
               "x-content-type-options": "nosniff", "access-control-allow-origin": "*"}
    if _not_modified(request, etag, modified):
        return Response(b"", status_code=304, headers=headers)
    disposition = "inline" if filename in INLINE else "attachment"
    return File(path=published.path / filename, media_type=entry["media_type"], etag=None,
                headers=headers | {"content-disposition": content_disposition(filename, disposition)})


@post("/open-data/generate", name="open-data-generate", sync_to_thread=True)
def generate_now(request: Request, db_session: DbSession) -> Template | Redirect:
    services.request_generation(db_session, principal_of(request))
    return after_post(request, request.app.route_reverse("open-data"),
                      message=_("The open data files are being generated. Reload this page in a minute."))


ROUTES = [Router(path="/", route_handlers=[catalogue_page, download, generate_now], include_in_schema=False)]
