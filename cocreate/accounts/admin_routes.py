"""Routes: filled in by the admin work."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
