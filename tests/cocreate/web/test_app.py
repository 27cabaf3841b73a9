"""The web base: security headers, CSRF, locale, error pages, page-or-fragment, OpenAPI, health."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from litestar import Litestar, Request, get, post
from litestar.response import Template
from litestar.testing import TestClient

from cocreate.search.routes import SOMETHING
from cocreate.web.htmx import after_post, render
from cocreate.web.security import CONTENT_SECURITY_POLICY
from tests.helpers import csrf_token

pytestmark = pytest.mark.databases("sqlite", why="the web base does not depend on the database")


def test_security_headers_on_pages_errors_static_and_api(client: TestClient[Litestar]) -> None:
    for path, status in [("/", 200), ("/no-such-page", 404), ("/static/css/app.css", 200), ("/api/v1", 200)]:
        response = client.get(path)
        assert response.status_code == status, path
        headers = response.headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin", path
        assert headers["x-frame-options"] == "DENY", path


def test_pages_have_no_inline_scripts(client: TestClient[Litestar]) -> None:
    html = client.get("/").text
    assert "<script>" not in html and "onclick" not in html and "style=" not in html
    assert '<script src="/static/js/vendor/htmx-2.0.11.min.js?v=' in html


def test_anonymous_visit_creates_no_server_session(client: TestClient[Litestar], app: Litestar) -> None:
    from sqlmodel import func, select

    from cocreate.web.sessions import StoredSession

    response = client.get("/")
    assert "cocreate_session" not in response.cookies
    with app.state.database.session() as session:
        assert session.exec(select(func.count()).select_from(StoredSession)).one() == 0


def test_signed_in_page_views_read_the_session_without_writing_it(
    client: TestClient[Litestar], app: Litestar, session, query_log
) -> None:
    from datetime import timedelta

    from litestar.middleware.session.base import BaseSessionBackend
    from sqlmodel import select

    from cocreate.web.sessions import SEEN_KEY, StoredSession
    from tests.factories import create_user, sign_in

    create_user(session, "hanako@example.jp")
    sign_in(client, "hanako@example.jp")
    key = client.cookies["cocreate_session"]
    client.get("/account")  # shows (and so removes) the "signed in" message: a change, written
    query_log.statements.clear()
    for _ in range(3):
        response = client.get("/account")
        assert response.status_code == 200 and "set-cookie" not in response.headers
    writes = [s for s in query_log.statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    # A session unchanged for a day is written again once, which keeps it alive while it is used.
    with app.state.database.transaction() as db:
        row = db.get(StoredSession, key)
        data = BaseSessionBackend.deserialize_data(row.data)
        data[SEEN_KEY] -= int(timedelta(days=2).total_seconds())
        row.data = BaseSessionBackend.serialize_data(data)
        before = row.expires_at
    client.get("/account")
    with app.state.database.reading() as db:
        row = db.exec(select(StoredSession).where(StoredSession.key == key)).one()
        assert row.expires_at > before
        assert BaseSessionBackend.deserialize_data(row.data)[SEEN_KEY] > data[SEEN_KEY]


@pytest.fixture
def own_client(fresh_app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(fresh_app, base_url="http://testserver.local") as client:
        yield client


@post("/_test/echo", name="test-echo")
async def echo(request: Request) -> dict[str, str]:
    form = await request.form()
    return {"said": str(form.get("said"))}


def test_csrf_rejects_posts_without_a_valid_token(fresh_app: Litestar, own_client: TestClient[Litestar]) -> None:
    app, client = fresh_app, own_client  # routes are registered on an app of the test's own
    app.register(echo)
    missing = client.post("/_test/echo", data={"said": "hello"}, headers={"accept": "text/html"})
    assert missing.status_code == 403
    assert "フォームの有効期限が切れました" in missing.text  # translated, not a bare error
    forged = client.post("/_test/echo", data={"said": "hello", "_csrf_token": "forged"})
    assert forged.status_code == 403
    token = csrf_token(client)
    assert client.post("/_test/echo", data={"said": "hello", "_csrf_token": token}).json() == {"said": "hello"}
    # htmx sends the token in a header instead (see hx-headers on <body>).
    ok = client.post("/_test/echo", data={"said": "htmx"}, headers={"x-csrftoken": token})
    assert ok.status_code == 201
    other = TestClient(app, base_url="http://testserver.local")
    other.cookies.set("cocreate_csrf", "attacker-chosen-cookie")
    assert other.post("/_test/echo", data={"said": "x", "_csrf_token": token}).status_code == 403


def test_csrf_token_is_on_every_page_for_htmx(client: TestClient[Litestar]) -> None:
    html = client.get("/").text
    token = client.cookies["cocreate_csrf"]
    assert f'hx-headers=\'{{"x-csrftoken": "{token}"}}\'' in html


def test_locale_from_accept_language_cookie_and_switcher(client: TestClient[Litestar]) -> None:
    japanese = client.get("/")
    assert '<html lang="ja">' in japanese.text and "板橋の課題を、みんなで解決する" in japanese.text
    english = client.get("/", headers={"accept-language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text and "Solve Itabashi's challenges together" in english.text
    assert "Accept-Language" in english.headers["vary"]
    switched = client.get("/?lang=en", headers={"accept-language": "ja"})
    assert '<html lang="en">' in switched.text
    assert "cocreate_locale=en" in switched.headers["set-cookie"]
    remembered = client.get("/", headers={"accept-language": "ja"})
    assert '<html lang="en">' in remembered.text
    back = client.get("/?lang=ja")
    assert '<html lang="ja">' in back.text
    bogus = client.get("/?lang=<script>", headers={"accept-language": "ja"})
    assert bogus.status_code == 200 and "<script>" not in bogus.text.split("<body", 1)[1].split("</script>")[-1]


def test_language_links_keep_other_query_parameters(client: TestClient[Litestar]) -> None:
    html = client.get("/?page=2&q=%E9%AB%98%E5%B3%B6%E5%B9%B3").text
    assert 'href="/?page=2&amp;q=%E9%AB%98%E5%B3%B6%E5%B9%B3&amp;lang=en"' in html


def test_error_pages_in_both_languages(client: TestClient[Litestar]) -> None:
    ja = client.get("/no-such-page")
    assert ja.status_code == 404
    assert "ページが見つかりません" in ja.text and '<html lang="ja">' in ja.text
    en = client.get("/no-such-page?lang=en")
    assert en.status_code == 404 and "Page not found" in en.text
    en_header = client.get("/missing", headers={"accept-language": "en"})
    assert "Page not found" in en_header.text or "ページが見つかりません" in en_header.text


def test_method_not_allowed_is_a_friendly_page(client: TestClient[Litestar]) -> None:
    response = client.post("/", data={"_csrf_token": csrf_token(client)})
    assert response.status_code == 405
    assert "この操作はできません" in response.text


@get("/_test/boom", name="test-boom", sync_to_thread=False)
def boom() -> str:
    raise RuntimeError("secret internal detail")


@get("/api/v1/_test/boom", name="test-api-boom", sync_to_thread=False)
def api_boom() -> str:
    raise RuntimeError("secret internal detail")


def test_server_errors_are_friendly_and_leak_nothing(fresh_app: Litestar, own_client: TestClient[Litestar]) -> None:
    app, client = fresh_app, own_client  # routes are registered on an app of the test's own
    app.register(boom)
    app.register(api_boom)
    page = client.get("/_test/boom")
    assert page.status_code == 500
    assert "システムでエラーが発生しました" in page.text
    assert "secret internal detail" not in page.text and "Traceback" not in page.text
    english = client.get("/_test/boom?lang=en")
    assert "Something went wrong on our side" in english.text
    api = client.get("/api/v1/_test/boom")
    assert api.status_code == 500
    assert api.headers["content-type"].startswith("application/json")
    assert "secret internal detail" not in api.text
    assert api.json()["status_code"] == 500


def test_api_errors_are_json(client: TestClient[Litestar]) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["status_code"] == 404


@get("/_test/list", name="test-list", sync_to_thread=False)
def listing(request: Request) -> Template:
    return render(request, "errors/error.html", {"status_code": 299, "title": "full", "explanation": "page"},
                  fragment="proposals/challenges/_home_challenges.html", trigger="cocreate:listed")


@post("/_test/form", name="test-form", sync_to_thread=False)
def form_post(request: Request) -> object:
    return after_post(request, "/", message="保存しました", fragment="proposals/challenges/_home_challenges.html",
                      context={"ctx": {"challenges": [], "challenge_count": 0}})


def test_page_or_fragment(fresh_app: Litestar, own_client: TestClient[Litestar]) -> None:
    app, client = fresh_app, own_client  # routes are registered on an app of the test's own
    app.register(listing)
    full = client.get("/_test/list")
    assert "<html" in full.text and full.headers["vary"].startswith("HX-Request")
    assert "hx-trigger" not in full.headers
    app.register(form_post)
    token = csrf_token(client)
    plain = client.post("/_test/form", data={"_csrf_token": token}, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"] == "/"
    # The flash message shows on the page the redirect leads to, once.
    assert "保存しました" in client.get("/").text
    assert "保存しました" not in client.get("/").text
    fragment = client.post("/_test/form", data={"_csrf_token": token}, headers={"hx-request": "true"})
    assert fragment.status_code == 201 or fragment.status_code == 200
    assert "<html" not in fragment.text and "latest-challenges" in fragment.text
    assert "cocreate:flash" in fragment.headers["hx-trigger"]
    assert "HX-Request" in fragment.headers["vary"]


def test_openapi_schema_lists_api_routes_only(client: TestClient[Litestar]) -> None:
    schema = client.get("/schema/openapi.json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["info"]["license"]["name"] == "CC BY 4.0"
    paths = document["paths"]
    assert "/api/v1" in paths
    assert all(path.startswith("/api/v1") for path in paths), sorted(paths)


def test_openapi_schema_documents_the_shared_answers_and_typed_parameters(client: TestClient[Litestar]) -> None:
    """Every operation says it may be busy (503, Retry-After); one with an id in its path, that it may find
    nothing (404); the search's types are the indexed ones; the booking range is dates."""
    paths = client.get("/schema/openapi.json").json()["paths"]
    for path, item in paths.items():
        for operation in item.values():
            responses = operation["responses"]
            assert "503" in responses and "Retry-After" in responses["503"]["headers"], path
            assert ("404" in responses) == ("{" in path), path
            assert responses["404" if "{" in path else "503"]["content"]["application/json"]["schema"]["required"] == [
                "status_code", "detail"]
    search = {p["name"]: p["schema"] for p in paths["/api/v1/search"]["get"]["parameters"]}
    assert set(search["type"]["enum"]) >= {"challenge", "proposal", "question", "trial", "test_field"}
    assert search["q"]["pattern"] == SOMETHING
    bookings = {p["name"]: p["schema"] for p in paths["/api/v1/test-fields/{field_id}/bookings"]["get"]["parameters"]}
    assert [s["format"] for s in bookings["from"]["anyOf"]] == ["date", "date-time"] == [
        s["format"] for s in bookings["to"]["anyOf"]]


def test_api_search_refuses_a_type_nobody_indexes_even_empty(client: TestClient[Litestar]) -> None:
    for query in ("q=x&type=", "q=x&type=nothing"):
        response = client.get(f"/api/v1/search?{query}")
        assert response.status_code == 400 and response.json()["detail"], query
    for blank in ("%20%20", "%C2%85", "%EF%BB%BF", "%1C"):
        assert client.get(f"/api/v1/search?q={blank}").status_code == 400, blank


def test_api_index_names_licence_and_schema(client: TestClient[Litestar]) -> None:
    body = client.get("/api/v1").json()
    assert body["licence"] == "CC BY 4.0"
    assert body["schema_url"] == "/schema/openapi.json"


def test_health_answers_from_memory_and_readiness_checks_database_and_worker(
    client: TestClient[Litestar], app: Litestar, query_log
) -> None:
    from cocreate.db.base import utcnow
    from cocreate.tasks import heartbeat

    assert client.get("/healthz").json() == {"status": "ok"}
    assert query_log.count == 0  # liveness never touches the database
    body = client.get("/readyz").json()
    assert body == {"status": "ok", "database": app.state.database.dialect, "worker": "missing",
                    "worker_last_seen_seconds": None}
    assert query_log.count == 1
    with app.state.database.transaction() as session:
        heartbeat.record(session, "worker@test")
    body = client.get("/readyz").json()
    assert body["worker"] == "ok" and body["worker_last_seen_seconds"] in (0, 1)
    with app.state.database.transaction() as session:
        row = session.get(heartbeat.WorkerHeartbeat, "worker@test")
        row.seen_at = utcnow().replace(year=2000)
    stale = client.get("/readyz")
    assert stale.status_code == 200 and stale.json()["worker"] == "stale"  # reported, pages still work


def test_readiness_fails_with_503_when_the_database_is_unreachable(tmp_path, settings) -> None:
    from cocreate.app import create_app

    broken = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'missing' / 'x' / 'db.sqlite3'}"})
    app = create_app(broken)
    for created in (tmp_path / "missing" / "x").iterdir():  # the database, and the rate-limit counters' own file
        created.unlink()
    (tmp_path / "missing" / "x").rmdir()
    with TestClient(app, base_url="http://testserver.local") as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert response.json()["status"] == "unavailable"
        assert client.get("/healthz").status_code == 200  # the process itself is alive


def test_static_files_are_cacheable_and_versioned(client: TestClient[Litestar]) -> None:
    response = client.get("/static/js/app.js")
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["cache-control"]
    assert client.get("/static/../pyproject.toml").status_code == 404


@pytest.mark.databases("sqlite", "postgresql", why="each driver fails on its own when binding an integer beyond 64 bits")
def test_ids_beyond_any_row_are_not_found_on_every_route(client: TestClient[Litestar], app: Litestar) -> None:
    """Every route with an integer in its path, sent an integer no row id can be: 404 (or the sign-in
    form or 403 where a guard answers first), never a server error."""
    huge = ("2147483648", "9223372036854775807", "9223372036854775808", "2273052666086372732053749760", "-2147483649")
    client.get("/")
    token = client.cookies["cocreate_csrf"]
    tried = 0
    for route in app.routes:
        if ":int}" not in route.path:
            continue
        for method in sorted(getattr(route, "methods", set()) & {"GET", "POST"}):
            for number in huge:
                path = re.sub(r"\{[^}]+:int\}", number, route.path)
                path = re.sub(r"\{[^}]+\}", "x", path)
                if method == "GET":
                    response = client.get(path, follow_redirects=False)
                else:
                    response = client.post(path, data={"_csrf_token": token}, follow_redirects=False)
                tried += 1
                assert response.status_code in (303, 401, 403, 404), (method, path, response.status_code)
                if response.status_code == 404 and path.startswith("/api/"):
                    assert response.json()["status_code"] == 404
    assert tried > 100  # the routes of every component were reached
    assert client.get("/proposals/2147483647").status_code == 404  # the largest id: looked up, absent
