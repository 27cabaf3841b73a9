"""Reading url-encoded forms the same way in every route module."""

from __future__ import annotations

from typing import Annotated, Any

from litestar.enums import RequestEncodingType
from litestar.params import Body

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


def safe_next(target: str) -> str:
    """Only same-site paths; anything else (//evil.example, https://…) goes home."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target[:500]
    return "/"
