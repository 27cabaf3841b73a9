"""The statistics' charts (:class:`cocreate.charts.Chart`), built from a snapshot in the current locale.

Each chart has a name: its figure's id on the page and its CSV's address (``/stats/<name>.csv``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_date

from cocreate.accounts.models import AGE_BAND_LABELS, AgeBand
from cocreate.areas import Area
from cocreate.charts import Chart, Series
from cocreate.i18n import get_locale
from cocreate.i18n import gettext as _
from cocreate.stats.compute import NOT_GIVEN, OTHER, sources
from cocreate.stats.sources import Measure

CHARTS = ("participation", "challenges", "funnel", "areas", "utilisation", "field-days")


@dataclass(frozen=True)
class LabelledChart(Chart):
    """A chart drawn with short labels (``labels``: months as 2026/1, titles cut to 12 characters) whose table and CSV
    give the full ones (``row_labels``)."""

    row_labels: Sequence[str] = ()

    def rows(self) -> list[list[str]]:
        rows = super().rows()
        for row, label in zip(rows, self.row_labels, strict=False):
            row[0] = label
        return rows


def _short(text: str, length: int = 12) -> str:
    return text if len(text) <= length else text[:length - 1] + "…"


@dataclass(frozen=True)
class MaskedChart(Chart):
    """A chart whose table says ``masked`` in the cells of suppressed counts (None values), and has a total
    column and a total row that are not drawn."""

    masked: str = ""
    total_heading: str = ""
    row_totals: Sequence[int | None] = ()
    total_row: Sequence[int | None] = ()
    """Per series, then the grand total."""

    def rows(self) -> list[list[str]]:
        def cell(value: int | None) -> str:
            return self.masked if value is None else str(value)

        rows = []
        for index, label in enumerate(self.labels):
            rows.append([str(label), *(cell(s.values[index]) for s in self.series), cell(self.row_totals[index])])
        if self.labels:
            rows.append([self.total_heading, *(cell(value) for value in self.total_row)])
        return rows

    def headings(self) -> list[str]:
        return [*super().headings(), self.total_heading]


def _measures(kind: str) -> list[Measure]:
    found: dict[str, Measure] = {}
    for source in sources():
        for measure in getattr(source, kind):
            found.setdefault(measure.key, measure)
    return sorted(found.values(), key=lambda measure: measure.position)


def _listing(parts: list[str]) -> str:
    return _(", ").join(parts)


def _month(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    locale = get_locale()
    return format_date(date(year, number, 1), "yyyy年M月" if locale == "ja" else "MMM yyyy", locale=locale)


def _axis_month(month: str) -> str:
    """A month on a chart's axis, short enough for twelve of them side by side: 2026/1."""
    year, number = month.split("-")
    return f"{year}/{int(number)}"


def participation(data: dict[str, Any]) -> Chart:
    months = data["months"]
    measures = [m for m in _measures("monthly") if m.key in data["monthly"]]
    series = [Series(str(m.label), data["monthly"][m.key]) for m in measures]
    totals = _listing([_("%(label)s: %(count)s", label=str(m.label), count=sum(data["monthly"][m.key]))
                       for m in measures])
    return LabelledChart("line", _("Participation by month"),
                 _("New accounts and contributions in each of the last %(n)s months, from %(first)s to %(last)s. "
                   "Totals: %(totals)s.", n=len(months), first=_month(months[0]), last=_month(months[-1]),
                   totals=totals),
                 [_axis_month(month) for month in months], series, label_heading=_("Month"),
                 row_labels=[_month(month) for month in months])


def challenges(data: dict[str, Any]) -> Chart:
    rows = data["challenges"]
    measures = [m for m in _measures("per_challenge") if not rows or m.key in rows[0]]
    series = [Series(str(m.label), [row.get(m.key, 0) for row in rows]) for m in measures]
    return LabelledChart("hbar", _("Participation per challenge"),
                 _("Questions, proposals, comments, votes and briefing registrations on each of the %(n)s newest "
                   "published challenges.", n=len(rows)),
                 [_short(row["title"]) for row in rows], series, label_heading=_("Challenge"),
                 row_labels=[row["title"] for row in rows])


def funnel(data: dict[str, Any]) -> Chart:
    measures = [m for m in _measures("funnel") if m.key in data["funnel"]]
    values = [data["funnel"][m.key] for m in measures]
    steps = _listing([_("%(label)s: %(count)s", label=str(m.label), count=value)
                      for m, value in zip(measures, values, strict=True)])
    return Chart("hbar", _("From challenges to results"),
                 _("How far ideas have come: %(steps)s.", steps=steps),
                 [str(m.label) for m in measures], [Series(_("Number"), values)], label_heading=_("Step"))


def _area_label(row: dict[str, Any]) -> str:
    if row["kind"] == "area":
        return Area(row["key"]).label
    if row["kind"] == OTHER:
        return _("Other places")
    if row["kind"] == NOT_GIVEN:
        return _("Not given")
    return str(row["key"])


def _band_label(band: str) -> str:
    return _("Not given") if band == NOT_GIVEN else str(AGE_BAND_LABELS[AgeBand(band)])


def areas(data: dict[str, Any]) -> Chart:
    table = data["areas"]
    rows = table["rows"]
    min_cell = data["min_cell"]
    series = [Series(_band_label(band), [row["cells"][index] for row in rows])
              for index, band in enumerate(table["bands"])]
    return MaskedChart(
        "stacked", _("People by area and age band"),
        _("Accounts whose profile gives an area or an age band, by area and age band. To protect privacy, "
          "counts below %(n)s are not shown, nor are other counts from which they could be worked out.", n=min_cell),
        [_area_label(row) for row in rows], series, label_heading=_("Area"),
        masked=_("fewer than %(n)s", n=min_cell), total_heading=_("Total"),
        row_totals=[row["total"] for row in rows], total_row=[*table["totals"], table["total"]])


def utilisation(data: dict[str, Any]) -> Chart:
    months = data["months"]
    series = []
    for field in data["fields"]:
        series.append(Series(field["name"], [round(100 * booked / available, 1) if available else None
                                             for booked, available in zip(field["booked"], field["available"],
                                                                          strict=True)]))
    return LabelledChart("line", _("Test-field utilisation by month"),
                 _("For each test field, the share of the days it could be booked on which an approved booking "
                   "used it, in each of the last %(n)s months.", n=len(months)),
                 [_axis_month(month) for month in months], series, unit="%", label_heading=_("Month"),
                 row_labels=[_month(month) for month in months])


def field_days(data: dict[str, Any]) -> Chart:
    fields = data["fields"]
    booked = [sum(field["booked"]) for field in fields]
    available = [sum(field["available"]) for field in fields]
    return LabelledChart("hbar", _("Test-field days booked and available"),
                 _("Over the last %(n)s months: days with an approved booking, and days the field could be booked "
                   "(its weekly hours, less whole days closed).", n=len(data["months"])),
                 [_short(field["name"]) for field in fields],
                 [Series(_("Days booked"), booked), Series(_("Days available"), available)],
                 label_heading=_("Test field"), row_labels=[field["name"] for field in fields])


BUILDERS = {"participation": participation, "challenges": challenges, "funnel": funnel, "areas": areas,
            "utilisation": utilisation, "field-days": field_days}


def charts(data: dict[str, Any]) -> dict[str, Chart]:
    """Every chart of a snapshot, by name, in page order."""
    return {name: BUILDERS[name](data) for name in CHARTS}
