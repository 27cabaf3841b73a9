"""The author and the supporters of a voice hear of its status changes and answers by e-mail, each in
their own language, through a real Celery worker and a real SMTP server; the staff member who acted
does not, and nobody hears twice."""

from __future__ import annotations

from email.header import decode_header, make_header

import pytest
from sqlmodel import Session, select

from cocreate.accounts.models import Role
from cocreate.accounts.permissions import Principal
from cocreate.mail import OutboundEmail
from cocreate.notifications.models import Notification
from cocreate.settings import Settings
from cocreate.tasks import configure_celery
from proposals.voices import triage
from tests.factories import create_department, create_user
from tests.proposals.voices.triage_helpers import create_voice
from tests.servers import SmtpSink, Worker

pytestmark = pytest.mark.databases("sqlite", why="the delivery is the core's, tested on both backends there")


def subject_of(message: object) -> str:
    return str(make_header(decode_header(message["Subject"])))  # type: ignore[index]


def body_of(message: object) -> str:
    return message.get_payload(decode=True).decode()  # type: ignore[attr-defined]


def test_a_status_change_and_an_answer_reach_author_and_supporters_by_mail(
    session: Session, smtp_worker_settings: tuple[Settings, Worker], smtp_sink: SmtpSink, settings: Settings,
) -> None:
    worker_settings, worker = smtp_worker_settings
    configure_celery(worker_settings)
    smtp_sink.clear()
    transport = create_department(session, "transport", division_ja="都市整備部", section_ja="交通政策課",
                                  division_en="Urban Development", section_en="Transport Policy")
    staff = create_user(session, "kotsu@example.jp", roles=[(Role.STAFF, transport.id)])  # type: ignore[list-item]
    author = create_user(session, "author@example.jp", display_name="投稿 一郎")
    supporter = create_user(session, "supporter@example.jp", display_name="Supporter", locale="en")
    unconfirmed = create_user(session, "unconfirmed@example.jp", confirmed=False)
    voice = create_voice(session, author=author, department=transport, title="駅前の歩道が狭い",
                         supporters=(supporter, unconfirmed, staff))
    triage.acknowledge(session, worker_settings, Principal.load(session, staff), voice.id,  # type: ignore[arg-type]
                       triage.NoteForm(note="現地を確認します。"))
    triage.answer(session, worker_settings, Principal.load(session, staff), voice.id,  # type: ignore[arg-type]
                  triage.AnswerForm(answer="来年度に**拡幅**します。"))
    try:
        messages = smtp_sink.wait_for(4, timeout=30)
    except AssertionError:
        raise AssertionError(worker.log()[-4000:]) from None
    assert sorted(m["To"] for m in messages) == sorted(["author@example.jp", "supporter@example.jp"] * 2)
    english = [m for m in messages if m["To"] == "supporter@example.jp"]
    japanese = [m for m in messages if m["To"] == "author@example.jp"]
    english_subjects = sorted(subject_of(m) for m in english)
    assert english_subjects == ["The ward's answer: 駅前の歩道が狭い", "Under consideration: 駅前の歩道が狭い"]
    english_bodies = "\n".join(body_of(m) for m in english)
    assert "Hello Supporter" in english_bodies and "New status: Under consideration" in english_bodies
    assert "現地を確認します。" in english_bodies and "来年度に拡幅します。" in english_bodies
    assert f"/voices/{voice.id}" in english_bodies
    japanese_bodies = "\n".join(body_of(m) for m in japanese)
    assert "投稿 一郎 様" in japanese_bodies and "Hello" not in japanese_bodies
    # In the site: the unconfirmed supporter too (no e-mail), never the staff member who acted.
    told = session.exec(select(Notification.user_id, Notification.kind)).all()
    assert sorted(told) == sorted((user.id, kind) for user in (author, supporter, unconfirmed)
                                  for kind in (triage.STATUS_KIND, triage.ANSWER_KIND))
    assert len(session.exec(select(OutboundEmail)).all()) == 4
    configure_celery(settings)
