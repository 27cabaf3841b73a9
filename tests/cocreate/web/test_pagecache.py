"""The few-second cache of what visitors who are not signed in see: hits, keys, the CSRF token swap,
who never gets a cached answer, and one rendering for a crowd."""

from __future__ import annotations

import asyncio
import re

import pytest
from litestar import Litestar, get, post
from litestar.testing import AsyncTestClient, TestClient
from sqlmodel import Session

from cocreate.app import CSRF_COOKIE, create_app
from cocreate.settings import Settings
from tests.factories import create_challenge, create_department, create_user, sign_in
from tests.helpers import run_coroutine
from tests.servers import wait_until

pytestmark = pytest.mark.databases("sqlite", why="the page cache is in memory")

TOKEN_IN_PAGE = re.compile(r'hx-headers=\'\{"x-csrftoken": "([0-9a-f]+)"\}\'')


def _client(app: Litestar) -> TestClient[Litestar]:
    return TestClient(app, base_url="http://testserver.local")


@pytest.fixture
def cached_app(settings: Settings, database) -> Litestar:  # type: ignore[no-untyped-def]
    return create_app(settings.model_copy(update={"public_cache_seconds": 60}), database=database)


@pytest.fixture
def world(session: Session) -> dict[str, object]:
    department = create_department(session)
    first = create_challenge(session, department, title="公園の照明を賢くしたい")
    staff = create_user(session, "staff@example.jp")
    return {"department": department, "first": first, "staff": staff}


def test_a_second_visitor_gets_the_first_visitors_page_with_their_own_csrf_token(
    cached_app: Litestar, world: dict[str, object]
) -> None:
    with _client(cached_app) as first, _client(cached_app) as second:
        miss = first.get("/challenges")
        assert miss.headers["x-cocreate-cache"] == "miss"
        hit = second.get("/challenges")
        assert hit.headers["x-cocreate-cache"] == "hit"
        assert "公園の照明を賢くしたい" in hit.text
        # The second visitor has a CSRF cookie of their own, and the page carries exactly that token.
        assert second.cookies[CSRF_COOKIE] != first.cookies[CSRF_COOKIE]
        assert TOKEN_IN_PAGE.search(hit.text).group(1) == second.cookies[CSRF_COOKIE]  # type: ignore[union-attr]
        assert TOKEN_IN_PAGE.search(miss.text).group(1) == first.cookies[CSRF_COOKIE]  # type: ignore[union-attr]
        assert hit.headers["content-length"] == str(len(hit.content))
        # ...so a form sent from the cached page passes the CSRF check.
        token = TOKEN_IN_PAGE.search(hit.text).group(1)  # type: ignore[union-attr]
        answer = second.post("/account/sign-in", data={"email": "x@example.jp", "password": "wrong password",
                                                        "_csrf_token": token})
        assert answer.status_code == 400  # the form's own error, not 403 "this form has expired"
        # A visitor who already has the cookie keeps it, and sees it in the page.
        again = second.get("/challenges")
        assert again.headers["x-cocreate-cache"] == "hit" and "set-cookie" not in again.headers
        assert TOKEN_IN_PAGE.search(again.text).group(1) == second.cookies[CSRF_COOKIE]  # type: ignore[union-attr]


def test_signed_in_people_never_get_a_cached_page(
    cached_app: Litestar, world: dict[str, object], session: Session
) -> None:
    with _client(cached_app) as visitor, _client(cached_app) as member:
        visitor.get("/challenges")
        sign_in(member, "staff@example.jp")
        for _ in range(2):
            response = member.get("/challenges")
            assert response.status_code == 200 and "x-cocreate-cache" not in response.headers
        create_challenge(session, world["department"], title="駅前の駐輪場を使いやすくしたい")  # type: ignore[arg-type]
        assert "駅前の駐輪場を使いやすくしたい" in member.get("/challenges").text  # at once
        stale = visitor.get("/challenges")
        assert stale.headers["x-cocreate-cache"] == "hit" and "駅前の駐輪場を使いやすくしたい" not in stale.text


def test_visitors_see_changes_once_the_seconds_are_up(settings: Settings, database, session: Session,  # type: ignore[no-untyped-def]
                                                      world: dict[str, object]) -> None:
    app = create_app(settings.model_copy(update={"public_cache_seconds": 0.3}), database=database)
    with _client(app) as visitor:
        assert visitor.get("/challenges").headers["x-cocreate-cache"] == "miss"
        create_challenge(session, world["department"], title="駅前の駐輪場を使いやすくしたい")  # type: ignore[arg-type]
        wait_until(lambda: "駅前の駐輪場を使いやすくしたい" in visitor.get("/challenges").text, 5,
                   "the new challenge on the visitors' list")


def test_the_key_holds_path_query_language_and_htmx(cached_app: Litestar, world: dict[str, object]) -> None:
    with _client(cached_app) as visitor:
        japanese = visitor.get("/challenges", headers={"accept-language": "ja"})
        english = visitor.get("/challenges", headers={"accept-language": "en"})
        assert english.headers["x-cocreate-cache"] == "miss"
        assert '<html lang="ja">' in japanese.text and '<html lang="en">' in english.text
        fragment = visitor.get("/challenges", headers={"hx-request": "true", "accept-language": "ja"})
        assert fragment.headers["x-cocreate-cache"] == "miss" and "<html" not in fragment.text
        filtered = visitor.get("/challenges?area=%E9%AB%98%E5%B3%B6%E5%B9%B3")
        assert filtered.headers["x-cocreate-cache"] == "miss"
        assert visitor.get("/challenges", headers={"accept-language": "en"}).headers["x-cocreate-cache"] == "hit"
        # ?lang= sets the language cookie on every answer, hit or not.
        visitor.get("/challenges?lang=en")
        switched = _client(cached_app).get("/challenges?lang=en")
        assert switched.headers["x-cocreate-cache"] == "hit" and "cocreate_locale=en" in switched.headers["set-cookie"]


def test_errors_own_cookies_and_opted_out_handlers_are_not_cached(
    cached_app: Litestar, world: dict[str, object]
) -> None:
    calls: list[int] = []

    @get("/_test/fresh", opt={"public_cache": False}, sync_to_thread=False)
    def fresh() -> str:
        calls.append(1)
        return "fresh"

    cached_app.register(fresh)
    with _client(cached_app) as visitor:
        for _ in range(2):
            assert "x-cocreate-cache" not in visitor.get("/no-such-page").headers
            assert visitor.get("/_test/fresh").text == "fresh"
        assert len(calls) == 2
        challenge_id = world["first"].id  # type: ignore[attr-defined]
        for _ in range(2):  # the shuffle sets a seed cookie of the visitor's own
            shuffled = visitor.get(f"/challenges/{challenge_id}/proposals?sort=random")
            assert shuffled.headers.get("x-cocreate-cache") != "hit"
        # A cookie the cache does not know (a session) means: this answer is not for everyone.
        visitor.cookies.set("cocreate_session", "someone")
        assert "x-cocreate-cache" not in visitor.get("/challenges").headers


def test_a_crowd_arriving_at_once_gets_one_rendering(settings: Settings, database) -> None:  # type: ignore[no-untyped-def]
    renderings: list[int] = []

    @get("/_test/slow")
    async def slow() -> str:
        renderings.append(1)
        await asyncio.sleep(0.2)
        return "rendered once"

    app = create_app(settings.model_copy(update={"public_cache_seconds": 60}), database=database)
    app.register(slow)

    async def crowd() -> list[str]:
        async with AsyncTestClient(app, base_url="http://testserver.local") as client:
            answers = await asyncio.gather(*(client.get("/_test/slow") for _ in range(20)))
        return [answer.headers["x-cocreate-cache"] for answer in answers if answer.text == "rendered once"]

    outcomes = run_coroutine(crowd())
    assert len(outcomes) == 20 and outcomes.count("miss") == 1
    assert renderings == [1]


@post("/_test/never")
async def never() -> None:  # pragma: no cover - only registered to show posts pass through
    return None


def test_posts_are_never_cached(cached_app: Litestar) -> None:
    cached_app.register(never)
    with _client(cached_app) as visitor:
        visitor.get("/")
        token = visitor.cookies[CSRF_COOKIE]
        for _ in range(2):
            answer = visitor.post("/_test/never", headers={"x-csrftoken": token})
            assert answer.status_code == 201 and "x-cocreate-cache" not in answer.headers
