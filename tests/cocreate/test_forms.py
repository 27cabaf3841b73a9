"""The typed input types: each refuses what it must with a translated message per field, and reads
what people actually type (full-width digits, a field sent twice, amounts with separators)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import Enum
from typing import Annotated

import pytest
from pydantic import Field

from cocreate import i18n
from cocreate.errors import Invalid
from cocreate.forms import (
    Choice,
    Choices,
    Date,
    Flag,
    FormModel,
    Line,
    LocalDateTime,
    Problems,
    RowId,
    RowIds,
    Rows,
    Text,
    TimeOfDay,
    WholeNumber,
    Yen,
    shown,
)
from cocreate.i18n import lazy_gettext


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Kpi(FormModel):
    indicator: Annotated[str, Line(20, required=lazy_gettext("This field is required."))] = ""
    target: Annotated[str, Line(20)] = ""


class Sample(FormModel):
    title: Annotated[str, Line(10, required="Write a title.")] = ""
    body: Annotated[str, Text(20)] = ""
    colour: Annotated[Colour, Choice(Colour)] = Colour.RED
    colours: Annotated[list[Colour], Choices(Colour)] = Field(default_factory=list)
    owner_id: Annotated[int | None, RowId()] = None
    ids: Annotated[list[int], RowIds()] = Field(default_factory=list)
    budget: Annotated[int | None, Yen()] = None
    people: Annotated[int | None, WholeNumber(maximum=100)] = None
    starts: Annotated[datetime | None, LocalDateTime()] = None
    day: Annotated[date | None, Date()] = None
    at: Annotated[time | None, TimeOfDay()] = None
    agreed: Annotated[bool, Flag()] = False
    kpis: Annotated[list[Kpi], Rows(Kpi, max_rows=2)] = Field(default_factory=list)


def test_what_people_type_is_read_as_meant() -> None:
    form = Sample.parse({
        "title": ["  最初  ", "二つ目"], "body": "一行目\r\n二行目", "colour": "blue", "colours": ["red", "red", "blue"],
        "owner_id": "１２", "ids": ["3", "4", "3"], "budget": "¥3,000,000円", "people": "４２",
        "starts": "2027-04-01T10:00", "day": "2027年4月1日", "at": "１４：００", "agreed": "on",
        "kpis-0-indicator": "参加者数", "kpis-0-target": "100", "kpis-1-indicator": "", "kpis-1-target": "",
        "kpis-2-indicator": "削除", "kpis-2-remove": "yes",
    })
    assert form.title == "最初"
    assert form.body == "一行目\n二行目"
    assert form.colour is Colour.BLUE and form.colours == [Colour.RED, Colour.BLUE]
    assert form.owner_id == 12 and form.ids == [3, 4]
    assert form.budget == 3_000_000 and form.people == 42
    assert form.starts == datetime(2027, 4, 1, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo
    assert form.day == date(2027, 4, 1) and form.at == time(14, 0)
    assert form.agreed is True
    assert [(k.indicator, k.target) for k in form.kpis] == [("参加者数", "100")]


@pytest.mark.parametrize(("sent", "field"), [
    ({"title": ""}, "title"),
    ({"title": "一\n二"}, "title"),
    ({"title": "x" * 11}, "title"),
    ({"title": "ok", "body": "bell\x07"}, "body"),
    ({"title": "ok", "colour": "green"}, "colour"),
    ({"title": "ok", "colours": ["red", "green"]}, "colours"),
    ({"title": "ok", "owner_id": "-1"}, "owner_id"),
    ({"title": "ok", "owner_id": "9" * 40}, "owner_id"),
    ({"title": "ok", "ids": ["1", "x"]}, "ids"),
    ({"title": "ok", "budget": "三百万"}, "budget"),
    ({"title": "ok", "people": "101"}, "people"),
    ({"title": "ok", "starts": "tomorrow"}, "starts"),
    ({"title": "ok", "starts": "1999-01-01T10:00"}, "starts"),
    ({"title": "ok", "day": "2027-02-30"}, "day"),
    ({"title": "ok", "at": "25:00"}, "at"),
    ({"title": "ok", "kpis-0-target": "100"}, "kpis-0-indicator"),
    ({"title": "ok", **{f"kpis-{i}-indicator": "x" for i in range(3)}}, "kpis"),
])
def test_each_type_refuses_with_a_message_under_its_field(sent: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as raised:
        Sample.parse(sent)
    assert field in raised.value.errors
    assert raised.value.errors[field].strip()


def test_messages_are_in_the_reader_s_language() -> None:
    messages = {}
    for locale in ("ja", "en"):
        with i18n.using_locale(locale), pytest.raises(Invalid) as raised:
            Sample.parse({"title": "ok", "owner_id": "x"})
        messages[locale] = raised.value.errors["owner_id"]
    assert messages["en"] == "Choose one from the list."
    assert messages["ja"] != messages["en"]


def test_building_a_form_in_code_checks_it_the_same_way() -> None:
    with pytest.raises(Invalid) as raised:
        Sample(title="")
    assert raised.value.errors == {"title": "Write a title."}
    assert Sample(title="ok", kpis=[Kpi(indicator="a")]).kpis[0].indicator == "a"


def test_what_was_sent_is_shown_again_with_table_rows_gathered() -> None:
    again = shown({"title": ["a", "b"], "colours": ["red", "blue"], "kpis-0-indicator": "x"}, Sample)
    assert again["title"] == ["a", "b"]
    assert again["colours"] == ["red", "blue"]
    assert again["kpis"] == [{"indicator": "x", "target": ""}]


def test_problems_collect_several_errors_then_refuse_once() -> None:
    problems = Problems()
    problems.add("a", "first")
    problems.add("a", "second")
    problems.add("b", "other")
    with pytest.raises(Invalid) as raised:
        problems.raise_any()
    assert raised.value.errors == {"a": "first", "b": "other"}
    Problems().raise_any()


def test_a_required_field_left_out_of_the_post_is_refused_too() -> None:
    with pytest.raises(Invalid) as raised:
        Sample.parse({})
    assert raised.value.errors == {"title": "Write a title."}
