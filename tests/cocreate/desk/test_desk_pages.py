"""The support desk's pages through the real app: who may use them, one voice or opinion at a time with the
resident's consent, the public marker instead of a name, the private note kept from the public and the API,
and the navigation."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, col, select

from cocreate.accounts.models import RoleAssignment, User
from cocreate.comments.models import Comment
from proposals.models import Voice, VoiceChannel
from tests.cocreate.desk.conftest import World
from tests.factories import create_challenge, sign_in
from tests.helpers import csrf_token
from tests.links import check_links

pytestmark = pytest.mark.databases("sqlite", why="the desk's rules are Python; its writes are plain inserts")

VOICE = {"channel": "paper", "title": "駅前の歩道に段差がある", "body": "ベビーカーでつまずきそうになります。",
         "category": "transport_mobility", "area": "takashimadaira", "address": "高島平二丁目",
         "note": "用紙 No. 17", "consent": "yes"}


def _post(client: TestClient[Litestar], path: str, data: dict[str, str]) -> object:
    return client.post(path, data={**data, "_csrf_token": csrf_token(client)}, follow_redirects=False)


@pytest.mark.parametrize(("persona", "expected"), [
    ("anonymous", "sign-in"), ("resident", 403), ("staff", 403), ("desk", 200), ("admin", 200)])
def test_desk_pages_are_for_the_desk(client: TestClient[Litestar], world: World, persona: str,
                                     expected: object) -> None:
    if persona != "anonymous":
        sign_in(client, world[persona])
    for path in ("/desk", "/desk/voices/new", "/desk/comments/new", "/desk/bulk/voices", "/desk/bulk/comments"):
        response = client.get(path, follow_redirects=False)
        if expected == "sign-in":
            assert response.status_code in (302, 303) and "/account/sign-in" in response.headers["location"], path
        else:
            assert response.status_code == expected, path


@pytest.mark.parametrize("persona", ["resident", "staff"])
def test_others_cannot_record_for_residents(client: TestClient[Litestar], session: Session, world: World,
                                            persona: str) -> None:
    sign_in(client, world[persona])
    response = _post(client, "/desk/voices/new", VOICE)
    assert response.status_code == 403  # type: ignore[attr-defined]
    response = _post(client, "/desk/comments/new", {"challenge_id": str(world["challenge"].id), "channel": "paper",
                                                    "body": "意見です", "consent": "yes"})
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert session.exec(select(Voice)).all() == []
    assert session.exec(select(Comment)).all() == []


def test_the_account_menu_has_the_desk_for_the_desk_only(client: TestClient[Litestar], world: World) -> None:
    sign_in(client, world["resident"])
    assert 'id="nav-desk"' not in client.get("/account").text
    client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})
    client.cookies.clear()
    sign_in(client, world["desk"])
    page = client.get("/account").text
    assert re.search(r'<a[^>]*href="/desk"[^>]*id="nav-desk"|id="nav-desk"[^>]*href="/desk"', page), page[:3000]


def test_a_paper_voice_needs_consent_and_is_marked_publicly(client: TestClient[Litestar], session: Session,
                                                             world: World) -> None:
    sign_in(client, world["desk"])
    refused = _post(client, "/desk/voices/new", {**VOICE, "consent": ""})
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "公開に同意" in refused.text or "agreed to the publication" in refused.text  # type: ignore[attr-defined]
    assert session.exec(select(Voice)).all() == []

    done = _post(client, "/desk/voices/new", VOICE)
    assert done.status_code == 303  # type: ignore[attr-defined]
    voice = session.exec(select(Voice)).one()
    assert voice.author_id is None and voice.entered_by_id == world["desk"].id
    assert voice.channel is VoiceChannel.PAPER and voice.consent_at is not None
    assert voice.desk_note == "用紙 No. 17" and voice.department_id is None
    assert voice.area == "takashimadaira" and voice.address == "高島平二丁目"
    home = client.get("/desk").text
    assert "用紙 No. 17" in home and "駅前の歩道に段差がある" in home


def test_a_channel_is_required_and_online_is_not_one(client: TestClient[Litestar], session: Session,
                                                     world: World) -> None:
    sign_in(client, world["desk"])
    for channel in ("", "online", "fax"):
        response = _post(client, "/desk/voices/new", {**VOICE, "channel": channel})
        assert response.status_code == 400, channel  # type: ignore[attr-defined]
        assert 'id="field-channel-error"' in response.text  # type: ignore[attr-defined]
    assert session.exec(select(Voice)).all() == []


def test_an_opinion_from_a_phone_call_shows_the_marker_not_a_name(client: TestClient[Litestar], session: Session,
                                                                  world: World) -> None:
    challenge = world["challenge"]
    sign_in(client, world["desk"])
    done = _post(client, "/desk/comments/new", {"challenge_id": str(challenge.id), "channel": "phone",
                                                "body": "公園に日陰がほしいです。", "note": "電話 12/7 10:15",
                                                "consent": "yes"})
    assert done.status_code == 303, done.text[:2000]  # type: ignore[attr-defined]
    comment = session.exec(select(Comment)).one()
    assert comment.author_id is None and comment.entered_by_id == world["desk"].id
    assert comment.channel == "phone" and comment.consent_at is not None
    # The desk (and ward staff) see the private note; the public sees the marker only.
    page = client.get(f"/challenges/{challenge.id}").text
    assert f'id="comment-{comment.id}-assisted"' in page and "電話 12/7 10:15" in page
    client.cookies.clear()
    public = client.get(f"/challenges/{challenge.id}")
    assert f'id="comment-{comment.id}-assisted"' in public.text
    marker = re.search(rf'id="comment-{comment.id}-assisted">([^<]+)<', public.text)
    assert marker and marker.group(1) in ("電話から区が代理入力", "Entered by the ward from a phone call")
    assert "電話 12/7 10:15" not in public.text and "地域センター 窓口" not in public.text
    api = client.get(f"/api/v1/challenges/{challenge.id}")
    assert "電話 12/7 10:15" not in api.text and "desk_note" not in api.text
    sign_in(client, world["resident"])
    assert "電話 12/7 10:15" not in client.get(f"/challenges/{challenge.id}").text
    client.cookies.clear()
    sign_in(client, world["staff"])
    assert "電話 12/7 10:15" in client.get(f"/challenges/{challenge.id}").text


def test_opinions_need_a_challenge_that_takes_comments(client: TestClient[Litestar], session: Session,
                                                       world: World) -> None:
    sign_in(client, world["desk"])
    for challenge_id in ("", str(world["draft"].id), "99999"):
        response = _post(client, "/desk/comments/new", {"challenge_id": challenge_id, "channel": "paper",
                                                        "body": "意見です", "consent": "yes"})
        assert response.status_code in (400, 404), challenge_id  # type: ignore[attr-defined]
    assert session.exec(select(Comment).where(col(Comment.channel) != "online")).all() == []


def test_every_link_and_form_of_the_desk_pages_answers_for_the_desk(client: TestClient[Litestar], session: Session,
                                                                     world: World) -> None:
    sign_in(client, world["desk"])
    assert _post(client, "/desk/voices/new", VOICE).status_code == 303  # type: ignore[attr-defined]
    assert _post(client, "/desk/comments/new", {"challenge_id": str(world["challenge"].id), "channel": "paper",
                                                "body": "意見です", "consent": "yes"}).status_code == 303  # type: ignore[attr-defined]
    voice = session.exec(select(Voice)).one()
    links, posts = check_links(client, ["/desk", "/desk/voices/new", "/desk/comments/new", "/desk/bulk/voices",
                                        f"/desk/bulk/comments?challenge={world['challenge'].id}",
                                        f"/challenges/{world['challenge'].id}/print", f"/voices/{voice.id}/print"])
    assert {"/desk/bulk/voices/template.csv", "/desk/bulk/comments/template.csv"} <= links
    assert {"/desk/voices/new", "/desk/comments/new", "/desk/bulk/voices", "/desk/bulk/comments"} <= posts


def test_the_desk_home_reads_a_fixed_number_of_queries(client: TestClient[Litestar], session: Session, world: World,
                                                        query_log) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world["desk"])

    def counted() -> int:
        query_log.statements.clear()
        assert client.get("/desk").status_code == 200
        return query_log.count

    _post(client, "/desk/voices/new", VOICE)
    few = counted()
    for n in range(15):
        _post(client, "/desk/voices/new", {**VOICE, "title": f"声 {n}"})
        _post(client, "/desk/comments/new", {"challenge_id": str(world["challenge"].id), "channel": "workshop",
                                             "body": f"意見 {n}", "consent": "yes"})
    assert counted() == few


def test_an_administrator_grants_the_role_and_invites_staff_with_it(client: TestClient[Litestar], session: Session,
                                                                    world: World) -> None:
    resident = world["resident"]
    sign_in(client, world["admin"])
    assert 'value="support_desk"' in client.get(f"/admin/users/{resident.id}").text
    invite = client.get("/admin/staff/invite").text
    assert 'id="field-extra_roles-support_desk"' in invite
    granted = _post(client, f"/admin/users/{resident.id}/roles", {"role": "support_desk"})
    assert granted.status_code == 303  # type: ignore[attr-defined]
    client.cookies.clear()
    sign_in(client, resident)
    assert client.get("/desk").status_code == 200
    assert 'id="nav-desk"' in client.get("/account").text
    client.cookies.clear()
    sign_in(client, world["admin"])
    invited = _post(client, "/admin/staff/invite", {"email": "centre@example.jp", "display_name": "志村地域センター",
                                                    "department_id": str(world["department"].id),
                                                    "extra_roles": "support_desk"})
    assert invited.status_code == 303, invited.text[:2000]  # type: ignore[attr-defined]
    roles = session.exec(select(RoleAssignment.role).join(User, col(User.id) == RoleAssignment.user_id)
                         .where(User.email == "centre@example.jp")).all()
    assert sorted(roles) == ["staff", "support_desk"]


def test_a_closed_challenge_takes_no_opinions_and_says_so_under_its_chooser(
        client: TestClient[Litestar], session: Session, world: World) -> None:
    closed = create_challenge(session, world["department"], phase="closed", title="終了した課題")
    sign_in(client, world["desk"])
    assert f'value="{closed.id}"' not in client.get("/desk/comments/new").text  # not offered
    response = _post(client, "/desk/comments/new", {"challenge_id": str(closed.id), "channel": "paper",
                                                    "body": "意見です", "consent": "yes"})
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert 'id="field-challenge_id-error"' in response.text  # type: ignore[attr-defined]
    assert session.exec(select(Comment)).all() == []
