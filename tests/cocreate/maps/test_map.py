"""The map of everything (``/map``, issue 18 item 3): every layer's public items, nothing private (planted
drafts, hidden and merged voices, unpublished fields and trials, unapproved bookings), the filters, a fixed
number of queries, and the page as a list that works without JavaScript or tiles."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, select

from cocreate.areas import Area
from cocreate.db.base import utcnow
from cocreate.maps.layers import PER_LAYER, MapFilters, layers
from labs import map_layers as labs_layers
from labs.models import BookingStatus, TestField, Trial, TrialStatus
from proposals import map_layers as proposals_layers
from proposals.models import Category, Voice, VoiceChannel, VoiceStatus
from tests.factories import Ward, actor, create_challenge, create_ward
from tests.helpers import count_queries
from tests.labs.helpers import create_booking, create_field

pytestmark = pytest.mark.databases("sqlite", "postgresql",
                                   why="the layers are SQL of both dialects: free-text areas, DISTINCT, a subquery")


@dataclass
class World:
    ward: Ward
    field: TestField
    tokiwadai_field: TestField
    trial: Trial
    shimura_challenge: Any
    point_voice: Voice
    area_voice: Voice


PRIVATE_TITLES = ("下書きの課題", "非公開フィールド", "審査中の実証", "非公開の実証", "非公開フィールドの実証",
                  "非表示の声", "統合された声", "同意のない代理入力")
"""Planted rows the public may not see: none of them may show anywhere on the map."""
NOWHERE_TITLES = ("区全域の課題", "地点なしフィールド", "場所のない声")
"""Public rows without a place: not on the map either."""


def _voice(session: Session, title: str, **values: Any) -> Voice:
    voice = Voice(title=title, body="本文です。", category=values.pop("category", Category.URBAN_DEVELOPMENT), **values)
    session.add(voice)
    session.commit()
    session.refresh(voice)
    return voice


def _day(days: int) -> list[tuple[Any, Any]]:
    start = (utcnow() + timedelta(days=days)).replace(hour=1, minute=0, second=0, microsecond=0)
    return [(start, start + timedelta(hours=1))]


def _trial(session: Session, ward: Ward, title: str, *, published: bool = True, challenge: Any = None) -> Trial:
    trial = Trial(title=title, status=TrialStatus.RUNNING, published=published, department_id=ward.department.id,
                  challenge_id=challenge.id if challenge is not None else None)
    session.add(trial)
    session.commit()
    session.refresh(trial)
    return trial


@pytest.fixture
def world(session: Session) -> World:
    ward = create_ward(session)  # a public challenge in 高島平 (environment and energy)
    create_challenge(session, ward.department, phase="draft", title="下書きの課題", area="常盤台")
    create_challenge(session, ward.department, title="区全域の課題", area="板橋区全域")
    shimura = create_challenge(session, ward.department, title="志村坂上の交通課題", area="志村坂上駅周辺",
                               category="transport_mobility")

    field = create_field(session)  # published, 高島平, with a point
    tokiwadai = create_field(session, name="常盤台 実証フィールド", area=Area.TOKIWADAI, latitude=35.759,
                             longitude=139.689)
    hidden_field = create_field(session, name="非公開フィールド", published=False, latitude=35.77, longitude=139.70)
    create_field(session, name="地点なしフィールド", latitude=None, longitude=None)

    trial = _trial(session, ward, "公開の実証", challenge=ward.challenge)
    create_booking(session, field, ward.organisation, status=BookingStatus.APPROVED, trial_id=trial.id,
                   periods=_day(10))
    create_booking(session, tokiwadai, ward.organisation, status=BookingStatus.COMPLETED, trial_id=trial.id,
                   periods=_day(11))
    pending = _trial(session, ward, "審査中の実証")
    for status in (BookingStatus.SUBMITTED, BookingStatus.UNDER_REVIEW, BookingStatus.REJECTED, BookingStatus.DRAFT):
        create_booking(session, field, ward.organisation, status=status, trial_id=pending.id, periods=_day(12))
    unpublished = _trial(session, ward, "非公開の実証", published=False)
    create_booking(session, field, ward.organisation, status=BookingStatus.APPROVED, trial_id=unpublished.id,
                   periods=_day(13))
    on_hidden_field = _trial(session, ward, "非公開フィールドの実証")
    create_booking(session, hidden_field, ward.organisation, status=BookingStatus.APPROVED,
                   trial_id=on_hidden_field.id, periods=_day(14))

    point_voice = _voice(session, "駅前の段差を解消してほしい", area="tokiwadai", latitude=35.7601, longitude=139.6901,
                         category=Category.TRANSPORT_MOBILITY, support_count=5)
    area_voice = _voice(session, "公園の照明を増やしてほしい", area="akatsuka", category=Category.DISASTER_SAFETY)
    _voice(session, "非表示の声", area="akatsuka", latitude=35.77, longitude=139.64, hidden_at=utcnow(),
           hidden_reason="個人情報")
    _voice(session, "統合された声", area="akatsuka", status=VoiceStatus.MERGED, merged_into_id=area_voice.id)
    _voice(session, "場所のない声")
    _voice(session, "同意のない代理入力", area="akatsuka", channel=VoiceChannel.PAPER)
    _voice(session, "同意のある代理入力", area="itabashi", channel=VoiceChannel.WORKSHOP, consent_at=utcnow())
    return World(ward=ward, field=field, tokiwadai_field=tokiwadai, trial=trial, shimura_challenge=shimura,
                 point_voice=point_voice, area_voice=area_voice)


def _items(session: Session, function: Any, **filters: Any) -> list[Any]:
    return function(session, actor(session, None), MapFilters(**filters))


def _map_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', html, re.S)
    assert found, "the page carries the map's data"
    return json.loads(found.group(1))


def _list_titles(html: str, layer: str) -> list[str]:
    """The titles listed under one layer's heading (the accessible list, as a browser without script shows it)."""
    section = re.search(rf'<section id="map-layer-{layer}" .*?</section>', html, re.S)
    assert section, layer
    return [unescape(title) for title in re.findall(r'<li id="map-[^"]+" class="map-item">\s*<a href="[^"]+"[^>]*>([^<]+)</a>',
                                                    section.group(0))]


# --- the layers --------------------------------------------------------------------------------------------


def test_each_layer_places_its_public_items(session: Session, world: World) -> None:
    assert [layer.name for layer in layers()] == ["voices", "challenges", "fields", "trials"]

    fields = _items(session, labs_layers.field_items)
    assert [(i.title, i.url, i.lat, i.lng, i.area, i.approximate) for i in fields] == [
        ("常盤台 実証フィールド", f"/fields/{world.tokiwadai_field.id}", 35.759, 139.689, "tokiwadai", False),
        ("高島平 実証フィールド", f"/fields/{world.field.id}", 35.789, 139.661, "takashimadaira", False),
    ]
    assert all(i.status and i.category == "" for i in fields)

    trials = _items(session, labs_layers.trial_items)
    assert sorted((i.title, i.url, i.lat, i.lng, i.area, i.category) for i in trials) == [
        ("公開の実証", f"/trials/{world.trial.id}", 35.759, 139.689, "tokiwadai", "environment_energy"),
        ("公開の実証", f"/trials/{world.trial.id}", 35.789, 139.661, "takashimadaira", "environment_energy"),
    ]  # once at each field it booked, with its (public) challenge's category

    challenges = _items(session, proposals_layers.challenge_items)
    by_title = {i.title: i for i in challenges}
    assert set(by_title) == {world.ward.challenge.title, "志村坂上の交通課題"}
    takashimadaira = by_title[world.ward.challenge.title]
    assert (takashimadaira.lat, takashimadaira.lng) == Area.TAKASHIMADAIRA.centre
    assert takashimadaira.approximate and takashimadaira.area == "takashimadaira"
    assert takashimadaira.url == f"/challenges/{world.ward.challenge.id}"
    assert takashimadaira.category == "environment_energy" and takashimadaira.status
    assert (by_title["志村坂上の交通課題"].lat, by_title["志村坂上の交通課題"].lng) == Area.SHIMURA.centre

    voices = _items(session, proposals_layers.voice_items)
    # Most supported first, then newest; an assisted entry with the resident's consent shows.
    assert [i.title for i in voices] == ["駅前の段差を解消してほしい", "同意のある代理入力", "公園の照明を増やしてほしい"]
    point, assisted, area_only = voices
    assert (assisted.lat, assisted.lng, assisted.approximate) == (*Area.ITABASHI.centre, True)
    assert (point.lat, point.lng, point.approximate, point.area) == (35.7601, 139.6901, False, "tokiwadai")
    assert point.url == f"/voices/{world.point_voice.id}" and point.category == "transport_mobility"
    assert (area_only.lat, area_only.lng) == Area.AKATSUKA.centre and area_only.approximate
    assert area_only.status == VoiceStatus.RECEIVED.label


def test_a_private_challenge_category_is_not_given_to_its_trial(session: Session, world: World) -> None:
    draft = create_challenge(session, world.ward.department, phase="draft", title="下書き", category="admin_dx")
    world.trial.challenge_id = draft.id
    session.add(world.trial)
    session.commit()
    assert {i.category for i in _items(session, labs_layers.trial_items)} == {""}
    assert _items(session, labs_layers.trial_items, category="admin_dx") == []


@pytest.mark.parametrize(("text", "area"), [
    ("高島平", "takashimadaira"), ("高島平二丁目周辺", "takashimadaira"), ("常盤台", "tokiwadai"),
    ("志村坂上駅周辺", "shimura"), ("赤塚公園", "akatsuka"), ("板橋駅東口", "itabashi"), ("板橋地域", "itabashi"),
    ("Takashimadaira area", "takashimadaira"), ("akatsuka", "akatsuka"),
    ("板橋区全域", None), ("区内の主要バス停", None), ("", None), ("Itabashi City", None),
])
def test_area_of_reads_an_area_out_of_a_challenges_free_text(session: Session, text: str, area: str | None) -> None:
    from sqlalchemy import literal

    assert session.exec(select(proposals_layers.area_of(literal(text)))).one() == area


# --- privacy -----------------------------------------------------------------------------------------------


def test_nothing_private_shows_whoever_looks(session: Session, client: TestClient[Litestar], world: World) -> None:
    for layer in layers():
        titles = {item.title for item in layer.items(session, actor(session, None), MapFilters())}
        assert not titles & set(PRIVATE_TITLES + NOWHERE_TITLES), layer.name
    from tests.factories import sign_in

    for person in (None, world.ward.staff, world.ward.admin):
        if person is not None:
            sign_in(client, person)
        page = client.get("/map")
        assert page.status_code == 200
        text = unescape(page.text)
        for title in PRIVATE_TITLES + NOWHERE_TITLES:
            assert title not in text, (person, title)
        assert "駅前の段差を解消してほしい" in text


# --- the page ----------------------------------------------------------------------------------------------


def test_the_page_lists_everything_without_javascript(client: TestClient[Litestar], world: World) -> None:
    page = client.get("/map")
    assert page.status_code == 200
    html = page.text
    assert _list_titles(html, "voices") == ["駅前の段差を解消してほしい", "同意のある代理入力", "公園の照明を増やしてほしい"]
    assert sorted(_list_titles(html, "challenges")) == sorted([world.ward.challenge.title, "志村坂上の交通課題"])
    assert _list_titles(html, "fields") == ["常盤台 実証フィールド", "高島平 実証フィールド"]
    assert _list_titles(html, "trials") == ["公開の実証", "公開の実証"]
    for url in (f"/voices/{world.point_voice.id}", f"/challenges/{world.shimura_challenge.id}",
                f"/fields/{world.field.id}", f"/trials/{world.trial.id}"):
        assert f'href="{url}"' in html
    assert html.index('id="map-layer-voices"') < html.index('id="map-layer-challenges"') < html.index(
        'id="map-layer-fields"') < html.index('id="map-layer-trials"')
    assert "(approximate: the centre of the area)" in html or "（おおよその位置：地域の中心）" in html
    assert html.count('class="map-approximate"') == 4  # two challenges and the voices with only an area
    assert 'id="map-count"' in html and "9" in re.search(r'id="map-count">([^<]*)<', html).group(1)  # type: ignore[union-attr]
    # The map above it: data for map.js, no inline script nor style (the CSP forbids them).
    data = _map_data(html)
    assert data["tiles"] == client.app.state.settings.map_tile_url
    assert [layer["name"] for layer in data["layers"]] == ["voices", "challenges", "fields", "trials"]
    voices = data["layers"][0]["items"]
    assert voices[2]["approximate"] and list(Area.AKATSUKA.centre) == [voices[2]["lat"], voices[2]["lng"]]
    assert not voices[0]["approximate"] and [voices[0]["lat"], voices[0]["lng"]] == [35.7601, 139.6901]
    assert re.search(r"<script(?![^>]*\b(src=|type=\"application/json\"))[^>]*>", html) is None
    assert " style=" not in html
    for asset in ("leaflet-1.9.4/leaflet.js", "leaflet.markercluster-1.5.3/leaflet.markercluster.js", "js/map.js"):
        assert asset in html
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_without_tiles_the_page_is_the_list_only(app: Litestar, client: TestClient[Litestar], world: World) -> None:
    app.state.settings = app.state.settings.model_copy(update={"map_tile_url": ""})
    html = client.get("/map").text
    assert 'id="map-data"' not in html and "leaflet" not in html and 'id="map-view"' not in html
    assert _list_titles(html, "fields") == ["常盤台 実証フィールド", "高島平 実証フィールド"]


def test_the_map_is_in_the_main_navigation(client: TestClient[Litestar]) -> None:
    link = re.search(r'<a [^>]*id="nav-map"[^>]*>[^<]+</a>', client.get("/").text)
    assert link is not None and 'href="/map"' in link.group(0)
    assert ">地図<" in link.group(0) or ">Map<" in link.group(0)  # 地図 once i18n-pending/map.py is merged
    page = client.get("/map").text
    current = re.search(r'<a [^>]*id="nav-map"[^>]*>', page)
    assert current is not None and 'aria-current="page"' in current.group(0)


# --- filters -----------------------------------------------------------------------------------------------


def test_filters_by_layer_area_and_category(client: TestClient[Litestar], world: World) -> None:
    only_voices = client.get("/map", params={"layer": "voices"}).text
    assert 'id="map-layer-voices"' in only_voices and 'id="map-layer-fields"' not in only_voices
    assert [layer["name"] for layer in _map_data(only_voices)["layers"]] == ["voices"]
    assert re.search(r'id="filter-layer-voices"[^>]*checked', only_voices)
    assert not re.search(r'id="filter-layer-fields"[^>]*checked', only_voices)

    two = client.get("/map", params=[("layer", "trials"), ("layer", "fields")]).text
    assert 'id="map-layer-fields"' in two and 'id="map-layer-trials"' in two and 'id="map-layer-voices"' not in two

    tokiwadai = client.get("/map", params={"area": "tokiwadai"}).text
    assert _list_titles(tokiwadai, "fields") == ["常盤台 実証フィールド"]
    assert _list_titles(tokiwadai, "voices") == ["駅前の段差を解消してほしい"]
    assert _list_titles(tokiwadai, "trials") == ["公開の実証"]
    assert _list_titles(tokiwadai, "challenges") == []
    assert re.search(r'<option value="tokiwadai" selected', tokiwadai)

    shimura = client.get("/map", params={"area": "shimura", "layer": "challenges"}).text
    assert _list_titles(shimura, "challenges") == ["志村坂上の交通課題"]

    transport = client.get("/map", params={"category": "transport_mobility"}).text
    assert _list_titles(transport, "voices") == ["駅前の段差を解消してほしい"]
    assert _list_titles(transport, "challenges") == ["志村坂上の交通課題"]
    assert _list_titles(transport, "fields") == []  # fields have no category
    assert _list_titles(transport, "trials") == []  # its challenge is about energy
    energy = client.get("/map", params={"category": "environment_energy", "area": "takashimadaira"}).text
    assert _list_titles(energy, "trials") == ["公開の実証"] and _list_titles(energy, "challenges") == [
        world.ward.challenge.title]


def test_titles_are_text_in_the_list_and_in_the_maps_data(session: Session, client: TestClient[Litestar],
                                                         world: World) -> None:
    title = '</script><img src=x onerror="alert(1)">&amp;'
    _voice(session, title, area="shimura", latitude=35.776, longitude=139.695)
    html = client.get("/map").text
    assert "<img src=x" not in html and "</script><img" not in html
    assert title in [item["title"] for item in _map_data(html)["layers"][0]["items"]]
    assert title in _list_titles(html, "voices")


@pytest.mark.parametrize("query", [
    {"area": "nowhere"}, {"category": "<script>alert(1)</script>"}, {"layer": "secret_drafts"},
    {"area": "x" * 5000}, {"category": "c" * 5000}, {"layer": ["voices", "voices", "bogus"]},
    {"area": "ITABASHI"}, {"category": "Environment_energy"}, {"area": "\u0000"}, {"layer": ""},
])
def test_bad_filter_values_are_ignored_and_said_so(client: TestClient[Litestar], world: World,
                                                   query: dict[str, Any]) -> None:
    page = client.get("/map", params=query)
    assert page.status_code == 200
    if query != {"layer": ""}:
        assert 'id="map-filter-note"' in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "駅前の段差を解消してほしい" in unescape(page.text)  # the ignored filter filters nothing


def test_more_than_a_layer_shows_says_where_the_rest_is(session: Session, client: TestClient[Litestar],
                                                         world: World) -> None:
    session.add_all([Voice(title=f"声 {n}", body="本文", category=Category.ADMIN_DX, area="itabashi")
                     for n in range(PER_LAYER + 1)])
    session.commit()
    html = client.get("/map", params={"layer": "voices"}).text
    assert len(_list_titles(html, "voices")) == PER_LAYER
    assert len(_map_data(html)["layers"][0]["items"]) == PER_LAYER
    assert 'id="map-layer-voices-more"' in html and str(PER_LAYER) in html.split('id="map-layer-voices-more"')[1][:200]
    fields = client.get("/map", params={"layer": "fields"}).text
    assert 'id="map-layer-fields-more"' not in fields


# --- queries -----------------------------------------------------------------------------------------------


def test_each_layer_is_one_query_and_the_page_does_not_grow(app: Litestar, session: Session,
                                                            client: TestClient[Litestar], world: World) -> None:
    engine = app.state.database.engine
    for layer in layers():
        for filters, most in ((MapFilters(), 1), (MapFilters(area=Area.TOKIWADAI), 1),
                              (MapFilters(area=Area.TOKIWADAI, category="transport_mobility"), 1)):
            with count_queries(engine) as log:
                layer.items(session, actor(session, None), filters)
            # One query; none for fields asked for a category (they have none).
            assert log.count == (0 if layer.name == "fields" and filters.category else most), (layer.name, str(log))

    def page_queries() -> int:
        with count_queries(engine) as log:
            assert client.get("/map").status_code == 200
        return log.count

    before = page_queries()
    for n in range(5):  # more of everything
        field = create_field(session, name=f"追加フィールド {n}", latitude=35.78 + n / 1000, longitude=139.66)
        trial = _trial(session, world.ward, f"追加の実証 {n}")
        create_booking(session, field, world.ward.organisation, status=BookingStatus.APPROVED, trial_id=trial.id,
                       periods=_day(20 + n))
        create_challenge(session, world.ward.department, title=f"追加の課題 {n}", area="赤塚")
        _voice(session, f"追加の声 {n}", area="shimura")
    assert page_queries() == before <= 4 + 2  # the four layers, and the request's session and user at most


def test_every_same_site_link_of_the_map_answers(app: Litestar, client: TestClient[Litestar], world: World) -> None:
    """As ``tests/cocreate/web/test_links.py`` does for the core's pages, with something on every layer. A
    voice's page is written beside the map (branch voicespub): its links are checked once its route is here."""
    from tests.cocreate.web.test_links import same_site_links

    voices_routed = app.get_handler_index_by_name("voice-detail") is not None
    links = same_site_links(client.get("/map").text)
    followed = 0
    for method, url, where in links:
        assert method == "GET", where
        if url.startswith("/voices/") and not voices_routed:
            continue
        assert client.get(url, follow_redirects=False).status_code < 400, where
        followed += 1
    assert followed > 10
    assert any(url == f"/trials/{world.trial.id}" for _method, url, _where in links)
