"""Routes: filled in by the self_service work."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
