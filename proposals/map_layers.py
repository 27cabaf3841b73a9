"""What proposals puts on the map of everything (``/map``, see :mod:`cocreate.maps.layers`): public
challenges that name one of the ward's areas, at that area's approximate centre, and residents' voices, at
their point or, with only an area, at the area's centre.

A challenge's area is free text ("高島平", "板橋区全域", "区内の主要バス停"): :func:`area_of` reads one of the
ward's five areas out of it in SQL (the area's name in the text, its slug, or "<slug> area"), so filtering
and the per-layer limit stay in the database. "板橋区" (the ward itself) does not name the Itabashi area.
Public only: never a draft challenge, nor a hidden or merged voice, nor one entered on a resident's behalf
without their recorded consent. One query per layer.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from cocreate.accounts.permissions import Principal
from cocreate.areas import Area
from cocreate.i18n import lazy_gettext
from cocreate.maps.layers import MapFilters, MapItem, MapLayer
from proposals import paths, phases
from proposals.models import Challenge, Voice, VoiceChannel, VoiceStatus

CHALLENGE = "challenge"
VOICE = "voice"
WARD = "板橋区"
"""The ward's own name: a text naming it names no area (it is taken out before the areas' names are sought)."""

PLACE_NAMES = {
    Area.TAKASHIMADAIRA: "高島平",
    Area.TOKIWADAI: "常盤台",
    Area.SHIMURA: "志村",
    Area.AKATSUKA: "赤塚",
    Area.ITABASHI: "板橋",
}
"""Each area's name as written in Japanese, in the order they are sought (Itabashi last: the widest)."""


def area_of(text: Any) -> Any:
    """SQL: the :class:`Area` value a free-text area column names, or NULL."""
    without_ward = func.replace(text, WARD, "", type_=sa.String())
    lowered = func.lower(func.trim(text, type_=sa.String()), type_=sa.String())
    whens = [(sa.or_(lowered == area.value, lowered == f"{area.value} area", without_ward.contains(name)), area.value)
             for area, name in PLACE_NAMES.items()]
    return sa.case(*whens, else_=sa.null())


def challenge_items(session: Session, principal: Principal, filters: MapFilters) -> list[MapItem]:
    """Public challenges whose area names one of the ward's areas, at that area's centre (approximate)."""
    area = area_of(Challenge.area).label("map_area")
    statement = (select(Challenge.id, Challenge.title, Challenge.phase, Challenge.category, area)
                 .where(col(Challenge.phase).in_(tuple(phases.PUBLIC)), area.is_not(None)))
    if filters.area is not None:
        statement = statement.where(area == filters.area.value)
    if filters.category:
        statement = statement.where(Challenge.category == filters.category)
    rows = session.exec(statement.order_by(col(Challenge.published_at).desc(), col(Challenge.id).desc())
                        .limit(filters.limit + 1)).all()
    items = []
    for challenge_id, title, phase, category, slug in rows:
        lat, lng = Area(slug).centre
        items.append(MapItem(kind=CHALLENGE, id=challenge_id, title=title, url=paths.challenge(challenge_id),
                             lat=lat, lng=lng, status=phase.label, area=slug, category=category.value,
                             approximate=True))
    return items


AREAS = tuple(area.value for area in Area)


def voice_items(session: Session, principal: Principal, filters: MapFilters) -> list[MapItem]:
    """Residents' voices that are neither hidden nor merged: at their point, or at their area's centre. An
    entry the support desk made for a resident shows only once the resident's consent is recorded."""
    statement = (select(Voice.id, Voice.title, Voice.status, Voice.category, Voice.area, Voice.latitude,
                        Voice.longitude)
                 .where(col(Voice.hidden_at).is_(None), Voice.status != VoiceStatus.MERGED,
                        sa.or_(Voice.channel == VoiceChannel.ONLINE, col(Voice.consent_at).is_not(None)),
                        sa.or_(col(Voice.latitude).is_not(None), col(Voice.area).in_(AREAS))))
    if filters.area is not None:
        statement = statement.where(Voice.area == filters.area.value)
    if filters.category:
        statement = statement.where(Voice.category == filters.category)
    rows = session.exec(statement.order_by(col(Voice.support_count).desc(), col(Voice.created_at).desc(),
                                           col(Voice.id).desc())
                        .limit(filters.limit + 1)).all()
    items = []
    for voice_id, title, status, category, area, lat, lng in rows:
        approximate = lat is None or lng is None
        if approximate:
            lat, lng = Area(area).centre
        items.append(MapItem(kind=VOICE, id=voice_id, title=title, url=paths.voice(voice_id), lat=lat, lng=lng,
                             status=status.label, area=area if area in AREAS else "", category=category.value,
                             approximate=approximate))
    return items


LAYERS = [
    MapLayer(name="voices", label=lazy_gettext("Residents' voices"), items=voice_items, position=10,
             colour="#a51d2d", symbol="●", list_route="voice-list"),
    MapLayer(name="challenges", label=lazy_gettext("Challenges"), items=challenge_items, position=20,
             colour="#1a5fb4", symbol="◆", list_route="challenge-list"),
]
"""The proposals component's map layers (its manifest's ``map_layers``)."""
