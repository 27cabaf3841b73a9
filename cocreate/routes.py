"""Pages and endpoints of the core: home, health and the API index."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar, Request, Response, Router, get
from litestar.concurrency import sync_to_thread
from litestar.datastructures import State
from litestar.response import Template

from cocreate import components
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.tasks import heartbeat
from cocreate.web.dependencies import DbSession
from cocreate.web.htmx import render


@get("/", name="home", sync_to_thread=True)
def home(request: Request, db_session: DbSession) -> Template:
    sections = [section(db_session) for section in components.home_sections()]
    return render(request, "home.html", {"sections": sections})


@dataclass
class Health:
    status: str


@get("/healthz", name="healthz", sync_to_thread=False, include_in_schema=False)
def healthz() -> Health:
    """Liveness: the process answers. From memory on purpose: no database, no lock, no thread, so a
    burst or a busy database never makes a load balancer kill a healthy process."""
    return Health(status="ok")


READY_TIMEOUT = 2.0
WORKER_STALE_SECONDS = 180
"""Beat asks every worker for a heartbeat each minute; three missed ones make it stale."""


@dataclass
class Readiness:
    status: str
    database: str
    worker: str
    worker_last_seen_seconds: int | None


def _check_database(database: Database) -> int | None:
    with database.reading() as session:
        latest = heartbeat.latest(session)
    return int((utcnow() - latest.seen_at).total_seconds()) if latest else None


@get("/readyz", name="readyz", include_in_schema=False)
async def readyz(state: State) -> Response[Readiness]:
    """Readiness: the database answers within two seconds (503 otherwise), and how long ago a Celery
    worker last reported. A stale worker is reported, not failed: pages still work without it."""
    database: Database = state.database
    try:
        age = await asyncio.wait_for(sync_to_thread(_check_database, database), timeout=READY_TIMEOUT)
    except Exception as exc:  # a timeout, or any database error: not ready, and say which
        body = Readiness("unavailable", f"{type(exc).__name__}", "unknown", None)
        return Response(body, status_code=503, headers={"Retry-After": "5"})
    worker = "missing" if age is None else ("ok" if age < WORKER_STALE_SECONDS else "stale")
    return Response(Readiness("ok", database.dialect, worker, age))


@dataclass
class ApiIndex:
    name: str
    version: str
    licence: str
    licence_url: str
    schema_url: str
    resources: dict[str, str] = field(default_factory=dict)


API_RESOURCES: dict[str, str] = {
    "challenges": "api-challenge-list",
    "challenge": "api-challenge-detail",
    "challenge_proposals": "api-proposal-list",
    "proposal": "api-proposal-detail",
    "trials": "api-trial-list",
    "trial": "api-trial-detail",
    "test_fields": "api-test-field-list",
    "test_field": "api-test-field-detail",
    "test_field_bookings": "api-test-field-bookings",
    "search": "api-search",
    "surveys": "api-survey-list",
    "survey_results": "api-survey-results",
}
"""Resources of the read API by name → the name of their route; components add theirs when they register
routes. A route the app does not have (its component is not installed) is left out of the index."""

_PATH_PARAMETER = re.compile(r"\{\w+(?::\w+)?\}")


def _resource_paths(app: Litestar) -> dict[str, str]:
    """Each resource's path, its path parameter written ``{id}`` (``/api/v1/challenges/{id}``)."""
    paths = {}
    for resource, route_name in sorted(API_RESOURCES.items()):
        index = app.get_handler_index_by_name(route_name)
        if index is not None:
            paths[resource] = _PATH_PARAMETER.sub("{id}", index["paths"][0])
    return paths


@get("/", name="api-index", sync_to_thread=False, summary="The read API's index", tags=["meta"])
def api_index(request: Request) -> ApiIndex:
    """Where the API's resources are, and the licence of its data."""
    openapi = request.app.openapi_config
    return ApiIndex(
        name="cocreate open data API",
        version="v1",
        licence="CC BY 4.0",
        licence_url="https://creativecommons.org/licenses/by/4.0/",
        schema_url=f"{openapi.path}/openapi.json" if openapi else "",
        resources=_resource_paths(request.app),
    )


web_router = Router(path="/", route_handlers=[home, healthz, readyz], include_in_schema=False)
api_router = Router(path="/api/v1", route_handlers=[api_index])

from cocreate.accounts.routes import ROUTES as ACCOUNT_ROUTES  # noqa: E402
from cocreate.analysis.routes import ROUTES as ANALYSIS_ROUTES  # noqa: E402
from cocreate.audit.routes import ROUTES as AUDIT_ROUTES  # noqa: E402
from cocreate.comments import routes as comment_routes  # noqa: E402
from cocreate.maps.routes import ROUTES as MAP_ROUTES  # noqa: E402
from cocreate.moderation.routes import ROUTES as MODERATION_ROUTES  # noqa: E402
from cocreate.notifications.routes import ROUTES as NOTIFICATION_ROUTES  # noqa: E402
from cocreate.opendata.routes import ROUTES as OPEN_DATA_ROUTES  # noqa: E402
from cocreate.pages.routes import ROUTES as PAGE_ROUTES  # noqa: E402
from cocreate.search.routes import ROUTES as SEARCH_ROUTES  # noqa: E402
from cocreate.stats.routes import ROUTES as STATS_ROUTES  # noqa: E402
from cocreate.surveys.result_routes import ROUTES as SURVEY_RESULT_ROUTES  # noqa: E402
from cocreate.surveys.routes import ROUTES as SURVEY_ROUTES  # noqa: E402

ROUTES = [web_router, api_router, *ACCOUNT_ROUTES, *NOTIFICATION_ROUTES, *SEARCH_ROUTES, *PAGE_ROUTES, *AUDIT_ROUTES,
          *MODERATION_ROUTES, *MAP_ROUTES, *ANALYSIS_ROUTES, *OPEN_DATA_ROUTES, *STATS_ROUTES, *SURVEY_ROUTES,
          *SURVEY_RESULT_ROUTES]


def all_routes() -> list[Any]:
    """The core's routes (the core manifest's ``routes``): :data:`ROUTES` and the comment pages, whose
    paths the commentable targets of the manifests give (so they are built once the components are loaded)."""
    return [*ROUTES, *comment_routes.routes()]
