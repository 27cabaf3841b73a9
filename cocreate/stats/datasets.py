"""The statistics as open data (the core manifest's ``datasets``): the public snapshot's numbers, one per row,
suppressed exactly as on ``/stats``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlmodel import Session

from cocreate.i18n import lazy_gettext as _l
from cocreate.opendata.datasets import Column, Dataset
from cocreate.stats import snapshot


def _rows(session: Session) -> Iterator[dict[str, Any]]:
    data = snapshot.public(session).data
    for measure, values in data["monthly"].items():
        for month, value in zip(data["months"], values, strict=True):
            yield {"table": "participation", "period": month, "group": "", "measure": measure, "value": value,
                   "suppressed": False}
    for step, value in data["funnel"].items():
        yield {"table": "funnel", "period": "", "group": "", "measure": step, "value": value, "suppressed": False}
    areas = data["areas"]
    for row in areas["rows"]:
        group = row["key"] or row["kind"]
        for band, value in zip(areas["bands"], [*row["cells"]], strict=True):
            yield {"table": "people_by_area_and_age_band", "period": "", "group": group, "measure": band,
                   "value": value, "suppressed": value is None}
        yield {"table": "people_by_area_and_age_band", "period": "", "group": group, "measure": "total",
               "value": row["total"], "suppressed": row["total"] is None}
    for band, value in zip([*areas["bands"], "total"], [*areas["totals"], areas["total"]], strict=True):
        yield {"table": "people_by_area_and_age_band", "period": "", "group": "total", "measure": band,
               "value": value, "suppressed": value is None}


DATASETS = [
    Dataset(
        name="statistics",
        title=_l("Statistics of participation"),
        description=_l("The numbers of the statistics page: new accounts, comments, proposals, votes and residents' "
                       "voices by month; the funnel from challenges to published results; people by area and age "
                       "band from the profiles that give them. Counts of people below the page's threshold are "
                       "left empty (suppressed), as are the others from which they could be worked out."),
        columns=(
            Column("table", _l("Which table: participation (by month), funnel, or people_by_area_and_age_band.")),
            Column("period", _l("The month (YYYY-MM, Japan time) for participation; empty otherwise.")),
            Column("group", _l("The area (a ward area's code, or the text people gave), or empty.")),
            Column("measure", _l("What is counted (accounts, comments, votes…; a funnel step; an age band).")),
            Column("value", _l("The count; empty when suppressed."), "integer"),
            Column("suppressed", _l("Whether the count is withheld to protect privacy."), "boolean"),
        ),
        rows=_rows,
        keywords=("統計", "参加", "statistics", "participation"),
    ),
]
