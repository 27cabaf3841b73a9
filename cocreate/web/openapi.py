"""The read API's OpenAPI schema says every status code a route can answer.

Litestar documents what a handler declares (200, and 400 for its parameters). The answers that come from
the house's shared paths are added here, once, for every operation in the schema, rather than repeated on
each handler (where a new route would forget them):

- 404, for an operation with a path parameter (no such row, or not public: ``NotFound`` from the
  service, or an id beyond any row id, :func:`cocreate.web.errors.refuse_impossible_ids`);
- 503 with ``Retry-After``, for every operation (the in-flight limit and the bounded waits for a
  connection or a lock: :func:`cocreate.web.load.in_flight_limit`, :func:`cocreate.db.engine.is_overload`).

Both bodies are the problem document every API error has (``status_code``, ``title``, ``detail``).
Components add what only they know through ``finishers`` (the search's document types, say).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from litestar import Litestar
from litestar.openapi.spec import OpenAPI, OpenAPIHeader, OpenAPIMediaType, OpenAPIResponse, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIType

PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    required=["status_code", "detail"],
    properties={
        "status_code": Schema(type=OpenAPIType.INTEGER),
        "title": Schema(type=OpenAPIType.STRING, description="The status in the reader's language."),
        "detail": Schema(type=OpenAPIType.STRING, description="Why, in the reader's language."),
    },
    description="A problem document.",
)

NOT_FOUND = OpenAPIResponse(
    description="Nothing public has this id.",
    content={"application/json": OpenAPIMediaType(schema=PROBLEM)},
)

BUSY = OpenAPIResponse(
    description="The site is busy: try again after the seconds in Retry-After.",
    headers={"Retry-After": OpenAPIHeader(schema=Schema(type=OpenAPIType.INTEGER),
                                          description="Seconds to wait before trying again.")},
    content={"application/json": OpenAPIMediaType(schema=PROBLEM)},
)

Finisher = Callable[[OpenAPI], None]


def operations(schema: OpenAPI) -> Iterable[tuple[str, Operation]]:
    """Every (path, operation) of the schema."""
    for path, item in (schema.paths or {}).items():
        for method in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
            operation = getattr(item, method, None)
            if operation is not None:
                yield path, operation


def add_shared_responses(schema: OpenAPI) -> None:
    for path, operation in operations(schema):
        responses: dict[str, Any] = dict(operation.responses or {})
        if "{" in path:
            responses.setdefault("404", NOT_FOUND)
        responses.setdefault("503", BUSY)
        operation.responses = responses


def finish(*finishers: Finisher) -> Callable[[Litestar], None]:
    """An ``on_startup`` hook: build the schema once and complete it before anyone reads it."""

    def hook(app: Litestar) -> None:
        schema = app.openapi_schema  # built now and kept by the app; served from this object
        add_shared_responses(schema)
        for finisher in finishers:
            finisher(schema)

    return hook
