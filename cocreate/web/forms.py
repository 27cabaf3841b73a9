"""Reading forms the same way in every route module: the body annotations, and one error path.

Handlers take the posted fields as ``data: Form`` (or ``Multipart``), read them into a typed
:class:`cocreate.forms.FormModel` and call a service. Whatever refuses (the typed form or the service)
raises :class:`cocreate.errors.Invalid`; :func:`again_on_invalid` answers it by showing the form again
with the errors beside their fields. Anything else a service refuses is mapped to HTTP in
:mod:`cocreate.web.errors`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, Protocol

from litestar import Request, Response
from litestar.enums import RequestEncodingType
from litestar.params import Body

from cocreate.errors import Invalid
from cocreate.forms import FormModel, parse_id, parse_local_datetime, shown
from cocreate.web.htmx import is_htmx

__all__ = ["Form", "Multipart", "again_on_invalid", "parse_id", "parse_local_datetime", "safe_next"]

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
"""Annotation for a handler's ``data``: the posted fields (a list where a field was sent twice)."""
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
"""The same for forms that upload files (the files as ``UploadFile`` values)."""


def safe_next(target: str) -> str:
    """Only same-site paths; anything else (//evil.example, https://…, nothing) goes home ("/", the site's root:
    the one fallback of every ``next``)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target[:500]
    return "/"


class FormAgain(Protocol):
    def __call__(self, failed: Invalid, form: dict[str, Any], /, **handler_kwargs: Any) -> Response: ...


def again_on_invalid(show: FormAgain, *,
                     model: type[FormModel] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a form's route handler (below ``@post``): when handling the form raises
    :class:`Invalid` (the typed form, or a service's rule), answer with ``show(failed, form,
    **handler_kwargs)``, the page or fragment with the form again, where ``form`` is what was sent
    (see :func:`cocreate.forms.shown`; give the form's ``model`` when it has table rows) and the handler's own arguments (``request``, ``db_session``,
    path parameters…) are passed on by name. The unit of work has rolled back by then.

    A full page answers 400; an htmx fragment keeps 200, because htmx swaps no 4xx answer."""

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        def handle(*args: Any, **kwargs: Any) -> Any:
            try:
                return handler(*args, **kwargs)
            except Invalid as failed:
                data = kwargs.get("data")
                response = show(failed, shown(data, model) if isinstance(data, dict) else {}, **kwargs)
                request = kwargs.get("request")
                if (isinstance(request, Request) and not is_htmx(request)
                        and getattr(response, "status_code", None) in (None, 200)):
                    response.status_code = 400
                return response

        return handle

    return decorate
