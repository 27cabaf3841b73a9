"""The demo's residents' voices (issue 18 item 6): played through the services, triaged with a public
trail, some entered by the support desk, one turned into a draft challenge that cites it, one linked to the
bus-stop challenge, and a published "what we heard"; loading twice adds nothing."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import Session, col, func, select

from cocreate import demo as core_demo
from cocreate.analysis.models import AnalysisRun, AnalysisTopic
from cocreate.audit.models import AuditEntry
from cocreate.comments.models import Comment
from cocreate.db import Database
from cocreate.settings import Settings
from proposals import demo
from proposals.models import Challenge, Phase, Voice, VoiceChannel, VoiceStatus, VoiceSupport, VoiceUpdate
from proposals.voices import demo as voices_demo

pytestmark = pytest.mark.databases("sqlite", why="demo content goes through the services")


def load_all(database: Database, settings: Settings) -> list[str]:
    summaries = []
    for loader in (core_demo.load, demo.load):
        with database.transaction() as session:
            summaries.append(loader(session, settings))
    return summaries


def test_the_demo_voices_show_the_whole_loop(database: Database, settings: Settings, session: Session) -> None:
    summaries = load_all(database, settings)
    assert "voices added" in summaries[1] and "what the ward heard" in summaries[1]
    voices = session.exec(select(Voice).order_by(Voice.id)).all()
    assert len(voices) == len(voices_demo.VOICES) + len(voices_demo.WORKSHOP)
    channels = Counter(v.channel for v in voices)
    assert channels[VoiceChannel.ONLINE] >= 8
    assert channels[VoiceChannel.PAPER] and channels[VoiceChannel.PHONE] and channels[VoiceChannel.WORKSHOP] >= 3
    assisted = [v for v in voices if v.channel is not VoiceChannel.ONLINE]
    assert all(v.author_id is None and v.entered_by_id and v.consent_at for v in assisted)
    statuses = Counter(v.status for v in voices)
    for status in (VoiceStatus.RECEIVED, VoiceStatus.CONSIDERING, VoiceStatus.CHALLENGE, VoiceStatus.RESOLVED,
                   VoiceStatus.DECLINED, VoiceStatus.MERGED):
        assert statuses[status], status
    # Supports are exact: the counters agree with the rows.
    supports = dict(session.exec(select(VoiceSupport.voice_id, func.count()).group_by(VoiceSupport.voice_id)).all())
    assert all(v.support_count == supports.get(v.id, 0) for v in voices)
    assert sum(supports.values()) >= 30
    # Every status change left its public trail entry, and the staff actions are audited.
    changed = [v for v in voices if v.status is not VoiceStatus.RECEIVED]
    kinds = Counter(u.kind for u in session.exec(select(VoiceUpdate)).all())
    assert kinds["status"] >= len(changed) - 1 and kinds["merge"] and kinds["link"]
    assert session.exec(select(func.count()).select_from(AuditEntry)
                        .where(col(AuditEntry.action).like("voice.%"))).one() >= len(changed)
    # One voice became a draft challenge that cites it; one is linked to the bus-stop challenge.
    born = session.exec(select(Challenge).where(Challenge.title == voices_demo.DARK_PATH_CHALLENGE)).one()
    assert born.phase is Phase.DRAFT
    cited = [v for v in voices if v.challenge_id == born.id]
    assert cited and all(f"/voices/{v.id}" in born.background for v in cited)
    bus = session.exec(select(Challenge).where(Challenge.title == voices_demo.BUS_CHALLENGE)).one()
    assert any(v.challenge_id == bus.id and v.status is VoiceStatus.RESOLVED for v in voices)
    assert session.exec(select(func.count()).select_from(Comment).where(Comment.target_type == "voice")).one() >= 3
    # What the ward heard: a published analysis with topics.
    run = session.exec(select(AnalysisRun).where(col(AnalysisRun.published_at).is_not(None))).one()
    topics = session.exec(select(AnalysisTopic).where(AnalysisTopic.run_id == run.id)).all()
    assert len(topics) >= 2 and sum(t.size for t in topics) >= 8


def test_loading_the_demo_voices_twice_adds_nothing(database: Database, settings: Settings,
                                                    session: Session) -> None:
    load_all(database, settings)
    before = session.exec(select(func.count()).select_from(Voice)).one()
    summaries = load_all(database, settings)
    assert "; voices already there" in summaries[1]
    assert session.exec(select(func.count()).select_from(Voice)).one() == before
