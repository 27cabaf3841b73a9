"""Voices for the triage tests, inserted as rows (the public posting has its own service and tests), and
a ward with the people of every role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, func, select

from cocreate.accounts.models import Department, Role, User
from proposals.models import Category, Voice, VoiceStatus, VoiceSupport, VoiceUpdate
from tests.factories import create_challenge, create_department, create_user


def create_voice(session: Session, *, author: User | None = None, department: Department | None = None,
                 title: str = "駅前の歩道が狭くて危ない", body: str = "ベビーカーで通れません。",
                 category: str = "transport_mobility", area: str = "itabashi", status: str = "received",
                 supporters: tuple[User, ...] = ()) -> Voice:
    voice = Voice(title=title, body=body, category=Category(category), area=area, status=VoiceStatus(status),
                  author_id=author.id if author else None, department_id=department.id if department else None,
                  support_count=len(supporters))
    session.add(voice)
    session.flush()
    for supporter in supporters:
        session.add(VoiceSupport(voice_id=voice.id, user_id=supporter.id))  # type: ignore[arg-type]
    session.commit()
    session.refresh(voice)
    return voice


@dataclass
class Ward:
    transport: Department
    parks: Department
    people: dict[str, User]
    challenge: Any
    draft: Any


def make_ward(session: Session) -> Ward:
    transport = create_department(session, "transport", division_ja="都市整備部", section_ja="交通政策課",
                                  division_en="Urban Development Department", section_en="Transport Policy Section")
    parks = create_department(session, "parks", division_ja="土木部", section_ja="みどりと公園課",
                              division_en="Civil Engineering Department", section_en="Parks Section")
    people = {
        "staff": create_user(session, "kotsu@example.jp", display_name="交通 太郎",
                             roles=[(Role.STAFF, transport.id)]),  # type: ignore[list-item]
        "other_staff": create_user(session, "koen@example.jp", display_name="公園 次郎",
                                   roles=[(Role.STAFF, parks.id)]),  # type: ignore[list-item]
        "resident": create_user(session, "resident@example.jp", display_name="区民 花子"),
        "author": create_user(session, "author@example.jp", display_name="投稿 一郎"),
        "supporter": create_user(session, "supporter@example.jp", display_name="Supporter", locale="en"),
        "admin": create_user(session, "admin@example.jp", roles=[Role.ADMIN]),
    }
    challenge = create_challenge(session, transport, phase="published", title="駅前を安全に歩けるようにしたい")
    draft = create_challenge(session, parks, phase="draft", title="公園課の下書きを実現したい")
    return Ward(transport, parks, people, challenge, draft)


def trail_count(session: Session, voice_id: int | None = None) -> int:
    statement = select(func.count()).select_from(VoiceUpdate)
    if voice_id is not None:
        statement = statement.where(VoiceUpdate.voice_id == voice_id)
    return session.exec(statement).one()


def supporters_of(session: Session, voice_id: int) -> list[int]:
    session.expire_all()
    return sorted(session.exec(select(VoiceSupport.user_id).where(VoiceSupport.voice_id == voice_id)).all())
