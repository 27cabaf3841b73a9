"""Routes: filled in by the moderation_routes work."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
