"""The public voice pages (list, form, detail, support), the read API, the Atom feed, search, "download my
data" and account deletion, as a visitor, the author, another resident and staff see them; without
JavaScript (plain forms, 303) and with htmx; in a fixed number of queries whatever the rows."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image
from sqlmodel import Session, col, func, select

from cocreate.accounts import self_service
from cocreate.accounts.models import Department, Role, User
from cocreate.accounts.permissions import Principal
from cocreate.comments.models import Comment
from cocreate.components import Component
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.files import images as photo_files
from cocreate.search import indexer, query
from cocreate.settings import Settings
from proposals.models import Category, Voice, VoicePhoto, VoiceStatus, VoiceSupport, VoiceUpdate
from tests.factories import PASSWORD, create_challenge, create_department, create_user, sign_in
from tests.helpers import QueryLog, csrf_token, extra_component
from tests.proposals.voices.helpers import gps_jpeg

pytestmark = pytest.mark.databases("sqlite", why="pages and their links come from the app's routes")

BUDGET = 10
"""At most 10 queries on any page, whatever its data size (issue 13)."""


@dataclass
class World:
    department: Department
    staff: User
    author: User
    neighbour: User
    unconfirmed: User


@pytest.fixture
def world(session: Session) -> World:
    department = create_department(session, "safety", division_ja="危機管理室", section_ja="防災危機管理課",
                                   division_en="Crisis Management Office", section_en="Disaster Management Section")
    create_challenge(session, department, category="disaster_safety")
    return World(department, create_user(session, "bousai@example.jp", roles=[(Role.STAFF, department.id)]),  # type: ignore[list-item]
                 create_user(session, "author@example.jp", display_name="板橋 花子"),
                 create_user(session, "neighbour@example.jp", display_name="常盤 一郎"),
                 create_user(session, "new@example.jp", confirmed=False))


def as_user(client: TestClient[Litestar], user: User | None) -> None:
    client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})
    client.cookies.clear()
    if user is not None:
        sign_in(client, user)


def form(**overrides: str) -> dict[str, str]:
    return {"title": "公園の街灯が暗い", "body": "夜の**公園**が暗くて<script>alert(1)</script>怖いです。",
            "category": "disaster_safety", "area": "takashimadaira", "latitude": "35.788", "longitude": "139.661",
            "address": "高島平三丁目の公園", **overrides}


def post_voice(client: TestClient[Litestar], files: dict[str, Any] | None = None, **overrides: str) -> Any:
    return client.post("/voices", data={"_csrf_token": csrf_token(client), **form(**overrides)},
                       files=files or {}, follow_redirects=False)


def make_voice(session: Session, author: User, **values: Any) -> Voice:
    voice = Voice(**{"title": "駅前の放置自転車", "body": "歩道が通れません。", "category": Category.TRANSPORT_MOBILITY,
                     "area": "itabashi", "author_id": author.id, **values})
    session.add(voice)
    session.commit()
    session.refresh(voice)
    return voice


# --- posting through the page --------------------------------------------------------------------


def test_a_resident_posts_a_voice_with_a_point_and_a_photo_without_javascript(
        session: Session, client: TestClient[Litestar], settings: Settings, world: World) -> None:
    as_user(client, world.author)
    page = client.get("/voices/new")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    sent = post_voice(client, files={"photo-0": ("IMG_1.jpg", gps_jpeg(), "image/jpeg")}, **{"alt-0": "暗い公園"})
    assert sent.status_code == 303
    voice_id = int(re.fullmatch(r"/voices/(\d+)", sent.headers["location"]).group(1))  # type: ignore[union-attr]
    voice = session.get(Voice, voice_id)
    assert voice is not None and voice.department_id == world.department.id and voice.author_id == world.author.id
    shown = client.get(sent.headers["location"]).text
    assert "公園の街灯が暗い" in shown and "<strong>公園</strong>" in shown and "<script>alert" not in shown
    assert "35.78800" in shown and "openstreetmap.org/?mlat=35.788000&amp;mlon=139.661000" in shown
    assert "高島平三丁目の公園" in shown and "防災危機管理課" in shown and 'alt="暗い公園"' in shown
    photo = session.exec(select(VoicePhoto).where(VoicePhoto.voice_id == voice_id)).one()
    served = client.get(f"/voices/{voice_id}/photos/{photo.id}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(served.content)) as image:
        assert photo_files.GPS_IFD not in image.getexif()


def test_bad_input_shows_the_form_again_with_the_reasons_and_changes_nothing(
        session: Session, client: TestClient[Litestar], world: World) -> None:
    as_user(client, world.author)
    sent = post_voice(client, title="", category="nonsense", latitude="40.0", longitude="",
                      files={"photo-0": ("evil.jpg", b"<html><script>x</script></html>", "image/jpeg")},
                      **{"alt-0": "写真"})
    assert sent.status_code == 400
    for field in ("title", "category", "latitude"):
        assert f'id="field-{field}-error"' in sent.text, field
    assert 'value="35.788"' not in sent.text and "高島平三丁目の公園" in sent.text  # what was sent comes back
    assert session.execute(select(func.count()).select_from(Voice)).scalar_one() == 0
    photo_error = post_voice(client, files={"photo-0": ("evil.jpg", b"<html><script>x</script></html>",
                                                        "image/jpeg")}, **{"alt-0": "写真"})
    assert photo_error.status_code == 400 and 'id="field-photo-0-error"' in photo_error.text
    assert session.execute(select(func.count()).select_from(Voice)).scalar_one() == 0
    no_token = client.post("/voices", data=form(), follow_redirects=False)
    assert no_token.status_code == 403
    assert session.execute(select(func.count()).select_from(Voice)).scalar_one() == 0


def test_visitors_are_sent_to_sign_in_and_unconfirmed_accounts_are_told_why(
        session: Session, client: TestClient[Litestar], world: World) -> None:
    as_user(client, None)
    assert client.get("/voices/new", follow_redirects=False).headers["location"].startswith("/account/sign-in")
    assert post_voice(client).headers["location"].startswith("/account/sign-in")
    as_user(client, world.neighbour)  # whose address then turns out unconfirmed (it changed, say)
    session.execute(sa.update(User).where(col(User.id) == world.neighbour.id).values(email_confirmed_at=None))
    session.commit()
    page = client.get("/voices/new")
    assert 'id="voice-post-refused"' in page.text and 'id="voice-form"' not in page.text
    assert post_voice(client).status_code == 403
    assert session.execute(select(func.count()).select_from(Voice)).scalar_one() == 0


# --- the list ------------------------------------------------------------------------------------


def test_the_list_filters_sorts_and_pages_in_the_database(
        session: Session, client: TestClient[Litestar], world: World) -> None:
    popular = make_voice(session, world.author, title="人気の声", support_count=9, area="shimura",
                         category=Category.ENVIRONMENT_ENERGY, status=VoiceStatus.CONSIDERING)
    for number in range(21):
        make_voice(session, world.author, title=f"声その{number + 1}")
    hidden = make_voice(session, world.author, title="隠された声", hidden_at=utcnow())
    merged = make_voice(session, world.author, title="統合された声", status=VoiceStatus.MERGED,
                        merged_into_id=popular.id)
    as_user(client, None)
    first = client.get("/voices").text
    assert "声その21" in first and "人気の声" not in first and "page=2" in first
    assert hidden.title not in first and merged.title not in first
    assert "人気の声" in client.get("/voices?page=2").text
    by_support = client.get("/voices?sort=support").text.split('id="voice-list"')[1]
    assert by_support.index(f'href="/voices/{popular.id}"') < by_support.index("声その21")
    for query_string in ("category=environment_energy", "area=shimura", "status=considering"):
        shown = client.get(f"/voices?{query_string}").text
        assert "人気の声" in shown and "声その1<" not in shown, query_string
    junk = client.get("/voices?category=weather&area=osaka&status=merged&sort=x&page=-3")
    assert junk.status_code == 200 and 'id="filters-ignored"' in junk.text
    fragment = client.get("/voices?area=shimura", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith("{%") is False and "<html" not in fragment and "人気の声" in fragment


def test_the_lists_and_the_pages_read_a_fixed_number_of_queries(
        session: Session, client: TestClient[Litestar], world: World, query_log: QueryLog) -> None:
    voice = make_voice(session, world.author)

    def measure(path: str) -> int:
        query_log.statements.clear()
        assert client.get(path).status_code == 200
        return query_log.count

    made = iter(range(1000))

    def grow(times: int) -> None:
        for _ in range(times):
            number = next(made)
            make_voice(session, world.neighbour, title=f"追加{number}")
            session.add(VoicePhoto(voice_id=voice.id, alt_text="x", filename="p.png", content_type="image/png",  # type: ignore[arg-type]
                                   size_bytes=1, sha256="0" * 64, storage_key=f"voice-photos/{number:032x}"))
            session.add(VoiceUpdate(voice_id=voice.id, kind="answer", body=f"回答{number}",  # type: ignore[arg-type]
                                    department_id=world.department.id))
            session.add(Comment(target_type="voice", target_id=voice.id, author_id=world.neighbour.id,  # type: ignore[arg-type]
                                body=f"コメント{number}"))
            session.add(VoiceSupport(voice_id=voice.id, user_id=create_user(session, f"s{number}@example.jp").id))  # type: ignore[arg-type]
        session.commit()

    for user in (None, world.neighbour):
        as_user(client, user)
        grow(1)
        pages = ("/voices", f"/voices/{voice.id}", "/api/v1/voices?per_page=50", f"/api/v1/voices/{voice.id}",
                 "/voices.atom")
        small = tuple(measure(path) for path in pages)
        grow(6)
        large = tuple(measure(path) for path in pages)
        assert small == large, f"{small} != {large}: {query_log}"
        assert max(large) <= BUDGET, str(query_log)


# --- the page ------------------------------------------------------------------------------------


def test_the_page_shows_the_trail_with_dates_and_reasons(
        session: Session, client: TestClient[Litestar], world: World) -> None:
    voice = make_voice(session, world.author, department_id=world.department.id, status=VoiceStatus.CONSIDERING)
    draft = create_challenge(session, world.department, phase="draft", title="下書きの課題")
    public = create_challenge(session, world.department, phase="published", title="駐輪場を増やしたい",
                              category="transport_mobility")
    yesterday = utcnow() - timedelta(days=1)
    session.add_all([
        VoiceUpdate(voice_id=voice.id, kind="status", status=VoiceStatus.CONSIDERING,  # type: ignore[arg-type]
                    body="現地を**確認**します。", created_at=yesterday),
        VoiceUpdate(voice_id=voice.id, kind="link", challenge_id=draft.id),  # type: ignore[arg-type]
        VoiceUpdate(voice_id=voice.id, kind="link", challenge_id=public.id),  # type: ignore[arg-type]
    ])
    session.commit()
    as_user(client, None)
    page = client.get(f"/voices/{voice.id}").text
    trail = page.split('id="voice-trail-list"')[1].split("</ol>")[0]
    assert "<strong>確認</strong>" in trail and ("Under consideration" in trail or "検討中" in trail)
    assert yesterday.date().isoformat() in trail
    assert "駐輪場を増やしたい" in trail and "下書きの課題" not in page
    assert f"/challenges/{public.id}" in trail and f"/challenges/{draft.id}" not in page


def test_a_merged_voice_sends_to_the_one_it_was_merged_into_and_a_hidden_one_is_gone(
        session: Session, client: TestClient[Litestar], world: World) -> None:
    kept = make_voice(session, world.author, title="残る声")
    merged = make_voice(session, world.author, title="統合された声", status=VoiceStatus.MERGED, merged_into_id=kept.id)
    hidden = make_voice(session, world.author, title="隠された声", hidden_at=utcnow(), hidden_reason="個人情報")
    as_user(client, world.neighbour)
    sent = client.get(f"/voices/{merged.id}", follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == f"/voices/{kept.id}?merged={merged.id}"
    assert 'id="merged-notice"' in client.get(sent.headers["location"]).text
    assert client.get(f"/voices/{hidden.id}").status_code == 404
    assert client.get(f"/api/v1/voices/{hidden.id}").status_code == 404
    assert client.get(f"/voices/{hidden.id}/comments").status_code == 404


def test_support_without_javascript_and_with_htmx(session: Session, client: TestClient[Litestar], world: World) -> None:
    voice = make_voice(session, world.author)
    as_user(client, None)
    visitor_page = client.get(f"/voices/{voice.id}").text
    assert 'id="voice-support-sign-in"' in visitor_page and 'id="voice-support-button"' not in visitor_page
    as_user(client, world.author)
    own = client.get(f"/voices/{voice.id}").text
    assert 'id="voice-support-button"' not in own and 'id="voice-report"' not in own
    as_user(client, world.neighbour)
    page = client.get(f"/voices/{voice.id}").text
    assert 'id="voice-support-button"' in page and 'id="voice-report"' in page
    supported = client.post(f"/voices/{voice.id}/support", data={"_csrf_token": csrf_token(client)},
                            follow_redirects=False)
    assert supported.status_code == 303 and supported.headers["location"] == f"/voices/{voice.id}#support"
    after = client.get(f"/voices/{voice.id}").text
    assert 'id="voice-supported"' in after and 'id="voice-unsupport-button"' in after
    assert "1人が賛同しています" in after
    withdrawn = client.post(f"/voices/{voice.id}/unsupport", data={"_csrf_token": csrf_token(client)},
                            headers={"HX-Request": "true"})
    assert withdrawn.status_code == 200 and 'id="voice-support-button"' in withdrawn.text
    assert "<html" not in withdrawn.text and "0人が賛同しています" in withdrawn.text
    session.expire_all()
    assert session.get(Voice, voice.id).support_count == 0  # type: ignore[union-attr]
    as_user(client, world.author)
    refused = client.post(f"/voices/{voice.id}/support", data={"_csrf_token": csrf_token(client)},
                          follow_redirects=False)
    assert refused.status_code == 403 and "ご自身の声は応援できません。" in refused.text
    in_box = client.post(f"/voices/{voice.id}/support", data={"_csrf_token": csrf_token(client)},
                         headers={"HX-Request": "true"})
    assert in_box.status_code == 200 and "ご自身の声は応援できません。" in in_box.text
    assert "<html" not in in_box.text and 'id="voice-support-status"' in in_box.text
    session.expire_all()
    assert session.get(Voice, voice.id).support_count == 0  # type: ignore[union-attr]


def test_comments_and_sections_of_other_parts_show_on_the_page(
        session: Session, client: TestClient[Litestar], world: World) -> None:
    voice = make_voice(session, world.author, department_id=world.department.id)
    as_user(client, world.staff)
    posted = client.post(f"/voices/{voice.id}/comments", data={"_csrf_token": csrf_token(client),
                                                                 "body": "現地を確認します。"}, follow_redirects=False)
    assert posted.status_code == 303
    session.expire_all()
    assert session.get(Voice, voice.id).comment_count == 1  # type: ignore[union-attr]
    comment = session.exec(select(Comment).where(Comment.target_type == "voice")).one()
    assert comment.official == "staff"
    as_user(client, None)
    page = client.get(f"/voices/{voice.id}").text
    assert "現地を確認します。" in page

    with extra_component(Component(name="voice-sections-test",
                                   page_sections={"voice": (f"{__name__}:triage_section",)})):
        response = client.get(f"/voices/{voice.id}")
    assert response.status_code == 200
    assert f'<li class="card" id="voice-{voice.id}">' in response.text  # the section another part contributed
    assert f'<li class="card" id="voice-{voice.id}">' not in page


def triage_section(session: Session, actor: Principal, voice: Voice) -> tuple[str, dict[str, Any]]:
    """A section another part contributes to the voice page (the page's own context is the template's)."""
    return "proposals/voices/_voice_card.html", {}


# --- the API, the feed, search -------------------------------------------------------------------


def test_the_api_lists_and_shows_public_voices(session: Session, client: TestClient[Litestar], world: World) -> None:
    voice = make_voice(session, world.author, latitude=35.75, longitude=139.70, support_count=3,
                       department_id=world.department.id)
    make_voice(session, world.author, title="隠された声", hidden_at=utcnow())
    make_voice(session, world.author, title="統合された声", status=VoiceStatus.MERGED, merged_into_id=voice.id)
    for number in range(3):
        make_voice(session, world.author, title=f"声{number}", category=Category.HEALTH_WELFARE)
    listed = client.get("/api/v1/voices?per_page=2").json()
    assert listed["page"]["total"] == 4 and len(listed["items"]) == 2
    assert listed["page"]["next"] == "/api/v1/voices?page=2&per_page=2"
    transport = client.get("/api/v1/voices?category=transport_mobility&sort=support").json()["items"]
    assert [item["id"] for item in transport] == [voice.id]
    assert transport[0] | {"created_at": None} == transport[0] | {
        "url": f"/voices/{voice.id}", "area": "itabashi", "status": "received", "support_count": 3,
        "latitude": 35.75, "longitude": 139.70, "channel": "online", "created_at": None}
    assert client.get("/api/v1/voices?status=merged").json()["page"]["total"] == 0
    assert client.get("/api/v1/voices?area=osaka").status_code == 400
    detail = client.get(f"/api/v1/voices/{voice.id}").json()
    assert detail["body"] == "歩道が通れません。" and detail["author"] == "板橋 花子"
    assert detail["department"] and detail["photos"] == [] and detail["updates"] == []
    assert client.get("/api/v1/voices/999999").status_code == 404
    schema = client.get("/schema/openapi.json").json()
    assert {"/api/v1/voices", "/api/v1/voices/{voice_id}"} <= set(schema["paths"])


def test_the_feed_has_the_newest_public_voices(session: Session, client: TestClient[Litestar], world: World) -> None:
    make_voice(session, world.author, title="公開の声")
    make_voice(session, world.author, title="隠された声", hidden_at=utcnow())
    feed = client.get("/voices.atom")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    assert "公開の声" in feed.text and "隠された声" not in feed.text and "/voices/" in feed.text


def test_search_finds_shown_voices_only(session: Session, database: Database, settings: Settings,
                                        world: World) -> None:
    shown = make_voice(session, world.author, title="ベンチがほしい", body="坂の途中で休めるベンチを。")
    hidden = make_voice(session, world.author, title="ベンチの声（隠す）", body="ベンチ")

    def keys() -> set[str]:
        indexer.process_pending(database, settings)
        return {hit.key for hit in query.search(settings, "ベンチ", per_page=100).hits}

    assert keys() == {f"voice:{shown.id}", f"voice:{hidden.id}"}
    row = session.get(Voice, hidden.id)
    row.hidden_at = utcnow()  # type: ignore[union-attr]
    session.add(row)
    session.commit()
    assert keys() == {f"voice:{shown.id}"}


# --- my data, and deleting my account ------------------------------------------------------------


def test_my_data_holds_my_voices_and_supports_and_a_deleted_author_is_shown_as_deleted(
        session: Session, client: TestClient[Litestar], settings: Settings, world: World) -> None:
    mine = make_voice(session, world.author, title="私の声")
    theirs = make_voice(session, world.neighbour, title="隣の声")
    session.add(VoiceSupport(voice_id=theirs.id, user_id=world.author.id))  # type: ignore[arg-type]
    session.commit()
    data = json.loads(self_service.export_json(self_service.export_data(session, Principal.load(session, world.author))))
    assert [v["title"] for v in data["voices"]] == ["私の声"]
    assert [s["voice_id"] for s in data["voice_supports"]] == [theirs.id]
    self_service.delete_account(session, settings, Principal.load(session, world.author), PASSWORD, True)
    session.expire_all()
    assert session.get(Voice, mine.id) is not None
    page = client.get(f"/voices/{mine.id}").text
    assert "板橋 花子" not in page and ("Deleted user" in page or "退会したユーザー" in page)
    assert client.get(f"/api/v1/voices/{mine.id}").json()["author"] in ("Deleted user", "退会したユーザー")
