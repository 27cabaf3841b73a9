"""How something reached the platform (a voice, a comment, later a survey answer): online by its author,
or entered by the ward's support desk for a resident from a paper form, a workshop or a phone call (代理入力).
The core owns the list so that comments and the components' voices share one set of values and labels."""

from __future__ import annotations

from enum import StrEnum

from cocreate.i18n import lazy_gettext as _l


class Channel(StrEnum):
    ONLINE = "online"
    PAPER = "paper"
    WORKSHOP = "workshop"
    PHONE = "phone"

    @property
    def label(self) -> str:
        return str(CHANNEL_LABELS[self])


CHANNEL_LABELS = {
    Channel.ONLINE: _l("Online"),
    Channel.PAPER: _l("Entered by the ward from a paper form"),
    Channel.WORKSHOP: _l("Entered by the ward from a workshop"),
    Channel.PHONE: _l("Entered by the ward from a phone call"),
}
