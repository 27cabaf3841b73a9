"""Charts drawn on the server (cocreate.charts): SVG that the Content Security Policy lets render, named for
assistive technology, deterministic, with the same numbers as a table and as CSV."""

from __future__ import annotations

import csv
import io
from xml.etree import ElementTree

import pytest

from cocreate.charts import Chart, Reference, Series

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))  # noqa: S314 (our own output)


@pytest.mark.parametrize("kind", ["bar", "hbar", "line", "stacked", "pie"])
def test_a_chart_carries_nothing_the_content_security_policy_blocks(kind):
    chart = Chart(kind, "回答数", "安全・安心が最多", ["安全・安心", "子育て", "環境"],
                  [Series("回答", [120, 80, 40]), Series("前回", [100, 90, 30])])
    svg = chart.svg()
    root = _parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.get("aria-label") == "回答数"
    elements = list(root.iter())
    assert not [e for e in elements if e.tag in (f"{SVG}style", f"{SVG}script")]
    assert not [e for e in elements if "style" in e.attrib]
    assert "<!--" not in svg and "pygal.org" not in svg
    # Each series is drawn: its class names are what static/css/charts.css colours.
    assert "serie-0" in svg and ("serie-1" in svg or kind == "pie")


def test_the_same_data_gives_the_same_bytes():
    def make():
        return Chart("line", "利用者数", "増えている", ["4月", "5月"], [Series("利用者", [3, 5])]).svg()

    assert make() == make()


def test_a_reference_line_is_marked_for_its_dashes_and_appears_in_the_table():
    chart = Chart("line", "KPI", "目標に近づいている", ["4月", "5月", "6月"], [Series("実測", [10, 14, None])],
                  unit="人", label_heading="月", references=[Reference("目標", 20)])
    root = _parse(chart.svg())
    references = [e for e in root.iter() if "reference" in (e.get("class") or "").split()]
    assert references and all("serie-1" in e.get("class") for e in references)
    assert chart.headings() == ["月", "実測 (人)", "目標 (人)"]
    assert chart.rows() == [["4月", "10", "20"], ["5月", "14", "20"], ["6月", "", "20"]]


def test_the_csv_is_the_table_with_an_optional_byte_order_mark_for_excel():
    chart = Chart("hbar", "回答", "…", ["安全・安心", "子育て"], [Series("回答", [120, 80.25])], label_heading="選択肢")
    plain = chart.csv()
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(plain.decode("utf-8")))) == [
        ["選択肢", "回答"], ["安全・安心", "120"], ["子育て", "80.2"]]
    assert chart.csv(bom=True) == b"\xef\xbb\xbf" + plain


def test_a_chart_without_values_draws_nothing():
    chart = Chart("bar", "回答", "…", ["a"], [Series("回答", [None])])
    assert chart.empty and chart.svg() == ""
    assert Chart("bar", "回答", "…", [], [Series("回答", [])]).empty


def test_labels_from_user_text_are_escaped():
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    chart = Chart("hbar", hostile, hostile, [hostile, "b"], [Series(hostile, [1, 2]), Series("x", [2, 1])])
    svg = str(chart.svg())
    assert "<script" not in svg and "<img" not in svg
    root = _parse(svg)
    assert hostile in [e.text for e in root.iter()] or hostile == root.get("aria-label")
