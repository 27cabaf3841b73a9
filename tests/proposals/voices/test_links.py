"""Links of the voice pages are built from route names: the paths the code without a request writes are
the routes' own, and the links and forms of the list, the form and a voice's page (with a photo, a trail,
comments, a merged voice, a second page) lead to pages that answer 200 (forms: to routes that take a
post), as a visitor, the author, another resident and the owning staff see them."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.accounts.models import Role, User
from proposals import comment_targets, paths
from proposals.models import Category, Voice, VoiceStatus, VoiceUpdate
from tests.factories import create_challenge, create_department, create_user, sign_in
from tests.helpers import csrf_token
from tests.links import check_links
from tests.proposals.voices.helpers import gps_jpeg

pytestmark = pytest.mark.databases("sqlite", why="links come from the app's routes")


@pytest.mark.parametrize(("name", "parameters", "path"), [
    ("voice-list", {}, "/voices"),
    ("voice-new", {}, "/voices/new"),
    ("voice-detail", {"voice_id": 3}, "/voices/3"),
    ("voice-photo", {"voice_id": 3, "voice_photo_id": 4}, "/voices/3/photos/4"),
    ("voices-feed", {}, "/voices.atom"),
    ("api-voice-list", {}, "/api/v1/voices"),
    ("api-voice-detail", {"voice_id": 3}, "/api/v1/voices/3"),
    ("voice-comments", {"voice_id": 3}, "/voices/3/comments"),
])
def test_the_routes_have_their_paths(app: Litestar, name: str, parameters: dict[str, object], path: str) -> None:
    assert app.route_reverse(name, **parameters) == path


def test_code_without_a_request_writes_the_routes_paths(app: Litestar) -> None:
    assert paths.voice(7) == app.route_reverse("voice-detail", voice_id=7)
    assert comment_targets.VOICE.url(7) == app.route_reverse("voice-detail", voice_id=7)
    assert comment_targets.VOICE.comments_url(7) == app.route_reverse("voice-comments", voice_id=7)


def _as(client: TestClient[Litestar], user: User | None) -> None:
    client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})
    client.cookies.clear()
    if user is not None:
        sign_in(client, user)


def test_the_links_of_the_voice_pages_lead_to_pages(session: Session, client: TestClient[Litestar]) -> None:
    department = create_department(session, "safety", division_ja="危機管理室", section_ja="防災危機管理課",
                                   division_en="Crisis Management Office", section_en="Disaster Management Section")
    challenge = create_challenge(session, department, category="disaster_safety", title="避難所を身近にしたい")
    staff = create_user(session, "bousai@example.jp", roles=[(Role.STAFF, department.id)])  # type: ignore[list-item]
    author = create_user(session, "author@example.jp", display_name="板橋 花子")
    neighbour = create_user(session, "neighbour@example.jp", display_name="常盤 一郎")

    _as(client, author)
    sent = client.post("/voices", data={"_csrf_token": csrf_token(client), "title": "避難所までの道が暗い",
                                        "body": "夜は歩けません。", "category": "disaster_safety", "area": "shimura",
                                        "latitude": "35.7758", "longitude": "139.6952", "alt-0": "暗い道"},
                       files={"photo-0": ("road.jpg", gps_jpeg(), "image/jpeg")}, follow_redirects=False)
    assert sent.status_code == 303
    page = sent.headers["location"]
    voice_id = int(page.rsplit("/", 1)[1])
    for number in range(21):  # a second page of voices
        session.add(Voice(title=f"声その{number + 1}", body="本文", category=Category.ENVIRONMENT_ENERGY,
                          author_id=neighbour.id))
    merged = Voice(title="同じ道", body="暗い", category=Category.DISASTER_SAFETY, author_id=neighbour.id,
                   status=VoiceStatus.MERGED, merged_into_id=voice_id)
    session.add(merged)
    session.flush()
    session.add_all([VoiceUpdate(voice_id=voice_id, kind="merge", other_voice_id=merged.id),  # type: ignore[arg-type]
                     VoiceUpdate(voice_id=voice_id, kind="link", challenge_id=challenge.id),  # type: ignore[arg-type]
                     VoiceUpdate(voice_id=voice_id, kind="status", status=VoiceStatus.CONSIDERING, body="確認します")])  # type: ignore[arg-type]
    session.commit()
    assert client.post(f"{page}/comments", data={"_csrf_token": csrf_token(client), "body": "追記です"},
                       follow_redirects=False).status_code == 303

    _as(client, None)
    followed, _posts = check_links(client, ["/voices", "/voices?page=2", "/voices?area=shimura&sort=support", page,
                                            f"{page}/comments"])
    assert {page, "/voices.atom", f"/challenges/{challenge.id}", f"/account/sign-in?next=%2Fvoices%2F{voice_id}",
            "/account/sign-in?next=%2Fvoices%2Fnew"} <= followed
    assert any(link.startswith(f"/voices/{voice_id}/photos/") for link in followed)
    assert any(link.startswith("/voices?") and "page=2" in link for link in followed)
    assert f"/voices/{merged.id}" not in followed  # it sends on: its link answers 303, checked below
    assert client.get(f"/voices/{merged.id}", follow_redirects=False).status_code == 303

    _as(client, neighbour)
    followed, posts = check_links(client, [page, "/voices", "/voices/new"])
    assert {f"{page}/support", f"{page}/comments", "/voices", f"/follows/voice/{voice_id}"} <= posts
    assert "/voices/new" in followed
    assert f"/reports/voice/{voice_id}" in followed

    _as(client, author)
    followed, posts = check_links(client, [page])
    assert f"{page}/support" not in posts and f"/reports/voice/{voice_id}" not in followed

    _as(client, staff)
    followed, posts = check_links(client, [page, "/voices"])
    assert f"{page}/support" in posts
