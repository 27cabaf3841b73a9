"""Routes: filled in by the review_routes work."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
