"""The ward's five areas (地域): fields, notices, voices and the map all speak of them, so the core owns the
list. ``labs.models`` re-exports :class:`Area` for its existing users."""

from __future__ import annotations

from enum import StrEnum

from cocreate.i18n import lazy_gettext as _l


class Area(StrEnum):
    """The ward's five areas (地域), used for fields, voices and residents' notice subscriptions."""

    ITABASHI = "itabashi"
    TOKIWADAI = "tokiwadai"
    SHIMURA = "shimura"
    AKATSUKA = "akatsuka"
    TAKASHIMADAIRA = "takashimadaira"

    @property
    def label(self) -> str:
        return str(AREA_LABELS[self])

    @property
    def number(self) -> int:
        """Stable small number, used as ``Follow.target_id`` for area subscriptions."""
        return list(Area).index(self) + 1

    @property
    def centre(self) -> tuple[float, float]:
        """An approximate centre (latitude, longitude, WGS 84): where the map puts what has an area only."""
        return AREA_CENTRES[self]

    @classmethod
    def from_number(cls, number: int) -> Area | None:
        members = list(cls)
        return members[number - 1] if 1 <= number <= len(members) else None


AREA_LABELS = {
    Area.ITABASHI: _l("Itabashi area"),
    Area.TOKIWADAI: _l("Tokiwadai area"),
    Area.SHIMURA: _l("Shimura area"),
    Area.AKATSUKA: _l("Akatsuka area"),
    Area.TAKASHIMADAIRA: _l("Takashimadaira area"),
}

AREA_CENTRES = {
    Area.ITABASHI: (35.7512, 139.7093),
    Area.TOKIWADAI: (35.7589, 139.6886),
    Area.SHIMURA: (35.7758, 139.6952),
    Area.AKATSUKA: (35.7724, 139.6455),
    Area.TAKASHIMADAIRA: (35.7880, 139.6610),
}
