"""Atom feeds (RFC 4287) built with feedgen, shared by the components' feed routes.

Entry ids are ``tag:`` URIs (RFC 4151) made from the site's host and a fixed date, so they never
change when a title or an address changes; links are absolute (``settings.base_url``); titles and
summaries are plain text (feedgen escapes them); the feed's ``xml:lang`` is the request's locale.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator
from litestar import Response

from cocreate import i18n
from cocreate.i18n import gettext as _
from cocreate.settings import Settings

ATOM_TYPE = "application/atom+xml"
FEED_LIMIT = 50
"""Entries in a feed: the latest ones only."""
TAG_DATE = "2026"
"""The date part of every ``tag:`` id. Never change it: feed readers know entries by their id."""
CACHE_CONTROL = "public, max-age=300"
TITLE_MAX = 300
SUMMARY_MAX = 2000
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 cannot carry (lxml refuses them): dropped rather than failing the whole feed."""
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    key: str
    """The stable part of the entry's id, e.g. ``challenge/12`` (see :func:`tag_uri`)."""
    title: str
    path: str
    """The entry's page on the site, e.g. ``/challenges/12``."""
    updated: datetime
    published: datetime | None = None
    summary: str = ""
    author: str = ""
    categories: Sequence[tuple[str, str]] = ()
    """(term, label) pairs."""


@dataclass(frozen=True)
class Feed:
    key: str
    title: str
    path: str
    """The HTML page the feed follows (``rel="alternate"``)."""
    self_path: str
    """The feed's own address (``rel="self"``)."""
    entries: Sequence[Entry] = ()
    subtitle: str = ""
    updated: datetime | None = None
    """Used when there is no entry (otherwise the newest entry's time)."""
    authors: Sequence[str] = field(default_factory=tuple)


def plain(text: str | None, limit: int | None = None) -> str:
    """Text safe for XML on one line, cut to ``limit`` characters with an ellipsis."""
    value = " ".join(_NOT_XML.sub("", text or "").split())
    if limit is not None and len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value


def host_of(settings: Settings) -> str:
    return (urlsplit(settings.base_url).hostname or "cocreate.localhost").lower()


def tag_uri(settings: Settings, key: str) -> str:
    """A stable entry or feed id: ``tag:cocreate.example.jp,2026:challenge/12``."""
    return f"tag:{host_of(settings)},{TAG_DATE}:{key}"


def absolute(settings: Settings, path: str) -> str:
    return settings.base_url.rstrip("/") + path


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def atom(settings: Settings, feed: Feed) -> bytes:
    """The feed as Atom XML, entries in the given order (newest first)."""
    generator = FeedGenerator()
    generator.id(tag_uri(settings, feed.key))
    generator.title(plain(feed.title, TITLE_MAX))
    if feed.subtitle:
        generator.subtitle(plain(feed.subtitle, SUMMARY_MAX))
    generator.language(i18n.get_locale())
    generator.link(href=absolute(settings, feed.path), rel="alternate", type="text/html")
    generator.link(href=absolute(settings, feed.self_path), rel="self", type=ATOM_TYPE)
    for name in feed.authors or (_("cocreate Itabashi"),):
        generator.author({"name": plain(name, TITLE_MAX)})
    generator.generator("cocreate", uri=settings.base_url)
    times = [_aware(e.updated) for e in feed.entries]
    generator.updated(max(times) if times else _aware(feed.updated or EPOCH))
    for item in feed.entries:
        entry = generator.add_entry(order="append")
        entry.id(tag_uri(settings, item.key))
        entry.title(plain(item.title, TITLE_MAX) or "–")
        entry.link(href=absolute(settings, item.path), rel="alternate", type="text/html")
        entry.updated(_aware(item.updated))
        if item.published is not None:
            entry.published(_aware(item.published))
        if summary := plain(item.summary, SUMMARY_MAX):
            entry.summary(summary)
        if item.author:
            entry.author({"name": plain(item.author, TITLE_MAX)})
        for term, label in item.categories:
            entry.category({"term": term, "label": plain(label, TITLE_MAX)})
    return generator.atom_str(pretty=True)  # type: ignore[no-any-return]


def atom_response(settings: Settings, feed: Feed) -> Response[bytes]:
    return Response(atom(settings, feed), media_type=ATOM_TYPE, headers={
        "Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff",
    })
