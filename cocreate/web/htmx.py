"""Page or fragment: one URL answers a full page, or for htmx a fragment plus an ``HX-Trigger``.

Form posts answer plain browsers with a 303 redirect (so reload never re-posts) and htmx with the
fragment to swap in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from litestar import Request
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

VARY = "HX-Request"


def is_htmx(request: Request) -> bool:
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


def _trigger_header(trigger: str | Mapping[str, Any] | None) -> dict[str, str]:
    if trigger is None:
        return {}
    value = trigger if isinstance(trigger, str) else json.dumps(trigger, ensure_ascii=True)
    return {"HX-Trigger": value}


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    fragment: str | None = None,
    status_code: int = 200,
    trigger: str | Mapping[str, Any] | None = None,
) -> Template:
    """The full ``template``, or ``fragment`` when htmx asks; the response varies on ``HX-Request``."""
    use_fragment = fragment is not None and is_htmx(request)
    headers = {"Vary": VARY} | (_trigger_header(trigger) if use_fragment else {})
    return Template(
        template_name=fragment if use_fragment else template,  # type: ignore[arg-type]
        context=dict(context or {}),
        status_code=status_code,
        headers=headers,
    )


def after_post(
    request: Request,
    redirect_to: str,
    *,
    message: str | None = None,
    category: str = "success",
    fragment: str | None = None,
    context: Mapping[str, Any] | None = None,
    trigger: str | Mapping[str, Any] | None = None,
) -> Template | Redirect:
    """303 to ``redirect_to`` with a flash message, or the fragment for htmx."""
    if fragment is not None and is_htmx(request):
        payload: dict[str, Any] = {}
        if isinstance(trigger, Mapping):
            payload.update(trigger)
        elif isinstance(trigger, str):
            payload[trigger] = None
        if message:
            payload["cocreate:flash"] = {"message": message, "category": category}
        return Template(
            template_name=fragment,
            context=dict(context or {}),
            headers={"Vary": VARY} | (_trigger_header(payload) if payload else {}),
        )
    if message:
        flash(request, message, category)
    return Redirect(path=redirect_to, status_code=303)
