"""Routes: filled in by the staff_routes work."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
