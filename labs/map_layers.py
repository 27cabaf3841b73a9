"""What labs puts on the map of everything (``/map``, see :mod:`cocreate.maps.layers`): published test
fields at their point, and published trials that have an approved (or completed) booking, at the point of
each field they booked.

Public only, as on the public pages: an unpublished field, an unpublished trial or a booking that is not
approved never shows. Each layer is one query whatever the rows (the trial's category, from its challenge
when that is public, is read in the same statement).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from cocreate.accounts.permissions import Principal
from cocreate.i18n import lazy_gettext
from cocreate.maps.layers import MapFilters, MapItem, MapLayer
from labs import paths
from labs.calendar import PUBLIC_STATUSES
from labs.models import Booking, TestField, Trial
from proposals import api as proposals

FIELD = "test_field"
TRIAL = "trial"


def field_items(session: Session, principal: Principal, filters: MapFilters) -> list[MapItem]:
    """Published test fields with a point (they have no category: a category filter leaves them out)."""
    if filters.category:
        return []
    statement = (select(TestField.id, TestField.name, TestField.kind, TestField.area, TestField.latitude,
                        TestField.longitude)
                 .where(col(TestField.published).is_(True), col(TestField.latitude).is_not(None),
                        col(TestField.longitude).is_not(None)))
    if filters.area is not None:
        statement = statement.where(TestField.area == filters.area)
    rows = session.exec(statement.order_by(col(TestField.name), col(TestField.id)).limit(filters.limit + 1)).all()
    return [MapItem(kind=FIELD, id=field_id, title=name, url=paths.field(field_id), lat=lat, lng=lng,
                    status=kind.label, area=area.value)
            for field_id, name, kind, area, lat, lng in rows]


def trial_items(session: Session, principal: Principal, filters: MapFilters) -> list[MapItem]:
    """Published trials with a public booking, once per published field (with a point) they booked."""
    category = proposals.public_challenge_category(Trial.challenge_id).label("category")
    statement = (select(Trial.id, Trial.title, Trial.status, category, TestField.area, TestField.latitude,
                        TestField.longitude, TestField.id)
                 .join(Booking, col(Booking.trial_id) == Trial.id)
                 .join(TestField, col(TestField.id) == Booking.field_id)
                 .where(col(Trial.published).is_(True), col(Booking.status).in_(PUBLIC_STATUSES),
                        col(TestField.published).is_(True), col(TestField.latitude).is_not(None),
                        col(TestField.longitude).is_not(None))
                 .distinct())
    if filters.area is not None:
        statement = statement.where(TestField.area == filters.area)
    if filters.category:
        statement = statement.where(category == filters.category)
    rows = session.exec(statement.order_by(col(Trial.id).desc(), col(TestField.id))
                        .limit(filters.limit + 1)).all()
    return [MapItem(kind=TRIAL, id=trial_id, title=title, url=paths.trial(trial_id), lat=lat, lng=lng,
                    status=status.label, area=area.value, category=str(found) if found else "")
            for trial_id, title, status, found, area, lat, lng, _field_id in rows]


LAYERS = [
    MapLayer(name="fields", label=lazy_gettext("Test fields"), items=field_items, position=30,
             colour="#1b7f3b", symbol="■", list_route="field-list"),
    MapLayer(name="trials", label=lazy_gettext("Trials"), items=trial_items, position=40,
             colour="#9a4d00", symbol="▲", list_route="trial-list"),
]
"""The labs component's map layers (its manifest's ``map_layers``)."""
