"""The triage pages through HTTP: the staff queue (filters, pages in the database, a fixed number of
queries), a voice's staff page and its forms (no JavaScript: POST then 303; errors 400 with the message,
nothing changed), the "voice" page section per role, the staff menu, and "born from N residents' voices"
on the challenge page."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, select

from cocreate import i18n
from cocreate.web.sections import page_sections
from proposals.models import Challenge, VoiceStatus
from tests.factories import actor, reload, sign_in
from tests.helpers import QueryLog, csrf_token
from tests.proposals.voices.triage_helpers import Ward, create_voice, make_ward, trail_count

pytestmark = pytest.mark.databases("sqlite", why="pages are Python; the queries are counted on SQLite")


@pytest.fixture
def ward(session: Session) -> Ward:
    return make_ward(session)


def ja(message: str, **variables: object) -> str:
    with i18n.using_locale("ja"):
        return i18n.gettext(message, **variables)


def post(client: TestClient[Litestar], url: str, data: dict[str, object] | None = None) -> object:
    return client.post(url, data={"_csrf_token": csrf_token(client), **(data or {})}, follow_redirects=False)


def test_the_queue_pages_in_the_database_with_a_fixed_number_of_queries(
    client: TestClient[Litestar], session: Session, ward: Ward, query_log: QueryLog
) -> None:
    for number in range(2):
        create_voice(session, department=ward.transport, title=f"声{number:02d}")
    sign_in(client, ward.people["staff"])
    client.get("/staff/voices")
    query_log.statements.clear()
    few = client.get("/staff/voices")
    with_two = query_log.count
    assert few.text.count('<tr id="voice-') == 2
    for number in range(2, 25):
        create_voice(session, department=ward.transport if number % 2 else None, title=f"声{number:02d}",
                     category="environment_energy" if number % 3 else "transport_mobility")
    create_voice(session, department=ward.parks, title="公園課だけの声")
    query_log.statements.clear()
    first = client.get("/staff/voices")
    assert query_log.count == with_two, str(query_log)
    assert first.status_code == 200
    assert first.text.count('<tr id="voice-') == 20
    assert "公園課だけの声" not in first.text
    assert "未担当" in first.text or ja("Not taken yet") in first.text
    second = client.get("/staff/voices?page=2")
    assert second.text.count('<tr id="voice-') == 5
    filtered = client.get("/staff/voices?category=transport_mobility&status=received&area=itabashi")
    assert filtered.text.count('<tr id="voice-') == 10  # 声00, 声01, and the multiples of 3 from 3 to 24
    nonsense = client.get("/staff/voices?category=nope&status=nope&area=nope&page=x")
    assert nonsense.status_code == 200 and nonsense.text.count('<tr id="voice-') == 20


def test_the_staff_menu_links_to_the_queue_for_staff_only(
    client: TestClient[Litestar], session: Session, ward: Ward
) -> None:
    sign_in(client, ward.people["resident"])
    assert 'id="nav-staff-voices"' not in client.get("/").text
    client.cookies.clear()
    sign_in(client, ward.people["staff"])
    assert 'id="nav-staff-voices"' in client.get("/").text
    assert client.get("/staff/voices").status_code == 200


def test_actions_work_without_javascript_and_write_the_trail(
    client: TestClient[Litestar], session: Session, ward: Ward
) -> None:
    voice = create_voice(session, author=ward.people["author"], department=ward.transport,
                         supporters=(ward.people["supporter"],))
    duplicate = create_voice(session, author=ward.people["resident"], department=ward.transport, title="重複の声",
                             supporters=(ward.people["supporter"],))
    sign_in(client, ward.people["staff"])
    page = client.get(f"/staff/voices/{voice.id}")
    assert page.status_code == 200 and 'id="acknowledge-form"' in page.text and 'id="voice-triage"' in page.text
    response = post(client, f"/staff/voices/{voice.id}/acknowledge", {"note": "確認します", "next": f"/voices/{voice.id}"})
    assert response.status_code == 303 and response.headers["location"] == f"/voices/{voice.id}"  # type: ignore[attr-defined]
    response = post(client, f"/staff/voices/{voice.id}/answer", {"answer": "**来年度**に対応します。"})
    assert response.headers["location"] == f"/staff/voices/{voice.id}"  # type: ignore[attr-defined]
    response = post(client, f"/staff/voices/{duplicate.id}/merge", {"into": str(voice.id)})
    assert response.status_code == 303  # type: ignore[attr-defined]
    page = client.get(f"/staff/voices/{voice.id}").text
    assert "<strong>来年度</strong>" in page and ja("Under consideration") in page
    assert reload(session, voice).support_count == 1  # the supporter of both counts once
    assert reload(session, duplicate).status is VoiceStatus.MERGED
    # A link elsewhere is not followed: back to the staff page.
    response = post(client, f"/staff/voices/{voice.id}/answer", {"answer": "追記", "next": "https://evil.example/"})
    assert response.headers["location"] == f"/staff/voices/{voice.id}"  # type: ignore[attr-defined]
    response = post(client, f"/staff/voices/{voice.id}/challenge", {"challenge_title": "駅前を歩きやすくしたい"})
    draft = session.exec(select(Challenge).where(Challenge.title == "駅前を歩きやすくしたい")).one()
    assert response.headers["location"] == f"/staff/challenges/{draft.id}/edit"  # type: ignore[attr-defined]
    assert reload(session, voice).challenge_id == draft.id


@pytest.mark.parametrize(("path", "data", "field", "message"), [
    ("status", {"status": "declined", "reason": ""}, "reason", "Give the reason; it is shown publicly with the new status."),
    ("answer", {"answer": "   "}, "answer", "Write the answer."),
    ("merge", {"into": "SELF"}, "into", "A voice cannot be merged into itself."),
    ("merge", {"into": "MERGED"}, "into", "That voice was itself merged into another one; merge into that one instead."),
    ("merge", {"into": "abc"}, "into", "Enter the number of another voice."),
    ("link", {"challenge_id": "999999"}, "challenge_id", "There is no challenge with this number."),
    ("department", {"department_id": "999999"}, "department_id", "Choose a department from the list."),
    ("challenge", {"challenge_title": ""}, "challenge_title",
     "Give the challenge a title, written as a wish (「…を実現したい」)."),
])
def test_bad_input_answers_400_with_the_message_and_changes_nothing(
    client: TestClient[Litestar], session: Session, ward: Ward, path: str, data: dict[str, str], field: str,
    message: str
) -> None:
    voice = create_voice(session, author=ward.people["author"], department=ward.transport)
    merged = create_voice(session, department=ward.transport, status="merged")
    data = {key: value.replace("SELF", str(voice.id)).replace("MERGED", str(merged.id)) for key, value in data.items()}
    sign_in(client, ward.people["staff"])
    before = trail_count(session)
    response = post(client, f"/staff/voices/{voice.id}/{path}", data)
    assert response.status_code == 400  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert ja(message) in text and f'id="field-{field}-error"' in text
    assert trail_count(session) == before
    assert reload(session, voice).status is VoiceStatus.RECEIVED
    assert session.exec(select(Challenge).where(Challenge.department_id == ward.transport.id)).all() == [
        ward.challenge]


def test_the_voice_section_shows_the_actions_to_those_who_may_triage(session: Session, ward: Ward) -> None:
    voice = create_voice(session, department=ward.transport)
    unassigned = create_voice(session)
    merged = create_voice(session, department=ward.transport, status="merged")

    def templates(who: str | None, target: object) -> list[str]:
        principal = actor(session, ward.people[who] if who else None)
        # the triage's own sections (the public page adds the comments section after them; the desk's
        # printable-sheet link shows to everyone)
        return [name for name, _context in page_sections("voice", session, principal, target)
                if name.startswith("proposals/voices/")]

    section = "proposals/voices/staff_actions.html"
    assert templates("staff", voice) == [section] and templates("admin", voice) == [section]
    assert templates("other_staff", voice) == [] and templates("resident", voice) == [] and templates(None, voice) == []
    assert templates("other_staff", unassigned) == [section]  # someone takes it
    assert templates("staff", merged) == [section]  # says it was merged, with no forms


def test_the_staff_page_of_a_merged_voice_offers_no_action(
    client: TestClient[Litestar], session: Session, ward: Ward
) -> None:
    target = create_voice(session, department=ward.transport, title="統合先")
    merged = create_voice(session, department=ward.transport, status="merged")
    merged.merged_into_id = target.id
    session.add(merged)
    session.commit()
    sign_in(client, ward.people["staff"])
    page = client.get(f"/staff/voices/{merged.id}").text
    assert 'id="triage-merged"' in page and "<form method=\"post\"" not in page.split('id="voice-triage"')[1]
    assert f'href="/staff/voices/{target.id}"' in page


def test_the_challenge_page_says_which_voices_it_was_born_from(
    client: TestClient[Litestar], session: Session, ward: Ward
) -> None:
    assert 'id="born-from-voices"' not in client.get(f"/challenges/{ward.challenge.id}").text
    first = create_voice(session, title="歩道が狭い", status="challenge")
    second = create_voice(session, title="段差が危ない", status="challenge")
    hidden = create_voice(session, title="非表示の声", status="challenge")
    merged = create_voice(session, title="統合された声", status="merged")
    for voice in (first, second, hidden, merged):
        voice.challenge_id = ward.challenge.id
    hidden.hidden_at = first.created_at
    session.add_all([first, second, hidden, merged])
    session.commit()
    page = client.get(f"/challenges/{ward.challenge.id}").text
    assert 'id="born-from-voices"' in page
    section = page.split('id="born-from-voices"')[1].split("</section>")[0]
    assert f'href="/voices/{first.id}"' in section and f'href="/voices/{second.id}"' in section
    assert "非表示の声" not in section and "統合された声" not in section
    heading = section.split("</h2>")[0]
    assert "2" in heading and "3" not in heading and "4" not in heading


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    client: TestClient[Litestar], session: Session, ward: Ward
) -> None:
    voice = create_voice(session, department=ward.transport)
    sign_in(client, ward.people["staff"])
    response = client.post(f"/staff/voices/{voice.id}/acknowledge", data={"note": "x"}, follow_redirects=False)
    assert response.status_code == 403
    assert reload(session, voice).status is VoiceStatus.RECEIVED and trail_count(session) == 0
