"""Links are built from route names (issue 16, item 6): every page route has a name, the components'
navigation names routes the app has, and every same-site link of the core's main pages answers.

The pages are rendered for the person they are for (a visitor, a resident, a coordinator, an organisation's
administrator, a site administrator); each link of such a page is then followed (GET: a link, a GET form,
``hx-get``) or matched against the routes (POST: a form, ``hx-post``), as that person.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate import components, paths
from cocreate.accounts import oidc
from cocreate.accounts.models import Role, User
from cocreate.settings import OidcProvider
from cocreate.web.forms import safe_next
from tests.factories import create_user, create_ward, sign_in

pytestmark = pytest.mark.databases("sqlite", why="links and routes do not depend on the database backend")

UNNAMED = ("/schema", "/static")
"""Litestar's own routes (the OpenAPI documents, the static files), which no page builds a link to by name."""


class _Links(HTMLParser):
    """The same-site links of a page: ``(method, path, where)`` for GET links and POST targets."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        where = f"<{tag} {' '.join(f'{k}={v!r}' for k, v in values.items())}>"
        for name in ("href", "src", "hx-get"):
            if values.get(name):
                self.links.append(("GET", values[name], where))
        if values.get("hx-post"):
            self.links.append(("POST", values["hx-post"], where))
        if tag == "form" and values.get("action"):
            self.links.append((values.get("method", "get").upper(), values["action"], where))


def same_site_links(html: str) -> list[tuple[str, str, str]]:
    parser = _Links()
    parser.feed(html)
    links = []
    for method, url, where in parser.links:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            assert parts.netloc != "testserver.local", f"a same-site link written as an absolute URL: {where}"
            continue  # another site, a mail address, or a fragment of this page
        links.append((method, parts.path + (f"?{parts.query}" if parts.query else ""), where))
    return links


def _route_patterns(app: Litestar, method: str) -> list[re.Pattern[str]]:
    patterns = []
    for route in app.routes:
        if isinstance(route, HTTPRoute) and method in route.methods:
            regex = re.sub(r"\{\w+:int\}", r"\\d+", re.escape(route.path).replace(r"\{", "{").replace(r"\}", "}"))
            regex = re.sub(r"\{\w+:path\}", ".*", re.sub(r"\{\w+(:\w+)?\}", "[^/]+", regex))
            patterns.append(re.compile(regex + "$"))
    return patterns


def assert_links_answer(client: TestClient[Litestar], app: Litestar, page: str) -> int:
    """Every same-site link of ``page`` (as ``client``'s person sees it) answers; returns how many there were."""
    response = client.get(page)
    assert response.status_code == 200, (page, response.status_code)
    links = same_site_links(response.text)
    assert links, page
    post_routes = _route_patterns(app, "POST")
    for method, url, where in links:
        if method == "POST":
            path = url.split("?")[0]
            assert any(pattern.match(path) for pattern in post_routes), f"{page}: no route takes {where}"
            continue
        answer = client.get(url, follow_redirects=False)
        assert answer.status_code < 400, f"{page}: {where} answers {answer.status_code}"
    return len(links)


@pytest.fixture
def people(session: Session) -> dict[str, User]:
    ward = create_ward(session)
    coordinator = create_user(session, "coordinator@example.jp", roles=[Role.COORDINATOR])
    return {"resident": ward.resident, "member": ward.member, "admin": ward.admin, "coordinator": coordinator,
            "organisation": ward.organisation}  # type: ignore[dict-item]


@pytest.mark.parametrize(("person", "page"), [
    (None, "/"),
    (None, "/account/sign-in"),
    (None, "/map"),
    ("resident", "/account"),
    ("coordinator", "/account"),
    ("member", "/organisations/{organisation}"),
    ("admin", "/admin"),
])
def test_every_same_site_link_of_a_core_page_answers(client: TestClient[Litestar], app: Litestar,
                                                      people: dict[str, User], person: str | None,
                                                      page: str) -> None:
    if person is not None:
        sign_in(client, people[person])
    assert_links_answer(client, app, page.format(organisation=people["organisation"].id))


def test_every_page_and_api_route_has_a_name(app: Litestar) -> None:
    unnamed = sorted(
        f"{sorted(handler.http_methods)} {route.path}"
        for route in app.routes if isinstance(route, HTTPRoute) and not route.path.startswith(UNNAMED)
        for handler in route.route_handlers
        if not handler.name and handler.http_methods != {"OPTIONS"}
    )
    assert unnamed == []


def test_the_components_navigation_names_routes_without_parameters(app: Litestar) -> None:
    items = [item for component in components.loaded() for item in component.navigation]
    assert items
    for item in items:
        assert not item.route.startswith("/"), f"{item.id or item.label}: name the route, not its path"
        assert item.href(app) == app.route_reverse(item.route)
        for name in item.active_under:
            app.route_reverse(name)  # a route without path parameters, or NoRouteMatchFoundException


def test_links_built_without_a_request_are_the_routes_paths(app: Litestar, settings) -> None:
    """Code that has no request keeps one helper that knows the path: it is checked against the route."""
    provider = OidcProvider(slug="example", name="Example", issuer="https://id.example", client_id="x",
                            client_secret="y")
    assert oidc.redirect_uri(settings, provider) == (settings.base_url.rstrip("/")
                                                     + app.route_reverse("oidc-callback", slug="example"))
    assert safe_next("") == app.route_reverse("home")  # where every ``next`` falls back to


def test_each_core_path_of_code_without_a_request_is_its_routes_path(app: Litestar, settings) -> None:
    """E-mails, notifications and the services' view-models take the core's paths from ``cocreate.paths``."""
    for name, (helper, parameters) in paths.CHECKED.items():
        assert helper(**parameters) == app.route_reverse(name, **parameters), name
    assert paths.absolute(settings, paths.sign_in()) == settings.base_url.rstrip("/") + app.route_reverse("sign-in")
