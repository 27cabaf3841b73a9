"""Posting, supporting and reading residents' voices through the services, per role, with bad input
refused and nothing written; the owning department; photos without their location; exact counts when
people click at once."""

from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from PIL import Image
from sqlmodel import Session, col, func, select

from cocreate.accounts.models import Department, Role, User
from cocreate.accounts.permissions import Principal
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.errors import Forbidden, Invalid, NotFound, SignInRequired
from cocreate.files import images as photo_files
from cocreate.notifications.models import Follow
from cocreate.settings import Settings
from proposals.models import Category, Voice, VoicePhoto, VoiceStatus, VoiceSupport
from proposals.voices import services as voices
from proposals.voices.routing import owning_department
from tests.factories import create_challenge, create_department, create_user
from tests.proposals.staff_helpers import pdf_bytes, png_bytes
from tests.proposals.voices.helpers import gps_jpeg, post_voice, voice_form

pytestmark = pytest.mark.databases("sqlite", why="the rules are Python; the race runs on both databases")


@dataclass
class World:
    transport: Department
    env: Department
    resident: User
    neighbour: User
    unconfirmed: User
    staff: User


@pytest.fixture
def world(session: Session) -> World:
    transport = create_department(session, "transport", division_ja="都市整備部", section_ja="交通政策課",
                                  division_en="Urban Development", section_en="Transport Policy")
    env = create_department(session)
    return World(transport, env, create_user(session, "resident@example.jp", display_name="板橋 花子"),
                 create_user(session, "neighbour@example.jp", display_name="常盤 一郎"),
                 create_user(session, "new@example.jp", confirmed=False),
                 create_user(session, "kotsu@example.jp", roles=[(Role.STAFF, transport.id)]))  # type: ignore[list-item]


def actor(session: Session, user: User | None) -> Principal:
    return Principal.load(session, user) if user is not None else Principal.anonymous()


def count(session: Session, model: type) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


# --- the owning department -----------------------------------------------------------------------


def test_the_department_owning_most_public_challenges_of_the_category_gets_the_voice(
        session: Session, world: World) -> None:
    create_challenge(session, world.env, category="transport_mobility", area="志村")
    create_challenge(session, world.transport, category="transport_mobility", area="高島平")
    create_challenge(session, world.transport, category="transport_mobility", area="板橋区全域")
    for _ in range(3):  # drafts are nobody's yet: they do not count
        create_challenge(session, world.env, category="transport_mobility", phase="draft")
    assert owning_department(session, Category.TRANSPORT_MOBILITY, None) == world.transport.id
    assert owning_department(session, Category.HEALTH_WELFARE, "itabashi") is None


def test_a_tie_goes_to_the_department_with_more_challenges_in_the_voices_area(session: Session, world: World) -> None:
    create_challenge(session, world.transport, category="environment_energy", area="板橋")
    create_challenge(session, world.env, category="environment_energy", area="高島平地域")
    assert owning_department(session, Category.ENVIRONMENT_ENERGY, "takashimadaira") == world.env.id
    assert owning_department(session, Category.ENVIRONMENT_ENERGY, "itabashi") == world.transport.id


# --- posting -------------------------------------------------------------------------------------


def test_a_confirmed_resident_posts_a_voice_that_goes_to_the_owning_department(
        session: Session, settings: Settings, world: World) -> None:
    create_challenge(session, world.transport, category="disaster_safety")
    voice = post_voice(session, settings, world.resident)
    session.expire_all()
    stored = session.get(Voice, voice.id)
    assert stored is not None
    assert (stored.title, stored.category, stored.area, stored.latitude, stored.longitude, stored.address) == (
        "駅前の横断歩道に信号がほしい", Category.DISASTER_SAFETY, "itabashi", 35.7512, 139.7093, "板橋駅前")
    assert stored.status is VoiceStatus.RECEIVED and stored.author_id == world.resident.id
    assert stored.department_id == world.transport.id and stored.support_count == 0
    assert session.exec(select(Follow.user_id).where(Follow.target_type == "voice",
                                                     Follow.target_id == voice.id)).all() == [world.resident.id]


def test_area_point_and_address_are_optional(session: Session, settings: Settings, world: World) -> None:
    voice = post_voice(session, settings, world.resident, area="", latitude="", longitude="", address="")
    assert (voice.area, voice.latitude, voice.longitude, voice.address, voice.department_id) == ("", None, None, "", None)


@pytest.mark.parametrize(("who", "error"), [("visitor", SignInRequired), ("unconfirmed", Forbidden)])
def test_only_confirmed_accounts_post(session: Session, settings: Settings, world: World, who: str,
                                      error: type[Exception]) -> None:
    user = None if who == "visitor" else world.unconfirmed
    with pytest.raises(error):
        voices.post(session, settings, actor(session, user), voice_form())
    assert count(session, Voice) == 0


@pytest.mark.parametrize(("overrides", "field"), [
    ({"title": ""}, "title"),
    ({"title": "あ" * 121}, "title"),
    ({"title": "二行の\nタイトル"}, "title"),
    ({"body": "   "}, "body"),
    ({"category": ""}, "category"),
    ({"category": "weather"}, "category"),
    ({"area": "osaka"}, "area"),
    ({"latitude": "34.69", "longitude": "135.50"}, "latitude"),  # Osaka: not a local voice
    ({"longitude": "200"}, "longitude"),
    ({"latitude": "north"}, "latitude"),
    ({"latitude": ""}, "latitude"),
    ({"longitude": ""}, "longitude"),
    ({"address": "x" * 201}, "address"),
    ({"alt-0": "写真の説明"}, "photo-0"),
])
def test_bad_input_is_refused_under_its_field(session: Session, world: World, overrides: dict[str, str],
                                              field: str) -> None:
    with pytest.raises(Invalid) as refused:
        voice_form(**overrides)
    assert refused.value.errors.get(field)


# --- photos --------------------------------------------------------------------------------------


class Upload:
    """What a multipart form gives for a chosen file (litestar's UploadFile has these two)."""

    def __init__(self, filename: str, content: bytes) -> None:
        self.filename = filename
        self.file = io.BytesIO(content)


def stored_photos(session: Session, settings: Settings, voice_id: int) -> list[tuple[VoicePhoto, bytes]]:
    rows = session.exec(select(VoicePhoto).where(VoicePhoto.voice_id == voice_id).order_by(col(VoicePhoto.id))).all()
    return [(row, voices.path_of(settings, row).read_bytes()) for row in rows]


def test_a_photo_loses_its_gps_position_but_keeps_the_rest(session: Session, settings: Settings, world: World) -> None:
    original = gps_jpeg()
    with Image.open(io.BytesIO(original)) as image:
        assert photo_files.GPS_IFD in image.getexif()  # the test photo does carry a position
    voice = post_voice(session, settings, world.resident, **{"photo-0": Upload("IMG_0001.JPG", original),
                                                            "alt-0": "信号のない横断歩道"})
    [(photo, content)] = stored_photos(session, settings, voice.id)  # type: ignore[arg-type]
    with Image.open(io.BytesIO(content)) as image:
        exif = image.getexif()
        assert photo_files.GPS_IFD not in exif and not exif.get_ifd(photo_files.GPS_IFD)
        assert exif[0x0110] == "TestCam" and image.size == (64, 48)
    assert (photo.content_type, photo.alt_text, photo.kept_location, photo.size_bytes) == (
        "image/jpeg", "信号のない横断歩道", False, len(content))
    assert photo.sha256 == hashlib.sha256(content).hexdigest() and content != original


def test_a_resident_may_keep_the_location(session: Session, settings: Settings, world: World) -> None:
    original = gps_jpeg()
    voice = post_voice(session, settings, world.resident, keep_location="yes",
                       **{"photo-0": Upload("a.jpg", original), "alt-0": "横断歩道"})
    [(photo, content)] = stored_photos(session, settings, voice.id)  # type: ignore[arg-type]
    assert photo.kept_location and content == original
    with Image.open(io.BytesIO(content)) as image:
        assert image.getexif().get_ifd(photo_files.GPS_IFD)[2] == (35.0, 45.0, 4.32)


def test_pngs_are_accepted(session: Session, settings: Settings, world: World) -> None:
    voice = post_voice(session, settings, world.resident, **{"photo-0": Upload("p.png", png_bytes(8, 8)),
                                                            "alt-0": "公園", "photo-2": Upload("q.jpg", gps_jpeg()),
                                                            "alt-2": "道"})
    assert [photo.content_type for photo, _ in stored_photos(session, settings, voice.id)] == [  # type: ignore[arg-type]
        "image/png", "image/jpeg"]


@pytest.mark.parametrize(("filename", "content"), [
    ("plan.pdf", pdf_bytes()), ("photo.jpg", b"MZ\x90\x00 not an image at all"),
    ("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 40),
])
def test_a_file_that_is_no_readable_image_is_refused_and_nothing_is_kept(
        session: Session, settings: Settings, world: World, filename: str, content: bytes) -> None:
    with pytest.raises(Invalid) as refused:
        post_voice(session, settings, world.resident, **{"photo-0": Upload("good.jpg", gps_jpeg()),
                                                        "alt-0": "良い写真", "photo-1": Upload(filename, content),
                                                        "alt-1": "悪い写真"})
    assert set(refused.value.errors) == {"photo-1"}
    assert count(session, Voice) == 0 and count(session, VoicePhoto) == 0
    folder = settings.upload_dir / voices.STORAGE_FOLDER  # type: ignore[operator]
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_photo_needs_its_description(session: Session, world: World) -> None:
    with pytest.raises(Invalid) as refused:
        voice_form(**{"photo-0": Upload("a.jpg", gps_jpeg())})
    assert "alt-0" in refused.value.errors


# --- supporting ----------------------------------------------------------------------------------


def test_others_support_once_and_withdraw(session: Session, settings: Settings, world: World) -> None:
    voice = post_voice(session, settings, world.resident)
    neighbour = actor(session, world.neighbour)
    first = voices.support(session, neighbour, voice.id)  # type: ignore[arg-type]
    again = voices.support(session, neighbour, voice.id)  # type: ignore[arg-type]
    staff = voices.support(session, actor(session, world.staff), voice.id)  # type: ignore[arg-type]
    assert (first.changed, first.support_count, again.changed, again.support_count) == (True, 1, False, 1)
    assert staff.support_count == 2
    withdrawn = voices.unsupport(session, neighbour, voice.id)  # type: ignore[arg-type]
    none_left = voices.unsupport(session, neighbour, voice.id)  # type: ignore[arg-type]
    assert (withdrawn.changed, withdrawn.support_count, none_left.changed, none_left.support_count) == (True, 1, False, 1)
    session.expire_all()
    assert session.get(Voice, voice.id).support_count == 1 == count(session, VoiceSupport)  # type: ignore[union-attr]


@pytest.mark.parametrize(("who", "error"), [("visitor", SignInRequired), ("unconfirmed", Forbidden),
                                            ("author", Forbidden)])
def test_who_may_not_support(session: Session, settings: Settings, world: World, who: str,
                             error: type[Exception]) -> None:
    voice = post_voice(session, settings, world.resident)
    user = {"visitor": None, "unconfirmed": world.unconfirmed, "author": world.resident}[who]
    with pytest.raises(error):
        voices.support(session, actor(session, user), voice.id)  # type: ignore[arg-type]
    assert count(session, VoiceSupport) == 0


def test_a_merged_voice_takes_no_support_and_a_hidden_one_is_not_found(
        session: Session, settings: Settings, world: World) -> None:
    kept = post_voice(session, settings, world.resident)
    merged = post_voice(session, settings, world.resident, title="同じ横断歩道")
    hidden = post_voice(session, settings, world.resident, title="隠された声")
    session.execute(sa.update(Voice).where(col(Voice.id) == merged.id)
                    .values(status=VoiceStatus.MERGED, merged_into_id=kept.id))
    session.execute(sa.update(Voice).where(col(Voice.id) == hidden.id).values(hidden_at=utcnow()))
    session.commit()
    neighbour = actor(session, world.neighbour)
    with pytest.raises(Invalid) as refused:
        voices.support(session, neighbour, merged.id)  # type: ignore[arg-type]
    assert refused.value.errors["support"] == "この声は別の声に統合されました。統合先の声を応援してください。"
    with pytest.raises(NotFound):
        voices.support(session, neighbour, hidden.id)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        voices.detail(session, neighbour, hidden.id)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        voices.support(session, neighbour, 999_999)
    assert count(session, VoiceSupport) == 0


def race(settings: Settings, calls: list[tuple[int, int, bool]]) -> list[BaseException]:
    """Support (or withdraw) for each call in its own thread and database session, released at once."""
    racing = Database(settings, pool_size=len(calls) + 2, max_overflow=0)
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def attempt(user_id: int, voice_id: int, adding: bool) -> None:
        try:
            with racing.session() as db:
                principal = Principal.load(db, db.get(User, user_id))
                db.commit()
                barrier.wait(timeout=30)
                (voices.support if adding else voices.unsupport)(db, principal, voice_id)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=attempt, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    racing.dispose()
    return errors


@pytest.mark.committed("racing threads each use their own connection")
@pytest.mark.databases("sqlite", "postgresql", why="ON CONFLICT and the SQL count change under concurrency")
def test_supports_at_once_give_an_exact_count(session: Session, settings: Settings, world: World) -> None:
    voice = post_voice(session, settings, world.resident)
    people = [create_user(session, f"racer{i}@example.jp") for i in range(12)]
    calls = [(p.id, voice.id, True) for p in people] + [(world.neighbour.id, voice.id, True)] * 6
    assert race(settings, calls) == []  # type: ignore[arg-type]
    session.expire_all()
    assert session.get(Voice, voice.id).support_count == 13 == count(session, VoiceSupport)  # type: ignore[union-attr]
    assert race(settings, [(world.neighbour.id, voice.id, False)] * 6) == []  # type: ignore[list-item]
    session.expire_all()
    assert session.get(Voice, voice.id).support_count == 12 == count(session, VoiceSupport)  # type: ignore[union-attr]
