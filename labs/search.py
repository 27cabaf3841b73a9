"""Search sources of the labs component (trials, test fields)."""

from __future__ import annotations

from cocreate.search.registry import Source

SOURCES: list[Source] = []
