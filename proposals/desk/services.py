"""What the support desk does (代理入力), checked here whatever the caller: record residents' voices (through
:mod:`proposals.voices.assisted`) and their comments on a challenge (through the core's
:func:`cocreate.comments.services.post_assisted`), one or many at once, all or none; and what the desk page
lists (the challenges that take comments now, the latest assisted entries with their private notes).

Every entry needs the residents' consent to publication, ticked by the desk member; its time is recorded.
Each recording (one entry or a workshop's batch) is one entry of the audit log: who, from what channel, which
rows (the private notes stay out of it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate import audit, permissions
from cocreate.accounts.permissions import Principal
from cocreate.comments import services as comments
from cocreate.comments.models import Channel, Comment
from cocreate.db import transactional
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.i18n import gettext as _
from proposals.comment_targets import CHALLENGE
from proposals.desk.bulk import CommentRow
from proposals.models import Challenge, Voice, VoiceChannel
from proposals.phases import ALLOWED, Action
from proposals.voices import assisted

RECENT = 10
COMMENTING_PHASES = tuple(phase for phase, actions in ALLOWED.items() if Action.COMMENT in actions)


def require_desk(actor: Principal) -> None:
    permissions.require(actor, "desk.enter")


def challenges_taking_comments(session: Session, actor: Principal) -> list[tuple[int, str]]:
    """(id, title) of the published challenges that take comments now, newest first (the desk's chooser)."""
    require_desk(actor)
    rows = session.exec(select(Challenge.id, Challenge.title).where(col(Challenge.phase).in_(COMMENTING_PHASES))
                        .order_by(col(Challenge.id).desc()).limit(200)).all()
    return [(int(challenge_id), title) for challenge_id, title in rows if challenge_id is not None]


def _consent(consented: bool) -> None:
    if not consented:
        raise Invalid({"consent": _("Confirm that the resident agreed to the publication of their opinion.")})


@transactional
def enter_comments(session: Session, actor: Principal, challenge_id: int | None, rows: Sequence[CommentRow],
                   channel: VoiceChannel | None, *, consented: bool, now: datetime | None = None) -> list[Comment]:
    """Record residents' comments on a challenge for them, all or none."""
    require_desk(actor)
    channel = assisted.check_channel(channel)
    if challenge_id is None:
        raise Invalid({"challenge_id": _("Choose the challenge the opinions are about.")})
    _consent(consented)
    if not rows:
        raise Invalid({"rows": _("Enter at least one opinion.")})
    entries = [comments.AssistedComment(row.body, Channel(channel.value), row.note) for row in rows]
    try:
        posted = comments.post_assisted(session, actor, CHALLENGE.name, challenge_id, entries,
                                        consent_at=now or utcnow())
    except Invalid as failed:  # the challenge no longer takes comments: say so under its chooser
        raise Invalid({"challenge_id" if key == "target" else key: message
                       for key, message in failed.errors.items()}) from None
    _audit(actor, session, "desk.comments_entered", "challenge", challenge_id, channel,
           {"comment_ids": [comment.id for comment in posted]})
    return posted


def _audit(actor: Principal, session: Session, action: str, target_type: str, target_id: object,
           channel: VoiceChannel, details: dict[str, Any]) -> None:
    user = actor.user
    assert user is not None
    audit.record(session, actor_id=user.id, actor_label=f"{user.display_name} (#{user.id})"[:200], action=action,
                 target_type=target_type, target_id=str(target_id),
                 details={"channel": channel.value, **details})


@transactional
def enter_voices(session: Session, actor: Principal, rows: Sequence[assisted.AssistedVoiceForm],
                 channel: VoiceChannel | None, *, consented: bool, now: datetime | None = None) -> list[Voice]:
    """Record residents' voices for them, all or none."""
    voices = assisted.record(session, actor, rows, channel, consented=consented, now=now)  # type: ignore[arg-type]
    _audit(actor, session, "desk.voices_entered", "voice", voices[0].id, voices[0].channel,
           {"voice_ids": [voice.id for voice in voices]})
    return voices


# --- the desk's page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    kind: str
    """``voice`` or ``comment``."""
    id: int
    text: str
    channel: str
    note: str
    created_at: datetime
    challenge_id: int | None = None

    @property
    def channel_label(self) -> str:
        return Channel(self.channel).label


def recent(session: Session, actor: Principal) -> list[Entry]:
    """The latest assisted entries (voices and comments on challenges), newest first, with their private notes
    (for the desk only): two bounded queries."""
    require_desk(actor)
    voices = session.exec(select(Voice.id, Voice.title, Voice.channel, Voice.desk_note, Voice.created_at)
                          .where(Voice.channel != VoiceChannel.ONLINE)
                          .order_by(col(Voice.created_at).desc(), col(Voice.id).desc()).limit(RECENT)).all()
    posted = session.exec(select(Comment.id, Comment.body, Comment.channel, Comment.desk_note, Comment.created_at,
                                 Comment.target_id)
                          .where(Comment.channel != Channel.ONLINE.value, Comment.target_type == CHALLENGE.name)
                          .order_by(col(Comment.created_at).desc(), col(Comment.id).desc()).limit(RECENT)).all()
    entries = [Entry("voice", int(i), title, str(channel), note, at) for i, title, channel, note, at in voices]
    entries += [Entry("comment", int(i), body, channel, note, at, target)
                for i, body, channel, note, at, target in posted]
    entries.sort(key=lambda entry: (entry.created_at, entry.id), reverse=True)
    return entries[:RECENT]


# --- statistics ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelCounts:
    """How many voices and comments came online and from each of the desk's channels."""

    voices: dict[str, int]
    comments: dict[str, int]

    @property
    def channels(self) -> list[Channel]:
        return list(Channel)

    def assisted(self, counts: dict[str, int]) -> int:
        return sum(n for channel, n in counts.items() if channel != Channel.ONLINE.value)


def channel_counts(session: Session, actor: Principal) -> ChannelCounts:
    """Voices and comments per channel, in one aggregate query (administrators: ``admin.access``)."""
    permissions.require(actor, "admin.access")
    voice_rows = sa.select(sa.literal("voice").label("what"), col(Voice.channel).label("channel"),
                           sa.func.count().label("n")).group_by(col(Voice.channel))
    comment_rows = sa.select(sa.literal("comment").label("what"), col(Comment.channel).label("channel"),
                             sa.func.count().label("n")).where(col(Comment.deleted_at).is_(None)) \
        .group_by(col(Comment.channel))
    counts: dict[str, dict[str, int]] = {"voice": {}, "comment": {}}
    for what, channel, n in session.execute(sa.union_all(voice_rows, comment_rows)).all():
        counts[what][str(getattr(channel, "value", channel))] = int(n)
    return ChannelCounts(voices={c.value: counts["voice"].get(c.value, 0) for c in Channel},
                         comments={c.value: counts["comment"].get(c.value, 0) for c in Channel})


def admin_section(session: Session, actor: Principal) -> tuple[str, dict[str, Any]] | None:
    """The administrators' dashboard: assisted and online entries per channel."""
    if not permissions.can(actor, "admin.access"):
        return None
    return "proposals/desk/_admin_counts.html", {"counts": channel_counts(session, actor)}

