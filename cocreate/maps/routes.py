"""The map of everything (``/map``): a GET form of filters, an accessible list of what every layer shows
(grouped by layer; the page itself, with or without JavaScript or tiles), and the data for the Leaflet map
that ``static/js/map.js`` draws above the list when tiles are configured and load.

Filters are parsed tolerantly, as on the search page: a value the page does not know is ignored and the
page says so (never an error). The map's data travels in the page as a JSON ``<script
type="application/json">`` element (data, not script: the Content-Security-Policy allows no inline script).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Router, get
from litestar.response import Template

from cocreate import components
from cocreate.accounts.permissions import principal_of
from cocreate.areas import Area
from cocreate.i18n import gettext as _
from cocreate.maps.layers import PER_LAYER, MapFilters, MapItem, MapLayer, layers
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.htmx import render

MAX_VALUE_LENGTH = 100


@dataclass(frozen=True)
class MapParams:
    """What the visitor asked for, cleaned: the chosen layers (all when none), area and category."""

    layers: tuple[str, ...]
    area: Area | None = None
    category: str = ""
    ignored: bool = False
    """Some value was not recognised and was left out (the page says so)."""


@dataclass
class Group:
    """One layer's part of the list (and of the map)."""

    layer: MapLayer
    items: list[MapItem] = field(default_factory=list)
    more: bool = False
    list_url: str | None = None


def _category_enum() -> Any:
    """The enum naming the category values (a component's ``search_facets``), or None without one."""
    return components.search_facets().get("category")


def category_label(value: str) -> str:
    enum = _category_enum()
    try:
        return str(enum(value).label) if enum is not None and value else value
    except (ValueError, AttributeError):
        return value


def parse_params(request: Request, known: list[MapLayer]) -> MapParams:
    query = request.query_params
    names = {layer.name for layer in known}
    ignored = False
    chosen: list[str] = []
    for value in query.getall("layer", []):
        if value in names and value not in chosen:
            chosen.append(value)
        elif value:
            ignored = True
    area: Area | None = None
    if raw_area := query.get("area", "").strip():
        try:
            area = Area(raw_area)
        except ValueError:
            ignored = True
    category = query.get("category", "").strip()
    enum = _category_enum()
    if category and (enum is None or len(category) > MAX_VALUE_LENGTH
                     or category not in {member.value for member in enum}):
        category, ignored = "", True
    ordered = tuple(layer.name for layer in known if layer.name in chosen) or tuple(layer.name for layer in known)
    return MapParams(layers=ordered, area=area, category=category, ignored=ignored)


def _list_url(request: Request, route: str | None) -> str | None:
    """The path of a layer's full list, when the app has that route."""
    if route is None or request.app.get_handler_index_by_name(route) is None:
        return None
    return request.app.route_reverse(route)


def _map_data(groups: list[Group], settings: Any) -> dict[str, Any]:
    """What map.js draws: the tiles, the layers with their items, and its few sentences, translated."""
    return {
        "tiles": settings.map_tile_url,
        "attribution": settings.map_attribution,
        "layers": [
            {"name": group.layer.name, "label": str(group.layer.label), "colour": group.layer.colour,
             "symbol": group.layer.symbol,
             "items": [{"title": item.title, "url": item.url, "lat": item.lat, "lng": item.lng,
                        "status": item.status, "area": item.area_label, "category": category_label(item.category),
                        "approximate": item.approximate} for item in group.items]}
            for group in groups
        ],
        "text": {
            "legend": _("Legend"),
            "approximate": _("Approximate place: the centre of the area"),
            "cluster": _("%(count)s places here: zoom in to see them"),
        },
    }


@get("/map", name="map", sync_to_thread=True)
def map_page(request: Request, db_session: DbSession, settings: AppSettings) -> Template:
    """Everything that has a place on the ward's map, as a list (the default) and, with JavaScript and
    tiles, as a map above it."""
    principal = principal_of(request)
    known = layers()
    params = parse_params(request, known)
    filters = MapFilters(area=params.area, category=params.category or None, limit=PER_LAYER)
    groups = []
    for layer in known:
        if layer.name not in params.layers:
            continue
        items = layer.items(db_session, principal, filters)
        groups.append(Group(layer=layer, items=items[:PER_LAYER], more=len(items) > PER_LAYER,
                            list_url=_list_url(request, layer.list_route)))
    enum = _category_enum()
    return render(request, "maps/map.html", {
        "params": params,
        "all_layers": known,
        "areas": list(Area),
        "categories": list(enum) if enum is not None else [],
        "groups": groups,
        "total": sum(len(group.items) for group in groups),
        "per_layer": PER_LAYER,
        "category_label": category_label,
        "map_data": _map_data(groups, settings) if settings.map_tile_url else None,
    })


ROUTES = [Router(path="/", route_handlers=[map_page], include_in_schema=False)]
