"""Routes of the labs component: bookings (being written)."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
