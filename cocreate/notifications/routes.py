"""Routes: filled in by the notifications work."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
