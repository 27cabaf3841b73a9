"""User Markdown to safe HTML: markdown-it-py with raw HTML off, then sanitised by nh3.

Raw HTML is disabled at the parser *and* the output goes through an allow-list sanitiser, so a
parser bug or a future plugin cannot open a hole on its own.
"""

from __future__ import annotations

import html
from functools import cache, lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "del",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "img",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc noopener"
MAX_SOURCE_LENGTH = 100_000


@cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable(["table", "strikethrough", "linkify"])
    # A user's "# Heading" must not compete with the page's own h1.
    md.add_render_rule("heading_open", _demote_heading)
    md.add_render_rule("heading_close", _demote_heading)
    return md


def _demote_heading(self, tokens, idx, options, env):  # type: ignore[no-untyped-def]
    token = tokens[idx]
    level = min(int(token.tag[1]) + 1, 6)
    token.tag = f"h{level}"
    return self.renderToken(tokens, idx, options, env)


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_markdown(source: str | None) -> Markup:
    """Safe HTML for user-written Markdown; never raises on hostile input."""
    if not source:
        return Markup("")
    return Markup(_rendered(source))  # noqa: S704 - sanitised in _rendered


# Pages show the same texts again and again (a challenge's body, the comments of a busy proposal):
# parsing and sanitising is pure, so each process keeps the newest results.
@lru_cache(maxsize=4096)
def _rendered(source: str) -> str:
    source = source[:MAX_SOURCE_LENGTH].replace("\x00", "\ufffd")
    return sanitize_html(_parser().render(source))


@lru_cache(maxsize=4096)
def _plain(source: str) -> str:
    return " ".join(html.unescape(nh3.clean(_parser().render(source[:MAX_SOURCE_LENGTH]), tags=set())).split())


def markdown_to_text(source: str | None, limit: int | None = None) -> str:
    """Plain text of user Markdown (for snippets, feeds and e-mail previews)."""
    if not source:
        return ""
    text = _plain(source)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
