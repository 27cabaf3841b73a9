"""Reading url-encoded forms the same way in every route module."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar.enums import RequestEncodingType
from litestar.params import Body

from cocreate.i18n import WARD_TIMEZONE

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
"""Annotation for a handler's ``data``: the posted fields (a list where a field was sent twice)."""


def text(form: dict[str, Any], name: str, limit: int = 1000) -> str:
    """One field as a string, cut to ``limit`` (the services report what is too long)."""
    value = form.get(name, "")
    if isinstance(value, list):  # the same field sent twice
        value = value[0] if value else ""
    return str(value)[:limit]


def texts(form: dict[str, Any], name: str, limit: int = 100, max_items: int = 100) -> list[str]:
    """A repeated field (checkboxes, multi-selects) as non-empty strings."""
    value = form.get(name, [])
    values = value if isinstance(value, list) else [value]
    return [str(item)[:limit] for item in values[:max_items] if str(item)]


MAX_ID_DIGITS = 18
"""Row ids are 64-bit integers in PostgreSQL and SQLite: 18 digits always fit, so longer input is no id."""


def parse_id(value: Any) -> int | None:
    """A row id sent as text (a select's or checkbox's value), or None when it cannot be one.

    Digits only (full-width ones are read as such), at most :data:`MAX_ID_DIGITS` of them: ``"-1"``, ``"abc"``
    and a 40-digit number are refused here rather than overflowing the database driver.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS:
        return int(text)
    return None


def safe_next(target: str) -> str:
    """Only same-site paths; anything else (//evil.example, https://…) goes home."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target[:500]
    return "/"


def parse_local_datetime(raw: str) -> datetime | None:
    """A ``datetime-local`` value, read as Tokyo time, returned in UTC (None when it is not one)."""
    text = unicodedata.normalize("NFKC", raw).strip().replace(" ", "T")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is not None or not 2000 <= value.year <= 2100:
        return None
    return value.replace(tzinfo=WARD_TIMEZONE).astimezone(UTC)
