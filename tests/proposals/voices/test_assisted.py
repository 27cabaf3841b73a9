"""Voices the support desk records for residents (proposals.voices.assisted): the role, the channel, the
consent, all or none, and the forms' reading of categories and areas by code or by name."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from cocreate.accounts.models import Role
from cocreate.areas import Area
from cocreate.db.base import utcnow
from cocreate.errors import Forbidden, Invalid, SignInRequired
from proposals.models import Category, Voice, VoiceChannel, VoiceStatus
from proposals.voices import assisted
from tests.factories import actor, create_department, create_user

pytestmark = pytest.mark.databases("sqlite", why="the rules are Python; the writes are plain inserts")


def _form(**values: str) -> assisted.AssistedVoiceForm:
    return assisted.AssistedVoiceForm.parse({"title": "信号が短い", "body": "渡りきれません。",
                                             "category": "transport_mobility", **values})


def _count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Voice)).one()


def test_the_desk_records_a_voice_without_an_author(session: Session) -> None:
    desk = create_user(session, "desk@example.jp", roles=[Role.SUPPORT_DESK])
    now = utcnow() - timedelta(minutes=1)
    [voice] = assisted.record(session, actor(session, desk), [_form(area="akatsuka", note="No. 8")],
                              VoiceChannel.WORKSHOP, consented=True, now=now)
    assert voice.id is not None and voice.author_id is None and voice.entered_by_id == desk.id
    assert voice.channel is VoiceChannel.WORKSHOP and voice.consent_at == now
    assert voice.status is VoiceStatus.RECEIVED and voice.department_id is None
    assert voice.area == "akatsuka" and voice.desk_note == "No. 8"


@pytest.mark.parametrize(("role", "error"), [(None, SignInRequired), ("resident", Forbidden), ("staff", Forbidden)])
def test_others_cannot(session: Session, role: str | None, error: type[Exception]) -> None:
    department = create_department(session)
    users = {"resident": create_user(session, "r@example.jp"),
             "staff": create_user(session, "s@example.jp", roles=[(Role.STAFF, department.id)])}  # type: ignore[list-item]
    with pytest.raises(error):
        assisted.record(session, actor(session, users[role] if role else None), [_form()], VoiceChannel.PAPER,
                        consented=True)
    assert _count(session) == 0


def test_consent_and_a_desk_channel_are_required(session: Session) -> None:
    desk = actor(session, create_user(session, "desk@example.jp", roles=[Role.SUPPORT_DESK]))
    with pytest.raises(Invalid) as refused:
        assisted.record(session, desk, [_form()], VoiceChannel.PAPER, consented=False)
    assert "consent" in refused.value.errors
    with pytest.raises(Invalid) as refused:
        assisted.record(session, desk, [_form()], VoiceChannel.ONLINE, consented=True)
    assert "channel" in refused.value.errors
    with pytest.raises(Invalid):
        assisted.record(session, desk, [], VoiceChannel.PAPER, consented=True)
    assert _count(session) == 0


def test_categories_and_areas_by_code_or_name() -> None:
    assert _form(category="防災・防犯").category is Category.DISASTER_SAFETY
    assert _form(category="Disaster prevention and safety").category is Category.DISASTER_SAFETY
    assert _form(area="高島平地域").area is Area.TAKASHIMADAIRA
    assert _form(area="Shimura area").area is Area.SHIMURA
    assert _form(area="").area is None
    with pytest.raises(Invalid) as refused:
        _form(category="宇宙", area="大阪", title="")
    assert set(refused.value.errors) == {"category", "area", "title"}
