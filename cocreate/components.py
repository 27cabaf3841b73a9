"""The components that make up cocreate.

The core (``cocreate``) knows the feature packages only through this list. Each component names, by
import path, the modules that hold its models, routes, Celery tasks and demo content, so that the
core can load them without importing the packages at module level.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class Component:
    name: str
    models: str | None = None
    """Module whose import registers the component's tables on the shared metadata."""
    routes: str | None = None
    """``module:attribute`` holding a list of route handlers (controllers, routers, functions)."""
    tasks: tuple[str, ...] = field(default_factory=tuple)
    """Modules whose import registers the component's Celery tasks."""
    beat_schedule: str | None = None
    """``module:attribute`` holding a Celery beat schedule dict."""
    demo: str | None = None
    """``module:function`` taking ``(session, settings)`` that loads demo content; idempotent."""
    home_sections: tuple[str, ...] = field(default_factory=tuple)
    """``module:function`` taking ``(session)`` returning ``(template_name, context)`` for the home page."""
    search_sources: str | None = None
    """``module:attribute`` holding a list of :class:`cocreate.search.registry.Source`."""
    followables: str | None = None
    """``module:attribute`` holding a list of :class:`cocreate.notifications.follows.Followable`."""


COMPONENTS: tuple[Component, ...] = (
    Component(
        name="core",
        models="cocreate.models",
        routes="cocreate.web.routes:ROUTES",
        tasks=("cocreate.tasks.builtin", "cocreate.notifications.tasks", "cocreate.search.tasks"),
        beat_schedule="cocreate.tasks.builtin:BEAT_SCHEDULE",
        demo="cocreate.demo:load",
    ),
    Component(
        name="proposals",
        models="proposals.models",
        routes="proposals.routes:ROUTES",
        tasks=("proposals.tasks",),
        beat_schedule="proposals.tasks:BEAT_SCHEDULE",
        demo="proposals.demo:load",
        home_sections=("proposals.routes:home_section",),
        search_sources="proposals.search:SOURCES",
        followables="proposals.follow_targets:FOLLOWABLES",
    ),
    Component(
        name="labs",
        models="labs.models",
        routes="labs.routes:ROUTES",
        tasks=("labs.tasks",),
        beat_schedule="labs.tasks:BEAT_SCHEDULE",
        demo="labs.demo:load",
        search_sources="labs.search:SOURCES",
        followables="labs.follow_targets:FOLLOWABLES",
    ),
)


def resolve(path: str) -> Any:
    """Import ``module:attribute`` (or just ``module``)."""
    module_name, _, attribute = path.partition(":")
    module = import_module(module_name)
    return getattr(module, attribute) if attribute else module


def load_models() -> None:
    """Import every component's models so the shared metadata is complete (migrations, create_all).

    Also the search index's flush hook: wherever models are written (web, worker, CLI, tests), changes
    to indexed content must reach the search outbox.
    """
    for component in COMPONENTS:
        if component.models:
            import_module(component.models)
    import_module("cocreate.search.indexer")


def load_tasks() -> None:
    for component in COMPONENTS:
        for module in component.tasks:
            import_module(module)


def route_handlers() -> list[Any]:
    handlers: list[Any] = []
    for component in COMPONENTS:
        if component.routes:
            handlers.extend(resolve(component.routes))
    return handlers


def beat_schedule() -> dict[str, Any]:
    schedule: dict[str, Any] = {}
    for component in COMPONENTS:
        if component.beat_schedule:
            schedule.update(resolve(component.beat_schedule))
    return schedule


def demo_loaders() -> Iterator[tuple[str, Callable[..., Any]]]:
    for component in COMPONENTS:
        if component.demo:
            yield component.name, resolve(component.demo)


def home_sections() -> list[Callable[..., tuple[str, dict[str, Any]]]]:
    return [resolve(path) for component in COMPONENTS for path in component.home_sections]


def search_sources() -> list[Any]:
    sources: list[Any] = []
    for component in COMPONENTS:
        if component.search_sources:
            sources.extend(resolve(component.search_sources))
    return sources
