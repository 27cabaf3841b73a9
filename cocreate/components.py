"""The components that make up cocreate, each described by one manifest.

The core (``cocreate``) knows the feature packages only through :data:`INSTALLED`: the import paths of
their manifests (``proposals/component.py``, ``labs/component.py``; the core's own is
``cocreate/component.py``). This module imports nothing of the platform, so any core module may ask it.
A manifest declares, in one place, everything the component adds to the platform: models, routes,
Celery tasks and beat schedule, demo content, search sources and the labels of their facet values, map layers,
notification kinds, follow targets, commentable, reportable and surveyable things, page sections, navigation items,
"download my data" sections, open datasets, statistics and account-deletion hooks (Decidim's ``component.rb`` is the model).

Manifests name the modules behind each hook by import path (``module:attribute``), so reading a
manifest imports nothing heavy. Nothing registers itself by being imported: :func:`load` imports and
registers everything, once, and is called at each composition root (the app factory, the Celery
worker and beat configuration through the CLI, the CLI itself, Alembic's environment, the tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class NavItem:
    """A link the components contribute to the core's pages: the site's header (the main navigation or, for
    signed-in people, the account menu), the account page, the following page, the search page's "browse" list.

    A link names the route it goes to, not its path: the page builds the path from the route's name
    (:meth:`href`), as every link of the core's templates does (``url_for``)."""

    id: str
    """The link's DOM id (browser tests find it by this); "" for none."""
    label: Any
    """A lazy_gettext string."""
    route: str
    """The ``name`` of the route handler the link goes to (a route without path parameters). A path
    beginning with "/" is taken as it is, for a manifest not yet moved to route names."""
    position: int
    """Order within its menu, across components (lower first)."""
    menu: str = "main"
    """Where the link shows: ``main`` (the header, everyone), ``account`` (the header's account menu, signed-in
    people), ``overview`` (the account page), ``following`` (the page of what one follows) or ``browse`` (the
    search page, before a search)."""
    section: Any = None
    """On the account page: the heading (a lazy_gettext string) of the list the link shows in, after the
    core's own lists; None: the settings list."""
    active_under: tuple[str, ...] = ()
    """Routes (by name) on whose paths, and every path below them, the link is marked as the current page
    (besides its own path)."""
    action: str | None = None
    """The action (see :mod:`cocreate.permissions`) the acting person must be allowed to do to see the link
    (None: everyone who sees the menu)."""
    visible: Callable[[Any], bool] | None = None
    """Whether the acting Principal sees the link, besides ``action`` (None: no further condition)."""
    fallback: bool = False
    """Shown only when no other shown link has the same ``id``: two components' links to one place."""

    def href(self, app: Any) -> str:
        """The link's path, from ``app`` (the Litestar application, which knows its routes by name)."""
        return self.route if self.route.startswith("/") else app.route_reverse(self.route)

    def is_active(self, app: Any, path: str) -> bool:
        """Whether ``path`` (the page being shown) is the link's page or lies under one of ``active_under``."""
        return path == self.href(app) or any(path.startswith(app.route_reverse(name)) for name in self.active_under)


@dataclass(frozen=True)
class Component:
    name: str
    models: str | None = None
    """Module whose import registers the component's tables on the shared metadata."""
    routes: str | None = None
    """``module:attribute`` holding a list of route handlers (controllers, routers, functions), or a function
    returning one (for routes built from what the components declare, called once they are loaded)."""
    tasks: tuple[str, ...] = ()
    """Modules whose import registers the component's Celery tasks."""
    beat_schedule: str | None = None
    """``module:attribute`` holding a Celery beat schedule dict."""
    demo: str | None = None
    """``module:function`` taking ``(session, settings)`` that loads demo content; idempotent."""
    home_sections: tuple[str, ...] = ()
    """``module:function`` taking ``(session)`` returning ``(template_name, context)`` for the home page."""
    search_sources: str | None = None
    """``module:attribute`` holding a list of :class:`cocreate.search.registry.Source`."""
    map_layers: str | None = None
    """``module:attribute`` holding a list of :class:`cocreate.maps.layers.MapLayer`: what the component puts
    on the map of everything (``/map``)."""
    opinion_sources: str | None = None
    """``module:attribute`` holding a list of :class:`cocreate.analysis.sources.OpinionSource`: the subjects
    whose texts the opinion analysis may group into topics (a challenge's comments, voices in a period)."""
    search_facets: dict[str, str] = field(default_factory=dict)
    """Search filter (``phase``, ``category``, ``area``) → ``module:attribute`` of the enum whose members'
    ``label`` names that filter's values in the current locale."""
    followables: str | None = None
    """``module:attribute`` holding a list of :class:`cocreate.notifications.follows.Followable`."""
    commentables: str | None = None
    """``module:attribute`` holding a list of :class:`cocreate.comments.targets.CommentTarget`: what people
    may comment on (each gets its comment pages under its own page's URL)."""
    reportables: str | None = None
    """``module:attribute`` holding a list of :class:`cocreate.moderation.targets.Reportable`: what people may
    report to the moderators."""
    surveyables: str | None = None
    """``module:attribute`` holding a list of :class:`cocreate.surveys.targets.SurveyTarget`: what a survey may
    belong to besides the whole site (its owning departments' staff manage its surveys)."""
    notification_kinds: tuple[str, ...] = ()
    """``module:attribute`` of dicts name → :class:`cocreate.notifications.kinds.Kind`."""
    page_sections: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Page (``challenge``, ``proposal``, ``field``, ``trial``, ``voice``; ``admin``, the administrators'
    dashboard, takes ``(session, actor)``) → ``module:function`` taking ``(session, actor, thing)`` and returning ``(template_name, context)`` or None; see
    :mod:`cocreate.web.sections`. Pages render them in manifest order."""
    navigation: tuple[NavItem, ...] = ()
    export_sections: dict[str, str] = field(default_factory=dict)
    """Section name in "download my data" → ``module:function`` taking ``(session, user)`` and
    returning JSON-able data about that user only."""
    deletion_hooks: tuple[str, ...] = ()
    """``module:function`` taking ``(session, user)``, run inside the account deletion transaction."""
    permissions: str | None = None
    """``module:attribute`` holding the component's :class:`cocreate.permissions.Policy` (its actions and
    their rules, answered by :func:`cocreate.permissions.can`)."""
    datasets: tuple[str, ...] = ()
    """``module:attribute`` of lists of :class:`cocreate.opendata.datasets.Dataset`: what the component
    publishes as open data (``/open-data``), public parts only."""
    statistics: tuple[str, ...] = ()
    """``module:attribute`` of :class:`cocreate.stats.sources.StatsSource`: what the component counts for the
    statistics pages (``/stats``), by SQL aggregates."""


INSTALLED: tuple[str, ...] = (
    "cocreate.component:COMPONENT",
    "proposals.component:COMPONENT",
    "labs.component:COMPONENT",
)
"""Every component's manifest (``module:attribute``), the core's first, in the order their hooks apply."""


def resolve(path: str) -> Any:
    """Import ``module:attribute`` (or just ``module``)."""
    module_name, _, attribute = path.partition(":")
    module = import_module(module_name)
    return getattr(module, attribute) if attribute else module


_loaded: tuple[Component, ...] | None = None


def load() -> tuple[Component, ...]:
    """Import every component and register what its manifest declares; idempotent.

    Call it once at each composition root, before building anything else. It imports the models (so
    the shared metadata is complete, and the search index's flush hook is installed wherever models
    are written) and the Celery tasks. The core's registries (notification kinds, export sections,
    deletion hooks, search sources, follow targets, commentable and reportable things, page sections,
    navigation) ask the functions below.
    """
    global _loaded
    if _loaded is not None:
        return _loaded
    manifests = tuple(resolve(path) for path in INSTALLED)
    names = [component.name for component in manifests]
    if len(set(names)) != len(names):
        raise ValueError(f"two components share a name: {names}")
    for component in manifests:
        if component.models:
            import_module(component.models)
    import_module("cocreate.search.indexer")
    for component in manifests:
        for module in component.tasks:
            import_module(module)
    from cocreate import permissions

    permissions.install(resolve(component.permissions) for component in manifests if component.permissions)
    _loaded = manifests
    return manifests


def loaded() -> tuple[Component, ...]:
    """The manifests :func:`load` loaded; an error before it ran (a composition root forgot it)."""
    if _loaded is None:
        raise RuntimeError("cocreate.components.load() has not run: call it at the composition root")
    return _loaded


def route_handlers() -> list[Any]:
    handlers: list[Any] = []
    for component in loaded():
        if component.routes:
            routes = resolve(component.routes)
            handlers.extend(routes() if callable(routes) else routes)
    return handlers


def beat_schedule() -> dict[str, Any]:
    schedule: dict[str, Any] = {}
    for component in loaded():
        if component.beat_schedule:
            schedule.update(resolve(component.beat_schedule))
    return schedule


def demo_loaders() -> Iterator[tuple[str, Callable[..., Any]]]:
    for component in loaded():
        if component.demo:
            yield component.name, resolve(component.demo)


def home_sections() -> list[Callable[..., tuple[str, dict[str, Any]]]]:
    return [resolve(path) for component in loaded() for path in component.home_sections]


def search_sources() -> list[Any]:
    sources: list[Any] = []
    for component in loaded():
        if component.search_sources:
            sources.extend(resolve(component.search_sources))
    return sources


def map_layers() -> list[Any]:
    """Every component's map layers (:class:`cocreate.maps.layers.MapLayer`), in manifest order."""
    layers: list[Any] = []
    for component in loaded():
        if component.map_layers:
            layers.extend(resolve(component.map_layers))
    return layers


def opinion_sources() -> list[Any]:
    sources: list[Any] = []
    for component in loaded():
        if component.opinion_sources:
            sources.extend(resolve(component.opinion_sources))
    return sources


def search_facets() -> dict[str, Any]:
    """Search filter → the enum that labels its values (declared by the components)."""
    facets: dict[str, Any] = {}
    for component in loaded():
        for name, path in component.search_facets.items():
            if name in facets:
                raise ValueError(f"search facet {name!r} is labelled by two components")
            facets[name] = resolve(path)
    return facets


def followables() -> list[Any]:
    return [followable for component in loaded() if component.followables
            for followable in resolve(component.followables)]


def commentables() -> list[Any]:
    return [target for component in loaded() if component.commentables
            for target in resolve(component.commentables)]


def reportables() -> list[Any]:
    return [reportable for component in loaded() if component.reportables
            for reportable in resolve(component.reportables)]


def surveyables() -> list[Any]:
    return [target for component in loaded() if component.surveyables
            for target in resolve(component.surveyables)]


def page_sections(page: str) -> list[Callable[..., Any]]:
    """The section builders every component contributes to ``page``, in manifest order."""
    return [resolve(path) for component in loaded() for path in component.page_sections.get(page, ())]


def navigation(menu: str) -> list[NavItem]:
    """Every component's links of one menu (see :attr:`NavItem.menu`), in position order."""
    items = [item for component in loaded() for item in component.navigation if item.menu == menu]
    return sorted(items, key=lambda item: item.position)


def notification_kinds() -> dict[str, Any]:
    """Kind name → :class:`cocreate.notifications.kinds.Kind`, from every manifest."""
    result: dict[str, Any] = {}
    for component in loaded():
        for path in component.notification_kinds:
            for name, kind in resolve(path).items():
                if name in result:
                    raise ValueError(f"notification kind {name!r} is declared twice")
                result[name] = kind
    return result


def export_sections() -> dict[str, Callable[..., Any]]:
    """Section name → builder of "download my data", from every manifest."""
    result: dict[str, Callable[..., Any]] = {}
    for component in loaded():
        for name, path in component.export_sections.items():
            if name in result:
                raise ValueError(f"export section {name!r} is declared twice")
            result[name] = resolve(path)
    return result


def datasets() -> list[Any]:
    """Every component's open datasets (:class:`cocreate.opendata.datasets.Dataset`), in manifest order;
    a name declared twice is an error."""
    result: list[Any] = []
    for component in loaded():
        for path in component.datasets:
            result.extend(resolve(path))
    names = [dataset.name for dataset in result]
    if len(set(names)) != len(names):
        raise ValueError(f"two datasets share a name: {names}")
    return result


def statistics_sources() -> list[Any]:
    """Every component's statistics sources (:class:`cocreate.stats.sources.StatsSource`), in manifest order."""
    return [resolve(path) for component in loaded() for path in component.statistics]


def deletion_hooks() -> list[Callable[..., Any]]:
    return [resolve(path) for component in loaded() for path in component.deletion_hooks]
