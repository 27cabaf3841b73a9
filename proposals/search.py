"""Search sources of the proposals component (challenges, proposals, public questions)."""

from __future__ import annotations

from cocreate.search.registry import Source

SOURCES: list[Source] = []
