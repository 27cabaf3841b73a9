"""What a map layer is and what it promises; the filters every layer is asked with.

A component declares its layers in its manifest (``Component.map_layers``: ``module:attribute`` of a
list of :class:`MapLayer`). A layer's ``items`` is called as ``items(session, principal, filters)`` and
returns :class:`MapItem`\\ s, and promises:

- only what anyone may see (the principal is for the future; today the map is the same for everyone):
  never drafts, hidden or merged things, nor unapproved bookings;
- the filters applied in the database (``filters.area``, ``filters.category``; a thing without a
  category is left out when a category is asked for);
- at most ``filters.limit + 1`` items (the extra one tells the page there are more), in a fixed, small
  number of queries whatever the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cocreate import components
from cocreate.areas import Area

if TYPE_CHECKING:
    from sqlmodel import Session

    from cocreate.accounts.permissions import Principal

PER_LAYER = 100
"""Most items a layer shows; the page says when there are more (and where the full list is)."""


@dataclass(frozen=True)
class MapItem:
    """One thing on the map: where it is and what the list and the marker say about it."""

    kind: str
    """What it is ("test_field", "trial", "challenge", "voice"): the layer's own word."""
    id: int
    title: str
    url: str
    """Its page on this site (a path)."""
    lat: float
    lng: float
    status: str = ""
    """A short status in the current locale ("Running", "Received", ...)."""
    area: str = ""
    """An :class:`~cocreate.areas.Area` value, or "" for none."""
    category: str = ""
    """A category value (``search_facets`` labels it), or "" for none."""
    approximate: bool = False
    """Placed at its area's approximate centre (it has an area, not a point): the map and the list say so."""

    @property
    def area_label(self) -> str:
        try:
            return Area(self.area).label if self.area else ""
        except ValueError:
            return ""


@dataclass(frozen=True)
class MapFilters:
    """What the visitor asked for, already checked by the page."""

    area: Area | None = None
    category: str | None = None
    limit: int = PER_LAYER


@dataclass(frozen=True)
class MapLayer:
    name: str
    """Short, stable name: the ``layer`` parameter of ``/map`` and the key of the map's legend."""
    label: Any
    """A lazy_gettext string: the layer's heading and its legend entry."""
    items: Callable[[Session, Principal, MapFilters], list[MapItem]]
    position: int = 50
    """Order on the page, across components (lower first)."""
    colour: str = "#1a5fb4"
    """The markers' colour (a CSS hex colour; the map sets it from script, so no inline style is needed)."""
    symbol: str = "●"
    """One character drawn in the marker and the legend, so layers differ by more than colour."""
    list_route: str | None = None
    """The route (by name) of the full public list of these things, linked when the layer has more."""

    def __post_init__(self) -> None:
        if not self.name.replace("_", "").isalnum() or not self.name.isascii():
            raise ValueError(f"map layer name {self.name!r}: letters, digits and _ only")


def layers() -> list[MapLayer]:
    """Every component's layers, in position order; an error if two share a name."""
    found = sorted(components.map_layers(), key=lambda layer: layer.position)
    names = [layer.name for layer in found]
    if len(set(names)) != len(names):
        raise ValueError(f"two map layers share a name: {names}")
    return found
