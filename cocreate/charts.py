"""Charts drawn on the server as SVG, each with its data beside it (statistics, survey results, KPIs).

The drawing is pygal's (a well-kept SVG charting library, pure Python, no JavaScript build step). What this
module adds is what a public-sector page needs around a picture:

- **Under the site's Content Security Policy** (``style-src 'self'``, no inline script): pygal's inline
  ``<style>`` element, its tooltip script hooks and its ``style=`` attributes are removed, and the chart is
  styled by ``static/css/charts.css`` through pygal's class names (``.serie-0`` …). Nothing is fetched.
- **Accessible**: the SVG is an image (``role="img"``) named by the chart's title and described by its
  text summary; the same numbers are in a table beside it (:meth:`Chart.rows`), printable and readable
  by screen readers, and downloadable as CSV (:meth:`Chart.csv`).
- **Deterministic**: the same data gives the same bytes (no random ids, no dates), so pages can be cached
  and compared in tests.

Templates show a chart with the ``chart`` macro of ``templates/macros/chart.html``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal
from xml.etree import ElementTree

import pygal
from markupsafe import Markup
from pygal.etree import etree as _pygal_etree

_pygal_etree.to_etree()  # the standard library's ElementTree, whether lxml is installed or not

Kind = Literal["bar", "hbar", "line", "stacked", "pie"]

_SVG_NS = "http://www.w3.org/2000/svg"
ElementTree.register_namespace("", _SVG_NS)


@dataclass(frozen=True)
class Series:
    """One named row of values, one value per label of the chart (None: no value there)."""

    label: str
    values: Sequence[float | int | None]


@dataclass(frozen=True)
class Reference:
    """A flat line across a line chart (a KPI's baseline or target)."""

    label: str
    value: float


@dataclass(frozen=True)
class Chart:
    """A chart and the data it draws.

    ``title`` names it (the figure's caption and the image's accessible name); ``summary`` says in one or
    two sentences what it shows (the image's description, shown under it); ``labels`` are the categories
    (bars) or the points in time (lines); ``unit`` follows the values in the table's header."""

    kind: Kind
    title: str
    summary: str
    labels: Sequence[str]
    series: Sequence[Series]
    unit: str = ""
    label_heading: str = ""
    """The heading of the table's first column (what the labels are: 月, 選択肢…)."""
    references: Sequence[Reference] = field(default_factory=tuple)
    width: int = 720
    height: int = 0
    """0: chosen from the kind and the number of labels."""

    @property
    def empty(self) -> bool:
        return not self.labels or all(value is None for s in self.series for value in s.values)

    def rows(self) -> list[list[str]]:
        """The table beside the chart: one row per label, one column per series (and reference)."""
        rows = []
        for index, label in enumerate(self.labels):
            row = [str(label)]
            for s in self.series:
                value = s.values[index] if index < len(s.values) else None
                row.append("" if value is None else _number(value))
            row.extend(_number(r.value) for r in self.references)
            rows.append(row)
        return rows

    def headings(self) -> list[str]:
        unit = f" ({self.unit})" if self.unit else ""
        return [self.label_heading, *(f"{s.label}{unit}" for s in self.series),
                *(f"{r.label}{unit}" for r in self.references)]

    def csv(self, *, bom: bool = False) -> bytes:
        """The table as CSV (UTF-8; with a byte-order mark for Excel when ``bom``)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.headings())
        writer.writerows(self.rows())
        return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")

    def svg(self) -> Markup:
        """The chart as an inline SVG element, fit for the site's Content Security Policy."""
        if self.empty:
            return Markup("")
        chart = _pygal_chart(self)
        tree = chart.render_tree()
        return Markup(_clean(tree, self))  # noqa: S704 (ElementTree escapes every text and attribute it writes)


def _number(value: float | int) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return str(int(value))


def _height(chart: Chart) -> int:
    if chart.height:
        return chart.height
    if chart.kind == "hbar":
        return max(160, 60 + 36 * len(chart.labels) * max(1, len(chart.series)))
    return 360


def _pygal_chart(chart: Chart) -> pygal.graph.graph.Graph:
    config = pygal.Config(
        js=[], css=[], disable_xml_declaration=True, no_prefix=True, width=chart.width, height=_height(chart),
        show_legend=len(chart.series) + len(chart.references) > 1, legend_at_bottom=True, legend_at_bottom_columns=3,
        truncate_legend=-1, truncate_label=-1, tooltip_fancy_mode=False, print_values=chart.kind in ("bar", "hbar"),
        print_values_position="top", explicit_size=False, pretty_print=False, x_label_rotation=0,
        show_minor_x_labels=True, margin=12, margin_right=36, spacing=8, dots_size=3,
    )
    if config.show_legend:  # pygal keeps too little room for the legend at the bottom: its rows were cut off
        config.margin_bottom = 2 + 22 * -(-(len(chart.series) + len(chart.references)) // 3)
    if chart.kind == "line" and len(chart.labels) > 12:
        config.x_labels_major_count = 12
        config.show_minor_x_labels = False
    make = {"bar": pygal.Bar, "hbar": pygal.HorizontalBar, "line": pygal.Line, "stacked": pygal.StackedBar,
            "pie": pygal.Pie}[chart.kind]
    graph = make(config)
    if chart.kind != "pie":
        graph.x_labels = [str(label) for label in chart.labels]
        for s in chart.series:
            graph.add(s.label, list(s.values))
        for r in chart.references:
            graph.add(r.label, [r.value] * len(chart.labels), show_dots=False, stroke_style={"dasharray": "6, 4"})
    else:
        for label, value in zip(chart.labels, chart.series[0].values, strict=False):
            graph.add(str(label), [value])
    return graph


def _clean(tree: ElementTree.Element, chart: Chart) -> str:
    """Remove what the Content Security Policy would block or what pygal adds for its tooltips, and name
    the image for assistive technology (title and summary in the page, the SVG itself is one image)."""
    for parent in list(tree.iter()):
        for child in list(parent):
            tag = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""
            classes = (child.get("class") or "").split()
            if (tag in ("style", "script") or "tooltip-overlay" in classes or not isinstance(child.tag, str)
                    or tag == "title"):
                parent.remove(child)
                continue
            child.attrib.pop("style", None)
            series = next((c for c in classes if c.startswith("serie-")), None)
            if series and int(series.removeprefix("serie-")) >= len(chart.series) and chart.kind != "pie":
                child.set("class", f"{child.get('class')} reference")
    tree.attrib.pop("id", None)
    tree.set("class", f"pygal-chart chart-{chart.kind}")
    tree.set("role", "img")
    tree.set("focusable", "false")
    tree.set("aria-label", chart.title)
    tree.set("preserveAspectRatio", "xMinYMin meet")
    return ElementTree.tostring(tree, encoding="unicode")
