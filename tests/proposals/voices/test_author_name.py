"""Who a voice page names as author: the person, the channel of a support-desk entry (also once the desk
member's account is gone), or a deleted user."""

from __future__ import annotations

from proposals.models import Category, Voice, VoiceChannel
from proposals.voices.services import author_name


def voice(**fields: object) -> Voice:
    return Voice(title="t", body="b", category=Category.ADMIN_DX, **fields)


def test_a_desk_entry_is_named_by_its_channel_even_after_the_desk_member_left() -> None:
    assert author_name(voice(channel=VoiceChannel.PAPER, entered_by_id=3), None) == VoiceChannel.PAPER.label
    assert author_name(voice(channel=VoiceChannel.PHONE, entered_by_id=None), None) == VoiceChannel.PHONE.label


def test_an_online_voice_whose_author_deleted_the_account_names_a_deleted_user() -> None:
    name = author_name(voice(channel=VoiceChannel.ONLINE), None)
    assert name not in {c.label for c in VoiceChannel}
