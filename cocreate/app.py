"""The application factory: ``create_app(settings) -> Litestar``."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from litestar import Litestar, Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Contact, License
from litestar.plugins.htmx import HTMXPlugin
from litestar.static_files import create_static_files_router
from litestar.stores.registry import StoreRegistry
from litestar.template import TemplateConfig

from cocreate import components
from cocreate.accounts import passwords
from cocreate.accounts.auth import current_user_middleware
from cocreate.accounts.consents import consent_gate
from cocreate.db import Database
from cocreate.search.routes import document_search_types
from cocreate.settings import Settings
from cocreate.tasks import configure_celery
from cocreate.web import logredact
from cocreate.web.dependencies import provide_db_session, provide_settings
from cocreate.web.errors import EXCEPTION_HANDLERS, refuse_impossible_ids
from cocreate.web.load import in_flight_limit, thread_pool_starter
from cocreate.web.middleware import locale_middleware
from cocreate.web.openapi import finish as finish_openapi
from cocreate.web.pagecache import public_page_cache
from cocreate.web.ratelimit import SESSION_STORE, make_stores, request_limits
from cocreate.web.security import make_security_headers_hook
from cocreate.web.sessions import DatabaseSessionConfig
from cocreate.web.templating import STATIC_DIR, make_template_engine

SESSION_COOKIE = "cocreate_session"
CSRF_COOKIE = "cocreate_csrf"
CSRF_HEADER = "x-csrftoken"
MAX_BODY_BYTES = 25 * 1024 * 1024


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> Litestar:
    """Build the web application; settings come from the environment when not given, the database
    from the settings unless one is handed in (tests share theirs)."""
    logredact.install()  # tokens of single-use links never reach the access log
    components.load()  # the composition root: every component's models, tasks and hooks, once
    settings = settings or Settings.from_env()
    settings.ensure_dirs()
    passwords.configure(settings.password_hashing)
    logging.basicConfig(level=logging.DEBUG if settings.debug else logging.INFO)
    database = database or Database(settings, wait_seconds=settings.db_wait_seconds)
    configure_celery(settings)

    engine = make_template_engine(auto_reload=settings.debug or settings.env == "development")
    session_config = DatabaseSessionConfig(
        store=SESSION_STORE,
        key=SESSION_COOKIE,
        max_age=int(timedelta(days=14).total_seconds()),
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    static_router = create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        name="static",
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=31_536_000, public=True),
    )
    openapi = OpenAPIConfig(
        title="cocreate open data API",
        version="1.0.0",
        description="Read API of cocreate: challenges, proposals, trials and test fields. Data under CC BY 4.0. "
                    "Every public dataset in bulk (CSV, JSON, a zip and a DCAT catalogue): /open-data.",
        path="/schema",
        license=License(name="CC BY 4.0", url="https://creativecommons.org/licenses/by/4.0/"),
        contact=Contact(name="cocreate"),
        render_plugins=[ScalarRenderPlugin()],
    )
    state: dict[str, Any] = {"settings": settings, "database": database}
    csrf = CSRFConfig(
        secret=settings.signing_key(),
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=settings.secure_cookies,
        cookie_httponly=True,
        cookie_samesite="lax",
    )

    return Litestar(
        route_handlers=[*components.route_handlers(), static_router],
        dependencies={
            "db_session": Provide(provide_db_session),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        middleware=[
            in_flight_limit(settings),
            session_config.middleware,
            current_user_middleware(database),
            request_limits(settings.signing_key()),
            locale_middleware(settings.default_locale, settings.secure_cookies),
            public_page_cache(settings.public_cache_seconds, csrf),
        ],
        stores=StoreRegistry(make_stores(settings, database)),
        template_config=TemplateConfig(instance=engine),
        csrf_config=csrf,
        plugins=[HTMXPlugin()],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        before_request=_before_request,
        before_send=[make_security_headers_hook(hsts=settings.secure_cookies, map_tile_url=settings.map_tile_url)],
        openapi_config=openapi,
        request_max_body_size=MAX_BODY_BYTES,
        state=State(state),
        on_startup=[thread_pool_starter(settings), finish_openapi(document_search_types)],
        on_shutdown=[database.dispose],
        debug=settings.debug,
    )


async def _before_request(request: Request) -> Response[Any] | None:
    refuse_impossible_ids(request)
    return await consent_gate(request)  # a signed-in user behind the published terms agrees before going on


def create_app_from_env() -> Litestar:
    """Entry point for ASGI servers (``uvicorn --factory cocreate.app:create_app_from_env``)."""
    return create_app(Settings.from_env())
