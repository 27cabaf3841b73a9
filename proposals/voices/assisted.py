"""Voices the ward's support desk records for residents (代理入力): from a paper form, a workshop or a phone
call, with the resident's consent to publication and no account.

An assisted voice has no author: ``entered_by_id`` is the support-desk member who typed it, ``channel`` says
from what (shown publicly instead of a name, as the channel's label) and ``consent_at`` when the consent was
recorded. ``desk_note`` is a private note for the ward (e.g. the paper form's number): staff and the desk
see it, the public pages and the API never do. The owning department is left for triage to assign.

:func:`record` checks every entry before writing and writes all of them or none, in one unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

from sqlmodel import Session

from cocreate.accounts.permissions import Principal, user_allowed_to
from cocreate.areas import AREA_LABELS, Area
from cocreate.db import transactional
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.forms import FieldType, FormModel, Line, Text, as_text, refuse
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext, using_locale
from proposals.models import CATEGORY_LABELS, Category, Voice, VoiceChannel, VoiceStatus

TITLE_MAX = 120
BODY_MAX = 4000
ADDRESS_MAX = 200
NOTE_MAX = 200
ASSISTED_CHANNELS = (VoiceChannel.PAPER, VoiceChannel.WORKSHOP, VoiceChannel.PHONE)


def _names(labels: Mapping[Enum, Any]) -> dict[str, Enum]:
    """Every way a spreadsheet names a value: its slug, and its label in Japanese and in English."""
    names: dict[str, Enum] = {}
    for member, label in labels.items():
        names[str(member.value).casefold()] = member
        for locale in ("ja", "en"):
            with using_locale(locale):
                names[str(label).strip().casefold()] = member
    return names


@dataclass(frozen=True)
class Named(FieldType):
    """A value of ``enum`` given by its value or its label in Japanese or English (as a CSV file names it)."""

    enum: type[Enum]
    labels: Mapping[Any, Any]
    message: Any = None
    required: bool = True

    def parse(self, value: Any) -> Enum | None:
        if isinstance(value, self.enum):
            return value
        text = as_text(value).strip()
        if not text:
            if self.required:
                raise refuse(self.message or _("Choose one of the options."))
            return None
        member = _names(self.labels).get(text.casefold())
        if member is None:
            raise refuse(self.message or _("Choose one of the options."))
        return member


class AssistedVoiceForm(FormModel):
    """One resident's voice as the desk types it (a row of the bulk form or of a CSV file)."""

    title: Annotated[str, Line(TITLE_MAX, lazy_gettext("Enter a title for the voice."))] = ""
    body: Annotated[str, Text(BODY_MAX, required=lazy_gettext("Write what the resident said."))] = ""
    category: Annotated[Category, Named(Category, CATEGORY_LABELS, lazy_gettext("Choose a category."))] = None  # type: ignore[assignment]
    area: Annotated[Area | None, Named(Area, AREA_LABELS, lazy_gettext("Choose one of the ward's areas, or leave it empty."),
                                       required=False)] = None
    address: Annotated[str, Line(ADDRESS_MAX)] = ""
    note: Annotated[str, Line(NOTE_MAX)] = ""


def check_channel(channel: VoiceChannel | None) -> VoiceChannel:
    if channel not in ASSISTED_CHANNELS:
        raise Invalid({"channel": _("Choose how the opinion reached the ward.")})
    assert channel is not None
    return channel


@transactional
def record(session: Session, actor: Principal, entries: Sequence[AssistedVoiceForm], channel: VoiceChannel, *,
           consented: bool, now: datetime | None = None) -> list[Voice]:
    """Record residents' voices for them (``desk.enter``), all or none: refused without the residents'
    consent to publication, or with no entry; the consent time is now."""
    user = user_allowed_to(actor, "desk.enter")
    channel = check_channel(channel)
    if not consented:
        raise Invalid({"consent": _("Confirm that the resident agreed to the publication of their opinion.")})
    if not entries:
        raise Invalid({"rows": _("Enter at least one opinion.")})
    at = now or utcnow()
    voices = []
    for entry in entries:
        voice = Voice(title=entry.title, body=entry.body, category=entry.category,
                      area=entry.area.value if entry.area else "", address=entry.address,
                      status=VoiceStatus.RECEIVED, author_id=None, channel=channel, entered_by_id=user.id,
                      consent_at=at, desk_note=entry.note)
        if now is not None:
            voice.created_at = voice.updated_at = now
        session.add(voice)
        voices.append(voice)
    session.flush()
    return voices
