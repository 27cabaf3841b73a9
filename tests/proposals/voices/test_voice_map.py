"""The map hooks of the voice form (the point picker) and of a voice's page (a small map), present only
when tiles are configured and never as inline script; and the support desk's private note, channel and
consent time on the staff page of a voice, for those ``desk.read_note`` allows, never on public pages or
the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.accounts.models import Role
from proposals.models import Voice, VoiceChannel
from tests.factories import create_user, sign_in
from tests.proposals.voices.triage_helpers import Ward, create_voice, make_ward

pytestmark = pytest.mark.databases("sqlite", why="pages are Python")

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


@pytest.fixture
def ward(session: Session) -> Ward:
    return make_ward(session)


def without_tiles(app: Litestar) -> None:
    app.state.settings = app.state.settings.model_copy(update={"map_tile_url": ""})


def _located(session: Session, voice: Voice, lat: float = 35.7589, lng: float = 139.6886) -> Voice:
    voice.latitude, voice.longitude = lat, lng
    session.add(voice)
    session.commit()
    session.refresh(voice)
    return voice


# --- the point picker on the voice form -----------------------------------------------------------


def test_the_voice_form_carries_the_point_picker_when_tiles_are_configured(
        app: Litestar, client: TestClient[Litestar], ward: Ward) -> None:
    sign_in(client, ward.people["resident"])
    settings = app.state.settings
    html = client.get("/voices/new").text
    picker = re.search(r'<div id="point-picker"[^>]*>', html)
    assert picker is not None, "the picker's holder is on the form"
    tag = picker.group(0)
    assert " hidden" in tag  # shown by the script only: without it the form is the plain one
    assert f'data-tile-url="{settings.map_tile_url}"' in tag
    assert 'data-lat-min="35.7" data-lat-max="35.85"' in tag and 'data-lng-min="139.58" data-lng-max="139.78"' in tag
    centres = re.search(r"data-centres='([^']+)'", tag)
    assert centres and '"tokiwadai": [35.7589, 139.6886]' in centres.group(1)
    assert 'id="point-picker-map"' in html and 'role="region"' in html
    assert 'id="point-picker-centre"' in html and 'id="point-picker-clear"' in html
    assert 'id="point-picker-status"' in html and 'role="status"' in html
    for asset in ("leaflet-1.9.4/leaflet.js", "leaflet-1.9.4/leaflet.css", "js/voice-map.js"):
        assert asset in html
    # The number inputs stay, visible and named: they are what is sent.
    assert re.search(r'<input [^>]*name="latitude"', html) and re.search(r'<input [^>]*name="longitude"', html)
    assert INLINE_SCRIPT.search(html) is None and " style=" not in html


def test_without_tiles_the_voice_form_is_the_plain_one(app: Litestar, client: TestClient[Litestar],
                                                      ward: Ward) -> None:
    without_tiles(app)
    sign_in(client, ward.people["resident"])
    html = client.get("/voices/new").text
    assert 'id="point-picker' not in html and "leaflet" not in html and "voice-map.js" not in html
    assert re.search(r'<input [^>]*name="latitude"', html) and re.search(r'<input [^>]*name="longitude"', html)
    assert INLINE_SCRIPT.search(html) is None


# --- the small map on a voice's page --------------------------------------------------------------


def test_a_voice_with_a_point_has_a_small_map_beside_its_text_and_link(
        app: Litestar, client: TestClient[Litestar], session: Session, ward: Ward) -> None:
    voice = _located(session, create_voice(session, author=ward.people["author"], department=ward.transport))
    html = client.get(f"/voices/{voice.id}").text
    holder = re.search(r'<div id="voice-map"[^>]*>', html)
    assert holder is not None
    tag = holder.group(0)
    assert " hidden" in tag and 'data-lat="35.7589"' in tag and 'data-lng="139.6886"' in tag
    assert f'data-tile-url="{app.state.settings.map_tile_url}"' in tag
    assert 'role="region"' in tag and re.search(r'aria-label="[^"]*35\.75890[^"]*139\.68860[^"]*"', tag)
    assert re.search(r'data-marker-label="[^"]+"', tag)
    # The text and the OpenStreetMap link remain: the page without script or tiles.
    assert 'id="voice-point"' in html and 'id="voice-map-link"' in html
    assert "js/voice-map.js" in html and INLINE_SCRIPT.search(html) is None and " style=" not in html


def test_no_map_on_a_voice_page_without_a_point_or_without_tiles(
        app: Litestar, client: TestClient[Litestar], session: Session, ward: Ward) -> None:
    plain = create_voice(session, author=ward.people["author"], department=ward.transport)
    html = client.get(f"/voices/{plain.id}").text
    assert 'id="voice-map"' not in html and "leaflet" not in html and "voice-map.js" not in html
    located = _located(session, create_voice(session, author=ward.people["author"], title="公園の街灯が暗い"))
    without_tiles(app)
    html = client.get(f"/voices/{located.id}").text
    assert 'id="voice-map"' not in html and "leaflet" not in html and "voice-map.js" not in html
    assert 'id="voice-point"' in html and 'id="voice-map-link"' in html


# --- the desk's private note on the staff page --------------------------------------------------


def _assisted(session: Session, ward: Ward) -> Voice:
    desk = create_user(session, "desk@example.jp", display_name="窓口 一子", roles=[Role.SUPPORT_DESK])
    ward.people["desk"] = desk
    voice = create_voice(session, department=ward.transport, title="バス停にベンチを")
    voice.channel, voice.entered_by_id = VoiceChannel.PAPER, desk.id
    voice.consent_at = datetime(2026, 12, 7, 1, 15, tzinfo=UTC)
    voice.desk_note = "用紙 No. 42"
    session.add(voice)
    session.commit()
    session.refresh(voice)
    return voice


@pytest.mark.parametrize(("persona", "sees"), [("staff", True), ("admin", True), ("other_staff", True)])
def test_the_staff_page_shows_the_desk_note_channel_and_consent_to_ward_staff(
        client: TestClient[Litestar], session: Session, ward: Ward, persona: str, sees: bool) -> None:
    voice = _assisted(session, ward)
    sign_in(client, ward.people[persona])
    page = client.get(f"/staff/voices/{voice.id}")
    if page.status_code != 200:  # a voice of another department may be closed to its staff: then no note
        assert page.status_code in (403, 404) and persona == "other_staff"
        assert "用紙 No. 42" not in page.text
        return
    note = re.search(r'<dd id="voice-desk-note"[^>]*>([^<]+)</dd>', page.text)
    assert (note is not None and note.group(1) == "用紙 No. 42") is sees
    assert re.search(r'<dd id="voice-channel">[^<]+</dd>', page.text)
    assert 'id="voice-consent"' in page.text and 'datetime="2026-12-07T01:15:00' in page.text


@pytest.mark.parametrize("persona", ["resident", "author", "desk", None])
def test_others_never_reach_the_staff_page_nor_its_note(
        client: TestClient[Litestar], session: Session, ward: Ward, persona: str | None) -> None:
    voice = _assisted(session, ward)
    if persona is not None:
        sign_in(client, ward.people[persona])
    page = client.get(f"/staff/voices/{voice.id}", follow_redirects=False)
    assert page.status_code in (302, 303, 401, 403) and "用紙 No. 42" not in page.text


@pytest.mark.parametrize("persona", ["staff", "admin", "desk", "resident", None])
def test_the_desk_note_is_never_on_the_public_page_nor_the_api(
        client: TestClient[Litestar], session: Session, ward: Ward, persona: str | None) -> None:
    voice = _assisted(session, ward)
    if persona is not None:
        sign_in(client, ward.people[persona])
    public = client.get(f"/voices/{voice.id}")
    assert public.status_code == 200 and "バス停にベンチを" in public.text
    assert "用紙 No. 42" not in public.text and 'id="voice-desk-note"' not in public.text
    api = client.get(f"/api/v1/voices/{voice.id}")
    assert api.status_code == 200 and "用紙 No. 42" not in api.text and "desk_note" not in api.text
    listed = client.get("/api/v1/voices")
    assert "用紙 No. 42" not in listed.text and "desk_note" not in listed.text


def test_an_online_voice_has_no_desk_facts_on_its_staff_page(
        client: TestClient[Litestar], session: Session, ward: Ward) -> None:
    voice = create_voice(session, author=ward.people["author"], department=ward.transport)
    sign_in(client, ward.people["staff"])
    page = client.get(f"/staff/voices/{voice.id}").text
    assert 'id="voice-channel"' not in page and 'id="voice-desk-note"' not in page and 'id="voice-consent"' not in page
