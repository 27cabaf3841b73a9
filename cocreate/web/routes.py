"""Pages and endpoints of the core: home, health and the API index."""

from __future__ import annotations

from dataclasses import dataclass, field

from litestar import Request, Router, get
from litestar.datastructures import State
from litestar.response import Template

from cocreate import components
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
    database: str
    worker_last_seen_seconds: int | None


@get("/healthz", name="healthz", sync_to_thread=True, include_in_schema=False, cache_control=None)
def healthz(state: State, db_session: DbSession) -> Health:
    """Liveness for load balancers and the Docker healthcheck: the database answers."""
    latest = heartbeat.latest(db_session)
    age = int((utcnow() - latest.seen_at).total_seconds()) if latest else None
    return Health(status="ok", database=state.database.dialect, worker_last_seen_seconds=age)


@dataclass
class ApiIndex:
    name: str
    version: str
    licence: str
    licence_url: str
    schema_url: str
    resources: dict[str, str] = field(default_factory=dict)


API_RESOURCES: dict[str, str] = {
    "challenges": "/api/v1/challenges",
    "challenge": "/api/v1/challenges/{id}",
    "challenge_proposals": "/api/v1/challenges/{id}/proposals",
    "proposal": "/api/v1/proposals/{id}",
    "trials": "/api/v1/trials",
    "trial": "/api/v1/trials/{id}",
    "test_fields": "/api/v1/test-fields",
    "test_field": "/api/v1/test-fields/{id}",
    "test_field_bookings": "/api/v1/test-fields/{id}/bookings",
    "search": "/api/v1/search",
}
"""Resources of the read API by name; components add theirs when they register routes."""


@get("/", name="api-index", sync_to_thread=False, summary="The read API's index", tags=["meta"])
def api_index() -> ApiIndex:
    """Where the API's resources are, and the licence of its data."""
    return ApiIndex(
        name="cocreate open data API",
        version="v1",
        licence="CC BY 4.0",
        licence_url="https://creativecommons.org/licenses/by/4.0/",
        schema_url="/schema/openapi.json",
        resources=dict(sorted(API_RESOURCES.items())),
    )


web_router = Router(path="/", route_handlers=[home, healthz], include_in_schema=False)
api_router = Router(path="/api/v1", route_handlers=[api_index])

from cocreate.accounts.routes import ROUTES as ACCOUNT_ROUTES  # noqa: E402
from cocreate.notifications.routes import ROUTES as NOTIFICATION_ROUTES  # noqa: E402
from cocreate.search.routes import ROUTES as SEARCH_ROUTES  # noqa: E402

ROUTES = [web_router, api_router, *ACCOUNT_ROUTES, *NOTIFICATION_ROUTES, *SEARCH_ROUTES]
