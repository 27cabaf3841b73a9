"""Following a page's links in tests: every same-site link and form inside ``<main>`` of the pages
leads to a page that answers 200, or to a route that takes a post (refused 403 without its CSRF token).
Used by the components' link tests (tests/proposals/test_links.py, tests/labs/test_links.py)."""

from __future__ import annotations

from html.parser import HTMLParser

from litestar import Litestar
from litestar.testing import TestClient


class MainLinks(HTMLParser):
    """The links inside ``<main>`` (the page's own; the header and footer are the site's): followed
    links, images and ``hx-get``, and forms (and ``hx-post``) with their method."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.links: set[str] = set()
        self.forms: set[tuple[str, str]] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "main":
            self.inside = True
        if not self.inside:
            return
        for key in ("href", "src", "hx-get"):
            if found.get(key):
                self.links.add(found[key])
        if tag == "form" and found.get("action"):
            self.forms.add((found.get("method", "get").lower(), found["action"]))
        if found.get("hx-post"):
            self.forms.add(("post", found["hx-post"]))
        if found.get("formaction"):
            self.forms.add(("post", found["formaction"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.inside = False


def same_site(link: str) -> str | None:
    """``link`` without its fragment when it is a path on this site (None for other sites and ``#x``)."""
    link = link.split("#", 1)[0]
    return link if link.startswith("/") and not link.startswith("//") else None


def check_links(client: TestClient[Litestar], pages: list[str]) -> tuple[set[str], set[str]]:
    """Every link and form of ``pages`` leads somewhere; returns the links followed and the forms posted to."""
    links: set[str] = set()
    posts: set[str] = set()
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, (page, response.status_code)
        parser = MainLinks()
        parser.feed(response.text)
        links |= {link for link in map(same_site, parser.links) if link}
        for method, action in parser.forms:
            target = same_site(action)
            assert target, (page, action)
            (posts if method == "post" else links).add(target)
    for link in sorted(links):
        response = client.get(link, follow_redirects=False)
        assert response.status_code == 200, (link, response.status_code)
    for action in sorted(posts):
        # Posted without its CSRF token: refused (403) by a route that takes a post, not 404 or 405.
        response = client.post(action, data={}, follow_redirects=False)
        assert response.status_code == 403, (action, response.status_code)
    return links, posts
