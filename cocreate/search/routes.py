"""The search page (``/search``, with a fragment for htmx as you type) and the search API.

Both read only the index (:mod:`cocreate.search.query`), never the database: what the index holds is
already public. Parameters are parsed tolerantly on the page (junk is ignored and said so) and
strictly in the API (a clear 400).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Router, get
from litestar.exceptions import ValidationException
from litestar.openapi.spec import OpenAPI, Schema
from litestar.openapi.spec import Parameter as OpenAPIParameter
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import FromQuery, Parameter
from litestar.response import Template

from cocreate import components
from cocreate.i18n import gettext as _
from cocreate.search import registry
from cocreate.web.dependencies import AppSettings
from cocreate.web.htmx import render
from cocreate.web.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE, Page, clamp_page

if TYPE_CHECKING:
    from cocreate.search import query

MAX_QUERY_LENGTH = 200
"""Longer queries are cut here (the page says so; the API answers 400)."""
MAX_FILTER_LENGTH = 100
MAX_PAGE = 500
"""Deeper pages are not offered (the index ranks every match up to the page asked for)."""
FILTERS = ("phase", "category", "area")
"""Filters besides the document type; their values come from the index's facets."""



@cache
def _value_enum(name: str) -> Any:
    """The enum (with a ``label`` per member) that names a filter's values in the current locale, as a
    component's manifest declares it (``Component.search_facets``); a value it does not know (a
    challenge's free-text area, say) is shown as it is."""
    return components.search_facets().get(name)


def value_label(name: str, value: str) -> str:
    """A facet value (phase, category, area) in the current locale."""
    if name == "type":
        return type_label(value)
    enum = _value_enum(name)
    if enum is not None:
        try:
            return str(enum(value).label)
        except (ValueError, AttributeError):
            pass
    return value


def type_label(type_: str) -> str:
    source = registry.sources().get(type_)
    return str(source.label()) if source is not None else type_


@dataclass(frozen=True)
class SearchParams:
    """What was asked, cleaned: the query text, one type and the other filters."""

    q: str = ""
    type: str = ""
    phase: str = ""
    category: str = ""
    area: str = ""
    page: int = 1
    path: str = ""
    """The search page's path (its route's, given by the page): where :meth:`url` links to."""

    @property
    def filters(self) -> dict[str, str]:
        return {name: value for name in ("type", *FILTERS) if (value := getattr(self, name))}

    def query_params(self, **changes: Any) -> list[tuple[str, str]]:
        """The address's parameters with ``changes`` (``None`` or "" drops one; page 1 is left out)."""
        values: dict[str, Any] = {"q": self.q, **self.filters, "page": self.page} | changes
        return [(name, str(value)) for name, value in values.items()
                if value not in (None, "") and not (name == "page" and int(value) == 1)]

    def url(self, **changes: Any) -> str:
        params = self.query_params(**changes)
        return f"{self.path}?{urlencode(params)}" if params else self.path


@dataclass(frozen=True)
class FacetOption:
    value: str
    label: str
    count: int
    selected: bool
    url: str


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    options: list[FacetOption] = field(default_factory=list)
    clear_url: str | None = None
    """The same search without this filter, when it is applied."""


def parse_params(raw: Mapping[str, str], path: str) -> tuple[SearchParams, list[str]]:
    """Tolerant parsing for the page at ``path``: returns the parameters and notes on what was changed or
    ignored."""
    notes: list[str] = []
    text = " ".join(raw.get("q", "").split())
    if len(text) > MAX_QUERY_LENGTH:
        text = text[:MAX_QUERY_LENGTH]
        notes.append(_("Your search was shortened to its first %(count)s characters.", count=MAX_QUERY_LENGTH))
    type_ = raw.get("type", "").strip()
    ignored = False
    if type_ and type_ not in registry.sources():
        type_, ignored = "", True
    values = {}
    for name in FILTERS:
        value = raw.get(name, "").strip()
        if len(value) > MAX_FILTER_LENGTH:
            value, ignored = "", True
        values[name] = value
    if ignored:
        notes.append(_("Some filter values were not recognised and have been ignored."))
    page, _size = clamp_page(raw.get("page", "1"))
    return SearchParams(q=text, type=type_, page=page, path=path, **values), notes


def run_search(settings: Any, params: SearchParams, per_page: int = DEFAULT_PER_PAGE) -> query.Results:
    """One page of results; a page past the end gives the last page (as database-paginated lists do)."""
    from cocreate.search import query  # the index is opened only when someone searches

    def run(page: int) -> query.Results:
        return query.search(settings, params.q, types=(params.type,) if params.type else (),
                            phase=params.phase or None, category=params.category or None,
                            area=params.area or None, page=page, per_page=per_page)

    results = run(min(params.page, MAX_PAGE))
    last = max(1, math.ceil(results.total / results.per_page))
    return run(last) if results.page > last else results


def facet_names() -> dict[str, str]:
    return {"type": _("Type"), "phase": _("Phase"), "category": _("Category"), "area": _("Area")}


def facets_of(params: SearchParams, results: query.Results) -> list[Facet]:
    """Each filter with its values and counts; every link keeps the query and the other filters."""
    facets = []
    for name, label in facet_names().items():
        counts = dict(results.facets.get(name, {}))
        current = getattr(params, name)
        if current and current not in counts:
            counts[current] = 0
        options = [
            FacetOption(value=value, label=value_label(name, value), count=count, selected=value == current,
                        url=params.url(**{name: None if value == current else value, "page": None}))
            for value, count in sorted(counts.items(), key=lambda item: (-item[1], value_label(name, item[0])))
            if count or value == current
        ]
        if options:
            facets.append(Facet(name=name, label=label, options=options,
                                clear_url=params.url(**{name: None, "page": None}) if current else None))
    return facets


def _page_context(params: SearchParams, notes: list[str], settings: Any) -> dict[str, Any]:
    results = run_search(settings, params) if params.q else None
    page: Page[query.Hit] | None = None
    if results is not None:
        page = Page(items=results.hits, page=results.page, per_page=results.per_page, total=results.total)
    url_for_page: Callable[[int], str] = lambda number: params.url(page=number)  # noqa: E731
    return {
        "params": params,
        "notes": notes,
        "results": results,
        "page": page,
        "facets": facets_of(params, results) if results is not None else [],
        "url_for_page": url_for_page,
        "type_label": type_label,
        "value_label": value_label,
        "types": [(source.type, str(source.label())) for source in registry.sources().values()],
        "max_query_length": MAX_QUERY_LENGTH,
    }


@get("/search", name="search", sync_to_thread=True)
def search_page(request: Request, settings: AppSettings, q: FromQuery[str] = "", type: FromQuery[str] = "",
                phase: FromQuery[str] = "", category: FromQuery[str] = "", area: FromQuery[str] = "",
                page: FromQuery[str] = "1") -> Template:
    """Search everything public; htmx (typing, filters, pages) gets only the results region."""
    params, notes = parse_params({"q": q, "type": type, "phase": phase, "category": category, "area": area,
                                  "page": page}, request.app.route_reverse("search"))
    return render(request, "search/search.html", _page_context(params, notes, settings),
                  fragment="search/_results.html")


# --- the API ---------------------------------------------------------------------------------------


@dataclass
class SearchHitOut:
    key: str
    """``<type>:<id>``, unique across types."""
    type: str
    type_label: str
    id: int
    title: str
    url: str
    snippet_html: str
    """A short extract, HTML-escaped, with the matched words wrapped in ``<mark>``."""
    phase: str | None
    category: str | None
    area: str | None
    challenge_id: int | None
    score: float


@dataclass
class SearchPageInfo:
    page: int
    per_page: int
    total: int
    pages: int
    next: str | None
    previous: str | None


@dataclass
class SearchOut:
    query: str
    items: list[SearchHitOut]
    facets: dict[str, dict[str, int]]
    """Per filter (``type``, ``phase``, ``category``, ``area``): value → number of matching documents."""
    page: SearchPageInfo


SOMETHING = r"[^\s\x1c-\x1f\x85\ufeff]"
"""A query must hold one character that is not a space: in Python's sense (which the route applies) and
in JSON Schema's (ECMAScript's, which API clients and the fuzz test apply), the two differing in these."""


@get("/search", name="api-search", sync_to_thread=True, tags=["search"], summary="Search public content")
def api_search(
    request: Request,
    settings: AppSettings,
    q: Annotated[str, Parameter(description="Words to find, in Japanese or English (orthographic variants and "
                                            "English word forms match).",
                                min_length=1, max_length=MAX_QUERY_LENGTH, pattern=SOMETHING)],
    type: Annotated[str | None, Parameter(
        description="Only this document type (the components' search sources: `challenge`, `proposal`, "
                    "`question`, `trial`, `test_field`).",
        max_length=40)] = None,
    phase: Annotated[str | None, Parameter(description="A challenge phase (e.g. `accepting`).",
                                           max_length=MAX_FILTER_LENGTH)] = None,
    category: Annotated[str | None, Parameter(description="A challenge category (e.g. `transport_mobility`).",
                                              max_length=MAX_FILTER_LENGTH)] = None,
    area: Annotated[str | None, Parameter(description="An area, as in the facets.",
                                          max_length=MAX_FILTER_LENGTH)] = None,
    page: Annotated[int, Parameter(ge=1, le=MAX_PAGE,
                                   description="Page number; past the end gives the last page.")] = 1,
    per_page: Annotated[int, Parameter(ge=1, le=MAX_PER_PAGE, description="Items per page.")] = DEFAULT_PER_PAGE,
) -> SearchOut:
    """Public challenges, proposals (their public part), answered public questions, trials and test fields,
    best match first, with highlighted snippets and facet counts. Only what anyone may see is indexed."""
    text = " ".join(q.split())
    if not text:
        raise ValidationException(detail=_("Enter something to search for."))
    if type is not None and type not in registry.sources():
        raise ValidationException(detail=_("Unknown type: %(type)s.", type=type))
    params = SearchParams(q=text, type=type or "", phase=phase or "", category=category or "", area=area or "",
                          page=page)
    results = run_search(settings, params, per_page)
    info = Page(items=results.hits, page=results.page, per_page=results.per_page, total=results.total)

    path = request.app.route_reverse("api-search")

    def link(number: int) -> str:
        return f"{path}?" + urlencode(params.query_params(page=number, per_page=results.per_page))

    return SearchOut(
        query=text,
        items=[SearchHitOut(key=hit.key, type=hit.type, type_label=type_label(hit.type), id=hit.id, title=hit.title,
                            url=hit.url, snippet_html=str(hit.snippet), phase=hit.phase, category=hit.category,
                            area=hit.area, challenge_id=hit.challenge_id, score=hit.score) for hit in results.hits],
        facets={name: dict(values) for name, values in results.facets.items()},
        page=SearchPageInfo(page=info.page, per_page=info.per_page, total=info.total, pages=info.pages,
                            next=link(info.page + 1) if info.has_next else None,
                            previous=link(info.page - 1) if info.has_previous else None),
    )


page_routes = Router(path="/", route_handlers=[search_page], include_in_schema=False)
api_routes = Router(path="/api/v1", route_handlers=[api_search])
ROUTES = [page_routes, api_routes]


def document_search_types(schema: OpenAPI) -> None:
    """The API's ``type`` parameter lists the document types the loaded components index (they are known
    once the manifests are loaded, not when this module is imported)."""
    path = schema.paths.get("/api/v1/search") if schema.paths else None
    operation = path.get if path is not None else None
    for parameter in (operation.parameters or []) if operation is not None else []:
        if isinstance(parameter, OpenAPIParameter) and parameter.name == "type":
            parameter.schema = Schema(type=OpenAPIType.STRING, enum=sorted(registry.sources()),
                                      description=parameter.description)
