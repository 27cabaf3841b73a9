"""Links to one route, many times: the route looked up once.

Pages build links from route names: ``url_for("booking-detail", booking_id=…)`` in templates,
``request.app.route_reverse(…)`` in Python. Each call looks the route up again; a page that links to one
route for every row of a long list (a month calendar, a trial's updates) takes :func:`route_path` once
and fills in each row's path parameters, which gives the same path as ``route_reverse``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from litestar import Litestar
from litestar.exceptions import NoRouteMatchFoundException

_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")


def route_path(app: Litestar, name: str) -> Callable[..., str]:
    """``route_path(app, "booking-detail")(booking_id=5)`` is ``app.route_reverse("booking-detail",
    booking_id=5)``: the path of the route named ``name`` with its path parameters filled in."""
    index = app.get_handler_index_by_name(name)
    if index is None:
        raise NoRouteMatchFoundException(f"Route {name} can not be found")
    if len(index["paths"]) != 1:
        raise NoRouteMatchFoundException(f"Route {name} has more than one path: use route_reverse")
    return _PARAMETER.sub(r"{\1}", index["paths"][0]).format
