"""Routes: filled in by the public_routes work."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
